"""Presentation mode: the board-meeting view, one topic per screen, readable from the back row.

Only static CSS goes into st.html (never data). Sizes: body text 26 px, chart labels ≥ 20 px
(render.theme with present=True), key figures 80 px; text #111 on white (contrast 18:1, WCAG AAA).
Small counts are always protected here.
"""
from __future__ import annotations

import streamlit as st

from metrics.cost import BUDGET, cost_by_initiative_year, cost_summary
from metrics.people import (by_initiative, exits_by_reason, headline, inflow_by_agency, positive_codes, reason_shares,
                            targets_summary, women_share_vs_target)
from render.charts import agency_by_sex, money_bars, reason_share_by_sex, sex_bars, share_vs_target
from render.format import fmt_kr, fmt_pct
from render.text import describe
from render.theme import ACTUAL_COLOR

from . import protection
from .data import run
from .layout import chart, empty, filters_or_stop, sex_line

PRESENT_CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stSidebarNav"],
header[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"],
[data-testid="stStatusWidget"], #MainMenu, footer { display: none !important; }
.stApp { background: #FFFFFF; }
.stMainBlockContainer, .block-container { padding-top: 1.2rem !important; padding-bottom: 1rem !important;
  max-width: 100% !important; }
.stApp, .stApp p, .stApp li, .stApp label, .stApp button, .stApp [data-testid="stMarkdownContainer"] p,
.stApp [data-testid="stCaptionContainer"], .stApp [data-testid="stCaptionContainer"] p {
  font-size: 26px !important; color: #111111 !important; line-height: 1.35; }
.stApp h1 { font-size: 54px !important; color: #111111 !important; padding: 0 0 0.2rem 0; }
.stApp h2, .stApp h3 { font-size: 36px !important; color: #111111 !important; }
.stApp [data-testid="stCaptionContainer"] { opacity: 1 !important; }
.stApp [data-testid="stMetricValue"], .stApp [data-testid="stMetricValue"] p {
  font-size: 80px !important; color: #111111 !important; font-weight: 700; line-height: 1.1; }
.stApp [data-testid="stMetricLabel"], .stApp [data-testid="stMetricLabel"] p { font-size: 30px !important; }
.stApp [data-testid="stMetricDelta"], .stApp [data-testid="stMetricDelta"] p { font-size: 26px !important; }
</style>
"""

TOPICS = [("", "Översikt"), ("inflode", "Inflöde per remittent"), ("jamstalldhet", "Jämställdhet"),
          ("avslut", "Avslut och resultat"), ("kostnad", "Kostnad per deltagare")]


def current_slide() -> int:
    """0-based slide from `?slide=N` (1-based), else the topic of the page presentation started from."""
    raw = st.query_params.get("slide")
    if raw and raw.isdigit() and 1 <= int(raw) <= len(TOPICS):
        return int(raw) - 1
    start = st.session_state.get("_present_from", "")
    return next((i for i, (path, _) in enumerate(TOPICS) if path == start), 0)


def go(step: int) -> None:
    st.query_params["slide"] = str((current_slide() + step) % len(TOPICS) + 1)


def stop_presenting() -> None:
    for key in ("present", "slide"):
        if key in st.query_params:
            del st.query_params[key]
    st.session_state["suppress"] = st.session_state.pop("_suppress_before_present", False)


def navigation() -> None:
    """Previous/next with the arrow keys, and a way out with Esc."""
    i = current_slide()
    cols = st.columns([2, 2, 6, 2])
    cols[0].button("← Föregående", on_click=go, args=(-1,), shortcut="Left", key="prev_slide", width="stretch")
    cols[1].button("Nästa →", on_click=go, args=(1,), shortcut="Right", key="next_slide", width="stretch",
                   type="primary")
    cols[2].markdown(f"Bild {i + 1} av {len(TOPICS)} · piltangenterna bläddrar")
    cols[3].button("Avsluta (Esc)", on_click=stop_presenting, shortcut="Esc", key="stop_present", width="stretch")


def render() -> None:
    f = filters_or_stop()
    i = current_slide()
    st.title(TOPICS[i][1])
    st.caption(f"Urval: {describe(f)}  \n{protection.note()}")

    h = run(headline, f)
    _, shown = protection.protect(h.loc[["participants", "started"]].reset_index(), add_total=False)
    shown = shown.set_index("measure")
    _, reasons = protection.protect(run(exits_by_reason, f), ["reason", "label"])  # as on the pages
    shown.loc["exited"] = reasons.iloc[-1]
    pos, _wide = run(positive_codes)
    shares = protection.exit_shares(h, reasons, {"positive_share": pos})["positive_share"]

    def positive(sex: str):
        return shares[sex]

    if h.loc["participants", "total"] == 0:
        empty()
    elif i == 0:
        cols = st.columns(4)
        for col, (m, label) in zip(cols, [("participants", "Deltagare"), ("started", "Nya"), ("exited", "Avslutade")]):
            col.metric(label, protection.fmt_count(shown.loc[m, "total"]))
            col.caption(sex_line(shown.loc[m], protection.fmt_count))
        cols[3].metric("Till arbete/studier (orsak 1)", fmt_pct(positive("total")))
        cols[3].caption(sex_line({s: positive(s) for s in ("women", "men", "other")}, fmt_pct))
        ini = run(by_initiative, f)
        ini = ini[ini.participants_total > 0]
        values, _ = protection.protect_prefixed(ini, "participants", "initiative")
        chart(sex_bars(values.rename(columns=lambda c: c.replace("participants_", "")), "initiative",
                       "Deltagare per insats och kön" + (" (streck = mål per år)" if f.is_calendar_year else ""),
                       targets=ini.target_participants.reset_index(drop=True) if f.is_calendar_year else None),
              None, key="present_overview")
    elif i == 1:
        values, _ = protection.protect(run(inflow_by_agency, f), "agency")
        st.metric("Nya deltagare", protection.fmt_count(shown.loc["started", "total"]))
        st.caption(sex_line(shown.loc["started"], protection.fmt_count))
        chart(agency_by_sex(values, "Nya deltagare per remittent och kön"), None, key="present_inflow")
    elif i == 2:
        t = protection.women_vs_target(run(women_share_vs_target, f))
        ws = protection.visible_shares([h.loc["women_share", "total"]], [h.loc["participants", "total"]],
                                    [h.loc["participants", "women"]],
                                    [protection.is_hidden(shown.loc["participants", "women"])])[0]
        goal = run(targets_summary, f)["women_share"]
        st.metric("Andel kvinnor", fmt_pct(ws), delta=None if goal is None else f"mål {fmt_pct(goal, 0)}", delta_color="off")
        chart(share_vs_target(t, "initiative", "women_share", "target", "Andel kvinnor per insats, med mål",
                              flag="large_gap"), None, key="present_gender")
    elif i == 3:
        cols = st.columns(2)
        cols[0].metric("Avslutade", protection.fmt_count(shown.loc["exited", "total"]))
        cols[0].caption(sex_line(shown.loc["exited"], protection.fmt_count))
        cols[1].metric("Till arbete/studier (orsak 1)", fmt_pct(positive("total")))
        cols[1].caption(sex_line({s: positive(s) for s in ("women", "men", "other")}, fmt_pct))
        r, _ = protection.reason_shares(run(reason_shares, f))
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
            c["per_participant"] = protection.visible_shares(c.per_participant, c.participants)
            c["label"] = c.initiative + " " + c.year.astype(str)
            chart(money_bars(c, "label", {"per_participant": ("Kostnad per deltagare", ACTUAL_COLOR)},
                             "Kostnad per deltagare per insats och år (randig = budget)", hatch=c.basis == BUDGET),
                  None, key="present_cost")

    navigation()
