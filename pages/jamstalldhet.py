"""Jämställdhet: do women and men reach the initiatives, and leave them, on equal terms?"""
import streamlit as st

from metrics.people import LARGE_GAP, age_by_sex, by_sex_per_initiative, reason_shares, women_share_vs_target
from ui import protection
from render.charts import reason_share_by_sex, sex_bars, share_vs_target
from ui.data import run
from render.format import fmt_pct, fmt_pp
from ui.layout import SEX_FORMATS, chart, empty, filters_or_stop, page_header, rename_sex

MEASURES = {"participants": "Deltagare", "started": "Nya", "exited": "Avslutade"}

f = filters_or_stop()
page_header("Jämställdhet", "Kvinnor, män och annat/okänt kön bland deltagare, nya och avslutade.", f)

per = run(by_sex_per_initiative, f)
if per[per.measure == "participants"].total.sum() == 0:
    empty()
    st.stop()

measure = st.radio("Visa", list(MEASURES), format_func=MEASURES.get, horizontal=True, key="jam_measure")
values, display = protection.protect(per[(per.measure == measure) & (per.total > 0)].drop(columns="measure"), "initiative")
chart(sex_bars(values, "initiative", f"{MEASURES[measure]} per insats och kön"),
      rename_sex(display.rename(columns={"initiative": "Insats"})), key="jam_per_insats", formats=SEX_FORMATS)

st.subheader("Andel kvinnor mot mål")
t = protection.women_vs_target(run(women_share_vs_target, f))
table_df = t.assign(
    Målkälla=["standard 50 %" if x else "insatsregistret" for x in t.target_is_default],
    Flagga=["stor avvikelse" if x else "" for x in t.large_gap],
)[["initiative", "women_share", "target", "gap", "Målkälla", "Flagga"]].rename(
    columns={"initiative": "Insats", "women_share": "Andel kvinnor", "target": "Mål", "gap": "Avvikelse"})
chart(share_vs_target(t, "initiative", "women_share", "target", "Andel kvinnor bland deltagarna, med insatsens mål",
                      flag="large_gap"),
      table_df, key="jam_mal", formats={"Andel kvinnor": "pct", "Mål": "pct", "Avvikelse": "pp"},
      caption=f"Mörk stapel: andelen avviker mer än {fmt_pp(LARGE_GAP).lstrip('+')} från målet. "
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
    r, display = protection.reason_shares(r)
    shown = display.merge(r[["label", "women_share", "men_share", "other_share", "total_share"]], on="label", how="left")
    chart(reason_share_by_sex(r, "Andel av avslutade per orsak och kön"),
          shown.drop(columns="reason").rename(columns={
              "label": "Avslutsorsak", "women": "Kvinnor", "women_share": "Andel kvinnor", "men": "Män",
              "men_share": "Andel män", "other": "Annat/okänt", "other_share": "Andel annat/okänt", "total": "Totalt",
              "total_share": "Andel totalt"}), key="jam_orsak",
          formats={"Kvinnor": "int", "Män": "int", "Annat/okänt": "int", "Totalt": "int", "Andel kvinnor": "pct",
                   "Andel män": "pct", "Andel annat/okänt": "pct", "Andel totalt": "pct"},
          caption="Andelen räknas inom varje kön: av alla avslutade kvinnor, hur stor del avslutades av en viss orsak?")

st.subheader("Ålder och kön")
values, display = protection.protect(run(age_by_sex, f), "age_group")
chart(sex_bars(values, "age_group", "Deltagare per åldersgrupp (ålder vid start) och kön", horizontal=False,
               barmode="group", axis_title="Deltagare"),
      rename_sex(display.rename(columns={"age_group": "Åldersgrupp"})), key="jam_alder", formats=SEX_FORMATS)
