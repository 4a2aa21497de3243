"""Referrer mapping edits (issue 11 §3): saved atomically to the mapping file, validated in Swedish, a hostile
unit name cannot break the file, and the stored enrollments' agencies follow at once (through the loader's
write path: a snapshot is kept and the change is in the history)."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from core.database import DatabaseError, connect_read
from core.paths import REFERRERS_CSV
from etl import history
from etl.load import load_files
from etl.mapping import save_unit_agencies
from etl.reference import EXACT, Rule, read_rules, referrer_mapping
from tests.conftest import run_cli, write_small_association, write_xlsx

D = dt.date
SHIPPED = REFERRERS_CSV.read_bytes()


@pytest.fixture()
def mapping_file(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "volume" / "referrers.csv"  # as $FINSAM_REFERRERS on the Docker volume: not there yet
    monkeypatch.setenv("FINSAM_REFERRERS", str(path))
    return path


@pytest.fixture()
def db(tmp_path, mapping_file) -> Path:
    db = tmp_path / "f.duckdb"
    assert load_files(write_small_association(tmp_path / "files"), db).ok
    return db


def agencies(db: Path) -> dict[str, str]:
    with connect_read(db) as con:
        return dict(con.execute("SELECT DISTINCT referrer_unit, agency FROM enrollments "
                                "WHERE referrer_unit IS NOT NULL").fetchall())


def report_referrers(db: Path) -> dict:
    done = run_cli("report", "--db", db, "--year", "2021", "--format", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["initiatives"]["Alfa"]["referrers"]


def test_a_mapped_unit_changes_the_stored_rows_at_once(db, mapping_file):
    assert agencies(db)["Frivilligcentralen"] == "Annan"  # matches nothing (A7, Alfa, started 2021)
    assert report_referrers(db)["Annan"]["total"] == 1
    result = save_unit_agencies({"Frivilligcentralen": "Kommun"}, db, actor="anna")
    assert result.ok, result.message
    assert result.message == ("Mappningen är sparad (första gången: den sparas nu i den egna mappningsfilen): "
                              "Frivilligcentralen → Kommun.")
    # the file: the shipped rules, with the new exact rule after the last exact one
    rules = read_rules(mapping_file)
    shipped = read_rules(REFERRERS_CSV)
    assert rules == shipped[:4] + [Rule(EXACT, "Frivilligcentralen", "Kommun")] + shipped[4:]
    assert REFERRERS_CSV.read_bytes() == SHIPPED  # the shipped file is never written
    # the rows: A7 is Kommun now, nothing else moved; Alfa's started by agency in the report follow
    assert agencies(db)["Frivilligcentralen"] == "Kommun"
    referrers = report_referrers(db)
    assert "Annan" not in referrers and referrers["Kommun"]["total"] == 2  # A7 and A3 (Jobbtorg Väst)
    # through the write path: a snapshot, and the change in the history
    with connect_read(db) as con:
        assert con.execute("SELECT change_id, action, actor, detail, snapshot FROM changes WHERE action = 'mapping'"
                           ).fetchall() == [(5, "mapping", "anna", "Frivilligcentralen → Kommun (1 inskrivning fick "
                                                                  "ny myndighet)", "f.before-000005.duckdb")]
        assert con.execute("SELECT agency, rule FROM referrer_units WHERE unit = 'Frivilligcentralen'"
                           ).fetchall() == [("Kommun", "exact")]
    assert (db.parent / "snapshots" / "f.before-000005.duckdb").exists()


def test_the_next_load_uses_the_saved_mapping(db, tmp_path):
    assert save_unit_agencies({"Frivilligcentralen": "Region"}, db, actor="anna").ok
    f = write_xlsx(tmp_path / "gamma.xlsx", {"D": [["Deltagar-ID", "Insats", "Kön", "Startdatum", "Remittent"],
                                                   ["G-1", "Gamma", "Man", D(2021, 5, 1), "frivilligcentralen"]]})
    result = load_files([f], db)
    assert result.ok and not [p for p in result.problems if "matchar ingen myndighet" in p.message]
    with connect_read(db) as con:
        assert con.execute("SELECT agency FROM enrollments WHERE participant_id = 'G-1'").fetchall() == [("Region",)]


def test_removing_an_exact_rule_falls_back_on_the_keywords(db, mapping_file):
    assert save_unit_agencies({"Vårdcentralen Norr": "Kommun"}, db, actor="anna").ok
    assert agencies(db)["Vårdcentralen Norr"] == "Kommun"
    result = save_unit_agencies({"Vårdcentralen Norr": None}, db, actor="anna")
    assert result.ok
    assert agencies(db)["Vårdcentralen Norr"] == "Region"  # the keyword «vårdcentral»
    assert read_rules(mapping_file) == read_rules(REFERRERS_CSV)


def test_nothing_to_save(db, mapping_file):
    result = save_unit_agencies({"Försäkringskassan": "Försäkringskassan"}, db, actor="anna")  # already its rule
    assert result.ok and result.message == "Inga ändringar att spara." and result.change is None
    assert not mapping_file.exists()


@pytest.mark.parametrize("unit, agency, error", [
    ("Enhet X", "Polisen", "«Polisen» för enheten «Enhet X» är ingen myndighet; välj en av Försäkringskassan, "
                           "Arbetsförmedlingen, Kommun, Region, Annan"),
    ('=HYPERLINK("http://x","y")', "Kommun", "enheten «=HYPERLINK(\"http://x\",\"y\")» börjar med '=', som ett "
                                             "kalkylprogram läser som en formel; rätta namnet i exporten och läs in "
                                             "den igen"),
    ("Rad ett\nrad två", "Kommun", "enheten «Rad ett rad två» innehåller styrtecken (radbrytning, tabb eller liknande)"),
    ("  ", "Kommun", "en enhet utan namn kan inte mappas"),
])
def test_bad_edits_are_refused_in_swedish_and_change_nothing(db, mapping_file, unit, agency, error):
    before = db.read_bytes()
    result = save_unit_agencies({unit: agency}, db, actor="anna")
    assert not result.ok and result.message == "Mappningen sparades inte; rätta först:"
    assert result.errors == [error]
    assert not mapping_file.exists() and db.read_bytes() == before


def test_a_hostile_unit_name_cannot_break_the_file(tmp_path, mapping_file):
    hostile = 'Enhet "A"; match;pattern;agency, keyword;vård;Kommun'
    db = tmp_path / "h.duckdb"
    f = write_xlsx(tmp_path / "h.xlsx", {"D": [["Deltagar-ID", "Insats", "Kön", "Startdatum", "Remittent"],
                                               ["H-1", "Alfa", "Man", D(2021, 5, 1), hostile],
                                               ["H-2", "Alfa", "Man", D(2021, 5, 2), "Vårdcentralen Norr"]]})
    assert load_files([f], db).ok
    assert save_unit_agencies({hostile: "Arbetsförmedlingen"}, db, actor="anna").ok
    rules = read_rules(mapping_file)
    assert Rule(EXACT, hostile, "Arbetsförmedlingen") in rules
    assert len(rules) == len(read_rules(REFERRERS_CSV)) + 1  # one line more, no rule smuggled in
    assert referrer_mapping().agency("Vårdcentralen Norr") == "Region"
    assert agencies(db) == {hostile: "Arbetsförmedlingen", "Vårdcentralen Norr": "Region"}


def test_a_database_that_cannot_be_written_leaves_the_mapping_as_it_was(db, mapping_file, monkeypatch):
    assert save_unit_agencies({"Jobbtorg Väst": "Region"}, db, actor="anna").ok
    before_file, before_db = mapping_file.read_bytes(), db.read_bytes()

    def fail(*args, **kwargs):
        raise DatabaseError("disken är full")
    monkeypatch.setattr(history, "commit", fail)
    result = save_unit_agencies({"Frivilligcentralen": "Kommun"}, db, actor="anna")
    assert not result.ok
    assert result.message == ("Mappningen sparades inte, eftersom databasen inte kunde uppdateras: disken är full.")
    assert mapping_file.read_bytes() == before_file and db.read_bytes() == before_db
    assert not list(mapping_file.parent.glob("referrers.csv.tmp-*"))


def test_a_mapping_file_that_cannot_be_read_is_named_in_swedish(db, mapping_file):
    mapping_file.parent.mkdir(parents=True, exist_ok=True)
    mapping_file.write_text("match;pattern;agency\nexact;Enhet;Polisen\n", encoding="utf-8")
    result = save_unit_agencies({"Frivilligcentralen": "Kommun"}, db, actor="anna")
    assert not result.ok
    assert result.message == ("Mappningen sparades inte: referrers.csv, rad 2: okänd myndighet 'Polisen'; använd en "
                              "av Försäkringskassan, Arbetsförmedlingen, Kommun, Region, Annan.")


def test_a_mapping_change_is_not_undone_and_an_undo_keeps_the_mapping_of_now(db, tmp_path):
    f = write_xlsx(tmp_path / "g.xlsx", {"D": [["Deltagar-ID", "Insats", "Kön", "Startdatum", "Remittent"],
                                               ["G-1", "Gamma", "Man", D(2021, 5, 1), "Vårdcentralen Söder"]]})
    assert load_files([f], db).ok  # 5
    assert save_unit_agencies({"Frivilligcentralen": "Kommun"}, db, actor="anna").ok  # 6
    refused = history.undo(db, 6, actor="anna")
    assert not refused.ok
    assert refused.message == ("Ändrad remittentmappning nr 6 kan inte ångras: en ändring av remittentmappningen "
                               "ångras genom att ändra mappningen igen (under Remittenter på sidan Data), eftersom "
                               "myndigheterna alltid följer den mappning som gäller nu.")
    # the state before load 5 had Frivilligcentralen as Annan; restored, it follows the mapping of now
    with connect_read(history.snapshot_path(db, "f.before-000005.duckdb")) as con:
        assert con.execute("SELECT DISTINCT agency FROM enrollments WHERE referrer_unit = 'Frivilligcentralen'"
                           ).fetchall() == [("Annan",)]
    assert history.undo(db, 5, actor="anna").ok
    assert agencies(db)["Frivilligcentralen"] == "Kommun"
    assert "Vårdcentralen Söder" not in agencies(db)
