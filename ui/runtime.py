"""The server process: keep what the imports built out of the garbage collector's way.

Streamlit collects garbage after every script run (`runner.postScriptGC`), on the script's
thread before the run's end reaches the browser. The imports (Plotly's validators, pandas,
DuckDB, Streamlit itself) leave about 160 000 objects that live as long as the process, and
walking them made that collection 0,1 s of every page's time to ready. Freezing them once
(`gc.freeze`) leaves the collection with what the runs create: 10–20 ms. A frozen object is
still freed when nothing refers to it; only a reference cycle among them would stay.

Uploads (issue 22): Streamlit takes a file PUT to /_stcore/upload_file/<session>/… from any open
session, signed in or not, and keeps it in memory until the session ends. `guard_uploads` wraps the
server's upload manager so that only a session whose signed-in viewer may load data (/data) gets a
file kept; any other's is refused with 403 and dropped at once. This reaches one private attribute
(the runtime's session manager), with its own test (tests/test_runtime.py).
"""
from __future__ import annotations

import gc
import logging

import streamlit as st
from streamlit import delta_generator

from auth.roles import DATA_ADMIN

_LOG = logging.getLogger(__name__)

# Streamlit's first element in a process asks whether it runs under `streamlit run` or a REPL, by reading the source
# of every frame on the stack (inspect.stack(): about 0,07 s of a server's first visit, issue 21). It does run under
# `streamlit run` (or AppTest), where that check only ever decides to print nothing: it is marked as done. A private
# flag: if Streamlit renames it, this sets an attribute nothing reads and the check runs as before.
delta_generator._use_warning_has_been_displayed = True
_frozen = False
_guarded = False


def freeze_imports() -> None:
    """Once per process, at the first run: collect, then freeze what is left (imported modules and their data).

    Only where Streamlit collects after every run; otherwise Python's own collector decides, as usual."""
    global _frozen
    if not _frozen and st.get_option("runner.postScriptGC"):
        _frozen = True
        gc.collect()
        gc.freeze()


def may_upload(session_state) -> bool:
    """Whether a session, by its state, may have files kept: its signed-in viewer may load data."""
    from .access import VIEWER_KEY

    try:
        viewer = session_state[VIEWER_KEY] if VIEWER_KEY in session_state else None
    except Exception:  # a state being torn down: no
        return False
    return viewer is not None and viewer.may(DATA_ADMIN)


def guard_uploads() -> None:
    """Once per server process: files from sessions that may not load data are refused, never kept in memory."""
    global _guarded
    from streamlit import runtime

    if _guarded or not runtime.exists():
        return
    rt = runtime.get_instance()
    manager = rt.uploaded_file_mgr
    sessions = getattr(rt, "_session_mgr", None)
    if manager is None or sessions is None:
        return
    original = manager.add_file

    def add_file(session_id: str, file, *args, **kwargs):
        info = sessions.get_active_session_info(session_id)
        if info is None or not may_upload(info.session.session_state):
            from starlette.exceptions import HTTPException

            _LOG.warning("uppladdning nekad: sessionen är inte inloggad med behörighet att läsa in data")
            raise HTTPException(status_code=403, detail="Uppladdning kräver inloggning som administratör.")
        return original(session_id, file, *args, **kwargs)

    manager.add_file = add_file
    _guarded = True
