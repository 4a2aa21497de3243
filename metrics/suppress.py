"""Small-count protection: counts of 1 to threshold − 1 hidden, plus the cells that would give them away.

The one place the rules live; pages, the deck and the exports all call into here (with
`threshold=None` meaning protection is off). A table is protected as a whole. Primary
suppression hides every count from 1 to threshold − 1. Secondary suppression then hides,
in any row or column whose total is shown and where exactly one part is hidden, the
smallest other part, so that a total minus the visible cells no longer recomputes a hidden
one; this repeats until stable. Shares are hidden when their denominator is below the
threshold or a count behind them is hidden.
"""
from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from core.vocabulary import SEX_COLUMNS, SEXES, TOTAL

DEFAULT_THRESHOLD = 5
PARTS = list(SEXES)
COUNTS = list(SEX_COLUMNS)
TOTAL_LABEL = TOTAL
HIDDEN = -1  # a hidden count in a display table: stays numeric (sorts, aligns), printed as `<5`


def label(threshold: int = DEFAULT_THRESHOLD) -> str:
    return f"<{threshold}"


def suppression_mask(df: pd.DataFrame, parts: list[str], total: str | None = "total",
                     total_row: object | None = None, threshold: int = DEFAULT_THRESHOLD,
                     groups: list[list[object]] | None = None) -> pd.DataFrame:
    """Boolean frame (True = hide) over `parts` + `total` for the rows of `df`.

    `total_row` is the index label of a row holding column totals, if the table has one;
    `groups` lists sets of row labels that add up to that total row (default: all other rows).
    """
    cols = [*parts, *([total] if total else [])]
    values = df[cols].fillna(0).astype("int64")
    mask = (values >= 1) & (values < threshold)

    def protect(cells: list[tuple[object, str]], total_cell: tuple[object, str] | None) -> bool:
        if total_cell is None or mask.at[total_cell]:
            return False
        hidden = [c for c in cells if mask.at[c]]
        if len(hidden) != 1:
            return False
        candidates = [c for c in cells if not mask.at[c]]
        if not candidates:
            return False
        nonzero = [c for c in candidates if values.at[c] > 0]
        pick = min(nonzero or candidates, key=lambda c: values.at[c])
        mask.at[pick] = True
        return True

    changed = True
    while changed:
        changed = False
        for r in values.index:
            changed |= protect([(r, c) for c in parts], (r, total) if total else None)
        if total_row is not None and total_row in values.index:
            members = groups or [[r for r in values.index if r != total_row]]
            for c in cols:
                for rows in members:
                    changed |= protect([(r, c) for r in rows], (total_row, c))
    return mask


def share_visible(numerator: float | None, denominator: float | None, numerator_hidden: bool = False,
                  threshold: int = DEFAULT_THRESHOLD) -> bool:
    """A share may be shown only if at least `threshold` people stand behind it and its count is shown."""
    return denominator is not None and denominator >= threshold and not numerator_hidden


def suppress_linked(values: Mapping[Hashable, int], relations: Iterable[tuple[Sequence[Hashable], Hashable]],
                    threshold: int = DEFAULT_THRESHOLD) -> set[Hashable]:
    """The cells to hide in a set of linked tables: keys of `values` that must not be shown.

    `values` maps every count cell of every table (a hashable key each) to its count;
    `relations` lists the additive links between them, `(parts, total)` meaning the parts add
    up to the total, whichever tables they are shown in (a row's sexes to its total, the
    initiatives to the total row, the agencies within an initiative to the initiative's
    started, and the same count shown in two tables as `([a], b)`). Primary suppression hides
    every count from 1 to threshold − 1; then, as long as some relation has exactly one
    hidden cell (which its visible cells would give away), the smallest visible non-zero part
    of it is hidden too (its total where every visible part is 0). Cells shared by several
    tables get one decision, so no table gives away what another hides.
    """
    relations = [(list(parts), total) for parts, total in relations]
    hidden = {k for k, v in values.items() if 1 <= int(v) < threshold}
    changed = True
    while changed:
        changed = False
        for parts, total in relations:
            cells = [*parts, total]
            if sum(c in hidden for c in cells) != 1:
                continue
            visible = [c for c in parts if c not in hidden]
            nonzero = [c for c in visible if int(values[c]) > 0]
            if nonzero:
                pick = min(nonzero, key=lambda c: int(values[c]))
            elif total not in hidden and int(values[total]) > 0:
                pick = total
            elif visible:
                pick = visible[0]  # only zeros left: weak, but a total minus visible cells no longer gives it
            else:
                continue
            hidden.add(pick)
            changed = True
    return hidden


# ---------------------------------------------------------------- display tables

def protect(df: pd.DataFrame, key: str | list[str] | None = None, *, threshold: int | None,
            parts: list[str] = PARTS, total: str | None = "total",
            add_total: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(values, display) for a table of counts, one row per `key` category (default: women/men/other/total).

    A total row is added (its figures are shown elsewhere on the page anyway), so that a
    column minus its visible cells cannot give a hidden one away. `values` has hidden
    cells as missing (for charts; without the total row); `display` holds them as
    `HIDDEN`, which tables print as `<5`. `threshold=None`: protection off.
    """
    cols = [*parts, *([total] if total else [])]
    data = df.reset_index(drop=True)
    with_total = add_total and key is not None and len(data) > 0
    if with_total:
        keys = [key] if isinstance(key, str) else key
        row = {k: (TOTAL_LABEL if i == 0 else "") for i, k in enumerate(keys)} | {c: data[c].sum() for c in cols}
        data = pd.concat([data, pd.DataFrame([row])], ignore_index=True)
    values = data.copy()
    if threshold is not None and len(data):
        mask = suppression_mask(data, parts, total, total_row=len(data) - 1 if with_total else None,
                                threshold=threshold)
        display = data.copy()
        for c in cols:
            values[c] = values[c].astype("Float64").mask(mask[c])
            display[c] = display[c].mask(mask[c], HIDDEN)
    else:
        display = data
    if with_total:
        values = values.iloc[:-1]
    return values.reset_index(drop=True), display


def protect_prefixed(df: pd.DataFrame, prefix: str, key: str, *, threshold: int | None
                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`protect` for wide tables whose count columns are named like `participants_women`."""
    names = {f"{prefix}_{c}": c for c in COUNTS}
    sub = df[[key, *names]].rename(columns=names)
    values, display = protect(sub, key, threshold=threshold)
    back = {c: p for p, c in names.items()}
    return values.rename(columns=back), display.rename(columns=back)


def is_hidden(x) -> bool:
    try:
        return x is not None and not pd.isna(x) and x == HIDDEN
    except (TypeError, ValueError):
        return False


def visible_shares(values, denominators, numerators=None, hidden=None, *, threshold: int | None) -> list:
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
        elif threshold is None:
            out.append(v)
        elif flag or is_hidden(d) or d is None or pd.isna(d) or d < threshold \
                or (num is not None and not pd.isna(num) and (is_hidden(num) or 0 < num < threshold)):
            out.append(None)
        else:
            out.append(v)
    return out


def exit_shares(h: pd.DataFrame, reasons_display: pd.DataFrame, codes: dict[str, set[str]], *,
                threshold: int | None) -> dict[str, dict]:
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
                                               [h.loc[numerators[measure], sex]], [hidden], threshold=threshold)[0]
    return out


def women_vs_target(t: pd.DataFrame, *, threshold: int | None) -> pd.DataFrame:
    """`metrics.people.women_share_vs_target` with shares hidden where the counts behind them are."""
    t = t[t.total > 0].reset_index(drop=True)
    _, shown = protect(t[["initiative", *COUNTS]], "initiative", threshold=threshold)
    hidden = [is_hidden(w) or is_hidden(n) for w, n in zip(shown.women[: len(t)], shown.total[: len(t)])]
    t["women_share"] = visible_shares(t.women_share, t.total, t.women, hidden, threshold=threshold)
    t["gap"] = [None if s is None else g for s, g in zip(t.women_share, t.gap)]
    t["large_gap"] = [bool(g) and s is not None for g, s in zip(t.large_gap, t.women_share)]
    return t


def reason_shares(r: pd.DataFrame, *, threshold: int | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`metrics.people.reason_shares` protected: (shares with hidden ones removed, display counts)."""
    r = r.copy()
    _, display = protect(r[["reason", "label", *COUNTS]], "label", threshold=threshold)
    for s in COUNTS:  # hidden with its count, or when the sex's total is hidden
        base_hidden = is_hidden(display[s].iloc[-1])
        r[f"{s}_share"] = visible_shares(r[f"{s}_share"], r[f"{s}_exits"], r[s],
                                         [base_hidden or is_hidden(x) for x in display[s][: len(r)]],
                                         threshold=threshold)
    return r, display


# ---------------------------------------------------------------- one table at a time (board deck)

@dataclass(frozen=True)
class Protected:
    """A table of counts by sex (women/men/other/total) with the cells that must not be shown."""

    data: pd.DataFrame  # index: category labels (with the total row, if any); columns: women … total
    mask: pd.DataFrame  # True = hidden
    threshold: int

    def hidden(self, row, col: str) -> bool:
        return bool(self.mask.at[row, col])

    def value(self, row, col: str) -> int | None:
        """The count, or None where it is hidden."""
        return None if self.hidden(row, col) else int(self.data.at[row, col])

    @property
    def any_hidden(self) -> bool:
        return bool(self.mask.to_numpy().any())


def protected_table(df: pd.DataFrame, key: str | None, threshold: int = DEFAULT_THRESHOLD, *,
                    total_row: str | None = TOTAL, forced: pd.DataFrame | None = None) -> Protected:
    """Protect a count table: primary and secondary suppression, rows and columns.

    `key` names the category column (None: use the index). A total row labelled `total_row` is
    added when the table has none, so the column-wise rule applies; `total_row=None` protects
    each row on its own (rows that are not parts of one whole, such as different measures).
    `forced` marks cells already hidden elsewhere in the deck, so that this table keeps them
    hidden and protects them too.
    """
    data = (df.set_index(key) if key else df)[COUNTS].fillna(0).astype("int64")
    if total_row is not None and total_row not in data.index:
        data = pd.concat([data, pd.DataFrame([data.sum()], index=[total_row])])
    values = data.copy()
    if forced is not None:
        f = forced.reindex(index=values.index, columns=COUNTS, fill_value=False).fillna(False).astype(bool)
        values = values.mask(f, 1)  # a count of 1 is hidden by the primary rule, and never picked as a candidate
    mask = suppression_mask(values, list(SEXES), "total", total_row=total_row, threshold=threshold)
    return Protected(data, mask.astype(bool), threshold)


def visible_share(value, numerator_hidden: bool, denominator, denominator_hidden: bool, threshold: int):
    """The share, or None where it rests on fewer than `threshold` people or on a hidden count."""
    if value is None or pd.isna(value) or denominator_hidden:
        return None
    return float(value) if share_visible(None, denominator, numerator_hidden, threshold) else None


def codes_hidden(reasons: Protected, codes: Iterable[str]) -> pd.DataFrame:
    """One row of flags per sex: is any of these reason codes' count hidden in the reasons table?"""
    rows = [c for c in codes if c in reasons.mask.index]
    flags = reasons.mask.loc[rows].any() if rows else pd.Series(False, index=COUNTS)
    return pd.DataFrame([flags[COUNTS]])


def exits_protected(reasons: pd.DataFrame, threshold: int = DEFAULT_THRESHOLD) -> Protected:
    """Exits per reason and sex (from `exits_by_reason`) with their total row (= exits per sex)."""
    return protected_table(reasons, "reason", threshold)


def positive_share_cells(reasons: pd.DataFrame, codes: Iterable[str], threshold: int = DEFAULT_THRESHOLD
                         ) -> dict[str, float | None]:
    """Share of exits with a reason in `codes`, per sex, or None where it may not be shown."""
    codes = [str(c) for c in codes]
    p = exits_protected(reasons, threshold)
    num = p.data.loc[[c for c in codes if c in p.data.index]].sum().reindex(COUNTS, fill_value=0)
    forced = codes_hidden(p, codes)
    row = protected_table(pd.DataFrame([num]), None, threshold, total_row=None, forced=forced)
    out = {}
    for c in COUNTS:
        den = int(p.data.at[TOTAL, c])
        value = num[c] / den if den else None
        out[c] = visible_share(value, row.hidden(0, c), den, p.hidden(TOTAL, c), threshold)
    return out
