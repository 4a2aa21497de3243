"""History, snapshots and undo: every change to the database is a new file swapped in, the old one kept.

A change — a load call, an undo, a mapping change — copies the database, writes the copy in one
transaction, records itself in the copy's `changes` table and then, holding the loader's lock,
keeps the current file as a snapshot in `snapshots/` beside the database and `os.replace`s the copy
over it. The snapshot is a hard link: a database file is never written again once it has been
replaced, so the link *is* the old state, at no cost (a copy where a link is not possible). A fault
anywhere before the swap removes the copy and the snapshot just made, so a failed change leaves
neither a half database nor a half snapshot. The newest `$FINSAM_SNAPSHOTS` snapshots (default 10)
are kept.

Undo puts the snapshot from before a chosen change back as a new change of its own (so an undo can
be undone), derives the agencies again from the current mapping, and records itself. The audit
log is not written here (etl imports core only): callers pass `on_change`, called with the lock
still held right after the swap, so the log follows the order of the swaps.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import glob
import os
import re
import shutil
import stat
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd

from core import derived, effects, settings
from core.database import (DatabaseError, check_database, connect_read, connect_write, describe_duckdb_error,
                           describe_os_error)
from core.paths import EXIT_REASONS_CSV
from core.problems import safe_text
from core.vocabulary import CHANGE_ACTIONS, OTHER_AGENCY

from .reference import MappingError, ReferrerMapping, referrer_mapping, referrers_path

SCHEMA = Path(__file__).with_name("schema.sql")
STOCKHOLM = ZoneInfo("Europe/Stockholm")
LOAD, UNDO, MAPPING = "load", "undo", "mapping"
SNAPSHOT_DIR = "snapshots"
DATA_TABLES = ("enrollments", "anonymous_counts", "budget_lines", "initiatives")
SYSTEM_ACTOR = "Insatskollen"
PRIVATE = 0o600  # a new database, its lock file and the snapshot folder's files: the owner's only


def now() -> dt.datetime:
    """The association's own clock, to the second."""
    return dt.datetime.now(STOCKHOLM).replace(microsecond=0, tzinfo=None)


# ------------------------------------------------------------------ the lock and the files


def real_path(db: Path | str) -> Path:
    """The file a database path stands for: a symlink is followed, so the link stays and its target is replaced."""
    return Path(os.path.realpath(db))


@contextmanager
def lock(db: Path):
    """One writer at a time per database; the lock file sits beside the (real) database file."""
    try:
        db.parent.mkdir(parents=True, exist_ok=True)
        fh = open(str(db) + ".lock", "a", opener=lambda path, flags: os.open(path, flags, PRIVATE))
    except OSError as exc:
        raise DatabaseError(f"databasens mapp kan inte skrivas: {describe_os_error(exc)}") from None
    with fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def remove_stale_copies(db: Path) -> None:
    """Copies and half snapshots left by a killed change; called with the lock held, so none is running."""
    leftovers = list(db.parent.glob(glob.escape(db.name) + ".tmp-*"))
    leftovers += list(snapshot_dir(db).glob("." + glob.escape(db.stem) + ".before-*.tmp-*"))
    for leftover in leftovers:
        try:
            if leftover.is_dir() and not leftover.is_symlink():
                shutil.rmtree(leftover)  # a private build folder (commit)
            else:
                leftover.unlink()
        except OSError:
            pass


def keep_mode_and_owner(db: Path, tmp: Path) -> None:
    """The new file gets the old one's mode and owner; a new database stays 0600 (as mkstemp made it), whatever
    the umask: it holds participants, and a umask of 022 would let every local user read it (issue 22)."""
    if db.exists():
        st = db.stat()
        os.chmod(tmp, stat.S_IMODE(st.st_mode))
        if (st.st_uid, st.st_gid) != (os.getuid(), os.getgid()):
            try:
                os.chown(tmp, st.st_uid, st.st_gid)
            except PermissionError:
                pass  # only root may give a file away; the mode is kept all the same
    else:
        os.chmod(tmp, PRIVATE)


def state_token(db: Path | str) -> str:
    """What a preview was computed against: the database file and the mapping as they are now.

    A load given the token of its preview refuses to run when either has changed since, so what
    was shown is what is stored.
    """
    parts = []
    for path in (real_path(db), referrers_path(), EXIT_REASONS_CSV):
        try:
            st = os.stat(path)
            parts.append(f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}")
        except OSError:
            parts.append("-")
    return "/".join(parts)


# ------------------------------------------------------------------ snapshots


def snapshots_kept() -> int:
    """`$FINSAM_SNAPSHOTS` (0 keeps none, so nothing can be undone), default 10; an unreadable value is the default."""
    return settings.get("FINSAM_SNAPSHOTS")


def snapshot_dir(db: Path) -> Path:
    return db.parent / SNAPSHOT_DIR


def snapshot_name(db: Path, change_id: int) -> str:
    return f"{db.stem}.before-{change_id:06d}{db.suffix}"


def _snapshot_ids(db: Path) -> dict[int, Path]:
    """The snapshots of this database that exist, by the id of the change they were taken before."""
    pattern = re.compile(rf"^{re.escape(db.stem)}\.before-(\d+){re.escape(db.suffix)}$")
    found = {}
    try:
        for p in snapshot_dir(db).iterdir():
            m = pattern.match(p.name)
            if m and p.is_file():
                found[int(m[1])] = p
    except OSError:
        pass
    return found


def snapshot_path(db: Path, name: str | None) -> Path | None:
    """The snapshot file of that name, if it still exists (the name comes from the database: no path in it)."""
    if not name or "/" in name or name.startswith("."):
        return None
    p = snapshot_dir(real_path(db)) / name
    return p if p.is_file() else None


def _make_snapshot(db: Path, name: str) -> Path:
    """Keep the current database file under `name`: linked where possible, else copied; complete or absent."""
    directory = snapshot_dir(db)
    directory.mkdir(mode=0o700, exist_ok=True)  # old states of the database: as private as the database
    final = directory / name
    tmp = directory / f".{name}.tmp-{os.getpid()}"
    tmp.unlink(missing_ok=True)
    try:
        try:
            os.link(db, tmp)
        except OSError:  # another file system, or one without hard links
            shutil.copyfile(db, tmp)
            shutil.copymode(db, tmp)
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp, final)  # a stale file of that name (a change that never swapped) is replaced
    finally:
        tmp.unlink(missing_ok=True)
    return final


def _prune(db: Path, keep: int) -> None:
    """Only the newest `keep` snapshots stay; ids only grow, so the highest are the newest."""
    found = _snapshot_ids(db)
    for change_id in sorted(found, reverse=True)[keep:]:
        try:
            found[change_id].unlink()
        except OSError:
            pass


# ------------------------------------------------------------------ the changes table


@dataclass
class Change:
    change_id: int
    action: str  # LOAD, UNDO or MAPPING
    actor: str
    changed_at: dt.datetime
    detail: str = ""
    first_load_id: int | None = None
    last_load_id: int | None = None
    replaced: dict[int, int] = field(default_factory=dict)  # rows of earlier loads this change removed
    replaced_sample: bool = False
    undoes: int | None = None
    snapshot: str | None = None  # set by commit
    no_database: bool = False
    effects: int | None = None  # initiative-years whose figures it changed; None: not recorded
    effect_rows: pd.DataFrame | None = field(default=None, repr=False, compare=False)  # set by build: before → after

    @property
    def label(self) -> str:
        return CHANGE_ACTIONS.get(self.action, self.action)

    def describe(self) -> str:
        """One line for the audit log and messages: what, which number, and the detail."""
        return safe_text(f"{self.label} nr {self.change_id}: {self.detail}", 480)


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(con.execute("SELECT 1 FROM duckdb_tables() WHERE database_name = current_database() "
                            "AND table_name = ?", [name]).fetchall())


def last_id(con: duckdb.DuckDBPyConnection) -> int:
    """The highest number this database's lineage has used for a load, an undo or a mapping change."""
    ids = [con.execute("SELECT coalesce(max(load_id), 0) FROM load_history").fetchall()[0][0]]
    if has_table(con, "changes"):
        ids.append(con.execute("SELECT coalesce(max(change_id), 0) FROM changes").fetchall()[0][0])
    row = con.execute("SELECT value FROM meta WHERE key = 'last_id'").fetchall()
    if row and str(row[0][0]).isdigit():
        ids.append(int(row[0][0]))
    return max(int(i) for i in ids)


def next_id(con: duckdb.DuckDBPyConnection) -> int:
    """The number of the next load (etl.load._write) or change: never one used before, not even after an undo."""
    return last_id(con) + 1


def floor_id(db: Path) -> int:
    """The highest number used by the database or by any snapshot beside it: new numbers start above it, so a
    snapshot's name is never reused (not even after the database was deleted and started anew)."""
    used = max(_snapshot_ids(db), default=0)
    if db.exists():
        with connect_read(db) as con:
            used = max(used, last_id(con))
    return used


def rows_per_load(con: duckdb.DuckDBPyConnection) -> dict[int, int]:
    """Stored rows per load, over every data table: the difference before and after a change is what it replaced."""
    union = " UNION ALL ".join(f"SELECT load_id FROM {t}" for t in DATA_TABLES)
    return {int(k): int(n) for k, n in con.execute(f"SELECT load_id, count(*) FROM ({union}) GROUP BY load_id").fetchall()}


def replaced_rows(before: dict[int, int], after: dict[int, int]) -> dict[int, int]:
    return {k: n - after.get(k, 0) for k, n in sorted(before.items()) if n > after.get(k, 0)}


def _record(con: duckdb.DuckDBPyConnection, c: Change) -> None:
    con.execute(
        "INSERT INTO changes (change_id, action, changed_at, actor, first_load_id, last_load_id, snapshot, "
        "no_database, replaced, replaced_sample, undoes, detail, effects) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [c.change_id, c.action, c.changed_at, safe_text(c.actor, 120) or "?", c.first_load_id, c.last_load_id,
         c.snapshot, c.no_database, ",".join(f"{k}:{n}" for k, n in c.replaced.items()), c.replaced_sample,
         c.undoes, safe_text(c.detail, 2000), c.effects])
    if c.effect_rows is not None:
        effects.write(con, c.change_id, c.effect_rows)
    con.execute("INSERT OR REPLACE INTO meta VALUES ('last_id', ?)", [str(max(c.change_id, c.last_load_id or 0))])


def derive_agencies(con: duckdb.DuckDBPyConnection, mapping: ReferrerMapping | None = None) -> int:
    """Every stored enrollment's agency again from its stored unit name, as etl.derive does at load time.

    Also fills `referrer_units` (what each unit maps to and by which rule; NULL: nothing matched),
    which the data-quality queries read. Rows without consent have no unit and stay `Uppgift saknas`.
    Returns the number of enrollments whose agency changed.
    """
    mapping = mapping or referrer_mapping()
    units = [u for (u,) in con.execute("SELECT DISTINCT referrer_unit FROM enrollments "
                                       "WHERE referrer_unit IS NOT NULL AND referrer_unit <> ''").fetchall()]
    con.execute("DELETE FROM referrer_units")
    if not units:
        return 0
    matched = [mapping.match(u) for u in units]
    df = pd.DataFrame({"unit": pd.Series(units, dtype=object),
                       "agency": pd.Series([a or OTHER_AGENCY for a, _ in matched], dtype=object),
                       "rule": pd.Series([r for _, r in matched], dtype=object)})
    con.register("mapped_units", df)
    try:
        con.execute("INSERT INTO referrer_units SELECT unit, agency, rule FROM mapped_units")
    finally:
        con.unregister("mapped_units")
    return int(con.execute(
        "UPDATE enrollments e SET agency = r.agency FROM referrer_units r "
        "WHERE e.referrer_unit = r.unit AND e.consent AND e.agency <> r.agency").fetchall()[0][0])


# ------------------------------------------------------------------ the one write path


def _figures_before(con: duckdb.DuckDBPyConnection, source: Path | None, previous: Path | None) -> pd.DataFrame | None:
    """The figures of the database the change replaces (core.effects): read from the copy when the copy is of it,
    else from the file itself (an undo's copy is a snapshot; a first load or one replacing the sample starts
    empty). None: not recorded (nothing registered, or the old file cannot be read with today's definitions)."""
    if not effects.registered():
        return None
    if previous is None or not previous.exists():
        return effects.empty()
    if source is not None and real_path(source) == real_path(previous):
        return effects.measure(con)
    try:
        with connect_read(previous) as old:
            return effects.measure(old)
    except duckdb.Error:  # a database from before today's tables: the change goes on, its effects unrecorded
        return None


def build(target: Path, source: Path | None, mutate: Callable[[duckdb.DuckDBPyConnection], Change], *,
          floor: int, snapshot: str | None, no_database: bool, derive: bool = True,
          previous: Path | None = None) -> Change:
    """Write `target` as `source` (or a new, empty database) changed by `mutate`, in one transaction.

    The change is recorded in the new file itself, with the name its snapshot will have, and with what it did
    to the figures per initiative and year compared with `previous` (the database it replaces; core.effects).
    Used for a real change (commit) and for a preview (etl.load.preview_files), so both write the same data; the
    tables derived from it (core.derived) are dropped and, unless `derive` is False (a preview), derived anew.
    """
    if source is not None:
        shutil.copyfile(source, target)
    con = connect_write(target)
    try:
        con.execute(SCHEMA.read_text(encoding="utf-8"))
        con.execute("BEGIN TRANSACTION")
        con.execute("INSERT OR REPLACE INTO meta VALUES ('last_id', ?)", [str(floor)])
        before = _figures_before(con, source, previous)
        change = mutate(con)
        if before is not None:
            change.effect_rows = effects.compare(before, effects.measure(con))
            change.effects = len(change.effect_rows)
        derived.refresh(con, compute=derive, replacing=previous)
        change.snapshot, change.no_database = snapshot, no_database
        _record(con, change)
        con.execute("COMMIT")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return change


@contextmanager
def swedish_faults():
    """Any fault while a copy is written becomes DatabaseError with a Swedish reason that names no path."""
    try:
        yield
    except OSError as exc:
        raise DatabaseError(describe_os_error(exc)) from None
    except duckdb.Error as exc:
        raise DatabaseError(describe_duckdb_error(exc)) from None
    except MappingError as exc:
        raise DatabaseError(str(exc)) from None
    except DatabaseError:
        raise
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # a bug: the old database stays, and the user hears it in Swedish
        raise DatabaseError(f"ett oväntat fel av typen {type(exc).__name__}") from None


def commit(db: Path, source: Path | None, mutate: Callable[[duckdb.DuckDBPyConnection], Change]) -> Change:
    """Build the changed copy beside `db`, keep `db` as a snapshot and swap the copy in. Call with the lock held.

    On any fault the database is as it was and neither a copy nor a snapshot of this change is left;
    the fault comes back as DatabaseError, in Swedish.
    """
    tmp: Path | None = None
    work: Path | None = None
    made: Path | None = None
    keep = snapshots_kept()
    try:
        with swedish_faults():
            had_db = db.exists()
            floor = floor_id(db)
            # built in a folder of its own (0700, on the database's file system for the swap): DuckDB creates
            # the copy and its .wal with the umask's mode, and no other local user may read them meanwhile
            work = Path(tempfile.mkdtemp(prefix=db.name + ".tmp-", dir=db.parent))
            tmp = work / db.name
            planned = snapshot_name(db, floor + 1)  # the first number this change can take; checked below
            change = build(tmp, source, mutate, floor=floor, snapshot=planned if had_db and keep else None,
                           no_database=not had_db, previous=db if had_db else None)
            if change.change_id != floor + 1:  # a bug: the name recorded would not be the snapshot's
                raise RuntimeError("change id out of sequence")
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            keep_mode_and_owner(db, tmp)
            if change.snapshot:
                made = _make_snapshot(db, change.snapshot)
            os.replace(tmp, db)
            tmp = made = None
    finally:
        if made is not None:
            try:
                made.unlink(missing_ok=True)
            except OSError:
                pass
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
    _prune(db, keep)
    derived.changed(db)
    return change


def notify(on_change: Callable[[Change], None] | None, change: Change) -> str | None:
    """Tell the caller (the audit log) about a change that is in; a Swedish warning if that failed."""
    if on_change is None:
        return None
    try:
        on_change(change)
    except Exception as exc:  # the change is made; the log is the caller's, and its failure must not undo it
        return f"ändringen är gjord, men granskningsloggen kunde inte skrivas: {safe_text(exc, 300)}"
    return None


# ------------------------------------------------------------------ reading the history


def _has_effects(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the changes table counts effects (a database from before it does not; the app never migrates)."""
    return bool(con.execute("SELECT 1 FROM duckdb_columns() WHERE database_name = current_database() "
                            "AND table_name = 'changes' AND column_name = 'effects'").fetchall())


def changes(con: duckdb.DuckDBPyConnection) -> list[Change]:
    """This database's changes, oldest first; [] for a database from before changes were recorded."""
    if not has_table(con, "changes"):
        return []
    rows = con.execute(
        "SELECT change_id, action, actor, changed_at, detail, first_load_id, last_load_id, replaced, replaced_sample, "
        f"undoes, snapshot, no_database, {'effects' if _has_effects(con) else 'NULL'} FROM changes "
        "ORDER BY change_id").fetchall()
    out = []
    for (cid, action, actor, at, detail, first, last, replaced, replaced_sample, undoes, snap, no_db, n) in rows:
        out.append(Change(cid, action, actor, at, detail, first, last, parse_replaced(replaced), replaced_sample,
                          undoes, snap, no_db, n))
    return out


def parse_replaced(text: str | None) -> dict[int, int]:
    out = {}
    for part in (text or "").split(","):
        k, _, n = part.partition(":")
        if k.strip().isdigit() and n.strip().isdigit():
            out[int(k)] = int(n)
    return out


def find(history: list[Change], number: int) -> Change | None:
    """The change with that number, or the load call one of whose files has it as load id."""
    for c in history:
        if c.change_id == number or (c.first_load_id is not None and c.first_load_id <= number <= (c.last_load_id or 0)):
            return c
    return None


# ------------------------------------------------------------------ undo


@dataclass
class UndoResult:
    ok: bool
    message: str  # Swedish, for the page and the terminal
    change: Change | None = None
    warning: str | None = None


def undoable(db: Path, c: Change) -> str | None:
    """Why the change cannot be undone (Swedish), or None when it can."""
    if c.action == MAPPING:
        return ("en ändring av remittentmappningen ångras genom att ändra mappningen igen (under Remittenter på "
                "sidan Data), eftersom myndigheterna alltid följer den mappning som gäller nu")
    if c.no_database:
        return None  # before it there was no database: undoing it leaves an empty one
    if not c.snapshot:
        return ("läget före den sparades inte (inga ögonblicksbilder sparas när FINSAM_SNAPSHOTS är 0)")
    if snapshot_path(db, c.snapshot) is None:
        return (f"ögonblicksbilden från före den finns inte längre (bara de {snapshots_kept()} senaste sparas)")
    return None


def undo(db: Path | str, number: int | None = None, *, actor: str,
         on_change: Callable[[Change], None] | None = None) -> UndoResult:
    """Restore the database as it was before change `number` (default: the latest load), as a change of its own.

    Never raises for a missing, broken or unusable database or snapshot: the result says why, in Swedish,
    and then nothing has changed.
    """
    db = real_path(db)
    try:
        with lock(db):
            remove_stale_copies(db)
            return _undo_locked(db, number, actor, on_change)
    except DatabaseError as exc:
        return UndoResult(False, f"Ingenting ångrades: {exc.message}.")


def _what(con: duckdb.DuckDBPyConnection, c: Change) -> str:
    """'inläsning nr 5 (deltagare.xlsx)' for messages."""
    label = c.label.lower()
    if c.action == LOAD and c.first_load_id is not None:
        names = [n for (n,) in con.execute("SELECT file_name FROM load_history WHERE load_id BETWEEN ? AND ? "
                                           "ORDER BY load_id", [c.first_load_id, c.last_load_id]).fetchall()]
        return f"{label} nr {c.change_id} ({', '.join(names)})" if names else f"{label} nr {c.change_id}"
    return f"{label} nr {c.change_id}"


def _undo_locked(db: Path, number: int | None, actor: str, on_change) -> UndoResult:
    if not db.exists():
        return UndoResult(False, "Det finns ingen databas, så det finns ingenting att ångra.")
    check_database(db)
    with connect_read(db) as con:
        history = changes(con)
        if number is None:
            loads = [c for c in history if c.action == LOAD]
            if not loads:
                return UndoResult(False, "Det finns ingen inläsning att ångra (historiken har inga inläsningar "
                                         "gjorda med ögonblicksbild; se python -m etl history).")
            chosen = loads[-1]
        else:
            chosen = find(history, number)
            if chosen is None:
                return UndoResult(False, f"Det finns ingen ändring med nummer {number} i databasens historik "
                                         "(se python -m etl history eller historiken på sidan Data).")
        what = _what(con, chosen)
        later = [c.change_id for c in history if c.change_id > chosen.change_id]
    why_not = undoable(db, chosen)
    if why_not:
        return UndoResult(False, f"{what[0].upper()}{what[1:]} kan inte ångras: {why_not}.")
    source = None if chosen.no_database else snapshot_path(db, chosen.snapshot)
    if source is not None:
        try:
            check_database(source)
        except DatabaseError as exc:
            return UndoResult(False, f"Ögonblicksbilden från före {what} kan inte användas: {exc.message}.")
    detail = f"återställde läget före {what}"
    if chosen.no_database:
        detail += " (före den fanns ingen databas: nu är den tom)"
    if later:
        detail += f"; därmed försvann också de senare ändringarna nr {', '.join(map(str, later))}"

    def mutate(con: duckdb.DuckDBPyConnection) -> Change:
        derive_agencies(con)  # the agencies follow the mapping as it is now
        return Change(next_id(con), UNDO, actor, now(), detail, undoes=chosen.change_id)

    change = commit(db, source, mutate)
    warning = notify(on_change, change)
    message = f"Klart: {detail}. Ångringen har nr {change.change_id} och kan själv ångras."
    return UndoResult(True, message, change, warning)
