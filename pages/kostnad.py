"""Kostnad per deltagare: what does each initiative cost, per participant and per result?"""
import pandas as pd
import streamlit as st

from metrics.cost import BUDGET, actual_against_budget, cost_by_dimension, cost_by_initiative_year, cost_summary
from metrics.definitions import describe
from render.charts import money_bars, stacked_money, top_n
from render.format import fmt_int, fmt_kr_kpi, fmt_pct
from render.text import md
from render.theme import ACTUAL_COLOR, BUDGET_COLOR, PER_STARTED_COLOR
from ui import protection
from ui.data import run
from ui.layout import chart, empty, filters_or_stop, kpis, page_header, table

f = filters_or_stop()
page_header("Kostnad per deltagare", "Budget och utfall per insats och år, och vad det blir per deltagare och "
                                     "resultat.", f)
if f.agencies or f.sexes:
    st.info("Kostnader går inte att dela upp på kön eller remittent; de filtren påverkar inte den här sidan.",
            icon=":material/info:")

c = run(cost_by_initiative_year, f)
c = c[c.budget.notna() | c.actual.notna()].reset_index(drop=True)
if c.empty:
    empty("Det finns inga budget- eller kostnadsuppgifter för det här urvalet.")
    st.stop()
summary = run(cost_summary, f)
budget, actual = c.budget.dropna().sum(), c.actual.dropna().sum()
per_participant = protection.ratio(summary["per_participant"], protection.cost_people(c, f))
spent, compared, budgeted = actual_against_budget(c)  # like with like: the budgets of those that report an actual
unit = "insatser" if f.is_calendar_year else "insatsår"
kpis([
    dict(label="Kostnad", value=fmt_kr_kpi(summary["cost"]), by_sex="Utfall, annars budget", help=describe("cost")),
    dict(label="Budget", value=fmt_kr_kpi(budget if c.budget.notna().any() else None), help=describe("budget")),
    dict(label="Utfall", value=fmt_kr_kpi(actual if c.actual.notna().any() else None),
         by_sex=None if spent is None else f"{fmt_pct(spent)} av budgeten"
         + ("" if compared == budgeted else f" för de {fmt_int(compared)} {unit} som har utfall "
                                            f"(av {fmt_int(budgeted)} med budget)"), help=describe("actual")),
    dict(label="Kostnad per deltagare", value=fmt_kr_kpi(per_participant), help=describe("cost_per_participant")),
])
if summary["budget_only"]:
    only = summary["budget_only"]  # a region's list runs to hundreds: the first ten, and how many more
    named = ", ".join(map(md, only[:10])) + (f" och {fmt_int(len(only) - 10)} till (se tabellen)" if len(only) > 10 else "")
    st.caption(f"Endast budget, inget utfall, finns för: {named}. Där räknas kostnaden på budgeten (randiga staplar).")

c["label"] = c.initiative if f.is_calendar_year else c.initiative + " " + c.year.astype(str)


engine_of = protection.year_engines(f)  # once per year, not per row


def counts_as_shown(row) -> dict:
    """The initiative-year's people behind the per-person costs, as this reader may see them."""
    p = engine_of(row.year)
    out = {}
    for col, measure, dims in (("participants", "participants", {}), ("started", "started", {}),
                               ("positive_exits", "exited", {"reason": "positive"})):
        value = getattr(row, col)
        if p is not None:
            kind, _ = p.cell(measure, {"initiative": row.initiative, **dims}, "total")
            value = value if kind == protection.VISIBLE else protection.hidden_code(kind)
        out[col] = value
    return out


if protection.enabled():  # row by row, through the engine; without protection every figure is as computed
    people = [counts_as_shown(r) for r in c.itertuples()]
    for col in ("participants", "started", "positive_exits"):
        c[col] = [p[col] for p in people]
    for name, den in (("per_participant", "participants"), ("per_started", "started"),
                      ("per_positive_exit", "positive_exits")):
        c[name] = protection.ratios(c[name], c[den])

amounts = {k: c[k].astype("float64") for k in ("budget", "actual", "cost")}  # NaN for missing: column-wise top_n
drawn = top_n(c.assign(budget=amounts["budget"], actual=amounts["actual"], total=amounts["cost"].fillna(0))[
    ["label", "budget", "actual", "per_participant", "per_started", "basis", "total"]], "label", by="total"
              ) if len(c) > 16 else c
if len(drawn) < len(c):  # the rest's sum would dwarf the largest 15 on a kronor axis: the table has them
    drawn = drawn.iloc[:-1]
    st.caption(f"Diagrammen visar de {fmt_int(len(drawn))} största av {fmt_int(len(c))} (kostnad); tabellerna har alla.")
ORDERS = {"Störst först": True, "Som i tabellen": False}
by_value = ORDERS[st.radio("Staplarnas ordning", list(ORDERS), horizontal=True, key="kostnad_order",
                           help="Störst först: budget och utfall efter kostnaden (utfall, annars budget), kostnad per "
                                "deltagare efter kronor per deltagare. Som i tabellen: efter insatsens namn och år.")]


def ordered(df, value: str):
    """The bars largest first by `value` (missing and hidden last), or as the table lists them."""
    if not by_value:
        return df
    key = [v if isinstance(v, (int, float)) and not pd.isna(v) and v >= 0 else float("-inf") for v in df[value]]
    return df.assign(_key=key).sort_values("_key", ascending=False, kind="stable").drop(columns="_key")


chart(money_bars(ordered(drawn.assign(_cost=drawn.actual.where(drawn.actual.notna(), drawn.budget)), "_cost"),
                 "label", {"budget": ("Budget", BUDGET_COLOR), "actual": ("Utfall", ACTUAL_COLOR)},
                 "Budget och utfall per insats" + ("" if f.is_calendar_year else " och år")),
      None, key="kostnad_budget_utfall")
drawn = ordered(drawn, "per_participant")
chart(money_bars(drawn, "label", {"per_participant": ("Per deltagare", ACTUAL_COLOR),
                                  "per_started": ("Per ny deltagare", PER_STARTED_COLOR)},
                 "Kostnad per deltagare och per ny deltagare", hatch=drawn.basis == BUDGET), None,
      key="kostnad_per_deltagare", caption="Randig stapel: räknad på budget, eftersom utfall saknas. – betyder att "
                                           "uppgiften saknas eller döljs av skyddet för små tal.")

st.markdown("**Budget och utfall**")
table(c.assign(basis=c.basis.map({"utfall": "Utfall", "budget": "Budget (utfall saknas)"}))[
    ["initiative", "year", "budget", "actual", "basis"]].rename(columns={
        "initiative": "Insats", "year": "År", "budget": "Budget", "actual": "Utfall", "basis": "Kostnad enligt"}),
    {"Budget": "kr", "Utfall": "kr", "År": "text"}, key="kostnad_belopp")
st.markdown("**Per deltagare och resultat**")
table(c[["initiative", "year", "participants", "per_participant", "started", "per_started", "positive_exits",
         "per_positive_exit"]].rename(columns={
    "initiative": "Insats", "year": "År", "participants": "Deltagare", "per_participant": "Kr per deltagare",
    "started": "Nya", "per_started": "Kr per ny", "positive_exits": "Till arbete/studier",
    "per_positive_exit": "Kr per avslut till arbete/studier"}),
    {"År": "text", "Deltagare": "int", "Nya": "int", "Till arbete/studier": "int", "Kr per deltagare": "kr",
     "Kr per ny": "kr", "Kr per avslut till arbete/studier": "kr"}, key="kostnad_per_insats_ar")

for dim, title in (("category", "Kostnadsslag"), ("funder", "Finansiär")):
    st.subheader(f"Per {title.lower()}")
    d = run(cost_by_dimension, f, dim)
    d["label"] = d.initiative if f.is_calendar_year else d.initiative + " " + d.year.astype(str)
    if by_value:  # the initiatives costing most first, as the radio above says
        size = d.groupby("label", sort=False).cost.sum(min_count=1).fillna(0)
        d = d.assign(_size=d.label.map(size)).sort_values("_size", ascending=False, kind="stable").drop(columns="_size")
    chart(stacked_money(d, "label", dim, f"Kostnad per {title.lower()} (utfall, annars budget)"),
          d.drop(columns="label").rename(columns={"initiative": "Insats", "year": "År", dim: title,
                                                  "budget": "Budget", "actual": "Utfall", "cost": "Kostnad"}),
          key=f"kostnad_{dim}", formats={"Budget": "kr", "Utfall": "kr", "Kostnad": "kr", "År": "text"})
