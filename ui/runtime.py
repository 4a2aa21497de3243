"""The server process: keep what the imports built out of the garbage collector's way.

Streamlit collects garbage after every script run (`runner.postScriptGC`), on the script's
thread before the run's end reaches the browser. The imports (Plotly's validators, pandas,
DuckDB, Streamlit itself) leave about 160 000 objects that live as long as the process, and
walking them made that collection 0,1 s of every page's time to ready. Freezing them once
(`gc.freeze`) leaves the collection with what the runs create: 10–20 ms. A frozen object is
still freed when nothing refers to it; only a reference cycle among them would stay.
"""
from __future__ import annotations

import gc

import streamlit as st

_frozen = False


def freeze_imports() -> None:
    """Once per process, at the first run: collect, then freeze what is left (imported modules and their data).

    Only where Streamlit collects after every run; otherwise Python's own collector decides, as usual."""
    global _frozen
    if not _frozen and st.get_option("runner.postScriptGC"):
        _frozen = True
        gc.collect()
        gc.freeze()
