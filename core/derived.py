"""Tables derived from the data, written by the change that writes the data (etl.history.build).

A derived table is always of the data beside it: every change (a load, an undo, a mapping change) drops the
ones it carried over from the old file and, before it commits, runs each registered derivation on the new data.
The loader knows only the table names and this registry; what derives them registers itself from above
(metrics.decisions, imported by the app and the command line). A derivation that is not registered, or that
fails, leaves its table empty: readers then work the figures out themselves, more slowly, never wrongly.
"""
from __future__ import annotations

from collections.abc import Callable

import duckdb

# a derived table -> why it exists
TABLES = {
    "protection_decisions": "each year's small-count protection decided at load (metrics.decisions): a page's first "
                            "visit reads it instead of solving the year's grid",
}

Derivation = Callable[[duckdb.DuckDBPyConnection], None]
_DERIVATIONS: dict[str, Derivation] = {}


def register(table: str, fn: Derivation) -> None:
    """`fn(con)` fills `table` (one of TABLES) on the new data, inside the change's transaction."""
    if table not in TABLES:
        raise ValueError(f"unknown derived table {table!r}")
    _DERIVATIONS[table] = fn


def previous(table: str) -> str:
    """The name the copy's old rows of `table` have while the change derives it anew (`refresh`)."""
    return f"previous_{table}"


def refresh(con: duckdb.DuckDBPyConnection, *, compute: bool = True) -> None:
    """Drop every derived table the copy carried over, then (with `compute`) derive them anew.

    While they are derived, the old rows stay readable as `previous(table)`: a derivation may keep what is
    still of the new data (a year's protection whose cells did not change) instead of working it out again.
    They are dropped before the change commits, whatever the derivations do."""
    for table in TABLES:
        con.execute(f"DROP TABLE IF EXISTS {previous(table)}")
        if compute:
            con.execute(f"ALTER TABLE IF EXISTS {table} RENAME TO {previous(table)}")
        con.execute(f"DROP TABLE IF EXISTS {table}")
    if not compute:
        return
    try:
        for fn in list(_DERIVATIONS.values()):
            fn(con)
    finally:
        for table in TABLES:
            con.execute(f"DROP TABLE IF EXISTS {previous(table)}")
