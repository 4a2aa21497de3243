"""The interval audit the protection tests share: generated associations, and an LP over the tables' cells.

A reader sees numbers (counts, and marks where counts are hidden). Each is a cell of a table the
app publishes, or a sum of such cells (a narrowed selection). This module computes those tables
itself with the metrics layer (`metrics.facts.counts`, not the protection engine), writes how they
add up, writes what a reader saw as linear constraints — a visible count is exactly its sum, `<5`
means 1 to threshold − 1, `..` at least the threshold — and finds, for every hidden figure, the
least and greatest value the constraints allow (scipy's `linprog`: the interval audit τ-ARGUS does).
"""
from __future__ import annotations

import datetime as dt
import itertools
import random
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.database import connect_write
from core.vocabulary import AGE_GROUPS, AGENCY_ORDER, MISSING

SCHEMA = Path(__file__).resolve().parents[1] / "etl" / "schema.sql"
EXIT_REASONS = [(1, "Arbete/studier", True), (2, "Fortsatt rehabilitering", False), (3, "Sjukdom", False),
                (4, "Flyttat", False), (5, "Avbrutit", False), (6, "Avliden/övrigt", False)]
SEX_OF = {"woman": "women", "man": "men", "other": "other", "unknown": "other"}


def quarter(d: dt.date) -> str:
    return f"{d.year}-K{(d.month - 1) // 3 + 1}"


def age_group(age: int | None) -> str:
    if age is None:
        return AGE_GROUPS[5]
    if age < 16:
        return "Under 16"
    return "16–29" if age <= 29 else "30–49" if age <= 49 else "50–64" if age <= 64 else "65+"


@dataclass
class Association:
    """Enrollments as plain rows (the truth), and a DuckDB file holding them."""

    rows: list[dict]
    anonymous: list[dict] = field(default_factory=list)
    db: Path | None = None


def generate(seed: int, sizes: dict[str, int], year: int = 2025, small_agency: tuple[str, str, int] | None = None,
             other_share: float = 0.06) -> list[dict]:
    """Enrollments of `year` for initiatives of the given sizes; `small_agency` = (initiative, agency, n) plants
    a small referral count (the issue's "two Försäkringskassan referrals to Alfa")."""
    rnd = random.Random(seed)
    rows = []
    agencies = [a for a in AGENCY_ORDER if a not in ("Försäkringskassan", MISSING)]
    for name, n in sizes.items():
        planted = small_agency[2] if small_agency and small_agency[0] == name else 0
        for i in range(n):
            start = dt.date(year, 1, 1) + dt.timedelta(days=rnd.randrange(0, 330)) if rnd.random() < 0.7 \
                else dt.date(year - 1, 1, 1) + dt.timedelta(days=rnd.randrange(0, 365))
            ends = rnd.random() < 0.6
            end = min(start + dt.timedelta(days=rnd.randrange(30, 400)), dt.date(year, 12, 31)) if ends else None
            if end is not None and end.year < year:
                end = dt.date(year, 1, 15)
            sex = rnd.choices(["woman", "man", "other"], [0.5 - other_share / 2, 0.5 - other_share / 2, other_share])[0]
            consent = rnd.random() > 0.08
            if i < planted:
                agency = small_agency[1]
            else:
                agency = rnd.choice(agencies + [MISSING] * (0 if consent else 5))
            reason = rnd.choice([1, 1, 2, 2, 3, 4, 5, 6, None]) if end else None
            rows.append({
                "initiative": name, "sex": sex, "start": start, "end": end, "age": rnd.randrange(17, 66),
                "agency": agency if consent else MISSING, "reason": reason if consent else None,
                "consent": consent, "id": f"{name}-{i}",
            })
    return rows


def write_db(path: Path, rows: list[dict], anonymous: list[dict] = ()) -> Path:
    """The rows as the loader would have stored them (schema.sql), without going through files."""
    with connect_write(path) as con:
        con.execute(SCHEMA.read_text(encoding="utf-8"))
        con.executemany("INSERT INTO exit_reasons VALUES (?, ?, ?, ?)", [(c, label, label, p) for c, label, p in EXIT_REASONS])
        con.executemany(
            "INSERT INTO enrollments VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, NULL, NULL, NULL, ?, 1)",
            [(r.get("association", ""), r["id"] if r["consent"] else None, r["initiative"], r["sex"], r["start"],
              r["end"], r["reason"],
              r["age"], r["agency"] if r["consent"] else None, r["agency"], r["consent"]) for r in rows])
        if anonymous:
            con.executemany("INSERT INTO anonymous_counts VALUES ('', ?, ?, ?, ?, ?, 1)",
                            [(a["initiative"], a["year"], a["women"], a["men"], a["other"]) for a in anonymous])
        con.execute("INSERT INTO meta VALUES ('source', 'test'), ('last_load', '2025-12-31 12:00:00')")
    return path


# ---------------------------------------------------------------- the tables' cells, as a reader sees them

Cell = tuple  # (measure, frozenset of (dim, value), sex)


def cell(measure: str, dims: dict, sex: str) -> Cell:
    return (measure, frozenset((d, str(v)) for d, v in dims.items()), sex)


@dataclass
class Tables:
    """Every cell of the published tables of one period, computed by the metrics layer, and how they add up."""

    values: dict[Cell, int]
    relations: list[tuple[Cell, list[Cell]]]  # total = sum of parts
    free: set[Cell]  # cells no table shows but that the relations need (a reader knows them only as ≥ 0)


def tables(con, year: int, publication, positive: set[str], wide: set[str]) -> Tables:
    """The cells of `publication` for the calendar year, with their margins, from `metrics.facts.counts`."""
    from metrics import Filters

    return tables_for(con, Filters.year(year), publication, positive, wide)


def tables_for(con, f, publication, positive: set[str], wide: set[str]) -> Tables:
    """`tables` for any period `f`."""
    from metrics.facts import counts

    values: dict[Cell, int] = {}
    relations: list[tuple[Cell, list[Cell]]] = []
    free: set[Cell] = set()
    sexes = ("women", "men", "other", "total")
    for spec in publication:
        dims = list(spec.dims)
        timed = [d for d in dims if d in ("quarter", "month", "tertial")]
        subsets = [list(c) for r in range(len(dims) + 1) for c in itertools.combinations(dims, r)]
        frames = {tuple(sub): counts(con, f, spec.measure, tuple(sub)) for sub in subsets}
        for sub, df in frames.items():
            for row in df.itertuples(index=False):
                cat = {d: getattr(row, d) for d in sub}
                for sx in (sexes if spec.by_sex else ("total",)):
                    values[cell(spec.measure, cat, sx)] = int(getattr(row, sx))
        for sub in subsets:  # each margin is the sum of its children along one more dimension
            for d in dims:
                if d in sub:
                    continue
                child = tuple(x for x in dims if x in sub or x == d)
                parent_df = frames[tuple(sub)]
                child_df = frames[child]
                for row in parent_df.itertuples(index=False):
                    cat = {x: getattr(row, x) for x in sub}
                    kids = child_df
                    for x, v in cat.items():
                        kids = kids[kids[x] == v]
                    for sx in (sexes if spec.by_sex else ("total",)):
                        parts = [cell(spec.measure, {**cat, d: getattr(k, d)}, sx) for k in kids.itertuples(index=False)]
                        if d in timed and not (set(sub) & set(timed)) and spec.measure == "started":
                            # anonymous counts have no date: the margin is also made of an undated part
                            undated = cell(spec.measure, {**cat, d: "∅"}, sx)
                            free.add(undated)
                            parts.append(undated)
                        relations.append((cell(spec.measure, cat, sx), parts))
            if spec.by_sex:
                for row in frames[tuple(sub)].itertuples(index=False):
                    cat = {x: getattr(row, x) for x in sub}
                    relations.append((cell(spec.measure, cat, "total"),
                                      [cell(spec.measure, cat, sx) for sx in ("women", "men", "other")]))
        if spec.measure == "exited" and "reason" in dims:  # the positive counts the shares divide
            rest_dims = [x for x in dims if x != "reason"]
            for sub in [list(c) for r in range(len(rest_dims) + 1) for c in itertools.combinations(rest_dims, r)]:
                df = frames[tuple(x for x in dims if x in sub or x == "reason")]
                groups = defaultdict(list)
                for row in df.itertuples(index=False):
                    groups[tuple(getattr(row, x) for x in sub)].append(row)
                for vals, rows in groups.items():
                    cat = dict(zip(sub, vals))
                    for name, codes in (("positive", positive), ("positive_wide", wide)):
                        for sx in (sexes if spec.by_sex else ("total",)):
                            parts = [cell("exited", {**cat, "reason": r.reason}, sx) for r in rows if r.reason in codes]
                            total = cell("exited", {**cat, "reason": name}, sx)
                            values[total] = sum(values[c] for c in parts)
                            relations.append((total, parts))
    return Tables(values, relations, free)


@dataclass
class Seen:
    """One figure a reader saw: a sum of table cells, and what it showed."""

    cells: tuple[Cell, ...]
    shown: str  # a number as text, `<5`-style, ".." (the whole's) or "..?" (a narrowed selection's: any size)
    label: str = ""


def _problem(t: Tables, seen: list[Seen], threshold: int, cells: list[Cell], withdrawn=None):
    from scipy.sparse import csr_matrix

    index = {c: i for i, c in enumerate(cells)}
    eq: list[dict[int, float]] = []
    b_eq: list[float] = []
    ub: list[dict[int, float]] = []
    b_ub: list[float] = []
    for tot, parts in t.relations:
        row: dict[int, float] = defaultdict(float)
        row[index[tot]] -= 1
        for c in parts:
            row[index[c]] += 1
        eq.append(row)
        b_eq.append(0.0)
    for s in seen:
        row = defaultdict(float)
        for c in s.cells:
            row[index[c]] += 1
        if s.shown in ("..", "..?"):
            ub.append({j: -v for j, v in row.items()})
            b_ub.append(-threshold if s.shown == ".." else 0)
        elif s.shown.startswith("<"):
            ub += [{j: -v for j, v in row.items()}, row]
            b_ub += [-1, threshold - 1]
        else:
            eq.append(row)
            b_eq.append(float(s.shown))

    def matrix(rows):
        data = [(r, j, v) for r, row in enumerate(rows) for j, v in row.items()]
        r, j, v = zip(*data) if data else ((), (), ())
        return csr_matrix((v, (r, j)), shape=(len(rows), len(cells)))

    # a cell no table row has is a zero of a published table (the app prints 0), unless it is an undated part or
    # lies in a line the app withdrew (then it prints `..`, zeros too)
    bounds = [(0, None) if c in t.values or c in t.free or (withdrawn is not None and withdrawn(c)) else (0, 0)
              for c in cells]
    return dict(A_eq=matrix(eq), b_eq=np.array(b_eq), A_ub=matrix(ub) if ub else None,
                b_ub=np.array(b_ub) if ub else None, bounds=bounds, method="highs")


def vector(s: Seen, index: dict) -> np.ndarray:
    row = np.zeros(len(index))
    for c in s.cells:
        row[index[c]] += 1
    return row


class _LP:
    """The audit's problem as one HiGHS model, solved again for each objective from the last basis: the same
    linear programme scipy's `linprog` would solve, at a fraction of the time for hundreds of figures."""

    def __init__(self, kw: dict) -> None:
        import highspy
        from scipy.sparse import vstack

        self.hs = highspy
        a_eq, b_eq, a_ub, b_ub = kw["A_eq"], kw["b_eq"], kw["A_ub"], kw["b_ub"]
        rows = a_eq if a_ub is None else vstack([a_eq, a_ub]).tocsr()
        lower = np.concatenate([b_eq, np.full(0 if a_ub is None else a_ub.shape[0], -np.inf)])
        upper = np.concatenate([b_eq, np.zeros(0) if b_ub is None else b_ub])
        n = rows.shape[1]
        lo = np.array([b[0] for b in kw["bounds"]], dtype=float)
        hi = np.array([np.inf if b[1] is None else b[1] for b in kw["bounds"]], dtype=float)
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("presolve", "off")  # each solve starts from the last basis
        h.addVars(n, lo, hi)
        h.addRows(rows.shape[0], lower, upper, rows.nnz, rows.indptr[:-1].astype(np.int32),
                  rows.indices.astype(np.int32), rows.data.astype(float))
        self.h, self.costed, self.kw = h, np.array([], dtype=np.int32), kw

    def solution(self, row: np.ndarray, maximise: bool) -> np.ndarray | None:
        """An optimal point for this objective (None when unbounded): every point is one a reader cannot rule out."""
        if self.optimum(row, maximise) is None:
            return None
        return np.asarray(self.h.getSolution().col_value)

    def optimum(self, row: np.ndarray, maximise: bool) -> float | None:
        hs, h = self.hs, self.h
        if len(self.costed):
            h.changeColsCost(len(self.costed), self.costed, np.zeros(len(self.costed)))
        idx = np.flatnonzero(row).astype(np.int32)
        h.changeColsCost(len(idx), idx, row[idx].astype(float))
        self.costed = idx
        h.changeObjectiveSense(hs.ObjSense.kMaximize if maximise else hs.ObjSense.kMinimize)
        h.run()
        status = h.getModelStatus()
        if status == hs.HighsModelStatus.kUnbounded:
            return None
        assert status == hs.HighsModelStatus.kOptimal, "what was shown is impossible"
        return h.getInfo().objective_function_value


_MODELS: dict[int, _LP] = {}


def _interval(row, kw) -> tuple[float, float]:
    lp = _MODELS.get(id(kw))
    if lp is None or lp.kw is not kw:
        if len(_MODELS) > 4:
            _MODELS.clear()
        lp = _MODELS[id(kw)] = _LP(kw)
    low, high = lp.optimum(row, False), lp.optimum(row, True)
    return (0.0 if low is None else low), (np.inf if high is None else high)


def _settled(rows: list[np.ndarray], kw, truth: np.ndarray, rounds: int = 6) -> list[bool]:
    """Which figures two feasible points already show at values at least 1 apart: those cannot be pinned, and need
    no minimum and maximum of their own (two solves each). The points: the truth, and the optima of a few random
    mixes of the figures still open (both signs, so most move both ways); each is a point the reader cannot rule
    out, so the screen only ever skips a figure that holds. The rest get their exact interval (`_interval`)."""
    # its own model, with every cell's sum capped (at twice the truth's, and more) so that no mix is unbounded: a
    # point of the capped problem is a point of the reader's
    lp = _LP(kw)
    lp.h.addRow(-np.inf, 2 * float(truth.sum()) + 100, len(truth), np.arange(len(truth), dtype=np.int32),
                np.ones(len(truth)))
    figures = np.array(rows)
    low = high = figures @ truth
    rng = np.random.default_rng(0)
    for _ in range(rounds):
        open_ = high - low < 1 - 1e-6
        if not open_.any():
            break
        weights = rng.uniform(0.5, 1.5, open_.sum()) * rng.choice([-1.0, 1.0], open_.sum())
        for sign in (1.0, -1.0):
            values = figures @ lp.solution(sign * (weights @ figures[open_]), maximise=False)
            low, high = np.minimum(low, values), np.maximum(high, values)
    return list(high - low >= 1 - 1e-6)


def audit(t: Tables, seen: list[Seen], threshold: int, whole: list[Seen] | None = None, withdrawn=None
          ) -> list[tuple[Seen, float, float]]:
    """Every hidden figure a reader can pin to one value with all they saw.

    Variables: every table cell (≥ 0) and the undated parts. A visible figure fixes its sum; `<5`
    bounds it to 1 … t − 1; the whole's `..` to at least t; a narrowed selection's `..?` to ≥ 0.
    A narrowed figure that `whole` (what the unfiltered view shows) already pins is a sum of hidden
    cells the whole gives away by its line totals, as every suppressed table does; it is not counted.
    `withdrawn(cell)`: whether the app prints a zero cell as `..` (its line withdrawn), so the reader does not
    know it is zero.
    """
    cells = sorted(set(t.values) | t.free | {c for tot, parts in t.relations for c in (tot, *parts)}
                   | {c for s in seen for c in s.cells}, key=repr)
    index = {c: i for i, c in enumerate(cells)}
    kw = _problem(t, seen, threshold, cells, withdrawn)
    kw_whole = _problem(t, whole, threshold, cells, withdrawn) if whole is not None else None
    truth = np.array([t.values.get(c, 0) for c in cells], dtype=float)
    for s in seen:
        if s.shown[0].isdigit():
            assert abs(vector(s, index) @ truth - float(s.shown)) < 1e-6, f"shown but not true: {s}"
    failures = []
    done = set()
    hidden = []
    for s in (s for s in seen if not s.shown[0].isdigit()):
        row = vector(s, index)
        sig = row.tobytes()
        if sig not in done:
            done.add(sig)
            hidden.append((s, row))
    settled = _settled([row for _, row in hidden], kw, truth) if hidden else []
    for (s, row), held in zip(hidden, settled):
        if held:
            continue
        low, high = _interval(row, kw)
        if high - low < 1 - 1e-6:  # pinned: one value only
            if high < 1e-6:
                continue  # pinned at zero: a zero is shown as 0 everywhere and is no count to protect (a withdrawn
                #           line prints it `..`, yet another period may show the same people as 0)
            if kw_whole is not None and s not in whole:
                w_low, w_high = _interval(row, kw_whole)
                if w_high - w_low < 1 - 1e-6:
                    continue
            failures.append((s, low, high))
    return failures



# ---------------------------------------------------------------- the year's grid: every period a reader can choose

GRID = {"Y": lambda y: (dt.date(y, 1, 1), dt.date(y, 12, 31)), "D": lambda y: (dt.date(y, 1, 1), dt.date(y, 8, 31)),
        "T1": lambda y: (dt.date(y, 1, 1), dt.date(y, 4, 30)), "T2": lambda y: (dt.date(y, 5, 1), dt.date(y, 8, 31)),
        "T3": lambda y: (dt.date(y, 9, 1), dt.date(y, 12, 31))}
TERTIALS_OF = {"Y": (1, 2, 3), "D": (1, 2), "T1": (1,), "T2": (2,), "T3": (3,)}
FLOW_DIMS = {"started": ("initiative", "agency"), "exited": ("initiative", "reason")}


def grid_filters(year: int, span: str, **kw):
    from metrics import Filters

    start, end = GRID[span](year)
    return Filters(start, end, **kw)


def grid_cell(span: str, measure: str, dims: dict, sex: str) -> Cell:
    """A count of period `span`. A count by tertial is the same count whichever period shows it: no period."""
    if "tertial" in dims:
        return cell(measure, dims, sex)
    return cell(measure, {**dims, "span": span}, sex)


def _retag(c: Cell, span: str) -> Cell:
    return grid_cell(span, c[0], dict(c[1]), c[2])


def _var(*parts) -> tuple:
    """A quantity no table shows: a flow of one tertial, the anonymous counts, a stock open at a boundary."""
    return tuple(frozenset(p.items()) if isinstance(p, dict) else p for p in parts)


def grid_tables(con, year: int, publication, positive: set[str], wide: set[str], associations: tuple[str, ...] = ()
                ) -> Tables:
    """Every cell the five periods of `year` publish, from the metrics layer, with all a reader knows of how
    they add up — written here from the data contract's definitions, not taken from the engine:

    - each period's tables and their margins (`tables_for`);
    - a period's started (exited) are the sums of its tertials' dated flows F, plus for started the year's
      anonymous counts A, which count in every part of their year; the flows have their margins, and the
      year's tertial charts show some of them;
    - a period's participants (and those without consent) are those open at its first day plus those who start
      in it, and equally those who exit in it plus those open after it (O at the tertial boundaries).
    F, A and O are unknown to the reader (≥ 0).
    """
    values: dict[Cell, int] = {}
    relations: list[tuple[Cell, list[Cell]]] = []
    free: set[Cell] = set()
    for span in GRID:
        f = grid_filters(year, span, associations=tuple(associations))
        one = tables_for(con, f, [s for s in publication if span in s.spans], positive, wide)
        for c, v in one.values.items():
            k = _retag(c, span)
            assert values.get(k, v) == v, f"one count, two values: {k}"
            values[k] = v
        relations += [(_retag(t, span), [_retag(q, span) for q in parts]) for t, parts in one.relations]
        free |= {_retag(c, span) for c in one.free}
    shown_cats = defaultdict(set)  # measure -> (categories, sex) some period shows
    for c in values:
        dims = dict(c[1])
        if "span" in dims:
            shown_cats[c[0]].add((tuple(sorted((d, v) for d, v in dims.items() if d != "span")), c[2]))
    sexes = ("women", "men", "other")
    for measure, dims in FLOW_DIMS.items():
        for rest, sx in shown_cats[measure]:
            cat = dict(rest)
            if set(cat) - set(dims) or len(cat) > 1 or cat.get("reason") in ("positive", "positive_wide"):
                continue  # one category at a time; the positive exits are sums of reasons, not reasons
            for span, ks in TERTIALS_OF.items():
                total = grid_cell(span, measure, cat, sx)
                if total in values:
                    relations.append((total, [_var("F", measure, cat, k, sx) for k in ks]
                                      + ([_var("A", cat, sx)] if measure == "started" else [])))
            for k in (1, 2, 3):
                free.add(_var("F", measure, cat, k, sx))
                if sx == "total":
                    relations.append((_var("F", measure, cat, k, "total"), [_var("F", measure, cat, k, s) for s in sexes]))
            if measure == "started":
                free.add(_var("A", cat, sx))
                if sx == "total":
                    relations.append((_var("A", cat, "total"), [_var("A", cat, s) for s in sexes]))
        for d in dims:
            for sx in (*sexes, "total"):
                for k in (1, 2, 3):
                    kids = sorted((c for c in free if c[0] == "F" and c[1] == measure and c[3] == k and c[4] == sx
                                   and {a for a, _ in c[2]} == {d}), key=repr)
                    if kids:
                        relations.append((_var("F", measure, {}, k, sx), kids))
                kids = sorted((c for c in free if c[0] == "A" and c[2] == sx and {a for a, _ in c[1]} == {d}), key=repr)
                if measure == "started" and kids:
                    relations.append((_var("A", {}, sx), kids))
    for c in list(values) + list(free):  # what the year's tertial charts show (and their undated parts) are these
        if c[0] not in FLOW_DIMS or not isinstance(c[1], frozenset):
            continue
        dims = dict(c[1])
        if "tertial" not in dims or "span" in dims or set(dims) - {"tertial", *FLOW_DIMS[c[0]]} or len(dims) > 2:
            continue
        rest = {d: v for d, v in dims.items() if d != "tertial"}
        if rest.get("reason") in ("positive", "positive_wide"):
            continue
        if dims["tertial"] == "∅":
            relations.append((c, [_var("A", rest, c[2])]))
        else:
            relations.append((c, [_var("F", c[0], rest, int(dims["tertial"].rsplit("T", 1)[1]), c[2])]))
    for stock, inflow, outflow in (("participants", "started", "exited"), ("no_consent", "started_nc", "exited_nc")):
        for rest, sx in shown_cats[stock]:
            cat = dict(rest)
            if set(cat) - {"initiative"}:
                continue
            anon = _var("A", cat, sx) if stock == "participants" else _var("A_nc", cat, sx)
            free.add(anon)
            for span, ks in TERTIALS_OF.items():
                total = grid_cell(span, stock, cat, sx)
                if total not in values:
                    continue
                ins = [_var("F", inflow, cat, k, sx) for k in ks]
                outs = [_var("F", outflow, cat, k, sx) for k in ks]
                first, after = _var("O", stock, cat, ks[0] - 1, sx), _var("O", stock, cat, ks[-1], sx)
                free |= {*ins, *outs, first, after}
                relations.append((total, [first, *ins, anon]))
                relations.append((total, [*outs, after, anon]))
    return Tables(values, relations, free)
