"""The slides of presentation mode: one topic per screen, small counts always protected."""
import streamlit as st

from metrics.cost import BUDGET, cost_by_initiative_year, cost_summary
from metrics.people import (by_initiative, exits_by_reason, headline, positive_codes, inflow_by_agency, reason_shares, targets_summary,
                            women_share_vs_target)
from . import privacy
from .charts import agency_by_sex, money_bars, reason_share_by_sex, sex_bars, share_vs_target
from .data import run
from .format import fmt_kr, fmt_pct
from .layout import chart, empty, filters_or_stop, sex_line
from .present import TOPICS, current_slide, navigation
from .text import describe
from .theme import ACTUAL_COLOR


def render() -> None:
    f = filters_or_stop()
    i = current_slide()
    st.title(TOPICS[i][1])
    st.caption(f"Urval: {describe(f)}  \n{privacy.note()}")

    h = run(headline, f)
    _, shown = privacy.protect(h.loc[["participants", "started"]].reset_index(), add_total=False)
    shown = shown.set_index("measure")
    _, reasons = privacy.protect(run(exits_by_reason, f), ["reason", "label"])  # as on the pages
    shown.loc["exited"] = reasons.iloc[-1]
    pos, _wide = run(positive_codes)
    shares = privacy.exit_shares(h, reasons, {"positive_share": pos})["positive_share"]

    def positive(sex: str):
        return shares[sex]

    if h.loc["participants", "total"] == 0:
        empty()
    elif i == 0:
        cols = st.columns(4)
        for col, (m, label) in zip(cols, [("participants", "Deltagare"), ("started", "Nya"), ("exited", "Avslutade")]):
            col.metric(label, privacy.fmt_count(shown.loc[m, "total"]))
            col.caption(sex_line(shown.loc[m], privacy.fmt_count))
        cols[3].metric("Till arbete/studier (orsak 1)", fmt_pct(positive("total")))
        cols[3].caption(sex_line({s: positive(s) for s in ("women", "men", "other")}, fmt_pct))
        ini = run(by_initiative, f)
        ini = ini[ini.participants_total > 0]
        values, _ = privacy.protect_prefixed(ini, "participants", "initiative")
        chart(sex_bars(values.rename(columns=lambda c: c.replace("participants_", "")), "initiative",
                       "Deltagare per insats och kön" + (" (streck = mål per år)" if f.is_calendar_year else ""),
                       targets=ini.target_participants.reset_index(drop=True) if f.is_calendar_year else None),
              None, key="present_overview")
    elif i == 1:
        totals = run(inflow_by_agency, f)
        values, _ = privacy.protect(totals[totals.agency != "Totalt"], "agency")
        st.metric("Nya deltagare", privacy.fmt_count(shown.loc["started", "total"]))
        st.caption(sex_line(shown.loc["started"], privacy.fmt_count))
        chart(agency_by_sex(values, "Nya deltagare per remittent och kön"), None, key="present_inflow")
    elif i == 2:
        t = privacy.women_vs_target(run(women_share_vs_target, f))
        ws = privacy.visible_shares([h.loc["women_share", "total"]], [h.loc["participants", "total"]],
                                    [h.loc["participants", "women"]],
                                    [privacy.is_hidden(shown.loc["participants", "women"])])[0]
        goal = run(targets_summary, f)["women_share"]
        st.metric("Andel kvinnor", fmt_pct(ws), delta=None if goal is None else f"mål {fmt_pct(goal, 0)}", delta_color="off")
        chart(share_vs_target(t, "initiative", "women_share", "target", "Andel kvinnor per insats, med mål",
                              flag="large_gap"), None, key="present_gender")
    elif i == 3:
        cols = st.columns(2)
        cols[0].metric("Avslutade", privacy.fmt_count(shown.loc["exited", "total"]))
        cols[0].caption(sex_line(shown.loc["exited"], privacy.fmt_count))
        cols[1].metric("Till arbete/studier (orsak 1)", fmt_pct(positive("total")))
        cols[1].caption(sex_line({s: positive(s) for s in ("women", "men", "other")}, fmt_pct))
        r, _ = privacy.reason_shares(run(reason_shares, f))
        if r.total.sum():
            chart(reason_share_by_sex(r, "Avslutsorsak – andel av avslutade inom varje kön"), None, key="present_exits")
    else:
        cs = run(cost_summary, f)
        st.metric("Kostnad per deltagare", fmt_kr(cs["per_participant"]))
        c = run(cost_by_initiative_year, f)
        c = c[c.cost.notna()].reset_index(drop=True)
        if c.empty:
            empty("Det finns inga kostnadsuppgifter för urvalet.")
        else:
            c["per_participant"] = privacy.visible_shares(c.per_participant, c.participants)
            c["label"] = c.initiative + " " + c.year.astype(str)
            chart(money_bars(c, "label", {"per_participant": ("Kostnad per deltagare", ACTUAL_COLOR)},
                             "Kostnad per deltagare per insats och år (randig = budget)", hatch=c.basis == BUDGET),
                  None, key="present_cost")

    navigation()
