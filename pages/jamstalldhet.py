"""Jämställdhet: do women and men reach the initiatives, and leave them, on equal terms?"""
import plotly.graph_objects as go
import streamlit as st

from metrics.facts import AGE_GROUPS
from metrics.people import LARGE_GAP, age_by_sex, by_sex_per_initiative, reason_shares, women_share_vs_target
from ui.data import run
from ui.format import SEX_LABELS, fmt_pct, fmt_pp
from ui.layout import SEX_FORMATS, chart, empty, filters_or_stop, page_header, rename_sex
from ui.theme import SEX_COLORS, TARGET_LINE

MEASURES = {"participants": "Deltagare", "started": "Nya", "exited": "Avslutade"}

f = filters_or_stop()
page_header("Jämställdhet", "Kvinnor, män och annat/okänt kön bland deltagare, nya och avslutade.", f)

per = run(by_sex_per_initiative, f)
if per[per.measure == "participants"].total.sum() == 0:
    empty()
    st.stop()

measure = st.radio("Visa", list(MEASURES), format_func=MEASURES.get, horizontal=True, key="jam_measure")
d = per[(per.measure == measure) & (per.total > 0)]
fig = go.Figure()
for s in ("women", "men", "other"):
    fig.add_bar(y=d.initiative, x=d[s], name=SEX_LABELS[s], orientation="h", marker_color=SEX_COLORS[s])
fig.update_layout(barmode="stack", title=f"{MEASURES[measure]} per insats och kön", yaxis=dict(autorange="reversed"))
chart(fig, rename_sex(per.assign(measure=per.measure.map(MEASURES)).rename(
    columns={"initiative": "Insats", "measure": "Mått"})), key="jam_per_insats", formats=SEX_FORMATS)

st.subheader("Andel kvinnor mot mål")
t = run(women_share_vs_target, f)
t = t[t.total > 0]
fig = go.Figure()
fig.add_bar(y=t.initiative, x=t.women_share, orientation="h", name="Andel kvinnor",
            marker_color=[SEX_COLORS["women"] if not g else "#B8336A" for g in t.large_gap],
            text=[fmt_pct(v) for v in t.women_share], textposition="outside")
fig.add_scatter(y=t.initiative, x=t.target, mode="markers", name="Mål",
                marker=dict(symbol="line-ns", size=28, line=dict(width=3, color=TARGET_LINE["color"])))
fig.update_layout(title="Andel kvinnor bland deltagarna, med insatsens mål", xaxis=dict(tickformat=".0%", range=[0, 1.1]),
                  yaxis=dict(autorange="reversed"))
table_df = t.assign(
    Mål=t.target, Avvikelse=[fmt_pp(g) for g in t.gap],
    Målkälla=["standard 50 %" if x else "insatsregistret" for x in t.target_is_default],
    Flagga=["stor avvikelse" if x else "" for x in t.large_gap],
)[["initiative", "women", "total", "women_share", "Mål", "Avvikelse", "Målkälla", "Flagga"]].rename(
    columns={"initiative": "Insats", "women": "Kvinnor", "total": "Deltagare totalt", "women_share": "Andel kvinnor"})
chart(fig, table_df, key="jam_mal", formats={"Kvinnor": "int", "Deltagare totalt": "int", "Andel kvinnor": "pct",
                                               "Mål": "pct"},
      caption=f"Mörkrosa stapel: andelen avviker mer än {fmt_pp(LARGE_GAP).lstrip('+')} från målet. "
              "Mål från insatsregistret, annars 50 %.")
flagged = t[t.large_gap]
if len(flagged):
    st.warning("Stor avvikelse från målet: " + ", ".join(
        f"{r.initiative} ({fmt_pct(r.women_share)} mot mål {fmt_pct(r.target)})" for r in flagged.itertuples()))

st.subheader("Avslutsorsak per kön")
r = run(reason_shares, f)
if r.total.sum() == 0:
    empty("Inga avslut under perioden.")
else:
    fig = go.Figure()
    for s in ("women", "men", "other"):
        if r[s].sum():
            fig.add_bar(x=r.label, y=r[f"{s}_share"], name=SEX_LABELS[s], marker_color=SEX_COLORS[s],
                        text=[fmt_pct(v, 0) for v in r[f"{s}_share"]], textposition="outside")
    fig.update_layout(barmode="group", title="Andel av avslutade per orsak och kön", yaxis=dict(tickformat=".0%"))
    shares = r[["label", "women", "women_share", "men", "men_share", "other", "other_share", "total", "total_share"]]
    chart(fig, shares.rename(columns={
        "label": "Avslutsorsak", "women": "Kvinnor", "women_share": "Andel kvinnor", "men": "Män",
        "men_share": "Andel män", "other": "Annat/okänt", "other_share": "Andel annat/okänt", "total": "Totalt",
        "total_share": "Andel totalt"}), key="jam_orsak",
        formats={"Kvinnor": "int", "Män": "int", "Annat/okänt": "int", "Totalt": "int", "Andel kvinnor": "pct",
                 "Andel män": "pct", "Andel annat/okänt": "pct", "Andel totalt": "pct"},
        caption="Andelen räknas inom varje kön: av alla avslutade kvinnor, hur stor del avslutades av en viss orsak?")

st.subheader("Ålder och kön")
a = run(age_by_sex, f)
a = a.set_index("age_group").reindex([g for g in AGE_GROUPS if g in set(a.age_group)]).reset_index()
fig = go.Figure()
for s in ("women", "men", "other"):
    fig.add_bar(x=a.age_group, y=a[s], name=SEX_LABELS[s], marker_color=SEX_COLORS[s])
fig.update_layout(barmode="group", title="Deltagare per åldersgrupp (ålder vid start) och kön",
                  xaxis=dict(type="category"))
chart(fig, rename_sex(a.rename(columns={"age_group": "Åldersgrupp"})), key="jam_alder", formats=SEX_FORMATS)
