"""Förbund: how do the associations compare — a region's, or the national network's?"""
import streamlit as st

from metrics.associations import TOTAL_ROW, by_association
from metrics.suppress import hidden_code
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
rows, total = df[df.association != TOTAL_ROW].reset_index(drop=True), df[df.association == TOTAL_ROW].iloc[0]
if rows.empty:
    empty("Databasen innehåller bara ett förbund.")
    st.stop()

if protection.enabled():
    # One table of association totals with the whole as its margin: primary below the threshold, and one more
    # where a single hidden total would follow from the whole less the others (sex splits are not shown here).
    t = protection.threshold()
    small = rows.participants_total < t
    codes = [hidden_code("primary") if s else v for s, v in zip(small, rows.participants_total)]
    if small.sum() == 1:
        visible = rows[~small].sort_values("participants_total")
        if len(visible):
            codes[visible.index[0]] = hidden_code("secondary")
    rows["participants_total"] = codes
    for c in ("participants_women", "participants_men", "participants_other"):
        rows[c] = None
    hidden = rows.participants_total.map(protection.is_hidden)
    rows["women_share"] = [None if h else v for h, v in zip(hidden, rows.women_share)]
    rows["positive_share"] = [None if h or e < t else v for h, e, v in zip(hidden, rows.exited, rows.positive_share)]
    rows["per_participant"] = [None if h else v for h, v in zip(hidden, rows.per_participant)]

kpis([
    dict(label="Förbund", value=fmt_int(len(rows)), by_sex="i urvalet"),
    dict(label="Deltagare, alla förbund", value=fmt_int(total.participants_total),
         by_sex="Uppdelat på kön per förbund, under skydd för små tal" if protection.enabled() else
                f"Kvinnor {fmt_int(total.participants_women)} · Män {fmt_int(total.participants_men)} · "
                f"Annat/okänt {fmt_int(total.participants_other)}"),  # under protection: the sum would give away a
                                                                       # hidden sex count of one association
    dict(label="Till arbete eller studier", value=fmt_pct(total.positive_share), by_sex="alla förbunds avslutade"),
    dict(label="Kostnad per deltagare", value=fmt_kr(total.per_participant), by_sex="alla förbund"),
])

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
                     else None, reference_name=f"alla förbund {fmt_pct(reference)}" if rank != "per_participant" else None)
    if rank == "per_participant":
        fig.update_layout(xaxis=dict(tickformat=",.0f", ticksuffix=" kr", range=None))
        fig.update_traces(text=[fmt_kr(v) for v in shown[rank]], selector=dict(type="bar"))
chart(fig, None, key="forbund_rang", caption=f"Alla förbund: {RANKS[rank].lower()} "
      + (fmt_int(total[rank]) if rank == "participants_total" else fmt_kr(total[rank]) if rank == "per_participant"
         else fmt_pct(total[rank])) + ". Tabellen nedan har alla förbund; sök eller sortera i den.")

table(ordered[["association", "participants_women", "participants_men", "participants_other", "participants_total",
               "women_share", "exited", "positive_share", "cost", "per_participant"]].rename(columns={
    "association": "Förbund", "participants_women": "Kvinnor", "participants_men": "Män",
    "participants_other": "Annat/okänt", "participants_total": "Deltagare", "women_share": "Andel kvinnor",
    "exited": "Avslutade", "positive_share": "Till arbete/studier", "cost": "Kostnad",
    "per_participant": "Kostnad per deltagare"}).drop(columns=["Avslutade"] if protection.enabled() else []),
    {"Kvinnor": "int", "Män": "int", "Annat/okänt": "int", "Deltagare": "int", "Andel kvinnor": "pct",
     "Avslutade": "int", "Till arbete/studier": "pct", "Kostnad": "kr", "Kostnad per deltagare": "kr"},
    key="forbund_tabell")
