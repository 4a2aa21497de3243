"""Översikt: how many did the initiatives reach, and how did it go, compared with last period?"""
import plotly.graph_objects as go
import streamlit as st

from metrics.cost import cost_per_initiative, cost_summary
from metrics.people import by_initiative, headline
from ui.data import run
from ui.filters import period_label
from ui.format import SEX_LABELS, fmt_delta_int, fmt_int, fmt_kr, fmt_pct, fmt_pp
from ui.layout import chart, empty, filters_or_stop, kpi, page_header, table
from ui.theme import SEX_COLORS

f = filters_or_stop()
prev = f.previous()
page_header("Översikt", f"Deltagare, resultat och kostnad – jämfört med {period_label(prev)}.", f)

now, before = run(headline, f), run(headline, prev)
cost_now, cost_before = run(cost_summary, f), run(cost_summary, prev)

if now.loc["participants", "total"] == 0:
    empty()
    st.stop()


def by_sex(measure: str, fmt) -> str:
    return " · ".join(f"{SEX_LABELS[s]} {fmt(now.loc[measure, s])}" for s in ("women", "men", "other"))


def delta_count(measure: str) -> str:
    return f"{fmt_delta_int(now.loc[measure, 'total'] - before.loc[measure, 'total'])} mot {period_label(prev)}"


def delta_share(measure: str) -> str | None:
    a, b = now.loc[measure, "total"], before.loc[measure, "total"]
    return None if a is None or b is None else f"{fmt_pp(a - b)} mot {period_label(prev)}"


cols = st.columns(4)
with cols[0]:
    kpi("Deltagare", fmt_int(now.loc["participants", "total"]), by_sex("participants", fmt_int),
        delta_count("participants"), delta_color="off",
        help="Inskrivna någon gång under perioden (start före periodens slut och inget avslut före dess början).")
with cols[1]:
    kpi("Nya (startade)", fmt_int(now.loc["started", "total"]), by_sex("started", fmt_int),
        delta_count("started"), delta_color="off")
with cols[2]:
    kpi("Avslutade", fmt_int(now.loc["exited", "total"]), by_sex("exited", fmt_int),
        delta_count("exited"), delta_color="off")
with cols[3]:
    kpi("Andel kvinnor", fmt_pct(now.loc["women_share", "total"]), None, delta_share("women_share"),
        delta_color="off", help="Kvinnor bland periodens deltagare.")

cols = st.columns(4)
with cols[0]:
    kpi("Till arbete/studier", fmt_pct(now.loc["positive_share", "total"]), by_sex("positive_share", fmt_pct),
        delta_share("positive_share"),
        help="Andel av periodens avslutade med avslutsorsak 1 (arbete, studier eller aktivt arbetssökande). "
             "Avslut utan samtycke eller utan orsak räknas i nämnaren.")
with cols[1]:
    kpi("Till arbete/studier eller rehab.", fmt_pct(now.loc["positive_wide_share", "total"]),
        by_sex("positive_wide_share", fmt_pct), delta_share("positive_wide_share"),
        help="Avslutsorsak 1 eller 2 (fortsatt rehabilitering) av alla avslutade.")
with cols[2]:
    d = None
    if cost_now["per_participant"] is not None and cost_before["per_participant"] is not None:
        d = f"{fmt_kr(cost_now['per_participant'] - cost_before['per_participant'], signed=True)} mot {period_label(prev)}"
    note = "Kostnad (utfall, annars budget) ÷ deltagare, för insatser och år med kostnadsuppgift."
    if cost_now["budget_only"]:
        note += " Endast budget finns för: " + ", ".join(cost_now["budget_only"]) + "."
    kpi("Kostnad per deltagare", fmt_kr(cost_now["per_participant"]), None, d, delta_color="inverse", help=note)
with cols[3]:
    kpi("Utan samtycke", fmt_int(now.loc["no_consent", "total"]), by_sex("no_consent", fmt_int),
        help="Deltagare utan samtycke (inklusive anonymt registrerade): räknas bara efter kön, ålder och datum.")

st.subheader("Per insats")
ini = run(by_initiative, f)
ini = ini[ini.participants_total > 0]
if ini.empty:
    empty()
    st.stop()
costs = run(cost_per_initiative, f).set_index("initiative")
ini = ini.join(costs, on="initiative")

fig = go.Figure()
for s in ("women", "men", "other"):
    fig.add_bar(y=ini.initiative, x=ini[f"participants_{s}"], name=SEX_LABELS[s], orientation="h",
                marker_color=SEX_COLORS[s])
for _, r in ini.iterrows():
    if r.target_participants == r.target_participants and r.target_participants is not None and f.is_calendar_year:
        fig.add_scatter(x=[r.target_participants], y=[r.initiative], mode="markers", showlegend=False,
                        marker=dict(symbol="line-ns", size=26, line=dict(width=3, color="#222")),
                        hovertemplate=f"Mål: {fmt_int(r.target_participants)} deltagare<extra></extra>")
fig.update_layout(barmode="stack", title="Deltagare per insats och kön (streck = planerat antal per år)",
                  yaxis=dict(autorange="reversed"), xaxis_title="Deltagare")

table_df = ini[["initiative", "participants_women", "participants_men", "participants_other", "participants_total",
                "target_participants", "started_total", "exited_total", "positive_share_total",
                "target_positive_share", "positive_wide_share_total", "women_share", "target_women_share",
                "per_participant", "basis"]].rename(columns={
    "initiative": "Insats", "participants_women": "Deltagare kvinnor", "participants_men": "Deltagare män",
    "participants_other": "Deltagare annat/okänt", "participants_total": "Deltagare totalt",
    "target_participants": "Mål deltagare/år", "started_total": "Nya", "exited_total": "Avslutade",
    "positive_share_total": "Till arbete/studier", "target_positive_share": "Mål arbete/studier",
    "positive_wide_share_total": "Arbete/studier/rehab.", "women_share": "Andel kvinnor",
    "target_women_share": "Mål andel kvinnor", "per_participant": "Kostnad per deltagare", "basis": "Kostnad enligt"})
chart(fig, None, key="oversikt_insatser", caption="Siffrorna finns i tabellen nedan.")
table(table_df, {"Deltagare kvinnor": "int", "Deltagare män": "int", "Deltagare annat/okänt": "int",
                 "Deltagare totalt": "int", "Mål deltagare/år": "int", "Nya": "int", "Avslutade": "int",
                 "Till arbete/studier": "pct", "Mål arbete/studier": "pct", "Arbete/studier/rehab.": "pct",
                 "Andel kvinnor": "pct", "Mål andel kvinnor": "pct", "Kostnad per deltagare": "kr"},
      key="oversikt_per_insats")
