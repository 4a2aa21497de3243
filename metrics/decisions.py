"""The year's protection decisions as the loader stores them, and how a reader finds its own.

Solving a year's grid takes seconds (metrics.suppress.protect_year: thousands of small LPs); the data changes
only when the loader writes. So the loader decides each year once, inside the change that writes the data
(core.derived), and stores the decision here: a page's first visit reads it. A stored decision is used only
where it is certainly the one the reader would compute: the same engine (a digest of its source), the same
threshold, the same year and associations, and the same cells with the same values (a digest of them).
Anything else, and the reader decides for itself. A decision is a list of keys and marks, never a count.

The year's cells are stored beside it (`grid`), with a digest of the data they were counted from (`data`): a
first visit then reads the cells instead of counting them again (0,2 s a year, and Översikt reads two years;
issue 21's 3 s). They are read only where the data is the same as when they were counted (`data_digest`: every
row of the tables they come from) and the engine is the same, which here includes the code the cells are
counted by (`_SOURCES`, and the DuckDB that counts them); anything else, and the reader counts them and checks
the cells' digest as before. The cells are counts, hidden ones too, as the data beside them in the same file is:
no page, export or command shows this table.
"""
from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from importlib.metadata import version
from pathlib import Path

import duckdb

from core import derived, settings

TABLE = "protection_decisions"
# the engine and the code the year's cells are counted by: a change to any of them is another engine
_SOURCES = ("suppress.py", "facts.py", "decisions.py", "filters.py", "catalog.py", "../core/vocabulary.py")
ENGINE = hashlib.sha256(b"".join((Path(__file__).parent / n).read_bytes() for n in _SOURCES)
                        + duckdb.__version__.encode()).hexdigest()[:16]
# every table a year's cells are counted from (metrics.suppress._grid: the facts, the years, the positive codes)
_DATA_TABLES = ("enrollments", "anonymous_counts", "exit_reasons")

Key = tuple  # metrics.suppress.Key: (measure, ((dim, value), …), sex), all text


def cells_digest(values: Mapping[Key, int], published: Iterable[Key]) -> str:
    """What the decision was made over: every cell with its value, and which of them are shown."""
    h = hashlib.sha256()
    h.update(json.dumps(sorted(_enc(k) + [int(v)] for k, v in values.items())).encode())
    h.update(json.dumps(sorted(_enc(k) for k in published)).encode())
    return h.hexdigest()


def _enc(k: Key) -> list:
    return [k[0], [list(p) for p in k[1]], k[2]]


def _dec(x: list) -> Key:
    return (x[0], tuple((d, v) for d, v in x[1]), x[2])


def encode(status: Mapping[Key, str], withdrawn: Iterable[tuple[Key, str]], withdrawn_cells: Iterable[Key],
           published: Iterable[Key], shorter: bool) -> str:
    return json.dumps({"status": sorted([_enc(k), s] for k, s in status.items()),
                       "withdrawn": sorted([_enc(k), d] for k, d in withdrawn),
                       "withdrawn_cells": sorted(_enc(k) for k in withdrawn_cells),
                       "published": sorted(_enc(k) for k in published),
                       "shorter": bool(shorter)}, separators=(",", ":"))


def decode(text: str) -> tuple[dict[Key, str], set[tuple[Key, str]], set[Key], set[Key], bool]:
    d = json.loads(text)
    return ({_dec(k): s for k, s in d["status"]}, {(_dec(k), dim) for k, dim in d["withdrawn"]},
            {_dec(k) for k in d["withdrawn_cells"]}, {_dec(k) for k in d["published"]}, bool(d["shorter"]))


def _assoc(associations: tuple[str, ...]) -> str:
    return json.dumps(sorted(associations), ensure_ascii=False)


def data_digest(con: duckdb.DuckDBPyConnection) -> str:
    """A digest of every row of the tables a year's cells are counted from (`_DATA_TABLES`), in DuckDB: a few
    milliseconds for the sample, 0,06 s for a million enrollments. Any row added, removed or changed changes it."""
    parts = con.execute(" UNION ALL ".join(f"SELECT {i}, count(*), CAST(coalesce(sum(hash(t)), 0) AS VARCHAR) "
                                           f"FROM {name} AS t" for i, name in enumerate(_DATA_TABLES))
                        + " ORDER BY 1").fetchall()
    return hashlib.sha256(json.dumps([list(p) for p in parts]).encode()).hexdigest()


def encode_grid(values: Mapping[Key, int], relations: list[tuple[Key, tuple[Key, ...]]],
                dim_sets: Mapping[tuple[str, str, frozenset[str]], bool], positive: Iterable[str],
                wide: Iterable[str]) -> str:
    """What a reader needs of the year's cells beside the decision: each cell with its value, the relations
    between them in their order, the tables shown per period and the positive exit codes. Keys by number."""
    keys = list(values)
    index = {k: i for i, k in enumerate(keys)}
    return json.dumps({"keys": [_enc(k) for k in keys], "values": [int(values[k]) for k in keys],
                       "relations": [[index[t], [index[p] for p in parts]] for t, parts in relations],
                       "dim_sets": [[sp, m, sorted(dims), bool(b)] for (sp, m, dims), b in dim_sets.items()],
                       "positive": sorted(positive), "wide": sorted(wide)}, separators=(",", ":"))


def decode_grid(text: str):
    """(values, relations, dim_sets, positive, wide) as `encode_grid` was given them."""
    d = json.loads(text)
    keys = [_dec(k) for k in d["keys"]]
    values = dict(zip(keys, d["values"]))
    relations = [(keys[t], tuple(keys[p] for p in parts)) for t, parts in d["relations"]]
    dim_sets = {(sp, m, frozenset(dims)): b for sp, m, dims, b in d["dim_sets"]}
    return values, relations, dim_sets, frozenset(d["positive"]), frozenset(d["wide"])


def _cells_where(year: int, associations: tuple[str, ...], threshold: int, data: str) -> tuple[str, list]:
    return (f"FROM {TABLE} WHERE year = ? AND associations = ? AND threshold = ? AND engine = ? AND data = ? "
            "AND grid IS NOT NULL", [year, _assoc(associations), threshold, ENGINE, data])


def stored_digest(con: duckdb.DuckDBPyConnection, year: int, associations: tuple[str, ...], threshold: int,
                  data: str) -> str | None:
    """The cells' digest of the year stored on exactly this data by this engine, or None: asked first, so that a
    reader who holds that decision already does not fetch the cells. The loader's table first, then the folder
    beside the database (`python -m etl decide`, the years the load left)."""
    where, params = _cells_where(year, associations, threshold, data)
    try:
        row = con.execute(f"SELECT digest {where}", params).fetchone()
    except (duckdb.CatalogException, duckdb.BinderException):  # no table, or one written before cells were stored
        row = None
    if row:
        return row[0]
    from . import beside  # the years the load left, decided after it (metrics.backlog)

    found = beside.stored(con, year, associations, threshold, data)
    return found[0] if found else None


def stored_cells(con: duckdb.DuckDBPyConnection, year: int, associations: tuple[str, ...], threshold: int,
                 data: str) -> tuple[str, str] | None:
    """(cells, decision) stored for this year on exactly this data by this engine, or None."""
    where, params = _cells_where(year, associations, threshold, data)
    try:
        row = con.execute(f"SELECT grid, decision {where}", params).fetchone()
    except (duckdb.CatalogException, duckdb.BinderException):
        row = None
    if row:
        return row[0], row[1]
    from . import beside

    found = beside.stored(con, year, associations, threshold, data, cells=True)
    return (found[2], found[1]) if found else None


def stored(con: duckdb.DuckDBPyConnection, year: int, associations: tuple[str, ...], threshold: int,
           digest: str) -> str | None:
    """The stored decision for exactly this grid, or None (no table, another engine, other data)."""
    try:
        row = con.execute(f"SELECT decision FROM {TABLE} WHERE year = ? AND associations = ? AND threshold = ? "
                          "AND engine = ? AND digest = ?",
                          [year, _assoc(associations), threshold, ENGINE, digest]).fetchone()
    except duckdb.CatalogException:  # a database written before decisions were stored
        return None
    return row[0] if row else None


def kept(con: duckdb.DuckDBPyConnection) -> dict[tuple[int, str, int], dict[str, str]]:
    """The decisions this engine stored before the change now being written (core.derived keeps them readable
    as `previous(TABLE)` while it derives), by (year, associations, threshold) (`kept_key`), then cells' digest.

    A year whose cells, values and year before are what they were has the same decision (it depends on nothing
    else, and the digest covers all of it, the year before's included): the loader keeps it instead of solving
    the year again, so a load that changes one year decides only that year and those after it."""
    found = _by_year(con, derived.previous(TABLE))
    if (replaced := derived.replacing()) is not None:  # and those decided after the last load, beside its file
        from . import beside

        for k, by_digest in beside.known(beside.folder_for(replaced)).items():
            found.setdefault(k, {}).update(by_digest)
    return found


def in_table(con: duckdb.DuckDBPyConnection) -> dict[tuple[int, str, int], dict[str, str]]:
    """The decisions of this engine the database's own table holds, as `kept` returns them."""
    return _by_year(con, TABLE)


def stored_in_table(con: duckdb.DuckDBPyConnection, data: str) -> set[tuple[int, str, int]]:
    """`kept_key`s of the years the table holds a decision and cells for, on exactly this data and engine."""
    try:
        rows = con.execute(f"SELECT year, associations, threshold FROM {TABLE} WHERE engine = ? AND data = ? "
                           "AND grid IS NOT NULL", [ENGINE, data]).fetchall()
    except (duckdb.CatalogException, duckdb.BinderException):
        return set()
    return {(int(y), a, int(t)) for y, a, t in rows}


def _by_year(con: duckdb.DuckDBPyConnection, table: str) -> dict[tuple[int, str, int], dict[str, str]]:
    # asked first, not tried: inside the change's transaction a failed query would abort the change
    if not con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [table]).fetchone()[0]:
        return {}  # a first load, or a copy with nothing carried over
    rows = con.execute(f"SELECT year, associations, threshold, digest, decision FROM {table} WHERE engine = ?",
                       [ENGINE]).fetchall()
    found: dict[tuple[int, str, int], dict[str, str]] = {}
    for y, a, t, d, text in rows:
        found.setdefault((y, a, t), {})[d] = text
    return found


def kept_key(year: int, associations: tuple[str, ...], threshold: int) -> tuple[int, str, int]:
    return year, whole_key(associations), threshold


def whole_key(associations: tuple[str, ...]) -> str:
    """The associations of a decision as stored: one text whatever their order."""
    return _assoc(associations)


def write(con: duckdb.DuckDBPyConnection, rows: list[tuple[int, tuple[str, ...], int, str, str, str]]) -> None:
    """Store (year, associations, threshold, digest, decision, cells) rows: the loader's, inside its change."""
    con.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (year INTEGER, associations VARCHAR, threshold INTEGER, "
                "engine VARCHAR, digest VARCHAR, decision VARCHAR, data VARCHAR, grid VARCHAR)")
    for column in ("data", "grid"):  # a table of an older version (every change drops it first: belt and braces)
        con.execute(f"ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS {column} VARCHAR")
    if rows:
        data = data_digest(con)
        con.executemany(f"INSERT INTO {TABLE} (year, associations, threshold, engine, digest, decision, data, grid) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        [[y, _assoc(a), t, ENGINE, dg, text, data, grid] for y, a, t, dg, text, grid in rows])


# --- A folder of decisions, by everything they are made over (`$FINSAM_DECISION_CACHE`) -------------------------
#
# A decision depends on nothing but its grid and its threshold, and the same engine makes the same decision in every
# process (tests/test_metrics_suppress.py checks it across hash seeds). So a decision can be kept anywhere under a
# digest of all of its inputs and the engine (and the LP solver) that made it, and read back wherever the same grid
# is decided again: what a build cache does for compiled code. The tests keep theirs in tests/decisions/ (most of
# their time was spent deciding the same generated years again in every run); the app and the loader keep theirs
# in the database (above) and use no folder unless the setting names one.
_SOLVER = version("highspy")


def fingerprint(threshold: int, grid: object) -> str:
    """A digest of everything `grid` (a metrics.suppress._Grid) holds, its year before's part too, with the
    threshold, the engine and the solver: equal fingerprints, equal decisions."""
    h = hashlib.sha256(json.dumps([ENGINE, _SOLVER, threshold], separators=(",", ":")).encode())
    _feed(h, grid)
    return h.hexdigest()


def _feed(h, x) -> None:
    """Every value in `x` into `h` (`_canon`), a dataclass field by field so that no whole grid is held as text."""
    if dataclasses.is_dataclass(x):
        for f in dataclasses.fields(x):
            h.update(f"<{f.name}>".encode())
            _feed(h, getattr(x, f.name))
    else:
        h.update(json.dumps(_canon(x), separators=(",", ":")).encode())


def _canon(x):
    """`x` as JSON can hold it and sort it: tuples and lists as lists, sets and dicts sorted (a set's order differs
    between processes), anything else as text."""
    if isinstance(x, (tuple, list)):
        return ["t", [_canon(v) for v in x]]
    if isinstance(x, (set, frozenset)):
        return ["s", sorted(_canon(v) for v in x)]
    if isinstance(x, Mapping):
        return ["d", sorted([_canon(k), _canon(v)] for k, v in x.items())]
    if dataclasses.is_dataclass(x):
        return ["c", [[f.name, _canon(getattr(x, f.name))] for f in dataclasses.fields(x)]]
    if isinstance(x, bool) or x is None:
        return ["b", str(x)]
    if isinstance(x, (int, float)):
        return ["n", repr(x)]
    return ["x", str(x)]


def cached(key: str) -> tuple | None:
    """The decision kept under `key` (`fingerprint`) in the folder the setting names, decoded, or None."""
    folder = settings.get("FINSAM_DECISION_CACHE")
    if folder is None:
        return None
    try:
        return decode(gzip.decompress((folder / _name(key)).read_bytes()).decode())
    except (OSError, EOFError, UnicodeDecodeError):  # not kept, or a torn file: decided as if never kept
        return None
    except (ValueError, KeyError, TypeError, IndexError, AttributeError):  # not a whole decision: the same
        return None


def _name(key: str) -> str:
    """The engine first, so that the decisions of an engine no longer in use are found by their names (`stale`)."""
    return f"{ENGINE}-{key[:32]}.json.gz"


def stale(folder: Path) -> list[Path]:
    """The decisions in `folder` kept by another engine than this one: no grid will ever find them again."""
    return sorted(p for p in folder.glob("*.json.gz") if not p.name.startswith(f"{ENGINE}-"))


def keep(key: str, text: str) -> None:
    """Keep a decision (`encode`) under `key` in the folder the setting names, whole or not at all: written
    beside and renamed, as several processes (the test workers, their servers) may keep the same one at once."""
    folder = settings.get("FINSAM_DECISION_CACHE")
    if folder is None:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        part = folder / f".{key}.{os.getpid()}.part"
        part.write_bytes(gzip.compress(text.encode(), mtime=0))
        os.replace(part, folder / _name(key))
    except OSError:  # a folder that cannot be written: the decision is made again next time
        pass
