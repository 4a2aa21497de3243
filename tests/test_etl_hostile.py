"""Issue 8: messy, hostile and duplicated exports are read right or refused, and nothing changes.

One test (at least) per case of the issue, numbered as there. Every refusal is checked the same
way: the call is not ok, the database is byte for byte as before, no copy is left behind, and
the message names file, sheet, row and column in Swedish.
"""
from __future__ import annotations

import codecs
import datetime as dt
import os
import re
import subprocess
import sys
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from core.database import connect_read
from etl import limits
from etl.load import LoadResult, check_files, load_files
from core.problems import Problem
from tests.conftest import ROOT, run_cli, write_csv, write_xlsx

D = dt.date
HEADER = ["Deltagar-ID", "Insats", "Kön", "Startdatum", "Slutdatum", "Avslutsorsak", "Remittent"]
BUDGET = ["Insats", "År", "Kostnadsslag", "Budget", "Utfall"]
ANON = ["Insats", "År", "Kvinnor", "Män"]


def person(pid, initiative="Alfa", sex="Kvinna", start=D(2021, 1, 10), end=None, reason=None, referrer="FK"):
    return [pid, initiative, sex, start, end, reason, referrer]


def query(db: Path, sql: str) -> list[tuple]:
    with connect_read(db) as con:
        return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def template_db(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("template")
    first = write_xlsx(directory / "first.xlsx", {"Deltagare": [HEADER, person("P-0", initiative="Noll")]})
    assert load_files([first], directory / "f.duckdb").ok
    return directory / "f.duckdb"


@pytest.fixture()
def db(tmp_path, template_db) -> Path:
    """A database that already holds one load, so that "nothing changes" can be checked byte for byte."""
    path = tmp_path / "db" / "f.duckdb"
    path.parent.mkdir()
    path.write_bytes(template_db.read_bytes())
    return path


def _snapshots(db: Path) -> list[str]:
    d = db.parent / "snapshots"
    return sorted(p.name for p in d.iterdir()) if d.exists() else []


def refused(paths, db: Path) -> LoadResult:
    before, kept = db.read_bytes(), _snapshots(db)
    result = load_files(list(paths), db)
    assert not result.ok and not result.changed
    assert db.read_bytes() == before
    # no copy left behind, and no snapshot of a load that did not happen (earlier loads keep theirs)
    assert sorted(p.name for p in db.parent.iterdir() if p.name != "snapshots") == ["f.duckdb", "f.duckdb.lock"]
    assert _snapshots(db) == kept
    return result


def errors(result: LoadResult) -> list[tuple]:
    return [(p.file, p.sheet, p.row, p.column, p.message) for p in result.problems if p.severity == "fel"]


def loaded(paths, db: Path) -> LoadResult:
    result = load_files(list(paths), db)
    assert result.ok, "\n".join(map(str, result.problems))
    return result


def patch_xlsx(path: Path, member: str, change) -> Path:
    """Rewrite one part of an xlsx (its XML as text) in place."""
    with zipfile.ZipFile(path) as src:
        parts = [(i, src.read(i.filename)) for i in src.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in parts:
            out.writestr(info.filename, change(data.decode()).encode() if info.filename == member else data)
    return path


SHEET1 = "xl/worksheets/sheet1.xml"


# ---------------------------------------------------------------- 1–3: the same thing twice in one call


def test_case_1_the_same_budget_line_in_two_files_is_refused_naming_both(tmp_path, db):
    a = write_csv(tmp_path / "budget_a.csv", [BUDGET, ["Noll", "2021", "Personal", "100", ""]])
    b = write_csv(tmp_path / "budget_b.csv", [BUDGET, ["Noll", "2021", "Personal", "100", ""],
                                              ["Noll", "2022", "Personal", "50", ""]])
    [(file, sheet, row, column, message)] = errors(refused([a, b], db))
    assert (file, sheet, row, column) == ("budget_b.csv", None, 2, "Insats")
    assert message.startswith("budget för «Noll» 2021 finns också i budget_a.csv, rad 2. En budgetfil ersätter")
    assert "läs in filerna en i taget" in message and "slå ihop dem till en fil" in message
    # one at a time, the later replaces the earlier: the budget is 100, not 200
    loaded([a], db)
    loaded([b], db)
    assert query(db, "SELECT year, budget FROM budget_lines ORDER BY 1") == [
        (2021, Decimal("100.00")), (2022, Decimal("50.00"))]


def test_case_1_the_same_anonymous_count_in_two_files_is_refused(tmp_path, db):
    a = write_csv(tmp_path / "anon_a.csv", [ANON, ["Noll", "2021", "2", "1"]])
    b = write_xlsx(tmp_path / "anon_b.xlsx", {"Anonyma": [ANON, ["Noll", 2021, 2, 1]]})
    [(file, sheet, row, column, message)] = errors(refused([a, b], db))
    assert (file, sheet, row, column) == ("anon_b.xlsx", "Anonyma", 2, "Insats")
    assert message.startswith("anonyma deltagare för «Noll» 2021 finns också i anon_a.csv, rad 2.")


def test_case_1_the_same_budget_line_twice_in_one_file_is_refused(tmp_path, db):
    path = write_xlsx(tmp_path / "budget.xlsx", {
        "Förbundet": [BUDGET, ["Noll", 2021, "Personal", 100, None]],
        "Kopia": [BUDGET, ["Noll", 2021, "Lokaler", 50, None], ["noll", 2021, "personal", 100, None]],
    })
    assert errors(refused([path], db)) == [(
        "budget.xlsx", "Kopia", 3, "Insats",
        "samma budgetrad (insats, år, kostnadsslag och finansiär), som annars skulle räknas två gånger, finns redan "
        "på blad Förbundet, rad 2")]


def test_case_1_a_totalt_line_beside_other_categories_is_refused(tmp_path, db):
    path = write_csv(tmp_path / "budget.csv", [BUDGET, ["Noll", "2021", "Personal", "100", ""],
                                               ["Noll", "2021", "Lokaler", "50", ""],
                                               ["Noll", "2021", "Totalt", "150", ""]])
    [(file, _, row, column, message)] = errors(refused([path], db))
    assert (file, row, column) == ("budget.csv", 4, "Kostnadsslag")
    assert "summan skulle räknas två gånger" in message


def test_case_1_budget_split_over_sheets_of_one_file_loads(tmp_path, db):
    # the same initiative-year on two sheets with different lines is one budget, not a clash
    path = write_xlsx(tmp_path / "budget.xlsx", {
        "Förbundet": [["Insats", "År", "Kostnadsslag", "Finansiär", "Budget"], ["Noll", 2021, "Personal", "Förbundet", 100]],
        "ESF": [["Insats", "År", "Kostnadsslag", "Finansiär", "Budget"], ["Noll", 2021, "Personal", "ESF", 40]],
    })
    loaded([path], db)
    assert query(db, "SELECT funder, budget FROM budget_lines ORDER BY 1") == [
        ("ESF", Decimal("40.00")), ("Förbundet", Decimal("100.00"))]


def test_case_2_two_snapshots_of_one_initiative_in_one_call_are_refused(tmp_path, db):
    jan = write_xlsx(tmp_path / "jan.xlsx", {"Deltagare": [HEADER, person("A-1"), person("A-2")]})
    feb = write_xlsx(tmp_path / "feb.xlsx", {"Deltagare": [HEADER, person("A-1", end=D(2021, 2, 1), reason=1),
                                                           person("A-3", start=D(2021, 2, 1))]})
    [(file, sheet, row, column, message)] = errors(refused([jan, feb], db))
    assert (file, sheet, row, column) == ("feb.xlsx", "Deltagare", 2, "Insats")
    assert message.startswith("deltagare i insatsen «Alfa» finns också i jan.xlsx, blad Deltagare, rad 2. "
                              "En deltagarexport ersätter allt som finns för insatsen")
    # one at a time the later replaces the earlier, as designed
    loaded([jan], db)
    loaded([feb], db)
    assert query(db, "SELECT participant_id, end_date FROM enrollments WHERE initiative = 'Alfa' ORDER BY 1") == [
        ("A-1", D(2021, 2, 1)), ("A-3", None)]


def test_case_2_a_snapshot_already_loaded_is_skipped_not_a_clash(tmp_path, db):
    jan = write_xlsx(tmp_path / "jan.xlsx", {"Deltagare": [HEADER, person("A-1"), person("A-2")]})
    feb = write_xlsx(tmp_path / "feb.xlsx", {"Deltagare": [HEADER, person("A-1", end=D(2021, 2, 1), reason=1)]})
    loaded([jan], db)
    result = loaded([jan, feb], db)
    assert [f.skipped for f in result.files] == [True, False]
    assert query(db, "SELECT participant_id FROM enrollments WHERE initiative = 'Alfa'") == [("A-1",)]


def test_case_2_the_same_file_twice_in_one_call_is_read_once(tmp_path, db):
    jan = write_xlsx(tmp_path / "jan.xlsx", {"Deltagare": [HEADER, person("A-1")]})
    copy = tmp_path / "kopia.xlsx"
    copy.write_bytes(jan.read_bytes())
    result = loaded([jan, copy], db)
    assert [(f.skipped, f.duplicate_of) for f in result.files] == [(False, None), (True, "jan.xlsx")]
    assert query(db, "SELECT count(*) FROM enrollments WHERE initiative = 'Alfa'") == [(1,)]
    done = run_cli("load", "--db", db, jan, copy)
    assert "kopia.xlsx: samma innehåll som jan.xlsx – läses bara in en gång" in done.stdout


def test_case_2_two_files_of_the_same_name_are_told_apart(tmp_path, db):
    (tmp_path / "jan").mkdir()
    (tmp_path / "feb").mkdir()
    jan = write_csv(tmp_path / "jan" / "deltagare.csv", [HEADER, ["A-1", "Alfa", "K", "2021-01-10", "", "", ""]])
    feb = write_csv(tmp_path / "feb" / "deltagare.csv", [HEADER, ["A-2", "Alfa", "K", "2021-02-10", "", "", ""]])
    [(file, _, _, _, message)] = errors(refused([jan, feb], db))
    assert file == str(feb)
    assert f"finns också i {jan}, rad 2" in message


def test_case_3_one_enrollment_in_two_files_is_refused_not_overwritten(tmp_path, db):
    a = write_csv(tmp_path / "a.csv", [HEADER, ["A-1", "Alfa", "K", "2021-01-10", "", "", ""]])
    b = write_csv(tmp_path / "b.csv", [HEADER, ["A-1", "Alfa", "M", "2021-01-10", "2021-05-01", "1", ""]])
    [(file, _, row, _, message)] = errors(refused([a, b], db))
    assert (file, row) == ("b.csv", 2) and "finns också i a.csv, rad 2" in message


def test_case_3_one_enrollment_on_two_sheets_of_one_file_is_refused(tmp_path, db):
    path = write_xlsx(tmp_path / "d.xlsx", {"2021": [HEADER, person("A-1")],
                                            "2022": [HEADER, person("A-1", sex="Man"), person("A-2")]})
    assert errors(refused([path], db)) == [
        ("d.xlsx", "2022", 2, "Deltagar-ID", "samma deltagare, insats och startdatum finns redan på blad 2021, rad 2")]


# ---------------------------------------------------------------- 4–5: CSV structure


def test_case_4_an_unbalanced_quote_is_refused_naming_the_row(tmp_path, db):
    path = tmp_path / "quote.csv"
    path.write_text("Deltagar-ID;Insats;Kön;Startdatum\r\nA-1;\"Alfa;K;2021-01-10\r\nA-2;Alfa;K;2021-01-11\r\n"
                    "A-3;Alfa;K;2021-01-12\r\nA-4;Alfa;K;2021-01-13\r\n", encoding="utf-8")
    found = errors(refused([path], db))
    assert found[0] == ("quote.csv", None, 2, None,
                        'ett citattecken (") öppnas på rad 2 men stängs inte förrän på rad 5, så raderna däremellan '
                        'har lästs som en enda cell. Ta bort citattecknet, eller skriv det dubbelt ("") om det ska stå '
                        "i texten")


def test_case_4_a_quote_closed_further_down_is_refused_too(tmp_path, db):
    path = tmp_path / "quote.csv"
    path.write_text('Deltagar-ID;Insats;Kön;Startdatum\nA-1;"Alfa;K;2021-01-10\nA-2;Alfa";K;2021-01-11\n'
                    "A-3;Alfa;K;2021-01-12\n", encoding="utf-8")
    assert errors(refused([path], db))[0][2:4] == (2, None)


def test_case_4_a_quoted_line_break_inside_a_cell_is_read(tmp_path, db):
    path = tmp_path / "ok.csv"
    path.write_text('Deltagar-ID;Insats;Kön;Startdatum;Remittent\nA-1;Alfa;K;2021-01-10;"Vårdcentralen\nNorr"\n'
                    "A-2;Alfa;K;2021-01-11;FK\n", encoding="utf-8")
    loaded([path], db)
    assert query(db, "SELECT participant_id, referrer_unit FROM enrollments WHERE initiative = 'Alfa' ORDER BY 1") == [
        ("A-1", "Vårdcentralen Norr"), ("A-2", "FK")]


def test_case_5_a_row_with_more_fields_than_the_header_is_refused(tmp_path, db):
    path = tmp_path / "comma.csv"
    path.write_text("Insats,År,Kvinnor,Män\nNoll,2021,1,5,2\nNoll,2022,3,4\n", encoding="utf-8")
    assert errors(refused([path], db)) == [(
        "comma.csv", None, 2, None,
        "raden har 5 fält men rubrikraden bara 4, så värdena hamnar under fel rubrik. Troligen står "
        "avgränsningstecknet i ett värde utan citattecken (t.ex. 1,5 i en kommaseparerad fil); sätt värdet inom "
        "citattecken eller ta bort det extra fältet")]


def test_case_5_a_quoted_decimal_comma_is_one_field(tmp_path, db):
    path = tmp_path / "comma.csv"
    path.write_text('Insats,År,Budget (tkr)\nNoll,2021,"1,5"\n', encoding="utf-8")
    loaded([path], db)
    assert query(db, "SELECT budget FROM budget_lines") == [(Decimal("1500.00"),)]


def test_case_5_trailing_empty_fields_are_harmless(tmp_path, db):
    path = tmp_path / "trailing.csv"
    path.write_text("Insats;År;Kvinnor;Män\nNoll;2021;1;2;;\n", encoding="utf-8")
    loaded([path], db)


# ---------------------------------------------------------------- 6–8: what Excel files hide


def test_case_6_formulas_without_a_cached_value_are_refused_naming_the_cells(tmp_path, db):
    path = write_xlsx(tmp_path / "script.xlsx", {"Budget": [
        ["Insats", "År", "Budget", "Utfall", "Anteckning"],
        ["Noll", 2021, 100, "=C2*0.9", "=A2"],  # openpyxl writes formulas and no value: never calculated
        ["Noll", 2022, "=C2+10", None, None],
    ]})
    assert errors(refused([path], db)) == [
        ("script.xlsx", "Budget", 2, "Utfall", "cell D2: formeln i cellen har inget sparat värde (arbetsboken har "
         "skapats av ett program och aldrig räknats om i Excel), så cellen skulle läsas som tom. Öppna filen i Excel, "
         "spara den och försök igen"),
        ("script.xlsx", "Budget", 3, "Budget", "cell C3: formeln i cellen har inget sparat värde (arbetsboken har "
         "skapats av ett program och aldrig räknats om i Excel), så cellen skulle läsas som tom. Öppna filen i Excel, "
         "spara den och försök igen"),
    ]  # E2 lies in a column that is not read: no matter


def test_case_6_a_row_of_only_uncached_formulas_is_not_taken_for_blank(tmp_path, db):
    path = write_xlsx(tmp_path / "script.xlsx", {"Anonyma": [ANON, ["Noll", 2021, 1, 1], ["=A2", "=B2+1", "=C2", "=D2"]]})
    assert [e[2:4] for e in errors(refused([path], db))] == [(3, "Insats"), (3, "År"), (3, "Kvinnor"), (3, "Män")]


def test_case_6_formulas_with_cached_values_and_excel_errors(tmp_path, db):
    path = write_xlsx(tmp_path / "calc.xlsx", {"Budget": [["Insats", "År", "Budget", "Utfall"],
                                                          ["Noll", 2021, 100, "=C2*0.9"], ["Noll", 2022, 100, "=1/0"]]})
    # as Excel saves it: the formula's result cached in <v>, an error as t="e"
    patch_xlsx(path, SHEET1, lambda x: x.replace("<f>C2*0.9</f><v></v>", "<f>C2*0.9</f><v>90</v>")
               .replace('<c r="D3"><f>1/0</f><v></v></c>', '<c r="D3" t="e"><f>1/0</f><v>#DIV/0!</v></c>'))
    assert errors(refused([path], db)) == [(
        "calc.xlsx", "Budget", 3, "Utfall",
        "cell D3: cellen innehåller Excel-felet #DIV/0!, som annars skulle läsas som tom; rätta formeln eller skriv in "
        "värdet")]
    patch_xlsx(path, SHEET1, lambda x: x.replace('t="e"><f>1/0</f><v>#DIV/0!</v>', '><f>1/1</f><v>95</v>'))
    loaded([path], db)
    assert query(db, "SELECT year, actual FROM budget_lines ORDER BY 1") == [
        (2021, Decimal("90.00")), (2022, Decimal("95.00"))]


def _workbook(path: Path, sheets: dict[str, tuple[str, list[list]]]) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, (state, rows) in sheets.items():
        ws = wb.create_sheet(name)
        ws.sheet_state = state
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


@pytest.mark.parametrize("state, words", [("hidden", "dolt"), ("veryHidden", "mycket dolt (kan bara visas med VBA)")])
def test_case_7_a_hidden_sheet_with_a_table_is_refused(tmp_path, db, state, words):
    path = _workbook(tmp_path / "h.xlsx", {"Deltagare": ("visible", [HEADER, person("A-1")]),
                                           "Gammal": (state, [HEADER, person("A-1", initiative="Beta")])})
    assert errors(refused([path], db)) == [(
        "h.xlsx", "Gammal", None, None,
        f"bladet är {words} i Excel men innehåller en tabell med deltagare; det läses inte in utan att du har sett "
        "det. Visa bladet om det ska läsas in (högerklicka på en bladflik → Visa), eller ta bort det")]


def test_case_7_a_hidden_sheet_of_lists_is_skipped_with_a_notice(tmp_path, db):
    path = _workbook(tmp_path / "h.xlsx", {"Deltagare": ("visible", [HEADER, person("A-1")]),
                                           "Listor": ("hidden", [["Kvinna"], ["Man"]])})
    result = loaded([path], db)
    assert [(p.severity, p.sheet, p.message) for p in result.problems] == [
        ("notis", "Listor", "bladet är dolt och känns inte igen som deltagare, anonyma deltagare, budget, "
                            "insatsregister, strukturövergripande insatser eller förbundets ekonomi och hoppas över")]


def test_case_8_two_tables_side_by_side_are_refused(tmp_path, db):
    path = write_xlsx(tmp_path / "side.xlsx", {"Blad1": [
        [*ANON, None, *ANON],
        ["Noll", 2021, 1, 2, None, "Beta", 2021, 3, 4],
    ]})
    assert errors(refused([path], db)) == [(
        "side.xlsx", "Blad1", 1, None,
        "rubrikraden har två grupper av kända rubriker med tom kolumn emellan (kolumn A–D och F–I): två tabeller "
        "bredvid varandra läses inte, eftersom den ena annars skulle tappas. Lägg varje tabell på ett eget blad, "
        "eller ta bort den tomma kolumnen om det är en och samma tabell")]


def test_case_8_duplicate_headers_are_refused(tmp_path, db):
    path = write_csv(tmp_path / "dup.csv", [["Insats", "År", "Kvinnor", "Män", "Kvinnor"], ["Noll", "2021", "1", "2", "3"]])
    assert errors(refused([path], db)) == [(
        "dup.csv", None, 1, "Kvinnor",
        "kolumn E («Kvinnor») betyder samma sak som kolumn C («Kvinnor»), Kvinnor; ta bort eller byt namn på den "
        "ena, så att det är klart vilken som gäller")]


def test_case_8_two_aliases_of_one_field_are_refused(tmp_path, db):
    path = write_csv(tmp_path / "dup.csv", [["Insats", "År", "Budgetår", "Budget"], ["Noll", "2021", "2022", "1"]])
    [(_, _, row, column, message)] = errors(refused([path], db))
    assert (row, column) == (1, "Budgetår") and message.startswith("kolumn C («Budgetår») betyder samma sak som kolumn B")


# ---------------------------------------------------------------- 9–10: encodings and Unicode


def test_case_9_utf8_with_one_windows_byte_is_refused_naming_the_line(tmp_path, db):
    path = tmp_path / "mixed.csv"
    path.write_bytes("Deltagar-ID;Insats;Kön;Startdatum\nA-1;Rätt stöd;K;2021-01-10\n".encode()
                     + "A-2;Rätt stöd;K;2021-01-11\n".encode("cp1252"))
    assert errors(refused([path], db)) == [(
        "mixed.csv", None, 3, None,
        "filen är sparad som UTF-8, men rad 3 innehåller ett tecken som inte är giltig UTF-8 (byte 0xE4, troligen "
        "inklistrat från ett program som skriver Windows-1252). Filen läses inte, så att inga namn blir fel; rätta "
        'tecknet eller spara filen igen som "CSV UTF-8"')]


def test_case_9_windows_1252_alone_is_read(tmp_path, db):
    path = write_csv(tmp_path / "ansi.csv", [HEADER, ["A-1", "Rätt stöd", "K", "2021-01-10", "", "", "Försäkringskassan"]],
                     encoding="cp1252")
    loaded([path], db)
    assert query(db, "SELECT initiative, agency FROM enrollments WHERE participant_id = 'A-1'") == [
        ("Rätt stöd", "Försäkringskassan")]


def test_case_9_a_byte_that_is_neither_utf8_nor_windows_1252_is_refused(tmp_path, db):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"Insats;\xc5r;Kvinnor;M\xe4n\nNoll;2021;1;2\nNo\x81ll;2022;1;2\n")
    [(_, _, row, _, message)] = errors(refused([path], db))
    assert row == 3 and message.startswith("rad 3 innehåller ett tecken (byte 0x81) som varken är UTF-8 eller Windows-1252")


def test_case_10_nfc_nfd_and_zero_width_are_one_initiative(tmp_path, db):
    nfc = "Rätt stöd"
    nfd = "Ra\u0308tt sto\u0308d"
    zw = "Rätt\u200b stöd\u00a0"
    path = write_xlsx(tmp_path / "u.xlsx", {"D": [HEADER, person("A-1", initiative=nfc), person("A-2", initiative=nfd),
                                                  person("A-3", initiative=zw)]})
    loaded([path], db)
    assert query(db, "SELECT initiative, count(*) FROM enrollments WHERE participant_id LIKE 'A-%' GROUP BY 1") == [
        ("Rätt stöd", 3)]
    assert query(db, "SELECT count(*) FROM enrollments WHERE initiative <> nfc_normalize(initiative)") == [(0,)]


def test_case_10_a_referrer_in_nfd_and_case_variants_are_one_unit(tmp_path, db):
    path = write_xlsx(tmp_path / "u.xlsx", {"D": [
        HEADER,
        person("A-1", referrer="Fo\u0308rsa\u0308kringskassan"),  # NFD, as a Mac may write it
        person("A-2", referrer="Vårdcentralen Norr"),
        person("A-3", referrer="VÅRDCENTRALEN NORR"),
        person("A-4", referrer="vårdcentralen  norr"),
    ]})
    result = loaded([path], db)
    assert [p for p in result.problems if p.severity == "varning"] == []  # nothing fell to Annan
    assert query(db, "SELECT participant_id, referrer_unit, agency FROM enrollments WHERE initiative = 'Alfa' "
                     "ORDER BY 1") == [
        ("A-1", "Försäkringskassan", "Försäkringskassan"), ("A-2", "Vårdcentralen Norr", "Region"),
        ("A-3", "Vårdcentralen Norr", "Region"), ("A-4", "Vårdcentralen Norr", "Region")]


def test_case_10_a_later_load_keeps_the_spelling_already_stored(tmp_path, db):
    first = write_csv(tmp_path / "a.csv", [HEADER, ["A-1", "Alfa", "K", "2021-01-10", "", "", "Jobbtorg Väst"]])
    later = write_csv(tmp_path / "b.csv", [HEADER, ["B-1", "Beta", "K", "2021-01-10", "", "", "JOBBTORG VÄST"]])
    loaded([first], db)
    loaded([later], db)
    assert query(db, "SELECT DISTINCT referrer_unit FROM enrollments WHERE initiative IN ('Alfa', 'Beta')") == [
        ("Jobbtorg Väst",)]


def test_case_10_headers_in_nfd_are_recognised(tmp_path, db):
    path = write_csv(tmp_path / "h.csv",
                     [["Deltagar-ID", "Insats", "Ko\u0308n", "Startdatum"], ["A-1", "Alfa", "K", "2021-01-10"]])
    loaded([path], db)


# ---------------------------------------------------------------- 11–13: dates, summary rows, control characters


def test_case_11_dates_far_ahead_are_refused(tmp_path, db):
    from etl.cells import today

    soon, far = today() + dt.timedelta(days=20), today() + dt.timedelta(days=400)
    path = write_xlsx(tmp_path / "d.xlsx", {"D": [
        HEADER,
        person("A-1", start=D(2099, 1, 1)),
        person("A-2", start=D(2021, 1, 1), end=D(2099, 12, 31), reason=1),
        person("A-3", start=far),
        person("A-4", start=D(2021, 1, 1), end=soon, reason=1),  # an end just coming is fine
        person("A-5", start=soon),  # a planned start within the year is fine
    ]})
    assert errors(refused([path], db)) == [
        ("d.xlsx", "D", 2, "Startdatum", "startdatumet ligger mer än ett år fram i tiden; kontrollera årtalet"),
        ("d.xlsx", "D", 3, "Slutdatum", "slutdatumet ligger i framtiden (mer än 31 dagar efter i dag); lämna Slutdatum "
                                        "tomt för den som fortfarande är inskriven"),
        ("d.xlsx", "D", 4, "Startdatum", "startdatumet ligger mer än ett år fram i tiden; kontrollera årtalet"),
    ]


def test_case_11_the_default_year_cannot_become_2099(tmp_path, db):
    from metrics.catalog import default_year, years

    anon = write_csv(tmp_path / "anon.csv", [ANON, ["Noll", "2099", "1", "1"]])
    budget = write_csv(tmp_path / "budget.csv", [BUDGET, ["Noll", "2099", "Personal", "1", ""]])
    found = errors(refused([anon, budget], db))
    assert [(f, r, c) for f, _, r, c, _ in found] == [("anon.csv", 2, "År"), ("budget.csv", 2, "År")]
    with connect_read(db) as con:
        assert default_year(con, 2026) == 2021 and 2099 not in years(con)


def test_case_11_the_register_may_plan_ten_years_ahead_not_more(tmp_path, db):
    from etl.cells import today

    header = ["Insats", "Insatsägare", "Startdatum", "Planerat slut"]
    ok = write_xlsx(tmp_path / "reg.xlsx", {"R": [header, ["Noll", "Region", D(2021, 1, 1), today() + dt.timedelta(days=3000)]]})
    loaded([ok], db)
    far = write_xlsx(tmp_path / "reg2.xlsx", {"R": [header, ["Noll", "Region", D(2021, 1, 1), D(2099, 12, 31)]]})
    assert errors(refused([far], db)) == [
        ("reg2.xlsx", "R", 2, "Planerat slut", "datumet ligger mer än tio år fram i tiden; kontrollera årtalet")]


def test_case_11_an_exit_reason_without_an_end_date_is_refused(tmp_path, db):
    path = write_xlsx(tmp_path / "d.xlsx", {"D": [HEADER, person("A-1", reason=2)]})
    assert errors(refused([path], db)) == [(
        "d.xlsx", "D", 2, "Avslutsorsak",
        "avslutsorsak utan slutdatum; fyll i slutdatum, eller ta bort avslutsorsaken om deltagaren fortfarande är "
        "inskriven")]


def test_case_11_a_birth_year_after_the_start_is_refused(tmp_path, db):
    path = write_csv(tmp_path / "d.csv", [["Deltagar-ID", "Insats", "Kön", "Startdatum", "Födelseår"],
                                          ["A-1", "Alfa", "K", "2021-01-10", "2022"]])
    assert errors(refused([path], db)) == [
        ("d.csv", None, 2, "Födelseår", "födelseåret ligger efter startdatumet (2021-01-10)")]


def test_case_12_a_summary_row_in_the_middle_is_refused(tmp_path, db):
    path = write_xlsx(tmp_path / "b.xlsx", {"Budget": [
        BUDGET,
        ["Noll", 2021, "Personal", 100, None],
        ["Summa Noll", None, None, 100, None],
        ["Noll", 2022, "Personal", 120, None],
        ["Totalt", None, None, 220, None],
    ]})
    assert errors(refused([path], db)) == [(
        "b.xlsx", "Budget", 3, None,
        "raden ser ut som en summeringsrad men står mitt i tabellen, så det går inte att veta om den är en delsumma "
        "(som skulle räknas dubbelt) eller data. Ta bort raden, eller flytta summeringen under tabellen")]


def test_case_12_totalt_as_a_category_is_data_not_a_summary(tmp_path, db):
    path = write_xlsx(tmp_path / "b.xlsx", {"Budget": [["Kostnadsslag", "Insats", "År", "Budget"],
                                                       ["Totalt", "Noll", 2021, 100], ["Totalt", "Noll", 2022, 120]]})
    loaded([path], db)
    assert query(db, "SELECT year, category, budget FROM budget_lines ORDER BY 1") == [
        (2021, "Totalt", Decimal("100.00")), (2022, "Totalt", Decimal("120.00"))]


def test_case_12_a_header_only_file_is_refused(tmp_path, db):
    path = write_csv(tmp_path / "tom.csv", [HEADER])
    assert errors(refused([path], db)) == [
        ("tom.csv", None, None, None, "filen har rubriker men inga datarader; kontrollera att exporten inte blev tom")]
    done = run_cli("load", "--db", db, path)
    assert done.returncode == 1
    assert "FEL: tom.csv, –, –, –, –: filen har rubriker men inga datarader" in done.stderr


def test_case_12_a_header_only_sheet_beside_data_is_a_warning(tmp_path, db):
    path = write_xlsx(tmp_path / "d.xlsx", {"2021": [HEADER, person("A-1")], "2022": [HEADER]})
    result = loaded([path], db)
    assert [(p.severity, p.sheet, p.row, p.message) for p in result.problems] == [
        ("varning", "2022", 1, "bladet har rubriker men inga datarader och hoppas över")]


def test_case_13_control_characters_are_refused_and_never_echoed(tmp_path, db):
    path = write_csv(tmp_path / "ctl.csv", [
        HEADER,
        ["A-1", "Alfa\x1b[2J\x1b[31m", "K", "2021-01-10", "", "", ""],
        ["A-2", "Alfa", "K", "2021-01-11", "", "", "FK\x00"],
    ])
    found = errors(refused([path], db))
    assert [(r, c) for _, _, r, c, _ in found] == [(2, "Insats"), (3, "Remittent")]
    assert found[0][4].startswith("cellen innehåller osynliga styrtecken")
    done = run_cli("load", "--db", db, path)
    assert done.returncode == 1
    output = done.stdout + done.stderr
    assert "\x1b" not in output and "\x00" not in output
    assert '"Alfa␛[2J␛[31m"' in output  # shown, harmless


def test_case_13_control_characters_in_a_file_name_are_not_echoed(tmp_path, db):
    path = write_csv(tmp_path / "x\x1b[31m\x07.csv", [["Namn", "Telefon"], ["Eva", "1"]])
    done = run_cli("check", "--db", db, path)
    assert done.returncode == 1
    assert "\x1b" not in done.stderr and "\x07" not in done.stderr and "x␛[31m␇.csv" in done.stderr


# ---------------------------------------------------------------- 14: limits before reading


def _far_cell(path: Path, dimension: str | None) -> Path:
    """A few kB: one cell at XFD1048576, with the given <dimension> (None: none at all)."""
    write_xlsx(path, {"D": [ANON, ["Noll", 2021, 1, 1]]})
    far = '<row r="1048576"><c r="XFD1048576" t="n"><v>1</v></c></row></sheetData>'

    def change(xml: str) -> str:
        xml = re.sub(r'<dimension ref="[^"]*"/>', "" if dimension is None else f'<dimension ref="{dimension}"/>', xml)
        return xml.replace("</sheetData>", far)
    return patch_xlsx(path, SHEET1, change)


@pytest.mark.parametrize("dimension, words", [
    ("A1:XFD1048576", "bladet anger att det är 1 048 576 rader × 16 384 kolumner stort"),
    ("A1:D2", "bladet har celler ända ut till XFD1048576"),
    (None, "bladet har celler ända ut till XFD1048576"),
])
def test_case_14_a_cell_at_xfd1048576_is_refused_before_reading(tmp_path, db, dimension, words):
    path = _far_cell(tmp_path / "far.xlsx", dimension)
    assert path.stat().st_size < 10_000
    [(file, sheet, row, column, message)] = errors(refused([path], db))
    assert (file, sheet, row, column) == ("far.xlsx", "D", None, None)
    assert message.startswith(words)


def test_case_14_the_refusal_needs_little_memory(tmp_path):
    """In a process allowed 2 GB of address space: calamine alone would ask for hundreds of GB and abort."""
    path = _far_cell(tmp_path / "far.xlsx", None)
    code = ("import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30)); "
            "from etl.load import check_files; r = check_files([sys.argv[1]]); "
            "print(r.ok, r.problems[0].message[:30])")
    done = subprocess.run([sys.executable, "-c", code, str(path)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False bladet har celler ända ut till"


def test_case_14_a_sheet_that_expands_a_thousandfold_is_refused(tmp_path, db):
    path = write_xlsx(tmp_path / "bomb.xlsx", {"D": [ANON, ["Noll", 2021, 1, 1]]})
    rows = "".join(f'<row r="{r}"><c r="E{r}" t="inlineStr"><is><t>{"x" * 20_000}</t></is></c></row>'
                   for r in range(3, 603))
    patch_xlsx(path, SHEET1, lambda x: x.replace("</sheetData>", rows + "</sheetData>"))
    with zipfile.ZipFile(path) as z:
        part = z.getinfo(SHEET1)
    assert part.file_size > limits.RATIO_FLOOR and part.file_size > limits.MAX_XLSX_RATIO * part.compress_size
    [(_, _, _, _, message)] = errors(refused([path], db))
    assert message.startswith(f"en del av arbetsboken ({SHEET1}) packas upp ")
    assert message.endswith(f"gånger större än den är packad (gränsen är {limits.MAX_XLSX_RATIO}); filen läses inte")


def test_case_14_limits_on_size_and_cells(tmp_path, db, monkeypatch):
    path = write_xlsx(tmp_path / "d.xlsx", {"D": [ANON, *[["Noll", 2000 + i, 1, 1] for i in range(20)]]})
    monkeypatch.setattr(limits, "MAX_SHEET_CELLS", 40)  # 21 rows × 4 columns = 84 cells
    [(_, sheet, _, _, message)] = errors(refused([path], db))
    assert sheet == "D" and message.startswith("bladet anger att det är 21 rader × 4 kolumner stort (upp till cell D21)")
    monkeypatch.setattr(limits, "MAX_SHEET_CELLS", 6_000_000)
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", 1000)
    [(_, _, _, _, message)] = errors(refused([path], db))
    assert message.startswith("filen är 0 MB, mer än gränsen 0 MB")


def test_case_14_styled_empty_cells_far_out_do_not_count(tmp_path, db):
    # Excel writes a formatted but empty cell as <c r=".." s="1"/>; calamine ignores it, and so do the limits
    path = write_xlsx(tmp_path / "d.xlsx", {"D": [ANON, ["Noll", 2021, 1, 1]]})
    patch_xlsx(path, SHEET1, lambda x: x.replace("</sheetData>", '<row r="900000"><c r="Z900000" s="0"/></row>'
                                                                 "</sheetData>"))
    loaded([path], db)


# ---------------------------------------------------------------- 15: Swedish messages with a place


def _english(result: LoadResult) -> list[str]:
    words = ("Cannot", "codec", "Error", "error", "Traceback", "Conversion", "constraint", "Invalid")
    return [str(p) for p in result.problems if any(w in str(p) for w in words)]


def test_case_15_a_zero_byte_xlsx(tmp_path, db):
    path = tmp_path / "tom.xlsx"
    path.write_bytes(b"")
    result = refused([path], db)
    assert errors(result) == [("tom.xlsx", None, None, None, "filen är tom (0 byte)")]


def test_case_15_a_truncated_xlsx(tmp_path, db):
    path = write_xlsx(tmp_path / "kort.xlsx", {"D": [ANON, ["Noll", 2021, 1, 1]]})
    path.write_bytes(path.read_bytes()[:1500])
    [(_, _, _, _, message)] = errors(refused([path], db))
    assert message.startswith("filen är ingen giltig Excel-arbetsbok (xlsx): den är skadad, avkortad")


def test_case_15_an_xlsx_renamed_csv_is_read_as_excel(tmp_path, db):
    path = write_xlsx(tmp_path / "export.xlsx", {"D": [ANON, ["Noll", 2021, 1, 1]]})
    renamed = path.rename(tmp_path / "export.csv")
    result = loaded([renamed], db)
    assert [(p.severity, p.message) for p in result.problems] == [
        ("notis", "filen heter .csv men är en Excel-arbetsbok och läses som en sådan")]
    assert query(db, "SELECT initiative, year, women FROM anonymous_counts") == [("Noll", 2021, 1)]


def test_case_15_a_csv_named_xlsx_is_read_as_text(tmp_path, db):
    path = write_csv(tmp_path / "export.xlsx", [ANON, ["Noll", "2021", "1", "1"]])
    result = loaded([path], db)
    assert [p.message for p in result.problems] == ["filen heter .xlsx men är en textfil (CSV) och läses som en sådan"]


def test_case_15_an_old_xls_is_refused(tmp_path, db):
    path = tmp_path / "gammal.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    [(_, _, _, _, message)] = errors(refused([path], db))
    assert message.startswith("filen är i Excels gamla format (.xls) eller lösenordsskyddad")


def test_case_15_a_one_megabyte_cell(tmp_path, db):
    big = "x" * 1_000_000
    csv_path = tmp_path / "big.csv"
    csv_path.write_text(f"Insats;År;Kvinnor;Män\n{big};2021;1;1\n", encoding="utf-8")
    result = refused([csv_path], db)
    assert errors(result) == [("big.csv", None, 2, None, "en cell på rad 2 eller senare är längre än 131 072 tecken, "
                                                         'ofta för att ett citattecken (") aldrig stängs; rätta filen')]
    xlsx_path = write_xlsx(tmp_path / "big.xlsx", {"D": [ANON, [big[:32_000], 2021, 1, 1]]})
    result = refused([xlsx_path], db)
    [problem] = [p for p in result.problems if p.severity == "fel"]
    assert (problem.row, problem.column) == (2, "Insats")
    assert problem.message.startswith("cellen är 32 000 tecken lång; högst 1 000 tecken läses in i en cell")
    assert len(str(problem)) < 400  # the value is cut short in the message


@pytest.mark.parametrize("amount, message", [
    (1e308, "beloppet är orimligt stort (mer än 1 000 000 000 kr på en rad); kontrollera beloppet och enheten (kr "
            "eller tkr)"),
    ("1e308", "beloppet går inte att tolka som kronor"),
    (10**18, "beloppet är orimligt stort (mer än 1 000 000 000 kr på en rad); kontrollera beloppet och enheten (kr "
             "eller tkr)"),
    ("123456789012345678901", "beloppet är orimligt stort (mer än 1 000 000 000 kr på en rad); kontrollera beloppet "
                              "och enheten (kr eller tkr)"),
])
def test_case_15_absurd_amounts(tmp_path, db, amount, message):
    path = write_xlsx(tmp_path / "b.xlsx", {"Budget": [["Insats", "År", "Budget"], ["Noll", 2021, amount]]})
    result = refused([path], db)
    assert errors(result) == [("b.xlsx", "Budget", 2, "Budget", message)]
    assert _english(result) == []


def test_case_15_amounts_in_tkr_are_capped_after_the_multiplication(tmp_path, db):
    path = write_csv(tmp_path / "b.csv", [["Insats", "År", "Budget (tkr)"], ["Noll", "2021", "2000000"]])
    [(_, _, row, column, message)] = errors(refused([path], db))
    assert (row, column) == (2, "Budget (tkr)") and message.startswith("beloppet är orimligt stort")


@pytest.mark.parametrize("raw", [1e308, 10**12, "inf", "NaN", -1e308])
def test_case_15_absurd_numbers_in_dates_and_counts(tmp_path, db, raw):
    path = write_xlsx(tmp_path / "d.xlsx", {"D": [[*HEADER, "Födelseår"], [*person("A-1", start=raw), raw]]})
    result = refused([path], db)
    assert [(r, c) for _, _, r, c, _ in errors(result)] == [(2, "Startdatum"), (2, "Födelseår")]
    assert _english(result) == []


def test_case_15_a_repeated_register_row(tmp_path, db):
    register = ["Insats", "Insatsägare"]
    a = write_xlsx(tmp_path / "reg.xlsx", {"Insatser": [register, ["Noll", "Region"]], "Kopia": [register, ["noll", "Kommun"]]})
    result = refused([a], db)
    assert errors(result) == [("reg.xlsx", "Kopia", 2, "Insats", "insatsen (i registret) finns redan på blad Insatser, rad 2")]
    b = write_csv(tmp_path / "reg2.csv", [register, ["Noll", "Region"]])
    c = write_csv(tmp_path / "reg3.csv", [register, ["Noll", "Kommun"]])
    [(file, _, _, _, message)] = errors(refused([b, c], db))
    assert file == "reg3.csv" and message.startswith("insatsen «Noll» i insatsregistret finns också i reg2.csv, rad 2")


def test_case_15_a_missing_file_and_a_directory(tmp_path, db):
    result = refused([tmp_path / "finns-inte.csv", tmp_path], db)
    assert [(f, m) for f, _, _, _, m in errors(result)] == [
        ("finns-inte.csv", "filen finns inte"), (tmp_path.name, "det är en mapp, inte en fil")]
    folder = tmp_path / "mapp.csv"
    folder.mkdir()
    assert [m for _, _, _, _, m in errors(refused([folder], db))] == ["det är en mapp, inte en fil"]
    pipe = tmp_path / "pipe.csv"
    os.mkfifo(pipe)  # reading it would wait for ever
    assert [m for _, _, _, _, m in errors(refused([pipe], db))] == [
        "det är ingen vanlig fil (en enhet eller en namngiven pipe)"]


# ---------------------------------------------------------------- 16: Unicode text


@pytest.mark.parametrize("encoding, bom", [("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", codecs.BOM_UTF16_BE),
                                           ("utf-16-le", b""), ("utf-32-le", codecs.BOM_UTF32_LE)])
def test_case_16_unicode_text_is_read(tmp_path, db, encoding, bom):
    """Swedish Excel's "Unicode-text": UTF-16 LE with a BOM, tab-separated."""
    text = "Deltagar-ID\tInsats\tKön\tStartdatum\tRemittent\r\nA-1\tÖvrigt stöd\tKvinna\t2021-01-10\tFörsäkringskassan\r\n"
    path = tmp_path / "unicode.txt"
    path.write_bytes(bom + text.encode(encoding))
    loaded([path], db)
    assert query(db, "SELECT participant_id, initiative, sex, agency FROM enrollments WHERE participant_id = 'A-1'") == [
        ("A-1", "Övrigt stöd", "woman", "Försäkringskassan")]


def test_case_16_truncated_utf16_is_refused(tmp_path, db):
    path = tmp_path / "unicode.txt"
    path.write_bytes(codecs.BOM_UTF16_LE + "Insats\tÅr\tKvinnor\tMän\r\nNoll\t2021\t1\t1\r\n".encode("utf-16-le")[:-1])
    [(_, _, row, _, message)] = errors(refused([path], db))
    assert row == 2 and message.startswith("filen är sparad som Unicode-text (UTF-16) men är trasig vid rad 2")


# ---------------------------------------------------------------- 20–21: personnummer


PNR_SPELLINGS = [
    "19850101-1234", "850101-1234", "198501011234", "8501011234", "850101+1234",
    "850101–1234",  # en dash
    "850101/1234", "850101.1234", "850101 1234", "pnr 850101-1234", "Personnr: 19850101-1234",
    "850161-1234",  # samordningsnummer: day + 60
    "050115-5125", 501155125,  # born in the 2000s, and the same as a number that lost its leading zero
    "501155125",  # ... and as text from a CSV that Excel had already turned into a number
    "８５０１０１－１２３４",  # fullwidth
    "850101-1235",  # a wrong check digit: still points at a person
]


@pytest.mark.parametrize("pnr", PNR_SPELLINGS)
def test_case_20_a_personnummer_in_any_spelling_is_refused(tmp_path, db, pnr):
    path = write_xlsx(tmp_path / "d.xlsx", {"D": [HEADER, person(pnr)]})
    result = refused([path], db)
    message = ("id:t ser ut som ett personnummer; personuppgifter får inte föras in i databasen, så filen avvisas. "
               "Använd ett pseudonymt löpnummer")
    if str(pnr) == "501155125":  # a bare number: the message says how it may have come about
        message += (". Ett tal med 7–9 siffror kan vara ett personnummer från 2000-talet vars inledande nollor "
                    "Excel har tagit bort; är det ett löpnummer, låt det börja med en bokstav")
    assert errors(result) == [("d.xlsx", "D", 2, "Deltagar-ID", message)]
    assert all(p.value in (None, "(visas inte)") for p in result.problems)


@pytest.mark.parametrize("column", ["Insats", "Remittent", "Försörjning vid start", "Utbildning", "Förbund"])
def test_case_20_a_personnummer_in_any_stored_column_is_refused(tmp_path, db, column):
    header = [*HEADER, "Försörjning vid start", "Utbildning", "Förbund"]
    row = [*person("A-1"), "Sjukpenning", "Gymnasial", "Förbundet"]
    row[header.index(column)] = f"Ring 070-123 45 67 eller 19850101-1234 ({column})"
    path = write_xlsx(tmp_path / "d.xlsx", {"D": [header, row]})
    assert errors(refused([path], db)) == [(
        "d.xlsx", "D", 2, column,
        "cellen innehåller något som ser ut som ett personnummer eller samordningsnummer; personuppgifter får inte "
        "föras in i databasen, så filen avvisas. Ta bort numret ur cellen (även ett telefonnummer eller annat nummer "
        "som har samma form)")]


@pytest.mark.parametrize("column, value", [("Kostnadsslag", "Lön 850101-1234"), ("Finansiär", "8501011234")])
def test_case_20_in_budget_columns(tmp_path, db, column, value):
    header = ["Insats", "År", "Kostnadsslag", "Finansiär", "Budget"]
    row = ["Noll", 2021, "Personal", "Förbundet", 100]
    row[header.index(column)] = value
    path = write_xlsx(tmp_path / "b.xlsx", {"B": [header, row]})
    assert [(r, c) for _, _, r, c, _ in errors(refused([path], db))] == [(2, column)]


def test_case_20_register_owner_and_a_phone_number_shaped_like_one(tmp_path, db):
    path = write_csv(tmp_path / "reg.csv", [["Insats", "Insatsägare"], ["Noll", "Kommunen, tel 0701234567"]])
    [(_, _, row, column, message)] = errors(refused([path], db))
    assert (row, column) == (2, "Insatsägare") and "Ta bort numret ur cellen (även ett telefonnummer" in message


@pytest.mark.parametrize("pid", ["RAR-0001", "12345", "1234567890", "2021-0001", "P-850101", "556677-8899",
                                 "20210305", "0001-1234"])
def test_case_20_pseudonymous_ids_and_organisation_numbers_pass(tmp_path, db, pid):
    path = write_xlsx(tmp_path / "d.xlsx", {"D": [HEADER, person(pid)]})
    loaded([path], db)


def test_case_20_no_personnummer_reaches_the_database_through_a_file_name(tmp_path, db):
    path = write_csv(tmp_path / "export 850101-1234.csv", [ANON, ["Noll", "2021", "1", "1"]])
    loaded([path], db)
    assert query(db, "SELECT file_name FROM load_history ORDER BY load_id DESC LIMIT 1") == [
        ("export [personnummer dolt].csv",)]


def test_case_21_no_message_carries_the_number(tmp_path, db):
    pnr = "19850101-1234"
    path = write_xlsx(tmp_path / "d.xlsx", {"D": [
        [*HEADER, "Samtycke"],
        [*person("A-1", sex=pnr, start=pnr), pnr],
        [*person("A-2", referrer=f"Mottagning {pnr}")],
        [*person("A-3", referrer="Okänd enhet 501155125")],
    ]})
    result = refused([path], db)
    assert len(errors(result)) == 5
    done = run_cli("check", "--db", db, path)
    for text in [*map(str, result.problems), done.stdout, done.stderr]:
        digits = re.sub(r"\D", "", text)
        assert "8501011234" not in digits and "501155125" not in digits, text


def test_case_21_the_duplicate_id_and_referrer_messages_mask_it(tmp_path, db):
    # even where a message quotes a value on purpose, the number is masked
    p = Problem("fel", "x.csv", None, 3, "Deltagar-ID", "850101-1234",
                "samma deltagare, insats och startdatum finns redan på rad 2")
    w = Problem("varning", "x.csv", None, 3, "Remittent", "Enhet 8501011234",
                "remittenten matchar ingen myndighet i data/referrers.csv och räknas som Annan (1 rad)")
    assert str(p) == ('FEL: x.csv, –, rad 3, Deltagar-ID, "[personnummer dolt]": samma deltagare, insats och '
                      "startdatum finns redan på rad 2")
    assert str(w).startswith('VARNING: x.csv, –, rad 3, Remittent, "Enhet [personnummer dolt]": remittenten')


def test_every_example_export_still_loads(tmp_path):
    from tests.conftest import example_exports

    files = example_exports()
    result = load_files(files, tmp_path / "f.duckdb")
    assert result.ok, [str(p) for p in result.problems]
    assert not [p for p in result.problems if p.severity == "fel"]


def test_check_never_writes(tmp_path, db):
    before = db.read_bytes()
    path = write_csv(tmp_path / "anon.csv", [ANON, ["Noll", "2021", "1", "1"]])
    assert check_files([path], db).ok
    assert db.read_bytes() == before


# ---------------------------------------------------------------- issue 22 §11: XML with a DTD

LAUGHS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
          + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'
                    for i in range(1, 10))
          + ']>\n')
EXTERNAL = ('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE r [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n')


def _with_dtd(path: Path, member: str, dtd: str, entity: str) -> Path:
    def change(xml: str) -> str:
        body = re.sub(r"^<\?xml[^>]*\?>\s*", "", xml)
        return dtd + body.replace("Alfa", entity, 1) if "Alfa" in body else dtd + body
    return patch_xlsx(path, member, change)


@pytest.mark.parametrize("member, dtd, entity", [
    ("xl/workbook.xml", LAUGHS, "&lol9;"),  # billion laughs in the part we parse ourselves
    ("xl/styles.xml", LAUGHS, ""),  # … and in a part calamine would parse
    (SHEET1, EXTERNAL, "&secret;"),  # an external entity reading a server file
    ("_rels/.rels", EXTERNAL, ""),
    ("[Content_Types].xml", LAUGHS, ""),
])
def test_issue_22_a_workbook_with_a_dtd_is_refused_in_swedish_and_nothing_changes(tmp_path, db, member, dtd, entity):
    path = write_xlsx(tmp_path / "bomb.xlsx", {"Deltagare": [HEADER, person("A-1")]})
    with zipfile.ZipFile(path) as zf:
        assert member in zf.namelist()
    _with_dtd(path, member, dtd, entity)
    result = refused([path], db)
    assert [(f, m) for f, _, _, _, m in errors(result)] == [
        ("bomb.xlsx", "arbetsboken innehåller XML med egna definitioner (DTD eller entiteter), något Excel aldrig "
                      "skriver och som kan användas för att angripa servern; filen läses inte. Öppna den i Excel och "
                      "spara den som en ny arbetsbok")]


def test_issue_22_a_dtd_hidden_behind_a_long_prolog_is_refused(tmp_path, db):
    path = write_xlsx(tmp_path / "padded.xlsx", {"Deltagare": [HEADER, person("A-1")]})
    _with_dtd(path, "xl/workbook.xml", '<?xml version="1.0"?>\n<!--' + "x" * 70_000 + '-->\n' + LAUGHS[22:], "")
    assert "DTD eller entiteter" in errors(refused([path], db))[0][4]


def test_issue_22_the_parts_we_read_as_xml_go_through_defusedxml(tmp_path):
    """Even past the prolog check, our own XML parsing refuses a DTD (defusedxml, forbid_dtd)."""
    from etl import xlsx
    from core.problems import FileRefused

    path = tmp_path / "x.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a.xml", EXTERNAL + "<r>&secret;</r>")
        zf.writestr("b.xml", "<r>ok</r>")
    with zipfile.ZipFile(path) as zf:
        members = {i.filename: i for i in zf.infolist()}
        assert xlsx._xml(zf, members, "b.xml").text == "ok"
        with pytest.raises(FileRefused, match="DTD eller entiteter"):
            xlsx._xml(zf, members, "a.xml")


def test_issue_22_a_plain_workbook_still_loads(tmp_path, db):
    """The check refuses DTDs, not the ordinary prolog Excel writes."""
    path = write_xlsx(tmp_path / "ok.xlsx", {"Deltagare": [HEADER, person("A-1")]})
    loaded([path], db)
