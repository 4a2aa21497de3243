"""All-or-nothing loading: validate every file, then build a new database file and swap it in.

The dashboard holds the database open read-only; DuckDB does not let a writer in beside
readers, so the loader copies the file, writes the copy in one transaction and
`os.replace`s it over the original. Open readers keep the old snapshot; new connections
see the new one. A lock file keeps two loaders from racing.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd

from core.database import connect_read, connect_write
from core.paths import SAMPLE_DIR, default_db_path

from .normalise import ParsedTable, normalise_table
from .problems import ERROR, WARNING, Problem, has_errors
from .read import read_file
from .reference import exit_reasons
from .validate import validate

STOCKHOLM = ZoneInfo("Europe/Stockholm")
SCHEMA = Path(__file__).with_name("schema.sql")
KIND_ORDER = {"initiatives": 0, "participants": 1, "anonymous": 2, "budget": 3}


def sample_files() -> list[Path]:
    return sorted(p for p in SAMPLE_DIR.iterdir() if p.suffix.lower() in {".xlsx", ".csv", ".txt"})


@dataclass
class FileResult:
    path: Path
    checksum: str = ""
    tables: list[ParsedTable] = field(default_factory=list)
    skipped: bool = False  # already loaded (same checksum)
    rows_loaded: int = 0
    rows_replaced: int = 0
    load_id: int = 0

    @property
    def kinds(self) -> list[str]:
        return sorted({t.kind for t in self.tables if t.kind}, key=KIND_ORDER.get)

    @property
    def rows_read(self) -> int:
        return sum(len(t.records) for t in self.tables if t.kind)

    @property
    def warnings(self) -> int:
        return sum(p.severity == WARNING for t in self.tables for p in t.problems)


@dataclass
class LoadResult:
    files: list[FileResult]
    problems: list[Problem]
    changed: bool = False
    replaced_sample: bool = False

    @property
    def ok(self) -> bool:
        return not has_errors(self.problems)


# ------------------------------------------------------------------ check


def check_files(paths: list[Path], db: Path | None = None) -> LoadResult:
    """Read, normalise and validate every file; nothing is written."""
    files: list[FileResult] = []
    problems: list[Problem] = []
    for path in map(Path, paths):
        fr = FileResult(path)
        files.append(fr)
        try:
            data = path.read_bytes()
            fr.checksum = hashlib.sha256(data).hexdigest()
            fr.tables = [normalise_table(t) for t in read_file(path)]
        except Exception as exc:  # unreadable file: report it like any other problem
            problems.append(Problem(ERROR, path.name, None, None, None, None, f"filen kan inte läsas: {exc}"))
            continue
        if not any(t.kind for t in fr.tables):
            problems.append(Problem(ERROR, path.name, None, None, None, None,
                                    "filen innehåller ingen tabell som känns igen (deltagare, anonyma deltagare, "
                                    "budget eller insatsregister); kontrollera rubrikraden"))
    known = _known_initiatives(db) if db else set()
    problems.extend(validate([t for f in files for t in f.tables if t.kind], known))
    problems.extend(p for f in files for t in f.tables if not t.kind for p in t.problems)
    return LoadResult(files, problems)


def _known_initiatives(db: Path) -> set[str]:
    if not db.exists():
        return set()
    with connect_read(db) as con:
        return {n.casefold() for (n,) in con.execute(_ALL_INITIATIVES_SQL).fetchall()}


_ALL_INITIATIVES_SQL = """
    SELECT initiative FROM initiatives UNION SELECT initiative FROM enrollments
    UNION SELECT initiative FROM anonymous_counts UNION SELECT initiative FROM budget_lines
"""

# ------------------------------------------------------------------ load


@contextmanager
def _lock(db: Path):
    db.parent.mkdir(parents=True, exist_ok=True)
    with open(str(db) + ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def load_files(paths: list[Path], db: Path | None = None, *, sample: bool = False) -> LoadResult:
    """Load all files or none. Files already loaded (same checksum) are skipped."""
    db = Path(db or default_db_path())
    with _lock(db):
        return _load_locked(paths, db, sample=sample)


def ensure_database(db: Path | None = None) -> bool:
    """Build the database from data/sample/ when it does not exist; True if it was built."""
    db = Path(db or default_db_path())
    if db.exists():
        return False
    with _lock(db):
        if db.exists():
            return False
        result = _load_locked(sample_files(), db, sample=True)
        if not result.ok:
            raise RuntimeError("exempeldata kunde inte läsas in:\n" + "\n".join(map(str, result.problems)))
        return True


def _load_locked(paths: list[Path], db: Path, *, sample: bool) -> LoadResult:
    result = check_files(paths, db)
    if not result.ok:
        return result
    start_fresh = not db.exists() or (not sample and _is_sample(db))
    result.replaced_sample = db.exists() and start_fresh
    seen = set() if start_fresh else _loaded_checksums(db)
    for fr in result.files:
        fr.skipped = fr.checksum in seen
        seen.add(fr.checksum)
    todo = [f for f in result.files if not f.skipped]
    if not todo:
        return result
    fd, tmp_name = tempfile.mkstemp(prefix=db.name + ".tmp-", dir=db.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if start_fresh:
            tmp.unlink()
        else:
            shutil.copyfile(db, tmp)
        con = connect_write(tmp)
        try:
            con.execute(SCHEMA.read_text(encoding="utf-8"))
            con.execute("BEGIN TRANSACTION")
            _write(con, todo, sample=sample)
            con.execute("COMMIT")
            con.execute("CHECKPOINT")
        except duckdb.Error as exc:  # the original file is untouched; report, do not crash
            result.problems.append(Problem(ERROR, ", ".join(f.path.name for f in todo), None, None, None, None,
                                           f"inläsningen avbröts och ingenting ändrades: {exc}"))
            return result
        finally:
            con.close()
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, db)
        result.changed = True
    finally:
        for leftover in (tmp, Path(str(tmp) + ".wal")):
            leftover.unlink(missing_ok=True)
    return result


def _is_sample(db: Path) -> bool:
    with connect_read(db) as con:
        row = con.execute("SELECT value FROM meta WHERE key = 'source'").fetchone()
    return bool(row and row[0] == "sample")


def _loaded_checksums(db: Path) -> set[str]:
    with connect_read(db) as con:
        return {c for (c,) in con.execute("SELECT checksum FROM load_history").fetchall()}


def _write(con: duckdb.DuckDBPyConnection, files: list[FileResult], *, sample: bool) -> None:
    canonical = {n.casefold(): n for (n,) in con.execute(_ALL_INITIATIVES_SQL).fetchall()}
    # the register's spelling wins, then the first spelling seen
    for kind in ("initiatives", "participants", "anonymous", "budget"):
        for f in files:
            for t in f.tables:
                if t.kind == kind:
                    for r in t.records:
                        if r.get("initiative"):
                            r["initiative"] = canonical.setdefault(r["initiative"].casefold(), r["initiative"])
    # fetchall, not fetchone: duckdb 2 refuses con.register() while a SELECT result is left unfinished
    next_id = con.execute("SELECT coalesce(max(load_id), 0) + 1 FROM load_history").fetchall()[0][0]
    now = dt.datetime.now(STOCKHOLM).replace(microsecond=0, tzinfo=None)  # the association's own clock
    for f in files:
        f.load_id = next_id
        next_id += 1
    first_new_id = files[0].load_id
    _write_participants(con, files)
    for f in files:
        for t in f.tables:
            if t.kind == "anonymous":
                _replace(con, f, "anonymous_counts", ["association", "initiative", "year"], [
                    {"association": r.get("association") or "", "initiative": r["initiative"], "year": r["year"],
                     "women": r["women"], "men": r["men"], "other": r.get("other") or 0}
                    for r in t.records], first_new_id)
            elif t.kind == "budget":
                _replace(con, f, "budget_lines", ["initiative", "year"], [
                    {"initiative": r["initiative"], "year": r["year"], "category": r.get("category") or "Totalt",
                     "funder": r.get("funder") or "Förbundet", "budget": r.get("budget"), "actual": r.get("actual")}
                    for r in t.records if not r.get("_skip")], first_new_id)
            elif t.kind == "initiatives":
                _replace(con, f, "initiatives", ["initiative"], [
                    {k: r.get(k) for k in ("initiative", "owner", "partners", "start_date", "end_date",
                                           "target_participants", "target_women_share", "target_positive_share")}
                    for r in t.records], first_new_id)
    for f in files:
        con.execute(
            "INSERT INTO load_history VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [f.load_id, f.path.name, f.checksum, now, ",".join(f.kinds), f.rows_read, f.rows_loaded,
             f.rows_replaced, f.warnings],
        )
    con.execute("DELETE FROM exit_reasons")
    con.executemany("INSERT INTO exit_reasons VALUES (?, ?, ?, ?)",
                    [(r.code, r.label, r.short_label, r.positive) for r in exit_reasons()])
    con.execute("INSERT OR REPLACE INTO meta VALUES ('source', ?), ('last_load', ?)",
                ["sample" if sample else "export", now.isoformat(sep=" ")])


ENROLLMENT_COLUMNS = ["association", "participant_id", "initiative", "sex", "start_date", "end_date", "exit_reason",
                      "birth_year", "age_at_start", "referrer_unit", "agency", "income_at_start", "income_at_exit",
                      "education", "consent", "load_id"]


def _write_participants(con, files: list[FileResult]) -> None:
    """Exports are snapshots: the initiatives a call's files cover are replaced as a whole."""
    rows: dict[tuple, dict] = {}
    covered: dict[tuple[str, str], FileResult] = {}
    anonymous_seq = 0
    for f in files:
        for t in (t for t in f.tables if t.kind == "participants"):
            for r in t.records:
                assoc = r.get("association") or ""
                covered.setdefault((assoc, r["initiative"]), f)
                row = {"association": assoc, "referrer_unit": r.get("referrer"), "load_id": f.load_id}
                row |= {c: r.get(c) for c in ENROLLMENT_COLUMNS if c not in row}
                if r["participant_id"] is None:  # no consent: no identity to deduplicate on
                    anonymous_seq += 1
                    key = ("-", anonymous_seq)
                else:
                    key = (assoc, r["participant_id"], r["initiative"], r["start_date"])
                rows[key] = row  # a later file in the same call wins
                f.rows_loaded += 1
    for (assoc, initiative), f in covered.items():
        f.rows_replaced += con.execute(
            "DELETE FROM enrollments WHERE association = ? AND initiative = ?", [assoc, initiative]
        ).fetchone()[0]
    if rows:
        df = pd.DataFrame(list(rows.values()), columns=ENROLLMENT_COLUMNS)
        con.register("new_rows", df)
        con.execute(f"INSERT INTO enrollments SELECT {', '.join(ENROLLMENT_COLUMNS)} FROM new_rows")
        con.unregister("new_rows")


def _replace(con, f: FileResult, table: str, key: list[str], rows: list[dict], first_new_id: int) -> None:
    if not rows:
        return
    df = pd.DataFrame(rows)
    df["load_id"] = f.load_id
    con.register("new_rows", df)
    cond = " AND ".join(f"t.{k} = n.{k}" for k in key)
    # only rows of earlier loads: two sheets of this call may share a key (one initiative-year)
    f.rows_replaced += con.execute(
        f"DELETE FROM {table} t WHERE t.load_id < ? AND EXISTS (SELECT 1 FROM new_rows n WHERE {cond})",
        [first_new_id],
    ).fetchone()[0]
    cols = ", ".join(df.columns)
    con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM new_rows")
    con.unregister("new_rows")
    f.rows_loaded += len(rows)
