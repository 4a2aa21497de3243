"""Inflöde per remittent: who refers participants to the initiatives, and when?"""
import pandas as pd
import streamlit as st

from core.vocabulary import AGENCY_ORDER, MISSING, SEXES
from metrics.definitions import describe
from metrics.people import headline, inflow, inflow_by_agency, inflow_by_initiative, inflow_units
from render.charts import agency_bars, sex_bars, top_n
from render.format import fmt_pct
from ui import protection
from ui.data import run
from ui.layout import (SEX_FORMATS, chart, empty, filters_or_stop, kpis, page_header, rename_sex, sex_line, table,
                       time_grain)

f = filters_or_stop()
page_header("Inflöde per remittent", "Nya deltagare (startade insatser) per remitterande myndighet.", f)
t = protection.threshold()

totals = run(inflow_by_agency, f)
if totals.total.sum() == 0:
    empty("Inga nya deltagare under perioden med det här urvalet.")
    st.stop()
h = run(headline, f)
started = {s: protection.count("started", {}, s, f, h.loc["started", s]) for s in (*SEXES, "total")}
shown = protection.table(totals, "started", ["agency"], f)
named = shown[shown.agency != MISSING]
visible = named[~named.total.map(protection.is_hidden)]
top = visible.sort_values("total", ascending=False).head(1)
items = [dict(label="Nya deltagare", value=protection.fmt_count(started["total"]),
              by_sex=sex_line(started, protection.fmt_count, f.sexes), help=describe("started"))]
if len(top):
    r = top.iloc[0]
    items.append(dict(label="Flest från", value=r.agency, by_sex=f"{protection.fmt_count(r.total)} nya ("
                      f"{fmt_pct(protection.ratio(r.total / totals.total.sum(), started['total']))} av alla)"))
missing = shown[shown.agency == MISSING]
if len(missing):
    items.append(dict(label="Utan känd remittent", value=protection.fmt_count(missing.total.iloc[0]),
                      by_sex="Ingen remittent, inget samtycke eller anonymt registrerade"))
kpis(items, columns=3)

st.subheader("Över tid")
# under protection a series is by tertial only: tertials nest in every period of the year's grid, a quarter does not
grains = {"Tertial": "tertial"} | ({} if protection.enabled() else {"Kvartal": "quarter", "Månad": "month"})
grain = time_grain(grains, "inflode_grain", help="Tertial: styrelsens uppföljningsperioder, jan–apr, maj–aug "
                                                   "och sep–dec.")
dim = grains[grain]
series = run(inflow, f, dim)
series_shown = protection.table(series, "started", [dim, "agency"], f, sexes=["total"])
per_period = series.groupby(dim, as_index=False)["total"].sum().rename(columns={"total": "_total"})
per_period["_total"] = protection.counts("started", dim, per_period[dim], f, per_period._total)
# the period's new participants bound a hidden tertial's bar (the tertials' sum is at most it: anonymous counts
# have no tertial), so a hidden bar is never drawn shorter than the truth
chart(agency_bars(series_shown.merge(per_period, on=dim), dim, f"Nya deltagare per {grain.lower()} och remittent",
                  axis_title="Nya deltagare", threshold=t, whole=started["total"]),
      rename_sex(series_shown.rename(columns={dim: grain, "agency": "Remittent"}))[
          [grain, "Remittent", "Totalt"] if protection.enabled() else
          [grain, "Remittent", "Kvinnor", "Män", "Annat/okänt", "Totalt"]],
      key="inflode_tid", formats=SEX_FORMATS,
      caption="Anonymt registrerade deltagare har bara ett år och saknas därför i tidsserien; de ingår i tabellen "
              "nedan." + (" Med skydd för små tal visas tertialen som totaler, utan uppdelning på kön "
                          "(kvartal och månader visas inte: de kunde ställas mot styrelsens perioder och ge bort dolda tal)." if
                         protection.enabled() else ""))

st.subheader("Remittenter och kön")
st.caption("Tabellen som årsredovisningen visar: nya deltagare per myndighet, uppdelat på kön.")
chart(sex_bars(shown, "agency", "Nya deltagare per remittent och kön", axis_title="Nya deltagare", threshold=t,
               whole=started["total"]),
      None, key="inflode_remittent_diagram")
total_row = {"agency": "Totalt", **started}
table(rename_sex(pd.concat([shown, pd.DataFrame([total_row])], ignore_index=True).rename(columns={"agency": "Remittent"})),
      SEX_FORMATS, key="inflode_remittent_kon")

st.subheader("Per insats")
per = run(inflow_by_initiative, f)
per_shown = protection.table(per, "started", ["initiative", "agency"], f, sexes=["total"])
by_ini = per.groupby("initiative", as_index=False)["total"].sum().rename(columns={"total": "_total"})
by_ini["_total"] = protection.counts("started", "initiative", by_ini.initiative, f, by_ini._total)
order = top_n(by_ini.rename(columns={"_total": "total"}), "initiative").initiative
drawn = per_shown.merge(by_ini, on="initiative")
drawn = drawn[drawn.initiative.isin(set(order))]
chart(agency_bars(drawn, "initiative", "Nya deltagare per insats och remittent", horizontal=True,
                  axis_title="Nya deltagare", threshold=t),
      rename_sex(per_shown.rename(columns={"initiative": "Insats", "agency": "Remittent"}))[
          ["Insats", "Remittent", "Totalt"] if protection.enabled() else
          ["Insats", "Remittent", "Kvinnor", "Män", "Annat/okänt", "Totalt"]],
      key="inflode_insats", formats=SEX_FORMATS,
      caption="Diagrammet visar de 15 största insatserna; tabellen har alla." if len(order) < len(by_ini) else None)

st.subheader("Från myndighet till enhet")
if protection.enabled():
    st.info("Remitterande enheter visas inte med skydd för små tal: de flesta enheter har för få deltagare.",
            icon=":material/lock:")
else:
    units = run(inflow_units, f)
    present_agencies = [a for a in AGENCY_ORDER if a in set(units.agency)]
    agency = st.selectbox("Visa enheterna inom", present_agencies, key="inflode_agency")
    values = units[units.agency == agency].drop(columns="agency").reset_index(drop=True)
    drawn_units = top_n(values, "unit")
    fig = sex_bars(drawn_units, "unit", f"Nya deltagare från {agency} per enhet", axis_title="Nya deltagare")
    fig.update_layout(height=max(340, 90 + 38 * len(drawn_units)))
    chart(fig, rename_sex(values.rename(columns={"unit": "Enhet"})), key="inflode_enheter", formats=SEX_FORMATS,
          caption="Enheter som inte känns igen räknas som Annan; lägg till dem i data/referrers.csv.")
