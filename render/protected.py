"""A selection's figures as a protected surface shows them: the one way a page, slide or export gets a figure.

Protection by construction. A surface does not protect figure by figure: it wraps the metrics
results in `Shown` (the period's protection engine, or protection off) and reads its figures
through it, so what it holds is what it may print:

- `Shown.figures(headline, cost, years)` → `Figures`: the period's headline counts, shares and
  cost per participant (metrics.people.headline, metrics.cost); `count`, `share`, `by_sex`.
- `Shown.wide(by_initiative, figures, years)`: metrics.people.by_initiative's table (or one
  shaped like it) with only the figures asked for, each as shown (counts as their codes, shares as None where withheld).
- `Shown.frame(table, measure, dims)`: any long count table (per agency, reason, age …) as shown.

A share or an amount per person is never computed by the surface: `Figures` and `initiatives`
derive it from its numerator and denominator as metrics/definitions.py declares them (`COUNTS`
says which count each declared name is), through `protected_share`, the one rule for a derived
figure under protection (metrics.suppress.share_visible). With protection off (`threshold`
None) every figure is the metrics layer's own. Pages get their `Shown` from ui.protection.shown,
which builds it on the cached engine; the staff export and the board deck build it here.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pandas as pd

from core.vocabulary import SEX_COLUMNS, SEX_LABELS
from metrics import Filters
from metrics.definitions import FIGURES, KRONOR, SHARE
from metrics.suppress import (PRIMARY, SECONDARY, VISIBLE, OffGrid, Protection, YearOnly, hidden_code, is_hidden,
                              kind_of, mark, protect_year, share_visible, span_of)

# Each count a figure is, or a share divides (metrics/definitions.py's `numerator`/`denominator`): the row of
# metrics.people.headline (and the column prefix of metrics.people.by_initiative) that holds it, the engine's
# measure and categories, and the sex it is of (None: the sex asked for).
COUNTS: dict[str, tuple[str, str, Mapping[str, str], str | None]] = {
    "participants": ("participants", "participants", {}, None),
    "participants (kvinnor)": ("participants", "participants", {}, "women"),
    "started": ("started", "started", {}, None),
    "exited": ("exited", "exited", {}, None),
    "no_consent": ("no_consent", "no_consent", {}, None),
    "exited_positive": ("exited_positive", "exited", {"reason": "positive"}, None),
    "exited_positive_wide": ("exited_positive_wide", "exited", {"reason": "positive_wide"}, None),
}
SHARES = tuple(n for n, fig in FIGURES.items() if fig.unit == SHARE and fig.numerator in COUNTS)
PER_PARTICIPANT = "cost_per_participant"  # cost ÷ the participants of the initiative-years that have a cost


def protected_share(value, denominator, *numerators, threshold: int | None):
    """The one rule for a share or an amount per person: `value`, or None where it is missing, a count under it
    is hidden, or fewer than `threshold` people stand behind it. `threshold` None: protection off."""
    if value is None or pd.isna(value):
        return None
    if not share_visible(denominator, hidden=any(is_hidden(n) for n in numerators), threshold=threshold):
        return None
    return value


def _by_sex(fig: str) -> bool:
    return FIGURES[fig].by_sex


class Shown:
    """A selection's figures as a protected surface shows them (see the module docstring).

    All counts are asked of one protection engine (metrics.suppress) for the period, the same
    one pages, the presentation and the deck ask, so no surface shows what another hides.
    """

    def __init__(self, con, f: Filters, threshold: int | None) -> None:
        """`threshold=None`: protection off, every figure as the metrics layer gives it. Raises OffGrid for a
        protected period that is not a year, its delår or a tertial, and SeveralAssociations over several."""
        self.con, self.f, self.threshold = con, f, threshold
        self._years: dict[int, object] = {}
        self._year_of: Callable[[int], Protection | None] | None = None
        self.p = None
        if threshold is not None:
            if span_of(f) is None:
                raise OffGrid()
            self.p = self.year(f.start.year).view(span_of(f))

    @classmethod
    def previous(cls, con, f: Filters, threshold: int | None) -> "Shown":
        """The previous period's figures for a comparison: as its own protection shows them, or every count withheld
        (`..`) where its year's grid shows the year alone, so the comparison is left out instead of the page."""
        try:
            return cls(con, f, threshold)
        except YearOnly:
            return cls.of(Withheld(), f, threshold, lambda y: protect_year(con, int(y), tuple(f.associations),
                                                                           threshold))

    @classmethod
    def of(cls, p: Protection | None, f: Filters, threshold: int | None,
           year: Callable[[int], Protection | None]) -> "Shown":
        """A `Shown` on an engine already decided (a page's, cached per data version): `p` None is protection off;
        `year(y)` gives a calendar year's engine, which costs are asked of."""
        self = cls.__new__(cls)
        self.con, self.f, self.threshold, self.p = None, f, (threshold if p is not None else None), p
        self._years, self._year_of = {}, year
        return self

    def narrowed(self, f: Filters) -> "Shown":
        """The same engine asked for another selection of the same period and associations (e.g. without the
        sex filter, where a figure ignores it)."""
        other = Shown.__new__(Shown)
        other.__dict__ = {**self.__dict__, "f": f}
        return other

    # -- counts

    def count(self, measure: str, dims: Mapping[str, Any], sex: str, value, p=None, f=...):
        p = self.p if p is None else p
        if p is None:
            return value
        kind, _ = p.cell(measure, dims, sex, self.f if f is ... else f)
        return value if kind == VISIBLE else hidden_code(kind)

    def counts(self, measure: str, dim: str, keys: Iterable, values: Iterable, sex: str = "total") -> list:
        """`count` of many cells, one per key of `dim`."""
        if self.p is None:
            return list(values)
        return [self.count(measure, {dim: k}, sex, v) for k, v in zip(keys, values)]

    def row(self, measure: str, dims: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
        return {SEX_LABELS[s]: self.count(measure, dims, s, values[s]) for s in SEX_COLUMNS}

    def frame(self, df: pd.DataFrame, measure: str, dims: Iterable[str], sexes: Iterable[str] = SEX_COLUMNS,
              fixed: Mapping[str, object] | None = None) -> pd.DataFrame:
        """A metrics count table (one row per category of `dims`, columns women … total) as shown."""
        if self.p is None or df.empty:
            return df
        display, _ = self.p.frame(df, measure, list(dims), self.f, [s for s in sexes if s in df.columns], fixed)
        return display

    # -- derived figures

    def ratio(self, value, denominator, *numerators):
        """A share or cost per person (as float), or None where it rests on too few people or on a hidden count."""
        r = protected_share(value, denominator, *numerators, threshold=self.threshold)
        return None if r is None else float(r)

    def ratios(self, values: Iterable, denominators: Iterable, numerators: Iterable | None = None) -> list:
        """`protected_share` row by row (values as the metrics layer gives them, not made floats)."""
        t = self.threshold
        if numerators is None:
            return [protected_share(v, d, threshold=t) for v, d in zip(values, denominators)]
        return [protected_share(v, d, n, threshold=t) for v, d, n in zip(values, denominators, numerators)]

    # -- the views of metrics results

    def figures(self, headline: pd.DataFrame, cost: Mapping[str, Any] | None = None,
                years: pd.DataFrame | None = None) -> "Figures":
        """The period's headline figures as shown (metrics.people.headline; cost_summary and
        cost_by_initiative_year for the cost per participant)."""
        return Figures(self, headline, cost, years)

    def wide(self, ini: pd.DataFrame, figures: Iterable[str], years: pd.DataFrame | None = None,
                    dims: Iterable[str] = ("initiative",), sexes: Iterable[str] = SEX_COLUMNS) -> pd.DataFrame:
        """metrics.people.by_initiative's table (or one shaped like it: `{count}_{sex}` columns, per `dims`) with the
        `figures` asked for as shown (of `sexes`), and no other figure: counts by sex as their codes where hidden; shares
        (`{share}_{sex}`, `women_share`) from their declared numerator and denominator; `per_participant` (with
        `years`, metrics.cost.cost_by_initiative_year) over the participants behind it. Other columns (the
        initiative, its targets, its cost basis) pass through."""
        dims, sexes, figures = list(dims), [s for s in sexes], list(figures)
        counts, shares = [], []
        for name in figures:
            if name in SHARES:
                shares.append(name)
                counts += [FIGURES[name].denominator, FIGURES[name].numerator]
            elif name in COUNTS:
                counts.append(name)
            elif name != PER_PARTICIPANT:
                raise ValueError(f"not a figure of the per-initiative table: {name}")
        counts = list(dict.fromkeys(COUNTS[c][0] for c in counts))
        known = {f"{row}_{s}" for row, *_ in COUNTS.values() for s in SEX_COLUMNS}
        known |= {f"{n}_{s}" for n in SHARES if _by_sex(n) for s in SEX_COLUMNS} | {n for n in SHARES if not _by_sex(n)}
        out = ini.copy()
        for row in counts:
            _, measure, fixed, _ = COUNTS[row]
            cols = {f"{row}_{s}": s for s in sexes if f"{row}_{s}" in out.columns}
            shown = self.frame(out[[*dims, *cols]].rename(columns=cols), measure, dims, fixed=fixed or None)
            for c, s in cols.items():
                out[c] = shown[s].to_numpy()
        for name in shares:
            fig = FIGURES[name]
            if not _by_sex(name):  # a share of the whole selection's people: none under a filter on sex
                num, _, _, sex = COUNTS[fig.numerator]
                den = COUNTS[fig.denominator][0]
                out[name] = (self.ratios(out[name], out[f"{den}_total"], out[f"{num}_{sex}"])
                             if not self.f.sexes else [None] * len(out))
                continue
            num, den = COUNTS[fig.numerator][0], COUNTS[fig.denominator][0]
            for s in sexes:
                if f"{name}_{s}" in out.columns:
                    out[f"{name}_{s}"] = self.ratios(out[f"{name}_{s}"], out[f"{den}_{s}"], out[f"{num}_{s}"])
        if "per_participant" in out.columns:
            if PER_PARTICIPANT not in figures:
                out = out.drop(columns="per_participant")
            elif years is None:
                raise ValueError("per_participant needs the cost per initiative and year (years)")
            else:
                people = pooled_people_per_initiative(years, self._participants_kind())
                out["per_participant"] = self.ratios(out.per_participant, [people.get(i, 0) for i in out.initiative])
        keep = {f"{r}_{s}" for r in counts for s in sexes}
        keep |= {f"{n}_{s}" for n in shares for s in sexes} | set(shares)
        return out[[c for c in out.columns if c not in known or c in keep]]

    # -- costs: per initiative and calendar year

    def year(self, y: int):
        """The protection of one calendar year: cost counts are whole-year counts of an initiative."""
        if self.threshold is None:
            return None
        if y not in self._years:
            self._years[y] = (self._year_of(int(y)) if self._year_of is not None else
                              protect_year(self.con, int(y), tuple(self.f.associations), self.threshold))
        return self._years[y]

    def _participants_kind(self) -> Callable[[str, int], str] | None:
        """(initiative, year) -> whether that initiative-year's participant count is visible; None: protection off."""
        if self.p is None:
            return None

        def kind(i: str, y: int) -> str:
            p = self.year(int(y))
            return VISIBLE if p is None else p.cell("participants", {"initiative": i}, "total")[0]

        return kind

    def cost_people(self, years: pd.DataFrame, initiative: str | None = None):
        """The participants a pooled cost per participant divides by, or a hidden code (`pooled_people`)."""
        return pooled_people(years, self._participants_kind(), initiative)


class Withheld:
    """The engine of a period none of whose counts may be shown (a shorter period of a year whose grid shows the year
    alone): every count is `..`. Only a comparison asks it; a page for the period itself is refused (ui.protection)."""

    def cell(self, measure: str, dims: Mapping[str, Any], sex: str, f: Filters | None = None) -> tuple[str, int]:
        return SECONDARY, -1

    def frame(self, df: pd.DataFrame, measure: str, dims, f=None, sexes: Iterable[str] = SEX_COLUMNS, fixed=None
              ) -> tuple[pd.DataFrame, pd.DataFrame]:
        display = df.copy()
        cols = [s for s in sexes if s in df.columns]
        for s in cols:
            display[s] = hidden_code(SECONDARY)
        return display, pd.DataFrame(SECONDARY, index=df.index, columns=cols, dtype=object)


class Figures:
    """A period's headline figures as a protected surface shows them, and nothing else of the result.

    Counts are asked of the engine; shares are derived from the numerator and the denominator
    metrics/definitions.py declares for them, each as shown; the cost per participant divides by the
    participants behind it (`pooled_people`).
    """

    def __init__(self, show: Shown, headline: pd.DataFrame, cost: Mapping[str, Any] | None,
                 years: pd.DataFrame | None) -> None:
        self._show, self._h, self._cost, self._years = show, headline, cost, years

    def count(self, name: str, sex: str = "total"):
        """A count (`participants`, `exited_positive` … as COUNTS names them) as shown: its value or its code."""
        row, measure, dims, of = COUNTS[name]
        s = of or sex
        return self._show.count(measure, dims, s, self._h.loc[row, s])

    def share(self, name: str, sex: str = "total"):
        """A share (`positive_share`, `women_share` …) or the cost per participant, or None where withheld."""
        fig = FIGURES[name]
        if name == PER_PARTICIPANT:
            if self._cost is None or self._years is None:
                raise ValueError("the cost per participant needs cost_summary and cost_by_initiative_year")
            return self._show.ratio(self._cost["per_participant"], self._show.cost_people(self._years))
        if fig.unit != SHARE or fig.numerator not in COUNTS:
            raise ValueError(f"not a share of the headline: {name}")
        return self._show.ratio(self._h.loc[name, sex], self.count(fig.denominator, sex), self.count(fig.numerator, sex))

    def get(self, name: str, sex: str = "total"):
        """Any headline figure as shown: a count, a share or an amount per person."""
        if name in COUNTS:
            return self.count(name, sex)
        if FIGURES[name].unit == SHARE or (FIGURES[name].unit == KRONOR and FIGURES[name].denominator):
            return self.share(name, sex)
        raise ValueError(f"not a headline figure: {name}")

    def by_sex(self, name: str, sexes: Iterable[str] = SEX_COLUMNS) -> dict[str, Any]:
        """`get` for each sex (women, men, other, total)."""
        return {s: self.get(name, s) for s in sexes}


def compared(key: pd.DataFrame, name: str, now: Figures, before: Figures) -> tuple[Any, Any, Any]:
    """(now, before, change) of a key figure as shown: `key` is metrics.compare.key_figures, `now` and `before`
    each period's figures under its own protection. `before` is None where the data do not cover the previous
    period (`previous_covered`); the change is key_figures', shown only where both sides are (a hidden count or a
    withheld share on either side withholds it: a change and one side give the other)."""
    a = now.get(name)
    b = before.get(name) if key.loc[name, "previous_covered"] else None
    change = key.loc[name, "change"]
    if change is None or any(v is None or is_hidden(v) for v in (a, b)):
        change = None
    return a, b, change


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


def cell_ends(columns: Mapping[str, list], row_totals: list, column_totals: Mapping[str, Any],
              threshold: int) -> dict[str, list[float | None]]:
    """A table of counts by row and column (exits by reason and sex, as shown: counts or hidden codes) with its
    totals: for each hidden cell the largest it can be from what is shown, the least of what its column's total
    and its row's total each leave (`bar_ends` over the column and over the row); None for a visible cell or one
    nothing bounds. A share drawn to it (count ÷ the column's total) is never shorter than the truth and tells
    nothing new: without the row's bound the board pack drew men's `..` for a reason 16 people left for to 41 %
    of the men's exits."""
    names = list(columns)
    by_row = [bar_ends([columns[c][i] for c in names], [0] * len(names), total, threshold)
              for i, total in enumerate(row_totals)]
    out: dict[str, list[float | None]] = {}
    for j, c in enumerate(names):
        by_column = bar_ends(columns[c], [0] * len(columns[c]), column_totals[c], threshold)
        out[c] = [None if not is_hidden(v) else min((e for e in (a, row[j]) if e is not None), default=None)
                  for v, a, row in zip(columns[c], by_column, by_row)]
    return out


def hidden_shares(columns: Mapping[str, list], row_totals: list, column_totals: Mapping[str, Any],
                  threshold: int) -> dict[str, list[tuple[float | None, str] | None]]:
    """Shares within each column (exits by reason within each sex) as a chart draws their hidden ones: for each
    cell None where it is shown (or its column's total is hidden or nothing, so no share is drawn), else (the
    largest share it can be, by `cell_ends`, or None where nothing bounds it; its mark). The page and the board
    pack draw the same bound."""
    ends = cell_ends(columns, row_totals, column_totals, threshold)
    out: dict[str, list[tuple[float | None, str] | None]] = {}
    for c, values in columns.items():
        whole = column_totals[c]
        drawn = not is_hidden(whole) and bool(whole)
        out[c] = [(None if e is None else e / float(whole), mark(kind_of(v), threshold))
                  if drawn and is_hidden(v) else None for v, e in zip(values, ends[c])]
    return out
