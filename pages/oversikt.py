"""Översikt: how many did the initiatives reach, and how did it go, compared with last period?"""
import streamlit as st

from metrics.cost import cost_per_initiative, cost_summary
from metrics.people import by_initiative, headline, targets_summary
from ui import privacy
from ui.charts import sex_bars
from ui.data import run
from ui.format import fmt_delta_int, fmt_int, fmt_kr, fmt_pct, fmt_pp
from ui.layout import chart, empty, filters_or_stop, kpi, page_header, sex_line, table
from ui.text import period_label

f = filters_or_stop()
prev = f.previous()
page_header("Översikt", f"Deltagare, resultat och kostnad – jämfört med {period_label(prev)}.", f)

now, before = run(headline, f), run(headline, prev)
if now.loc["participants", "total"] == 0:
    empty()
    st.stop()
cost_now, cost_before = run(cost_summary, f), run(cost_summary, prev)
goal = run(targets_summary, f)

COUNT_ROWS = ["participants", "started", "exited", "no_consent", "exited_positive", "exited_positive_wide"]
_, shown = privacy.protect(now.loc[COUNT_ROWS].reset_index(), add_total=False)
shown = shown.set_index("measure")
SHARES = {"positive_share": ("exited", "exited_positive"), "positive_wide_share": ("exited", "exited_positive_wide")}


def counts_line(measure: str) -> str:
    return sex_line(shown.loc[measure], fmt_int)


def share(measure: str, sex: str = "total"):
    den, num = SHARES[measure]
    return privacy.visible_shares([now.loc[measure, sex]], [now.loc[den, sex]], [now.loc[num, sex]])[0]


def share_line(measure: str) -> str:
    return sex_line({s: share(measure, s) for s in ("women", "men", "other")}, fmt_pct)


def vs_prev_count(measure: str) -> str | None:
    if privacy.enabled():  # a difference of two protected figures could reveal a small one
        return None
    return f"{fmt_delta_int(now.loc[measure, 'total'] - before.loc[measure, 'total'])} mot {period_label(prev)}"


def vs(value, other, label: str) -> str | None:
    return None if value is None or other is None else f"{fmt_pp(value - other)} {label}"


cols = st.columns(4)
with cols[0]:
    line = counts_line("participants")
    if goal["participants"] is not None and not isinstance(shown.loc["participants", "total"], str):
        line += f"  \nMål {fmt_int(goal['participants'])} per år " \
                f"({fmt_delta_int(goal['participants_gap'])})"
    kpi("Deltagare", fmt_int(shown.loc["participants", "total"]), line, vs_prev_count("participants"),
        delta_color="off",
        help="Inskrivna någon gång under perioden (start före periodens slut och inget avslut före dess början)."
             + (f" Mål enligt insatsregistret: {fmt_int(goal['participants'])} per år." if goal["participants"] else ""))
with cols[1]:
    kpi("Nya (startade)", fmt_int(shown.loc["started", "total"]), counts_line("started"), vs_prev_count("started"),
        delta_color="off")
with cols[2]:
    kpi("Avslutade", fmt_int(shown.loc["exited", "total"]), counts_line("exited"), vs_prev_count("exited"),
        delta_color="off")
with cols[3]:
    ws = privacy.visible_shares([now.loc["women_share", "total"]], [now.loc["participants", "total"]],
                                [now.loc["participants", "women"]])[0]
    d = vs(ws, goal["women_share"], "mot målet") or vs(ws, before.loc["women_share", "total"], f"mot {period_label(prev)}")
    kpi("Andel kvinnor", fmt_pct(ws), None, d, delta_color="off", help="Kvinnor bland periodens deltagare.")

cols = st.columns(4)
with cols[0]:
    p = share("positive_share")
    kpi("Till arbete/studier", fmt_pct(p), share_line("positive_share"),
        vs(p, goal["positive_share"], "mot målet") or vs(p, before.loc["positive_share", "total"], f"mot {period_label(prev)}"),
        help="Andel av periodens avslutade med avslutsorsak 1 (arbete, studier eller aktivt arbetssökande). "
             "Avslut utan samtycke eller utan orsak räknas i nämnaren.")
with cols[1]:
    p = share("positive_wide_share")
    kpi("Till arbete/studier eller rehab.", fmt_pct(p), share_line("positive_wide_share"),
        vs(p, before.loc["positive_wide_share", "total"], f"mot {period_label(prev)}"),
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
    kpi("Utan samtycke", fmt_int(shown.loc["no_consent", "total"]), counts_line("no_consent"),
        help="Deltagare utan samtycke (inklusive anonymt registrerade): räknas bara efter kön, ålder och datum.")

st.subheader("Per insats")
ini = run(by_initiative, f)
ini = ini[ini.participants_total > 0].reset_index(drop=True)
if ini.empty:
    empty()
    st.stop()
ini = ini.join(run(cost_per_initiative, f).set_index("initiative"), on="initiative")
values, display = privacy.protect_prefixed(ini, "participants", "initiative")
_, started = privacy.protect(ini[["initiative", "started_total"]], "initiative", parts=["started_total"], total=None)
_, exited = privacy.protect(ini[["initiative", "exited_total"]], "initiative", parts=["exited_total"], total=None)

fig = sex_bars(values.rename(columns=lambda c: c.replace("participants_", "")), "initiative",
               "Deltagare per insats och kön" + (" (streck = planerat antal per år)" if f.is_calendar_year else ""),
               targets=ini.target_participants if f.is_calendar_year else None, axis_title="Deltagare")
chart(fig, None, key="oversikt_insatser", caption="Siffrorna finns i tabellen nedan.")

per_row = {  # the total row of `display` gets no shares or targets: the key figures above give them
    "started_total": started.started_total,
    "exited_total": exited.exited_total,
    "target_participants": ini.target_participants,
    "positive_share_total": privacy.visible_shares(ini.positive_share_total, ini.exited_total, ini.exited_positive_total),
    "target_positive_share": ini.target_positive_share,
    "positive_wide_share_total": privacy.visible_shares(ini.positive_wide_share_total, ini.exited_total,
                                                        ini.exited_positive_wide_total),
    "women_share": privacy.visible_shares(ini.women_share, ini.participants_total, ini.participants_women),
    "target_women_share": ini.target_women_share,
    "per_participant": ini.per_participant,
    "basis": ini.basis,
}
table_df = display.assign(**{k: (list(v) + [None])[: len(display)] if k not in ("started_total", "exited_total") else v
                             for k, v in per_row.items()}).rename(columns={
    "initiative": "Insats", "participants_women": "Deltagare kvinnor", "participants_men": "Deltagare män",
    "participants_other": "Deltagare annat/okänt", "participants_total": "Deltagare totalt",
    "target_participants": "Mål deltagare/år", "started_total": "Nya", "exited_total": "Avslutade",
    "positive_share_total": "Till arbete/studier", "target_positive_share": "Mål arbete/studier",
    "positive_wide_share_total": "Arbete/studier/rehab.", "women_share": "Andel kvinnor",
    "target_women_share": "Mål andel kvinnor", "per_participant": "Kostnad per deltagare", "basis": "Kostnad enligt"})
table(table_df, {"Deltagare kvinnor": "int", "Deltagare män": "int", "Deltagare annat/okänt": "int",
                 "Deltagare totalt": "int", "Mål deltagare/år": "int", "Nya": "int", "Avslutade": "int",
                 "Till arbete/studier": "pct", "Mål arbete/studier": "pct", "Arbete/studier/rehab.": "pct",
                 "Andel kvinnor": "pct", "Mål andel kvinnor": "pct", "Kostnad per deltagare": "kr"},
      key="oversikt_per_insats")
