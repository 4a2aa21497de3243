"""All-or-nothing loading: validate every file, then build a new database file and swap it in.

The dashboard holds the database open read-only; DuckDB does not let a writer in beside
readers, so the loader copies the file, writes the copy in one transaction and
`os.replace`s it over the original. Open readers keep the old snapshot; new connections
see the new one. A lock file keeps two loaders from racing.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from decimal import Decimal
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from core.database import DatabaseError, check_database, connect_read, describe_os_error
from core import settings
from core.paths import SAMPLE_DECISIONS, SAMPLE_DIR, default_db_path
from core.problems import ERROR, WARNING, FileRefused, Problem, has_errors, safe_text

from . import history
from .cells import clean_text, fold
from .history import Change, real_path
from .history import lock as _lock
from .history import remove_stale_copies as _remove_stale_copies
from .normalise import ParsedTable, categorical, normalise_table
from .read import read_file
from .reference import exit_reasons
from .validate import validate

STOCKHOLM = ZoneInfo("Europe/Stockholm")
SCHEMA = Path(__file__).with_name("schema.sql")
KIND_ORDER = {"initiatives": 0, "participants": 1, "anonymous": 2, "budget": 3, "structural": 4, "economy": 5}


def sample_files() -> list[Path]:
    return sorted(p for p in SAMPLE_DIR.iterdir() if p.suffix.lower() in {".xlsx", ".csv", ".txt"})


@dataclass
class FileResult:
    path: Path
    name: str = ""  # how messages name the file
    checksum: str = ""
    duplicate_of: str | None = None  # the same content given twice in one call: read once
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
        return sum(t.size for t in self.tables if t.kind)

    @property
    def warnings(self) -> int:
        return sum(p.severity == WARNING for t in self.tables for p in t.problems)


@dataclass
class LoadResult:
    files: list[FileResult]
    problems: list[Problem]
    changed: bool = False
    replaced_sample: bool = False
    change: Change | None = None  # the record of the load (etl.history), once it is in
    start_fresh: bool = False  # the load builds a new database (none yet, or only the sample)

    @property
    def ok(self) -> bool:
        return not has_errors(self.problems)


# ------------------------------------------------------------------ check


def _display_names(paths: list[Path]) -> list[str]:
    """The file name, or the path as given where two files of the call share a name."""
    names = [p.name for p in paths]
    return [str(p) if names.count(p.name) > 1 else p.name for p in paths]


def check_files(paths: list[Path], db: Path | None = None, *, sample: bool = False) -> LoadResult:
    """Read, normalise and validate every file; nothing is written.

    Files already in the database (same checksum), and a second copy of a file in the same call,
    are marked `skipped`: they are still checked, but not counted as covering anything.
    """
    paths = [Path(p) for p in paths]
    files: list[FileResult] = []
    problems: list[Problem] = []
    if db is not None:
        try:
            check_database(db)
        except DatabaseError as exc:
            return LoadResult([], [Problem(ERROR, str(db), None, None, None, None, exc.message)])
    facts = _facts(db) if db is not None and db.exists() else None
    start_fresh = facts is None or (not sample and facts.is_sample)
    loaded = set() if start_fresh else facts.checksums
    first_of: dict[str, str] = {}
    for source, (path, name) in enumerate(zip(paths, _display_names(paths))):
        fr = FileResult(path, name=name)
        files.append(fr)
        try:
            if path.exists() and not path.is_file() and not path.is_dir():
                raise FileRefused("det är ingen vanlig fil (en enhet eller en namngiven pipe)")
            data_hash = hashlib.sha256()
            with path.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    data_hash.update(block)
            fr.checksum = data_hash.hexdigest()
            for source_table in read_file(path, name):
                parsed = normalise_table(source_table)
                parsed.source = source
                fr.tables.append(parsed)
        except FileRefused as exc:
            fr.tables = []
            problems.append(exc.problem(name))
            continue
        except (IsADirectoryError, FileNotFoundError, PermissionError, OSError) as exc:
            fr.tables = []
            problems.append(FileRefused(_unreadable(exc)).problem(name))
            continue
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # a bug (or a panic in calamine) must not become a traceback or a load
            fr.tables = []
            problems.append(_unexpected(name, exc))
            continue
        if fr.checksum in first_of:
            fr.skipped, fr.duplicate_of = True, first_of[fr.checksum]
        elif fr.checksum in loaded:
            fr.skipped = True
        first_of.setdefault(fr.checksum, name)
        recognised = [t for t in fr.tables if t.kind]
        if not recognised:
            problems.append(Problem(ERROR, name, None, None, None, None,
                                    "filen innehåller ingen tabell som känns igen (deltagare, anonyma deltagare, "
                                    "budget, insatsregister, strukturövergripande insatser eller förbundets "
                                    "ekonomi); kontrollera rubrikraden"))
        elif not any(t.size for t in recognised):
            problems.append(Problem(ERROR, name, None, None, None, None,
                                    "filen har rubriker men inga datarader; kontrollera att exporten inte blev tom"))
        else:
            for t in recognised:
                if not t.size:
                    t.problem(WARNING, row=t.header_row, message=(
                        "bladet har rubriker men inga datarader och hoppas över"))
    known = facts.initiatives if facts else set()
    tables = [t for f in files for t in f.tables if t.kind]
    skipped = {i for i, f in enumerate(files) if f.skipped}
    try:
        problems.extend(validate(tables, known, skipped))
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:
        problems.append(_unexpected(", ".join(f.name for f in files), exc))
    problems.extend(p for f in files for t in f.tables if not t.kind for p in t.problems)
    return LoadResult(files, problems, start_fresh=start_fresh)


def _unexpected(name: str, exc: BaseException) -> Problem:
    return Problem(ERROR, name, None, None, None, None,
                   f"filen kunde inte kontrolleras (ett oväntat fel av typen {type(exc).__name__}; ingenting har "
                   "lästs in); kontakta den som sköter Insatskollen")


def _unreadable(exc: OSError) -> str:
    if isinstance(exc, IsADirectoryError):
        return "det är en mapp, inte en fil"
    if isinstance(exc, FileNotFoundError):
        return "filen finns inte"
    return f"filen kan inte läsas: {describe_os_error(exc)}"


@dataclass
class _Facts:
    is_sample: bool  # a load of real exports into the sample database starts a new database
    checksums: set[str]  # of the files already loaded
    initiatives: set[str]  # folded names already in the database


def _facts(db: Path) -> _Facts:
    """What a check needs to know of the database, read in one opening (each costs some 30 ms)."""
    with connect_read(db) as con:
        row = con.execute("SELECT value FROM meta WHERE key = 'source'").fetchall()
        checksums = {c for (c,) in con.execute("SELECT checksum FROM load_history").fetchall()}
        initiatives = {fold(n) for (n,) in con.execute(_ALL_INITIATIVES_SQL).fetchall()}
    return _Facts(bool(row and row[0][0] == "sample"), checksums, initiatives)


_ALL_INITIATIVES_SQL = """
    SELECT initiative FROM initiatives UNION SELECT initiative FROM enrollments
    UNION SELECT initiative FROM anonymous_counts UNION SELECT initiative FROM budget_lines
"""

# ------------------------------------------------------------------ load
# The lock, the copy-and-swap, the snapshot kept of the database before each load and the record of who
# loaded what live in etl/history.py: loads, undos and mapping changes all write through it.


def load_files(paths: list[Path], db: Path | None = None, *, sample: bool = False, actor: str | None = None,
               on_change: Callable[[Change], None] | None = None, expect: str | None = None) -> LoadResult:
    """Load all files or none. Files already loaded (same checksum) are skipped.

    Never raises for a bad file or database: every fault comes back as a problem, and then the
    database is byte for byte as it was. `actor` is who loads (the history shows it); `on_change`
    is called once the new database is in (the audit log); `expect` is the etl.history.state_token
    a preview was made against: when the database or the mapping has changed since, nothing is loaded.
    """
    given = Path(db or default_db_path())
    db = real_path(given)
    try:
        with _lock(db):
            _remove_stale_copies(db)
            if expect is not None and history.state_token(db) != expect:
                return LoadResult([], [Problem(ERROR, db.name, None, None, None, None, CHANGED_SINCE_PREVIEW)])
            return _load_locked(paths, db, sample=sample, actor=actor or history.SYSTEM_ACTOR, on_change=on_change)
    except DatabaseError as exc:
        return LoadResult([], [Problem(ERROR, str(given), None, None, None, None, exc.message)])


CHANGED_SINCE_PREVIEW = ("databasen eller remittentmappningen har ändrats sedan förhandsvisningen (någon har läst in, "
                         "ångrat eller ändrat mappningen); ingenting har lästs in. Granska den nya förhandsvisningen "
                         "och läs in igen")


def ensure_database(db: Path | None = None) -> bool:
    """Build the database from data/sample/ when it does not exist; True if it was built.

    Raises DatabaseError (Swedish, no path) when it cannot be built. Whether an existing file is
    usable is core.database.check_database's question (the app caches its answer per file version).
    """
    db = real_path(db or default_db_path())
    if db.exists():
        return False
    with _lock(db):
        if db.exists():
            return False
        _remove_stale_copies(db)
        with settings.overridden(FINSAM_DECISION_CACHE=SAMPLE_DECISIONS):  # decided once, shipped with it
            result = _load_locked(sample_files(), db, sample=True, actor=f"{history.SYSTEM_ACTOR} (exempeldata)")
        if not result.ok:
            errors = [p for p in result.problems if p.severity == ERROR]
            raise DatabaseError("databasen saknas och kunde inte byggas från exempeldata: " +
                                "; ".join(p.message for p in errors[:3]))
        return True


def _load_locked(paths: list[Path], db: Path, *, sample: bool, actor: str = history.SYSTEM_ACTOR,
                 on_change: Callable[[Change], None] | None = None) -> LoadResult:
    result = check_files(paths, db, sample=sample)
    if not result.ok:
        return result
    start_fresh = result.start_fresh
    result.replaced_sample = db.exists() and start_fresh
    todo = [f for f in result.files if not f.skipped]
    if not todo:
        return result
    try:
        result.change = _write_copy(db, todo, sample=sample, start_fresh=start_fresh, actor=actor,
                                    replaced_sample=result.replaced_sample)
    except DatabaseError as exc:
        result.problems.append(Problem(ERROR, db.name, None, None, None, None,
                                       f"inläsningen avbröts och ingenting ändrades: {exc.message}"))
        return result
    result.changed = True
    warning = history.notify(on_change, result.change)
    if warning:
        result.problems.append(Problem(WARNING, db.name, None, None, None, None, warning))
    return result


def _write_copy(db: Path, todo: list[FileResult], *, sample: bool, start_fresh: bool, actor: str = history.SYSTEM_ACTOR,
                replaced_sample: bool = False) -> Change:
    """Write the new database as a copy beside the old one and swap it in, keeping the old one as a snapshot
    (etl.history.commit); on any fault the old one stays."""
    return history.commit(db, None if start_fresh else db, _load_change(todo, sample=sample, actor=actor,
                                                                        replaced_sample=replaced_sample))


def _load_change(todo: list[FileResult], *, sample: bool, actor: str, replaced_sample: bool):
    """What a load writes into the copy: the files (`_write`), the agencies after the mapping, and its record."""
    def mutate(con: duckdb.DuckDBPyConnection) -> Change:
        before = history.rows_per_load(con)
        _write(con, todo, sample=sample)
        history.derive_agencies(con)
        replaced = history.replaced_rows(before, history.rows_per_load(con))
        return Change(todo[0].load_id, history.LOAD, actor, history.now(),
                      ", ".join(safe_text(f.path.name, 255) for f in todo), first_load_id=todo[0].load_id,
                      last_load_id=todo[-1].load_id, replaced=replaced, replaced_sample=replaced_sample)
    return mutate


@dataclass
class Preview:
    """What a load of these files would do: the check, and the database it would write (built in a work directory)."""
    result: LoadResult
    after: Path | None  # None: errors, or nothing new to load
    token: str  # etl.history.state_token at the check: pass it to load_files(expect=…)


def preview_files(paths: list[Path], db: Path | None, workdir: Path, *, actor: str | None = None) -> Preview:
    """Check the files and, when they may be loaded, write the database the load would write, in `workdir`.

    The same check and the same write path as load_files, on a copy in `workdir` (which the caller
    deletes): querying it beside the current database shows exactly what the load will change.
    Nothing beside the database is written.
    """
    given = Path(db or default_db_path())
    db = real_path(given)
    try:
        with _lock(db):
            token = history.state_token(db)
            result = check_files(paths, db)
            todo = [f for f in result.files if not f.skipped]
            if not result.ok or not todo:
                return Preview(result, None, token)
            result.replaced_sample = db.exists() and result.start_fresh
            after = Path(workdir) / "after.duckdb"
            mutate = _load_change(todo, sample=False, actor=actor or history.SYSTEM_ACTOR,
                                  replaced_sample=result.replaced_sample)
            try:
                with history.swedish_faults():
                    result.change = history.build(after, None if result.start_fresh else db, mutate,
                                                  floor=history.floor_id(db), snapshot=None,
                                                  no_database=not db.exists(), derive=False,
                                                  previous=db if db.exists() else None)
            except DatabaseError as exc:
                result.problems.append(Problem(ERROR, db.name, None, None, None, None,
                                               f"förhandsvisningen kunde inte byggas: {exc.message}"))
                return Preview(result, None, token)
            return Preview(result, after, token)
    except DatabaseError as exc:
        return Preview(LoadResult([], [Problem(ERROR, given.name, None, None, None, None, exc.message)]), None, "")


# Free-text fields whose case variants are one thing ("Vårdcentralen Norr", "vårdcentralen norr"): the spelling
# already in the database wins, then the first one seen. Fields in one pool share their spellings.
SPELLING_POOLS = {
    "referrer": [("enrollments", "referrer_unit")],
    "association": [("enrollments", "association"), ("anonymous_counts", "association"),
                    ("structural_counts", "association"), ("economy_lines", "association")],
    "income_at_start": [("enrollments", "income_at_start"), ("enrollments", "income_at_exit")],
    "education": [("enrollments", "education")],
    "category": [("budget_lines", "category")],
    "funder": [("budget_lines", "funder")],
    "owner": [("initiatives", "owner")],
    "target_group": [("initiatives", "target_group")],
    "party": [("economy_lines", "party")],
}
POOL_OF = {"income_at_exit": "income_at_start"}


def _one_spelling(con: duckdb.DuckDBPyConnection, files: list[FileResult]) -> None:
    """Case and Unicode variants of one name become one spelling, before anything is written."""
    initiatives: dict[str, str] = {}
    for (n,) in con.execute(_ALL_INITIATIVES_SQL).fetchall():
        initiatives.setdefault(fold(n), clean_text(n))
    for (n,) in con.execute("SELECT DISTINCT initiative FROM structural_counts ORDER BY initiative").fetchall():
        initiatives.setdefault(fold(n), clean_text(n))
    # the register's spelling wins, then the first spelling seen
    for kind in ("initiatives", "participants", "anonymous", "budget", "structural"):
        for f in files:
            for t in f.tables:
                if t.kind == kind:
                    _respell(t, "initiative", initiatives)
    pools: dict[str, dict[str, str]] = {}
    for pool, places in SPELLING_POOLS.items():
        known = pools[pool] = {}
        for table, column in places:
            rows = con.execute(f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL "
                               f"GROUP BY {column} ORDER BY min(load_id), {column}").fetchall()
            for (n,) in rows:
                if n:
                    known.setdefault(fold(n), clean_text(n))
    for f in files:
        for t in f.tables:
            for fld in t.columns:
                known = pools.get(POOL_OF.get(fld, fld))
                if known is not None:
                    _respell(t, fld, known)


def _respell(t: ParsedTable, fld: str, known: dict[str, str]) -> None:
    """Each name of the column as `known` spells its fold; a new fold is spelled as its first row (in order)."""
    if fld not in t.frame.columns:
        return
    column = t.frame[fld]
    names, codes = list(column.cat.categories), column.cat.codes.to_numpy().astype(np.int64)
    spelled = list(names)
    for k in pd.unique(codes[codes >= 0]).tolist():  # the names in the order their rows come
        spelled[k] = known.setdefault(fold(names[k]), names[k])
    index: dict[str, int] = {}
    remap = np.array([index.setdefault(n, len(index)) for n in spelled] + [-1], np.int64)
    t.frame[fld] = categorical(remap[codes], list(index))


def _write(con: duckdb.DuckDBPyConnection, files: list[FileResult], *, sample: bool) -> None:
    _one_spelling(con, files)
    # fetchall, not fetchone: duckdb 2 refuses con.register() while a SELECT result is left unfinished
    next_id = history.next_id(con)  # one sequence with undos and mapping changes (etl.history)
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
                                           "target_participants", "target_women_share", "target_positive_share",
                                           "direction", "target_group", "esf")}
                    for r in t.records], first_new_id)
            elif t.kind == "structural":
                _replace(con, f, "structural_counts", ["association", "initiative", "year"], [
                    {"association": r.get("association") or "", "initiative": r["initiative"], "year": r["year"],
                     "participants": r["participant_count"]}
                    for r in t.records], first_new_id)
            elif t.kind == "economy":
                _replace(con, f, "economy_lines", ["association", "year"], [
                    {"association": r.get("association") or "", "year": r["year"], "item": r["category"],
                     "party": r.get("party"), "party_group": r.get("party_group"), "budget": r.get("budget"),
                     "actual": r.get("actual")}
                    for r in t.records if not r.get("_skip")], first_new_id)
    for f in files:
        con.execute(
            "INSERT INTO load_history VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [f.load_id, safe_text(f.path.name, 255), f.checksum, now, ",".join(f.kinds), f.rows_read, f.rows_loaded,
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


ENROLLMENT_TYPES = {"start_date": pa.date32(), "end_date": pa.date32(), "exit_reason": pa.int32(),
                    "birth_year": pa.int32(), "age_at_start": pa.int32(), "consent": pa.bool_(), "load_id": pa.int32()}


def _write_participants(con, files: list[FileResult]) -> None:
    """Exports are snapshots: the initiatives a call's files cover are replaced as a whole.

    Column-wise: the rows go to DuckDB as one Arrow table (text as dictionary arrays, each name
    once), and the covered initiatives are counted and deleted in one statement each.
    """
    parts: list[pa.Table] = []
    covered: dict[tuple[str, str], int] = {}  # (association, initiative) -> the file (its index) that covers it
    # etl.validate has made sure that no enrollment comes twice and that one file alone covers an initiative
    for n, f in enumerate(files):
        for t in (t for t in f.tables if t.kind == "participants"):
            association, initiative = t.get("association"), t.get("initiative")
            if association.isna().any():  # no Förbund column (or an empty cell): one unnamed association, ""
                if "" not in association.cat.categories:
                    association = association.cat.add_categories([""])
                association = association.fillna("")
            columns = {"association": association, "referrer_unit": t.get("referrer"),
                       "load_id": pa.array(np.full(t.size, f.load_id, np.int32))}
            columns |= {c: t.get(c) for c in ENROLLMENT_COLUMNS if c not in columns}
            a_names, i_names = association.cat.categories, initiative.cat.categories
            pairs = association.cat.codes.to_numpy().astype(np.int64) * len(i_names) + initiative.cat.codes.to_numpy()
            for pair in np.unique(pairs).tolist():
                covered.setdefault((a_names[pair // len(i_names)], i_names[pair % len(i_names)]), n)
            parts.append(pa.table({c: _arrow(columns[c], ENROLLMENT_TYPES.get(c)) for c in ENROLLMENT_COLUMNS}))
            f.rows_loaded += t.size
    if covered:
        con.register("covered", pd.DataFrame({
            "association": pd.Series([a for a, _ in covered], dtype=object),
            "initiative": pd.Series([i for _, i in covered], dtype=object),
            "file": np.fromiter(covered.values(), np.int64, len(covered))}))
        replaced = con.execute("SELECT c.file, count(*) FROM enrollments e JOIN covered c "
                               "ON e.association = c.association AND e.initiative = c.initiative "
                               "GROUP BY c.file").fetchall()
        for n, count in replaced:
            files[n].rows_replaced += count
        if replaced:
            con.execute("DELETE FROM enrollments e WHERE EXISTS (SELECT 1 FROM covered c "
                        "WHERE e.association = c.association AND e.initiative = c.initiative)")
        con.unregister("covered")
    if parts:
        con.register("new_rows", pa.concat_tables(parts))
        con.execute(f"INSERT INTO enrollments SELECT {', '.join(ENROLLMENT_COLUMNS)} FROM new_rows")
        con.unregister("new_rows")


def _arrow(values, type_: pa.DataType | None) -> pa.Array:
    """A frame column as an Arrow array of the stored type (text: a dictionary array); missing values null."""
    if isinstance(values, pa.Array):
        return values
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy().astype(np.int32)
        return pa.DictionaryArray.from_arrays(pa.array(codes, mask=codes < 0),
                                              pa.array(list(values.cat.categories), pa.string()))
    if type_ == pa.date32():
        return pa.array(values.to_numpy().astype("datetime64[D]"), type=type_, from_pandas=True)
    return pa.array(values.array, type=type_, from_pandas=True)


def _replace(con, f: FileResult, table: str, key: list[str], rows: list[dict], first_new_id: int) -> None:
    if not rows:
        return
    df = pd.DataFrame(rows)
    df["load_id"] = f.load_id
    for c in df.columns[df.dtypes == object]:  # noqa: E721 - pandas compares each column's dtype, elementwise
        if any(isinstance(v, Decimal) for v in df[c]):
            # as text, cast by the INSERT to the table's DECIMAL(18, 2): DuckDB would type a column of Decimal
            # objects from its first rows (DECIMAL(6, 2) for 1 500,00) and refuse a larger amount further down
            df[c] = [None if v is None or (isinstance(v, float) and v != v) else str(v) for v in df[c]]
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
