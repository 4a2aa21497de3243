"""Small-count protection in the app: one switch, applied to every people-table and chart.

On by default in presentation mode (and always in the board pack and aggregate exports);
the threshold is a setting (default 5). The rule itself lives in metrics.suppress.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from metrics.filters import SEXES
from metrics.suppress import DEFAULT_THRESHOLD, apply, label, suppression_mask

PARTS = list(SEXES)
COUNTS = [*PARTS, "total"]
TOTAL_LABEL = "Totalt"


def enabled() -> bool:
    return bool(st.session_state.get("suppress", False))


def threshold() -> int:
    return int(st.session_state.get("suppress_threshold", DEFAULT_THRESHOLD))


def note() -> str:
    return f"Skydd för små tal: antal 1–{threshold() - 1} visas som {label(threshold())}, liksom celler som annars " \
           f"skulle kunna räknas fram; andelar som bygger på färre än {threshold()} personer visas inte."


def protect(df: pd.DataFrame, key: str | list[str] | None = None, *, parts: list[str] = PARTS,
            total: str | None = "total", add_total: bool = True,
            on: bool | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(values, display) for a table of counts, one row per `key` category (default: women/men/other/total).

    A total row is added (its figures are shown elsewhere on the page anyway), so that a
    column minus its visible cells cannot give a hidden one away. `values` has hidden
    cells as missing (for charts; without the total row); `display` shows them as `<5`.
    """
    on = enabled() if on is None else on
    cols = [*parts, *([total] if total else [])]
    data = df.reset_index(drop=True)
    with_total = add_total and key is not None and len(data) > 0
    if with_total:
        keys = [key] if isinstance(key, str) else key
        row = {k: (TOTAL_LABEL if i == 0 else "") for i, k in enumerate(keys)} | {c: data[c].sum() for c in cols}
        data = pd.concat([data, pd.DataFrame([row])], ignore_index=True)
    values = data.copy()
    if on and len(data):
        t = threshold()
        mask = suppression_mask(data, parts, total, total_row=len(data) - 1 if with_total else None, threshold=t)
        display = apply(data, mask, t)
        for c in cols:
            values[c] = values[c].astype("Float64").mask(mask[c])
    else:
        display = data
    if with_total:
        values = values.iloc[:-1]
    return values.reset_index(drop=True), display


def protect_prefixed(df: pd.DataFrame, prefix: str, key: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`protect` for wide tables whose count columns are named like `participants_women`."""
    names = {f"{prefix}_{c}": c for c in COUNTS}
    sub = df[[key, *names]].rename(columns=names)
    values, display = protect(sub, key)
    back = {c: p for p, c in names.items()}
    return values.rename(columns=back), display.rename(columns=back)


def visible_share(value, denominator, numerator_hidden: bool = False):
    """The metrics layer's share, or None where protection is on and it rests on too few people."""
    if not enabled() or value is None or pd.isna(value):
        return value
    if denominator is None or pd.isna(denominator) or denominator < threshold() or numerator_hidden:
        return None
    return value


def visible_shares(values, denominators, numerators=None) -> list:
    """Shares per row; with numerators given, a share whose count would be hidden is hidden too."""
    nums = numerators if numerators is not None else [None] * len(values)
    t = threshold()
    return [visible_share(v, d, n is not None and not pd.isna(n) and 0 < n < t) for v, d, n in zip(values, denominators, nums)]
