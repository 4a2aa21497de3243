"""Small-count protection in the app: one switch, applied to every people-table and chart.

On by default in presentation mode (and always in the board pack and aggregate exports);
the threshold is a setting (default 5). The rule itself lives in metrics.suppress.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from metrics.filters import SEXES
from metrics.suppress import DEFAULT_THRESHOLD, label, suppression_mask

from .format import fmt_int

PARTS = list(SEXES)
COUNTS = [*PARTS, "total"]
TOTAL_LABEL = "Totalt"
HIDDEN = -1  # a hidden count in a display table: stays numeric (sorts, aligns), printed as `<5`


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
    cells as missing (for charts; without the total row); `display` holds them as
    `HIDDEN`, which `ui.layout.table` prints as `<5`.
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
        display = data.copy()
        for c in cols:
            values[c] = values[c].astype("Float64").mask(mask[c])
            display[c] = display[c].mask(mask[c], HIDDEN)
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


def is_hidden(x) -> bool:
    try:
        return x is not None and not pd.isna(x) and x == HIDDEN
    except (TypeError, ValueError):
        return False


def fmt_count(x) -> str:
    """A count from a protected table in Swedish: `<5` where hidden."""
    return label(threshold()) if is_hidden(x) else fmt_int(x)


def visible_shares(values, denominators, numerators=None, hidden=None) -> list:
    """The metrics layer's shares, or None where protection is on and a share could give people away.

    A share is hidden when fewer than the threshold stand behind it, when its count is
    small, or when any count it rests on is hidden in a table shown beside it (`hidden`,
    one flag per row): otherwise share × denominator would recompute the hidden cell.
    """
    n = len(values)
    nums = list(numerators) if numerators is not None else [None] * n
    flags = list(hidden) if hidden is not None else [False] * n
    out = []
    for v, d, num, flag in zip(values, denominators, nums, flags):
        if v is None or pd.isna(v):
            out.append(None)
        elif not enabled():
            out.append(v)
        elif flag or is_hidden(d) or d is None or pd.isna(d) or d < threshold() \
                or (num is not None and not pd.isna(num) and (is_hidden(num) or 0 < num < threshold())):
            out.append(None)
        else:
            out.append(v)
    return out


def exit_shares(h: pd.DataFrame, reasons_display: pd.DataFrame, codes: dict[str, set[str]]) -> dict[str, dict]:
    """Exit shares by sex from `metrics.people.headline`, hidden where a reason count behind them is.

    `reasons_display` is the protected exits-by-reason table (with its total row), the same
    one the pages show, so a share never recomputes a cell that table hides; `codes` maps
    the headline's share rows (positive_share, positive_wide_share) to their reason codes.
    """
    numerators = {"positive_share": "exited_positive", "positive_wide_share": "exited_positive_wide"}
    total = reasons_display[reasons_display.reason.isna() | (reasons_display.reason == "")]
    out: dict[str, dict] = {}
    for measure, cs in codes.items():
        rows = reasons_display[reasons_display.reason.isin(cs)]
        out[measure] = {}
        for sex in COUNTS:
            hidden = any(is_hidden(x) for x in rows[sex]) or any(is_hidden(x) for x in total[sex])
            out[measure][sex] = visible_shares([h.loc[measure, sex]], [h.loc["exited", sex]],
                                               [h.loc[numerators[measure], sex]], [hidden])[0]
    return out


def women_vs_target(t: pd.DataFrame) -> pd.DataFrame:
    """`metrics.people.women_share_vs_target` with shares hidden where the counts behind them are."""
    t = t[t.total > 0].reset_index(drop=True)
    _, shown = protect(t[["initiative", *COUNTS]], "initiative")
    hidden = [is_hidden(w) or is_hidden(n) for w, n in zip(shown.women[: len(t)], shown.total[: len(t)])]
    t["women_share"] = visible_shares(t.women_share, t.total, t.women, hidden)
    t["gap"] = [None if s is None else g for s, g in zip(t.women_share, t.gap)]
    t["large_gap"] = [bool(g) and s is not None for g, s in zip(t.large_gap, t.women_share)]
    return t


def reason_shares(r: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`metrics.people.reason_shares` protected: (shares with hidden ones removed, display counts)."""
    r = r.copy()
    _, display = protect(r[["reason", "label", *COUNTS]], "label")
    for s in COUNTS:  # hidden with its count, or when the sex's total is hidden
        base_hidden = is_hidden(display[s].iloc[-1])
        r[f"{s}_share"] = visible_shares(r[f"{s}_share"], r[f"{s}_exits"], r[s],
                                         [base_hidden or is_hidden(x) for x in display[s][: len(r)]])
    return r, display
