"""Tables derived from the data, written by the change that writes the data (etl.history.build).

A derived table is always of the data beside it: every change (a load, an undo, a mapping change) drops the
ones it carried over from the old file and, before it commits, runs each registered derivation on the new data.
The loader knows only the table names and this registry; what derives them registers itself from above
(metrics.decisions, imported by the app and the command line). A derivation that is not registered, or that
fails, leaves its table empty: readers then work the figures out themselves, more slowly, never wrongly.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from contextvars import ContextVar
from pathlib import Path

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


_AFTER: list[Callable[[Path], None]] = []


def after_change(fn: Callable[[Path], None]) -> None:
    """`fn(db)` runs once a change is in (the file swapped, the lock still held): what a derivation left for later
    (the years a load had no time to decide) is begun there, on the data now in place."""
    if fn not in _AFTER:
        _AFTER.append(fn)


def changed(db: Path) -> None:
    """Run the `after_change` functions; a failure is logged, never raised: the change is in either way."""
    for fn in list(_AFTER):
        try:
            fn(db)
        except Exception:  # noqa: BLE001 - what runs after only saves time; readers work out what is missing
            logging.getLogger(__name__).exception("after the change: %s failed", getattr(fn, "__name__", fn))


def previous(table: str) -> str:
    """The name the copy's old rows of `table` have while the change derives it anew (`refresh`)."""
    return f"previous_{table}"


def replacing() -> Path | None:
    """The database file the change being derived will replace (None: a first load): what a derivation kept
    beside it (metrics.decisions' folder) may be kept too."""
    return _REPLACING.get()


_REPLACING: ContextVar[Path | None] = ContextVar("replacing", default=None)


def refresh(con: duckdb.DuckDBPyConnection, *, compute: bool = True, replacing: Path | None = None) -> None:
    """Drop every derived table the copy carried over, then (with `compute`) derive them anew.

    While they are derived, the old rows stay readable as `previous(table)`: a derivation may keep what is
    still of the new data (a year's protection whose cells did not change) instead of working it out again.
    They are dropped before the change commits, whatever the derivations do. `replacing` is the database
    the change replaces (`replacing()` while the derivations run)."""
    for table in TABLES:
        con.execute(f"DROP TABLE IF EXISTS {previous(table)}")
        if compute:
            con.execute(f"ALTER TABLE IF EXISTS {table} RENAME TO {previous(table)}")
        con.execute(f"DROP TABLE IF EXISTS {table}")
    if not compute:
        return
    token = _REPLACING.set(replacing)
    try:
        for fn in list(_DERIVATIONS.values()):
            fn(con)
    finally:
        _REPLACING.reset(token)
        for table in TABLES:
            con.execute(f"DROP TABLE IF EXISTS {previous(table)}")
