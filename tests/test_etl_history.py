"""History, snapshots and undo (issue 11 §2; data contract §9): every load keeps the database from before it,
undo puts it back exactly and is itself recorded, and a failed change leaves neither a half database nor a
half snapshot. Also the preview of a load (§1): it writes nothing and shows exactly what the load then does."""
from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from commands.etl_cli import cli_actor
from core.database import connect_read, connect_write
from etl import history
from etl.load import CHANGED_SINCE_PREVIEW, load_files, preview_files
from metrics.changes import compare, figures
from tests.conftest import run_cli, write_csv, write_small_association, write_xlsx

D = dt.date
HEADER = ["Deltagar-ID", "Insats", "Kön", "Startdatum", "Slutdatum", "Avslutsorsak", "Remittent"]


def newer_alfa(path: Path) -> Path:
    """A newer export of Alfa: three enrollments where the database has seven (A1–A7)."""
    return write_xlsx(path, {"Deltagare": [HEADER,
                                           ["N-1", "Alfa", "Kvinna", D(2021, 2, 1), D(2021, 6, 30), 1, "FK"],
                                           ["N-2", "Alfa", "Man", D(2021, 3, 1), None, None, "Jobbtorg Väst"],
                                           ["N-3", "Alfa", "Kvinna", D(2021, 4, 1), None, None, None]]})


def delta_budget(path: Path) -> Path:
    return write_xlsx(path, {"Budget": [["Insats", "År", "Budget"], ["Alfa", 2022, 123456]]})


@pytest.fixture()
def db(tmp_path) -> Path:
    db = tmp_path / "data" / "f.duckdb"
    result = load_files(write_small_association(tmp_path / "files"), db, actor="test")
    assert result.ok, result.problems
    return db


def snapshots(db: Path) -> list[str]:
    d = db.parent / "snapshots"
    return sorted(p.name for p in d.iterdir()) if d.exists() else []


def report(db: Path, year: int = 2021) -> dict:
    done = run_cli("report", "--db", db, "--year", str(year), "--format", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def changes(db: Path) -> list[tuple]:
    with connect_read(db) as con:
        return con.execute("SELECT change_id, action, actor, first_load_id, last_load_id, snapshot, undoes "
                           "FROM changes ORDER BY change_id").fetchall()


# ---------------------------------------------------------------- snapshots


def test_every_load_keeps_the_database_from_before_it(db, tmp_path):
    assert snapshots(db) == []  # the first load made the database: there was nothing to keep
    before = db.read_bytes()
    result = load_files([newer_alfa(tmp_path / "newer.xlsx")], db, actor="anna")
    assert result.ok and result.changed
    assert snapshots(db) == ["f.before-000005.duckdb"]  # loads 1–4 were the first call; this is nr 5
    assert (db.parent / "snapshots" / "f.before-000005.duckdb").read_bytes() == before
    assert changes(db) == [(1, "load", "test", 1, 4, None, None), (5, "load", "anna", 5, 5, "f.before-000005.duckdb", None)]
    with connect_read(db) as con:  # what it replaced: Alfa's seven enrollments from load 2 (deltagare.xlsx)
        assert con.execute("SELECT replaced, replaced_sample FROM changes WHERE change_id = 5").fetchall() == [("2:7", False)]


def test_only_the_newest_snapshots_are_kept(db, tmp_path, monkeypatch):
    monkeypatch.setenv("FINSAM_SNAPSHOTS", "2")
    for year in (2022, 2023, 2024):
        f = write_xlsx(tmp_path / f"b{year}.xlsx", {"Budget": [["Insats", "År", "Budget"], ["Alfa", year, 1000]]})
        assert load_files([f], db).ok
    assert snapshots(db) == ["f.before-000006.duckdb", "f.before-000007.duckdb"]


def test_no_snapshots_when_none_are_to_be_kept(db, tmp_path, monkeypatch):
    monkeypatch.setenv("FINSAM_SNAPSHOTS", "0")
    assert load_files([delta_budget(tmp_path / "b.xlsx")], db).ok
    assert snapshots(db) == []
    result = history.undo(db, actor="anna")
    assert not result.ok
    assert result.message == ("Inläsning nr 5 (b.xlsx) kan inte ångras: läget före den sparades inte (inga "
                              "ögonblicksbilder sparas när FINSAM_SNAPSHOTS är 0).")


@pytest.mark.parametrize("where", ["os.replace", "os.fsync", "duckdb"])
def test_a_failed_load_leaves_no_snapshot_and_no_change(db, tmp_path, monkeypatch, where):
    before = db.read_bytes()
    if where == "duckdb":  # the write itself fails (a constraint): nothing reaches the swap
        real = history.derive_agencies

        def broken(con, mapping=None):
            real(con, mapping)
            con.execute("INSERT INTO enrollments (association, initiative, sex, start_date, agency, consent, load_id) "
                        "VALUES ('', 'X', 'nonsense', DATE '2021-01-01', 'Annan', TRUE, 1)")
        monkeypatch.setattr(history, "derive_agencies", broken)
    else:
        module, name = where.split(".")

        def fail(*args, **kwargs):
            raise OSError(errno.ENOSPC, "full")
        monkeypatch.setattr(getattr(history, module), name, fail)
    result = load_files([newer_alfa(tmp_path / "n.xlsx")], db)
    monkeypatch.undo()
    assert not result.ok and not result.changed
    assert db.read_bytes() == before
    assert snapshots(db) == []  # not even a hidden half snapshot
    assert not list(db.parent.glob("f.duckdb.tmp-*"))


def test_a_snapshot_that_cannot_be_made_stops_the_load(db, tmp_path, monkeypatch):
    before = db.read_bytes()
    real_copy = shutil.copyfile

    def no_link(*args, **kwargs):
        raise OSError(errno.EXDEV, "cross-device link")

    def copy(src, dst, *args, **kwargs):  # the copy of the database is made; the snapshot finds the disk full
        if "snapshots" in str(dst):
            raise OSError(errno.ENOSPC, "full")
        return real_copy(src, dst, *args, **kwargs)
    monkeypatch.setattr(history.os, "link", no_link)
    monkeypatch.setattr(history.shutil, "copyfile", copy)
    result = load_files([newer_alfa(tmp_path / "n.xlsx")], db)
    monkeypatch.undo()
    assert [p.message for p in result.problems] == ["inläsningen avbröts och ingenting ändrades: disken är full"]
    assert db.read_bytes() == before and snapshots(db) == []
    assert not list(db.parent.glob("f.duckdb.tmp-*"))


def test_a_snapshot_is_copied_where_links_are_not_possible(db, tmp_path, monkeypatch):
    before = db.read_bytes()

    def no_links(*args, **kwargs):
        raise OSError(errno.EXDEV, "cross-device link")
    monkeypatch.setattr(history.os, "link", no_links)
    assert load_files([newer_alfa(tmp_path / "n.xlsx")], db).ok
    assert (db.parent / "snapshots" / "f.before-000005.duckdb").read_bytes() == before


# ---------------------------------------------------------------- undo


def test_undo_restores_the_previous_figures_exactly(db, tmp_path):
    before = {y: report(db, y) for y in (2021, 2022)}
    done = run_cli("load", "--db", db, newer_alfa(tmp_path / "newer.xlsx"), delta_budget(tmp_path / "b.xlsx"))
    assert done.returncode == 0, done.stderr
    assert "Inläsningen har nr 5 i historiken; ångra den med: python -m etl undo 5" in done.stdout
    assert report(db, 2021) != before[2021] and report(db, 2022) != before[2022]
    undone = run_cli("undo", "--db", db)
    assert undone.returncode == 0, undone.stderr
    assert undone.stdout.strip() == ("Klart: återställde läget före inläsning nr 5 (newer.xlsx, b.xlsx). "
                                     "Ångringen har nr 7 och kan själv ångras.")
    assert {y: report(db, y) for y in (2021, 2022)} == before
    # the undo is in the database's history, with who ran it
    last = changes(db)[-1]
    assert last[:2] == (7, "undo") and last[2] == cli_actor() and last[6] == 5


def test_an_undo_can_be_undone_and_numbers_never_repeat(db, tmp_path):
    original = report(db)
    assert load_files([newer_alfa(tmp_path / "n.xlsx")], db, actor="anna").ok  # nr 5
    loaded = report(db)
    assert history.undo(db, actor="anna").ok  # nr 6 restores the state before 5
    assert report(db) == original
    redo = history.undo(db, 6, actor="bo")  # nr 7 restores the state before 6: load 5 is back
    assert redo.ok and redo.change.change_id == 7
    assert report(db) == loaded
    assert load_files([delta_budget(tmp_path / "b.xlsx")], db).ok
    with connect_read(db) as con:
        assert con.execute("SELECT max(load_id) FROM load_history").fetchall() == [(8,)]
    assert snapshots(db) == [f"f.before-00000{i}.duckdb" for i in (5, 6, 7, 8)]


def test_undo_by_the_number_of_one_file_of_a_call_undoes_the_whole_call(db, tmp_path):
    assert load_files([newer_alfa(tmp_path / "n.xlsx"), delta_budget(tmp_path / "b.xlsx")], db).ok  # nr 5 and 6
    result = history.undo(db, 6, actor="anna")
    assert result.ok and result.change.undoes == 5
    with connect_read(db) as con:
        assert con.execute("SELECT count(*) FROM load_history").fetchall() == [(4,)]
    assert report(db) == report_of_snapshot(db, "f.before-000005.duckdb", tmp_path)


def report_of_snapshot(db: Path, name: str, tmp_path: Path) -> dict:
    copy = tmp_path / "snap.duckdb"
    shutil.copyfile(history.snapshot_path(db, name), copy)
    return report(copy)


def test_undoing_an_earlier_load_drops_the_later_ones_and_says_so(db, tmp_path):
    assert load_files([newer_alfa(tmp_path / "n.xlsx")], db).ok  # 5
    assert load_files([delta_budget(tmp_path / "b.xlsx")], db).ok  # 6
    result = history.undo(db, 5, actor="anna")
    assert result.ok
    assert "därmed försvann också de senare ändringarna nr 6" in result.message


@pytest.mark.parametrize("case, expected", [
    ("no database", "Det finns ingen databas, så det finns ingenting att ångra."),
    ("unknown number", "Det finns ingen ändring med nummer 42 i databasens historik (se python -m etl history eller "
                       "historiken på sidan Data)."),
    ("snapshot gone", "Inläsning nr 5 (n.xlsx) kan inte ångras: ögonblicksbilden från före den finns inte längre "
                      "(bara de 10 senaste sparas)."),
    ("old database", "Det finns ingen inläsning att ångra (historiken har inga inläsningar gjorda med ögonblicksbild; "
                     "se python -m etl history)."),
    ("broken snapshot", "Ögonblicksbilden från före inläsning nr 5 (n.xlsx) kan inte användas: databasfilen är tom "
                        "(0 byte); ta bort den, så byggs en ny vid nästa inläsning."),
    ("a directory", "Ingenting ångrades: databasens sökväg pekar på en mapp, inte på en databasfil; ange en fil, "
                    "till exempel finsam.duckdb i den mappen."),
])
def test_undo_says_in_swedish_why_it_cannot(db, tmp_path, case, expected):
    target, number = db, None
    if case == "no database":
        target = tmp_path / "none" / "f.duckdb"
    elif case == "unknown number":
        number = 42
    elif case in ("snapshot gone", "broken snapshot"):
        assert load_files([newer_alfa(tmp_path / "n.xlsx")], db).ok
        snap = db.parent / "snapshots" / "f.before-000005.duckdb"
        snap.unlink() if case == "snapshot gone" else snap.write_bytes(b"")
    elif case == "old database":  # loaded before changes were recorded
        with connect_write(db) as con:
            con.execute("DROP TABLE changes")
    elif case == "a directory":
        target = tmp_path / "dir"
        target.mkdir()
    before = target.read_bytes() if target.is_file() else None
    done = run_cli("undo", "--db", target, *([str(number)] if number else []))
    assert done.returncode == 1
    assert done.stderr.strip() == expected
    assert "Traceback" not in done.stderr + done.stdout
    if before is not None:
        assert target.read_bytes() == before


def test_history_on_the_command_line(db, tmp_path):
    assert run_cli("load", "--db", db, newer_alfa(tmp_path / "newer.xlsx")).returncode == 0
    done = run_cli("history", "--db", db)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    header = lines[0].split()
    assert header[:4] == ["Nr", "Tid", "Händelse", "Vem"] and "Kontrollsumma" in header and "Ersatte" in header
    load5 = lines[1]
    checksum = hashlib.sha256((tmp_path / "newer.xlsx").read_bytes()).hexdigest()[:12]
    assert load5.split()[0] == "5" and "Inläsning" in load5 and "newer.xlsx" in load5 and checksum in load5
    assert "(kommandorad)" in load5 and "3 lästa, 3 inlästa" in load5 and "7 äldre rader från nr 2" in load5
    first = next(line for line in lines if line.split()[0] == "2")
    assert "deltagare.xlsx" in first and " test " in first and "inläst med nr 1–4 i ett svep" in first
    # the undo shows in the history of the database it leaves (where load 5 is no more)
    assert run_cli("undo", "--db", db).returncode == 0
    lines = run_cli("history", "--db", db).stdout.splitlines()
    assert lines[1].split()[0] == "6" and "Ångring" in lines[1]
    assert "återställde läget före inläsning nr 5 (newer.xlsx)" in lines[1]
    assert not any(line.split()[0] == "5" for line in lines[1:])


def test_command_line_loads_and_undos_go_into_the_audit_log(db, tmp_path, monkeypatch):
    log = tmp_path / "audit.sqlite"
    monkeypatch.setenv("FINSAM_AUDIT_DB", str(log))
    assert run_cli("load", "--db", db, newer_alfa(tmp_path / "newer.xlsx")).returncode == 0
    assert run_cli("undo", "--db", db, "5").returncode == 0
    rows = sqlite3.connect(log).execute("SELECT event, actor, detail, client FROM audit_log ORDER BY id").fetchall()
    assert [(e, c) for e, _, _, c in rows] == [("load", "kommandorad"), ("undo", "kommandorad")]
    # each line says what the change did per initiative and year, before → after (issue 23 §2)
    assert rows[0][2].startswith("Inläsning nr 5: newer.xlsx · ändrade ")
    assert rows[1][2].startswith("Ångring nr 6: återställde läget före inläsning nr 5 (newer.xlsx) · ändrade ")
    assert "Alfa 2021: deltagare" in rows[0][2] and "Alfa 2021: deltagare" in rows[1][2]
    assert {actor for _, actor, _, _ in rows} == {cli_actor()}  # "root (kommandorad)": the OS user who ran it


def test_command_line_loads_and_undos_that_fail_go_into_the_audit_log_too(db, tmp_path, monkeypatch):
    """Issue 22 §8: who tried, what, and why it did not happen; a personnummer in a file stays masked."""
    log = tmp_path / "audit.sqlite"
    monkeypatch.setenv("FINSAM_AUDIT_DB", str(log))
    bad = write_csv(tmp_path / "pnr.csv", [["Deltagar-ID", "Insats", "Kön", "Startdatum"],
                                          ["19850101-1234", "Beta", "Man", "2021-02-01"]])
    before = db.read_bytes()
    assert run_cli("load", "--db", db, bad).returncode == 1
    assert run_cli("undo", "--db", db, "99").returncode == 1
    assert db.read_bytes() == before
    rows = sqlite3.connect(log).execute("SELECT event, actor, detail, client FROM audit_log ORDER BY id").fetchall()
    assert [(e, a, c) for e, a, _, c in rows] == [("load_failed", cli_actor(), "kommandorad"),
                                                  ("undo_failed", cli_actor(), "kommandorad")]
    assert rows[0][2].startswith("pnr.csv: 1 fel; först: pnr.csv: ") and "1234" not in rows[0][2]
    assert rows[1][2] == "nr 99: Det finns ingen ändring med nummer 99 i databasens historik (se python -m etl " \
                         "history eller historiken på sidan Data)."


def test_an_audit_log_that_cannot_be_written_does_not_undo_the_load(db, tmp_path):
    def broken(change):
        raise RuntimeError("loggen är full")
    result = load_files([newer_alfa(tmp_path / "n.xlsx")], db, on_change=broken)
    assert result.ok and result.changed
    assert [p.message for p in result.problems] == [
        "ändringen är gjord, men granskningsloggen kunde inte skrivas: loggen är full"]


# ---------------------------------------------------------------- the preview


def test_the_preview_writes_nothing_and_equals_what_the_load_does(db, tmp_path):
    files = [newer_alfa(tmp_path / "n.xlsx"), delta_budget(tmp_path / "b.xlsx")]
    listing, before_bytes = sorted(os.listdir(db.parent)), db.read_bytes()
    work = tmp_path / "work"
    work.mkdir()
    with connect_read(db) as con:
        before = figures(con)
    preview = preview_files(files, db, work)
    assert preview.result.ok and preview.after is not None
    assert sorted(os.listdir(db.parent)) == listing and db.read_bytes() == before_bytes
    with connect_read(preview.after) as con:
        shown = compare(before, figures(con))
    assert load_files(files, db, expect=preview.token).ok
    with connect_read(db) as con:
        done = compare(before, figures(con))
    assert shown.equals(done)
    # and by hand: Alfa 2021 had A1, A2, A3, A5, A6, A7 (6 participants, 4 started, 3 exited); now N-1…N-3
    alfa = shown[(shown.initiative == "Alfa") & (shown.year == 2021)].iloc[0]
    assert (alfa.participants_before, alfa.participants_after) == (6, 3)
    assert (alfa.started_before, alfa.started_after) == (4, 3)
    assert (alfa.exited_before, alfa.exited_after) == (3, 1)
    assert alfa.budget_before == alfa.budget_after == 650000.0  # the budget is not touched
    alfa22 = shown[(shown.initiative == "Alfa") & (shown.year == 2022)].iloc[0]
    assert (alfa22.participants_before, alfa22.participants_after) == (3, 2)  # A3, A5, A7 → N-2, N-3
    assert (alfa22.budget_before, alfa22.budget_after) == (None, 123456.0)


def test_a_load_refuses_when_the_database_changed_since_the_preview(db, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    preview = preview_files([newer_alfa(tmp_path / "n.xlsx")], db, work)
    assert load_files([delta_budget(tmp_path / "b.xlsx")], db).ok  # someone else loads in between
    before = db.read_bytes()
    result = load_files([newer_alfa(tmp_path / "n.xlsx")], db, expect=preview.token)
    assert not result.ok and [p.message for p in result.problems] == [CHANGED_SINCE_PREVIEW]
    assert db.read_bytes() == before
