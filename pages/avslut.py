"""Avslut och resultat: why do participants leave, how long do they stay, where do they go?"""
import pandas as pd
import streamlit as st

from core.vocabulary import SEX_LABELS, SEXES
from metrics.catalog import reason_labels
from metrics.definitions import describe
from metrics.people import (by_initiative, exits_by_reason, headline, income_flow, positive_share_over_time,
                            targets_summary, time_in_initiative)
from render.charts import duration_boxes, reason_bars, sankey, share_bars, share_over_time, top_n
from render.format import fmt_pct
from render.text import md
from render.theme import EXIT_REASON_COLORS
from ui import protection
from ui.data import run
from ui.layout import (SEX_FORMATS, chart, empty, filters_or_stop, kpis, page_header, rename_sex, sex_line, table,
                       time_grain)

f = filters_or_stop()
page_header("Avslut och resultat", "Avslutade deltagare per avslutsorsak, tid i insatsen och försörjning före och "
                                   "efter.", f)
t = protection.threshold()
h = run(headline, f)
if h.loc["exited", "total"] == 0:
    empty("Inga avslut ännu under perioden med det här urvalet. Avslutsorsakerna visas när någon har avslutats.")
    st.stop()

show = protection.shown(f)  # every figure below as this reader may see it
fig = show.figures(h)
exited = fig.by_sex("exited")
positive, wide = fig.by_sex("positive_share"), fig.by_sex("positive_wide_share")
kpis([
    dict(label="Avslutade", value=protection.fmt_count(exited["total"]),
         by_sex=sex_line(exited, protection.fmt_count, f.sexes), help=describe("exited")),
    dict(label="Till arbete eller studier", value=fmt_pct(positive["total"]), by_sex=sex_line(positive, fmt_pct, f.sexes),
         help=describe("positive_share")),
    dict(label="Arbete, studier eller rehab.", value=fmt_pct(wide["total"]),
         by_sex=sex_line(wide, fmt_pct, f.sexes), help=describe("positive_wide_share")),
])

st.subheader("Avslutsorsaker")
reasons = run(exits_by_reason, f)
reasons_shown = show.frame(reasons, "exited", ["reason"])
labels = run(reason_labels, short=False)
table(rename_sex(reasons_shown.assign(Kod=[None if c == "unknown" else c for c in reasons_shown.reason])
                 .rename(columns={"label": "Avslutsorsak"})[["Kod", "Avslutsorsak", *SEXES, "total"]]),
      SEX_FORMATS | {"Kod": "text"}, key="avslut_orsaker")
st.caption("Koder som i SUS: " + "; ".join(f"{c} = {md(labels[c])}" for c in sorted(labels) if c != "unknown")
           + ". Okänd orsak: avslut utan samtycke eller utan angiven orsak; de räknas med i andelarna.")

st.subheader("Per insats")
per = run(exits_by_reason, f, ("initiative",))
per_shown = show.frame(per, "exited", ["initiative", "reason"], sexes=["total"])
ini = run(by_initiative, f)
ini = ini[ini.exited_total > 0].reset_index(drop=True)
ini = show.wide(ini, ["exited", "positive_share"])
totals = ini[["initiative", "exited_total"]].rename(columns={"exited_total": "_total"})
order = set(top_n(totals.rename(columns={"_total": "total"}), "initiative").initiative)
chart(reason_bars(per_shown[per_shown.initiative.isin(order)].merge(totals, on="initiative"), "initiative",
                  "Avslutade per insats och avslutsorsak", threshold=t),
      rename_sex(per_shown.rename(columns={"initiative": "Insats", "label": "Avslutsorsak"}))[
          ["Insats", "Avslutsorsak", "Totalt"] if protection.enabled() else
          ["Insats", "Avslutsorsak", "Kvinnor", "Män", "Annat/okänt", "Totalt"]],
      key="avslut_orsak", formats=SEX_FORMATS,
      caption="Med skydd för små tal visas avslutsorsak per insats utan uppdelning på kön." if protection.enabled()
      else None)

# The chart's segments carry their values only where a value fits; this table carries every one, read at a glance
wide_reasons = per_shown.pivot_table(index="initiative", columns="label", values="total", aggfunc="first", sort=False)
wide_reasons = wide_reasons.reindex(columns=list(dict.fromkeys(per_shown.label)))
wide_reasons = wide_reasons.reindex([i for i in ini.initiative if i in wide_reasons.index])
wide_reasons = wide_reasons.reset_index().rename(columns={"initiative": "Insats"})
wide_reasons["Totalt"] = list(totals.set_index("initiative")["_total"].reindex(wide_reasons.Insats))
# a reason no one of an initiative left for has no row: 0, unless protection withdrew the line (`..`, zeros too)
codes = dict(zip(per_shown.label, per_shown.reason))
for label, code in codes.items():
    wide_reasons[label] = [show.count("exited", {"initiative": i, "reason": code}, "total", 0) if pd.isna(v) else v
                           for i, v in zip(wide_reasons.Insats, wide_reasons[label])]
st.markdown("**Avslutade per insats och avslutsorsak, antal**")
table(wide_reasons, {c: "int" for c in wide_reasons.columns if c != "Insats"}, key="avslut_orsak_antal")

ini["share"] = ini.positive_share_total
goal = run(targets_summary, f)["positive_share"] if not (f.sexes or f.agencies) else None
has_target = ini.target_positive_share.notna().any()
chart(share_bars(top_n(ini[["initiative", "share", "target_positive_share", "exited_total"]], "initiative",
                       by="exited_total") if len(ini) > 16 else ini,
                 "initiative", "share", "Andel av de avslutade till arbete eller studier, per insats",
                 color=EXIT_REASON_COLORS["1"], name="Till arbete/studier",
                 target="target_positive_share" if has_target else None),
      ini[["initiative", "exited_total", "exited_positive_total", "share", "target_positive_share"]].rename(columns={
          "initiative": "Insats", "exited_total": "Avslutade", "exited_positive_total": "Till arbete/studier",
          "share": "Andel", "target_positive_share": "Mål"}),
      key="avslut_mal", formats={"Avslutade": "int", "Till arbete/studier": "int", "Andel": "pct", "Mål": "pct"},
      caption="Svarta streck: insatsregistrets mål." if has_target else "Insatsregistret har inga mål för andelen.")

st.subheader("Över tid")
grains = {"Tertial": "tertial"} if protection.enabled() else {"Kvartal": "quarter", "Månad": "month", "År": "year"}
grain = time_grain(grains, "avslut_grain")
dim = grains[grain]
ts = run(positive_share_over_time, f, dim)
sexes = ("total",) if protection.enabled() else (*SEXES, "total")  # the whole shows exits per tertial in total only
as_wide = {f"{a}_{s}": f"{b}_{s}" for a, b in (("positive", "exited_positive"), ("share", "positive_share"))
           for s in (*SEXES, "total")}  # as metrics.people.by_initiative names them
ts = show.wide(ts.rename(columns=as_wide), ["positive_share"], dims=[dim], sexes=sexes)
ts = ts.rename(columns={v: k for k, v in as_wide.items()})
chart(share_over_time(ts, dim, "Andel av de avslutade till arbete eller studier", goal, sexes=sexes),
      ts[[dim, *[f"share_{s}" for s in sexes]]].rename(columns={dim: grain} | {
          f"share_{s}": f"Andel {SEX_LABELS[s].lower()}" for s in sexes}),
      key="avslut_tid", formats={f"Andel {SEX_LABELS[s].lower()}": "pct" for s in sexes},
      caption="Med skydd för små tal visas andelen för alla, utan uppdelning på kön." if protection.enabled() else None)

st.subheader("Tid i insatsen")
tin = run(time_in_initiative, f)
if protection.enabled():
    tin["n_shown"] = [show.count("exited", {"reason": r}, s, n) for r, s, n in zip(tin.reason, tin.sex, tin.n)]
    tin = tin[[not protection.is_hidden(x) and x >= t for x in tin.n_shown]]
if tin.empty:
    empty("För få avslut för att visa tiden i insatsen.")
else:
    chart(duration_boxes(tin, t if protection.enabled() else 1),
          tin.assign(sex=tin.sex.map(SEX_LABELS))[["label", "sex", "n", "median_months", "q1_months", "q3_months"]]
          .rename(columns={"label": "Avslutsorsak", "sex": "Kön", "n": "Antal", "median_months": "Median (mån)",
                           "q1_months": "Kvartil 1 (mån)", "q3_months": "Kvartil 3 (mån)"}),
          key="avslut_tid_i_insats",
          formats={"Antal": "int", "Median (mån)": "months", "Kvartil 1 (mån)": "months", "Kvartil 3 (mån)": "months"},
          caption="Lådan visar mittersta hälften av de avslutade, strecket i lådan medianen och linjerna 10:e till "
                  "90:e percentilen. Tabellen delar upp på kön."
                  + (f" Grupper vars antal är dolt eller färre än {t} visas inte." if protection.enabled() else ""))

st.subheader("Försörjning före och efter")
if protection.enabled():
    st.info("Flödet mellan försörjningskällor visas inte med skydd för små tal: de flesta flöden är små.",
            icon=":material/lock:")
else:
    flow = run(income_flow, f)
    if flow.empty:
        empty("Inga avslut med försörjning angiven både vid start och vid avslut.")
    else:
        chart(sankey(flow, "Från försörjning vid start till försörjning vid avslut"),
              rename_sex(flow.rename(columns={"income_at_start": "Försörjning vid start",
                                              "income_at_exit": "Försörjning vid avslut"})),
              key="avslut_forsorjning", formats=SEX_FORMATS,
              caption="Endast avslutade med samtycke och med försörjning angiven både vid start och vid avslut.")
