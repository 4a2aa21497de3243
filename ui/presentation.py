"""Presentation mode: the board-meeting view, one topic per screen, readable from the back row.

Every slide fits a 1280×720 projector and a 1920×1080 screen without scrolling: the title, a row
of key figures, one chart sized to what is left of the screen (CSS viewport units; Plotly follows
its container), and a bar at the foot with the navigation and a one-line protection note that
never scrolls away. Chart text is at least 24 px with the values on the bars, so nobody needs to
hover. Only static CSS goes into st.html (never data). Small counts are always protected here.
"""
from __future__ import annotations

import streamlit as st

from core.vocabulary import SEXES
from metrics.cost import BUDGET, cost_by_initiative_year, cost_per_initiative, cost_summary
from metrics.people import (DEFAULT_WOMEN_TARGET, by_initiative, exits_by_reason, headline, inflow_by_agency,
                            women_share_vs_target)
from render.charts import money_bars, sex_bars, share_bars, stacked, top_n
from render.format import fmt_kr, fmt_pct
from render.text import describe, md
from render.theme import ACTUAL_COLOR, EXIT_REASON_COLORS, SEX_COLORS, apply_theme, larger_text

from . import protection
from .data import run
from .layout import empty, filters_or_stop, sex_line

PRESENT_TOP = 7  # a slide's chart shows the largest few categories, the rest as "Övriga"

PRESENT_CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stSidebarNav"],
header[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"],
[data-testid="stStatusWidget"], #MainMenu, footer { display: none !important; }
.stApp { background: #FFFFFF; }
.stMainBlockContainer, .block-container { padding: 0.6rem 2rem 0 2rem !important; max-width: 100% !important; }
.stApp, .stApp p, .stApp li, .stApp label, .stApp button, .stApp [data-testid="stMarkdownContainer"] p {
  font-size: clamp(24px, 2.6vh, 30px) !important; color: #111111 !important; line-height: 1.3; }
.stApp h1 { font-size: clamp(34px, 5.2vh, 60px) !important; color: #111111 !important; padding: 0 !important;
  margin: 0 !important; line-height: 1.15 !important; }
.stApp [data-testid="stCaptionContainer"], .stApp [data-testid="stCaptionContainer"] p {
  font-size: clamp(24px, 2.4vh, 28px) !important; color: #333333 !important; opacity: 1 !important;
  line-height: 1.25 !important; }
.stApp [data-testid="stMetric"] { padding: 0.2rem 0.8rem !important; }
.stApp [data-testid="stMetricValue"], .stApp [data-testid="stMetricValue"] *,
.stApp [data-testid="stMetricValue"] [data-testid="stMarkdownContainer"] p {
  font-size: clamp(40px, 7vh, 84px) !important; color: #111111 !important; font-weight: 700 !important;
  line-height: 1.05 !important; }
.stApp [data-testid="stMetricLabel"], .stApp [data-testid="stMetricLabel"] [data-testid="stMarkdownContainer"] p {
  font-size: clamp(24px, 3vh, 34px) !important; }
.stApp [data-testid="stVerticalBlock"] { gap: 0.45rem !important; }
@media (max-height: 899px) { .st-key-present_large { display: none !important; } }
@media (min-height: 900px) { .st-key-present_small { display: none !important; } }
.st-key-present_nav { position: fixed; left: 0; right: 0; bottom: 0; z-index: 1000; background: #FFFFFF;
  border-top: 1px solid #BBBBBB; padding: 0.4rem 2rem 0.5rem 2rem; }
.st-key-present_nav p { font-size: 24px !important; margin: 0 !important; line-height: 1.2; }
.st-key-present_nav button p { font-size: 24px !important; }
.st-key-present_nav kbd { display: none !important; }  /* the key hints: the buttons name Esc, the arrows are known */
[data-testid="stSkipToContent"] { font-size: 24px !important; }
</style>
"""
# A slide's chart is drawn twice, for a projector (720 px high) and a full-HD screen, and CSS shows the one
# that fits: Plotly draws at a fixed height, and the server cannot know the screen's.
CHART_HEIGHTS = {"small": 360, "large": 660}
LARGE_TEXT_PX = 32  # the full-HD chart's text: about the share of its height that 24 px is of a projector's

TOPICS = [("", "Översikt"), ("inflode", "Inflöde per remittent"), ("jamstalldhet", "Jämställdhet"),
          ("avslut", "Avslut och resultat"), ("kostnad", "Kostnad per deltagare")]


def current_slide() -> int:
    """0-based slide from `?slide=N` (1-based), else the topic of the page presentation started from.

    Anything else in the link (`?slide=²`, `?slide=99`) is ignored: the presentation opens.
    """
    raw = st.query_params.get("slide")
    if raw and raw.isascii() and raw.isdigit() and 1 <= int(raw) <= len(TOPICS):
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
    """Previous/next with the arrow keys, a way out with Esc, and the protection note: always on screen."""
    i = current_slide()
    with st.container(key="present_nav"):
        cols = st.columns([2, 2, 7, 2], vertical_alignment="center")
        cols[0].button("← Föregående", on_click=go, args=(-1,), shortcut="Left", key="prev_slide", width="stretch")
        cols[1].button("Nästa →", on_click=go, args=(1,), shortcut="Right", key="next_slide", width="stretch",
                       type="primary")
        cols[2].markdown(f"Bild {i + 1} av {len(TOPICS)} · {protection.short_note()}")
        cols[3].button("Avsluta (Esc)", on_click=stop_presenting, shortcut="Esc", key="stop_present", width="stretch")


def _chart(fig) -> None:
    fig = apply_theme(fig, present=True)
    fig.update_layout(uniformtext=dict(mode="hide", minsize=24), margin=dict(b=10), bargap=0.12)
    fig.update_traces(selector=dict(type="bar"), textfont_size=24)
    fig.update_xaxes(showticklabels=False, showgrid=False, title=None)
    for size, height in CHART_HEIGHTS.items():
        # on a 720 px projector the chart's own title would take the room its bars need for 24 px values: the
        # slide's heading says what it shows, and the title goes; a full-HD screen's chart has larger text, as the
        # headings above it grow with the screen
        small = size == "small"
        drawn = larger_text(fig, 24 if small else LARGE_TEXT_PX)  # a copy each
        drawn.update_layout(height=height)
        if small:
            drawn.update_layout(title_text=None, margin_t=24)
        with st.container(key=f"present_{size}"):
            st.plotly_chart(drawn, width="stretch", config={"displayModeBar": False},
                            key=f"present_chart_{current_slide()}_{size}")


def _kpis(items: list[tuple[str, str, str | None]]) -> None:
    cols = st.columns(len(items))
    for col, (label, value, line) in zip(cols, items):
        col.metric(label, value, border=True)
        if line:
            col.caption(line)


def render() -> None:
    f = filters_or_stop()
    i = current_slide()
    t = protection.threshold()
    st.title(TOPICS[i][1])
    st.caption(f"Urval: {md(describe(f))}")
    if protection.enabled() and (why := protection.refusal(f)) is not None:
        # several associations, or a period off the year's grid: nothing protected to show, but the way on and out
        st.info(why, icon=":material/shield:")  # a constant: no data in it
        navigation()
        return
    h = run(headline, f)
    show = protection.shown(f)  # every figure below as the projector may show it
    fig = show.figures(h)
    people, started, exited = fig.by_sex("participants"), fig.by_sex("started"), fig.by_sex("exited")
    if h.loc["participants", "total"] == 0:
        empty()
    elif i == 0:
        positive = fig.get("positive_share")
        _kpis([("Deltagare", protection.fmt_count(people["total"]), sex_line(people, protection.fmt_count, f.sexes)),
               ("Nya", protection.fmt_count(started["total"]), sex_line(started, protection.fmt_count, f.sexes)),
               ("Avslutade", protection.fmt_count(exited["total"]), sex_line(exited, protection.fmt_count, f.sexes)),
               ("Till arbete/studier", "–" if h.loc["exited", "total"] == 0 else fmt_pct(positive),
                "Inga avslut ännu" if h.loc["exited", "total"] == 0 else "av de avslutade")])
        ini = run(by_initiative, f)
        ini = ini[ini.participants_total > 0].reset_index(drop=True)
        ini = show.wide(ini, ["participants"])
        rows = ini.rename(columns=lambda c: c.replace("participants_", ""))[["initiative", *SEXES, "total"]]
        _chart(sex_bars(top_n(rows, "initiative", PRESENT_TOP), "initiative", "Deltagare per insats och kön",
                        threshold=t, whole=people["total"]))
    elif i == 1:
        _kpis([("Nya deltagare", protection.fmt_count(started["total"]), sex_line(started, protection.fmt_count, f.sexes))])
        shown = show.frame(run(inflow_by_agency, f), "started", ["agency"])
        _chart(sex_bars(shown, "agency", "Nya deltagare per remittent och kön", threshold=t, whole=started["total"]))
    elif i == 2:
        women = fig.get("women_share")  # none under a filter on sex
        _kpis([("Kvinnor", protection.fmt_count(people["women"]), None),
               ("Män", protection.fmt_count(people["men"]), None),
               ("Annat/okänt", protection.fmt_count(people["other"]), None),
               ("Andel kvinnor", fmt_pct(women), f"jämfört med {fmt_pct(DEFAULT_WOMEN_TARGET, 0)}")])
        w = run(women_share_vs_target, f)
        w = w[w.total > 0].reset_index(drop=True)
        # per initiative over both sexes, whatever the filter on sex: the share of women ignores it
        w["share"] = show.narrowed(f.with_(sexes=())).wide(
            w.rename(columns={s: f"participants_{s}" for s in (*SEXES, "total")}), ["women_share"]).women_share
        w["goal"] = [None if d else g for d, g in zip(w.target_is_default, w.target)]
        w = top_n(w[["initiative", "share", "goal", "total"]], "initiative", PRESENT_TOP)
        _chart(share_bars(w, "initiative", "share", "Andel kvinnor per insats", color=SEX_COLORS["women"],
                          name="Andel kvinnor", target="goal" if w.goal.notna().any() else None,
                          reference=DEFAULT_WOMEN_TARGET, reference_name="50 %"))
    elif i == 3:
        if h.loc["exited", "total"] == 0:
            _kpis([("Avslutade", "0", "Inga avslut ännu under perioden")])
        else:
            positive = fig.get("positive_share")
            _kpis([("Avslutade", protection.fmt_count(exited["total"]), sex_line(exited, protection.fmt_count, f.sexes)),
                   ("Till arbete/studier", fmt_pct(positive), "av de avslutade")])
            reasons = show.frame(run(exits_by_reason, f), "exited", ["reason"])
            fig = stacked(reasons.assign(label=reasons.label), "label",
                          [("total", "Avslutade", EXIT_REASON_COLORS["1"])], "Avslutade per avslutsorsak",
                          total="total", threshold=t, whole=exited["total"])
            fig.update_traces(selector=dict(type="bar", name="Avslutade"),
                              marker_color=[EXIT_REASON_COLORS.get(r, "#949494") for r in reasons.reason])
            fig.update_layout(showlegend=False)
            _chart(fig)
    else:
        summary = run(cost_summary, f)
        years = run(cost_by_initiative_year, f)
        per = show.figures(h, summary, years).get("cost_per_participant")
        c = run(cost_per_initiative, f)
        c = show.wide(c, ["cost_per_participant"], years)
        c = c[c.per_participant.notna()].sort_values("per_participant", ascending=False).head(PRESENT_TOP)
        # the chart's title says "randig = budget", but a 720 px projector drops the title: the stripes would read as
        # hidden counts, which every other slide stripes; the line under the key figure says it at every size
        striped = bool((c.basis == BUDGET).any())
        _kpis([("Kostnad", fmt_kr(summary["cost"]),
                "utfall, annars budget" + (" (randig stapel = budget)" if striped else "")),
               ("Kostnad per deltagare", fmt_kr(per), "hela urvalet")])
        if c.empty:
            empty("Det finns ingen kostnad per deltagare att visa för urvalet.")
        else:
            _chart(money_bars(c, "initiative", {"per_participant": ("Kostnad per deltagare", ACTUAL_COLOR)},
                              "Kostnad per deltagare per insats (randig = budget)", hatch=c.basis == BUDGET))
    navigation()
