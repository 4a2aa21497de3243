"""The year's protection decisions as the loader stores them, and how a reader finds its own.

Solving a year's grid takes seconds (metrics.suppress.protect_year: thousands of small LPs); the data changes
only when the loader writes. So the loader decides each year once, inside the change that writes the data
(core.derived), and stores the decision here: a page's first visit reads it. A stored decision is used only
where it is certainly the one the reader would compute: the same engine (a digest of its source), the same
threshold, the same year and associations, and the same cells with the same values (a digest of them).
Anything else, and the reader decides for itself. A decision is a list of keys and marks, never a count.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

import duckdb

TABLE = "protection_decisions"
_SOURCES = ("suppress.py", "facts.py", "decisions.py")
ENGINE = hashlib.sha256(b"".join((Path(__file__).parent / n).read_bytes() for n in _SOURCES)).hexdigest()[:16]

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


def write(con: duckdb.DuckDBPyConnection, rows: list[tuple[int, tuple[str, ...], int, str, str]]) -> None:
    """Store (year, associations, threshold, digest, decision) rows: the loader's, inside its change."""
    con.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (year INTEGER, associations VARCHAR, threshold INTEGER, "
                "engine VARCHAR, digest VARCHAR, decision VARCHAR)")
    if rows:
        con.executemany(f"INSERT INTO {TABLE} VALUES (?, ?, ?, ?, ?, ?)",
                        [[y, _assoc(a), t, ENGINE, dg, text] for y, a, t, dg, text in rows])
