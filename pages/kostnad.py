"""Kostnad per deltagare: what does each initiative cost, per participant and per result?"""
import streamlit as st

from metrics.cost import BUDGET, cost_by_dimension, cost_by_initiative_year
from ui import protection
from render.charts import money_bars, stacked_money
from ui.data import run
from ui.layout import chart, empty, filters_or_stop, page_header, table
from render.theme import ACTUAL_COLOR, BUDGET_COLOR, PER_STARTED_COLOR

f = filters_or_stop()
page_header("Kostnad per deltagare", "Budget och utfall per insats och år, och vad det blir per deltagare och resultat.", f)
if f.agencies or f.sexes:
    st.info("Kostnader går inte att dela upp på kön eller remittent; de filtren påverkar inte den här sidan.",
            icon=":material/info:")

c = run(cost_by_initiative_year, f)
c = c[c.budget.notna() | c.actual.notna()].reset_index(drop=True)
if c.empty:
    empty("Det finns inga budget- eller kostnadsuppgifter för det här urvalet.")
    st.stop()

c["label"] = c.initiative + " " + c.year.astype(str)
budget_only = c[c.basis == BUDGET]
chart(money_bars(c, "label", {"budget": ("Budget", BUDGET_COLOR), "actual": ("Utfall", ACTUAL_COLOR)}, "Budget och utfall per insats och år"),
      None, key="kostnad_budget_utfall",
      caption=("Endast budget finns (inget utfall) för: " + ", ".join(budget_only.label) + ".") if len(budget_only) else None)

st.subheader("Kostnad per deltagare, per ny och per avslut till arbete/studier")
if protection.enabled():  # a cost per person divides by a count: hide it where the count is small
    for col, den in (("per_participant", "participants"), ("per_started", "started"),
                     ("per_positive_exit", "positive_exits")):
        c[col] = protection.visible_shares(c[col], c[den])
chart(money_bars(c, "label", {"per_participant": ("Per deltagare", ACTUAL_COLOR),
                              "per_started": ("Per ny deltagare", PER_STARTED_COLOR)},
                 "Kostnad per deltagare och per ny deltagare; randig stapel = beräknad på budget",
                 hatch=c.basis == BUDGET), None, key="kostnad_per_deltagare")
_, counts = protection.protect(c[["label", "participants", "started", "positive_exits"]], None,
                            parts=["participants", "started", "positive_exits"], total=None, add_total=False)
table(c.assign(basis=c.basis.map({"utfall": "Utfall", "budget": "Budget (utfall saknas)"}),
               participants=counts.participants, started=counts.started, positive_exits=counts.positive_exits)[[
    "initiative", "year", "budget", "actual", "basis", "participants", "started", "positive_exits",
    "per_participant", "per_started", "per_positive_exit"]].rename(columns={
        "initiative": "Insats", "year": "År", "budget": "Budget", "actual": "Utfall", "basis": "Beräknad på",
        "participants": "Deltagare", "started": "Nya", "positive_exits": "Avslut till arbete/studier",
        "per_participant": "Kr per deltagare", "per_started": "Kr per ny", "per_positive_exit": "Kr per avslut arbete/studier"}),
    {"Budget": "kr", "Utfall": "kr", "Deltagare": "int", "Nya": "int", "Avslut till arbete/studier": "int",
     "Kr per deltagare": "kr", "Kr per ny": "kr", "Kr per avslut arbete/studier": "kr"}, key="kostnad_per_insats_ar")

for dim, title in (("category", "Kostnadsslag"), ("funder", "Finansiär")):
    st.subheader(f"Per {title.lower()}")
    d = run(cost_by_dimension, f, dim)
    d["label"] = d.initiative + " " + d.year.astype(str)
    fig = stacked_money(d, "label", dim, f"Kostnad per {title.lower()} (utfall, annars budget)")
    chart(fig, d.drop(columns="label").rename(columns={"initiative": "Insats", "year": "År", dim: title,
                                                      "budget": "Budget", "actual": "Utfall", "cost": "Kostnad"}),
          key=f"kostnad_{dim}", formats={"Budget": "kr", "Utfall": "kr", "Kostnad": "kr"})
