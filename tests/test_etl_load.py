"""Loading (data contract section 7): all or nothing, idempotent, snapshots replace, consent, readers."""
from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
import sys
from core.database import connect_read
from decimal import Decimal
from pathlib import Path


from etl.load import load_files
from metrics import Filters
from metrics.people import exits_by_reason
from tests.conftest import EXAMPLES, ROOT, example_exports, run_cli, write_csv, write_small_association, write_xlsx

D = dt.date
HEADER = ["Deltagar-ID", "Insats", "Kön", "Födelseår", "Startdatum", "Slutdatum", "Avslutsorsak", "Remittent",
          "Försörjning vid start", "Försörjning vid avslut", "Utbildning", "Samtycke"]


def participants(path: Path, *rows) -> Path:
    return write_xlsx(path, {"Deltagare": [HEADER, *rows]})


def row(pid, initiative="Alfa", sex="Kvinna", start=D(2021, 1, 10), end=None, reason=None, consent="Ja",
        referrer="Försäkringskassan"):
    return [pid, initiative, sex, 1980, start, end, reason, referrer, "Sjukpenning",
            "Ingen offentlig försörjning" if end else None, "Gymnasial", consent]


def good_file(tmp_path, name="good.xlsx") -> Path:
    return participants(tmp_path / name, row("P-1"), row("P-2", sex="Man", end=D(2021, 6, 30), reason=1))


def bad_file(tmp_path, name="bad.csv") -> Path:
    # row 3 as Excel shows it (header on row 1) has a date that does not exist
    return write_csv(tmp_path / name, [["Deltagar-ID", "Insats", "Kön", "Startdatum"],
                                       ["B-1", "Beta", "Man", "2021-02-01"],
                                       ["B-2", "Beta", "Man", "2021-02-30"]])


def query(db: Path, sql: str, params=None) -> list[tuple]:
    con = connect_read(db)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def snapshot(path: Path) -> tuple[bytes, int]:
    return path.read_bytes(), path.stat().st_mtime_ns


# ---------------------------------------------------------------- all or nothing


def test_one_bad_file_loads_nothing_into_a_new_database(tmp_path):
    db = tmp_path / "f.duckdb"
    result = load_files([good_file(tmp_path), bad_file(tmp_path)], db)
    assert not result.ok
    assert not result.changed
    assert not db.exists()
    # no half-written database or temporary copy is left behind (the lock file may stay)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("f.duckdb") and p.name != "f.duckdb.lock"] == []


def test_one_bad_file_leaves_an_existing_database_unchanged(tmp_path):
    db = tmp_path / "f.duckdb"
    assert load_files([good_file(tmp_path)], db).ok
    before = snapshot(db)
    newer = participants(tmp_path / "newer.xlsx", row("P-3", initiative="Gamma"))
    result = load_files([newer, bad_file(tmp_path)], db)
    assert not result.ok
    assert snapshot(db) == before
    assert query(db, "SELECT count(*) FROM enrollments WHERE initiative = 'Gamma'") == [(0,)]


def test_cli_load_with_a_bad_file_fails_and_lists_the_problems(tmp_path):
    db = tmp_path / "f.duckdb"
    done = run_cli("load", "--db", db, good_file(tmp_path), bad_file(tmp_path), fresh_process=True)
    assert done.returncode != 0
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    # file, sheet (– for CSV), row as Excel shows it, column, value: what is wrong
    assert 'FEL: bad.csv, –, rad 3, Startdatum, "2021-02-30": datumet finns inte i kalendern' in lines
    assert "1 fel, 0 varningar. Ingenting har lästs in; rätta felen och försök igen." in lines
    assert not db.exists()


def test_cli_load_good_files_succeeds(tmp_path):
    db = tmp_path / "f.duckdb"
    done = run_cli("load", "--db", db, good_file(tmp_path), fresh_process=True)  # the real command
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "good.xlsx: inläst – deltagare, 2 rader, 2 inlästa, 0 äldre rader ersatta",
        "Klart: 1 fil inläst, 0 varningar.",
        "Inläsningen har nr 1 i historiken; ångra den med: python -m etl undo 1",
    ]
    assert query(db, "SELECT participant_id FROM enrollments ORDER BY 1") == [("P-1",), ("P-2",)]


def test_cli_check_loads_nothing(tmp_path):
    db = tmp_path / "f.duckdb"
    done = run_cli("check", "--db", db, good_file(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["good.xlsx: kontrollerad – deltagare, 2 rader",
                                        "Inga fel, 0 varningar. Filerna kan läsas in."]
    assert not db.exists()
    # against an existing database: still nothing written
    assert load_files([good_file(tmp_path, "first.xlsx")], db).ok
    before = snapshot(db)
    newer = participants(tmp_path / "newer.xlsx", row("P-9", initiative="Gamma"))
    assert run_cli("check", "--db", db, newer).returncode == 0
    assert snapshot(db) == before
    # and a bad file is reported with a non-zero exit status
    done = run_cli("check", "--db", db, bad_file(tmp_path))
    assert done.returncode == 1
    assert 'FEL: bad.csv, –, rad 3, Startdatum, "2021-02-30": datumet finns inte i kalendern' in done.stderr


# ---------------------------------------------------------------- idempotent and snapshots


def test_loading_the_same_file_again_changes_nothing(tmp_path):
    db = tmp_path / "f.duckdb"
    path = good_file(tmp_path)
    assert load_files([path], db).ok
    before = snapshot(db)
    again = load_files([path], db)
    assert again.ok and not again.changed
    assert again.files[0].skipped
    assert snapshot(db) == before
    assert query(db, "SELECT count(*) FROM load_history") == [(1,)]
    assert query(db, "SELECT count(*) FROM enrollments") == [(2,)]


def test_same_content_under_another_name_is_skipped(tmp_path):
    db = tmp_path / "f.duckdb"
    path = good_file(tmp_path)
    assert load_files([path], db).ok
    copy = tmp_path / "kopia.xlsx"
    copy.write_bytes(path.read_bytes())
    again = load_files([copy], db)
    assert again.files[0].skipped and not again.changed


def test_cli_reload_says_already_loaded(tmp_path):
    db = tmp_path / "f.duckdb"
    path = good_file(tmp_path)
    assert run_cli("load", "--db", db, path).returncode == 0
    done = run_cli("load", "--db", db, path)
    assert done.returncode == 0
    assert done.stdout.splitlines() == ["good.xlsx: redan inläst (samma innehåll) – ingenting ändrat",
                                        "Ingenting nytt att läsa in."]


def test_newer_export_replaces_the_initiatives_it_covers(tmp_path):
    db = tmp_path / "f.duckdb"
    v1 = participants(tmp_path / "export_v1.xlsx",
                      row("A-1"), row("A-2"), row("A-3"), row("B-1", initiative="Beta"))
    v2 = participants(tmp_path / "export_v2.xlsx",
                      row("A-1", end=D(2021, 5, 31), reason=1), row("A-4", start=D(2021, 4, 1)))
    first = load_files([v1], db)
    assert first.ok and first.files[0].rows_loaded == 4 and first.files[0].rows_replaced == 0
    second = load_files([v2], db)
    assert second.ok
    assert (second.files[0].rows_loaded, second.files[0].rows_replaced) == (2, 3)  # Alfa's 3 earlier rows
    assert query(db, "SELECT initiative, participant_id, end_date, exit_reason FROM enrollments ORDER BY 1, 2") == [
        ("Alfa", "A-1", D(2021, 5, 31), 1), ("Alfa", "A-4", None, None),
        ("Beta", "B-1", None, None),  # not in the newer export: kept
    ]
    assert query(db, "SELECT load_id, file_name, rows_read, rows_loaded, rows_replaced FROM load_history "
                     "ORDER BY load_id") == [(1, "export_v1.xlsx", 4, 4, 0), (2, "export_v2.xlsx", 2, 2, 3)]


def test_newer_budget_replaces_the_initiative_years_it_covers(tmp_path):
    db = tmp_path / "f.duckdb"
    header = ["Insats", "År", "Kostnadsslag", "Budget", "Utfall"]
    reg = write_csv(tmp_path / "reg.csv", [["Insats", "Insatsägare"], ["Alfa", "Region"]])
    v1 = write_csv(tmp_path / "budget_v1.csv", [header, ["Alfa", "2021", "Personal", "100", ""],
                                                ["Alfa", "2021", "Lokaler", "50", ""],
                                                ["Alfa", "2022", "Personal", "120", ""]])
    v2 = write_csv(tmp_path / "budget_v2.csv", [header, ["Alfa", "2021", "Personal", "100", "95"]])
    assert load_files([reg, v1], db).ok
    second = load_files([v2], db)
    assert second.ok
    assert (second.files[0].rows_loaded, second.files[0].rows_replaced) == (1, 2)
    assert query(db, "SELECT year, category, budget, actual FROM budget_lines ORDER BY year") == [
        (2021, "Personal", Decimal("100.00"), Decimal("95.00")), (2022, "Personal", Decimal("120.00"), None)]


def test_budget_only_file_loads(tmp_path):
    # a call without any participants file (here budget alone) must load too
    db = tmp_path / "f.duckdb"
    budget = write_csv(tmp_path / "budget.csv", [["Insats", "År", "Budget"], ["Alfa", "2021", "1 000 kr"]])
    result = load_files([budget], db)
    assert result.ok, [str(p) for p in result.problems]
    assert query(db, "SELECT initiative, year, category, funder, budget, actual FROM budget_lines") == [
        ("Alfa", 2021, "Totalt", "Förbundet", Decimal("1000.00"), None)]  # the contract's defaults


def test_initiative_spelling_follows_the_register(tmp_path):
    db = tmp_path / "f.duckdb"
    reg = write_csv(tmp_path / "reg.csv", [["Insats", "Insatsägare"], ["Steget Före", "Region"]])
    assert load_files([reg, participants(tmp_path / "p.xlsx", row("P-1", initiative="steget före "))], db).ok
    assert query(db, "SELECT DISTINCT initiative FROM enrollments") == [("Steget Före",)]


# ---------------------------------------------------------------- consent


def test_without_consent_only_sex_age_and_dates_are_stored(tmp_path):
    db = tmp_path / "f.duckdb"
    path = participants(tmp_path / "p.xlsx",
                        row("P-1", end=D(2021, 6, 30), reason=1),
                        row("P-2", sex="Man", start=D(2021, 2, 1), end=D(2021, 8, 31), reason=1, consent="nej"))
    assert load_files([path], db).ok
    cols = ("participant_id, initiative, sex, birth_year, age_at_start, start_date, end_date, exit_reason, "
            "referrer_unit, agency, income_at_start, income_at_exit, education, consent")
    assert query(db, f"SELECT {cols} FROM enrollments ORDER BY start_date") == [
        ("P-1", "Alfa", "woman", 1980, 41, D(2021, 1, 10), D(2021, 6, 30), 1, "Försäkringskassan",
         "Försäkringskassan", "Sjukpenning", "Ingen offentlig försörjning", "Gymnasial", True),
        (None, "Alfa", "man", 1980, 41, D(2021, 2, 1), D(2021, 8, 31), None, None,
         "Uppgift saknas", None, None, None, False),
    ]
    con = connect_read(db)
    try:
        reasons = exits_by_reason(con, Filters.year(2021))
    finally:
        con.close()
    assert reasons[["reason", "women", "men", "total"]].to_dict("records") == [
        {"reason": "1", "women": 1, "men": 0, "total": 1},        # P-1
        {"reason": "unknown", "women": 0, "men": 1, "total": 1},  # P-2: its code 1 is not counted
    ]


def test_rows_without_consent_are_not_merged(tmp_path):
    # two people without consent look alike once their ids are dropped; both are kept
    db = tmp_path / "f.duckdb"
    path = participants(tmp_path / "p.xlsx", row("P-1", consent="Nej"), row("P-2", consent="Nej"))
    assert load_files([path], db).ok
    assert query(db, "SELECT count(*), count(participant_id) FROM enrollments") == [(2, 0)]


def test_missing_consent_column_means_consent_given(tmp_path):
    db = tmp_path / "f.duckdb"
    path = write_xlsx(tmp_path / "p.xlsx", {"Deltagare": [
        ["Deltagar-ID", "Insats", "Kön", "Startdatum", "Slutdatum", "Avslutsorsak", "Remittent"],
        ["P-1", "Alfa", "K", D(2021, 1, 10), D(2021, 3, 1), 2, "FK"],
    ]})
    assert load_files([path], db).ok
    assert query(db, "SELECT participant_id, exit_reason, referrer_unit, agency, consent FROM enrollments") == [
        ("P-1", 2, "FK", "Försäkringskassan", True)]


# ---------------------------------------------------------------- readers, history, sample


def test_reader_keeps_working_during_a_load(tmp_path):
    """The dashboard holds a read-only connection; the loader swaps in a new file beside it.

    The old connection keeps its snapshot. A new reader (here a fresh process, as DuckDB shares
    one open database per path within a process) sees the new data.
    """
    db = tmp_path / "f.duckdb"
    assert load_files([good_file(tmp_path)], db).ok
    reader = connect_read(db)
    try:
        assert reader.execute("SELECT count(*) FROM enrollments").fetchall() == [(2,)]
        result = load_files([participants(tmp_path / "newer.xlsx", row("P-3", initiative="Gamma"))], db)
        assert result.ok and result.changed
        assert reader.execute("SELECT count(*) FROM enrollments").fetchall() == [(2,)]  # old data, no error
        fresh = subprocess.run(
            [sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=True); "
                                   "print(c.execute('SELECT count(*) FROM enrollments').fetchone()[0])", str(db)],
            cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert fresh.returncode == 0, fresh.stderr
        assert fresh.stdout.strip() == "3"
    finally:
        reader.close()
    assert query(db, "SELECT count(*) FROM enrollments") == [(3,)]  # once the old one is closed, here too


def test_reader_keeps_working_during_a_cli_load(tmp_path):
    db = tmp_path / "f.duckdb"
    assert load_files([good_file(tmp_path)], db).ok
    reader = connect_read(db)
    try:
        done = run_cli("load", "--db", db, participants(tmp_path / "newer.xlsx", row("P-3", initiative="Gamma")))
        assert done.returncode == 0, done.stderr
        assert reader.execute("SELECT count(*) FROM enrollments").fetchall() == [(2,)]
    finally:
        reader.close()
    assert query(db, "SELECT count(*) FROM enrollments") == [(3,)]


def test_load_history_records_each_file(tmp_path):
    db = tmp_path / "f.duckdb"
    good = good_file(tmp_path)
    anon = write_csv(tmp_path / "anon.csv", [["Insats", "År", "Kvinnor", "Män"], ["Alfa", "2021", "2", "1"]])
    from etl.load import STOCKHOLM

    def now():  # load times are the association's (Swedish) wall-clock time
        return dt.datetime.now(STOCKHOLM).replace(tzinfo=None)

    before = now().replace(microsecond=0)
    assert load_files([good, anon], db).ok
    rows = query(db, "SELECT file_name, checksum, loaded_at, kind, rows_read, rows_loaded FROM load_history "
                     "ORDER BY load_id")
    assert [(r[0], r[1], r[3], r[4], r[5]) for r in rows] == [
        ("good.xlsx", hashlib.sha256(good.read_bytes()).hexdigest(), "participants", 2, 2),
        ("anon.csv", hashlib.sha256(anon.read_bytes()).hexdigest(), "anonymous", 1, 1),
    ]
    assert all(isinstance(r[2], dt.datetime) and before <= r[2] <= now() for r in rows)
    assert [c for (c,) in query(db, "SELECT column_name FROM duckdb_columns() WHERE table_name = 'load_history' "
                                    "ORDER BY column_index")][:7] == [
        "load_id", "file_name", "checksum", "loaded_at", "kind", "rows_read", "rows_loaded"]


def test_the_example_exports_load(tmp_path):
    db = tmp_path / "f.duckdb"
    files = example_exports()  # all five by name: a missing one fails here, not as a count further down
    result = load_files(files, db)
    assert result.ok, [str(p) for p in result.problems]
    assert query(db, "SELECT (SELECT count(*) FROM enrollments), (SELECT count(*) FROM anonymous_counts), "
                     "(SELECT count(*) FROM budget_lines), (SELECT count(*) FROM initiatives)") == [(154, 3, 17, 3)]
    assert query(db, "SELECT actual FROM budget_lines WHERE initiative = 'Samverkansteam Säter' AND year = 2018 "
                     "AND category = 'Övrigt'") == [(Decimal("164500.00"),)]
    assert query(db, "SELECT sum(budget), sum(actual) FROM budget_lines WHERE initiative = 'Specialistteamet' "
                     "AND year = 2024") == [(Decimal("1277950.00"), Decimal("1199620.00"))]


def test_loading_real_files_into_the_sample_database_starts_afresh(tmp_path):
    db = tmp_path / "f.duckdb"
    sample = load_files(write_small_association(tmp_path / "sample"), db, sample=True)
    assert sample.ok
    assert query(db, "SELECT value FROM meta WHERE key = 'source'") == [("sample",)]
    assert query(db, "SELECT count(*) FROM enrollments") == [(13,)]
    result = load_files([EXAMPLES / "deltagare_export_rar.xlsx"], db)
    assert result.ok and result.replaced_sample
    assert query(db, "SELECT value FROM meta WHERE key = 'source'") == [("export",)]
    assert query(db, "SELECT count(*), count(*) FILTER (WHERE initiative IN ('Alfa', 'Beta')) FROM enrollments") == [
        (154, 0)]
    assert query(db, "SELECT file_name FROM load_history") == [("deltagare_export_rar.xlsx",)]
    assert query(db, "SELECT count(*) FROM budget_lines") == [(0,)]
    # once real data is in, later loads add to it
    more = load_files([EXAMPLES / "anonyma_deltagare.csv"], db)
    assert more.ok and not more.replaced_sample
    assert query(db, "SELECT count(*) FROM load_history") == [(2,)]


def test_cli_says_one_row_file_and_warning_in_the_singular(tmp_path):
    """Issue 23: "1 rader", "1 varningar" and "1 filer" read as errors to a Swedish reader."""
    from core.vocabulary import counted
    assert [counted(n, "varning", "varningar") for n in (0, 1, 2)] == ["0 varningar", "1 varning", "2 varningar"]
    path = tmp_path / "one.csv"
    path.write_text("Deltagar-ID;Insats;Kön;Startdatum;Remittent\nP-1;Alfa;K;2021-02-01;Okänd enhet\n",
                    encoding="utf-8")
    done = run_cli("load", "--db", tmp_path / "f.duckdb", path)
    assert done.returncode == 0, done.stderr
    out = done.stdout + done.stderr
    assert "one.csv: inläst – deltagare, 1 rad, 1 inlästa, 0 äldre rader ersatta" in out
    assert "räknas som Annan (1 rad); lägg till den i mappningen" in out
    assert "Klart: 1 fil inläst, 1 varning." in out
