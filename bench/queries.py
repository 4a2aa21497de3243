"""Each page's queries two ways, and the check that both give the same figures.

The metrics side calls the functions the pages call through `ui.data.run` (metrics.people, .cost,
.compare, .catalog), uncached, on a read-only connection; the pandas side computes the same
figures with bench/pandas_way.py on DataFrames held in memory, the usual Streamlit way.
Functions are looked up when called, so a renamed or removed function shows up as an error in
the results instead of stopping the benchmark. `unmeasured_calls` lists what the pages call
that is not measured here, so the list below can be kept in step with the pages.
"""
from __future__ import annotations

import ast
import importlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd

from bench import pandas_way as pw

ROOT = Path(__file__).resolve().parents[1]
COLS = pw.COLS


def M(dotted: str, *args, **kwargs) -> Callable:
    """A metrics function by name ('people.headline'), called as fn(con, f, *args)."""
    module, name = dotted.rsplit(".", 1)

    def call(con, f):
        fn = getattr(importlib.import_module(f"metrics.{module}"), name)
        return fn(con, f, *args, **kwargs)

    return call


def M0(dotted: str) -> Callable:
    """A metrics function that takes only the connection."""
    module, name = dotted.rsplit(".", 1)
    return lambda con, f: getattr(importlib.import_module(f"metrics.{module}"), name)(con)


def P(name: str, *args) -> Callable:
    return lambda F, f: getattr(pw, name)(F, f, *args)


def P0(name: str) -> Callable:
    return lambda F, f: getattr(pw, name)(F)


def _p_key_figures(F, f):
    prev = f.previous()
    return (pw.headline(F, f), pw.headline(F, prev), pw.cost_summary(F, f), pw.cost_summary(F, prev),
            pw.targets_summary(F, f))


@dataclass(frozen=True)
class Query:
    name: str  # the function the page calls (through ui.data.run)
    metrics: Callable
    pandas: Callable


SIDEBAR = [
    Query("years", M0("catalog.years"), P0("years")),
    Query("initiatives", M0("catalog.initiatives"), P0("initiatives")),
    Query("default_year", lambda con, f: importlib.import_module("metrics.catalog").default_year(con, f.end.year),
          lambda F, f: pw.default_year(F, f.end.year)),
    Query("associations", M0("catalog.associations"), P0("associations")),
    Query("initiative_owners", M0("catalog.initiative_owners"), P0("initiative_owners")),
    Query("status", M0("catalog.status"), P0("status")),
]
HEADLINE = Query("headline", M("people.headline"), P("headline"))
BY_INITIATIVE = Query("by_initiative", M("people.by_initiative"), P("by_initiative"))
REASONS = Query("exits_by_reason", M("people.exits_by_reason"), P("exits_by_reason"))
REASONS_INI = Query("exits_by_reason(initiative)", M("people.exits_by_reason", ("initiative",)),
                    P("exits_by_reason", ("initiative",)))
POSITIVE_CODES = Query("positive_codes", M0("people.positive_codes"), lambda F, f: F.positive)
TARGETS = Query("targets_summary", M("people.targets_summary"), P("targets_summary"))
COST_YEAR = Query("cost_by_initiative_year", M("cost.cost_by_initiative_year"), P("cost_by_initiative_year"))
COST_SUMMARY = Query("cost_summary", M("cost.cost_summary"), P("cost_summary"))

# url path → (title, the queries the page runs besides the sidebar's), as of the pages in this commit
PAGES: dict[str, tuple[str, list[Query]]] = {
    "": ("Översikt", [
        HEADLINE, COST_SUMMARY,
        Query("key_figures", M("compare.key_figures"), _p_key_figures),
        REASONS, POSITIVE_CODES, BY_INITIATIVE,
        Query("cost_per_initiative", M("cost.cost_per_initiative"), P("cost_per_initiative")),
        REASONS_INI,
    ]),
    "inflode": ("Inflöde per remittent", [
        Query("inflow_by_agency", M("people.inflow_by_agency"), P("inflow_by_agency")),
        Query("inflow(quarter)", M("people.inflow", "quarter"), P("inflow", "quarter")),
        Query("inflow_by_initiative", M("people.inflow_by_initiative"), P("inflow_by_initiative")),
        Query("inflow_units", M("people.inflow_units"), P("inflow_units")),
    ]),
    "jamstalldhet": ("Jämställdhet", [
        Query("by_sex_per_initiative", M("people.by_sex_per_initiative"), P("by_sex_per_initiative")),
        Query("women_share_vs_target", M("people.women_share_vs_target"), P("women_share_vs_target")),
        Query("reason_shares", M("people.reason_shares"), P("reason_shares")),
        Query("age_by_sex", M("people.age_by_sex"), P("age_by_sex")),
    ]),
    "avslut": ("Avslut och resultat", [
        REASONS_INI, BY_INITIATIVE,
        Query("positive_share_over_time(quarter)", M("people.positive_share_over_time", "quarter"),
              P("positive_share_over_time", "quarter")),
        TARGETS,
        Query("time_in_initiative", M("people.time_in_initiative"), P("time_in_initiative")),
        Query("income_flow", M("people.income_flow"), P("income_flow")),
    ]),
    "kostnad": ("Kostnad per deltagare", [
        COST_YEAR,
        Query("cost_by_dimension(category)", M("cost.cost_by_dimension", "category"), P("cost_by_dimension", "category")),
        Query("cost_by_dimension(funder)", M("cost.cost_by_dimension", "funder"), P("cost_by_dimension", "funder")),
    ]),
    "export": ("Export", [  # render.tables.export_tables and enrollment_table, unpacked into their metrics calls
        HEADLINE, BY_INITIATIVE,
        Query("inflow_by_agency", M("people.inflow_by_agency"), P("inflow_by_agency")),
        Query("inflow_by_initiative", M("people.inflow_by_initiative"), P("inflow_by_initiative")),
        REASONS, REASONS_INI,
        Query("age_by_sex", M("people.age_by_sex"), P("age_by_sex")),
        COST_YEAR, COST_SUMMARY, POSITIVE_CODES,
        Query("enrollment_rows", M("people.enrollment_rows"), P("enrollment_rows")),
    ]),
}
COVERED_ELSEWHERE = {"export_tables", "enrollment_table"}  # render functions, measured through their metrics calls


def unmeasured_calls() -> dict[str, list[str]]:
    """Functions the pages (and the sidebar) pass to `run(...)` that no Query here is named after."""
    measured = {q.name.split("(")[0] for _, qs in PAGES.values() for q in qs} | {q.name for q in SIDEBAR}
    measured |= COVERED_ELSEWHERE
    out: dict[str, list[str]] = {}
    for path in [*sorted((ROOT / "pages").glob("*.py")), ROOT / "ui" / "filters.py", ROOT / "ui" / "layout.py"]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        alias = {a.asname: a.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                 for a in node.names if a.asname}
        names = {alias.get(node.args[0].id, node.args[0].id) for node in ast.walk(tree)
                 if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "run"
                 and node.args and isinstance(node.args[0], ast.Name)}
        missing = sorted(names - measured)
        if missing:
            out[path.relative_to(ROOT).as_posix()] = missing
    return out


# ---------------------------------------------------------------- the correctness check


def _is_missing(x) -> bool:
    try:
        return x is None or bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def _fmt(x) -> str:
    if _is_missing(x):
        return "–"
    if isinstance(x, str):
        return repr(x)
    x = float(x)
    return str(int(x)) if x.is_integer() else repr(x)


def _equal(a, b) -> bool:
    if _is_missing(a) or _is_missing(b):
        return _is_missing(a) and _is_missing(b)
    if isinstance(a, str) or isinstance(b, str):
        return str(a) == str(b)
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)


def compare(name: str, left: pd.DataFrame, right: pd.DataFrame, keys: list[str], cols: list[str],
            counts: bool = True) -> list[str]:
    """Cell-by-cell differences between the metrics frame (left) and the pandas frame (right).

    `counts`: a missing row means zero (a group nobody is in), and all-zero rows are ignored.
    """
    def tidy(df: pd.DataFrame) -> pd.DataFrame:
        df = df.copy()
        for k in keys:
            df[k] = df[k].astype(str)
        return df.set_index(keys)[cols]

    a, b = tidy(left), tidy(right)
    problems = []
    if a.index.has_duplicates or b.index.has_duplicates:
        problems.append(f"{name}: duplicate keys (metrics {a.index.has_duplicates}, pandas {b.index.has_duplicates})")
    index = a.index.union(b.index)
    if counts:
        a = a.reindex(index).astype(float).fillna(0)
        b = b.reindex(index).astype(float).fillna(0)
        keep = (a != 0).any(axis=1) | (b != 0).any(axis=1)
        a, b = a[keep], b[keep]
    else:
        for label, df in (("metrics", a), ("pandas", b)):
            extra = index.difference(df.index)
            if len(extra):
                problems.append(f"{name}: {len(extra)} rows only in {'pandas' if label == 'metrics' else 'metrics'}, "
                                f"e.g. {list(extra[:3])}")
        index = a.index.intersection(b.index)
        a, b = a.loc[index], b.loc[index]
    bad = [(i, c, a.at[i, c], b.at[i, c]) for c in cols for i in a.index if not _equal(a.at[i, c], b.at[i, c])]
    problems += [f"{name}: {i} {c}: metrics {_fmt(x)}, pandas {_fmt(y)}" for i, c, x, y in bad[:5]]
    if len(bad) > 5:
        problems.append(f"{name}: … {len(bad)} cells differ in all")
    return problems


def _dicts(name: str, a: dict, b: dict, fields: list[str]) -> list[str]:
    return [f"{name}: {k}: metrics {_fmt(a.get(k))}, pandas {_fmt(b.get(k))}" for k in fields
            if not _equal(a.get(k), b.get(k))]


def check(con, F: pw.Frames, f) -> list[str]:
    """Every difference between the metrics layer and pandas for the period of `f`; [] when all figures agree.

    Participants, started, exited (and without consent, to work/studies) by sex, in total, per
    initiative and per agency; exits by reason; inflow; age; time in initiative; income flow;
    budget, actual, cost and cost per participant per initiative and year, per initiative and in all.
    """
    from core.vocabulary import AGENCY_ORDER
    from metrics import cost, people

    out: list[str] = []
    count_rows = ["participants", "started", "exited", "no_consent", "exited_positive", "exited_positive_wide"]
    hm, hp = people.headline(con, f), pw.headline(F, f)
    out += compare("headline", hm.loc[count_rows].reset_index(names="measure"),
                   hp.loc[count_rows].reset_index(names="measure"), ["measure"], COLS)
    share_rows = ["positive_share", "positive_wide_share", "women_share"]
    out += compare("headline shares", hm.loc[share_rows, ["total"]].reset_index(names="measure"),
                   hp.loc[share_rows, ["total"]].reset_index(names="measure"), ["measure"], ["total"], counts=False)

    measures = ["participants", "started", "exited", "no_consent", "exited_positive"]
    ini_cols = [f"{m}_{c}" for m in measures for c in COLS]
    out += compare("by_initiative", people.by_initiative(con, f), pw.by_initiative(F, f), ["initiative"], ini_cols)

    rows = []
    for agency in AGENCY_ORDER:
        h = people.headline(con, f.with_(agencies=(agency,)))
        rows.append({"agency": agency} | {f"{m}_{c}": h.loc[m, c] for m in ("participants", "started", "exited")
                                          for c in COLS})
    agency_cols = [f"{m}_{c}" for m in ("participants", "started", "exited") for c in COLS]
    out += compare("per agency", pd.DataFrame(rows), pw.per_agency(F, f), ["agency"], agency_cols)
    out += compare("inflow_by_agency", people.inflow_by_agency(con, f), pw.inflow_by_agency(F, f), ["agency"], COLS)
    out += compare("inflow_by_initiative", people.inflow_by_initiative(con, f), pw.inflow_by_initiative(F, f),
                   ["initiative", "agency"], COLS)
    out += compare("inflow(quarter)", people.inflow(con, f, "quarter"), pw.inflow(F, f, "quarter"),
                   ["quarter", "agency"], COLS)
    out += compare("inflow_units", people.inflow_units(con, f), pw.inflow_units(F, f), ["agency", "unit"], COLS)

    out += compare("exits_by_reason", people.exits_by_reason(con, f), pw.exits_by_reason(F, f), ["reason"], COLS)
    out += compare("exits_by_reason(initiative)", people.exits_by_reason(con, f, ("initiative",)),
                   pw.exits_by_reason(F, f, ("initiative",)), ["initiative", "reason"], COLS)
    out += compare("by_sex_per_initiative", people.by_sex_per_initiative(con, f), pw.by_sex_per_initiative(F, f),
                   ["measure", "initiative"], COLS)
    out += compare("age_by_sex", people.age_by_sex(con, f), pw.age_by_sex(F, f), ["age_group"], COLS)
    out += compare("income_flow", people.income_flow(con, f), pw.income_flow(F, f),
                   ["income_at_start", "income_at_exit"], COLS)
    out += compare("positive_share_over_time", people.positive_share_over_time(con, f, "quarter"),
                   pw.positive_share_over_time(F, f, "quarter"), ["quarter"],
                   [f"{p}_{c}" for p in ("exited", "positive") for c in COLS])
    out += compare("time_in_initiative", people.time_in_initiative(con, f), pw.time_in_initiative(F, f),
                   ["reason", "sex"], ["n", "median_months", "q1_months", "q3_months", "p10_months", "p90_months"],
                   counts=False)
    out += compare("women_share_vs_target", people.women_share_vs_target(con, f), pw.women_share_vs_target(F, f),
                   ["initiative"], ["women_share", "target"], counts=False)
    out += _dicts("targets_summary", people.targets_summary(con, f), pw.targets_summary(F, f),
                  ["participants", "women_share", "positive_share"])

    money = ["budget", "actual", "cost", "basis", "participants", "started", "positive_exits", "per_participant",
             "per_started", "per_positive_exit"]
    out += compare("cost_by_initiative_year", cost.cost_by_initiative_year(con, f), pw.cost_by_initiative_year(F, f),
                   ["initiative", "year"], money, counts=False)
    out += compare("cost_per_initiative", cost.cost_per_initiative(con, f), pw.cost_per_initiative(F, f),
                   ["initiative"], ["cost", "basis", "participants", "per_participant"], counts=False)
    out += _dicts("cost_summary", cost.cost_summary(con, f), pw.cost_summary(F, f),
                  ["cost", "participants", "per_participant"])
    for dim in ("category", "funder"):
        out += compare(f"cost_by_dimension({dim})", cost.cost_by_dimension(con, f, dim), pw.cost_by_dimension(F, f, dim),
                       ["initiative", "year", dim], ["budget", "actual", "cost"], counts=False)
    return out
