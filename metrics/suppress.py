"""Small-count protection: counts of 1–4 shown as `<5`, plus the cells that would give them away.

A table is protected as a whole. Primary suppression hides every count from 1 to
threshold − 1. Secondary suppression then hides, in any row or column whose total is
shown and where exactly one part is hidden, the smallest other part, so that a total
minus the visible cells no longer recomputes a hidden one; this repeats until stable.
Shares are hidden when their denominator is below the threshold or their numerator is hidden.
"""
from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence

import pandas as pd

DEFAULT_THRESHOLD = 5


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
