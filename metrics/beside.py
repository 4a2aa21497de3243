"""The years a load left, decided after it, kept in a folder beside the database (metrics.backlog writes it).

A reader reads a year here as it reads the loader's table (metrics.decisions.stored_digest / stored_cells): under
this engine and a digest of the data, so a file of other data or another engine is never read. The folder holds
what the database holds (counts, hidden ones too), so it is trusted only as the database is: it must be a real
folder of this user's, for nobody else (0700), or nothing in it is read or written. A file is read only where it is
a regular file (no link, device or pipe) of bounded size, and a year's cells only where they are the very text its
decision names (a digest): a file renamed, copied from another year, truncated or of the wrong shape is not read,
and the background process decides that year again.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import stat
from pathlib import Path

import duckdb

from .decisions import ENGINE, decode, decode_grid, kept_key, stored_in_table, whole_key

PRIVATE_DIR, PRIVATE_FILE = 0o700, 0o600
MAX_BYTES = 256 * 1024 * 1024  # a year's cells at national scale are about 1 MB of text
_NAME = re.compile(rf"^{ENGINE}-[0-9a-f]{{24}}-\d{{4}}-\d+-[0-9a-f]{{16}}\.(decision|grid)\.json\.gz$")
_PART = re.compile(r"^\.[0-9a-f]{16}-[0-9a-f]{24}-\d{4}-\d+-[0-9a-f]{16}\.(decision|grid)\.json\.gz\.\d+\.part$")
_ANY_ENGINE = re.compile(r"^[0-9a-f]{16}-[0-9a-f]{24}-\d{4}-\d+-[0-9a-f]{16}\.(decision|grid)\.json\.gz$")


class FolderProblem(OSError):
    """The folder beside the database cannot be used safely; `reason` says why, in Swedish."""

    def __init__(self, folder: Path, reason: str) -> None:
        super().__init__(reason)
        self.folder, self.reason = folder, reason


def folder_for(db: Path | str) -> Path:
    """The folder beside the database file (a link followed: beside the file it names)."""
    real = Path(os.path.realpath(db))
    return real.with_name(real.name + ".decisions")


def folder_of(con: duckdb.DuckDBPyConnection) -> Path | None:
    """`folder_for` the file `con` reads, where it is safe to read (None: a database in memory, no such folder,
    or one that is not this user's alone)."""
    try:
        row = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
    except duckdb.Error:
        return None
    if not row or not row[0]:
        return None
    folder = folder_for(row[0])
    try:
        check(folder)
    except (FolderProblem, OSError):
        return None
    return folder


def check(folder: Path) -> Path:
    """`folder` if it is a real folder (no link) of this user's that nobody else may read or write; FolderProblem
    otherwise (FileNotFoundError where there is none)."""
    st = os.lstat(folder)
    if not stat.S_ISDIR(st.st_mode):
        raise FolderProblem(folder, "det är ingen mapp" if not stat.S_ISLNK(st.st_mode) else "det är en länk")
    if st.st_uid != os.geteuid():
        raise FolderProblem(folder, "mappen ägs av en annan användare")
    if st.st_mode & 0o077:
        raise FolderProblem(folder, f"andra än ägaren kommer åt mappen (rättigheter {stat.S_IMODE(st.st_mode):o})")
    return folder


def make(db: Path | str) -> Path:
    """The folder beside `db`, made for its owner alone where there is none; FolderProblem where it is unsafe or
    cannot be made."""
    folder = folder_for(db)
    try:
        os.mkdir(folder, PRIVATE_DIR)
    except FileExistsError:
        pass
    except OSError as exc:
        raise FolderProblem(folder, f"mappen kan inte skapas ({exc.strerror or type(exc).__name__})") from None
    return check(folder)


def _stem(year: int, associations: tuple[str, ...], threshold: int, data: str) -> str:
    which = hashlib.sha256(whole_key(associations).encode()).hexdigest()[:16]
    return f"{ENGINE}-{data[:24]}-{int(year)}-{int(threshold)}-{which}"


def _read(path: Path) -> bytes | None:
    """The file's bytes, where it is a regular file (not a link, device or pipe) no larger than MAX_BYTES, and its
    gzip unpacks to no more than MAX_BYTES; None otherwise."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_BYTES:
            return None
        with os.fdopen(os.dup(fd), "rb") as fh:
            packed = fh.read(MAX_BYTES + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(packed)) as gz:
            text = gz.read(MAX_BYTES + 1)
    except (OSError, EOFError, ValueError):  # not gzip, or torn
        return None
    return text if len(text) <= MAX_BYTES else None


def _decision(folder: Path, stem: str, ident: tuple) -> dict | None:
    raw = _read(folder / (stem + ".decision.json.gz"))
    if raw is None:
        return None
    try:
        d = json.loads(raw)
        if (d["engine"], int(d["year"]), str(d["associations"]), int(d["threshold"]), str(d["data"])) != \
                (ENGINE, *ident):
            return None
        decode(d["decision"])  # a whole decision, or not read
        if not isinstance(d["digest"], str) or not isinstance(d["cells"], str):
            return None
    except (ValueError, KeyError, TypeError, IndexError, AttributeError, UnicodeDecodeError):
        return None
    return d


def _cells(folder: Path, stem: str, d: dict) -> str | None:
    """The year's cells, where they are exactly the text its decision names (its sha256) and decode whole."""
    raw = _read(folder / (stem + ".grid.json.gz"))
    if raw is None or hashlib.sha256(raw).hexdigest() != d["cells"]:
        return None
    try:
        text = raw.decode()
        decode_grid(text)
    except (ValueError, KeyError, TypeError, IndexError, AttributeError, UnicodeDecodeError):
        return None
    return text


def stored(con: duckdb.DuckDBPyConnection, year: int, associations: tuple[str, ...], threshold: int, data: str,
           *, cells: bool = False) -> tuple[str, str, str | None] | None:
    """(digest, decision, cells or None) kept for exactly this year, associations, threshold, data and engine; the
    cells (read and checked against the decision) only with `cells`. None where there is no such whole year."""
    if (folder := folder_of(con)) is None:
        return None
    return _stored(folder, year, associations, threshold, data, cells)


def _stored(folder: Path, year: int, associations: tuple[str, ...], threshold: int, data: str,
            cells: bool) -> tuple[str, str, str | None] | None:
    stem = _stem(year, associations, threshold, data)
    ident = (int(year), whole_key(associations), int(threshold), data)
    if (d := _decision(folder, stem, ident)) is None:
        return None
    if not cells:
        return d["digest"], d["decision"], None
    text = _cells(folder, stem, d)
    return (d["digest"], d["decision"], text) if text is not None else None


def keep(folder: Path, year: int, associations: tuple[str, ...], threshold: int, data: str, digest: str,
         decision: str, grid: str) -> None:
    """Keep a year's decision and cells: the cells first, the decision naming them by digest, each file written
    aside and renamed, so a reader finds a decision only once its cells are there too."""
    stem = _stem(year, associations, threshold, data)
    cells = grid.encode()
    record = {"engine": ENGINE, "year": int(year), "associations": whole_key(associations),
              "threshold": int(threshold), "data": data, "digest": digest, "decision": decision,
              "cells": hashlib.sha256(cells).hexdigest()}
    for suffix, raw in ((".grid.json.gz", cells), (".decision.json.gz", json.dumps(record).encode())):
        write_aside(folder, stem + suffix, gzip.compress(raw, mtime=0))


def write_aside(folder: Path, name: str, raw: bytes) -> None:
    """`raw` as the folder's file `name`, whole or not at all: written beside (the owner's only, never through a
    link) and renamed, so a reader never opens half a file."""
    part = folder / f".{name}.{os.getpid()}.part"
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, PRIVATE_FILE)
    with os.fdopen(fd, "wb") as fh:
        fh.write(raw)
    os.replace(part, folder / name)


def known(folder: Path | None) -> dict[tuple[int, str, int], dict[str, str]]:
    """Every decision of this engine kept in `folder`, of any data, as metrics.decisions.kept returns them: a year
    whose cells and year before are unchanged is not decided again after a load that changed other years."""
    found: dict[tuple[int, str, int], dict[str, str]] = {}
    try:
        if folder is None:
            return found
        check(folder)
    except OSError:
        return found
    for path in sorted(folder.iterdir()):
        if not _NAME.match(path.name) or not path.name.endswith(".decision.json.gz"):
            continue
        raw = _read(path)
        try:
            d = json.loads(raw) if raw is not None else None
            if d is None or d["engine"] != ENGINE:
                continue
            decode(d["decision"])
            k = (int(d["year"]), str(d["associations"]), int(d["threshold"]))  # as kept_key makes it
            found.setdefault(k, {})[str(d["digest"])] = d["decision"]
        except (ValueError, KeyError, TypeError, IndexError, AttributeError, UnicodeDecodeError):
            continue
    return found


def stored_here(con: duckdb.DuckDBPyConnection, data: str, planned, *, whole: bool = False) -> set[tuple[int, str, int]]:
    """Which of the `planned` (year, associations, threshold) have a decision stored for exactly this data and
    engine, as `kept_key`s: in the loader's table, or here with its cells. By the files' names (a look at the
    folder, for a page's progress line every few seconds), or with `whole` by reading and checking each (the
    background process, once, so that a broken year is decided again instead of counted)."""
    in_table = stored_in_table(con, data)
    folder = folder_of(con)
    found = set()
    for year, associations, threshold in planned:
        k = kept_key(year, associations, threshold)
        if k in in_table:
            found.add(k)
        elif folder is not None:
            stem = _stem(year, associations, threshold, data)
            if whole:
                ok = _stored(folder, year, associations, threshold, data, True) is not None
            else:
                ok = (folder / (stem + ".decision.json.gz")).exists() and (folder / (stem + ".grid.json.gz")).exists()
            if ok:
                found.add(k)
    return found


def prune(folder: Path, data: str | None = None) -> int:
    """Delete this folder's own files no reader will read again: another engine's, or (with `data`) another
    data's, and parts left by a process that was stopped. Nothing else in the folder is touched."""
    gone = 0
    for path in check(folder).iterdir():
        name = path.name
        old = _ANY_ENGINE.match(name) and (not name.startswith(f"{ENGINE}-")
                                           or data is not None and not name.startswith(f"{ENGINE}-{data[:24]}-"))
        if old or _PART.match(name):
            try:
                if stat.S_ISREG(os.lstat(path).st_mode):
                    path.unlink()
                    gone += 1
            except OSError:
                pass
    return gone
