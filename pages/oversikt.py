"""Översikt: how many did the initiatives reach, and how did it go, compared with last period?"""
import streamlit as st

from metrics.compare import key_figures
from metrics.cost import cost_per_initiative, cost_summary
from metrics.definitions import describe
from metrics.people import by_initiative, exits_by_reason, headline, positive_codes
from render.charts import sex_bars
from render.format import fmt_delta_int, fmt_int, fmt_kr, fmt_pct, fmt_pp
from render.text import period_label
from ui import protection
from ui.data import run
from ui.layout import chart, empty, filters_or_stop, kpi, page_header, sex_line, table

f = filters_or_stop()
prev = f.previous()
page_header("Översikt", f"Deltagare, resultat och kostnad – jämfört med {period_label(prev)}.", f)

now = run(headline, f)
if now.loc["participants", "total"] == 0:
    empty()
    st.stop()
cost_now = run(cost_summary, f)
key = run(key_figures, f)  # now, the previous period and the targets, per key figure

COUNT_ROWS = ["participants", "started", "no_consent"]
_, shown = protection.protect(now.loc[COUNT_ROWS].reset_index(), add_total=False)
shown = shown.set_index("measure")
# exits: the same protected reasons table as on Jämställdhet and Avslut, so no page undoes another
_, reasons = protection.protect(run(exits_by_reason, f), ["reason", "label"])
exits = reasons.iloc[-1]
pos, wide = run(positive_codes)
shares = protection.exit_shares(now, reasons, {"positive_share": pos, "positive_wide_share": wide})
filtered = bool(f.sexes or f.agencies)  # targets and cost are for whole initiatives


def counts_line(row) -> str:
    return sex_line(row, protection.fmt_count)


def share_line(measure: str) -> str:
    return sex_line(shares[measure], fmt_pct)


def vs_prev_count(measure: str) -> str | None:
    if protection.enabled():  # a difference of two protected figures could reveal a small one
        return None
    return f"{fmt_delta_int(key.loc[measure, 'change'])} {against}"


def vs_prev_share(measure: str, shown) -> str | None:
    """The change in percentage points, where the share itself may be shown."""
    change = key.loc[measure, "change"]
    return None if shown is None or change is None else f"{fmt_pp(change)} {against}"


def vs_target(measure: str, shown) -> str | None:
    gap = key.loc[measure, "gap"]
    return None if shown is None or gap is None else f"{fmt_pp(gap)} mot målet"


against = f"mot {period_label(prev)}" if f.is_calendar_year else "mot föregående period"

cols = st.columns(4)
with cols[0]:
    line = counts_line(shown.loc["participants"])
    target = key.loc["participants", "target"]
    if target is not None and not protection.is_hidden(shown.loc["participants", "total"]):
        line += f"  \nMål {fmt_int(target)} per år ({fmt_delta_int(key.loc['participants', 'gap'])})"
    kpi("Deltagare", protection.fmt_count(shown.loc["participants", "total"]), line, vs_prev_count("participants"),
        delta_color="off",
        help=describe("participants") + (f" Mål enligt insatsregistret: {fmt_int(target)} per år." if target else ""))
with cols[1]:
    kpi("Nya (startade)", protection.fmt_count(shown.loc["started", "total"]), counts_line(shown.loc["started"]),
        vs_prev_count("started"), delta_color="off", help=describe("started"))
with cols[2]:
    kpi("Avslutade", protection.fmt_count(exits["total"]), counts_line(exits), vs_prev_count("exited"),
        delta_color="off", help=describe("exited"))
with cols[3]:
    ws = protection.visible_shares([now.loc["women_share", "total"]], [now.loc["participants", "total"]],
                                [now.loc["participants", "women"]],
                                [protection.is_hidden(shown.loc["participants", "women"])])[0]
    kpi("Andel kvinnor", fmt_pct(ws), None, vs_target("women_share", ws) or vs_prev_share("women_share", ws),
        delta_color="off", help=describe("women_share"))

cols = st.columns(4)
with cols[0]:
    p = shares["positive_share"]["total"]
    kpi("Till arbete/studier (orsak 1)", fmt_pct(p), share_line("positive_share"),
        vs_target("positive_share", p) or vs_prev_share("positive_share", p), help=describe("positive_share"))
with cols[1]:
    p = shares["positive_wide_share"]["total"]
    kpi("Orsak 1 eller 2 (fortsatt rehab.)", fmt_pct(p), share_line("positive_wide_share"),
        vs_prev_share("positive_wide_share", p), help=describe("positive_wide_share"))
with cols[2]:
    change = key.loc["cost_per_participant", "change"]
    d = None if change is None else f"{fmt_kr(change, signed=True)} {against}"
    note = describe("cost_per_participant")
    if filtered:
        note += " Kostnaden kan inte delas upp på kön eller remittent: filtren påverkar inte den här siffran."
    if cost_now["budget_only"]:
        note += " Endast budget finns för: " + ", ".join(cost_now["budget_only"]) + "."
    kpi("Kostnad per deltagare", fmt_kr(cost_now["per_participant"]), None, d, delta_color="inverse", help=note)
with cols[3]:
    kpi("Utan samtycke", protection.fmt_count(shown.loc["no_consent", "total"]), counts_line(shown.loc["no_consent"]),
        help=describe("no_consent"))

st.subheader("Per insats")
ini = run(by_initiative, f)
ini = ini[ini.participants_total > 0].reset_index(drop=True)
if ini.empty:
    empty()
    st.stop()
ini = ini.join(run(cost_per_initiative, f).set_index("initiative"), on="initiative")
values, display = protection.protect_prefixed(ini, "participants", "initiative")
_, started = protection.protect(ini[["initiative", "started_total"]], "initiative", parts=["started_total"], total=None)
_, exited = protection.protect(ini[["initiative", "exited_total"]], "initiative", parts=["exited_total"], total=None)

fig = sex_bars(values.rename(columns=lambda c: c.replace("participants_", "")), "initiative",
               "Deltagare per insats och kön" + (" (streck = planerat antal per år)" if f.is_calendar_year else ""),
               targets=ini.target_participants if f.is_calendar_year else None, axis_title="Deltagare")
chart(fig, None, key="oversikt_insatser", caption="Siffrorna finns i tabellen nedan.")

# a share is hidden where the Avslut page hides a count behind it (same protected table)
_, per_reason = protection.protect(run(exits_by_reason, f, ("initiative",)), ["initiative", "reason", "label"])


def reason_hidden(codes: set[str]) -> list[bool]:
    rows = per_reason[per_reason.reason.isin(codes)]
    return [any(protection.is_hidden(x) for x in rows[rows.initiative == name].total) for name in ini.initiative]


women_hidden = [protection.is_hidden(x) for x in display.participants_women[: len(ini)]]
per_row = {  # per initiative, then the total row (the key figures above)
    "target_participants": [*ini.target_participants, key.loc["participants", "target"]],
    "positive_share_total": [*protection.visible_shares(ini.positive_share_total, ini.exited_total,
                                                     ini.exited_positive_total, reason_hidden(pos)),
                             shares["positive_share"]["total"]],
    "target_positive_share": [*ini.target_positive_share, key.loc["positive_share", "target"]],
    "positive_wide_share_total": [*protection.visible_shares(ini.positive_wide_share_total, ini.exited_total,
                                                          ini.exited_positive_wide_total, reason_hidden(wide)),
                                  shares["positive_wide_share"]["total"]],
    "women_share": [*protection.visible_shares(ini.women_share, ini.participants_total, ini.participants_women,
                                            women_hidden), ws],
    "target_women_share": [*ini.target_women_share, key.loc["women_share", "target"]],
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
