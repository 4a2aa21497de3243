"""Inflöde per remittent: who refers participants to the initiatives, and when?"""
import plotly.graph_objects as go
import streamlit as st

from etl.reference import AGENCIES, AGENCY_MISSING
from metrics.people import inflow, inflow_by_agency, inflow_by_initiative, inflow_units
from ui.data import run
from ui.format import SEX_LABELS
from ui.layout import SEX_FORMATS, chart, empty, filters_or_stop, page_header, rename_sex, table
from ui.theme import AGENCY_COLORS, SEX_COLORS

f = filters_or_stop()
page_header("Inflöde per remittent", "Nya deltagare (startade insatser) per remitterande myndighet.", f)

totals = run(inflow_by_agency, f)
if totals.loc[totals.agency == "Totalt", "total"].iloc[0] == 0:
    empty()
    st.stop()

grain = st.radio("Tidsindelning", ["Kvartal", "Månad"], horizontal=True, key="inflode_grain")
dim = "quarter" if grain == "Kvartal" else "month"
series = run(inflow, f, dim)
fig = go.Figure()
for agency in [*AGENCIES, AGENCY_MISSING]:
    d = series[series.agency == agency]
    if len(d):
        fig.add_bar(x=d[dim], y=d.total, name=agency, marker_color=AGENCY_COLORS[agency])
fig.update_layout(barmode="stack", title=f"Nya deltagare per {grain.lower()} och remittent",
                  xaxis=dict(type="category", title=None), yaxis_title="Nya deltagare")
chart(fig, rename_sex(series.rename(columns={dim: grain, "agency": "Remittent"})), key="inflode_tid",
      formats=SEX_FORMATS,
      caption="Anonymt registrerade deltagare har bara ett år och saknas därför i tidsserien; de ingår i tabellen nedan.")

st.subheader("Remittenter och kön")
st.caption("Tabellen som årsredovisningen visar: nya deltagare per myndighet, uppdelat på kön.")
table(rename_sex(totals.rename(columns={"agency": "Remittent"})), SEX_FORMATS, key="inflode_remittent_kon")

st.subheader("Per insats")
per = run(inflow_by_initiative, f)
fig = go.Figure()
for agency in [*AGENCIES, AGENCY_MISSING]:
    d = per[per.agency == agency]
    if len(d):
        fig.add_bar(y=d.initiative, x=d.total, name=agency, orientation="h", marker_color=AGENCY_COLORS[agency])
fig.update_layout(barmode="stack", title="Nya deltagare per insats och remittent", yaxis=dict(autorange="reversed"),
                  xaxis_title="Nya deltagare")
chart(fig, rename_sex(per.rename(columns={"initiative": "Insats", "agency": "Remittent"})), key="inflode_insats",
      formats=SEX_FORMATS)

st.subheader("Från myndighet till enhet")
units = run(inflow_units, f)
present = [a for a in [*AGENCIES, AGENCY_MISSING] if a in set(units.agency)]
agency = st.selectbox("Visa enheterna inom", present, key="inflode_agency")
d = units[units.agency == agency].sort_values("total")
fig = go.Figure()
for s in ("women", "men", "other"):
    fig.add_bar(y=d.unit, x=d[s], name=SEX_LABELS[s], orientation="h", marker_color=SEX_COLORS[s])
fig.update_layout(barmode="stack", title=f"Nya deltagare från {agency} per enhet", xaxis_title="Nya deltagare",
                  height=max(320, 60 + 34 * len(d)))
chart(fig, rename_sex(d.sort_values("total", ascending=False).drop(columns="agency").rename(columns={"unit": "Enhet"})),
      key="inflode_enheter", formats=SEX_FORMATS,
      caption="Enheter som inte känns igen räknas som Annan; lägg till dem i data/referrers.csv.")
