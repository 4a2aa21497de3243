"""Validation messages: file, sheet, row as Excel shows it, column, value and the Swedish text."""
from __future__ import annotations

import datetime as dt

import pytest

from etl.load import check_files, load_files
from core.problems import Problem
from etl.validate import looks_like_personnummer
from tests.conftest import write_csv, write_xlsx

D = dt.date
HEADER = ["Deltagar-ID", "Insats", "Kön", "Startdatum", "Slutdatum", "Avslutsorsak", "Remittent"]
GOOD = ["P-1", "Steget före", "Kvinna", D(2021, 3, 1), D(2021, 6, 1), 1, "Försäkringskassan"]


def participants_xlsx(tmp_path, *rows, header=HEADER, name="deltagare.xlsx"):
    """A sheet "Export" with a title line and a blank row: the header is on row 3, data from row 4."""
    return write_xlsx(tmp_path / name, {"Export": [["Deltagarförteckning 2021"], [], header, GOOD, *rows]})


def fel(row, column, value, message, file="deltagare.xlsx", sheet="Export"):
    return Problem("fel", file, sheet, row, column, value, message)


def problems(*paths, db=None):
    return check_files(list(paths), db).problems


# ---------------------------------------------------------------- columns


def test_missing_required_column(tmp_path):
    path = participants_xlsx(tmp_path, header=["Deltagar-ID", "Insats", "Kön", "Slutdatum"])
    found = problems(path)
    assert [p for p in found if p.severity == "fel"] == [
        fel(3, "Startdatum", None, "obligatorisk kolumn saknas för deltagare: Startdatum")]
    # the good row's last three cells sit under no header: said, not read
    assert [(p.severity, p.row, p.column, p.message) for p in found if p.severity == "notis"] == [
        ("notis", 4, c, f"kolumn {c} har värden men ingen rubrik och läses inte in") for c in "EFG"]


def test_missing_required_column_anonymous_counts(tmp_path):
    path = write_csv(tmp_path / "anon.csv", [["Insats", "År", "Kvinnor"], ["Teamet", "2021", "3"]])
    assert problems(path) == [
        Problem("fel", "anon.csv", None, 1, "Män", None, "obligatorisk kolumn saknas för anonyma deltagare: Män")]


def test_budget_needs_budget_or_actual_column(tmp_path):
    path = write_csv(tmp_path / "b.csv", [["Insats", "År", "Kostnadsslag"], ["Teamet", "2021", "Personal"]])
    assert [p for p in problems(path) if p.severity == "fel"] == [
        Problem("fel", "b.csv", None, 1, "Budget", None, "obligatorisk kolumn saknas: Budget eller Utfall (minst en av dem)")]


def test_missing_value_in_required_column(tmp_path):
    path = participants_xlsx(tmp_path, ["P-2", "Steget före", "Man", None, None, None, None])
    assert problems(path) == [fel(5, "Startdatum", None, "värde saknas i obligatorisk kolumn Startdatum")]


def test_file_with_no_known_table(tmp_path):
    path = write_csv(tmp_path / "adresser.csv", [["Namn", "Telefon"], ["Eva", "070-1234567"]])
    assert [(p.severity, p.file, p.message) for p in problems(path)] == [
        ("fel", "adresser.csv", "filen innehåller ingen tabell som känns igen (deltagare, anonyma deltagare, "
                                "budget, insatsregister, strukturövergripande insatser eller förbundets ekonomi); "
                                "kontrollera rubrikraden"),
        ("notis", "adresser.csv",
         "bladet känns inte igen som deltagare, anonyma deltagare, budget, insatsregister, strukturövergripande "
         "insatser eller förbundets ekonomi och hoppas över"),
    ]


# ---------------------------------------------------------------- cells


def test_unparseable_date(tmp_path):
    path = participants_xlsx(tmp_path, ["P-2", "Steget före", "Man", "snart", None, None, None])
    assert problems(path) == [fel(5, "Startdatum", "snart", "datumet går inte att tolka; skriv ÅÅÅÅ-MM-DD")]


def test_impossible_date(tmp_path):
    path = participants_xlsx(tmp_path, ["P-2", "Steget före", "Man", "2021-02-30", None, None, None])
    assert problems(path) == [fel(5, "Startdatum", "2021-02-30", "datumet finns inte i kalendern")]


def test_end_before_start(tmp_path):
    path = participants_xlsx(tmp_path, ["P-2", "Steget före", "Man", D(2021, 3, 1), D(2021, 1, 31), 2, None])
    assert problems(path) == [fel(5, "Slutdatum", "2021-01-31", "slutdatum ligger före startdatum (2021-03-01)")]


def test_unknown_exit_code(tmp_path):
    path = participants_xlsx(tmp_path, ["P-2", "Steget före", "Man", D(2021, 3, 1), D(2021, 5, 1), 7, None])
    assert problems(path) == [fel(5, "Avslutsorsak", "7", "okänd avslutsorsak; giltiga koder är 1, 2, 3, 4, 5, 6")]


def test_unknown_sex_value(tmp_path):
    path = participants_xlsx(tmp_path, ["P-2", "Steget före", "X", D(2021, 3, 1), None, None, None])
    assert problems(path) == [fel(5, "Kön", "X", "okänt värde för kön; använd Kvinna, Man, Annat eller lämna tomt")]


def test_bad_consent_value(tmp_path):
    path = participants_xlsx(tmp_path, ["P-2", "Steget före", "Man", D(2021, 3, 1), None, None, None, "Kanske"],
                             header=[*HEADER, "Samtycke"])
    assert problems(path) == [
        fel(5, "Samtycke", "Kanske", "samtycke ska vara Ja eller Nej"),
        # row 4 (the good row) has no value in Samtycke at all: counted as no consent, with a notice
        Problem("notis", "deltagare.xlsx", "Export", 4, "Samtycke", None,
                "1 rad saknar värde i Samtycke och behandlas som utan samtycke"),
    ]


BUDGET_HEADER = ["Insats", "År", "Budget", "Utfall"]


@pytest.mark.parametrize("raw, message", [
    ("-500", "beloppet är negativt"),
    (-500, "beloppet är negativt"),
    ("cirka 5000", "beloppet går inte att tolka som kronor"),
])
def test_bad_amounts(tmp_path, raw, message):
    path = write_xlsx(tmp_path / "budget.xlsx", {"Budget 2021": [
        BUDGET_HEADER, ["Steget före", 2021, 1000, 900], ["Steget före", 2022, 1000, raw]]})
    reg = write_csv(tmp_path / "reg.csv", [["Insats", "Insatsägare"], ["Steget före", "Region"]])
    shown = "-500" if raw == -500 else raw
    assert problems(reg, path) == [Problem("fel", "budget.xlsx", "Budget 2021", 3, "Utfall", shown, message)]


def test_bad_year(tmp_path):
    path = write_csv(tmp_path / "anon.csv", [["Insats", "År", "Kvinnor", "Män"], ["Teamet", "tjugoett", "3", "1"]])
    assert problems(path) == [Problem("fel", "anon.csv", None, 2, "År", "tjugoett", "ska vara ett årtal")]


def test_negative_anonymous_count(tmp_path):
    path = write_csv(tmp_path / "anon.csv", [["Insats", "År", "Kvinnor", "Män"], ["Teamet", "2021", "-1", "1"]])
    assert problems(path) == [Problem("fel", "anon.csv", None, 2, "Kvinnor", "-1",
                                      "ska vara ett icke-negativt heltal mellan 0 och 100000")]


def test_every_problem_is_collected(tmp_path):
    path = participants_xlsx(
        tmp_path,
        ["P-2", "Steget före", "Man", "snart", None, None, None],
        ["P-3", "Steget före", "Q", D(2021, 3, 1), None, None, None],
        ["P-4", "Steget före", "Man", D(2021, 3, 1), D(2021, 4, 1), 9, None],
    )
    assert problems(path) == [
        fel(5, "Startdatum", "snart", "datumet går inte att tolka; skriv ÅÅÅÅ-MM-DD"),
        fel(6, "Kön", "Q", "okänt värde för kön; använd Kvinna, Man, Annat eller lämna tomt"),
        fel(7, "Avslutsorsak", "9", "okänd avslutsorsak; giltiga koder är 1, 2, 3, 4, 5, 6"),
    ]


def test_three_bad_cells_in_one_row_give_three_errors(tmp_path):
    path = participants_xlsx(tmp_path, ["P-2", "Steget före", "Q", "2021-13-01", None, "nej", None])
    assert [(p.severity, p.row, p.column) for p in problems(path)] == [
        ("fel", 5, "Kön"), ("fel", 5, "Startdatum"), ("fel", 5, "Avslutsorsak")]


def test_problems_in_several_files_are_all_listed(tmp_path):
    a = participants_xlsx(tmp_path, ["P-2", "Steget före", "Q", D(2021, 3, 1), None, None, None], name="a.xlsx")
    b = write_csv(tmp_path / "b.csv", [["Insats", "År", "Kvinnor", "Män"], ["Teamet", "2021", "x", "1"]])
    assert [(p.file, p.row, p.column) for p in problems(a, b)] == [("a.xlsx", 5, "Kön"), ("b.csv", 2, "Kvinnor")]


def test_duplicate_enrollment(tmp_path):
    path = participants_xlsx(tmp_path, ["P-1", "steget före", "Kvinna", D(2021, 3, 1), None, None, None])
    assert problems(path) == [fel(5, "Deltagar-ID", "P-1", "samma deltagare, insats och startdatum finns redan på rad 4")]


def test_same_person_in_two_initiatives_is_no_duplicate(tmp_path):
    path = participants_xlsx(tmp_path, ["P-1", "Teamet", "Kvinna", D(2021, 3, 1), None, None, None])
    assert problems(path) == []


def test_problem_is_printed_with_its_coordinates():
    p = fel(5, "Startdatum", "2021-02-30", "datumet finns inte i kalendern")
    assert str(p) == 'FEL: deltagare.xlsx, Export, rad 5, Startdatum, "2021-02-30": datumet finns inte i kalendern'
    csv_problem = Problem("varning", "b.csv", None, None, None, None, "något")
    assert str(csv_problem) == "VARNING: b.csv, –, –, –, –: något"


# ---------------------------------------------------------------- warnings


def test_budget_line_for_unknown_initiative_is_a_warning(tmp_path):
    path = write_csv(tmp_path / "budget.csv", [BUDGET_HEADER, ["Steget efter", "2021", "100", ""]])
    result = check_files([path])
    assert result.ok
    assert result.problems == [Problem(
        "varning", "budget.csv", None, 2, "Insats", "Steget efter",
        "budgetraden gäller en insats som inte finns bland deltagare eller i insatsregistret; kontrollera stavningen")]


def test_budget_line_matches_initiative_case_insensitively(tmp_path):
    reg = write_csv(tmp_path / "reg.csv", [["Insats", "Insatsägare"], ["Steget före", "Region"]])
    path = write_csv(tmp_path / "budget.csv", [BUDGET_HEADER, ["  STEGET FÖRE ", "2021", "100", ""]])
    assert problems(reg, path) == []


def test_budget_line_matches_initiative_already_in_database(tmp_path):
    db = tmp_path / "f.duckdb"
    reg = write_csv(tmp_path / "reg.csv", [["Insats", "Insatsägare"], ["Steget före", "Region"]])
    assert load_files([reg], db).ok
    path = write_csv(tmp_path / "budget.csv", [BUDGET_HEADER, ["Steget före", "2021", "100", ""]])
    assert problems(path, db=db) == []


def test_budget_line_without_any_amount_is_skipped_with_warning(tmp_path):
    reg = write_csv(tmp_path / "reg.csv", [["Insats", "Insatsägare"], ["Teamet", "Region"]])
    path = write_csv(tmp_path / "budget.csv", [BUDGET_HEADER, ["Teamet", "2021", "", ""]])
    assert problems(reg, path) == [Problem("varning", "budget.csv", None, 2, "Budget", None,
                                           "raden har varken budget eller utfall och hoppas över")]


def test_unmatched_referrer_goes_to_annan_with_a_warning(tmp_path):
    path = participants_xlsx(
        tmp_path,
        ["P-2", "Steget före", "Man", D(2021, 3, 1), None, None, "Frivilligcentralen"],
        ["P-3", "Steget före", "Man", D(2021, 3, 1), None, None, "Vårdcentralen Norr"],
        ["P-4", "Steget före", "Man", D(2021, 4, 1), None, None, "Frivilligcentralen"],
    )
    result = check_files([path])
    assert result.ok
    assert result.problems == [Problem(
        "varning", "deltagare.xlsx", "Export", 5, "Remittent", "Frivilligcentralen",
        "remittenten matchar ingen myndighet i data/referrers.csv och räknas som Annan (2 rader); "
        "lägg till den i mappningen")]
    records = result.files[0].tables[0].records
    assert [(r["referrer"], r["agency"]) for r in records] == [
        ("Försäkringskassan", "Försäkringskassan"), ("Frivilligcentralen", "Annan"),
        ("Vårdcentralen Norr", "Region"), ("Frivilligcentralen", "Annan")]


@pytest.mark.parametrize("unit, agency", [
    ("Försäkringskassan", "Försäkringskassan"), ("FK Nyköping", "Försäkringskassan"),
    ("Af Eskilstuna", "Arbetsförmedlingen"), ("Arbetsförmedlingen Rehab", "Arbetsförmedlingen"),
    ("Socialtjänsten Öst", "Kommun"), ("Ekonomiskt bistånd", "Kommun"), ("Stadsdelsförvaltning Norr", "Kommun"),
    ("Jobbtorg Stockholm", "Kommun"), ("Säters kommun", "Kommun"),
    ("Vårdcentralen Fröslunda", "Region"), ("Psykiatriska mottagningen", "Region"),
    ("Habiliteringen Region Sörmland", "Region"), ("Landstinget Dalarna", "Region"),
    ("Kriminalvården frivård", "Annan"),
])
def test_referrer_units_grouped_into_agencies(tmp_path, unit, agency):
    path = participants_xlsx(tmp_path, ["P-2", "Steget före", "Man", D(2021, 3, 1), None, None, unit])
    result = check_files([path])
    assert result.problems == []
    assert result.files[0].tables[0].records[1]["agency"] == agency


def test_blank_consent_counts_as_no_consent_with_a_notice(tmp_path):
    path = participants_xlsx(tmp_path, ["P-2", "Steget före", "Man", D(2021, 3, 1), None, None, "FK", None],
                             header=[*HEADER, "Samtycke"])
    result = check_files([path])
    assert result.problems == [Problem("notis", "deltagare.xlsx", "Export", 4, "Samtycke", None,
                                       "2 rader saknar värde i Samtycke och behandlas som utan samtycke")]
    assert [r["participant_id"] for r in result.files[0].tables[0].records] == [None, None]


# ---------------------------------------------------------------- personal identity numbers


@pytest.mark.parametrize("pnr", ["19850101-1234", "850101-1234", "198501011234", "8501011234", "850101+1234",
                                 "850161-1234", 198501011234])
def test_personnummer_as_id_refuses_the_file(tmp_path, pnr):
    path = participants_xlsx(tmp_path, [pnr, "Steget före", "Man", D(2021, 3, 1), None, None, None])
    result = check_files([path])
    assert not result.ok
    [p] = result.problems
    assert (p.severity, p.file, p.sheet, p.row, p.column, p.value) == (
        "fel", "deltagare.xlsx", "Export", 5, "Deltagar-ID", "(visas inte)")
    assert "personnummer" in p.message
    assert p.message == ("id:t ser ut som ett personnummer; personuppgifter får inte föras in i databasen, så filen "
                         "avvisas. Använd ett pseudonymt löpnummer")
    assert "1234" not in str(p)  # the number itself is never echoed

    db = tmp_path / "f.duckdb"
    loaded = load_files([path], db)
    assert not loaded.ok
    assert not db.exists()


@pytest.mark.parametrize("pid", ["RAR-0001", "12345", "1234567890", "2021-0001", "P-850101"])
def test_pseudonymous_ids_are_accepted(tmp_path, pid):
    path = participants_xlsx(tmp_path, [pid, "Steget före", "Man", D(2021, 3, 1), None, None, None])
    result = check_files([path])
    assert result.ok and result.problems == []
    assert result.files[0].tables[0].records[1]["participant_id"] == pid


def test_looks_like_personnummer():
    assert [looks_like_personnummer(v) for v in ["19850101-1234", "850101-1234", "198501011234", "851301-1234",
                                                 "850100-1234", "RAR-0001", "", None]] == [
        True, True, True, False, False, False, False, False]
