"""Inflöde per remittent: who refers participants to the initiatives, and when?"""
import streamlit as st

from core.vocabulary import AGENCY_ORDER
from metrics.people import inflow, inflow_by_agency, inflow_by_initiative, inflow_units
from ui import protection
from render.charts import agency_bars, agency_by_sex, sex_bars
from ui.data import run
from ui.layout import SEX_FORMATS, chart, empty, filters_or_stop, page_header, rename_sex, table

f = filters_or_stop()
page_header("Inflöde per remittent", "Nya deltagare (startade insatser) per remitterande myndighet.", f)

totals = run(inflow_by_agency, f)
if totals.total.sum() == 0:
    empty()
    st.stop()

grain = st.radio("Tidsindelning", ["Kvartal", "Månad"], horizontal=True, key="inflode_grain")
dim = "quarter" if grain == "Kvartal" else "month"
values, display = protection.protect(run(inflow, f, dim), [dim, "agency"])
chart(agency_bars(values, dim, f"Nya deltagare per {grain.lower()} och remittent", axis_title="Nya deltagare"),
      rename_sex(display.rename(columns={dim: grain, "agency": "Remittent"})), key="inflode_tid", formats=SEX_FORMATS,
      caption="Anonymt registrerade deltagare har bara ett år och saknas därför i tidsserien; de ingår i tabellen nedan.")

st.subheader("Remittenter och kön")
st.caption("Tabellen som årsredovisningen visar: nya deltagare per myndighet, uppdelat på kön.")
values, display = protection.protect(totals, "agency")
chart(agency_by_sex(values, "Nya deltagare per remittent och kön"),
      None, key="inflode_remittent_diagram")
table(rename_sex(display.rename(columns={"agency": "Remittent"})), SEX_FORMATS, key="inflode_remittent_kon")

st.subheader("Per insats")
values, display = protection.protect(run(inflow_by_initiative, f), ["initiative", "agency"])
chart(agency_bars(values, "initiative", "Nya deltagare per insats och remittent", horizontal=True,
                  axis_title="Nya deltagare"),
      rename_sex(display.rename(columns={"initiative": "Insats", "agency": "Remittent"})), key="inflode_insats",
      formats=SEX_FORMATS)

st.subheader("Från myndighet till enhet")
units = run(inflow_units, f)
present_agencies = [a for a in AGENCY_ORDER if a in set(units.agency)]
agency = st.selectbox("Visa enheterna inom", present_agencies, key="inflode_agency")
values, display = protection.protect(units[units.agency == agency].drop(columns="agency"), "unit")
fig = sex_bars(values, "unit", f"Nya deltagare från {agency} per enhet", axis_title="Nya deltagare")
fig.update_layout(height=max(340, 90 + 38 * len(values)))
chart(fig, rename_sex(display.rename(columns={"unit": "Enhet"})), key="inflode_enheter", formats=SEX_FORMATS,
      caption="Enheter som inte känns igen räknas som Annan; lägg till dem i data/referrers.csv.")
