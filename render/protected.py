"""A selection's figures as a protected surface shows them: each count asked of the one protection engine.

The staff export and the board deck build their files outside Streamlit; they ask
metrics.suppress through this class, as pages ask it through ui/protection.py, so every surface
gets the same decision for the same cell.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from core.vocabulary import SEX_COLUMNS, SEX_LABELS
from metrics import Filters
from metrics.suppress import (PRIMARY, VISIBLE, OffGrid, hidden_code, is_hidden, kind_of, protect_year, share_visible,
                             span_of)


class Shown:
    """How a count of the export looks: its value, or the code of a hidden count (`HIDDEN_PRIMARY`/`_SECONDARY`).

    All counts are asked of one protection engine (metrics.suppress) for the period, the same
    one pages, the presentation and the deck ask, so no sheet shows what another surface hides.
    """

    def __init__(self, con, f: Filters, threshold: int | None) -> None:
        """`threshold=None`: protection off, every figure as the metrics layer gives it. Raises OffGrid for a
        protected period that is not a year, its delår or a tertial, and SeveralAssociations over several."""
        self.con, self.f, self.threshold = con, f, threshold
        self._years: dict[int, object] = {}
        self.p = None
        if threshold is not None:
            if span_of(f) is None:
                raise OffGrid()
            self.p = self.year(f.start.year).view(span_of(f))

    def count(self, measure: str, dims: Mapping[str, Any], sex: str, value, p=None, f=...):
        p = self.p if p is None else p
        if p is None:
            return value
        kind, _ = p.cell(measure, dims, sex, self.f if f is ... else f)
        return value if kind == VISIBLE else hidden_code(kind)

    def row(self, measure: str, dims: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
        return {SEX_LABELS[s]: self.count(measure, dims, s, values[s]) for s in SEX_COLUMNS}

    def ratio(self, value, denominator, *numerators):
        """A share or cost per person, or None where it rests on too few people or on a hidden count."""
        if value is None or pd.isna(value):
            return None
        if self.p is None:
            return float(value)
        if not share_visible(denominator, hidden=any(is_hidden(n) for n in numerators), threshold=self.threshold):
            return None
        return float(value)

    def year(self, y: int):
        """The protection of one calendar year: cost counts are whole-year counts of an initiative."""
        if self.threshold is None:
            return None
        if y not in self._years:
            self._years[y] = protect_year(self.con, int(y), tuple(self.f.associations), self.threshold)
        return self._years[y]


def pooled_people(years: pd.DataFrame, kind: Callable[[str, int], str] | None, initiative: str | None = None):
    """The participants a pooled cost per participant divides by (metrics.cost), or a hidden code.

    Cost is per initiative and calendar year, so its participants are each year's whole count of
    the initiative; `kind(initiative, year)` says whether that count is visible. The sum is shown
    only where every part of it is. `kind` None: protection is off, every count is visible.
    """
    rows = years[years.cost.notna() & (years.participants > 0)]
    if initiative is not None:
        rows = rows[rows.initiative == initiative]
    if kind is not None and any(kind(i, int(y)) != VISIBLE for i, y in zip(rows.initiative, rows.year)):
        return hidden_code("secondary")
    return int(rows.participants.sum())


def pooled_people_per_initiative(years: pd.DataFrame, kind: Callable[[str, int], str] | None) -> dict:
    """`pooled_people` of every initiative at once (initiative -> count or hidden code): one pass over the
    rows, where asking initiative by initiative filters the frame once per initiative (3 000 at national scale).
    `kind` None: protection is off, every count is visible."""
    rows = years[years.cost.notna() & (years.participants > 0)]
    if rows.empty:
        return {}
    people = rows.groupby("initiative", sort=False).participants.sum()
    if kind is None:
        return {i: int(n) for i, n in people.items()}
    hidden = pd.Series([kind(i, int(y)) != VISIBLE for i, y in zip(rows.initiative, rows.year)], index=rows.index)
    any_hidden = hidden.groupby(rows.initiative, sort=False).any()
    return {i: hidden_code("secondary") if any_hidden[i] else int(n) for i, n in people.items()}


def bar_ends(totals, visible, whole, threshold: int, hidden_parts=None) -> list[float | None]:
    """Where each bar of a count per category ends, so that no bar is drawn shorter than the truth.

    `totals` are the categories' totals as shown (a count or a hidden code), `visible` the sum of each
    bar's visible parts, `whole` the total over all categories as shown (None where the chart has none),
    `hidden_parts` each bar's hidden parts (codes). A visible total is the bar's end. A hidden total is at
    most the least of what any reader can work out from what is shown, so drawing it tells nothing new:
    threshold − 1 for a `<5`; the visible parts plus threshold − 1 for each `<5` part (where no part is
    `..`); and what the whole leaves after the other categories' visible totals and one for each other
    `<5` (which is at least 1). None where nothing bounds it (the caller draws it to the end of the axis).
    A bar never ends before its visible parts.
    """
    totals = list(totals)
    visible = [float(v or 0) for v in visible]
    parts = list(hidden_parts) if hidden_parts is not None else [None] * len(totals)
    known = not (whole is None or is_hidden(whole) or pd.isna(whole))
    shown_sum = sum(float(t) for t in totals if not is_hidden(t) and t is not None and not pd.isna(t))
    primaries = sum(1 for t in totals if is_hidden(t) and kind_of(t) == PRIMARY)
    ends: list[float | None] = []
    for t, seen, hid in zip(totals, visible, parts):
        if t is None or (not is_hidden(t) and pd.isna(t)):
            ends.append(seen or None)
            continue
        if not is_hidden(t):
            ends.append(float(t))
            continue
        bounds = []
        if kind_of(t) == PRIMARY:
            bounds.append(float(threshold - 1))
        elif known:
            bounds.append(float(whole) - shown_sum - primaries)
        if hid and all(kind_of(v) == PRIMARY for v in hid):
            bounds.append(seen + (threshold - 1) * len(hid))
        ends.append(max(seen, min(bounds)) if bounds else None)
    return ends
