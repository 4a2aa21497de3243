"""Insatskollen: what the association's money does. `streamlit run app.py`."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from auth.roles import BOARD_PACK, PRESENTATION
from metrics.suppress import DEFAULT_THRESHOLD
from ui import access, filters, runtime, upload
from ui.data import several_associations, startup_problem
from ui.layout import BASE_CSS, board_pack_button, data_status
from ui.presentation import PRESENT_CSS, TOPICS
from ui.presentation import render as render_slide

runtime.guard_uploads()  # issue 22, first of all: only a session that may load data has its uploads kept in memory
# A local icon: a Material icon here is fetched from fonts.gstatic.com by every browser, telling Google who opens the app
st.set_page_config(page_title="Insatskollen", page_icon=str(Path(__file__).parent / "ui" / "assets" / "favicon.png"),
                   layout="wide")
runtime.freeze_imports()  # the collector Streamlit runs after every run skips what the imports built
upload.sweep_once()  # issue 22: uploaded files a killed server left under the data directory go at its start

problem = startup_problem()  # builds the database from the sample when there is none
if problem:
    st.error(problem)
    st.stop()

PAGES = [
    st.Page("pages/oversikt.py", title="Översikt", url_path="", default=True, icon=":material/dashboard:"),
    st.Page("pages/inflode.py", title="Inflöde per remittent", url_path="inflode", icon=":material/login:"),
    st.Page("pages/jamstalldhet.py", title="Jämställdhet", url_path="jamstalldhet", icon=":material/wc:"),
    st.Page("pages/avslut.py", title="Avslut och resultat", url_path="avslut", icon=":material/logout:"),
    st.Page("pages/kostnad.py", title="Kostnad per deltagare", url_path="kostnad", icon=":material/payments:"),
    st.Page("pages/ekonomi.py", title="Ekonomi", url_path="ekonomi", icon=":material/account_balance:"),
    st.Page("pages/forbund.py", title="Förbund", url_path="forbund", icon=":material/account_tree:",
            visibility="visible" if several_associations() else "hidden"),
    st.Page("pages/export.py", title="Export", url_path="export", icon=":material/download:",
            visibility=access.shown("export")),  # issue 11: each role's menu; access.check_page decides
    st.Page("pages/data.py", title="Data", url_path="data", icon=":material/database:",
            visibility=access.shown("data")),
    st.Page("pages/konton.py", title="Konton och logg", url_path="konton", icon=":material/manage_accounts:",
            visibility=access.shown("konton")),
]
viewer = access.gate(PAGES)  # issue 11: sign-in, or this machine only; stops the run when not let in


def slide_page(path: str, title: str) -> st.Page:
    """In presentation mode every topic's address shows that topic as a slide."""
    def show() -> None:
        render_slide()

    show.__name__ = f"slide_{path or 'oversikt'}"
    return st.Page(show, title=title, url_path=path, default=path == "")


presenting = st.query_params.get("present") == "1" and viewer.may(PRESENTATION)
st.session_state["_present"] = presenting
st.session_state.setdefault("suppress_threshold", DEFAULT_THRESHOLD)
st.session_state.setdefault("suppress", st.query_params.get("suppress") == "1")
if presenting:  # small counts are always protected on the projector; leaving restores the user's choice
    st.session_state.setdefault("_suppress_before_present", st.session_state["suppress"])
    st.session_state["suppress"] = True

if presenting:
    page = st.navigation([slide_page(path, title) for path, title in TOPICS], position="hidden")
    st.session_state["_present_from"] = page.url_path
    st.html(PRESENT_CSS)
else:
    page = st.navigation(PAGES)
    st.html(BASE_CSS)
st.session_state["_filters"] = filters.sidebar()
if not presenting:
    if viewer.may(BOARD_PACK):
        board_pack_button(st.session_state["_filters"])
    data_status()
    access.sidebar(viewer)
access.check_page(page)  # issue 11: the role's permission for this address, on the server
with access.through_app():  # pages check this: a fresh server's first request may start a page without app.py
    page.run()
