"""Översikt: how many did the initiatives reach, and how did it go, compared with last period?"""
import streamlit as st

from metrics.cost import cost_per_initiative, cost_summary
from metrics.people import by_initiative, exits_by_reason, headline, positive_codes, targets_summary
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

COUNT_ROWS = ["participants", "started", "no_consent"]
_, shown = privacy.protect(now.loc[COUNT_ROWS].reset_index(), add_total=False)
shown = shown.set_index("measure")
# exits: the same protected reasons table as on Jämställdhet and Avslut, so no page undoes another
_, reasons = privacy.protect(run(exits_by_reason, f), ["reason", "label"])
exits = reasons.iloc[-1]
pos, wide = run(positive_codes)
shares = privacy.exit_shares(now, reasons, {"positive_share": pos, "positive_wide_share": wide})
filtered = bool(f.sexes or f.agencies)  # targets and cost are for whole initiatives


def counts_line(row) -> str:
    return sex_line(row, privacy.fmt_count)


def share_line(measure: str) -> str:
    return sex_line(shares[measure], fmt_pct)


def vs_prev_count(measure: str) -> str | None:
    if privacy.enabled():  # a difference of two protected figures could reveal a small one
        return None
    return f"{fmt_delta_int(now.loc[measure, 'total'] - before.loc[measure, 'total'])} {against}"


def vs(value, other, label: str) -> str | None:
    return None if value is None or other is None else f"{fmt_pp(value - other)} {label}"


against = f"mot {period_label(prev)}" if f.is_calendar_year else "mot föregående period"

cols = st.columns(4)
with cols[0]:
    line = counts_line(shown.loc["participants"])
    if goal["participants"] is not None and not filtered and not privacy.is_hidden(shown.loc["participants", "total"]):
        line += f"  \nMål {fmt_int(goal['participants'])} per år " \
                f"({fmt_delta_int(goal['participants_gap'])})"
    kpi("Deltagare", privacy.fmt_count(shown.loc["participants", "total"]), line, vs_prev_count("participants"),
        delta_color="off",
        help="Inskrivna någon gång under perioden (start före periodens slut och inget avslut före dess början)."
             + (f" Mål enligt insatsregistret: {fmt_int(goal['participants'])} per år." if goal["participants"] else ""))
with cols[1]:
    kpi("Nya (startade)", privacy.fmt_count(shown.loc["started", "total"]), counts_line(shown.loc["started"]),
        vs_prev_count("started"),
        delta_color="off")
with cols[2]:
    kpi("Avslutade", privacy.fmt_count(exits["total"]), counts_line(exits), vs_prev_count("exited"),
        delta_color="off")
with cols[3]:
    ws = privacy.visible_shares([now.loc["women_share", "total"]], [now.loc["participants", "total"]],
                                [now.loc["participants", "women"]],
                                [privacy.is_hidden(shown.loc["participants", "women"])])[0]
    d = (None if filtered else vs(ws, goal["women_share"], "mot målet")) or vs(ws, before.loc["women_share", "total"], against)
    kpi("Andel kvinnor", fmt_pct(ws), None, d, delta_color="off", help="Kvinnor bland periodens deltagare.")

cols = st.columns(4)
with cols[0]:
    p = shares["positive_share"]["total"]
    kpi("Till arbete/studier (orsak 1)", fmt_pct(p), share_line("positive_share"),
        (None if filtered else vs(p, goal["positive_share"], "mot målet")) or vs(p, before.loc["positive_share", "total"], against),
        help="Andel av periodens avslutade med avslutsorsak 1 (arbete, studier eller aktivt arbetssökande). "
             "Avslut utan samtycke eller utan orsak räknas i nämnaren.")
with cols[1]:
    p = shares["positive_wide_share"]["total"]
    kpi("Orsak 1 eller 2 (fortsatt rehab.)", fmt_pct(p), share_line("positive_wide_share"),
        vs(p, before.loc["positive_wide_share", "total"], against),
        help="Avslutsorsak 1 eller 2 (fortsatt rehabilitering) av alla avslutade.")
with cols[2]:
    d = None
    if cost_now["per_participant"] is not None and cost_before["per_participant"] is not None:
        d = f"{fmt_kr(cost_now['per_participant'] - cost_before['per_participant'], signed=True)} {against}"
    note = "Kostnad (utfall, annars budget) ÷ deltagare, för insatser och år med kostnadsuppgift."
    if filtered:
        note += " Kostnaden kan inte delas upp på kön eller remittent: filtren påverkar inte den här siffran."
    if cost_now["budget_only"]:
        note += " Endast budget finns för: " + ", ".join(cost_now["budget_only"]) + "."
    kpi("Kostnad per deltagare", fmt_kr(cost_now["per_participant"]), None, d, delta_color="inverse", help=note)
with cols[3]:
    kpi("Utan samtycke", privacy.fmt_count(shown.loc["no_consent", "total"]), counts_line(shown.loc["no_consent"]),
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

# a share is hidden where the Avslut page hides a count behind it (same protected table)
_, per_reason = privacy.protect(run(exits_by_reason, f, ("initiative",)), ["initiative", "reason", "label"])


def reason_hidden(codes: set[str]) -> list[bool]:
    rows = per_reason[per_reason.reason.isin(codes)]
    return [any(privacy.is_hidden(x) for x in rows[rows.initiative == name].total) for name in ini.initiative]


women_hidden = [privacy.is_hidden(x) for x in display.participants_women[: len(ini)]]
per_row = {  # per initiative, then the total row (the key figures above)
    "target_participants": [*ini.target_participants, None if filtered else goal["participants"]],
    "positive_share_total": [*privacy.visible_shares(ini.positive_share_total, ini.exited_total,
                                                     ini.exited_positive_total, reason_hidden(pos)),
                             shares["positive_share"]["total"]],
    "target_positive_share": [*ini.target_positive_share, None if filtered else goal["positive_share"]],
    "positive_wide_share_total": [*privacy.visible_shares(ini.positive_wide_share_total, ini.exited_total,
                                                          ini.exited_positive_wide_total, reason_hidden(wide)),
                                  shares["positive_wide_share"]["total"]],
    "women_share": [*privacy.visible_shares(ini.women_share, ini.participants_total, ini.participants_women,
                                            women_hidden), ws],
    "target_women_share": [*ini.target_women_share, None if filtered else goal["women_share"]],
    "per_participant": [*ini.per_participant, cost_now["per_participant"]],
    "basis": [*ini.basis, None],
}
table_df = display.assign(started_total=started.started_total, exited_total=exited.exited_total,
                          **per_row).rename(columns={
    "initiative": "Insats", "participants_women": "Deltagare kvinnor", "participants_men": "Deltagare män",
    "participants_other": "Deltagare annat/okänt", "participants_total": "Deltagare totalt",
    "target_participants": "Mål deltagare/år", "started_total": "Nya", "exited_total": "Avslutade",
    "positive_share_total": "Orsak 1 (arbete/studier)", "target_positive_share": "Mål orsak 1",
    "positive_wide_share_total": "Orsak 1 eller 2", "women_share": "Andel kvinnor",
    "target_women_share": "Mål andel kvinnor", "per_participant": "Kostnad per deltagare", "basis": "Kostnad enligt"})
FORMATS = {"Deltagare kvinnor": "int", "Deltagare män": "int", "Deltagare annat/okänt": "int",
           "Deltagare totalt": "int", "Mål deltagare/år": "int", "Nya": "int", "Avslutade": "int",
           "Orsak 1 (arbete/studier)": "pct", "Mål orsak 1": "pct", "Orsak 1 eller 2": "pct",
           "Andel kvinnor": "pct", "Mål andel kvinnor": "pct", "Kostnad per deltagare": "kr"}
st.markdown("**Deltagare och kön**")
table(table_df[["Insats", "Deltagare kvinnor", "Deltagare män", "Deltagare annat/okänt", "Deltagare totalt",
                "Mål deltagare/år", "Andel kvinnor", "Mål andel kvinnor"]], FORMATS, key="oversikt_deltagare")
st.markdown("**Resultat och kostnad**")
table(table_df[["Insats", "Nya", "Avslutade", "Orsak 1 (arbete/studier)", "Mål orsak 1", "Orsak 1 eller 2",
                "Kostnad per deltagare", "Kostnad enligt"]], FORMATS, key="oversikt_resultat")
