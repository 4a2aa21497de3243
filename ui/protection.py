"""Small-count protection in the app: the reader's switch and threshold, passed to metrics.suppress.

On by default in presentation mode (and always in the board pack and aggregate exports);
the threshold is a setting (default 5). The rules themselves live in metrics/suppress.py;
the functions here only add the session's choice to each call.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from metrics import suppress
from metrics.suppress import DEFAULT_THRESHOLD, HIDDEN, is_hidden, label  # noqa: F401  (used by pages)
from render.format import fmt_count as _fmt_count

from . import access


def enabled() -> bool:
    # issue 11: a role without "protection off" (läsare) is always protected, whatever the session says
    return bool(st.session_state.get("suppress", False)) or access.protection_forced()


def threshold() -> int:
    t = int(st.session_state.get("suppress_threshold", DEFAULT_THRESHOLD))
    return max(t, DEFAULT_THRESHOLD) if access.protection_forced() else t  # issue 11: läsare cannot lower it


def active() -> int | None:
    """The threshold when protection is on, None when it is off: what metrics.suppress takes."""
    return threshold() if enabled() else None


def note() -> str:
    return f"Skydd för små tal: antal 1–{threshold() - 1} visas som {label(threshold())}, liksom celler som annars " \
           f"skulle kunna räknas fram; andelar som bygger på färre än {threshold()} personer visas inte."


def fmt_count(x) -> str:
    return _fmt_count(x, threshold())


def protect(df: pd.DataFrame, key=None, **kw) -> tuple[pd.DataFrame, pd.DataFrame]:
    return suppress.protect(df, key, threshold=active(), **kw)


def protect_prefixed(df: pd.DataFrame, prefix: str, key: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    return suppress.protect_prefixed(df, prefix, key, threshold=active())


def visible_shares(values, denominators, numerators=None, hidden=None) -> list:
    return suppress.visible_shares(values, denominators, numerators, hidden, threshold=active())


def exit_shares(h: pd.DataFrame, reasons_display: pd.DataFrame, codes: dict[str, set[str]]) -> dict[str, dict]:
    return suppress.exit_shares(h, reasons_display, codes, threshold=active())


def women_vs_target(t: pd.DataFrame) -> pd.DataFrame:
    return suppress.women_vs_target(t, threshold=active())


def reason_shares(r: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    return suppress.reason_shares(r, threshold=active())
