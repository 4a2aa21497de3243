"""Avslut och resultat: why do participants leave, how long do they stay, where do they go?"""
import plotly.graph_objects as go
import streamlit as st

from metrics.facts import UNKNOWN_REASON
from metrics.people import durations, exits_by_reason, income_flow, positive_share_over_time, time_in_initiative
from ui.data import run
from ui.format import SEX_LABELS
from ui.layout import SEX_FORMATS, chart, empty, filters_or_stop, page_header, rename_sex, table
from ui.theme import SEX_COLORS, exit_reason_color

f = filters_or_stop()
page_header("Avslut och resultat", "Avslutade deltagare per avslutsorsak, tid i insatsen och försörjning före och efter.", f)

reasons = run(exits_by_reason, f, ("initiative",))
if reasons.total.sum() == 0:
    empty("Inga avslut under perioden med det här urvalet.")
    st.stop()

fig = go.Figure()
for code in reasons.reason.drop_duplicates():
    d = reasons[reasons.reason == code]
    fig.add_bar(y=d.initiative, x=d.total, name=d.label.iloc[0], orientation="h", marker_color=exit_reason_color(code))
fig.update_layout(barmode="stack", title="Avslutade per insats och avslutsorsak", yaxis=dict(autorange="reversed"),
                  xaxis_title="Avslutade")
chart(fig, rename_sex(reasons.drop(columns="reason").rename(columns={"initiative": "Insats", "label": "Avslutsorsak"})),
      key="avslut_orsak", formats=SEX_FORMATS,
      caption="”Okänd orsak” är avslut utan samtycke eller utan angiven orsak; de räknas med och visas för sig.")

st.subheader("Andel till arbete eller studier över tid")
grain = st.radio("Tidsindelning", ["Kvartal", "Månad", "År"], horizontal=True, key="avslut_grain")
dim = {"Kvartal": "quarter", "Månad": "month", "År": "year"}[grain]
ts = run(positive_share_over_time, f, dim)
fig = go.Figure()
for s in ("women", "men", "other", "total"):
    if ts[f"exited_{s}"].sum():
        fig.add_scatter(x=ts[dim].astype(str), y=ts[f"share_{s}"], name=SEX_LABELS[s], mode="lines+markers",
                        line=dict(color=SEX_COLORS.get(s, "#222"), width=4 if s == "total" else 2.5,
                                  dash="solid" if s == "total" else "dot" if s == "other" else "solid"))
fig.update_layout(title="Andel av avslutade till arbete, studier eller aktivt arbetssökande (orsak 1)",
                  yaxis=dict(tickformat=".0%", rangemode="tozero"), xaxis=dict(type="category"))
ts_table = ts.rename(columns={dim: grain} | {f"exited_{s}": f"Avslutade {SEX_LABELS[s].lower()}" for s in SEX_LABELS}
                     | {f"positive_{s}": f"Till arbete/studier {SEX_LABELS[s].lower()}" for s in SEX_LABELS}
                     | {f"share_{s}": f"Andel {SEX_LABELS[s].lower()}" for s in SEX_LABELS})
chart(fig, ts_table, key="avslut_tid",
      formats={c: ("pct" if c.startswith("Andel") else "int") for c in ts_table.columns if c != grain})

st.subheader("Tid i insatsen")
dur = run(durations, f)
labels = dict(zip(reasons.reason, reasons.label))
fig = go.Figure()
for code in [c for c in labels if c in set(dur.reason)]:
    d = dur[dur.reason == code]
    fig.add_box(y=d.months, name=labels[code], marker_color=exit_reason_color(code), boxpoints=False)
fig.update_layout(title="Månader från start till avslut, per avslutsorsak", yaxis_title="Månader", showlegend=False)
tin = run(time_in_initiative, f)
chart(fig, tin.assign(sex=tin.sex.map(SEX_LABELS))[["label", "sex", "n", "median_months", "q1_months", "q3_months"]]
      .rename(columns={"label": "Avslutsorsak", "sex": "Kön", "n": "Antal", "median_months": "Median (mån)",
                       "q1_months": "Kvartil 1 (mån)", "q3_months": "Kvartil 3 (mån)"}),
      key="avslut_tid_i_insats",
      formats={"Antal": "int", "Median (mån)": "months", "Kvartil 1 (mån)": "months", "Kvartil 3 (mån)": "months"},
      caption="Lådan visar mittersta hälften av deltagarna, strecket medianen. Tabellen delar upp på kön.")

st.subheader("Försörjning före och efter")
flow = run(income_flow, f)
if flow.empty:
    empty("Inga avslut med försörjning angiven både vid start och vid avslut.")
else:
    starts = [f"Före: {x}" for x in flow.income_at_start.drop_duplicates()]
    ends = [f"Efter: {x}" for x in flow.income_at_exit.drop_duplicates()]
    nodes = starts + ends
    idx = {n: i for i, n in enumerate(nodes)}
    fig = go.Figure(go.Sankey(
        node=dict(label=nodes, pad=14, thickness=18, color="#5B6770"),
        link=dict(source=[idx[f"Före: {x}"] for x in flow.income_at_start],
                  target=[idx[f"Efter: {x}"] for x in flow.income_at_exit],
                  value=flow.total, color="rgba(0,114,178,0.25)"),
        valueformat=",d"))
    fig.update_layout(title="Från försörjning vid start till försörjning vid avslut")
    chart(fig, rename_sex(flow.rename(columns={"income_at_start": "Försörjning vid start",
                                               "income_at_exit": "Försörjning vid avslut"})),
          key="avslut_forsorjning", formats=SEX_FORMATS,
          caption="Endast avslutade med samtycke och med försörjning angiven både vid start och vid avslut.")

unknown = reasons[reasons.reason == UNKNOWN_REASON][["women", "men", "other", "total"]].sum()
if unknown.total:
    st.caption(f"{int(unknown.total)} avslut har okänd orsak (kvinnor {int(unknown.women)}, män {int(unknown.men)}, "
               f"annat/okänt {int(unknown.other)}).")
