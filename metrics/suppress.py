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

What it does not cover: comparisons between different periods (each period is protected on
its own; counts of two overlapping periods can be subtracted), and the inequalities between
measures (started ≤ participants). The README says so.

Derived figures (shares, deviations from targets, cost per person, changes against the previous
period) are shown only where every count under them is visible and the denominator is at least
the threshold: `share_visible` and the helpers below.
"""
from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from core.vocabulary import SEX_COLUMNS, WIDE_POSITIVE_EXTRA

from .facts import EVENT_DATE, FACTS_SQL, MEASURES, period_sql
from .filters import Filters

DEFAULT_THRESHOLD = 5
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
            f"eller på färre än {threshold} personer visas inte.")


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


@dataclass(frozen=True)
class Context:
    positive: frozenset[str]
    wide: frozenset[str]


def _positive_over_time(cell: dict, ctx: Context) -> bool:
    """Exits per period are shown in total and for the positive codes only (the share over time)."""
    return "reason" not in cell or cell["reason"] in ctx.positive or cell["reason"] in (POSITIVE,)


# Everything the app can show for a period without filters, under protection. Crosses of two
# categories are shown without the sex split (their sex split is mostly small counts, and
# protecting them would hide the key figures); months, referring units and income flows are
# not shown under protection at all (pages say so).
PUBLICATION: tuple[TableSpec, ...] = (
    TableSpec("participants", ("initiative",), 0),
    TableSpec("participants", ("age_group",), 1),
    TableSpec("started", ("initiative",), 0),
    TableSpec("started", ("agency",), 0),
    TableSpec("started", ("initiative", "agency"), 2, by_sex=False),
    TableSpec("started", ("quarter", "agency"), 3, by_sex=False),
    TableSpec("started", ("tertial", "agency"), 3, by_sex=False),
    TableSpec("exited", ("initiative",), 0),
    TableSpec("exited", ("reason",), 0),
    TableSpec("exited", ("initiative", "reason"), 2, by_sex=False),
    TableSpec("exited", ("quarter", "reason"), 3, _positive_over_time, by_sex=False),
    TableSpec("no_consent", ("initiative",), 1),
)
FILTER_DIMS = ("initiative", "agency")  # a selection narrows these (and sex)

def _dim_sql(dim: str, measure: str) -> str:
    """A dimension as text; an anonymous count's period is NO_DATE (it carries only a year)."""
    if (period := period_sql(dim, EVENT_DATE[measure])) is not None:
        return f"CASE WHEN anonymous THEN '{NO_DATE}' ELSE {period} END"
    return f"CAST({dim} AS VARCHAR)"


Key = tuple  # (measure, ((dim, value), …) sorted by dim, sex)


def key(measure: str, dims: Mapping[str, object], sex: str) -> Key:
    return (measure, tuple(sorted((d, str(v)) for d, v in dims.items())), sex)


# ---------------------------------------------------------------- the engine

@dataclass
class Protection:
    """The decision for one period: every cell's value and whether it is visible, `<5` or `..`.

    Build it with `protect_period`; ask it with `cell`, `table` or `frame`.
    """

    start: dt.date
    end: dt.date
    threshold: int
    values: dict[Key, int]
    published: set[Key]
    status: dict[Key, str]  # PRIMARY or SECONDARY for hidden published cells
    relations: list[tuple[Key, tuple[Key, ...]]]
    dim_sets: dict[tuple[str, frozenset[str]], bool]  # (measure, dims) in the cube -> split by sex too
    ctx: Context
    withdrawn: frozenset[tuple[Key, str]] = frozenset()  # (margin, dimension): lines too small to show at all
    withdrawn_cells: frozenset[Key] = frozenset()  # the parts of a derived count (positive exits) withdrawn
    _rows: np.ndarray | None = field(default=None, repr=False)  # relation matrix over unknowns, per component
    _solver: dict = field(default_factory=dict, repr=False)

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
        split = self.dim_sets.get((measure, needed))
        if split is None or (not split and sexes != ["total"]):
            return None
        out = []
        for combo in itertools.product(*choices) if choices else [()]:
            for s in sexes:
                out.append(key(measure, {**dims, **dict(combo)}, s))
        return out

    def _unknown(self, k: Key) -> bool:
        return self.values.get(k, 0) != 0 and (k not in self.published or k in self.status)

    def _withdrawn(self, k: Key) -> bool:
        """Whether `k` lies in a withdrawn line: its margin without one of its dimensions (or its sex)."""
        if k in self.withdrawn_cells:
            return True
        if not self.withdrawn:
            return False
        if k[2] != "total" and ((k[0], k[1], "total"), "sex") in self.withdrawn:
            return True
        return any(((k[0], tuple(x for x in k[1] if x[0] != d), k[2]), d) in self.withdrawn for d, _ in k[1])

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

def _cube(con: duckdb.DuckDBPyConnection, f: Filters, spec: TableSpec) -> pd.DataFrame:
    dims = list(spec.dims)
    cols = ", ".join(f"{_dim_sql(d, spec.measure)} AS d{i}" for i, d in enumerate(dims))
    names = [f"d{i}" for i in range(len(dims))]
    sql = f"""
        WITH facts AS ({FACTS_SQL}),
        rows AS (SELECT {cols + ', ' if cols else ''}sex, n FROM facts WHERE {MEASURES[spec.measure]})
        SELECT {''.join(n + ', ' for n in names)}sex, CAST(sum(n) AS BIGINT) AS v,
               {''.join(f'GROUPING({n}) AS g{i}, ' for i, n in enumerate(names))}GROUPING(sex) AS gs
        FROM rows GROUP BY CUBE ({', '.join([*names, 'sex'])})
        {'' if spec.by_sex else 'HAVING GROUPING(sex) = 1'}
    """
    params = Filters(f.start, f.end, associations=f.associations).params()
    return con.execute(sql, params).df()


SEVERAL_ASSOCIATIONS = ("Skyddet för små tal gäller ett förbund i taget. Välj ett förbund i sidopanelen; förbunden "
                        "jämförs sida vid sida på sidan Förbund.")


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


def protect_period(con: duckdb.DuckDBPyConnection, f: Filters, threshold: int = DEFAULT_THRESHOLD,
                   publication: tuple[TableSpec, ...] = PUBLICATION) -> Protection:
    """Decide, for the period of `f`, which cells every surface hides.

    The whole is the period and the chosen association (each association reports on its own);
    `f`'s initiatives, agencies and sexes play no part here: they narrow what is asked of it.
    Raises SeveralAssociations where the whole would span more than one named association.
    """
    if spans_several_associations(con, f):
        raise SeveralAssociations()
    pos = frozenset(str(c) for (c,) in con.execute("SELECT code FROM exit_reasons WHERE positive").fetchall()) \
        or frozenset({"1"})
    ctx = Context(pos, pos | {WIDE_POSITIVE_EXTRA})
    values: dict[Key, int] = {}
    published: set[Key] = set()
    priority: dict[Key, int] = {}
    relations: set[tuple[Key, tuple[Key, ...]]] = set()
    dim_sets: dict[tuple[str, frozenset[str]], bool] = {}
    for spec in publication:
        cube = _cube(con, f, spec)
        dims = list(spec.dims)
        for sub in itertools.chain.from_iterable(itertools.combinations(dims, r) for r in range(len(dims) + 1)):
            dim_sets[(spec.measure, frozenset(sub))] = dim_sets.get((spec.measure, frozenset(sub)), False) or spec.by_sex
        cells: dict[Key, tuple[dict, str]] = {}
        for row in cube.itertuples(index=False):
            if pd.isna(row.v):  # an empty period: the cube's grand total of nothing
                continue
            cat = {d: getattr(row, f"d{i}") for i, d in enumerate(dims) if not getattr(row, f"g{i}")}
            sex = "total" if row.gs else row.sex
            k = key(spec.measure, cat, sex)
            values[k] = int(row.v)
            cells[k] = (cat, sex)
            if NO_DATE not in cat.values() and (spec.shown is None or spec.shown(cat, ctx)):
                published.add(k)
            priority[k] = min(priority.get(k, 99), spec.priority)
        # relations: each margin equals the sum of its children along one dimension (sex included)
        children: dict[tuple[Key, str], list[Key]] = defaultdict(list)
        for k, (cat, sex) in cells.items():
            for d in cat:
                parent = key(spec.measure, {x: v for x, v in cat.items() if x != d}, sex)
                children[(parent, d)].append(k)
            if sex != "total":
                children[(key(spec.measure, cat, "total"), "sex")].append(k)
        for (parent, _), kids in children.items():
            relations.add((parent, tuple(sorted(kids))))
        # derived exit counts: positive (codes 1) and positive_wide (1 + 2), wherever reason is split
        if spec.measure == "exited" and "reason" in spec.dims:
            groups: dict[tuple, dict[str, list[Key]]] = defaultdict(lambda: defaultdict(list))
            for k, (cat, sex) in cells.items():
                if "reason" in cat:
                    rest = tuple(sorted((d, v) for d, v in cat.items() if d != "reason"))
                    for name, codes in ((POSITIVE, ctx.positive), (POSITIVE_WIDE, ctx.wide)):
                        if cat["reason"] in codes:
                            groups[(rest, sex)][name].append(k)
                        else:
                            groups[(rest, sex)].setdefault(name, [])
            for (rest, sex), by in groups.items():
                for name, parts in by.items():
                    d = key("exited", {**dict(rest), "reason": name}, sex)
                    values[d] = sum(values[p] for p in parts)
                    if NO_DATE not in dict(rest).values() and (spec.shown is None or spec.shown({**dict(rest), "reason": name}, ctx)):
                        published.add(d)
                    priority[d] = min(priority.get(d, 99), spec.priority)
                    if parts:
                        relations.add((d, tuple(sorted(parts))))
    values = {k: v for k, v in values.items() if v != 0}
    published = {k for k in published if k in values}
    # in a fixed order: the order of a set of strings changes with each process's hash seed, and with it which
    # cells elimination hides, so a restart could show a second pattern to set against the first
    relations_l = [(t, tuple(p for p in parts if p in values)) for t, parts in sorted(relations) if t in values]
    status, withdrawn, withdrawn_cells = _suppress(values, published, priority, relations_l, threshold)
    p = Protection(f.start, f.end, threshold, values, published, status, relations_l, dim_sets, ctx,
                   frozenset(withdrawn), frozenset(withdrawn_cells))
    p.published = {k for k in published if not p._withdrawn(k)}
    return p


def _split(total: Key, part: Key) -> str | None:
    """The dimension a relation splits its margin by: sex, or the one the part has and the margin lacks; None
    for a derived count (positive exits as the sum of their reasons: same dimensions, same sex)."""
    if part[2] != total[2]:
        return "sex"
    extra = {d for d, _ in part[1]} - {d for d, _ in total[1]}
    return extra.pop() if extra else None


# ---------------------------------------------------------------- deciding

def _suppress(values: dict[Key, int], published: set[Key], priority: dict[Key, int],
              relations: list[tuple[Key, tuple[Key, ...]]], t: int
              ) -> tuple[dict[Key, str], set[tuple[Key, str]], set[Key]]:
    """Primary, then secondary by elimination, then the LP audit with repair, until every hidden cell holds.

    Where nothing visible is left to hide and a count can still be worked out by the marks alone (an
    initiative with four exits, one for each of four reasons: four `<5` that are each at least 1 under
    a `<5` total), the line is withdrawn: none of its cells is shown, not even its zeros, so nothing
    says which are at least 1. Returns (status, withdrawn lines as (margin, dimension), and the cells
    withdrawn as parts of a derived count, which is no line of its own).
    """
    published = set(published)  # withdrawing a line changes it; the caller's set stays as built
    withdrawn: set[tuple[Key, str]] = set()
    withdrawn_cells: set[Key] = set()
    status = {k: PRIMARY for k in sorted(published) if 0 < values[k] < t}
    members = [(tot, *parts) for tot, parts in relations]
    by_cell: dict[Key, list[int]] = defaultdict(list)
    for i, m in enumerate(members):
        for k in m:
            by_cell[k].append(i)
    slack = 2 * t - 1  # a partner this large lets a `<t` cell move over its whole range

    def opens(k: Key, rel: Iterable[int]) -> int:
        """How many relations of `k` (other than `rel`) would get their first unknown if `k` were hidden."""
        skip = set(rel)
        return sum(1 for j in by_cell[k] if j not in skip
                   and not any(c in status or c not in published for c in members[j] if c != k))

    def rank(k: Key, rel: Iterable[int]) -> tuple:
        """Which visible cell to hide first: detail tables and finer cells; one that closes a cycle of hidden
        cells rather than opening a new relation; then one large enough to give slack; then the smallest."""
        return (-priority.get(k, 1), -len(k[1]), k[2] == "total", opens(k, rel), values[k] < slack, values[k], k)

    def hide_partner(*rels: int) -> Key | None:
        """Hide the best visible cell of these relations (see `rank`)."""
        candidates = {k for i in rels for k in members[i] if k in published and k not in status}
        if not candidates:
            return None
        pick = min(candidates, key=lambda k: rank(k, rels))
        status[pick] = SECONDARY
        return pick

    def eliminate() -> list[Key]:
        """Until no relation has a hidden cell as its only unknown (the others would give it away); the cells hidden."""
        learned: set[Key] = set()  # unpublished cells the reader can work out
        hid: list[Key] = []
        queue = list(range(len(members)))
        while queue:
            i = queue.pop()
            open_ = [k for k in members[i] if (k in status or k not in published) and k not in learned]
            picked = None
            if len(open_) == 1:
                k = open_[0]
                if k in status:
                    picked = hide_partner(i)
                else:
                    learned.add(k)
                    queue.extend(by_cell[k])
            if picked is not None:
                hid.append(picked)
                queue.extend(j for j in by_cell[picked])
                queue.append(i)
        return hid

    auditor: _Auditor | None = None  # built once elimination has done the cheap part
    dirty: set[Key] = set()

    def touched(k: Key) -> None:
        """A cell's status changed: the LP learns its new bounds; a newly hidden cell is audited next round.

        Hiding a cell, or withdrawing one, only widens what a reader can believe of the others, so the
        cells that already held still hold: only the new ones and those still failing are audited again.
        """
        auditor.update(k)
        if k in status:
            dirty.add(k)

    def repair() -> None:
        """Audit; hide one more cell for each hidden cell that is too narrow (the first that mends it)."""
        for _ in range(10_000):  # each round hides at least one more cell, so this ends
            todo = sorted(k for k in dirty if k in status)
            dirty.clear()
            failing = auditor.narrow(todo)
            if not failing:
                return
            changed = False
            for k in failing:
                if not auditor.narrow([k]):
                    continue  # an earlier repair in this round already mended it
                candidates = _nearest_candidates(k)
                pick = None
                for c in candidates[:8]:  # the first that mends it, in order of preference
                    status[c] = SECONDARY
                    auditor.update(c)
                    if not auditor.narrow([k], record=False):
                        pick = c
                        break
                    del status[c]
                    auditor.update(c)
                if pick is None and candidates:
                    pick = candidates[0]
                    status[pick] = SECONDARY
                if pick is not None:
                    changed = True
                    touched(pick)
                    dirty.add(k)
                elif withdraw(k):
                    changed = True
                    dirty.add(k)
            if not changed:
                return
            for c in eliminate():
                touched(c)

    def withdraw(k: Key) -> bool:
        """Withdraw the smallest line `k` is a part of (never a whole table); whether there was one."""
        lines = [i for i in by_cell[k] if members[i][0] != k and members[i][0] in values]
        lines = [i for i in lines if (members[i][0], _split(members[i][0], k)) not in withdrawn
                 and not set(relations[i][1]) <= withdrawn_cells]
        if not lines:
            return False
        i = min(lines, key=lambda i: (values[members[i][0]], -len(members[i][0][1]), members[i][0]))
        tot, parts = relations[i]
        split = _split(tot, k)
        if split is None:
            withdrawn_cells.update(parts)
        else:
            withdrawn.add((tot, split))
        for c in parts:
            published.discard(c)
            status.pop(c, None)
            touched(c)
        for c in eliminate():
            touched(c)
        return True

    def _nearest_candidates(k: Key) -> list[Key]:
        """Visible cells in the relations of `k`, else of the hidden cells around it, ring by ring."""
        seen_rel: set[int] = set()
        frontier = {k}
        while frontier:
            rels = {i for c in frontier for i in by_cell[c]} - seen_rel
            if not rels:
                return []
            seen_rel |= rels
            found = {c for i in rels for c in members[i] if c in published and c not in status}
            if found:
                return sorted(found, key=lambda c: rank(c, by_cell[k]))
            frontier = {c for i in rels for c in members[i] if c in status or c not in published}
        return []

    eliminate()
    if status:
        auditor = _Auditor(values, published, status, relations, t)
        dirty.update(status)
        repair()
    return status, withdrawn, withdrawn_cells


class _Auditor:
    """The interval audit as the engine runs it: one linear programme over every cell of the period.

    Visible cells are fixed at their values, hidden ones bounded by what their marks say; the rows are
    the relations. A hidden cell holds when two feasible solutions differ in it by at least one, so
    every solution the solver returns is kept as evidence for all cells at once: the true values are
    the first, a few solves of random objectives settle most cells, and only the rest get their own
    minimum and maximum. One model is kept and warm-started; a changed status changes one column's
    bounds. The tests audit the whole problem independently.
    """

    def __init__(self, values, published, status, relations, t: int) -> None:
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
        h.addVars(len(self.cells), np.array(lo, dtype=float), np.array(hi, dtype=float))
        if starts:
            zeros = np.zeros(len(starts))
            h.addRows(len(starts), zeros, zeros, len(cols), np.array(starts, dtype=np.int32),
                      np.array(cols, dtype=np.int32), np.array(vals, dtype=float))
        self.h = h
        self.costed: np.ndarray = np.array([], dtype=np.int32)
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
    """Which sums of unknown cells the visible cells and the relations fix: linear algebra per component.

    A sum is fixed exactly when its vector lies in the row space of the relations (over the unknown
    cells); each component's row space is kept as an orthonormal basis, so a check is one product.
    """

    def __init__(self, p: Protection) -> None:
        unknowns = {k for k in p.values if p._unknown(k)}
        self.component: dict[Key, int] = {}
        self.parts: list[tuple[dict[Key, int], np.ndarray | None]] = []
        for n, (cells, rel_ids) in enumerate(_components(unknowns, p.relations)):
            index = {k: i for i, k in enumerate(cells)}
            matrix = np.zeros((len(rel_ids), len(cells)))
            for r, i in enumerate(rel_ids):
                tot, parts = p.relations[i]
                for c, sign in [(tot, -1.0), *((q, 1.0) for q in parts)]:
                    if c in index:
                        matrix[r, index[c]] += sign
            for k in cells:
                self.component[k] = n
            basis = None
            if len(rel_ids):
                _, sv, vt = np.linalg.svd(matrix, full_matrices=False)
                basis = vt[sv > 1e-9 * max(1.0, sv[0])]
            self.parts.append((index, basis))

    def in_span(self, cells: list[Key]) -> bool:
        """Is the sum of `cells` (all unknown) a combination of the relations, i.e. fixed by what is visible?"""
        by_component: dict[int, list[Key]] = defaultdict(list)
        for c in cells:
            if c not in self.component:
                return False
            by_component[self.component[c]].append(c)
        for n, members in by_component.items():
            index, basis = self.parts[n]
            if basis is None or not len(basis):
                return False
            v = np.zeros(len(index))
            for c in members:
                v[index[c]] += 1.0
            if np.linalg.norm(v - basis.T @ (basis @ v)) > 1e-6:
                return False
        return True
