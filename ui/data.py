"""The app's read-only window on the database, with caches that follow each new load.

The loader swaps in a new database file; its mtime is the data version. The connection
cache and every query cache are keyed on it, so a page shows new data on the next rerun
after a load, while a query that is running keeps reading the old file.
"""
from __future__ import annotations

import os
from pathlib import Path

import duckdb
import streamlit as st

from core.database import ALIAS, DatabaseError, attach_read, check_database, timed_out
from core.paths import default_db_path
from etl.load import ensure_database
from metrics import suppress as _registers_decisions  # noqa: F401 - the loader derives each year's protection (core.derived)
from metrics import changes as _registers_effects  # noqa: F401 - every change keeps what it did (core.effects)

# Shown instead of any page when the database cannot be used; the reason never names a server path.
BROKEN = ("Databasen kan inte användas: {reason}. Be den som sköter Insatskollen att läsa in exporterna på nytt "
          "eller återställa databasen.")
# Shown when a query ran past the time limit (core.database, `$FINSAM_QUERY_SECONDS`): the page stops there
TOO_SLOW = ("Frågan mot databasen tog för lång tid och avbröts. Försök igen, eller välj en kortare period eller "
            "färre insatser. Händer det ofta: be den som sköter Insatskollen att se över tidsgränsen.")


def db_path() -> Path:
    return default_db_path()


def data_version() -> float:
    try:
        return os.stat(db_path()).st_mtime_ns
    except FileNotFoundError:
        return 0


@st.cache_resource(max_entries=2, show_spinner=False)
def _connection(path: str, version: float) -> duckdb.DuckDBPyConnection:
    """The file as of `version` (its mtime), opened through core.database: a swapped file is opened anew."""
    return attach_read(path)


def startup_problem() -> str | None:
    """Build the sample database if there is none, then check the file; a Swedish message if it cannot be used."""
    try:
        with st.spinner("Databasen saknas – bygger den från exempeldata …"):
            ensure_database(db_path())
        return _checked(str(db_path()), data_version())
    except DatabaseError as exc:
        return BROKEN.format(reason=exc.message)


@st.cache_data(show_spinner=False, max_entries=4)
def _checked(path: str, version: float) -> str | None:
    try:
        check_database(path)
    except DatabaseError as exc:
        return BROKEN.format(reason=exc.message)
    return None


def cursor() -> duckdb.DuckDBPyConnection:
    """A cursor of its own per query: one connection shared across sessions' threads is not safe."""
    cur = _connection(str(db_path()), data_version()).cursor()
    cur.execute(f"USE {ALIAS}")
    return cur


_REGISTRY: dict[str, object] = {}


def _call(fn_name: str, args: tuple, kwargs: tuple):
    """The registered metrics function on a cursor of its own."""
    cur = cursor()
    try:
        return _REGISTRY[fn_name](cur, *args, **dict(kwargs))
    finally:
        cur.close()


@st.cache_data(show_spinner=False, max_entries=512)
def _cached(fn_name: str, version: float, args: tuple, kwargs: tuple):
    return _call(fn_name, args, kwargs)


@st.cache_resource(show_spinner=False, max_entries=24)
def _shared(fn_name: str, version: float, args: tuple, kwargs: tuple):
    return _call(fn_name, args, kwargs)


def _through(cache, fn, args: tuple, kwargs: dict):
    name = f"{fn.__module__}.{fn.__qualname__}"
    _REGISTRY[name] = fn
    try:
        return cache(name, data_version(), args, tuple(sorted(kwargs.items())))
    except duckdb.IOException:  # a file damaged beyond what the check at start-up sees: no traceback, no path
        st.error(BROKEN.format(reason="filen är skadad och kan inte läsas"))
        st.stop()
    except duckdb.Error as exc:
        if not timed_out(exc):
            raise
        st.error(TOO_SLOW)  # nothing is cached, so the next run asks again
        st.stop()


def run_shared(fn, *args, **kwargs):
    """`run` for a result every session reads and none changes (a period's protection): one object in memory,
    not a copy unpickled per call as st.cache_data hands out. What it returns must be treated as read-only."""
    return _through(_shared, fn, args, kwargs)


def run(fn, *args, **kwargs):
    """Call a metrics function `fn(con, *args, **kwargs)` through the cache for this data version."""
    return _through(_cached, fn, args, kwargs)


def several_associations() -> bool:
    """Whether the data names more than one association: then the app compares them (pages/forbund.py)."""
    from metrics.catalog import associations

    return len(run(associations)) > 1
