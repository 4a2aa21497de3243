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
    found = _beside_decision(con, year, associations, threshold, data)
    return found["digest"] if found else None


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
    if (found := _beside_decision(con, year, associations, threshold, data)) is None:
        return None
    grid = _read_gz(folder_of(con) / (_stem(year, associations, threshold, data) + ".grid.json.gz"))
    return (grid, found["decision"]) if grid is not None else None


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
        for k, by_digest in known_beside(folder_for(replaced)).items():
            found.setdefault(k, {}).update(by_digest)
    return found


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


# --- The years the load left, decided beside the database (`python -m etl decide`, metrics.backlog) --------------
#
# A load decides ahead only as long as `$FINSAM_PROTECT_SECONDS` allows (at national scale a few of a thousand
# association-years). The rest is decided after the load by one process per database, which keeps each year in a
# folder beside the database file, under this engine and a digest of the data (`data_digest`): a reader reads a
# year there as it reads the loader's table, and a file of other data or another engine is never read. The folder
# holds what the database holds (counts, hidden ones too) and is the owner's only, as the database is.
PRIVATE_DIR, PRIVATE_FILE = 0o700, 0o600


def folder_for(db: Path | str) -> Path:
    """The folder beside the database file (a link followed: beside the file it names)."""
    real = Path(os.path.realpath(db))
    return real.with_name(real.name + ".decisions")


def folder_of(con: duckdb.DuckDBPyConnection) -> Path | None:
    """`folder_for` the file `con` reads (None: a database in memory)."""
    try:
        row = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
    except duckdb.Error:
        return None
    return folder_for(row[0]) if row and row[0] else None


def _stem(year: int, associations: tuple[str, ...], threshold: int, data: str) -> str:
    which = hashlib.sha256(_assoc(associations).encode()).hexdigest()[:16]
    return f"{ENGINE}-{data[:24]}-{int(year)}-{int(threshold)}-{which}"


def _read_gz(path: Path) -> str | None:
    try:
        return gzip.decompress(path.read_bytes()).decode()
    except (OSError, EOFError, UnicodeDecodeError, ValueError):  # absent, torn or not gzip: as if never kept
        return None


def _beside_decision(con, year: int, associations: tuple[str, ...], threshold: int, data: str) -> dict | None:
    """The decision kept beside the database for exactly this year, associations, threshold, data and engine."""
    if (folder := folder_of(con)) is None:
        return None
    return _decision_file(folder / (_stem(year, associations, threshold, data) + ".decision.json.gz"),
                          (int(year), _assoc(associations), int(threshold), data))


def _decision_file(path: Path, expected: tuple | None = None) -> dict | None:
    """A decision file's content where it is whole and (with `expected`) of exactly that year, associations,
    threshold and data: a file renamed or written by anything else is not read."""
    if (text := _read_gz(path)) is None:
        return None
    try:
        d = json.loads(text)
        ident = (int(d["year"]), str(d["associations"]), int(d["threshold"]), str(d["data"]))
        if d["engine"] != ENGINE or (expected is not None and ident != expected):
            return None
        decode(d["decision"])  # a whole decision, or not read
        if not isinstance(d["digest"], str):
            return None
    except (ValueError, KeyError, TypeError, IndexError, AttributeError):
        return None
    return d


def keep_beside(folder: Path, year: int, associations: tuple[str, ...], threshold: int, data: str, digest: str,
                decision: str, grid: str) -> None:
    """Keep a year's decision and cells beside the database: the cells first and each file written aside and
    renamed, so a reader finds a decision only once its cells are there too."""
    stem = _stem(year, associations, threshold, data)
    record = {"engine": ENGINE, "year": int(year), "associations": _assoc(associations), "threshold": int(threshold),
              "data": data, "digest": digest, "decision": decision}
    for suffix, text in ((".grid.json.gz", grid), (".decision.json.gz", json.dumps(record, separators=(",", ":")))):
        part = folder / f".{stem}{suffix}.{os.getpid()}.part"
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
        with os.fdopen(fd, "wb") as fh:
            fh.write(gzip.compress(text.encode(), mtime=0))
        os.replace(part, folder / (stem + suffix))


def known(con: duckdb.DuckDBPyConnection) -> dict[tuple[int, str, int], dict[str, str]]:
    """Every decision of this engine the database and the folder beside it hold, of any data, as `kept` returns
    them: a year whose cells and year before are unchanged is not decided again after a load that changed others."""
    found = _by_year(con, TABLE)
    for k, by_digest in known_beside(folder_of(con)).items():
        found.setdefault(k, {}).update(by_digest)
    return found


def known_beside(folder: Path | None) -> dict[tuple[int, str, int], dict[str, str]]:
    """The decisions of this engine kept beside the database, of any data (`known`)."""
    found: dict[tuple[int, str, int], dict[str, str]] = {}
    if folder is None:
        return found
    for path in sorted(folder.glob(f"{ENGINE}-*.decision.json.gz")):
        if (d := _decision_file(path)) is not None:
            found.setdefault((int(d["year"]), str(d["associations"]), int(d["threshold"])), {})[d["digest"]] = \
                d["decision"]
    return found


def stored_here(con: duckdb.DuckDBPyConnection, data: str, planned: Iterable[tuple[int, tuple[str, ...], int]],
                *, whole: bool = False) -> set[tuple[int, str, int]]:
    """Which of the `planned` (year, associations, threshold) have a decision stored for exactly this data and
    engine, as `kept_key`s: in the loader's table, or beside the database with its cells. By the files' names
    (a look at the folder, for a page's progress line every few seconds), or with `whole` by reading each
    (the background process, once, so that a broken file is decided again instead of counted)."""
    try:
        rows = con.execute(f"SELECT year, associations, threshold FROM {TABLE} WHERE engine = ? AND data = ? "
                           "AND grid IS NOT NULL", [ENGINE, data]).fetchall()
    except (duckdb.CatalogException, duckdb.BinderException):
        rows = []
    in_table = {(int(y), a, int(t)) for y, a, t in rows}
    folder = folder_of(con)
    found = set()
    for year, associations, threshold in planned:
        k = kept_key(year, associations, threshold)
        if k in in_table:
            found.add(k)
        elif folder is not None:
            stem = folder / _stem(year, associations, threshold, data)
            decision = stem.with_name(stem.name + ".decision.json.gz")
            if stem.with_name(stem.name + ".grid.json.gz").exists() and (
                    _decision_file(decision, (int(year), k[1], int(threshold), data)) is not None if whole
                    else decision.exists()):
                found.add(k)
    return found


def prune_beside(folder: Path, data: str | None = None) -> int:
    """Delete the files beside the database that no reader will read again: another engine's, or (with `data`)
    another data's, and parts left by a process that was stopped. Returns how many."""
    gone = 0
    for path in folder.glob("*.json.gz*"):
        name = path.name
        if name.startswith(".") and name.endswith(".part") or not name.startswith(f"{ENGINE}-") or \
                data is not None and not name.startswith(f"{ENGINE}-{data[:24]}-"):
            try:
                path.unlink()
                gone += 1
            except OSError:
                pass
    return gone
