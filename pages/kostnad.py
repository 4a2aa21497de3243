"""Kostnad per deltagare: what does each initiative cost, per participant and per result?"""
import plotly.graph_objects as go
import streamlit as st

from metrics.cost import BUDGET, cost_by_dimension, cost_by_initiative_year
from ui.data import run
from ui.layout import empty, chart, filters_or_stop, page_header, table
from ui.theme import category_color

f = filters_or_stop()
page_header("Kostnad per deltagare", "Budget och utfall per insats och år, och vad det blir per deltagare och resultat.", f)
if f.agencies or f.sexes:
    st.info("Kostnader går inte att dela upp på kön eller remittent; de filtren påverkar inte den här sidan.",
            icon=":material/info:")

c = run(cost_by_initiative_year, f)
c = c[c.budget.notna() | c.actual.notna()]
if c.empty:
    empty("Det finns inga budget- eller kostnadsuppgifter för det här urvalet.")
    st.stop()

label = c.initiative + " " + c.year.astype(str)
fig = go.Figure()
fig.add_bar(x=label, y=c.budget, name="Budget", marker_color="#9AA5B1")
fig.add_bar(x=label, y=c.actual, name="Utfall", marker_color="#0072B2")
fig.update_layout(barmode="group", title="Budget och utfall per insats och år (kr)", xaxis=dict(type="category"))
budget_only = c[c.basis == BUDGET]
chart(fig, None, key="kostnad_budget_utfall",
      caption=("Endast budget finns (inget utfall) för: " + ", ".join(
          f"{r.initiative} {r.year}" for r in budget_only.itertuples()) + ".") if len(budget_only) else None)

st.subheader("Kostnad per deltagare, per ny och per avslut till arbete/studier")
fig = go.Figure()
fig.add_bar(x=label, y=c.per_participant, name="Per deltagare", marker_color="#0072B2",
            marker_pattern_shape=["/" if b == BUDGET else "" for b in c.basis])
fig.add_bar(x=label, y=c.per_started, name="Per ny deltagare", marker_color="#009E73",
            marker_pattern_shape=["/" if b == BUDGET else "" for b in c.basis])
fig.update_layout(barmode="group", title="Kostnad per deltagare och per ny deltagare (kr); randig = beräknad på budget",
                  xaxis=dict(type="category"))
chart(fig, None, key="kostnad_per_deltagare")
table(c.assign(basis=c.basis.map({"utfall": "Utfall", "budget": "Budget (utfall saknas)"}))[[
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
    fig = go.Figure()
    for v in d[dim].drop_duplicates():
        x = d[d[dim] == v]
        fig.add_bar(x=x.initiative + " " + x.year.astype(str), y=x.cost, name=v, marker_color=category_color(dim, v))
    fig.update_layout(barmode="stack", title=f"Kostnad per {title.lower()} (utfall, annars budget), kr",
                      xaxis=dict(type="category"))
    chart(fig, d.rename(columns={"initiative": "Insats", "year": "År", dim: title,
                                                        "budget": "Budget", "actual": "Utfall",
                        "cost": "Kostnad"}), key=f"kostnad_{dim}", formats={"Budget": "kr", "Utfall": "kr", "Kostnad": "kr"})
