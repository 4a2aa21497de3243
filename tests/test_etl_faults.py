"""Issue 8, cases 17–19: a broken database, a full or read-only disk, killed loads, odd command lines.

The CLI and the app answer in Swedish, never with a traceback, the app without a server path,
and the database stays byte for byte as it was.
"""
from __future__ import annotations

import errno
import fcntl
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from core.database import DatabaseError, check_database
from etl import history as write_path  # the copy-and-swap every change goes through
from etl.load import ensure_database, load_files
from tests.conftest import ROOT, run_cli, write_csv

ANON = ["Insats", "År", "Kvinnor", "Män"]


def anon(path: Path, initiative="Alfa", year="2021") -> Path:
    return write_csv(path, [ANON, [initiative, year, "1", "2"]])


def cli(*args, env_db: Path | None = None, **kwargs) -> subprocess.CompletedProcess:
    """The command in this process (tests/conftest.py run_cli); with `kwargs` (a preexec_fn: a limit on the
    process) in a real one."""
    if not kwargs:
        return run_cli(*args, env_db=env_db)
    env = {k: v for k, v in os.environ.items() if k != "FINSAM_DB"}
    if env_db is not None:
        env["FINSAM_DB"] = str(env_db)
    return subprocess.run([sys.executable, "-m", "etl", *map(str, args)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300, **kwargs)


@pytest.fixture(scope="module")
def good_db(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("good")
    assert load_files([anon(directory / "a.csv")], directory / "f.duckdb").ok
    return directory / "f.duckdb"


def copy_of(good_db: Path, tmp_path: Path) -> Path:
    db = tmp_path / "db" / "f.duckdb"
    db.parent.mkdir()
    shutil.copyfile(good_db, db)
    return db


def assert_untouched(db: Path, before: bytes) -> None:
    assert db.read_bytes() == before
    assert not list(db.parent.glob("f.duckdb.tmp-*"))


# ---------------------------------------------------------------- 17: database faults


def _truncated(good_db, tmp_path):
    db = copy_of(good_db, tmp_path)
    db.write_bytes(db.read_bytes()[: db.stat().st_size // 2])
    return db


def _garbage(good_db, tmp_path):
    db = copy_of(good_db, tmp_path)
    data = bytearray(db.read_bytes())
    data[:64] = b"\x00" * 64  # the header gone
    db.write_bytes(bytes(data))
    return db


def _other_program(good_db, tmp_path):
    db = tmp_path / "db" / "f.duckdb"
    db.parent.mkdir()
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE orders (id INTEGER, amount DOUBLE)")
    return db


def _sqlite(good_db, tmp_path):
    db = tmp_path / "db" / "f.duckdb"
    db.parent.mkdir()
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE t (x)")
    return db


def _empty(good_db, tmp_path):
    db = tmp_path / "db" / "f.duckdb"
    db.parent.mkdir()
    db.write_bytes(b"")
    return db


def _directory(good_db, tmp_path):
    db = tmp_path / "db" / "f.duckdb"
    db.mkdir(parents=True)
    return db


FAULTS = {
    "truncated": (_truncated, "databasfilen är skadad eller avkortad, eller skriven av en DuckDB-version som inte kan "
                              "läsas här; läs in exporterna på nytt till en ny databasfil"),
    "garbage": (_garbage, "filen är ingen DuckDB-databas: den är skadad, avkortad eller en helt annan sorts fil"),
    "other program": (_other_program, "filen är en DuckDB-databas men inte Insatskollens (tabellerna load_history, "
                                      "enrollments, anonymous_counts, budget_lines, initiatives, exit_reasons, meta "
                                      "saknas); ange rätt databasfil"),
    "sqlite": (_sqlite, "databasfilen är en SQLite-databas, inte en DuckDB-databas från Insatskollen"),
    "empty": (_empty, "databasfilen är tom (0 byte); ta bort den, så byggs en ny vid nästa inläsning"),
    "directory": (_directory, "databasens sökväg pekar på en mapp, inte på en databasfil; ange en fil, till exempel "
                              "finsam.duckdb i den mappen"),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_case_17_a_broken_database_is_refused_in_swedish(good_db, tmp_path, fault):
    make, message = FAULTS[fault]
    db = make(good_db, tmp_path)
    with pytest.raises(DatabaseError) as exc:
        check_database(db)
    assert exc.value.message == message
    before = None if db.is_dir() else db.read_bytes()
    result = load_files([anon(tmp_path / "b.csv", "Beta")], db)
    assert not result.ok and not result.changed
    assert [(p.file, p.message) for p in result.problems] == [(str(db), message)]
    if before is not None:
        assert_untouched(db, before)
    done = cli("load", "--db", db, tmp_path / "b.csv")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.splitlines()[0] == f"FEL: {db}, –, –, –, –: {message}"


@pytest.mark.parametrize("fault", ["sqlite", "directory"])
def test_case_17_every_command_answers_in_swedish(good_db, tmp_path, fault):
    make, message = FAULTS[fault]
    db = make(good_db, tmp_path)
    export = anon(tmp_path / "b.csv", "Beta")
    for args in (["check", "--db", db, export], ["report", "--db", db, "--year", "2021"], ["history", "--db", db]):
        done = cli(*args)
        assert done.returncode == 1, (args, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr and message in done.stderr, (args, done.stderr)
    done = cli("load", export, env_db=db)  # the same through $FINSAM_DB
    assert done.returncode == 1 and message in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("fault", ["sqlite", "directory", "truncated"])
def test_case_17_the_app_answers_in_swedish_without_a_path(good_db, tmp_path, monkeypatch, fault):
    make, message = FAULTS[fault]
    db = make(good_db, tmp_path)
    monkeypatch.setenv("FINSAM_DB", str(db))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.run()
    assert not at.exception
    [error] = at.error
    assert error.value == (f"Databasen kan inte användas: {message}. Be den som sköter Insatskollen att läsa in "
                           "exporterna på nytt eller återställa databasen.")
    assert str(tmp_path) not in error.value and "/" not in error.value.replace("och/eller", "")


def test_case_17_no_extension_is_fetched_for_a_sqlite_file(tmp_path):
    """Opened through core.database, DuckDB must not try to download its sqlite extension."""
    from core.database import attach_read, connect_read

    db = _sqlite(None, tmp_path)
    for opener in (connect_read, attach_read):
        with pytest.raises(duckdb.Error) as exc:
            opener(db)
        assert "INSTALL" in str(exc.value) or "not found" in str(exc.value)  # refused locally, nothing downloaded


def _fail_with(code: int):
    def fail(*args, **kwargs):
        raise OSError(code, os.strerror(code))
    return fail


@pytest.mark.parametrize("where, code, words", [
    ("tempfile.mkdtemp", errno.EROFS, "disken är skrivskyddad"),
    ("shutil.copyfile", errno.ENOSPC, "disken är full"),
    ("os.replace", errno.EACCES, "behörighet saknas"),
    ("os.fsync", errno.EIO, "läs- eller skrivfel på disken"),
])
def test_case_17_a_read_only_or_full_disk_changes_nothing(good_db, tmp_path, monkeypatch, where, code, words):
    db = copy_of(good_db, tmp_path)
    before = db.read_bytes()
    module, name = where.split(".")
    monkeypatch.setattr(getattr(write_path, module), name, _fail_with(code))
    result = load_files([anon(tmp_path / "b.csv", "Beta")], db)
    assert not result.ok and not result.changed
    assert [p.message for p in result.problems] == [f"inläsningen avbröts och ingenting ändrades: {words}"]
    monkeypatch.undo()
    assert_untouched(db, before)


def test_case_17_a_read_only_folder_for_a_new_database(tmp_path, monkeypatch):
    monkeypatch.setattr("builtins.open", _fail_with(errno.EROFS))
    result = load_files([anon(tmp_path / "b.csv")], tmp_path / "ny" / "f.duckdb")
    monkeypatch.undo()
    assert [p.message for p in result.problems] == ["databasens mapp kan inte skrivas: disken är skrivskyddad"]
    with pytest.raises(DatabaseError):
        monkeypatch.setattr("builtins.open", _fail_with(errno.EACCES))
        ensure_database(tmp_path / "annan" / "f.duckdb")


def test_case_17_the_disk_filling_up_during_the_copy(good_db, tmp_path):
    """A real write failure: the loader may write files of at most 1 MB, and the copy needs about 2 MB."""
    db = copy_of(good_db, tmp_path)
    before = db.read_bytes()
    assert len(before) > 1 << 20

    def limit():
        import resource
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))

    done = cli("load", "--db", db, anon(tmp_path / "b.csv", "Beta"), preexec_fn=limit)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert ("FEL: f.duckdb, –, –, –, –: inläsningen avbröts och ingenting ändrades: filen blev större än systemet "
            "tillåter") in done.stderr
    assert_untouched(db, before)


# ---------------------------------------------------------------- 18: killed loads, mode, owner, symlinks


def test_case_18_copies_left_by_a_killed_load_are_removed(good_db, tmp_path):
    db = copy_of(good_db, tmp_path)
    stale = [db.parent / "f.duckdb.tmp-abc123", db.parent / "f.duckdb.tmp-abc123.wal", db.parent / "f.duckdb.tmp-x"]
    for p in stale:
        p.write_bytes(b"\x00" * 1000)
    other = db.parent / "g.duckdb.tmp-abc"  # another database's copy is not ours to remove
    other.write_bytes(b"x")
    assert load_files([anon(tmp_path / "b.csv", "Beta")], db).ok
    assert not any(p.exists() for p in stale)
    assert other.exists()


def test_case_18_a_refused_load_removes_stale_copies_too(good_db, tmp_path):
    db = copy_of(good_db, tmp_path)
    stale = db.parent / "f.duckdb.tmp-old"
    stale.write_bytes(b"x")
    bad = write_csv(tmp_path / "bad.csv", [ANON, ["Beta", "tjugo", "1", "1"]])
    assert not load_files([bad], db).ok
    assert not stale.exists()


def test_case_18_the_copy_of_a_running_load_is_left_alone(good_db, tmp_path):
    """While another loader holds the lock its copy is in use: a second load waits, then cleans up."""
    db = copy_of(good_db, tmp_path)
    running = db.parent / "f.duckdb.tmp-running"
    running.write_bytes(b"x")
    holder = open(str(db) + ".lock", "a")
    fcntl.flock(holder, fcntl.LOCK_EX)
    results = []
    worker = threading.Thread(target=lambda: results.append(load_files([anon(tmp_path / "b.csv", "Beta")], db)))
    worker.start()
    time.sleep(1.0)
    assert worker.is_alive() and running.exists()  # waiting for the lock, the copy untouched
    fcntl.flock(holder, fcntl.LOCK_UN)
    holder.close()
    worker.join(timeout=60)
    assert results and results[0].ok
    assert not running.exists()  # the other load is over: now the copy is stale


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o664])
def test_case_18_a_load_keeps_the_mode(good_db, tmp_path, mode):
    db = copy_of(good_db, tmp_path)
    os.chmod(db, mode)
    assert load_files([anon(tmp_path / "b.csv", "Beta")], db).ok
    assert db.stat().st_mode & 0o777 == mode


def test_case_18_a_new_database_its_lock_and_its_snapshots_are_private_under_umask_022(tmp_path):
    """Issue 22 §10: participants' data is the owner's only (0600, the snapshot folder 0700), as the accounts and
    the audit log are, even when the umask would let every local user read new files."""
    db = tmp_path / "ny.duckdb"
    old = os.umask(0o022)
    try:
        assert load_files([anon(tmp_path / "b.csv")], db).ok
        assert load_files([anon(tmp_path / "c.csv", "Beta")], db).ok  # replaces the first: a snapshot of it is kept
    finally:
        os.umask(old)
    snapshots = list((tmp_path / "snapshots").iterdir())
    assert snapshots
    modes = {p.name: p.stat().st_mode & 0o777 for p in [db, Path(str(db) + ".lock"), *snapshots]}
    assert set(modes.values()) == {0o600}, modes
    assert (tmp_path / "snapshots").stat().st_mode & 0o777 == 0o700
    assert not list(tmp_path.glob("ny.duckdb.tmp-*"))  # the private build folder is gone


def test_case_18_a_change_is_built_where_no_other_user_can_read_it(good_db, tmp_path, monkeypatch):
    """The copy being written (DuckDB creates it with the umask's mode) sits in a folder only the owner can enter."""
    db = copy_of(good_db, tmp_path)
    seen = []
    real_build = write_path.build

    def spy(target, *args, **kwargs):
        seen.append(target.parent.stat().st_mode & 0o777)
        return real_build(target, *args, **kwargs)

    monkeypatch.setattr(write_path, "build", spy)
    old = os.umask(0o022)
    try:
        assert load_files([anon(tmp_path / "b.csv", "Beta")], db).ok
    finally:
        os.umask(old)
    assert seen == [0o700]


def test_case_18_a_stale_build_folder_is_removed_by_the_next_load(good_db, tmp_path):
    db = copy_of(good_db, tmp_path)
    stale = db.parent / "f.duckdb.tmp-killed"
    stale.mkdir()
    (stale / "f.duckdb").write_bytes(b"half")
    assert load_files([anon(tmp_path / "b.csv", "Beta")], db).ok
    assert not stale.exists()


def test_case_18_a_load_keeps_the_owner(good_db, tmp_path):
    db = copy_of(good_db, tmp_path)
    owner = (4321, 4321) if os.geteuid() == 0 else (os.getuid(), os.getgid())
    os.chown(db, *owner)
    assert load_files([anon(tmp_path / "b.csv", "Beta")], db).ok
    assert (db.stat().st_uid, db.stat().st_gid) == owner


def test_case_18_a_symlinked_database_stays_a_symlink(good_db, tmp_path):
    real = copy_of(good_db, tmp_path)
    links = tmp_path / "links"
    links.mkdir()
    link = links / "finsam.duckdb"
    link.symlink_to(real)
    assert load_files([anon(tmp_path / "b.csv", "Beta")], link).ok
    assert link.is_symlink() and link.resolve() == real.resolve()
    with duckdb.connect(str(real), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM anonymous_counts").fetchone()[0] == 2
    assert sorted(p.name for p in links.iterdir()) == ["finsam.duckdb"]  # no copy or lock beside the link
    done = cli("report", "--year", "2021", env_db=link)
    assert done.returncode == 0, done.stderr


# ---------------------------------------------------------------- 19: the command line


@pytest.mark.parametrize("year, words", [("0", "0 är inget rimligt år; ange ett år mellan 1990 och 2100"),
                                         ("99999", "99999 är inget rimligt år; ange ett år mellan 1990 och 2100"),
                                         ("tjugo", "'tjugo' är inget årtal")])
def test_case_19_an_unreasonable_year(good_db, year, words):
    done = cli("report", "--db", good_db, "--year", year)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1] == f"python -m etl report: fel: argument --year: {words}"


@pytest.mark.parametrize("args", [["report", "--year", "2021"], ["history"]])
def test_case_19_a_reader_that_goes_away(good_db, args):
    """`python -m etl report … | head`: the pipe closes before the report is written."""
    env = {k: v for k, v in os.environ.items() if k != "FINSAM_DB"}
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first byte
    proc = subprocess.run([sys.executable, "-m", "etl", *args, "--db", str(good_db)], cwd=ROOT, env=env,
                          stdout=write, stderr=subprocess.PIPE, text=True, timeout=120)
    os.close(write)
    assert proc.returncode == 141
    assert proc.stderr == ""


def test_case_19_report_to_a_folder_that_cannot_be_written(good_db, tmp_path):
    done = cli("report", "--db", good_db, "--year", "2021", "--format", "xlsx", "--out", tmp_path / "finns" / "inte.xlsx")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "rapporten kunde inte sparas: mappen eller filen finns inte" in done.stderr
