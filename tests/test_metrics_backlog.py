"""The years a load left undecided (metrics.backlog, `python -m etl decide`): decided after it beside the database,
read by a reader exactly as the loader's own, never read for other data, one process at a time, and a reader of a
year not decided yet is told so instead of deciding it (issue 21: minutes of a server's CPU on one visit)."""
from __future__ import annotations

import fcntl
import gzip
import hashlib
import os
import shutil
import stat
import time

import pytest
from streamlit.testing.v1 import AppTest

import metrics.suppress as S
from core.database import connect_read, connect_write
from etl.load import load_files
from metrics import backlog, beside, decisions
from tests.conftest import ROOT, open_tables, run_cli, write_small_association


def _same(a: S.Protection, b: S.Protection) -> bool:
    return (a.status == b.status and a.published == b.published and a.withdrawn == b.withdrawn
            and a.withdrawn_cells == b.withdrawn_cells and a.shorter == b.shorter and a.values == b.values)


@pytest.fixture(autouse=True)
def _nothing_remembered():
    S._DECIDED.clear()
    S._GIVEN.clear()
    yield
    S._DECIDED.clear()
    S._GIVEN.clear()


@pytest.fixture()
def undecided(small_db, tmp_path):
    """A copy of the small association, loaded with nothing decided ahead (the tests' FINSAM_PROTECT_SECONDS=0)."""
    db = tmp_path / "f.duckdb"
    shutil.copyfile(small_db, db)
    return db


def _no_solving(monkeypatch):
    def no_solving(self, threshold):
        raise AssertionError("solved")
    monkeypatch.setattr(S._Grid, "decide", no_solving)


def test_the_years_left_are_decided_beside_the_database_and_read_as_the_loaders_own(undecided, monkeypatch):
    with connect_read(undecided) as con:
        years = S.catalog.years(con)
        own = {y: S.protect_year(con, y) for y in years}  # what each reader would decide for itself
        assert backlog.progress(con) == backlog.Progress(0, len(years))
    S._DECIDED.clear()
    S._GIVEN.clear()
    told = []
    result = backlog.decide(undecided, say=lambda *a: told.append(a))
    assert result == backlog.Progress(len(years), len(years))
    assert [t[0] for t in told] == sorted(years)  # in order, each kept as it was decided
    assert [t[2] for t in told] == list(range(1, len(years) + 1))
    folder = beside.folder_for(undecided)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700  # counts, hidden ones too: the owner's only
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in folder.iterdir())
    S._DECIDED.clear()
    S._GIVEN.clear()
    _no_solving(monkeypatch)
    with connect_read(undecided) as con:
        for y in years:
            assert _same(S.protect_year(con, y), own[y]), y
        assert backlog.progress(con) == backlog.Progress(len(years), len(years))
        assert backlog.waiting(con, years[-1], (), S.DEFAULT_THRESHOLD) is None
    assert backlog.decide(undecided) == backlog.Progress(len(years), len(years))  # nothing left: nothing decided


def test_a_file_beside_of_other_data_renamed_or_broken_is_not_read(undecided, tmp_path, monkeypatch):
    backlog.decide(undecided)
    folder = beside.folder_for(undecided)
    with connect_read(undecided) as con:
        years = S.catalog.years(con)
        data = decisions.data_digest(con)
    # the same files beside another database of other data (one exit fewer): none is read for it
    other = tmp_path / "other.duckdb"
    shutil.copyfile(undecided, other)
    with connect_write(other) as con:
        con.execute("DELETE FROM enrollments WHERE rowid = (SELECT min(rowid) FROM enrollments)")
    shutil.copytree(folder, beside.folder_for(other))
    with connect_read(other) as con:
        planned = [(y, (), S.DEFAULT_THRESHOLD) for y in years]
        assert beside.stored_here(con, decisions.data_digest(con), planned) == set()
        assert decisions.stored_digest(con, years[-1], (), S.DEFAULT_THRESHOLD, decisions.data_digest(con)) is None
    # a year's file given another year's name, and a file that is not a decision: not read, never a traceback
    first, last = (folder / (beside._stem(y, (), S.DEFAULT_THRESHOLD, data) + ".decision.json.gz")
                   for y in (years[0], years[-1]))
    os.replace(first, last)
    with connect_read(undecided) as con:
        assert decisions.stored_digest(con, years[-1], (), S.DEFAULT_THRESHOLD, data) is None
    last.write_bytes(gzip.compress(b'{"engine": "x"'))
    junk = folder / (beside._stem(years[1], (), S.DEFAULT_THRESHOLD, data) + ".grid.json.gz")
    junk.write_bytes(b"junk")
    with connect_read(undecided) as con:
        assert decisions.stored_digest(con, years[-1], (), S.DEFAULT_THRESHOLD, data) is None
        assert decisions.stored_cells(con, years[1], (), S.DEFAULT_THRESHOLD, data) is None
        S.protect_year(con, years[-1])  # decided by the reader, as with nothing stored
        S.protect_year(con, years[1])
    # the next run decides again what is not whole (a year's cells missing too) and keeps the rest
    junk.unlink()
    assert backlog.decide(undecided) == backlog.Progress(len(years), len(years))
    S._DECIDED.clear()
    S._GIVEN.clear()
    _no_solving(monkeypatch)
    with connect_read(undecided) as con:
        S.protect_year(con, years[-1])
        S.protect_year(con, years[1])


def test_one_process_at_a_time(undecided, monkeypatch):
    folder = beside.folder_for(undecided)
    folder.mkdir(mode=0o700)
    with open(folder / backlog.LOCK, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        assert backlog.running(undecided)
        assert backlog.decide(undecided) is None
        assert backlog.start(undecided) is False
        out = run_cli("decide", "--db", str(undecided))
        assert out.returncode == 0
        assert "beräknas redan av en annan process" in out.stdout
    assert not backlog.running(undecided)


def test_the_command_decides_says_how_far_and_refuses_bad_arguments(undecided, tmp_path):
    out = run_cli("decide", "--db", str(undecided))
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-1] == "Skyddet för små tal är beslutat för 4 av 4 år."
    assert "2019: beslutat (1 av 4)" in out.stdout
    out = run_cli("decide", "--db", str(tmp_path / "saknas.duckdb"))
    assert out.returncode == 1 and "databasen finns inte" in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "saknas.duckdb").exists()
    for bad in ("abc", "0", "-5", "inf", "nan"):
        out = run_cli("decide", "--db", str(undecided), "--seconds", bad)
        assert out.returncode == 2 and "är inget antal sekunder" in out.stderr, bad


def test_a_fault_deciding_is_kept_and_readers_decide_for_themselves(undecided, monkeypatch):
    def broken(*args):
        raise RuntimeError("engine fault")
    with monkeypatch.context() as m:
        m.setattr(backlog, "decide_chains", broken)
        with pytest.raises(RuntimeError):
            backlog.decide(undecided)
    monkeypatch.setenv("FINSAM_DECIDE_BACKGROUND", "1")
    started = []
    monkeypatch.setattr(backlog, "start", started.append)
    with connect_read(undecided) as con:
        assert backlog.progress(con).failed
        assert backlog.waiting(con, 2022, (), S.DEFAULT_THRESHOLD) is None  # decided by the reader
    assert started == []


def test_a_reader_of_a_year_not_decided_is_told_and_sees_it_once_decided(undecided, monkeypatch):
    """The page says in Swedish how far the background has come and shows no figure; it never decides the year
    (or the years before it) in the reader's visit. Once the year is kept, the same page shows its figures."""
    monkeypatch.setenv("FINSAM_DECIDE_BACKGROUND", "1")
    monkeypatch.setenv("FINSAM_DB", str(undecided))
    started = []
    monkeypatch.setattr(backlog, "start", lambda db: started.append(db) or True)
    monkeypatch.setattr(backlog, "running", lambda db: bool(started))
    with monkeypatch.context() as m:
        _no_solving(m)
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
        at.query_params["year"] = "2022"
        at.query_params["suppress"] = "1"
        at.run()
        assert not at.exception, at.exception
        notice = " ".join(i.value for i in at.info)
        assert "Skyddet för små tal i 2022 räknas fram i bakgrunden" in notice
        assert "0 av 4 år är klara" in notice
        assert not at.metric  # no figure before the year is decided
        assert started == [undecided]
    backlog.decide(undecided)
    at = open_tables(AppTest.from_file(str(ROOT / "app.py"), default_timeout=90))
    at.query_params["year"] = "2022"
    at.query_params["suppress"] = "1"
    _no_solving(monkeypatch)  # read beside the database, not decided by the page
    at.run()
    assert not at.exception, at.exception
    assert not [i for i in at.info if "bakgrunden" in i.value]
    assert at.metric and all(m.value for m in at.metric)


def test_a_load_leaves_the_rest_to_a_process_that_decides_it(tmp_path, monkeypatch):
    """The load decides nothing ahead here (FINSAM_PROTECT_SECONDS=0) and starts the process; it decides every
    year in the background, and ends."""
    monkeypatch.setenv("FINSAM_DECIDE_BACKGROUND", "1")
    db = tmp_path / "f.duckdb"
    result = load_files(write_small_association(tmp_path / "files"), db)
    assert result.ok, result.problems
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with connect_read(db) as con:
            progress = backlog.progress(con)
        if progress.done == progress.total and not backlog.running(db):
            break
        time.sleep(0.2)  # polling a process that runs on its own
    assert progress == backlog.Progress(4, 4)
    log = (beside.folder_for(db) / backlog.LOG).read_text()
    assert "4 of 4 association-years stored" in log and "Traceback" not in log


def test_a_load_keeps_what_was_decided_beside_the_file_it_replaces(tmp_path, monkeypatch):
    """A new export that changes one 2021 exit decides 2021 and the years after it, nothing before: the load keeps
    the decisions the background made for the file it replaces (of the same cells), stores them in its own
    table, and clears the folder once nothing is left there to read."""
    from tests.conftest import write_small_association_one_2021_exit_undone

    db = tmp_path / "f.duckdb"
    assert load_files(write_small_association(tmp_path / "files"), db).ok
    assert backlog.decide(db) == backlog.Progress(4, 4)
    files = write_small_association_one_2021_exit_undone(tmp_path / "files2")
    monkeypatch.setenv("FINSAM_PROTECT_SECONDS", "60")
    monkeypatch.setenv("FINSAM_DECIDE_BACKGROUND", "1")
    started = []
    monkeypatch.setattr(backlog, "start", started.append)
    solved = []
    plain = S._Grid.decide
    monkeypatch.setattr(S._Grid, "decide", lambda self, t: solved.append(self.year) or plain(self, t))
    result = load_files([files[1]], db)
    assert result.ok and result.changed, result.problems
    assert solved == [2021, 2022]
    with connect_read(db) as con:
        assert con.execute("SELECT count(*) FROM protection_decisions WHERE engine = ?",
                           [decisions.ENGINE]).fetchone()[0] == 4
        assert backlog.progress(con) == backlog.Progress(4, 4)
    assert started == [db]  # the process is started after every change, and finds nothing left to decide
    assert backlog.decide(db) == backlog.Progress(4, 4)
    assert solved == [2021, 2022]
    assert not list(beside.folder_for(db).glob("*.json.gz"))  # the folder's were of the old data: cleared


def test_the_association_a_reader_waits_for_is_decided_first(tmp_path, monkeypatch):
    """Four associations: a reader waiting for the third gets its years before any other association's (at national
    scale one association's chain takes minutes, all of them hours)."""
    from metrics import ahead
    from tests.test_associations_filter import rows as four_rows, write_db

    db = write_db(tmp_path / "four.duckdb", four_rows())
    with connect_read(db) as con:
        years, wholes = ahead.ahead_plan(con)
    assert len(wholes) == 4
    backlog.want(db, wholes[2])
    monkeypatch.setattr(ahead, "_workers", lambda n: 1)  # one process: the order is the order decided
    told = []
    assert backlog.decide(db, say=lambda year, whole, done, total: told.append((year, whole))) == \
        backlog.Progress(len(years) * 4, len(years) * 4, several=True)
    assert told[:len(years)] == [(y, wholes[2]) for y in years]
    assert told[len(years):len(years) + 3] == [(years[0], w) for w in (wholes[0], wholes[1], wholes[3])]


def test_a_load_meanwhile_makes_it_begin_again_on_the_new_data(undecided, tmp_path):
    """The file is replaced after the first year is decided (a load, as the loader swaps it in): the process stops
    there and decides the new data's years, instead of going on for hours with data no reader reads."""
    swapped = []

    def swap(year, whole, done, total):
        if swapped:
            return
        copy = tmp_path / "new.duckdb"
        shutil.copyfile(undecided, copy)
        with connect_write(copy) as con:
            con.execute("DELETE FROM enrollments WHERE rowid = (SELECT max(rowid) FROM enrollments)")
        os.replace(copy, undecided)
        swapped.append(year)

    assert backlog.decide(undecided, say=swap) == backlog.Progress(4, 4)
    assert swapped == [2019]
    with connect_read(undecided) as con:
        data = decisions.data_digest(con)
        assert backlog.progress(con) == backlog.Progress(4, 4)
    names = [p.name for p in beside.folder_for(undecided).glob("*.decision.json.gz")]
    assert len(names) == 4 and all(f"-{data[:24]}-" in n for n in names)  # the old data's first year: cleared


def _kinds(db, year):
    with connect_read(db) as con:
        p = S.protect_year(con, year)
    return p.status, p.published


def test_a_years_cells_copied_from_another_year_or_of_the_wrong_shape_are_never_read(undecided, tmp_path):
    """Found by a reviewer: cells were trusted by their file name, so 2021's cells under 2022's name turned six
    hidden counts of 2022 visible. A year's cells are read only where they are the text its decision names."""
    reference = tmp_path / "ref.duckdb"
    shutil.copyfile(undecided, reference)
    backlog.decide(undecided)
    folder = beside.folder_for(undecided)
    with connect_read(undecided) as con:
        data = decisions.data_digest(con)
    name = {y: beside._stem(y, (), S.DEFAULT_THRESHOLD, data) + ".grid.json.gz" for y in (2019, 2020, 2021, 2022)}
    shutil.copyfile(folder / name[2021], folder / name[2022])
    (folder / name[2020]).write_bytes(gzip.compress(b'{"keys": 1}'))
    (folder / name[2019]).write_bytes(gzip.compress(b"null"))
    S._DECIDED.clear()
    S._GIVEN.clear()
    for year in (2019, 2020, 2022):  # not read: decided by the reader, as without the folder, never a traceback
        with connect_read(undecided) as con:
            assert decisions.stored_cells(con, year, (), S.DEFAULT_THRESHOLD, data) is None
        assert _kinds(undecided, year) == _kinds(reference, year), year
    with connect_read(undecided) as con:
        assert backlog.progress(con).done == 4  # by the names, for a page's progress line
    assert backlog.decide(undecided) == backlog.Progress(4, 4)  # read whole: the three are decided again
    with connect_read(undecided) as con:
        assert all(decisions.stored_cells(con, y, (), S.DEFAULT_THRESHOLD, data) for y in (2019, 2020, 2022))


def test_a_folder_of_others_a_link_or_a_pipe_is_not_trusted(undecided, tmp_path):
    """The folder holds what the database holds: one anybody else may write, or a link, is neither read nor
    written, and `etl decide` says so in Swedish; a pipe or a device in a file's place is not read (no hang)."""
    backlog.decide(undecided)
    folder = beside.folder_for(undecided)
    with connect_read(undecided) as con:
        data = decisions.data_digest(con)
        assert decisions.stored_digest(con, 2022, (), S.DEFAULT_THRESHOLD, data) is not None
    os.chmod(folder, 0o777)
    with connect_read(undecided) as con:
        assert beside.folder_of(con) is None
        assert decisions.stored_digest(con, 2022, (), S.DEFAULT_THRESHOLD, data) is None
    out = run_cli("decide", "--db", str(undecided))
    assert out.returncode == 1 and "mappen bredvid databasen kan inte användas" in out.stderr
    assert "andra än ägaren kommer åt mappen" in out.stderr and "Traceback" not in out.stderr
    with pytest.raises(beside.FolderProblem):
        backlog.decide(undecided)
    os.chmod(folder, 0o700)
    # a link in the folder's place, to a folder of other files: refused, and none of those files is deleted
    other = tmp_path / "precious"
    other.mkdir(mode=0o700)
    for n in ("backup.json.gz", "notes.json.gz.txt", f"{decisions.ENGINE}-abc.json.gz"):
        (other / n).write_text("keep")
    moved = tmp_path / "moved"
    os.replace(folder, moved)
    os.symlink(other, folder)
    out = run_cli("decide", "--db", str(undecided))
    assert out.returncode == 1 and "det är en länk" in out.stderr
    assert sorted(p.name for p in other.iterdir()) == sorted(["backup.json.gz", "notes.json.gz.txt",
                                                              f"{decisions.ENGINE}-abc.json.gz"])
    folder.unlink()
    os.replace(moved, folder)
    # a pipe where the year's decision was: not read, nothing waits on it
    stem = beside._stem(2022, (), S.DEFAULT_THRESHOLD, data)
    (folder / (stem + ".decision.json.gz")).unlink()
    os.mkfifo(folder / (stem + ".decision.json.gz"))
    with connect_read(undecided) as con:
        assert decisions.stored_digest(con, 2022, (), S.DEFAULT_THRESHOLD, data) is None
    # only the folder's own files are pruned: another data's years and stopped parts, nothing else
    (folder / "mine.txt").write_text("keep")
    (folder / f".{stem}.grid.json.gz.123.part").write_bytes(b"x")
    assert beside.prune(folder, "f" * 64) >= 1
    assert (folder / "mine.txt").exists() and not (folder / f".{stem}.grid.json.gz.123.part").exists()


def test_a_reader_of_one_association_among_several_sees_its_own_years(tmp_path, monkeypatch):
    """Among several associations the line counts the reader's own association's years (decided first), and its
    name from the file reaches the page as text."""
    from tests.test_associations_filter import rows as four_rows, write_db

    db = write_db(tmp_path / "four.duckdb", four_rows())
    with connect_read(db) as con:
        names = S.catalog.associations(con)
        years = S.catalog.years(con)
    monkeypatch.setenv("FINSAM_DECIDE_BACKGROUND", "1")
    monkeypatch.setenv("FINSAM_DB", str(db))
    monkeypatch.setattr(backlog, "start", lambda db: True)
    monkeypatch.setattr(backlog, "running", lambda db: True)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.query_params.update(year=str(years[-1]), suppress="1", association=names[1])
    at.run()
    assert not at.exception, at.exception
    notice = " ".join(i.value for i in at.info)
    assert f"0 av {len(years)} år för {names[1]} är klara" in notice, notice
    wanted = backlog.WANTED + hashlib.sha256(decisions.whole_key((names[1],)).encode()).hexdigest()[:16] + ".json"
    assert (beside.folder_for(db) / wanted).exists()  # its years are decided first
