"""The one place that opens DuckDB: every reader and the loader go through here.

Modelled on datasette's database.py: no page, command or test opens the file by itself, so
the rules for opening live in one place. The rules: extensions are never installed or
loaded on the fly (a foreign file, such as SQLite, would otherwise make DuckDB try to
download one), readers open read-only, and the app reads through an in-memory instance
that ATTACHes the file, so that a file swapped in by the loader is opened anew.
"""
from __future__ import annotations

from pathlib import Path

import duckdb

CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
ALIAS = "finsam"


def connect_read(path: Path | str) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the database file."""
    return duckdb.connect(str(path), read_only=True, config=dict(CONFIG))


def connect_write(path: Path | str) -> duckdb.DuckDBPyConnection:
    """A read-write connection: only the loader uses it, and only on its private copy."""
    return duckdb.connect(str(path), config=dict(CONFIG))


def attach_read(path: Path | str) -> duckdb.DuckDBPyConnection:
    """An in-memory instance with the file ATTACHed read-only and in use.

    `duckdb.connect(path)` hands back the instance already open for that path, so after
    the loader swaps the file a new connection would still see the old data while an old
    one lives. An attachment in a fresh in-memory instance opens the file anew.
    """
    con = duckdb.connect(config=dict(CONFIG))
    quoted = str(path).replace("'", "''")
    con.execute(f"ATTACH '{quoted}' AS {ALIAS} (READ_ONLY)")
    con.execute(f"USE {ALIAS}")
    return con
