"""Förbund: how do the associations compare — a region's, or the national network's?"""
import pandas as pd
import streamlit as st

from metrics import Filters
from metrics.associations import by_association, cost_years, total_label
from render.associations import protected_comparison
from render.charts import share_bars, sex_bars, top_n
from render.format import fmt_int, fmt_kr, fmt_pct
from render.theme import EXIT_REASON_COLORS
from ui import protection
from ui.data import run
from ui.layout import chart, empty, filters_or_stop, kpis, page_header, table

RANKS = {"participants_total": "Deltagare", "positive_share": "Andel till arbete/studier",
         "per_participant": "Kostnad per deltagare", "women_share": "Andel kvinnor"}

f = filters_or_stop()
page_header("Förbund", "Förbunden sida vid sida: deltagare, resultat, kostnad och könsfördelning.", f,
            several_associations=True)
df = run(by_association, f)
whole_name = total_label(f)
rows = df[df.association != whole_name]
if rows.empty:
    empty("Databasen innehåller bara ett förbund.")
    st.stop()
notes: list[str] = []
if protection.enabled():
    # each association as its own pages show it (render/associations.py): its own protection engine
    def of(a: str) -> Filters:
        return Filters(f.start, f.end, associations=(a,))

    years = run(cost_years, f)
    df, notes = protected_comparison(
        df, whole_name, engine_of=lambda a: protection.engine(of(a)),
        pooled_people_of=lambda a: protection.cost_people(years[years.association == a], of(a)),
        selection_of=lambda a: f.with_(associations=(a,)), threshold=protection.threshold())
rows = df[df.association != whole_name].reset_index(drop=True)
total = df[df.association == whole_name].iloc[0]
fmt_count = protection.fmt_count
whole_split = " · ".join(f"{label} {fmt_count(total[f'participants_{s}'])}"
                         for s, label in (("women", "Kvinnor"), ("men", "Män"), ("other", "Annat/okänt")))
if protection.enabled() and any(protection.is_hidden(total[f"participants_{s}"]) for s in ("women", "men", "other")):
    whole_split = "Uppdelat på kön per förbund: summan visas inte där ett förbunds tal är dolt"
whole_words = whole_name.lower()
kpis([
    dict(label="Förbund", value=fmt_int(len(rows)), by_sex="i urvalet"),
    dict(label=f"Deltagare, {whole_words}", value=fmt_count(total.participants_total), by_sex=whole_split),
    dict(label="Till arbete eller studier", value=fmt_pct(total.positive_share), by_sex=f"{whole_words}s avslutade"),
    dict(label="Kostnad per deltagare", value=fmt_kr(total.per_participant),
         by_sex=f"{whole_words}, {fmt_count(total.cost_participants)} deltagare med kostnad"),
])
for note in notes:
    st.caption(note)

rank = st.selectbox("Rangordna efter", list(RANKS), format_func=RANKS.get, key="forbund_rank")
ordered = rows.assign(_key=rows[rank].map(lambda v: -1 if v is None or protection.is_hidden(v) else v)) \
    .sort_values("_key", ascending=False, kind="stable").drop(columns="_key").reset_index(drop=True)
shown = ordered.head(15)
if rank == "participants_total":
    drawn = top_n(ordered.rename(columns=lambda c: c.replace("participants_", ""))[
        ["association", "women", "men", "other", "total"]].fillna(0), "association")
    fig = sex_bars(drawn, "association", "Deltagare per förbund", axis_title="Deltagare",
                   threshold=protection.threshold())
else:
    reference = total[rank]
    fig = share_bars(shown.assign(value=shown[rank]), "association", "value", f"{RANKS[rank]}, de 15 högsta",
                     color=EXIT_REASON_COLORS["1"], name=RANKS[rank], reference=reference if rank != "per_participant"
                     else None, reference_name=f"{whole_words} {fmt_pct(reference)}" if rank != "per_participant"
                     else None)
    if rank == "per_participant":
        fig.update_layout(xaxis=dict(tickformat=",.0f", ticksuffix=" kr", range=None))
        fig.update_traces(text=[fmt_kr(v) for v in shown[rank]], selector=dict(type="bar"))
chart(fig, None, key="forbund_rang", caption=f"{whole_name}: {RANKS[rank].lower()} "
      + (fmt_count(total[rank]) if rank == "participants_total" else fmt_kr(total[rank]) if rank == "per_participant"
         else fmt_pct(total[rank])) + ". Tabellen nedan har alla förbund och sist deras summa; sök eller sortera i den.")

listed = pd.concat([ordered, df[df.association == whole_name]], ignore_index=True)  # the whole as the last row
table(listed[["association", "participants_women", "participants_men", "participants_other", "participants_total",
              "women_share", "exited", "positive_share", "cost", "cost_participants", "per_participant"]].rename(
    columns={"association": "Förbund", "participants_women": "Kvinnor", "participants_men": "Män",
             "participants_other": "Annat/okänt", "participants_total": "Deltagare", "women_share": "Andel kvinnor",
             "exited": "Avslutade", "positive_share": "Till arbete/studier", "cost": "Kostnad",
             "cost_participants": "Deltagare med kostnad", "per_participant": "Kostnad per deltagare"}),
    {"Kvinnor": "int", "Män": "int", "Annat/okänt": "int", "Deltagare": "int", "Andel kvinnor": "pct",
     "Avslutade": "int", "Till arbete/studier": "pct", "Kostnad": "kr", "Deltagare med kostnad": "int",
     "Kostnad per deltagare": "kr"},
    key="forbund_tabell")
st.caption("Kostnad per deltagare: kostnaden delad med deltagarna i de insatser och år som har både kostnad och "
           "deltagare (kolumnen Deltagare med kostnad), som på förbundets egen översikt."
           + (" Under skyddet för små tal visas varje förbunds antal som förbundets egna sidor visar dem, och en "
              "andel eller ett belopp per deltagare bara där både täljare och nämnare visas och är minst "
              f"{protection.threshold()}." if protection.enabled() else ""))
