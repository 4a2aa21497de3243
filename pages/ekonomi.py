"""Ekonomi: what the parties allocated, where the money went, the equity, and a participant's cost with administration."""
import pandas as pd
import streamlit as st

from core.vocabulary import DIRECTION_SHEETS, PARTIES, PARTY_SHARES
from metrics.catalog import associations as list_associations
from metrics.definitions import describe
from metrics.economy import by_year, cost_with_administration, pooled, summary
from render.charts import money_bars, stacked_money
from render.format import fmt_kr, fmt_pct, fmt_kr_kpi
from render.text import md
from render.theme import ACTUAL_COLOR, ALLOCATED_COLOR, EQUITY_COLOR
from ui import protection
from ui.data import run
from ui.layout import chart, empty, filters_or_stop, kpis, page_header, table

f = filters_or_stop()
page_header("Ekonomi", "Vad parterna tilldelade, vart pengarna gick, hur det egna kapitalet utvecklas och vad en "
                       "deltagare kostar med administrationen.", f)
if f.agencies or f.sexes:
    st.info("Förbundets ekonomi delas inte upp på kön eller remittent; de filtren påverkar inte sidan.",
            icon=":material/info:")
if f.associations:
    st.caption(f"Ekonomin för {md(', '.join(f.associations))}: förbundets egna ekonomirader och kostnaderna för "
               "förbundets insatser (de som förbundets deltagare eller deltagarantal gäller).")
elif len(run(list_associations)) > 1:
    st.info("Databasen har flera förbund och inget är valt: sidan visar deras ekonomi sammanlagd. Välj ett förbund i "
            "sidopanelen för ett förbunds ekonomi.", icon=":material/info:")
if f.initiatives:
    st.info("Valda insatser begränsar bara tabellen med kostnad per deltagare; förbundets ekonomi gäller alla insatser.",
            icon=":material/info:")

s = run(summary, f)
if not s["has_lines"]:
    empty("Det finns inga uppgifter om förbundets ekonomi för det här urvalet. Läs in en fil med förbundets ekonomi "
          "(År, Post, Part, Budget, Utfall; se README) så visas tilldelade medel, administration och eget kapital här.")
    st.stop()
years = f"{f.start.year}" if f.start.year == f.end.year else f"{f.start.year}–{f.end.year}"
if not f.is_calendar_year:
    st.caption(f"Ekonomin redovisas per kalenderår: siffrorna gäller hela {years}.")

share_line = " · ".join(f"{PARTIES[g].split(' ')[0]} {fmt_pct(s['shares'][g])}" for g in PARTY_SHARES) \
    if s["allocated"] else None
kpis([
    dict(label="Tilldelade medel", value=fmt_kr_kpi(s["allocated"]), by_sex=share_line, help=describe("allocated")),
    dict(label="Använda medel", value=fmt_kr_kpi(s["used"]), help=describe("used"),
         by_sex=f"{fmt_pct(s['used'] / s['allocated'])} av tilldelade medel" if s["used"] and s["allocated"] else None),
    dict(label="Eget kapital vid årets slut", value=fmt_kr_kpi(s["equity_end"]), help=describe("equity_end"),
         by_sex=f"Vid årets början {fmt_kr(s['equity_start'])}" if s["equity_start"] is not None else None),
    dict(label="Administrationens andel", value=fmt_pct(s["administration_share"]), help=describe("administration_share"),
         by_sex=f"{fmt_kr(s['administration'])} i administration" if s["administration"] is not None else None),
])
if s["shares_deviate"]:
    st.warning("Tilldelade medel fördelas inte 50/25/25 som finsamlagen anger (staten genom Försäkringskassan "
               "hälften, regionen och kommunerna en fjärdedel var) för "
               + ", ".join(map(str, s["deviating_years"])) + ". Kontrollera förbundets ekonomifil.",
               icon=":material/flag:")
if s["years_without_administration"]:
    st.caption("Uppgift om administrationen saknas för " + ", ".join(map(str, s["years_without_administration"]))
               + "; där räknas använda medel utan den.")

y = run(by_year, f)
y["label"] = y.year.astype(str)
uses = pd.DataFrame([{"label": r.label, "use": DIRECTION_SHEETS[d], "cost": getattr(r, d)}
                     for r in y.itertuples() for d in ("individual", "structural")]
                    + [{"label": r.label, "use": "Administration", "cost": r.administration} for r in y.itertuples()])
uses = uses[uses.cost.notna()]
chart(stacked_money(uses, "label", "use", "Vart pengarna går: insatser och administration per år"),
      uses.rename(columns={"label": "År", "use": "Till", "cost": "Kronor"}), key="ekonomi_anvandning",
      formats={"Kronor": "kr", "År": "text"},
      caption="Insatsernas kostnad är utfallet, annars budgeten; administrationen likaså.")
chart(money_bars(y, "label", {"allocated": ("Tilldelade medel", ALLOCATED_COLOR), "used": ("Använda medel", ACTUAL_COLOR)},
                 "Tilldelat och använt per år"),
      y[["label", "allocated", "used"]].rename(columns={"label": "År", "allocated": "Tilldelade medel",
                                                         "used": "Använda medel"}),
      key="ekonomi_tilldelat", formats={"Tilldelade medel": "kr", "Använda medel": "kr", "År": "text"})
chart(money_bars(y, "label", {"equity_end": ("Eget kapital vid årets slut", EQUITY_COLOR)}, "Eget kapital över åren"),
      y[["label", "equity_start", "equity_end"]].rename(columns={
          "label": "År", "equity_start": "Vid årets början", "equity_end": "Vid årets slut"}),
      key="ekonomi_eget_kapital", formats={"Vid årets början": "kr", "Vid årets slut": "kr", "År": "text"})

st.markdown(f"**Tilldelade medel per part, {years}**")
table(pd.DataFrame([{"Part": PARTIES[g], "Belopp": s[f"allocated_{g}"], "Andel": s["shares"][g],
                     "Enligt finsamlagen": PARTY_SHARES[g]} for g in PARTY_SHARES]),
      {"Belopp": "kr", "Andel": "pct", "Enligt finsamlagen": "pct"}, key="ekonomi_parter")

st.subheader("Kostnad per deltagare med administration")
with_admin = st.toggle("Räkna in insatsens andel av administrationen", value=True, key="ekonomi_admin")
st.caption(md(describe("cost_per_participant_with_administration")))
c = run(cost_with_administration, f)
c = c[c.cost.notna()].reset_index(drop=True)
if c.empty:
    empty("Det finns inga kostnader för insatserna i det här urvalet.")
    st.stop()
cost_col = "cost_with_administration" if with_admin else "cost"
per_col = "per_participant_with_administration" if with_admin else "per_participant"
people = protection.cost_people(c.assign(cost=c[cost_col]), f)
kpis([dict(label="Kostnad per deltagare" + (" inkl. administration" if with_admin else ""),
           value=fmt_kr_kpi(protection.ratio(pooled(c, administration=with_admin)["per_participant"], people)),
           help=describe("cost_per_participant_with_administration" if with_admin else "cost_per_participant"))],
     columns=2)


engine_of = protection.year_engines(f)  # once per year, not per row


def participants_as_shown(row):
    """The initiative-year's participants behind the cost per participant, as this reader may see them."""
    p = engine_of(row.year)
    if p is None:
        return row.participants
    kind, _ = p.cell("participants", {"initiative": row.initiative}, "total")
    return row.participants if kind == protection.VISIBLE else protection.hidden_code(kind)


c["label"] = c.initiative if f.is_calendar_year else c.initiative + " " + c.year.astype(str)
c["participants"] = [participants_as_shown(r) for r in c.itertuples()]
c["shown_per"] = protection.ratios(c[per_col], c.participants)
chart(money_bars(c, "label", {"shown_per": ("Per deltagare" + (" inkl. administration" if with_admin else ""),
                                            ACTUAL_COLOR)},
                 "Kostnad per deltagare" + (" inklusive administration" if with_admin else "")), None,
      key="ekonomi_per_deltagare", caption="– betyder att uppgiften saknas (till exempel en strukturövergripande "
                                           "insats, som inte har deltagare med individuppgifter) eller döljs av "
                                           "skyddet för små tal.")
columns = {"initiative": "Insats", "year": "År", "cost": "Kostnad"}
if with_admin:
    columns |= {"administration_share": "Andel av administrationen", "cost_with_administration": "Kostnad med administration"}
columns |= {"participants": "Deltagare", "shown_per": "Kr per deltagare"}
table(c[list(columns)].rename(columns=columns),
      {"År": "text", "Kostnad": "kr", "Andel av administrationen": "kr", "Kostnad med administration": "kr",
       "Deltagare": "int", "Kr per deltagare": "kr"}, key="ekonomi_kostnad_per_deltagare")
