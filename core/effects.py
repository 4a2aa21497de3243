"""What each change did to the figures: before → after per initiative and year, kept with the change.

The data page shows, before a load, what it will change (participants, started, exited, budget, actual per
initiative and year, före → efter). The change that writes the data (etl.history.build) keeps the same
rows in the new database's `change_effects` table, keyed by the change's id and written in the same
transaction as the data, so the record and the data can never disagree: a change that fails leaves
neither. The loader knows only this registry; the figures and how two sets compare are the metrics
layer's (metrics.changes registers itself, as metrics.decisions does for core.derived). Without a
registration nothing is recorded, and the change says so (`changes.effects` is NULL: not recorded).
"""
from __future__ import annotations

from collections.abc import Callable

import duckdb
import pandas as pd

TABLE = "change_effects"
KEY = ("initiative", "year")
COUNTS = ("participants", "started", "exited")
AMOUNTS = ("budget", "actual")
FIGURES = (*COUNTS, *AMOUNTS)
COLUMNS = (*KEY, *(f"{m}_{side}" for m in FIGURES for side in ("before", "after")))

Measure = Callable[[duckdb.DuckDBPyConnection], pd.DataFrame]
Compare = Callable[[pd.DataFrame, pd.DataFrame], pd.DataFrame]
_REGISTERED: dict[str, tuple[Measure, Compare]] = {}


def register(measure: Measure, compare: Compare) -> None:
    """`measure(con)`: the figures of one database (KEY + FIGURES); `compare(before, after)`: the rows that
    differ, with COLUMNS."""
    _REGISTERED["figures"] = (measure, compare)


def registered() -> bool:
    return "figures" in _REGISTERED


def measure(con: duckdb.DuckDBPyConnection) -> pd.DataFrame | None:
    """The figures of the database behind `con`, or None when nothing is registered."""
    if not registered():
        return None
    return _REGISTERED["figures"][0](con)


def empty() -> pd.DataFrame | None:
    """The figures of no database (none before a first load), or None when nothing is registered."""
    if not registered():
        return None
    return pd.DataFrame({c: pd.Series(dtype="int64" if c == "year" or c in COUNTS else object)
                         for c in (*KEY, *FIGURES)})


def compare(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    return _REGISTERED["figures"][1](before, after)[list(COLUMNS)]


def write(con: duckdb.DuckDBPyConnection, change_id: int, rows: pd.DataFrame) -> None:
    """Keep `rows` (COLUMNS) as what change `change_id` did; called inside the change's transaction."""
    if not len(rows):
        return
    df = rows[list(COLUMNS)].copy()
    df.insert(0, "change_id", int(change_id))
    for m in AMOUNTS:
        for side in ("before", "after"):
            col = f"{m}_{side}"
            df[col] = pd.Series([None if pd.isna(x) else float(x) for x in df[col]], index=df.index, dtype="float64")
    df["initiative"] = df["initiative"].astype(str)
    con.register("new_change_effects", df)
    try:
        con.execute(f"INSERT INTO {TABLE} BY NAME SELECT * FROM new_change_effects")
    finally:
        con.unregister("new_change_effects")


def read(con: duckdb.DuckDBPyConnection, change_id: int) -> pd.DataFrame:
    """What change `change_id` did (COLUMNS, by initiative and year); empty for none or a database from before."""
    exists = con.execute("SELECT 1 FROM duckdb_tables() WHERE database_name = current_database() "
                         "AND table_name = ?", [TABLE]).fetchall()
    if not exists:
        return pd.DataFrame(columns=list(COLUMNS))
    df = con.execute(f"SELECT {', '.join(COLUMNS)} FROM {TABLE} WHERE change_id = ? ORDER BY initiative, year",
                     [int(change_id)]).df()
    for m in AMOUNTS:
        for side in ("before", "after"):
            col = f"{m}_{side}"
            df[col] = pd.Series([None if pd.isna(x) else float(x) for x in df[col]], index=df.index, dtype=object)
    return df
