"""Small-count protection: one engine decides, once per period, which counts every surface hides.

Pages, the presentation, the board deck and the staff export all show counts about people for
the same selection. A reader who can combine them — a total minus its visible parts, one
page's row against another page's column, "all initiatives" against "all but one" — must not
be able to work out a count under the threshold. So protection is decided here, once, over
everything that can be shown for a period, and every surface asks this engine:

1. **The whole.** For a period, every table the app can show without filters (the
   publication, `PUBLICATION`) is computed as one cube per measure, with all its margins.
   A cell shown in two tables is one cell (it has one key), and every additive link between
   cells (parts add up to their total, sexes to the total, reasons 1 + 2 to the wider
   positive count) is a relation.
2. **Primary suppression.** Every shown count from 1 to threshold − 1 is hidden, marked `<5`.
3. **Secondary suppression.** While a relation has exactly one unknown cell (which the others
   would give away), the smallest visible non-zero cell of it is hidden too, marked `..`.
   Cells of detail tables (months, units) are hidden before key figures.
4. **Audit and repair.** For every hidden cell, linear programming over all relations (with the
   reader's knowledge: `<5` means 1 … threshold − 1, `..` means at least the threshold, a count
   the app never shows is unknown) finds the least and the greatest value it can have. A hidden
   cell must keep at least threshold − 1 possible values; where it does not, one more cell of
   its relations is hidden, and the audit runs again. This is the interval audit τ-ARGUS does.
5. **Narrowed selections.** A selection narrowed by initiative, agency or sex shows a count
   only when it follows from what the whole shows (it is a sum of whole cells, and that sum is
   fixed by the visible cells and the relations); otherwise it is marked `..` (or `<5` where it
   is itself small). So no comparison of selections — all initiatives against all but one, all
   agencies against all but one, both sexes against one — adds anything to the whole, and the
   whole is audited.

6. **Years side by side.** A year is tied to the next by those open on 1 January (this year's
   participants are they plus its started; last year's are its exited plus they). Each year is decided
   beside what the year before published (`_Given`: its cells, relations and marks, as one problem with the
   year's own): the year's figures may not give away a count the year before hides, nor the year before's
   figures one of the year's own; the year before stays as it was published. The stock at the year's end is
   still taken as known by its own table's marks (`year_edges`, `_Grid.edge_status`), and a small one must
   not follow from the year's own figures, until the next year is decided beside this one. Pairs of years
   are closed this way; longer runs of years are audited (README, *Years side by side*).
7. **Every count is audited last.** Repair can run out of cells it may hide; a decision that still leaves
   a hidden count pinned is not shown: the shorter periods fall back to the year alone (`_Unprotected`).

What it does not cover: the inequalities between measures (started ≤ participants). The README says so.

Derived figures (shares, deviations from targets, cost per person, changes against the previous
period) are shown only where every count under them is visible and the denominator is at least
the threshold: `share_visible` and the helpers below.
"""
from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import duckdb
import numpy as np
import pandas as pd

from core import derived, settings
from core.vocabulary import OFF_GRID, SEVERAL_ASSOCIATIONS, SEX_COLUMNS, WIDE_POSITIVE_EXTRA, YEAR_ONLY_MESSAGE

from . import catalog, decisions
from .facts import EVENT_DATE, FACTS_SQL, MEASURES, period_sql, periods_facts_sql
from .filters import Filters

DEFAULT_THRESHOLD = 5
TRIALS = 3  # candidates tried, each with an LP, before a count is protected another way
VISIBLE, PRIMARY, SECONDARY = "visible", "primary", "secondary"
SECONDARY_MARK = ".."  # Statistics Sweden's mark for a figure withheld to protect another
NO_DATE = "∅"  # the time dimension of an anonymous count, which carries only a year
POSITIVE, POSITIVE_WIDE = "positive", "positive_wide"  # derived `reason` values: codes 1, and 1 + 2
# Hidden counts in a display table stay numeric, so columns sort and align; tables print them as marks.
HIDDEN_PRIMARY, HIDDEN_SECONDARY = -1, -2
HIDDEN = HIDDEN_PRIMARY  # kept for readers of older code: a primary hidden count


def label(threshold: int = DEFAULT_THRESHOLD) -> str:
    """The mark of a primary hidden count: `<5`."""
    return f"<{threshold}"


def mark(kind: str, threshold: int = DEFAULT_THRESHOLD) -> str:
    return label(threshold) if kind == PRIMARY else SECONDARY_MARK


def legend(threshold: int = DEFAULT_THRESHOLD) -> str:
    """What the two marks mean, in the words every surface prints beside them."""
    return (f"{label(threshold)} = 1–{threshold - 1} personer; {SECONDARY_MARK} = dolt för att skydda ett litet "
            f"antal (annars kunde det räknas fram). Andelar och belopp per person som vilar på ett dolt antal "
            f"eller på färre än {threshold} personer visas inte (–).")


def is_hidden(x) -> bool:
    """A display-table value that stands for a hidden count (`HIDDEN_PRIMARY` or `HIDDEN_SECONDARY`)."""
    try:
        return x is not None and not pd.isna(x) and x in (HIDDEN_PRIMARY, HIDDEN_SECONDARY)
    except (TypeError, ValueError):
        return False


def hidden_code(kind: str) -> int:
    return HIDDEN_PRIMARY if kind == PRIMARY else HIDDEN_SECONDARY


def kind_of(x) -> str:
    """VISIBLE, PRIMARY or SECONDARY for a display-table value."""
    if not is_hidden(x):
        return VISIBLE
    return PRIMARY if x == HIDDEN_PRIMARY else SECONDARY


def share_visible(denominator, *, hidden: bool = False, threshold: int | None = DEFAULT_THRESHOLD) -> bool:
    """A share or an amount per person may be shown: nothing under it hidden, at least `threshold` behind it."""
    if threshold is None:
        return True
    if hidden or denominator is None or is_hidden(denominator):
        return False
    try:
        return not pd.isna(denominator) and denominator >= threshold
    except (TypeError, ValueError):
        return False


# ---------------------------------------------------------------- the publication

@dataclass(frozen=True)
class TableSpec:
    """One table the app can show for the whole period: a measure split by `dims` and by sex, with margins.

    `priority`: secondary suppression hides cells of higher-priority-number (detail) tables first.
    `shown`: which of the cube's cells are published (default: all but those of an anonymous
    count's missing date); the others are computed, linked, and unknown to the reader.
    """

    measure: str
    dims: tuple[str, ...]
    priority: int = 1
    shown: Callable[[dict, "Context"], bool] | None = None
    by_sex: bool = True  # False: the table shows totals only (a cross of two categories, without sex)
    spans: frozenset[str] = frozenset({"Y", "D", "T1", "T2", "T3"})  # the periods that show it (all still link)


@dataclass(frozen=True)
class Context:
    positive: frozenset[str]
    wide: frozenset[str]


def _positive_over_time(cell: dict, ctx: Context) -> bool:
    """Exits per period are shown in total and for the positive codes only (the share over time)."""
    return "reason" not in cell or cell["reason"] in ctx.positive or cell["reason"] in (POSITIVE,)


# Everything the app can show for a period without filters, under protection. Crosses of two
# categories are shown without the sex split (their sex split is mostly small counts, and
# protecting them would hide the key figures); months, quarters, referring units and income flows
# are not shown under protection at all (pages say so): a series over time is shown by tertial,
# which nests in every period of the year's grid (a quarter straddles two tertials).
YEAR_ONLY = frozenset({"Y"})
# The delår and the tertials show the key figures by initiative, agency and reason; crosses of two categories
# and age groups are the year's only (a tertial's crosses are mostly small counts, and protecting them across
# the grid would hide the key figures). A table a period does not show is still computed for it: its cells are
# unknown to the reader, and how they add up to what is shown ties the periods together.
PUBLICATION: tuple[TableSpec, ...] = (
    TableSpec("participants", ("initiative",), 0),
    TableSpec("participants", ("age_group",), 1, spans=YEAR_ONLY),
    TableSpec("started", ("initiative",), 0),
    TableSpec("started", ("agency",), 0),
    TableSpec("started", ("initiative", "agency"), 2, by_sex=False, spans=YEAR_ONLY),
    TableSpec("started", ("tertial", "agency"), 3, by_sex=False, spans=YEAR_ONLY),
    TableSpec("exited", ("initiative",), 0),
    TableSpec("exited", ("reason",), 0),
    TableSpec("exited", ("initiative", "reason"), 2, by_sex=False, spans=YEAR_ONLY),
    TableSpec("exited", ("tertial", "reason"), 3, _positive_over_time, by_sex=False, spans=YEAR_ONLY),
    TableSpec("no_consent", ("initiative",), 1),
)


def _never(cell: dict, ctx: "Context") -> bool:
    return False


# Never shown: the flows by tertial that tie the periods of a year's grid together. A period's count of
# started or exited is the sum of its tertials' (plus, for started, the year's anonymous counts, which
# count in every part of their year); a period's participants are those open at its first day plus
# those who start in it — and equally those who exit in it plus those still open after it. A reader
# who sets the year, the delår and the tertials side by side knows all of this, so the engine does too.
LINKS: tuple[TableSpec, ...] = (
    TableSpec("started", ("initiative", "tertial"), 4, _never),
    TableSpec("exited", ("initiative", "tertial"), 4, _never),
    TableSpec("started", ("agency", "tertial"), 4, _never),
    TableSpec("exited", ("reason", "tertial"), 4, _never),
    TableSpec("started_nc", ("initiative", "tertial"), 4, _never),
    TableSpec("exited_nc", ("initiative", "tertial"), 4, _never),
)
# stock measure -> (its inflow, its outflow, the open-at-a-boundary count, the dimensions it is split by)
STOCKS = {
    "participants": ("started", "exited", "open", ("initiative",)),
    "no_consent": ("started_nc", "exited_nc", "open_nc", ("initiative",)),
}
_MEASURE_SQL = MEASURES | {"started_nc": "is_started AND NOT consent", "exited_nc": "is_exited AND NOT consent"}
_EVENT = EVENT_DATE | {"started_nc": "start_date", "exited_nc": "end_date"}
_OPEN_SQL = {"open": "TRUE", "open_nc": "NOT consent"}

# The periods of one year a reader can choose under protection, each a run of tertials: one grid, one decision.
SPANS = {"Y": (1, 3), "D": (1, 2), "T1": (1, 1), "T2": (2, 2), "T3": (3, 3)}
# The work the shorter periods may take, in LP solves times cells (the year's own decision always completes): past
# it, the year is shown alone. A count of work, not of seconds, so the decision is the same on every machine;
# 12 million is about ten seconds here (the sample's years take 5–9 million since the years' edges are decided
# too, 40 initiatives far more).
GRID_BUDGET = 12_000_000


class OffGrid(ValueError):
    """A period that is not one of the year's grid (helår, delår, tertial): nothing protected is shown for it."""

    def __init__(self) -> None:
        super().__init__(OFF_GRID)
        self.message = OFF_GRID


class YearOnly(OffGrid):
    """The year's shorter periods could not be protected within `GRID_BUDGET`: only the year is shown."""

    def __init__(self) -> None:
        ValueError.__init__(self, YEAR_ONLY_MESSAGE)
        self.message = YEAR_ONLY_MESSAGE


class _Unprotected(RuntimeError):
    """A hidden count that the decision's own figures would still give away, and that no cell it may hide protects."""


class _OverBudget(Exception):
    pass


def span_of(f: Filters) -> str | None:
    """The grid period `f` is ('Y', 'D', 'T1' …), or None for any other run of dates."""
    if f.is_calendar_year:
        return "Y"
    if f.is_interim:
        return "D"
    n = f.tertial_number
    return f"T{n}" if n else None


def span_dates(year: int, span: str) -> tuple[dt.date, dt.date]:
    a, b = SPANS[span]
    return dt.date(year, 4 * a - 3, 1), (dt.date(year, 4 * b + 1, 1) - dt.timedelta(days=1) if b < 3
                                         else dt.date(year, 12, 31))


def _boundary(year: int, k: int) -> dt.date:
    """The first day after tertial k (k = 0: the year's first day)."""
    return dt.date(year + 1, 1, 1) if k == 3 else dt.date(year, 4 * k + 1, 1)


def _tertial_label(year: int, k: int) -> str:
    return f"{year}-T{k}"


FILTER_DIMS = ("initiative", "agency")  # a selection narrows these (and sex)

def _dim_sql(dim: str, measure: str) -> str:
    """A dimension as text; an anonymous count's period is NO_DATE (it carries only a year)."""
    if (period := period_sql(dim, _EVENT[measure])) is not None:
        return f"CASE WHEN anonymous THEN '{NO_DATE}' ELSE {period} END"
    return f"CAST({dim} AS VARCHAR)"


Key = tuple  # (measure, ((dim, value), …) sorted by dim, sex)
SPAN = "span"  # the pseudo-dimension that says which period of the grid a count is of
TIME_DIMS = frozenset({"tertial", "boundary"})


def key(measure: str, dims: Mapping[str, object], sex: str) -> Key:
    return (measure, tuple(sorted((d, str(v)) for d, v in dims.items())), sex)


def span_key(span: str, measure: str, dims: Mapping[str, object], sex: str) -> Key:
    """A count of period `span`. A count by tertial (or open at a boundary) is the same count in every period
    that shows it — the year's 2025-T1 is the tertial's own — so it carries no period, and the periods' sums
    over such counts are what ties them together."""
    if TIME_DIMS & set(dims):
        return key(measure, dims, sex)
    return key(measure, {**dims, SPAN: span}, sex)


# ---------------------------------------------------------------- the engine

@dataclass
class Protection:
    """The decision for one year's grid, seen from one of its periods: every cell's value and whether it is
    visible, `<5` or `..`.

    Build it with `protect_period` (or `protect_year`, then `view`); ask it with `cell`, `table` or `frame`.
    Every period of the year (`SPANS`) is a view of the same decision: the cells, relations and status are
    shared, only the period a question is about differs.
    """

    start: dt.date
    end: dt.date
    threshold: int
    values: dict[Key, int]
    published: set[Key]
    status: dict[Key, str]  # PRIMARY or SECONDARY for hidden published cells
    relations: list[tuple[Key, tuple[Key, ...]]]
    dim_sets: dict[tuple[str, str, frozenset[str]], bool]  # (period, measure, dims) shown -> split by sex too
    ctx: Context
    withdrawn: frozenset[tuple[Key, str]] = frozenset()  # (margin, dimension): lines too small to show at all
    withdrawn_cells: frozenset[Key] = frozenset()  # the parts of a derived count (positive exits) withdrawn
    span: str = "Y"
    shorter: bool = True  # whether the delår and the tertials are shown (False: the year alone, see GRID_BUDGET)
    _rows: np.ndarray | None = field(default=None, repr=False)  # relation matrix over unknowns, per component
    _solver: dict = field(default_factory=dict, repr=False)

    def view(self, span: str) -> "Protection":
        """The same decision seen from another period of the year (it shares the cells, status and solver).
        Raises YearOnly for a shorter period where only the year is shown."""
        if span != "Y" and not self.shorter:
            raise YearOnly()
        start, end = span_dates(self.start.year, span)
        return replace(self, start=start, end=end, span=span)

    def key(self, measure: str, dims: Mapping[str, object], sex: str) -> Key:
        """The key of a count of this view's period."""
        return span_key(self.span, measure, dims, sex)

    # -- the whole

    def kind(self, k: Key) -> str:
        if self._withdrawn(k):
            return SECONDARY  # its line is withdrawn, zeros too
        if k not in self.published and self.values.get(k, 0) != 0:
            return SECONDARY  # never shown: not a figure a surface may print
        return self.status.get(k, VISIBLE)

    def value(self, k: Key) -> int:
        return self.values.get(k, 0)

    # -- any selection of the period

    def cell(self, measure: str, dims: Mapping[str, object], sex: str, f: Filters | None = None) -> tuple[str, int]:
        """(kind, value) of one count for the selection `f` (default: the whole period).

        `dims` are the cell's own categories (e.g. {"initiative": "Alfa"}); the selection's
        initiatives, agencies and sexes narrow it. The value is the true count; a surface prints
        it only when kind is VISIBLE.
        """
        parts = self._expand(measure, dict(dims), sex, f)
        if parts is None:
            return SECONDARY, -1
        value = sum(self.value(p) for p in parts)
        if (self.withdrawn or self.withdrawn_cells) and any(self._withdrawn(p) for p in parts):
            return SECONDARY, value  # part of a line too small to show: none of its cells, zeros included
        unknown = [p for p in parts if self._unknown(p)]
        if not unknown:  # visible cells (never 1 … threshold − 1) and zeros
            return VISIBLE, value
        if len(parts) == 1 and parts[0] in self.status:
            return self.status[parts[0]], value
        if self._solver_for().in_span(unknown):  # already fixed by what the whole shows
            return (PRIMARY if 0 < value < self.threshold else VISIBLE), value
        return SECONDARY, value  # `..` whatever its size: a `<5` here would tell what the whole does not

    def _expand(self, measure: str, dims: dict, sex: str, f: Filters | None) -> list[Key] | None:
        """The whole's cells that add up to this selection's cell, or None where the whole has no such split."""
        choices: list[list[tuple[str, str]]] = []
        if f is not None:
            for dim, chosen in (("initiative", f.initiatives), ("agency", f.agencies)):
                if not chosen:
                    continue
                if dim in dims:
                    if str(dims[dim]) not in set(chosen):
                        return []  # outside the selection: nothing
                    continue
                choices.append([(dim, str(v)) for v in chosen])
        sexes = [sex]
        if f is not None and f.sexes:
            if sex == "total":
                sexes = list(f.sexes)
            elif sex not in f.sexes:
                return []
        needed = frozenset(dims) | {d for d, _ in (c[0] for c in choices)}
        split = self.dim_sets.get((self.span, measure, needed))
        if split is None or (not split and sexes != ["total"]):
            return None
        out = []
        for combo in itertools.product(*choices) if choices else [()]:
            for s in sexes:
                out.append(self.key(measure, {**dims, **dict(combo)}, s))
        return out

    def _unknown(self, k: Key) -> bool:
        """A count the reader does not see: hidden, or never shown (a shown zero is known; a zero never shown is not:
        `values` holds the zeros of the never-shown counts that tie the periods together, and only those)."""
        return k in self.values and (k not in self.published or k in self.status)

    def _withdrawn(self, k: Key) -> bool:
        """Whether `k` lies in a withdrawn line: its margin without one of its dimensions (or its sex)."""
        if k in self.withdrawn_cells:
            return True
        if not self.withdrawn:
            return False
        if k[2] != "total" and ((k[0], k[1], "total"), "sex") in self.withdrawn:
            return True
        return any((m, d) in self.withdrawn for d, _ in k[1] for m in _margins(k, d))

    def _solver_for(self) -> "_Span":
        if "span" not in self._solver:
            self._solver["span"] = _Span(self)
        return self._solver["span"]

    # -- tables for surfaces

    def frame(self, df: pd.DataFrame, measure: str, dims: Iterable[str], f: Filters | None = None,
              sexes: Iterable[str] = SEX_COLUMNS, fixed: Mapping[str, object] | None = None
              ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(display, kinds) for a metrics table: one row per category in `dims`, columns women … total.

        `display` has each hidden count replaced by HIDDEN_PRIMARY or HIDDEN_SECONDARY (still
        numeric); `kinds` holds VISIBLE/PRIMARY/SECONDARY per count cell. The table's own values
        must be the counts of selection `f`; `fixed` adds categories every row shares (e.g. the
        derived reason "positive").
        """
        dims = list(dims)
        display = df.copy()
        kinds = pd.DataFrame(VISIBLE, index=df.index, columns=[c for c in sexes if c in df.columns], dtype=object)
        for i, row in df.iterrows():
            cat = {d: row[d] for d in dims} | dict(fixed or {})
            for s in kinds.columns:
                k, _ = self.cell(measure, cat, s, f)
                kinds.at[i, s] = k
                if k != VISIBLE:
                    display.at[i, s] = hidden_code(k)
        return display, kinds

    def total_row(self, measure: str, f: Filters | None = None, sexes: Iterable[str] = SEX_COLUMNS) -> dict:
        """The selection's total per sex, as a display row (hidden counts as their codes)."""
        out = {}
        for s in sexes:
            k, v = self.cell(measure, {}, s, f)
            out[s] = v if k == VISIBLE else hidden_code(k)
        return out


# ---------------------------------------------------------------- building the whole

class _CubeRow(NamedTuple):
    spec: int
    span: str
    d0: str | None
    d1: str | None
    d2: str | None
    sex: str | None
    v: int | None
    g0: int
    g1: int
    g2: int
    gs: int


def _cubes(con: duckdb.DuckDBPyConnection, year: int, associations: tuple[str, ...],
           specs: list[tuple[TableSpec, list[str]]]) -> list[list[_CubeRow]]:
    """Each table `spec` with all its margins, for each of its periods (column `span`), all in one query over the
    year's facts instead of one per table (the facts of every period counted once; a first visit builds the grid
    of its year and the year before)."""
    width = max(len(spec.dims) for spec, _ in specs)
    assert width <= 3, "a cube of more than three dimensions"
    facts = periods_facts_sql([(s, *span_dates(year, s)) for s in SPANS])
    parts = []
    for i, (spec, spans) in enumerate(specs):
        dims = list(spec.dims)
        names = [f"d{j}" for j in range(len(dims))]
        cols = "".join(f"{_dim_sql(d, spec.measure)} AS d{j}, " for j, d in enumerate(dims))
        pad = "".join(f"CAST(NULL AS VARCHAR) AS d{j}, " for j in range(len(dims), 3))
        groupings = "".join(f"GROUPING({n}) AS g{j}, " for j, n in enumerate(names))
        pad_g = "".join(f"1 AS g{j}, " for j in range(len(dims), 3))
        in_spans = ", ".join(f"'{x}'" for x in spans)
        parts.append(f"""
            SELECT {i} AS spec, span, {''.join(n + ', ' for n in names)}{pad}sex, CAST(sum(n) AS BIGINT) AS v,
                   {groupings}{pad_g}GROUPING(sex) AS gs
            FROM (SELECT period_year AS span, {cols}sex, n FROM facts
                  WHERE period_year IN ({in_spans}) AND ({_MEASURE_SQL[spec.measure]}))
            GROUP BY span, CUBE ({', '.join([*names, 'sex'])})
            {'' if spec.by_sex else 'HAVING GROUPING(sex) = 1'}""")
    sql = f"WITH facts AS MATERIALIZED ({facts}) " + " UNION ALL ".join(f"({q})" for q in parts)
    params = {k: v for k, v in Filters.year(year, associations=associations).params().items()
              if k not in ("start", "end")}  # each period brings its own dates
    out: list[list[_CubeRow]] = [[] for _ in specs]
    for row in con.execute(sql, params).fetchall():
        r = _CubeRow(*row)
        out[r.spec].append(r)
    return out


def _open_cube(con: duckdb.DuckDBPyConnection, year: int, associations: tuple[str, ...], measure: str,
               dim: str) -> pd.DataFrame:
    """Dated enrollments open at each tertial boundary of `year` (started before it, not ended before it), by `dim`
    and sex with margins: the stock a period starts from and the one it leaves."""
    bounds = ", ".join(f"('{_boundary(year, k).isoformat()}', DATE '{_boundary(year, k).isoformat()}')"
                       for k in range(4))
    sql = f"""
        WITH facts AS ({FACTS_SQL}), b(label, d) AS (VALUES {bounds})
        SELECT b.label AS d0, CAST({dim} AS VARCHAR) AS d1, sex, CAST(sum(n) AS BIGINT) AS v,
               GROUPING({dim}) AS g1, GROUPING(sex) AS gs
        FROM facts JOIN b ON start_date < b.d AND (end_date IS NULL OR end_date >= b.d)
        WHERE NOT anonymous AND {_OPEN_SQL[measure]}
        GROUP BY b.label, CUBE ({dim}, sex)
    """
    f = Filters(dt.date(year, 1, 1), dt.date(year, 12, 31), associations=associations)
    return con.execute(sql, f.params()).df()


SPAN_RANK = SPAN_LEVEL = {"Y": 0, "D": 1, "T1": 2, "T2": 2, "T3": 2}


def _priority(span: str, cat: Mapping[str, object], table: int) -> int:
    """Secondary suppression hides the cells of the tertials first, then the delår's, the year's last: the board's
    annual figures are the ones most read. A count by tertial is a tertial's cell whichever period shows it."""
    return 10 * (2 if TIME_DIMS & set(cat) else SPAN_RANK[span]) + table


@dataclass
class _Whole:
    """The cells, what is shown of them, and how they add up, gathered over every period of the year."""

    ctx: Context
    publication: tuple[TableSpec, ...]
    values: dict[Key, int] = field(default_factory=dict)
    zeros: set[Key] = field(default_factory=set)
    published: set[Key] = field(default_factory=set)
    priority: dict[Key, int] = field(default_factory=dict)
    relations: set[tuple[Key, tuple[Key, ...]]] = field(default_factory=set)

    def unseen_zero(self, k: Key) -> None:
        """A count that ties periods together and is zero, if no table shows it: the reader does not know it is zero."""
        if k not in self.values and not self.showable(k):
            self.put(k, 0, False, 40)
            self.zeros.add(k)

    def shows(self, spec: TableSpec, span: str, cat: Mapping[str, object]) -> bool:
        """Whether period `span`'s table `spec` shows the cell of `cat`. A count by tertial is one count whichever
        period has it, so it is shown where any period shows the table."""
        in_period = bool(spec.spans) if TIME_DIMS & set(cat) else span in spec.spans
        return in_period and NO_DATE not in cat.values() and (spec.shown is None or spec.shown(cat, self.ctx))

    def showable(self, k: Key) -> bool:
        """Whether some published table has this cell (then a zero is shown as 0, and known)."""
        cat = {d: v for d, v in k[1] if d != SPAN}
        span = dict(k[1]).get(SPAN, "Y")
        return any(spec.measure == k[0] and set(cat) <= set(spec.dims) and (spec.by_sex or k[2] == "total")
                   and self.shows(spec, span, cat) for spec in self.publication)

    def put(self, k: Key, v: int, shown: bool, priority: int) -> None:
        if k in self.values and self.values[k] != v:  # a count by tertial is one count, whichever period shows it
            raise AssertionError(f"one cell, two values: {k} {self.values[k]} {v}")
        self.values[k] = v
        if shown:
            self.published.add(k)
        self.priority[k] = min(self.priority.get(k, 99), priority)

    def add_cube(self, span: str, spec: TableSpec, rows: list[tuple[dict, str, int]]) -> None:
        """One table of one period with its margins: each margin is the sum of its children along one dimension."""
        cells: dict[Key, tuple[dict, str]] = {}
        for cat, sex, v in rows:
            k = span_key(span, spec.measure, cat, sex)
            self.put(k, v, self.shows(spec, span, cat), _priority(span, cat, spec.priority))
            cells[k] = (cat, sex)
        children: dict[tuple[Key, str], set[Key]] = defaultdict(set)
        # a cube has rows only for counts that are not zero; a zero no table shows is unknown to the reader, so each
        # margin's children are all the categories of its dimension (those of this period's rows): a relation without
        # such a part would tell the engine's audit that the reader knows it is zero
        categories: dict[str, set[str]] = defaultdict(set)
        for cat, _ in cells.values():
            for d, v in cat.items():
                categories[d].add(v)
        lines = {(d, tuple(sorted((x, v) for x, v in cat.items() if x != d)), sex)
                 for cat, sex in cells.values() for d in cat}
        for d, rest, sex in sorted(lines):  # each margin once, with all its children
            parent = span_key(span, spec.measure, dict(rest), sex)
            for v in categories[d]:
                child = span_key(span, spec.measure, {**dict(rest), d: v}, sex)
                if child not in self.values:
                    self.unseen_zero(child)
                if child in self.values:
                    children[(parent, d)].add(child)
        for k, (cat, sex) in cells.items():
            if sex != "total":
                children[(span_key(span, spec.measure, cat, "total"), "sex")].add(k)
        for (parent, _), kids in children.items():
            self.relations.add((parent, tuple(sorted(kids))))
        if spec.measure == "exited" and "reason" in spec.dims:
            self._positive(span, spec, cells)

    def _positive(self, span: str, spec: TableSpec, cells: dict[Key, tuple[dict, str]]) -> None:
        """Derived exit counts: positive (codes 1) and positive_wide (1 + 2), wherever reason is split."""
        groups: dict[tuple, dict[str, list[Key]]] = defaultdict(lambda: defaultdict(list))
        for k, (cat, sex) in cells.items():
            if "reason" in cat:
                rest = tuple(sorted((d, v) for d, v in cat.items() if d != "reason"))
                for name, codes in ((POSITIVE, self.ctx.positive), (POSITIVE_WIDE, self.ctx.wide)):
                    if cat["reason"] in codes:
                        groups[(rest, sex)][name].append(k)
                    else:
                        groups[(rest, sex)].setdefault(name, [])
        for (rest, sex), by in groups.items():
            for name, parts in by.items():
                cat = {**dict(rest), "reason": name}
                d = span_key(span, "exited", cat, sex)
                self.put(d, sum(self.values[p] for p in parts), self.shows(spec, span, cat), _priority(span, cat, spec.priority))
                if parts:
                    self.relations.add((d, tuple(sorted(parts))))

    def add_stock_links(self, year: int) -> None:
        """Tie each period's stock (participants, no consent) to the flows and to the other periods.

        For a period of tertials a…b: its count = those open at its first day + those who start in it, and = those
        who exit in it + those still open after it (each plus the year's anonymous counts, which count in every
        part of their year).
        """
        nodate = {"tertial": NO_DATE}
        for stock, (inflow, outflow, open_, dims) in STOCKS.items():
            cats = {(tuple((d, v) for d, v in k[1] if d not in (SPAN, "tertial", "boundary")), k[2])
                    for k in self.values if k[0] in (stock, inflow, outflow, open_)}
            cats = {(c, sx) for c, sx in cats if all(d in dims for d, _ in c)}
            for span, (a, b) in SPANS.items():
                for c, sx in sorted(cats):
                    cat = dict(c)
                    total = span_key(span, stock, cat, sx)
                    anon = key(inflow, {**cat, **nodate}, sx)
                    ins = [key(inflow, {**cat, "tertial": _tertial_label(year, k)}, sx) for k in range(a, b + 1)]
                    outs = [key(outflow, {**cat, "tertial": _tertial_label(year, k)}, sx) for k in range(a, b + 1)]
                    before = key(open_, {**cat, "boundary": _boundary(year, a - 1).isoformat()}, sx)
                    after = key(open_, {**cat, "boundary": _boundary(year, b).isoformat()}, sx)
                    for part in (before, after, anon, *ins, *outs):
                        self.unseen_zero(part)
                    started, exited = span_key(span, inflow, cat, sx), span_key(span, outflow, cat, sx)
                    if started in self.values or exited in self.values or total in self.values:
                        # the same in the period's own terms, so that the year alone (decided first) knows them too:
                        # its count = those open at its first day + its started = its exited + those open after it
                        first, rest = span_key(span, "open_at_start", {**cat, "of": stock}, sx), \
                            span_key(span, "open_at_end", {**cat, "of": stock}, sx)
                        for helper, value, parts in ((first, self.values.get(total, 0) - self.values.get(started, 0),
                                                      (before,)),
                                                     (rest, self.values.get(total, 0) - self.values.get(exited, 0),
                                                      (after, anon))):
                            self.put(helper, value, False, 40)
                            if value == 0:
                                self.zeros.add(helper)
                            self.relations.add((helper, tuple(sorted(parts))))
                        self.relations.add((total, tuple(sorted([first, started]))))
                        self.relations.add((total, tuple(sorted([exited, rest]))))
                    else:
                        self.relations.add((total, tuple(sorted([before, *ins, anon]))))
                        self.relations.add((total, tuple(sorted([*outs, after, anon]))))



def protect_period(con: duckdb.DuckDBPyConnection, f: Filters, threshold: int = DEFAULT_THRESHOLD,
                   publication: tuple[TableSpec, ...] = PUBLICATION) -> Protection:
    """The decision for the period of `f`: its view of the decision for its year's grid (`protect_year`).

    The whole is the year and the chosen association (each association reports on its own); `f`'s
    initiatives, agencies and sexes play no part here: they narrow what is asked of it. Raises
    SeveralAssociations where the whole would span more than one named association, and OffGrid for a
    period that is not a year, its delår or a tertial.
    """
    span = span_of(f)
    if span is None:
        raise OffGrid()
    return protect_year(con, f.start.year, f.associations, threshold, publication).view(span)


class SeveralAssociations(ValueError):
    """The whole would span several associations: protected figures are decided one association at a time.

    Each association reports on its own, and its whole is solved in about a second; one problem over a
    region's or the nation's associations, with the sums over them that a reader could set against each
    association's own pages, grows far faster than their number (five of them took a minute, eighty did
    not finish), so protected views over several associations are not offered (README, *Protection*).
    """

    def __init__(self) -> None:
        super().__init__(SEVERAL_ASSOCIATIONS)
        self.message = SEVERAL_ASSOCIATIONS


def spans_several_associations(con: duckdb.DuckDBPyConnection, f: Filters) -> bool:
    """Whether the whole of `f` covers more than one named association."""
    if f.associations:
        return len(f.associations) > 1
    (n,) = con.execute("""SELECT count(DISTINCT association) FROM (SELECT association FROM enrollments
                          UNION SELECT association FROM anonymous_counts) WHERE association <> ''""").fetchone()
    return n > 1


def protect_year(con: duckdb.DuckDBPyConnection, year: int, associations: tuple[str, ...] = (),
                 threshold: int = DEFAULT_THRESHOLD, publication: tuple[TableSpec, ...] = PUBLICATION) -> Protection:
    """Decide, once for the whole grid of `year` (helår, delår, three tertials), which cells every surface hides.

    One linked problem: each period's tables are cells, and the flows by tertial tie them together, so no
    combination of the periods a reader can choose pins a hidden count. Returns the year's view (`view`
    gives the others). Raises SeveralAssociations where the whole would span more than one named association.
    The decision the loader stored for exactly these cells (metrics.decisions) is read instead of solved anew.
    """
    associations = tuple(associations)
    if spans_several_associations(con, Filters.year(year, associations=associations)):
        raise SeveralAssociations()
    if publication is PUBLICATION and (p := _stored_protection(con, year, associations, threshold)) is not None:
        return p
    if publication is not PUBLICATION:
        grid = _grid(con, year, associations, publication)
        return grid.protection(grid.decide(threshold), threshold)
    grid = year_grid(con, year, associations, threshold)
    memo = (grid.digest(), year, associations, threshold)
    if (p := _DECIDED.get(memo)) is not None:
        return p
    text = decisions.stored(con, year, associations, threshold, memo[0])
    decision = decisions.decode(text) if text is not None else None
    if decision is None:
        decision = grid.decide(threshold)
    return _remember(memo, grid.protection(decision, threshold))


def year_grid(con: duckdb.DuckDBPyConnection, year: int, associations: tuple[str, ...] = (),
              threshold: int = DEFAULT_THRESHOLD) -> _Grid:
    """The year's cells as its decision is made over them: beside what the year before published (`_given`)."""
    return _grid(con, year, associations, PUBLICATION).beside(_given(con, year, associations, threshold))


def _given(con: duckdb.DuckDBPyConnection, year: int, associations: tuple[str, ...], threshold: int) -> _Given | None:
    """What the year before published, where there is one: the year is decided beside it (README, *Years side by
    side*), and its own decision beside the year before that, so each year is kept as first published."""
    if year - 1 not in catalog.years(con):
        return None
    return _given_of(protect_year(con, year - 1, associations, threshold), threshold)


def _given_of(before: "Protection", threshold: int) -> _Given:
    """`_Given.of`, once per decision of the year before (each builds an LP over its cells to find what it guards)."""
    for held, given in _GIVEN:
        if held is before:
            return given
    _GIVEN.append((before, given := _Given.of(before, threshold)))
    del _GIVEN[:-_DECIDED_MAX]
    return given


_GIVEN: list[tuple["Protection", _Given]] = []  # the year before's as given to the next, by the decision it is of


def _stored_protection(con: duckdb.DuckDBPyConnection, year: int, associations: tuple[str, ...],
                       threshold: int) -> "Protection | None":
    """The year's protection from what the loader stored, cells and decision, where the data is the same as
    when they were counted (metrics.decisions): a first visit reads them instead of counting the year again."""
    try:
        data = decisions.data_digest(con)
    except duckdb.Error:  # a database without the tables the cells come from: nothing stored to read either
        return None
    if (digest := decisions.stored_digest(con, year, associations, threshold, data)) is None:
        return None
    memo = (digest, year, associations, threshold)
    if (p := _DECIDED.get(memo)) is not None:
        return p
    if (stored := decisions.stored_cells(con, year, associations, threshold, data)) is None:
        return None
    values, relations, dim_sets, positive, wide = decisions.decode_grid(stored[0])
    return _remember(memo, _protection(year, values, relations, dim_sets, Context(positive, wide),
                                       decisions.decode(stored[1]), threshold))


def _remember(memo: tuple, p: "Protection") -> "Protection":
    """Keep `p` for its cells (`_DECIDED`), the oldest let go past `_DECIDED_MAX`."""
    _DECIDED[memo] = p
    while len(_DECIDED) > _DECIDED_MAX:
        _DECIDED.pop(next(iter(_DECIDED)))
    return p


# The protections this process has decided or read, by the digest of their cells: the board pack, the staff export
# and the report each ask for the year several times, and a decision depends on nothing but its cells (a load that
# changes a count changes the digest). Read-only for every caller, as the app's shared cache already requires.
_DECIDED: dict[tuple, "Protection"] = {}
_DECIDED_MAX = 16


@dataclass(frozen=True)
class _Given:
    """What the year before has published, as the next year's decision must keep it: its cells (renamed by their
    year, but for the stocks open on the 1 January the two years share), their relations, what it shows and hides,
    and the hidden counts the next year's figures must not give away (those that hold on the year before alone)."""

    values: dict[Key, int]
    relations: list[tuple[Key, tuple[Key, ...]]]
    published: frozenset[Key]
    status: dict[Key, str]
    withdrawn: frozenset[tuple[Key, str]]
    withdrawn_cells: frozenset[Key]
    guarded: frozenset[Key]
    digest: str

    @classmethod
    def of(cls, before: "Protection", threshold: int) -> "_Given":
        """Only what can meet the next year is kept: the counts tied, through counts a reader does not see, to a
        hidden stock open on the 1 January between them. The rest is fixed by what the year before shows, or
        free of the next year whatever it shows, and the year before's own decision has protected it."""
        year = before.start.year
        edge = _boundary(year + 1, 0).isoformat()

        def tag(k: Key) -> Key:
            dims = dict(k[1])
            if dims.get("boundary") == edge:
                return k
            return (k[0], tuple(sorted((*k[1], ("year", str(year))))), k[2])

        # the stock between the years is one count of both, and no surface shows it: with the year before's own
        # figures beside the next year's, a reader knows of it what they give, not what its own table would mark
        links = {k for k in before.values if dict(k[1]).get("boundary") == edge}
        unknown = {k for k in before.values if k in before.status or k not in before.published} | links
        meeting: set[Key] = set()
        rels: set[int] = set()
        for cells, rel in _components(unknown, before.relations):
            if links.intersection(cells):
                meeting.update(cells)
                rels.update(rel)
        kept_relations = [before.relations[i] for i in sorted(rels)]
        kept = meeting | {c for t, parts in kept_relations for c in (t, *parts)}
        values = {tag(k): before.values[k] for k in kept}
        relations = [(tag(t), tuple(tag(q) for q in parts)) for t, parts in kept_relations]
        published = frozenset(tag(k) for k in before.published if k in kept and k not in links)
        status = {tag(k): v for k, v in before.status.items() if k in kept and k not in links}
        withdrawn = frozenset((tag(t), d) for t, d in before.withdrawn if t in kept)
        withdrawn_cells = frozenset(tag(k) for k in before.withdrawn_cells if k in kept)
        hidden = sorted(tag(k) for k in meeting - links  # a stock is no count the app shows
                        if k in before.status or 0 < before.values[k] < threshold and before._withdrawn(k))
        pinned = set(_Auditor(values, published, status, relations, threshold).narrow(hidden)) if hidden else set()
        digest = decisions.cells_digest(values, published) + decisions.cells_digest(
            {k: {PRIMARY: 1, SECONDARY: 2}[v] for k, v in status.items()}, [t for t, _ in withdrawn] + list(withdrawn_cells))
        return cls(values, relations, published, status, withdrawn, withdrawn_cells,
                   frozenset(k for k in hidden if k not in pinned), digest)


@dataclass
class _Grid:
    """A year's cells, what is published of them and how they are related: what the decision is made over."""

    year: int
    values: dict[Key, int]
    published: set[Key]
    priority: dict[Key, int]
    relations: list[tuple[Key, tuple[Key, ...]]]
    dim_sets: dict[tuple[str, str, frozenset[str]], bool]
    ctx: Context
    known: frozenset[Key] = frozenset()  # the stocks at the year's edges, taken as known (`year_edges`)
    given: _Given | None = None  # what the year before published: kept as it is, and kept protected

    def beside(self, given: _Given | None) -> "_Grid":
        """The year decided beside the year before (`_Given`): the stock open on its first day is then no longer
        taken as known by its own table's marks (`year_edges`) but as what the year before's figures give."""
        if given is None:
            return self
        start = {k for k in self.known if dict(k[1])["boundary"] == _boundary(self.year, 0).isoformat()}
        return replace(self, given=given, known=self.known - start, published=self.published - start)

    def digest(self) -> str:
        own = decisions.cells_digest(self.values, self.published)
        return own if self.given is None else own + self.given.digest

    def _suppression(self, published: set[Key], threshold: int, *, before, guarded: set[Key], **kw) -> "_Suppression":
        """A suppression over the year's cells and, where there is one, the year before's as it published them:
        its counts are never hidden again, its hidden ones stay as they are, and none of them may follow."""
        g = self.given
        if g is None:
            return _Suppression(self.values, published, self.priority, self.relations, threshold, before=before,
                                guarded=guarded, known=self.known, **kw)
        status, withdrawn, withdrawn_cells = before
        if kw.get("budget") is not None:  # the work budget is the year's own: the year before's cells only ride along
            kw["budget"] = kw["budget"] * (len(g.values) + len(self.values)) // len(self.values)
        return _Suppression({**g.values, **self.values}, set(published) | g.published, self.priority,
                            [*self.relations, *g.relations], threshold,
                            before=(g.status | dict(status), set(withdrawn) | g.withdrawn,
                                    set(withdrawn_cells) | g.withdrawn_cells),
                            guarded=set(guarded) | g.guarded, known=self.known | frozenset(g.values),
                            fixed=frozenset(g.values), **kw)

    def _solved(self, published: set[Key], threshold: int, **kw):
        """A suppression run with the primal simplex, and where it leaves a count pinned, run again with HiGHS's
        own choice (the dual simplex).

        Most of the audit's solves change only the objective, which leaves the last basis feasible: the primal
        simplex goes on from it, where the dual simplex starts nearly afresh (the sample's 2025: 33 000 iterations
        against 157 000). But which cell repair hides follows the vertex the solver ends on, and over 51
        association-years the primal simplex alone kept the shorter periods in 25, the dual in 29; run again where
        it fails, a year keeps them where either run can (32). The national benchmark's Norrhamn 2024 is decided
        in 61 s instead of 207 s, 2025 beside it in 51 s instead of 177 s (bench/RESULTS.md)."""
        try:
            return self._suppression(published, threshold, primal=True, **kw).run()
        except _Unprotected:
            return self._suppression(published, threshold, **kw).run()

    def _own(self, decision: tuple) -> tuple:
        """The year's part of a decision made beside the year before's cells."""
        if self.given is None:
            return decision
        status, withdrawn, withdrawn_cells, *rest = decision
        values = self.values
        return ({k: v for k, v in status.items() if k in values}, {w for w in withdrawn if w[0] in values},
                {k for k in withdrawn_cells if k in values}, *rest)

    def decide(self, threshold: int) -> tuple[dict[Key, str], set[tuple[Key, str]], set[Key], set[Key], bool]:
        """(status, withdrawn lines, withdrawn cells, published, whether the shorter periods are shown): kept in
        the folder `$FINSAM_DECISION_CACHE` names, where it names one (metrics.decisions.cached)."""
        if settings.get("FINSAM_DECISION_CACHE") is None:
            return self._decide(threshold)
        key = decisions.fingerprint(threshold, self)
        if (decision := decisions.cached(key)) is not None:
            return decision
        decision = self._decide(threshold)
        decisions.keep(key, decisions.encode(*decision))
        return decision

    def _decide(self, threshold: int) -> tuple[dict[Key, str], set[tuple[Key, str]], set[Key], set[Key], bool]:
        values, published = self.values, set(self.published)
        # first the year on its own, as if no shorter period were shown (their cells unseen, as when the year is shown
        # alone: every relation still holds, and a count never shown is still at least 0); then the delår and the
        # tertials around it
        year_cells = {k for k in values if _level(k) == 0} | self.known
        edges = self.edge_status(threshold)
        shorter = True
        try:
            *first_stage, year_published = self._year_alone(published & year_cells, edges, threshold)
        except _Unprotected as e:  # the year's own figures give a count away however they are hidden: fewer of them
            shorter = False
            *first_stage, year_published = self._fewer_tables(published & year_cells, edges, threshold, e)
        gone = (published & year_cells) - year_published  # the year's withdrawn lines
        published -= gone
        try:
            if not shorter:
                raise _OverBudget()
            status, withdrawn, withdrawn_cells, _ = self._solved(
                published, threshold, min_level=1, before=tuple(first_stage),
                guarded={c for c in gone if 0 < values[c] < threshold}, budget=GRID_BUDGET)
        except (_OverBudget, _Unprotected):  # the year alone, as decided first: nothing of its shorter periods is shown
            shorter = False
            status, withdrawn, withdrawn_cells = first_stage
            published = published & year_published
        status, withdrawn, withdrawn_cells = self._own((status, withdrawn, withdrawn_cells))
        published = {k for k in published if k in values}
        p = self.protection((status, withdrawn, withdrawn_cells, published, shorter), threshold)
        return status, set(withdrawn), set(withdrawn_cells), p.published, shorter

    def _year_alone(self, published: set[Key], edges: dict[Key, str], threshold: int,
                    withdrawn: tuple[set[tuple[Key, str]], set[Key]] = (set(), set()), guarded: set[Key] = frozenset(),
                    budget: int | None = None):
        """The year's own decision over `published` (its cells and its edges); raises _Unprotected (and
        _OverBudget past `budget`)."""
        # a small stock at the year's edges is the year before's or the year after's too (those open on 1 January
        # are next year's participants at its start, and in a year of data that ends early nearly all of them):
        # however its own table hides it, the year's figures must not give it away
        small_edges = {k for k in self.known if 0 < self.values[k] < threshold}
        return self._solved(published, threshold, before=(edges, *withdrawn), guarded=small_edges | set(guarded),
                            budget=budget)

    def _fewer_tables(self, published: set[Key], edges: dict[Key, str], threshold: int, failed: _Unprotected):
        """A year so small that its own marks pin a count (a `<5` beside `<5`s under a `<5` total, tied to the
        stocks at its edges): withdraw whole tables of the year, the finest first, until none is pinned; then
        the key figures by sex, their totals, and at last everything but the number of participants go too.
        The first that pins nothing is taken, not the one that shows most: what the year shows also meets the
        years beside it at its edges, and less shown leaves them more room. The year is shown alone. A step past
        the work budget (`GRID_BUDGET`) counts as failed (the next withdraws more and is quicker). Where even
        nothing but the edges would pin a count, the decision stands as repair left it (README)."""
        year = {k for k in published if k not in self.known}

        def table(k: Key) -> tuple[str, frozenset[str]]:
            return k[0], frozenset(d for d, _ in k[1] if d != SPAN)

        def key_figure(k: Key) -> bool:
            return k[0] in KEY_FIGURES and not table(k)[1]

        # the tables of the year, finest (most dimensions) first; then the key figures by sex, their totals, then
        # all but the number of participants, then nothing
        tables = sorted({table(k) for k in year if not key_figure(k)}, key=lambda t: (-len(t[1]), t[0], sorted(t[1])))
        steps: list[Callable[[Key], bool]] = []
        for i in range(1, len(tables) + 1):
            gone_tables = set(tables[:i])
            steps.append(lambda k, g=gone_tables: table(k) not in g)
        steps += [key_figure, lambda k: key_figure(k) and k[2] == "total",
                  lambda k: key_figure(k) and k[2] == "total" and k[0] == "participants", lambda k: False]
        last = failed
        for keep in steps:
            kept = {k for k in year if keep(k)}
            withdrawn, withdrawn_cells = self._withdrawn_lines(year - kept, kept)
            try:
                return self._year_alone(kept | (published & self.known), edges, threshold, (withdrawn, withdrawn_cells),
                                        {k for k in year - kept if 0 < self.values[k] < threshold}, GRID_BUDGET)
            except _Unprotected as e:
                last = e
            except _OverBudget:  # each step withdraws more, so the next is quicker
                continue
        return last.args[1]

    def _withdrawn_lines(self, cells: set[Key], kept: set[Key]) -> tuple[set[tuple[Key, str]], set[Key]]:
        """The lines (margin, dimension) that withdraw these cells of the year and none of `kept`, zeros included; a
        cell no such line holds (a key figure's total, positive exits) is withdrawn alone."""
        withdrawn: set[tuple[Key, str]] = set()
        alone = set(cells)
        for tot, parts in self.relations:
            if not parts or _level(tot) != 0 or not all(c[0] == tot[0] and _level(c) == 0 for c in parts) \
                    or not cells.intersection(parts) or kept.intersection(parts):
                continue
            split = _split(tot, parts[0])
            if split is not None:
                withdrawn.add((tot, split))
                alone -= set(parts)
        return withdrawn, alone

    def edge_status(self, threshold: int) -> dict[Key, str]:
        """Which stocks at the year's edges are hidden, decided on each edge's own table (those open on that
        1 January by initiative and sex, with its margins) and nothing else: the year before and the year after
        decide the same edge alike, so both are protected against the same marks. Zeros play no part (a year
        that lists an initiative with nobody open has a zero the other may lack)."""
        status: dict[Key, str] = {}
        for edge in sorted({dict(k[1])["boundary"] for k in self.known}):
            cells = {k: self.values[k] for k in self.known if dict(k[1])["boundary"] == edge and self.values[k]}
            rels = [(t, tuple(q for q in parts if q in cells)) for t, parts in self.relations
                    if t in cells and all(q in self.known for q in parts)]
            try:
                edge_status, *_ = _Suppression(cells, set(cells), self.priority, rels, threshold).run()
            except _Unprotected:  # an edge whose own marks pin a count: all of it hidden (no page shows it)
                edge_status = {k: PRIMARY if v < threshold else SECONDARY for k, v in cells.items()}
            status |= edge_status
        return status

    def protection(self, decision, threshold: int) -> Protection:
        return _protection(self.year, self.values, self.relations, self.dim_sets, self.ctx, decision, threshold)


def _protection(year: int, values: dict[Key, int], relations: list[tuple[Key, tuple[Key, ...]]],
                dim_sets: dict[tuple[str, str, frozenset[str]], bool], ctx: Context, decision,
                threshold: int) -> Protection:
    """The year's view of a decision over its cells (decided now, or read with the cells the loader stored)."""
    status, withdrawn, withdrawn_cells, published, shorter = decision
    first, last = span_dates(year, "Y")
    p = Protection(first, last, threshold, values, set(published), dict(status), relations, dim_sets, ctx,
                   frozenset(withdrawn), frozenset(withdrawn_cells), shorter=shorter)
    p.published = {k for k in published if not p._withdrawn(k)}
    return p


def _grid(con: duckdb.DuckDBPyConnection, year: int, associations: tuple[str, ...],
          publication: tuple[TableSpec, ...]) -> _Grid:
    """Every cell of the year's grid from the data: each period's tables, the flows by tertial and the stocks."""
    pos = frozenset(str(c) for (c,) in con.execute("SELECT code FROM exit_reasons WHERE positive").fetchall()) \
        or frozenset({"1"})
    ctx = Context(pos, pos | {WIDE_POSITIVE_EXTRA})
    whole = _Whole(ctx, publication)
    dim_sets: dict[tuple[str, str, frozenset[str]], bool] = {}
    for spec in publication:
        dims = list(spec.dims)
        for sub in itertools.chain.from_iterable(itertools.combinations(dims, r) for r in range(len(dims) + 1)):
            # a count by tertial is one count in every period that holds its tertial
            for span in (SPANS if TIME_DIMS & set(sub) else spec.spans):
                k = (span, spec.measure, frozenset(sub))
                dim_sets[k] = dim_sets.get(k, False) or spec.by_sex
    # a table a period does not show, and that no flow ties to another period, adds nothing for that period
    specs = [(spec, [s for s in SPANS if s in spec.spans or TIME_DIMS & set(spec.dims)])
             for spec in (*publication, *LINKS)]
    cubes = _cubes(con, year, associations, specs)
    for (spec, spans), cube in zip(specs, cubes):
        rows: dict[str, list] = {s: [] for s in spans}
        for row in cube:
            if row.v is None:  # an empty period: the cube's grand total of nothing
                continue
            cat = {d: getattr(row, f"d{i}") for i, d in enumerate(spec.dims) if not getattr(row, f"g{i}")}
            rows[row.span].append((cat, "total" if row.gs else row.sex, int(row.v)))
        for span in spans:
            whole.add_cube(span, spec, rows[span])
    for _, _, open_, dims in STOCKS.values():
        for dim in dims:
            rows = []
            for row in _open_cube(con, year, associations, open_, dim).itertuples(index=False):
                cat = {"boundary": row.d0} | ({} if row.g1 else {dim: row.d1})
                rows.append((cat, "total" if row.gs else row.sex, int(row.v)))
            whole.add_cube("Y", TableSpec(open_, ("boundary", dim), 4, _never), rows)
    whole.add_stock_links(year)
    values = {k: v for k, v in whole.values.items() if v != 0 or k in whole.zeros}
    known = year_edges(year, values)
    if year >= max(catalog.years(con), default=year):
        # the last year with data ends at no other year (a later one is never offered): nothing else tells the stock
        # it leaves, so it is a count the reader does not see, not one taken as known
        end = _boundary(year, 3).isoformat()
        known = frozenset(k for k in known if dict(k[1])["boundary"] != end)
    published = {k for k in whole.published if values.get(k, 0) != 0} | known
    # in a fixed order: the order of a set of strings changes with each process's hash seed, and with it which
    # cells elimination hides, so a restart could show a second pattern to set against the first
    relations_l = [(t, tuple(p for p in parts if p in values)) for t, parts in sorted(whole.relations) if t in values]
    return _Grid(year, values, published, whole.priority, relations_l, dim_sets, ctx, known)


def year_edges(year: int, values: Mapping[Key, int]) -> frozenset[Key]:
    """The stocks at the year's edges: those open on its first day and on the next year's, per initiative and sex.

    They tie each year to the next (this year's participants = those open on 1 January + this year's started;
    last year's = its exited + those still open on 1 January + its anonymous counts). Each edge is treated as a
    published table that no period may hide more of: decided alone (`_Grid.edge_status`), and the year is decided
    as if the reader knew every visible edge count exactly and every hidden one only by its mark. A small edge must
    not follow from the year's own figures either (`_Grid.decide`), and the last year's end is no edge (`_grid`).
    Where the year before is in the data, the first of them is not taken so (`_Grid.beside`): the year is decided
    beside the year before's own figures, which say what a reader knows of it."""
    edges = {_boundary(year, 0).isoformat(), _boundary(year, 3).isoformat()}
    return frozenset(k for k in values if k[0] in _OPEN_SQL and dict(k[1]).get("boundary") in edges)


def _ahead(grid: _Grid, before: tuple[_Grid, tuple] | None, threshold: int, kept: dict[str, str]):
    """One year decided ahead: beside the year before's decision (its grid and decision, `before`), or the one
    the replaced data had where its digest is among `kept`. Top-level, so that another process can run it."""
    if before is not None:
        grid = grid.beside(_given_of(before[0].protection(before[1], threshold), threshold))
    digest = grid.digest()  # a hash of every cell: once per year, not per use
    text = kept.get(digest)
    return grid, digest, decisions.decode(text) if text is not None else grid.decide(threshold)


def _precompute(con: duckdb.DuckDBPyConnection) -> None:
    """metrics.ahead.precompute: how the years are scheduled is not the engine (its source is not in ENGINE)."""
    from . import ahead

    ahead.precompute(con)


def _after_change(db) -> None:
    """After a change is in: the years its load left undecided are decided in the background (metrics.backlog)."""
    from . import backlog

    backlog.after_change(db)


derived.register(decisions.TABLE, _precompute)
derived.after_change(_after_change)


def _level(k: Key) -> int:
    """How far down the year's grid a count lies: the year 0, the delår 1, a tertial 2. A count is hidden to
    protect another only at the other's level or below, so protecting a tertial never hides a figure of the
    year: the board's annual figures are decided as if the tertials were not there, and each shorter period
    gives way (its cells hidden, its lines withdrawn) where it would give something away."""
    dims = dict(k[1])
    if TIME_DIMS & set(dims):
        return 2
    return SPAN_LEVEL.get(dims.get(SPAN, "Y"), 0)


KEY_FIGURES = frozenset({"participants", "started", "exited"})


def _may_hide(c: Key, protected: Key) -> bool:
    """Whether `c` may be hidden to protect `protected`: never a period's total of participants, started or exited
    (the figure every view opens with; where it could give a count away, the lines below it give way instead),
    and never a count higher up the year's grid than the one protected (`_level`)."""
    if c[0] in KEY_FIGURES and all(d == SPAN for d, _ in c[1]):
        if c[2] == "total":
            return False
        return _level(c) >= max(1, _level(protected))  # a period's key figure by sex: only for its own level
    # the delår's details give way for a tertial too (a tertial 3 is the year less the delår): never the year's
    return _level(c) >= max(1, min(_level(protected), 1))


def _margins(k: Key, d: str) -> list[Key]:
    """The margins `k` is a part of along dimension `d`: without a time dimension, a count is one of each period."""
    rest = tuple(x for x in k[1] if x[0] != d)
    if d not in TIME_DIMS:
        return [(k[0], rest, k[2])]
    return [(k[0], tuple(sorted((*rest, (SPAN, span)))), k[2]) for span in SPANS]


def _split(total: Key, part: Key) -> str | None:
    """The dimension a relation splits its margin by: sex, or the one the part has and the margin lacks; None
    for a derived count (positive exits as the sum of their reasons: same dimensions, same sex)."""
    if part[2] != total[2]:
        return "sex"
    extra = {d for d, _ in part[1]} - {d for d, _ in total[1]}
    return extra.pop() if extra else None


# ---------------------------------------------------------------- deciding

class _Suppression:
    """Primary, then secondary by elimination, then the LP audit with repair, until every hidden cell holds.

    One decision over a grid: `run()` returns (status, withdrawn lines as (margin, dimension), the cells
    withdrawn as parts of a derived count, which is no line of its own, and what is still published). The
    steps share the decision as it grows (status, withdrawn, published), so they are methods of one object.

    `min_level` and `before`: the second stage of a year's grid. The year's own decision (`before`: status
    and withdrawn lines) stands; only cells at `min_level` or below (`_level`) are hidden or withdrawn to
    protect any hidden cell, the year's own included, and never a period's key total.

    Where nothing visible is left to hide and a count can still be worked out by the marks alone (an
    initiative with four exits, one for each of four reasons: four `<5` that are each at least 1 under
    a `<5` total), the line is withdrawn: none of its cells is shown, not even its zeros, so nothing
    says which are at least 1.
    """

    def __init__(self, values: dict[Key, int], published: set[Key], priority: dict[Key, int],
                 relations: list[tuple[Key, tuple[Key, ...]]], t: int, *, min_level: int = 0,
                 before: tuple[dict[Key, str], set[tuple[Key, str]], set[Key]] | None = None,
                 guarded: set[Key] | None = None, budget: int | None = None, known: frozenset[Key] = frozenset(),
                 fixed: frozenset[Key] = frozenset(), primal: bool = False) -> None:
        self.values, self.priority, self.relations, self.t = values, priority, relations, t
        self.primal = primal  # the simplex the audit's solves use (`_Grid._solved`)
        self.known = known  # the year's edges: taken as known (`year_edges`), never hidden to protect another
        self.fixed = fixed  # the year before's figures (`_Given`): never hidden nor withdrawn
        self.min_level, self.budget = min_level, budget
        self.published = set(published)  # withdrawing a line changes it; the caller's set stays as built
        status0, withdrawn0, withdrawn_cells0 = before or ({}, set(), set())
        self.withdrawn: set[tuple[Key, str]] = set(withdrawn0)
        self.withdrawn_cells: set[Key] = set(withdrawn_cells0)
        self.status = {k: PRIMARY for k in sorted(self.published) if 0 < values[k] < t and k not in known} | status0
        self.guarded = set(guarded or ())  # small counts of withdrawn lines: printed `..`, audited like hidden ones
        self.members = [(tot, *parts) for tot, parts in relations]
        self.by_cell: dict[Key, list[int]] = defaultdict(list)
        for i, m in enumerate(self.members):
            for k in m:
                self.by_cell[k].append(i)
        self.slack = 2 * t - 1  # a partner this large lets a `<t` cell move over its whole range
        self.auditor: _Auditor | None = None  # built once elimination has done the cheap part
        self.dirty: set[Key] = set()

    def run(self) -> tuple[dict[Key, str], set[tuple[Key, str]], set[Key], set[Key]]:
        self.eliminate()
        if self.status or self.guarded:
            self.auditor = _Auditor(self.values, self.published, self.status, self.relations, self.t, self.primal)
            self.dirty.update(self.status)
            self.dirty.update(self.guarded)
            self.repair()
            # repair stops where no cell it may hide mends a count; every hidden count is audited once more, and a
            # decision that still leaves one pinned is not shown (`_Grid.decide`: the shorter periods fall back)
            if left := self.auditor.narrow(sorted(set(self.status) | self.guarded)):
                raise _Unprotected(left, (self.status, self.withdrawn, self.withdrawn_cells, self.published))
        return self.status, self.withdrawn, self.withdrawn_cells, self.published

    def may_hide(self, c: Key, protected: Key) -> bool:
        """Whether `c` may be hidden to protect `protected` (see the docstring, and `_may_hide`)."""
        # an edge of the year (`year_edges`) lies on a tertial boundary, but the year's own figures tie it to the
        # year before: they give way for it as for a count of the year; the delår gives way for a tertial too
        level = 0 if protected in self.known else min(_level(protected), 1)
        return c not in self.known and _level(c) >= max(self.min_level, level) \
            and (self.min_level == 0 or _may_hide(c, protected))

    def opens(self, k: Key, rel: Iterable[int]) -> int:
        """How many relations of `k` (other than `rel`) would get their first unknown if `k` were hidden."""
        skip = set(rel)
        members, status, published = self.members, self.status, self.published
        return sum(1 for j in self.by_cell[k] if j not in skip
                   and not any(c in status or c not in published for c in members[j] if c != k))

    def rank(self, k: Key, rel: Iterable[int]) -> tuple:
        """Which visible cell to hide first: detail tables and finer cells; one that closes a cycle of hidden
        cells rather than opening a new relation; then one large enough to give slack; then the smallest."""
        values = self.values
        return (-self.priority.get(k, 1), -len(k[1]), k[2] == "total", self.opens(k, rel), values[k] < self.slack,
                values[k], k)

    def hide_partner(self, protected: Key, *rels: int) -> Key | None:
        """Hide the best visible cell of these relations (see `rank`) that may be hidden for `protected`."""
        candidates = {k for i in rels for k in self.members[i] if k in self.published and k not in self.status
                      and self.may_hide(k, protected)}
        if not candidates:
            return None
        pick = min(candidates, key=lambda k: self.rank(k, rels))
        self.status[pick] = SECONDARY
        return pick

    def eliminate(self, start: Iterable[Key] | None = None) -> list[Key]:
        """Until no relation has a hidden cell as its only unknown (the others would give it away); the cells hidden.

        `start`: only the relations of these cells to begin with (after hiding them), not all of them; the audit
        that follows checks every hidden cell all the same."""
        members, by_cell, status, published = self.members, self.by_cell, self.status, self.published
        learned: dict[Key, int] = {}  # unpublished cells the reader can work out, and the relation that gives them
        hid: list[Key] = []
        queue = list(range(len(members))) if start is None else sorted({i for c in start for i in by_cell[c]})
        while queue:
            i = queue.pop()
            open_ = [k for k in members[i] if (k in status or k not in published) and k not in learned]
            picked = None
            if len(open_) == 1:
                k = open_[0]
                if k in status:
                    picked = self.hide_partner(k, i)
                else:
                    learned[k] = i
                    queue.extend(by_cell[k])
            if picked is not None:
                hid.append(picked)
                self._unlearn(picked, learned, queue)
                queue.extend(j for j in by_cell[picked])
                queue.append(i)
        return hid

    def _unlearn(self, c: Key, learned: dict[Key, int], queue: list[int]) -> None:
        """`c` was just hidden: what was worked out through it no longer is (nor what followed from that)."""
        stack = [c]
        while stack:
            x = stack.pop()
            for j in self.by_cell[x]:
                for y in self.members[j]:
                    if learned.get(y) == j and y != x:
                        del learned[y]
                        stack.append(y)
                        queue.extend(self.by_cell[y])

    def touched(self, k: Key) -> None:
        """A cell's status changed: the LP learns its new bounds; a newly hidden cell is audited next round.

        Hiding a cell, or withdrawing one, only widens what a reader can believe of the others, so the
        cells that already held still hold: only the new ones and those still failing are audited again.
        """
        self.auditor.update(k)
        if k in self.status or k in self.guarded:
            self.dirty.add(k)

    def _over_budget(self) -> bool:
        return self.budget is not None and self.auditor.solves * len(self.auditor.cells) > self.budget

    def repair(self) -> None:
        """Audit; hide one more cell for each hidden cell that is too narrow (the first that mends it)."""
        status, guarded, dirty, auditor, by_cell = self.status, self.guarded, self.dirty, self.auditor, self.by_cell
        rank = self.rank
        for _ in range(10_000):  # each round hides at least one more cell, so this ends
            if self._over_budget():
                raise _OverBudget()
            todo = sorted(k for k in dirty if k in status or k in guarded)
            dirty.clear()
            failing = auditor.narrow(todo)
            if not failing:
                return
            changed = False
            for k in failing:
                if self._over_budget():
                    raise _OverBudget()
                if (k not in status and k not in guarded) or not auditor.narrow([k]):
                    continue  # an earlier repair in this round already mended it, or withdrew it
                binding = auditor.binding(k)
                candidates = sorted((c for c in binding if self.may_hide(c, k)), key=lambda c: rank(c, by_cell[k]))
                if not candidates and self.min_level > 0 and _level(k) < self.min_level:
                    # a count of the year held by the year's own figures and the shorter periods' totals (through
                    # how the periods tie together): one of the year's figures gives way, as in the year alone
                    candidates = sorted((c for c in binding if _level(c) == _level(k) and c not in self.known),
                                        key=lambda c: rank(c, by_cell[k])) \
                        or sorted((c for c in binding if _level(c) > _level(k) and c not in self.known),
                                  key=lambda c: rank(c, by_cell[k]))
                near = True
                if not candidates:
                    candidates, near = self._nearest_candidates(k)
                pick = None
                closure: list[Key] = []
                for c in candidates[:TRIALS]:  # the first that mends it, in order of preference
                    status[c] = SECONDARY
                    closure = self.eliminate([c])  # with what hiding it makes follow (a tertial's total beside its cell)
                    for x in (c, *closure):
                        auditor.update(x)
                    if not auditor.narrow([k], record=False):
                        pick = c
                        break
                    for x in (c, *closure):
                        del status[x]
                        auditor.update(x)
                    closure = []
                if pick is None and (self.min_level > 0 or not near) and self.withdraw(k):
                    # no one visible cell mends a count of a shorter period: hiding one anyway mostly hides what
                    # the reader needs (a small line's marks alone can pin it across the grid); withdraw its line
                    changed = True
                    dirty.add(k)
                    continue
                if pick is None and candidates:
                    pick = candidates[0]
                    status[pick] = SECONDARY
                if pick is not None:
                    changed = True
                    for x in (pick, *closure):
                        self.touched(x)
                    dirty.add(k)
                elif self.withdraw(k):
                    changed = True
                    dirty.add(k)
            if not changed:
                return
            for c in self.eliminate():
                self.touched(c)

    def withdraw(self, k: Key) -> bool:
        """Withdraw the smallest line `k` is a part of (never a whole table); whether there was one."""
        members, relations, values, published, status = (self.members, self.relations, self.values, self.published,
                                                          self.status)
        lines = [i for i in self.by_cell[k] if members[i][0] != k and members[i][0] in values
                 and all(c[0] == members[i][0][0] for c in members[i])  # a line of a table, not a link of flows
                 and all(_level(c) >= self.min_level for c in relations[i][1])
                 # the year before's figures stay as they were published
                 and not self.fixed.intersection(members[i])]
        lines = [i for i in lines if (members[i][0], _split(members[i][0], k)) not in self.withdrawn
                 and not set(relations[i][1]) <= self.withdrawn_cells and published.intersection(relations[i][1])]
        if not lines:
            if _level(k) < self.min_level or k not in published or not _may_hide(k, k) or k in self.fixed:
                return False  # (a period's key total is never withdrawn)
            # a count of a shorter period that is no part of any line (positive exits, the sum of their codes):
            # it alone is withdrawn, shown as `..` with no size said
            self.withdrawn_cells.add(k)
            published.discard(k)
            status.pop(k, None)
            self.touched(k)
            for c in self.eliminate([k]):
                self.touched(c)
            return True
        i = min(lines, key=lambda i: (values[members[i][0]], -len(members[i][0][1]), members[i][0]))
        tot, parts = relations[i]
        split = _split(tot, k)
        if split is None:
            self.withdrawn_cells.update(parts)
        else:
            self.withdrawn.add((tot, split))
        for c in parts:
            published.discard(c)
            status.pop(c, None)
            if 0 < values[c] < self.t:
                self.guarded.add(c)  # printed `..`, it must not be worked out either
            self.touched(c)
        for c in self.eliminate():
            self.touched(c)
        return True

    def _nearest_candidates(self, k: Key) -> tuple[list[Key], bool]:
        """Visible cells in the relations of `k`, else of the hidden cells around it, ring by ring; and whether
        they are in `k`'s own relations."""
        members, status, published = self.members, self.status, self.published
        seen_rel: set[int] = set()
        frontier = {k}
        ring = 0
        while frontier:
            rels = {i for c in frontier for i in self.by_cell[c]} - seen_rel
            if not rels:
                return [], False
            seen_rel |= rels
            found = {c for i in rels for c in members[i] if c in published and c not in status
                     and self.may_hide(c, k)}
            if found:
                return sorted(found, key=lambda c: self.rank(c, self.by_cell[k])), ring == 0
            frontier = {c for i in rels for c in members[i] if c in status or c not in published}
            ring += 1
        return [], False


class _Auditor:
    """The interval audit as the engine runs it: one linear programme over every cell of the period.

    Visible cells are fixed at their values, hidden ones bounded by what their marks say; the rows are
    the relations. A hidden cell holds when two feasible solutions differ in it by at least one, so
    every solution the solver returns is kept as evidence for all cells at once: the true values are
    the first, a few solves of random objectives settle most cells, and only the rest get their own
    minimum and maximum. One model is kept and warm-started; a changed status changes one column's
    bounds. The tests audit the whole problem independently.
    """

    def __init__(self, values, published, status, relations, t: int, primal: bool = False) -> None:
        import highspy

        self._hs = highspy
        self.values, self.published, self.status, self.t = values, published, status, t
        self.cells = sorted(values)
        self.index = {c: i for i, c in enumerate(self.cells)}
        self.truth = np.array([values[c] for c in self.cells], dtype=float)
        starts, cols, vals = [], [], []
        for tot, parts in relations:
            row: dict[int, float] = defaultdict(float)
            for c, sign in [(tot, -1.0), *((q, 1.0) for q in parts)]:
                row[self.index[c]] += sign
            starts.append(len(cols))
            cols.extend(row)
            vals.extend(row.values())
        lo, hi = zip(*(self._bounds(c) for c in self.cells)) if self.cells else ((), ())
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("presolve", "off")  # warm starts from the last basis are what make it quick
        if primal:  # see `_Grid._solved`
            h.setOptionValue("simplex_strategy", 4)
        h.addVars(len(self.cells), np.array(lo, dtype=float), np.array(hi, dtype=float))
        if starts:
            zeros = np.zeros(len(starts))
            h.addRows(len(starts), zeros, zeros, len(cols), np.array(starts, dtype=np.int32),
                      np.array(cols, dtype=np.int32), np.array(vals, dtype=float))
        self.h = h
        self.costed: np.ndarray = np.array([], dtype=np.int32)
        self.solves = 0
        self.low = self.truth.copy()  # the least and greatest value seen in a feasible solution, per cell
        self.high = self.truth.copy()
        self.rng = np.random.default_rng(0)  # the same decision every time

    def _bounds(self, c: Key) -> tuple[float, float]:
        if c in self.published and c not in self.status:
            return float(self.values[c]), float(self.values[c])
        return _bounds(c, self.status, self.t)

    def update(self, c: Key) -> None:
        lo, hi = self._bounds(c)
        self.h.changeColBounds(self.index[c], lo, hi)

    def _solve(self, idx: np.ndarray, cost: np.ndarray, maximise: bool = False) -> np.ndarray | None:
        """An optimal solution for this objective, or None when unbounded."""
        hs, h = self._hs, self.h
        if len(self.costed):
            h.changeColsCost(len(self.costed), self.costed, np.zeros(len(self.costed)))
        h.changeColsCost(len(idx), idx.astype(np.int32), cost.astype(float))
        self.costed = idx.astype(np.int32)
        h.changeObjectiveSense(hs.ObjSense.kMaximize if maximise else hs.ObjSense.kMinimize)
        h.run()
        self.solves += 1
        status = h.getModelStatus()
        if status == hs.HighsModelStatus.kOptimal:
            return np.asarray(h.getSolution().col_value)
        if status == hs.HighsModelStatus.kUnbounded:
            return None
        raise RuntimeError(f"skyddsgranskningen kunde inte lösas ({h.modelStatusToString(status)})")

    def _held(self, j: int) -> bool:
        return self.high[j] - self.low[j] >= required_width(self.t) - 1e-6

    def narrow(self, cells: list[Key], record: bool = True) -> list[Key]:
        """The cells of `cells` a reader can pin to one value. `record=False` for a trial that will be undone
        (its solutions would not stay feasible, so they are not kept as evidence)."""
        if not record:
            low, high = self.low, self.high
            self.low, self.high = self.truth.copy(), self.truth.copy()
        try:
            open_ = [self.index[c] for c in cells if not self._held(self.index[c])]
            if len(open_) > 4:  # a few random objectives settle most cells at once
                idx = np.array(open_)
                for _ in range(2):
                    self._record(self._solve(idx, self.rng.uniform(0.5, 1.5, len(idx))))
                open_ = [j for j in open_ if not self._held(j)]
            out = []
            for j in open_:
                if self._held(j):
                    continue
                one = np.array([j])
                self._record(self._solve(one, np.ones(1)))
                if self._held(j):
                    continue
                top = self._solve(one, np.ones(1), maximise=True)
                if top is None:
                    continue  # no upper limit at all
                self._record(top)
                if not self._held(j):
                    out.append(self.cells[j])
            return out
        finally:
            if not record:
                self.low, self.high = low, high

    def binding(self, k: Key) -> list[Key]:
        """The visible cells that hold `k` to its value: those with a reduced cost in its least or greatest value.
        Hiding one of them is what can widen it; cells that merely lie near it cannot."""
        out: set[Key] = set()
        j = self.index[k]
        for maximise in (False, True):
            if self._solve(np.array([j]), np.ones(1), maximise=maximise) is None:
                continue
            duals = np.asarray(self.h.getSolution().col_dual)
            for i in np.flatnonzero(np.abs(duals) > 1e-9):
                c = self.cells[i]
                if c in self.published and c not in self.status:
                    out.add(c)
        return sorted(out)

    def _record(self, solution: np.ndarray | None) -> None:
        if solution is not None:
            np.minimum(self.low, solution, out=self.low)
            np.maximum(self.high, solution, out=self.high)


def _bounds(k: Key, status: dict[Key, str], t: int) -> tuple[float, float]:
    """What a reader knows of an unknown cell: `<t` is 1 … t − 1, `..` at least t, a count never shown at
    least 0 (its zeros are not shown either; the engine still knows them, which only makes it stricter)."""
    if k in status:
        return (1.0, float(t - 1)) if status[k] == PRIMARY else (float(t), np.inf)
    return (0.0, np.inf)


def _components(unknowns: set[Key], relations) -> list[tuple[list[Key], list[int]]]:
    """Groups of unknown cells tied together by relations, with the relations that touch them."""
    parent = {k: k for k in unknowns}

    def find(k):
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    rel_unknowns = []
    for tot, parts in relations:
        u = [c for c in (tot, *parts) if c in unknowns]
        rel_unknowns.append(u)
        for a, b in zip(u, u[1:]):
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[ra] = rb
    groups: dict[Key, list[Key]] = defaultdict(list)
    for k in unknowns:
        groups[find(k)].append(k)
    rels: dict[Key, list[int]] = defaultdict(list)
    for i, u in enumerate(rel_unknowns):
        if u:
            rels[find(u[0])].append(i)
    return [(sorted(cells), rels[root]) for root, cells in groups.items()]


def required_width(t: int) -> int:
    """How wide a hidden cell's interval must stay: never one value.

    A full `<5` range (1 to 4) cannot be promised: the marks themselves tell a reader that a `<5`
    total over three `<5` parts is at least 3. What is promised is that no hidden count can be
    worked out: at least two values always remain possible.
    """
    return 1


class _Span:
    """Which sums of unknown cells the visible cells and the relations fix.

    A sum is fixed exactly when its vector lies in the row space of the relations over the unknown cells: when
    it is constant along every direction the relations leave free, i.e. max v·x over {M x = 0, −1 ≤ x ≤ 1} is 0.
    One LP over every unknown cell, built at the first question and kept (HiGHS's primal simplex goes on from the
    last basis, as only the objective changes). A dense SVD of the same matrix, as this was done before, took
    30 s for a year of 40 initiatives (a component of 4 500 cells) on a page's first visit.
    """

    _TOLERANCE = 1e-6

    def __init__(self, p: Protection) -> None:
        self.component: dict[Key, int] = {}
        self.free: set[int] = set()  # components with no relation: no sum of theirs is fixed
        unknowns = {k for k in p.values if p._unknown(k)}
        for n, (cells, rel_ids) in enumerate(_components(unknowns, p.relations)):
            for k in cells:
                self.component[k] = n
            if not rel_ids:
                self.free.add(n)
        self.relations = p.relations
        self.h = None
        self.index: dict[Key, int] = {}
        self.costed = np.array([], dtype=np.int32)

    def _model(self) -> None:
        import highspy

        cells = sorted(self.component)
        self.index = {k: i for i, k in enumerate(cells)}
        starts, cols, vals = [], [], []
        for tot, parts in self.relations:
            row: dict[int, float] = defaultdict(float)
            for c, sign in [(tot, -1.0), *((q, 1.0) for q in parts)]:
                if c in self.index:  # a known cell is a constant: no direction of its own
                    row[self.index[c]] += sign
            row = {i: v for i, v in row.items() if v}
            if row:
                starts.append(len(cols))
                cols.extend(row)
                vals.extend(row.values())
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("simplex_strategy", 4)  # primal: a new objective keeps the last basis feasible
        n = len(cells)
        h.addVars(n, -np.ones(n), np.ones(n))
        if starts:
            zeros = np.zeros(len(starts))
            h.addRows(len(starts), zeros, zeros, len(cols), np.array(starts, dtype=np.int32),
                      np.array(cols, dtype=np.int32), np.array(vals, dtype=float))
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        self.h, self.optimal = h, highspy.HighsModelStatus.kOptimal

    def in_span(self, cells: list[Key]) -> bool:
        """Is the sum of `cells` (all unknown) a combination of the relations, i.e. fixed by what is visible?"""
        if any(c not in self.component or self.component[c] in self.free for c in cells):
            return False
        if self.h is None:
            self._model()
        weights: dict[int, float] = defaultdict(float)
        for c in cells:
            weights[self.index[c]] += 1.0
        idx = np.array(sorted(weights), dtype=np.int32)
        if len(self.costed):
            self.h.changeColsCost(len(self.costed), self.costed, np.zeros(len(self.costed)))
        self.h.changeColsCost(len(idx), idx, np.array([weights[i] for i in idx]))
        self.costed = idx
        self.h.run()
        self.h.setOptionValue("presolve", "off")  # the first question presolved; the next go on from its basis
        if self.h.getModelStatus() != self.optimal:
            return False  # never expected (x = 0 is feasible, the box bounds it): not fixed, so hidden
        return self.h.getInfo().objective_function_value <= self._TOLERANCE
