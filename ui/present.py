"""Presentation mode: the board-meeting view, one topic per screen, readable from the back row.

Only static CSS goes into st.html (never data). Sizes: body text 26 px, chart labels ≥ 20 px
(ui.theme with present=True), key figures 80 px; text #111 on white (contrast 18:1, WCAG AAA).
"""
from __future__ import annotations

import streamlit as st

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
