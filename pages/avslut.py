"""Avslut och resultat: why do participants leave, how long do they stay, where do they go?"""
import streamlit as st

from metrics.people import (by_initiative, exits_by_reason, income_flow, positive_share_over_time,
                            targets_summary, time_in_initiative)
from ui import protection
from render.charts import duration_boxes, reason_bars, sankey, share_over_time, share_vs_target
from ui.data import run
from core.vocabulary import SEX_LABELS
from ui.layout import SEX_FORMATS, chart, empty, filters_or_stop, page_header, rename_sex
from render.theme import exit_reason_color

f = filters_or_stop()
page_header("Avslut och resultat", "Avslutade deltagare per avslutsorsak, tid i insatsen och försörjning före och efter.", f)

reasons = run(exits_by_reason, f, ("initiative",))
if reasons.total.sum() == 0:
    empty("Inga avslut under perioden med det här urvalet.")
    st.stop()

values, display = protection.protect(reasons, ["initiative", "reason", "label"])
chart(reason_bars(values, "initiative", "Avslutade per insats och avslutsorsak"),
      rename_sex(display.drop(columns="reason").rename(columns={"initiative": "Insats", "label": "Avslutsorsak"})),
      key="avslut_orsak", formats=SEX_FORMATS,
      caption="”Okänd orsak” är avslut utan samtycke eller utan angiven orsak; de räknas med och visas för sig.")

st.subheader("Andel till arbete eller studier")
ini = run(by_initiative, f)
ini = ini[ini.exited_total > 0].reset_index(drop=True)
_, counts = protection.protect(ini[["initiative", "exited_total", "exited_positive_total"]], "initiative",
                            parts=["exited_total", "exited_positive_total"], total=None)
code1 = display[display.reason == "1"]
ini["positive_share_total"] = protection.visible_shares(
    ini.positive_share_total, ini.exited_total, ini.exited_positive_total,
    [protection.is_hidden(e) or protection.is_hidden(p) or any(protection.is_hidden(x) for x in code1[code1.initiative == n].total)
     for e, p, n in zip(counts.exited_total, counts.exited_positive_total, ini.initiative)])
ini["exited_total"], ini["exited_positive_total"] = counts.exited_total[:len(ini)], counts.exited_positive_total[:len(ini)]
chart(share_vs_target(ini, "initiative", "positive_share_total", "target_positive_share",
                      "Andel av avslutade till arbete/studier per insats, med insatsens mål",
                      color=exit_reason_color("1")),
      ini[["initiative", "exited_total", "exited_positive_total", "positive_share_total", "target_positive_share"]]
      .rename(columns={"initiative": "Insats", "exited_total": "Avslutade", "exited_positive_total": "Till arbete/studier",
                       "positive_share_total": "Andel", "target_positive_share": "Mål"}),
      key="avslut_mal", formats={"Avslutade": "int", "Till arbete/studier": "int", "Andel": "pct", "Mål": "pct"})

grain = st.radio("Tidsindelning", ["Kvartal", "Månad", "År"], horizontal=True, key="avslut_grain")
dim = {"Kvartal": "quarter", "Månad": "month", "År": "year"}[grain]
ts = run(positive_share_over_time, f, dim)
for s in ("women", "men", "other", "total"):
    ts[f"share_{s}"] = protection.visible_shares(ts[f"share_{s}"], ts[f"exited_{s}"], ts[f"positive_{s}"])
goal = run(targets_summary, f)["positive_share"]
ts_table = ts.rename(columns={dim: grain} | {f"exited_{s}": f"Avslutade {SEX_LABELS[s].lower()}" for s in SEX_LABELS}
                     | {f"positive_{s}": f"Till arbete/studier {SEX_LABELS[s].lower()}" for s in SEX_LABELS}
                     | {f"share_{s}": f"Andel {SEX_LABELS[s].lower()}" for s in SEX_LABELS})
if protection.enabled():
    ts_table = ts_table[[grain, *[c for c in ts_table.columns if c.startswith("Andel")]]]
chart(share_over_time(ts, dim, "Andel av avslutade till arbete, studier eller aktivt arbetssökande (orsak 1)", goal),
      ts_table, key="avslut_tid",
      formats={c: ("pct" if c.startswith("Andel") else "int") for c in ts_table.columns if c != grain})

st.subheader("Tid i insatsen")
tin = run(time_in_initiative, f)
fig = duration_boxes(tin, protection.threshold() if protection.enabled() else 1)
tin = tin[(tin.n >= protection.threshold()) | (not protection.enabled())]
chart(fig, tin.assign(sex=tin.sex.map(SEX_LABELS))[["label", "sex", "n", "median_months", "q1_months", "q3_months"]]
      .rename(columns={"label": "Avslutsorsak", "sex": "Kön", "n": "Antal", "median_months": "Median (mån)",
                       "q1_months": "Kvartil 1 (mån)", "q3_months": "Kvartil 3 (mån)"}),
      key="avslut_tid_i_insats",
      formats={"Antal": "int", "Median (mån)": "months", "Kvartil 1 (mån)": "months", "Kvartil 3 (mån)": "months"},
      caption="Lådan visar mittersta hälften av de avslutade, strecket i lådan medianen och linjerna 10:e till "
              "90:e percentilen. Tabellen delar upp på kön."
              + (" Grupper med färre än 5 avslut visas inte." if protection.enabled() else ""))

st.subheader("Försörjning före och efter")
flow = run(income_flow, f)
if protection.enabled():
    flow = flow[flow.total >= protection.threshold()]
if flow.empty:
    empty("Inga avslut med försörjning angiven både vid start och vid avslut"
          + (" (i grupper om minst 5)." if protection.enabled() else "."))
else:
    _, display = protection.protect(flow, None, add_total=False)
    chart(sankey(flow, "Från försörjning vid start till försörjning vid avslut"),
          rename_sex(display.rename(columns={"income_at_start": "Försörjning vid start",
                                             "income_at_exit": "Försörjning vid avslut"})),
          key="avslut_forsorjning", formats=SEX_FORMATS,
          caption="Endast avslutade med samtycke och med försörjning angiven både vid start och vid avslut."
                  + (" Flöden med färre än 5 personer visas inte." if protection.enabled() else ""))
