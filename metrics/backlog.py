"""The years a load left undecided, decided after it in one process per database (`python -m etl decide`).

Why: a load decides protection ahead only for `$FINSAM_PROTECT_SECONDS` (120 s), and each association's years
must be decided in order from its first (metrics.suppress, *Years side by side*). At national scale that is 17
of 1 200 association-years, and for one association of 40 initiatives two or three of its years. A reader who
asked for a year not decided used to decide it, and every year before it, inside the page: minutes of the
server's CPU on one visit, which any reader could start. Now the loader starts this process when it leaves years
undecided, it keeps each year beside the database as soon as it is decided (metrics.beside, `keep`),
and a reader whose year is not there yet is told how far it has come (ui.protection) instead of deciding it.

One process per database at a time (a lock in the folder); it decides on the data in place when it starts and
begins again if a load changes the data meanwhile. It runs at low priority, beside the app.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import math
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from core import settings
from core.database import connect_read

from . import beside, decisions
from .ahead import Chains, ahead_plan, decide_chains
from .suppress import DEFAULT_THRESHOLD

LOCK, PROGRESS, LOG = "decide.lock", "progress.json", "decide.log"
WANTED = "wanted-"  # a file per association a reader waits for: its chain is decided first
WANTED_SECONDS = 3600  # a reader's wish older than this is let go


@dataclass(frozen=True)
class Progress:
    """How far the deciding of one data has come: association-years stored of all there are."""

    done: int
    total: int
    failed: bool = False  # the last run on this data stopped on a fault (its log says which)
    several: bool = False  # each association's years on their own (the total counts association-years)


def enabled() -> bool:
    return bool(settings.get("FINSAM_DECIDE_BACKGROUND"))


def _open(path: Path, flags: int) -> int:
    """A file of the folder, never through a link."""
    return os.open(path, flags | os.O_NOFOLLOW, beside.PRIVATE_FILE)


def running(db: Path | str) -> bool:
    """Whether a process is deciding this database's years now (it holds the folder's lock)."""
    path = beside.folder_for(db) / LOCK
    try:
        fd = _open(path, os.O_RDONLY)
    except OSError:  # no folder or no lock file: none has ever run
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)  # closing releases a lock this call took
    return False


def progress(con: duckdb.DuckDBPyConnection, whole: tuple[str, ...] | None = None) -> Progress:
    """The association-years of the data `con` reads that are stored (by the load or beside it), of all planned;
    with `whole`, that association's years only (the ones a reader waits for, decided first)."""
    return _progress(con, decisions.data_digest(con), *ahead_plan(con), whole)


def _progress(con, data: str, years: list[int], wholes: list[tuple[str, ...]], whole: tuple[str, ...] | None,
              failed: bool | None = None) -> Progress:
    planned = [(y, w, DEFAULT_THRESHOLD) for y in years for w in wholes if whole is None or w == whole]
    done = len(beside.stored_here(con, data, planned))
    return Progress(done, len(planned), _failed(con, data) if failed is None else failed, len(wholes) > 1)


def _failed(con, data: str) -> bool:
    if (folder := beside.folder_of(con)) is None:
        return False
    try:
        with os.fdopen(_open(folder / PROGRESS, os.O_RDONLY | os.O_NONBLOCK)) as fh:
            d = json.loads(fh.read(1_000_000))
        return d.get("data") == data and d.get("engine") == decisions.ENGINE and bool(d.get("failed"))
    except (OSError, ValueError, AttributeError, UnicodeDecodeError):
        return False


def waiting(con: duckdb.DuckDBPyConnection, year: int, associations: tuple[str, ...],
            threshold: int) -> Progress | None:
    """Where a reader should wait for this process instead of deciding the year itself: the progress of its
    association's years to show (the caller `start`s the process). None where the reader decides as before: the
    background is off, the year is stored, it is not among the years decided ahead (another threshold, a
    narrower whole) or the process failed."""
    if not enabled() or threshold != DEFAULT_THRESHOLD:
        return None
    try:
        years, wholes = ahead_plan(con)
        if int(year) not in years or tuple(associations) not in wholes:
            return None
        data = decisions.data_digest(con)
        if decisions.stored_digest(con, year, associations, threshold, data) is not None or _failed(con, data):
            return None
        return _progress(con, data, years, wholes, tuple(associations), failed=False)
    except (duckdb.Error, OSError):  # a database without the tables, a folder that cannot be written: as before
        return None


def after_change(db: Path | str) -> None:
    """Called once a load (or undo) is in (core.derived): start the process, which decides the years the load
    left, if any, and clears what is beside the database of data no longer there. Started, not asked here: the
    app's own process opens no second connection to a file it has attached."""
    if enabled():
        start(db)


def start(db: Path | str) -> bool:
    """Start `python -m metrics.backlog` for `db` in the background, unless one runs: True where one was started.
    Its output goes to a log in the folder; the settings are passed on as this process has them."""
    if running(db):
        return False
    folder = beside.make(db)
    fd = _open(folder / LOG, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        proc = subprocess.Popen([sys.executable, "-m", "metrics.backlog", str(db)], cwd=settings.ROOT,
                                env=settings.environment(PYTHONPATH=str(settings.ROOT)), stdin=subprocess.DEVNULL,
                                stdout=fd, stderr=fd, start_new_session=True)
    finally:
        os.close(fd)
    threading.Thread(target=proc.wait, daemon=True).start()  # reaped when it ends, never waited for here
    return True


def decide(db: Path | str, seconds: float | None = None, *, say=None) -> Progress | None:
    """Decide and keep every planned association-year of `db` not yet stored, in order, for at most `seconds`
    (None: until done). None where another process is at it already. Begins again where a load changed the data
    meanwhile; stops after the year in hand where the time is up."""
    folder = beside.make(db)
    fd = _open(folder / LOCK, os.O_WRONLY | os.O_CREAT)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return None
        deadline = math.inf if seconds is None else time.monotonic() + seconds
        while True:
            opened = _version(db)
            con = connect_read(db)
            try:
                data = decisions.data_digest(con)
                result = _decide(con, folder, data, deadline, say, lambda: _version(db) != opened)
            except _Replaced:  # a load swapped the file in: what is decided is kept, the rest is of old data
                continue
            finally:
                con.close()
            con = connect_read(db)
            try:
                if decisions.data_digest(con) == data:  # else a load came meanwhile: again on its data
                    if result.done == result.total:
                        beside.prune(folder, data)
                    return result
            finally:
                con.close()
            if time.monotonic() > deadline:
                return result
    finally:
        os.close(fd)


def _version(db: Path | str) -> tuple[int, int]:
    st = os.stat(db)
    return st.st_ino, st.st_mtime_ns


class _Replaced(Exception):
    """The database file was replaced while its years were being decided (a load, an undo)."""


class _Keeper(list):
    """`Chains`' list of decided years: each one kept beside the database as soon as it is decided, so a reader
    has it at once and a stopped process loses only the year in hand."""

    def __init__(self, folder: Path, data: str, stored: set, planned: set, say, replaced) -> None:
        super().__init__()
        self.folder, self.data, self.stored, self.planned, self.say = folder, data, stored, planned, say
        self.replaced = replaced

    def append(self, row) -> None:
        """Keep the year; then, where the file has been replaced meanwhile, stop (`_Replaced`) rather than go
        on for hours with data no reader reads any more."""
        year, associations, threshold, digest, decision, grid = row
        k = decisions.kept_key(year, associations, threshold)
        if k not in self.stored:
            beside.keep(self.folder, year, associations, threshold, self.data, digest, decision, grid)
            self.stored.add(k)
            _write_progress(self.folder, self.data, len(self.planned & self.stored), len(self.planned), False)
            if self.say is not None:
                self.say(year, associations, len(self.planned & self.stored), len(self.planned))
        if self.replaced():
            raise _Replaced


def _decide(con, folder: Path, data: str, deadline: float, say, replaced) -> Progress:
    years, wholes = ahead_plan(con)
    stored = beside.stored_here(con, data, [(y, w, DEFAULT_THRESHOLD) for y in years for w in wholes], whole=True)
    planned = {decisions.kept_key(y, w, DEFAULT_THRESHOLD) for y in years for w in wholes}
    several = len(wholes) > 1
    if planned <= stored:
        return Progress(len(planned), len(planned), several=several)
    keeper = _Keeper(folder, data, stored, planned, say, replaced)
    _write_progress(folder, data, len(planned & stored), len(planned), False)
    try:
        known = decisions.in_table(con)
        for k, by_digest in beside.known(folder).items():
            known.setdefault(k, {}).update(by_digest)
        decide_chains(_WantedFirst(con, years, wholes, known, deadline, keeper, folder=folder))
    except _Replaced:
        raise
    except Exception:
        _write_progress(folder, data, len(planned & keeper.stored), len(planned), True)
        raise
    return Progress(len(planned & keeper.stored), len(planned), several=several)


class _WantedFirst(Chains):
    """The chains with the associations readers wait for first (`want`): at national scale one association's
    fifteen years take minutes, all 1 200 association-years hours."""

    def __init__(self, *args, folder: Path) -> None:
        super().__init__(*args)
        self.folder = folder

    def first(self) -> tuple[int, int]:
        wanted = _wanted(self.folder)
        self.ready.sort(key=lambda ya: (decisions.whole_key(self.wholes[ya[1]]) not in wanted, ya))
        return self.ready.pop(0)


def want(db: Path | str, associations: tuple[str, ...]) -> None:
    """A reader waits for this association's years: the process decides its chain before the others'."""
    key = decisions.whole_key(associations)
    name = WANTED + hashlib.sha256(key.encode()).hexdigest()[:16] + ".json"
    beside.write_aside(beside.make(db), name, json.dumps({"associations": key}).encode())


def _wanted(folder: Path) -> set[str]:
    found = set()
    now = time.time()
    for path in folder.glob(WANTED + "*.json"):
        try:
            with os.fdopen(_open(path, os.O_RDONLY | os.O_NONBLOCK)) as fh:
                if now - os.fstat(fh.fileno()).st_mtime < WANTED_SECONDS:
                    found.add(str(json.loads(fh.read(100_000))["associations"]))
        except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError):
            continue
    return found


def _write_progress(folder: Path, data: str, done: int, total: int, failed: bool) -> None:
    beside.write_aside(folder, PROGRESS, json.dumps({"engine": decisions.ENGINE, "data": data, "done": done,
                                                     "total": total, "failed": failed}).encode())


def main(argv: list[str] | None = None) -> int:
    """`python -m metrics.backlog DB`: the background process the loader and the readers start."""
    args = sys.argv[1:] if argv is None else argv
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        os.nice(10)  # the app's readers first
    except OSError:
        pass
    db = Path(args[0])
    started = time.monotonic()
    result = decide(db, say=lambda y, a, done, total: logging.info("decided %s %s: %d of %d", y, list(a), done, total))
    if result is None:
        logging.info("another process is deciding %s", db)
    else:
        logging.info("%d of %d association-years stored (%.0f s)", result.done, result.total,
                     time.monotonic() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
