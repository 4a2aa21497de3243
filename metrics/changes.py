"""What a load changes: the figures per initiative and year in one database, and two such sets side by side.

The data page builds the database a load would write (etl.load.preview_files) and asks these
functions about it and about the current one, so the preview uses the same definitions
(metrics/facts.py) as every page and the report, and shows exactly what the load will do.
"""
from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from core import effects

from .catalog import years as activity_years
from .facts import counts
from .filters import Filters

COUNTS = effects.COUNTS
AMOUNTS = effects.AMOUNTS
FIGURES = effects.FIGURES
KEY = list(effects.KEY)


def figures(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Participants, started, exited (all sexes), budget and actual per initiative and calendar year.

    The years are those with any activity or budget. Counts are 0 where there is nobody; amounts are
    None where there is no budget line: missing is not 0 kr.
    """
    budget = con.execute(
        "SELECT initiative, year, CAST(sum(budget) AS DOUBLE) AS budget, CAST(sum(actual) AS DOUBLE) AS actual "
        "FROM budget_lines GROUP BY initiative, year").df()
    years = sorted(set(activity_years(con)) | {int(y) for y in budget.year})
    frames = []
    if years:
        whole = Filters(dt.date(years[0], 1, 1), dt.date(years[-1], 12, 31))
        for m in ("started", "exited"):  # an event has one year: one query over the whole span
            frames.append(counts(con, whole, m, ("initiative", "year"))[[*KEY, "total"]].rename(columns={"total": m}))
        per_year = [counts(con, Filters.year(y), "participants", ("initiative",))[["initiative", "total"]].assign(year=y)
                    for y in years]  # participants span years: one period each, as the pages count them
        frames.append(pd.concat(per_year, ignore_index=True).rename(columns={"total": "participants"}))
    out = pd.DataFrame({"initiative": pd.Series(dtype=object), "year": pd.Series(dtype="int64")})
    for f in [*frames, budget]:
        out = out.merge(f.astype({"year": "int64"}), on=KEY, how="outer")
    for m in FIGURES:
        if m not in out.columns:
            out[m] = None
    for m in COUNTS:
        out[m] = out[m].fillna(0).astype("int64")
    for m in AMOUNTS:
        out[m] = pd.Series([None if pd.isna(x) else float(x) for x in out[m]], index=out.index, dtype=object)
    out = out[(out[list(COUNTS)].sum(axis=1) > 0) | out.budget.notna() | out.actual.notna()]
    return out.sort_values(KEY).reset_index(drop=True)[[*KEY, *FIGURES]]


def compare(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Initiative-years whose figures differ, with `<figure>_before` and `<figure>_after` for each figure.

    An initiative-year missing on one side has 0 people and no amounts there.
    """
    both = before.merge(after, on=KEY, how="outer", suffixes=("_before", "_after"), indicator=True)
    changed = pd.Series(False, index=both.index)
    for m in FIGURES:
        b, a = both[f"{m}_before"], both[f"{m}_after"]
        if m in COUNTS:
            both[f"{m}_before"], both[f"{m}_after"] = b.fillna(0).astype("int64"), a.fillna(0).astype("int64")
            changed |= both[f"{m}_before"] != both[f"{m}_after"]
        else:
            b = pd.Series([None if pd.isna(x) else float(x) for x in b], index=both.index, dtype=object)
            a = pd.Series([None if pd.isna(x) else float(x) for x in a], index=both.index, dtype=object)
            both[f"{m}_before"], both[f"{m}_after"] = b, a
            changed |= pd.Series([x != y for x, y in zip(b, a)], index=both.index)
    cols = [*KEY, *(f"{m}_{side}" for m in FIGURES for side in ("before", "after"))]
    return both[changed][cols].sort_values(KEY).reset_index(drop=True)


def recorded(con: duckdb.DuckDBPyConnection, change_id: int) -> pd.DataFrame:
    """What change `change_id` did, as `compare` gives it, read from the record the change kept (core.effects)."""
    return effects.read(con, change_id)


# Every change the loader makes keeps what it did to these figures (etl.history.build), in its own transaction.
effects.register(figures, compare)


def load_contents(con: duckdb.DuckDBPyConnection, load_ids: list[int]) -> pd.DataFrame:
    """Per load: the stored rows, the period they cover (first and last date) and their initiatives.

    Dates are those of the rows (start and end of enrollments; a year's first and last day for
    anonymous counts and budget lines; planned dates in the register).
    """
    if not load_ids:
        return pd.DataFrame(columns=["load_id", "rows", "first_date", "last_date", "initiatives"])
    return con.execute(
        """
        WITH rows AS (
            SELECT load_id, initiative, start_date AS d0, coalesce(end_date, start_date) AS d1 FROM enrollments
            UNION ALL SELECT load_id, initiative, make_date(year, 1, 1), make_date(year, 12, 31) FROM anonymous_counts
            UNION ALL SELECT load_id, initiative, make_date(year, 1, 1), make_date(year, 12, 31) FROM budget_lines
            UNION ALL SELECT load_id, initiative, start_date, coalesce(end_date, start_date) FROM initiatives
        )
        SELECT load_id, count(*) AS rows, min(d0) AS first_date, max(d1) AS last_date,
               list(DISTINCT initiative ORDER BY initiative) AS initiatives
        FROM rows WHERE list_contains(CAST($ids AS INTEGER[]), load_id)
        GROUP BY load_id ORDER BY load_id
        """, {"ids": [int(i) for i in load_ids]}).df()
