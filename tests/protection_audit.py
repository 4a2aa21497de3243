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
from scipy.optimize import linprog

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
        con.executemany("INSERT INTO exit_reasons VALUES (?, ?, ?, ?)", [(c, l, l, p) for c, l, p in EXIT_REASONS])
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
    from metrics.facts import counts

    f = Filters.year(year)
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


def _problem(t: Tables, seen: list[Seen], threshold: int, cells: list[Cell]):
    index = {c: i for i, c in enumerate(cells)}
    a_eq, b_eq, a_ub, b_ub = [], [], [], []
    for tot, parts in t.relations:
        row = np.zeros(len(cells))
        row[index[tot]] -= 1
        for c in parts:
            row[index[c]] += 1
        a_eq.append(row)
        b_eq.append(0.0)
    for s in seen:
        row = vector(s, index)
        if s.shown in ("..", "..?"):
            a_ub.append(-row)
            b_ub.append(-threshold if s.shown == ".." else 0)
        elif s.shown.startswith("<"):
            a_ub += [-row, row]
            b_ub += [-1, threshold - 1]
        else:
            a_eq.append(row)
            b_eq.append(float(s.shown))
    # a cell no table row has is a zero of a published table (the app prints 0), unless it is an undated part
    bounds = [(0, None) if c in t.values or c in t.free else (0, 0) for c in cells]
    return dict(A_eq=np.array(a_eq), b_eq=np.array(b_eq), A_ub=np.array(a_ub) if a_ub else None,
                b_ub=np.array(b_ub) if b_ub else None, bounds=bounds, method="highs")


def vector(s: Seen, index: dict) -> np.ndarray:
    row = np.zeros(len(index))
    for c in s.cells:
        row[index[c]] += 1
    return row


def _interval(row, kw) -> tuple[float, float]:
    lo, hi = linprog(row, **kw), linprog(-row, **kw)
    assert lo.status in (0, 3) and hi.status in (0, 3), "what was shown is impossible"
    return (lo.fun if lo.status == 0 else 0.0), (-hi.fun if hi.status == 0 else np.inf)


def audit(t: Tables, seen: list[Seen], threshold: int, whole: list[Seen] | None = None
          ) -> list[tuple[Seen, float, float]]:
    """Every hidden figure a reader can pin to one value with all they saw.

    Variables: every table cell (≥ 0) and the undated parts. A visible figure fixes its sum; `<5`
    bounds it to 1 … t − 1; the whole's `..` to at least t; a narrowed selection's `..?` to ≥ 0.
    A narrowed figure that `whole` (what the unfiltered view shows) already pins is a sum of hidden
    cells the whole gives away by its line totals, as every suppressed table does; it is not counted.
    """
    cells = sorted(set(t.values) | t.free | {c for tot, parts in t.relations for c in (tot, *parts)}
                   | {c for s in seen for c in s.cells}, key=repr)
    index = {c: i for i, c in enumerate(cells)}
    kw = _problem(t, seen, threshold, cells)
    kw_whole = _problem(t, whole, threshold, cells) if whole is not None else None
    truth = np.array([t.values.get(c, 0) for c in cells], dtype=float)
    for s in seen:
        if s.shown[0].isdigit():
            assert abs(vector(s, index) @ truth - float(s.shown)) < 1e-6, f"shown but not true: {s}"
    failures = []
    done = set()
    for s in (s for s in seen if not s.shown[0].isdigit()):
        row = vector(s, index)
        sig = row.tobytes()
        if sig in done:
            continue
        done.add(sig)
        low, high = _interval(row, kw)
        if high - low < 1 - 1e-6:  # pinned: one value only
            if kw_whole is not None and s not in whole:
                w_low, w_high = _interval(row, kw_whole)
                if w_high - w_low < 1 - 1e-6:
                    continue
            failures.append((s, low, high))
    return failures
