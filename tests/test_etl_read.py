"""Parsing rules of the data contract, sections 1–3: one test (at least) per rule."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from etl.aliases import match_header
from etl.load import check_files
from etl.cells import parse_amount, parse_date, parse_exit_reason, parse_sex, parse_share
from etl.normalise import normalise_table
from etl.read import Table, read_file
from tests.conftest import EXAMPLES, write_csv, write_xlsx

D = dt.date
PARTICIPANT_HEADER = ["Deltagar-ID", "Insats", "Kön", "Startdatum", "Slutdatum", "Avslutsorsak", "Remittent"]


def parse_file(path: Path):
    """(table kind, records, problems) of each table in the file."""
    result = check_files([path])
    return [(t.kind, t.records, t.problems) for f in result.files for t in f.tables], result


def records_of(path: Path) -> list[dict]:
    tables, result = parse_file(path)
    assert result.ok, "\n".join(map(str, result.problems))
    return [r for kind, recs, _ in tables if kind for r in recs]


# ---------------------------------------------------------------- files and sheets


def test_xlsx_every_sheet_is_read(tmp_path):
    path = write_xlsx(tmp_path / "two.xlsx", {
        "Steget": [PARTICIPANT_HEADER, ["S-1", "Steget före", "Kvinna", D(2021, 1, 4), None, None, None]],
        "Teamet": [PARTICIPANT_HEADER, ["T-1", "Teamet", "Man", D(2021, 2, 1), None, None, None],
                   ["T-2", "Teamet", "Man", D(2021, 3, 1), None, None, None]],
    })
    tables, result = parse_file(path)
    assert result.ok
    assert [(t.sheet, t.kind, len(t.records)) for t in result.files[0].tables] == [
        ("Steget", "participants", 1), ("Teamet", "participants", 2)]
    assert [r["participant_id"] for r in records_of(path)] == ["S-1", "T-1", "T-2"]


def test_unrecognised_sheet_is_skipped_with_a_notice(tmp_path):
    path = write_xlsx(tmp_path / "mixed.xlsx", {
        "Deltagare": [PARTICIPANT_HEADER, ["S-1", "Steget före", "Kvinna", D(2021, 1, 4), None, None, None]],
        "Anteckningar": [["Kom ihåg att skicka in före mars"], ["Hälsningar"]],
    })
    result = check_files([path])
    assert result.ok
    [notice] = result.problems
    assert (notice.severity, notice.file, notice.sheet, notice.row) == ("notis", "mixed.xlsx", "Anteckningar", None)
    assert notice.message == ("bladet känns inte igen som deltagare, anonyma deltagare, budget, insatsregister, "
                              "strukturövergripande insatser eller förbundets ekonomi och hoppas över")


def test_title_lines_and_blank_rows_above_the_header(tmp_path):
    path = write_xlsx(tmp_path / "export.xlsx", {"Blad1": [
        ["Samordningsförbundet Test – deltagarförteckning"],
        ["Uttag 2023-06-12"],
        [],
        [],
        PARTICIPANT_HEADER,
        ["P-1", "Steget före", "Kvinna", D(2021, 1, 4), None, None, None],
        [],
        ["P-2", "Steget före", "Man", D(2021, 2, 4), None, None, None],
    ]})
    [table] = check_files([path]).files[0].tables
    assert table.header_row == 5
    # fully blank rows are skipped; each record keeps the row number Excel shows
    assert [(r["_row"], r["participant_id"]) for r in table.records] == [(6, "P-1"), (8, "P-2")]


@pytest.mark.parametrize("word", ["Summa", "Totalt", "Total", "SUMMA", "Summa:"])
def test_trailing_summary_rows_are_skipped(tmp_path, word):
    path = write_xlsx(tmp_path / "with_sum.xlsx", {"Budget": [
        ["Insats", "År", "Budget", "Utfall"],
        ["Steget före", 2022, 100, 90],
        ["Steget före", 2023, 200, None],
        [],
        [word, None, 300, 90],
    ]})
    recs = records_of(path)
    assert [(r["year"], r["budget"]) for r in recs] == [(2022, Decimal("100.00")), (2023, Decimal("200.00"))]


def test_summary_row_in_a_later_column_is_skipped(tmp_path):
    # some exports leave the first column empty on the sum row: the first non-blank cell decides
    path = write_xlsx(tmp_path / "sum.xlsx", {"Budget": [
        ["Insats", "År", "Budget"], ["Steget före", 2022, 100], [None, "Totalt", 100]]})
    assert len(records_of(path)) == 1


# ---------------------------------------------------------------- dates


def test_real_date_cells(tmp_path):
    path = write_xlsx(tmp_path / "dates.xlsx", {"D": [
        PARTICIPANT_HEADER,
        ["P-1", "Steget före", "Kvinna", D(2021, 3, 5), dt.datetime(2021, 6, 30, 0, 0), None, None],
    ]})
    [r] = records_of(path)
    assert (r["start_date"], r["end_date"]) == (D(2021, 3, 5), D(2021, 6, 30))


@pytest.mark.parametrize("raw", ["2021-03-05", "2021/03/05", "05/03/2021", "2021-3-5", " 2021-03-05 ",
                                 "2021-03-05 00:00:00"])
def test_text_dates(raw):
    assert parse_date(raw) == D(2021, 3, 5)


@pytest.mark.parametrize("raw", [44260, 44260.0, "44260"])
def test_excel_serial_dates(raw):
    assert parse_date(raw) == D(2021, 3, 5)


def test_dates_in_xlsx_text_and_serial_cells(tmp_path):
    path = write_xlsx(tmp_path / "mixed_dates.xlsx", {"D": [
        PARTICIPANT_HEADER,
        ["P-1", "Steget före", "Kvinna", "2021/03/05", 44377, None, None],
        ["P-2", "Steget före", "Kvinna", "05/03/2021", "2021-06-30", None, None],
    ]})
    assert [(r["start_date"], r["end_date"]) for r in records_of(path)] == [
        (D(2021, 3, 5), D(2021, 6, 30)), (D(2021, 3, 5), D(2021, 6, 30))]


def test_blank_date_is_none():
    assert parse_date("") is None and parse_date(None) is None


@pytest.mark.parametrize("raw, message", [
    ("snart", "datumet går inte att tolka; skriv ÅÅÅÅ-MM-DD"),
    ("2021-02-30", "datumet finns inte i kalendern"),
    ("31/02/2021", "datumet finns inte i kalendern"),
    ("1850-01-01", "orimligt datum (1850-01-01); året ska ligga mellan 1990 och 2100"),
])
def test_bad_dates_raise_a_swedish_message(raw, message):
    with pytest.raises(ValueError) as exc:
        parse_date(raw)
    assert str(exc.value) == message


# ---------------------------------------------------------------- CSV dialects and encodings


@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
def test_csv_delimiter_is_detected(tmp_path, delimiter):
    path = write_csv(tmp_path / "d.csv", [
        ["Insats", "År", "Kostnadsslag", "Finansiär", "Budget", "Utfall"],
        ["Steget före", "2022", "Personal", "Förbundet", "441 058", ""],
        ["Steget före", "2022", "Lokal", "Förbundet", "30.000", "2 410 500,50"],
    ], delimiter=delimiter)
    assert [(r["category"], r["budget"], r["actual"]) for r in records_of(path)] == [
        ("Personal", Decimal("441058.00"), None), ("Lokal", Decimal("30000.00"), Decimal("2410500.50"))]


def test_txt_file_is_read_as_csv(tmp_path):
    path = write_csv(tmp_path / "export.txt", [["Insats", "År", "Kvinnor", "Män"], ["Teamet", "2021", "1", "2"]],
                     delimiter="\t")
    assert [(r["initiative"], r["women"], r["men"]) for r in records_of(path)] == [("Teamet", 1, 2)]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "cp1252"])
def test_csv_encodings_keep_swedish_letters(tmp_path, encoding):
    path = write_csv(tmp_path / f"enc-{encoding}.csv", [
        ["Deltagar-ID", "Insats", "Kön", "Startdatum", "Remittent"],
        ["P-1", "Övrigt stöd", "Kvinna", "2021-03-05", "Försäkringskassan"],
    ], encoding=encoding)
    [table] = read_file(path)
    assert table.rows[0] == ["Deltagar-ID", "Insats", "Kön", "Startdatum", "Remittent"]  # no BOM left on the first cell
    [r] = records_of(path)
    assert (r["initiative"], r["sex"], r["referrer"], r["agency"]) == (
        "Övrigt stöd", "woman", "Försäkringskassan", "Försäkringskassan")


def test_budget_csv_cp1252_kategori_ovrigt(tmp_path):
    path = write_csv(tmp_path / "b.csv", [["Insats", "År", "Kostnadsslag", "Budget"], ["Teamet", "2024", "Övrigt", "1"]],
                     encoding="cp1252")
    assert [r["category"] for r in records_of(path)] == ["Övrigt"]


def test_unsupported_file_type_is_an_error(tmp_path):
    path = tmp_path / "export.pdf"
    path.write_bytes(b"%PDF-1.4")
    result = check_files([path])
    assert not result.ok
    assert [(p.severity, p.file, p.message) for p in result.problems] == [
        ("fel", "export.pdf", "filtypen .pdf stöds inte; använd .xlsx, .csv eller .txt")]


# ---------------------------------------------------------------- amounts


@pytest.mark.parametrize("raw, expected", [
    ("2 410 500", "2410500.00"),
    ("2 410 500 kr", "2410500.00"),
    ("2 410 500 kr.", "2410500.00"),
    ("2\u00a0410\u00a0500", "2410500.00"),
    ("2\u00a0410\u00a0500\u00a0kr", "2410500.00"),
    ("1.277.950", "1277950.00"),
    ("30.000", "30000.00"),
    ("2 410 500,50", "2410500.50"),
    ("2\u00a0410\u00a0500,50", "2410500.50"),
    ("2.410.500,50", "2410500.50"),
    ("164,5", "164.50"),
    ("0", "0.00"),
    (2410500, "2410500.00"),
    (2410500.5, "2410500.50"),
    (164.5, "164.50"),
])
def test_amounts(raw, expected):
    assert parse_amount(raw) == Decimal(expected)


def test_blank_amount_is_none():
    assert parse_amount("") is None and parse_amount(None) is None


@pytest.mark.parametrize("raw, message", [
    ("-500", "beloppet är negativt"),
    (-500, "beloppet är negativt"),
    ("(500)", "beloppet är negativt"),
    ("cirka 5000", "beloppet går inte att tolka som kronor"),
    ("5 000 euro", "beloppet går inte att tolka som kronor"),
])
def test_bad_amounts(raw, message):
    with pytest.raises(ValueError) as exc:
        parse_amount(raw)
    assert str(exc.value) == message


def test_thousands_headers_multiply_by_1000(tmp_path):
    path = write_xlsx(tmp_path / "tkr.xlsx", {"Budget": [
        ["Insats", "År", "Kostnadsslag", "Budget (tkr)", "Utfall (kkr)"],
        ["Säter", 2018, "Övrigt", 200, 164.5],
        ["Säter", 2018, "Personal", "620", "598,25"],
    ]})
    assert [(r["category"], r["budget"], r["actual"]) for r in records_of(path)] == [
        ("Övrigt", Decimal("200000.00"), Decimal("164500.00")),
        ("Personal", Decimal("620000.00"), Decimal("598250.00")),
    ]


def test_parse_amount_multiplier():
    assert parse_amount(164.5, 1000) == Decimal("164500.00")


# ---------------------------------------------------------------- headers


@pytest.mark.parametrize("header", ["Deltagar-ID", "deltagar-id", "DELTAGAR ID", " Deltagar_ID ", "deltagar  id",
                                    "DeltagarID", "Löpnummer", "ID"])
def test_header_matching_ignores_case_spaces_dash_underscore(header):
    assert match_header(header) == ("participant_id", 1)


@pytest.mark.parametrize("header, expected", [
    ("Budget (tkr)", ("budget", 1000)),
    ("budget(TKR)", ("budget", 1000)),
    ("Utfall (kkr)", ("actual", 1000)),
    ("Utfall (kr)", ("actual", 1)),
    ("Faktisk kostnad", ("actual", 1)),
    ("Insatsens namn", ("initiative", 1)),
    ("Ålder vid start", ("age", 1)),
    ("mål andel kvinnor", ("target_women_share", 1)),
    ("Något helt annat", (None, 1)),
])
def test_header_aliases(header, expected):
    assert match_header(header) == expected


def test_messy_headers_in_a_file(tmp_path):
    path = write_csv(tmp_path / "h.csv", [
        [" deltagar_id ", "INSATS", "kön", "  START ", "avslutsDATUM", "försörjning-vid_start"],
        ["P-1", " Steget före ", "k", "2021-03-05", "", "Sjukpenning"],
    ])
    [r] = records_of(path)
    assert (r["participant_id"], r["initiative"], r["sex"], r["start_date"], r["end_date"], r["income_at_start"]) == (
        "P-1", "Steget före", "woman", D(2021, 3, 5), None, "Sjukpenning")


# ---------------------------------------------------------------- codes and values


@pytest.mark.parametrize("raw", [2, 2.0, "2", "2.0", "2,0", "2 - Fortsatt rehabilitering", "2 – Fortsatt rehabilitering",
                                 "2: fortsatt rehabilitering", "Till fortsatt rehabilitering",
                                 "Fortsatt rehabilitering", "fortsatt REHABILITERING"])
def test_exit_reason_forms(raw):
    assert parse_exit_reason(raw) == 2


def test_exit_reason_wording_of_each_code():
    assert [parse_exit_reason(w) for w in ["Till arbete, studier eller aktivt arbetssökande", "På grund av sjukdom",
                                           "Flyttat / ej aktuell längre", "Avbrutit / annan orsak",
                                           "Avliden / övrigt"]] == [1, 3, 4, 5, 6]


def test_blank_exit_reason_is_none():
    assert parse_exit_reason("") is None and parse_exit_reason(None) is None


@pytest.mark.parametrize("raw, message", [
    (7, "okänd avslutsorsak; giltiga koder är 1, 2, 3, 4, 5, 6"),
    ("0", "okänd avslutsorsak; giltiga koder är 1, 2, 3, 4, 5, 6"),
    ("Åkte till Mallorca", "okänd avslutsorsak; ange kod 1–6 eller orsakens namn"),
])
def test_unknown_exit_reason(raw, message):
    with pytest.raises(ValueError) as exc:
        parse_exit_reason(raw)
    assert str(exc.value) == message


@pytest.mark.parametrize("raw, expected", [
    ("Kvinna", "woman"), ("K", "woman"), ("kvinna", "woman"), ("F", "woman"), ("k", "woman"),
    ("Man", "man"), ("M", "man"), ("man", "man"), (" MAN ", "man"),
    ("Annat", "other"), ("Ickebinär", "other"),
    ("", "unknown"), (None, "unknown"), ("Okänt", "unknown"), ("Vill ej uppge", "unknown"),
    ("vill ej uppge", "unknown"),
])
def test_sex_values(raw, expected):
    assert parse_sex(raw) == expected


def test_unknown_sex_value():
    with pytest.raises(ValueError) as exc:
        parse_sex("X")
    assert str(exc.value) == "okänt värde för kön; använd Kvinna, Man, Annat eller lämna tomt"


@pytest.mark.parametrize("raw, expected", [
    ("50 %", 0.5), ("50%", 0.5), ("0,5", 0.5), ("0.5", 0.5), ("50", 0.5), (0.5, 0.5), (50, 0.5),
    ("40 %", 0.4), ("55\u00a0%", 0.55), ("12,5 %", 0.125), ("0 %", 0.0), ("100 %", 1.0),
])
def test_shares(raw, expected):
    assert parse_share(raw) == expected


@pytest.mark.parametrize("raw, message", [
    ("hälften", "andelen går inte att tolka; skriv t.ex. 50 %"),
    ("150 %", "andelen ska ligga mellan 0 och 100 %"),
])
def test_bad_shares(raw, message):
    with pytest.raises(ValueError) as exc:
        parse_share(raw)
    assert str(exc.value) == message


# ---------------------------------------------------------------- table kinds


@pytest.mark.parametrize("rows, kind", [
    ([["Deltagar-ID", "Insats", "Kön", "Startdatum"], ["P-1", "Teamet", "K", "2021-01-01"]], "participants"),
    ([["Löpnummer", "Projekt", "Kön", "Inskriven"], ["P-1", "Teamet", "K", "2021-01-01"]], "participants"),
    ([["Insats", "Inregistreringsår", "Kvinnor", "Män"], ["Teamet", "2021", "1", "2"]], "anonymous"),
    ([["Insats", "Budgetår", "Budget"], ["Teamet", "2021", "100"]], "budget"),
    ([["Insatsnamn", "År", "Kostnadspost", "Utfall"], ["Teamet", "2021", "Personal", "100"]], "budget"),
    ([["Insats", "Insatsägare", "Planerat antal deltagare"], ["Teamet", "Region", "20"]], "initiatives"),
    ([["Insatsens namn", "Mål andel kvinnor"], ["Teamet", "50 %"]], "initiatives"),
    ([["Namn", "Telefon"], ["Eva", "070-1234567"]], None),
])
def test_table_kinds_are_recognised_from_the_header(rows, kind):
    assert normalise_table(Table("x.csv", None, rows)).kind == kind


def test_anonymous_counts_read(tmp_path):
    path = write_csv(tmp_path / "anon.csv", [["Insats", "År", "Kvinnor", "Män", "Annat/Okänt"],
                                             ["Teamet", "2021", "3", "2", ""], ["Teamet", "2022", "0", "1", "1"]])
    assert [(r["year"], r["women"], r["men"], r["other"]) for r in records_of(path)] == [
        (2021, 3, 2, None), (2022, 0, 1, 1)]


def test_initiatives_register_read(tmp_path):
    path = write_xlsx(tmp_path / "reg.xlsx", {"Insatser": [
        ["Insats", "Insatsägare", "Samverkansparter", "Startdatum", "Slutdatum", "Planerat antal deltagare",
         "Mål andel kvinnor", "Mål andel till arbete/studier"],
        ["Teamet", "Region", "FK, Af", D(2024, 4, 1), "2026-12-31", 45, "50 %", 0.4],
    ]})
    [r] = records_of(path)
    assert {k: r[k] for k in ("initiative", "owner", "partners", "start_date", "end_date", "target_participants",
                              "target_women_share", "target_positive_share")} == {
        "initiative": "Teamet", "owner": "Region", "partners": "FK, Af", "start_date": D(2024, 4, 1),
        "end_date": D(2026, 12, 31), "target_participants": 45, "target_women_share": 0.5,
        "target_positive_share": 0.4}


# ---------------------------------------------------------------- the real example exports


def test_example_participant_export_gives_154_records():
    path = EXAMPLES / "deltagare_export_rar.xlsx"
    result = check_files([path])
    assert result.ok
    [table] = result.files[0].tables
    # title line, "Uttag …" line and a blank row above the header; a blank row and "Summa 154" below
    assert (table.sheet, table.kind, table.header_row, len(table.records)) == ("Deltagare", "participants", 4, 154)
    first, last = table.records[0], table.records[-1]
    assert (first["_row"], first["participant_id"], first["initiative"], first["sex"], first["start_date"],
            first["end_date"], first["exit_reason"], first["agency"]) == (
        5, "RAR-0001", "Steget före", "man", D(2022, 6, 29), D(2023, 6, 3), 3, "Region")
    assert (last["_row"], last["participant_id"]) == (158, "RAR-0154")
    # RAR-0003 has no consent: only sex, age and dates survive
    no_consent = table.records[2]
    assert (no_consent["participant_id"], no_consent["agency"], no_consent["sex"], no_consent["birth_year"]) == (
        None, "Uppgift saknas", "man", 1981)


def test_example_budget_in_tkr():
    recs = records_of(EXAMPLES / "budget_sater_tkr.xlsx")
    assert [(r["initiative"], r["year"], r["category"], r["budget"], r["actual"]) for r in recs] == [
        ("Samverkansteam Säter", 2018, "Personal", Decimal("620000.00"), Decimal("598000.00")),
        ("Samverkansteam Säter", 2018, "Lokaler", Decimal("80000.00"), Decimal("80000.00")),
        ("Samverkansteam Säter", 2018, "Övrigt", Decimal("200000.00"), Decimal("164500.00")),
    ]


def test_example_budget_csv_cp1252():
    recs = records_of(EXAMPLES / "budget_ansokningar.csv")
    assert len(recs) == 14
    spec_2024 = [r for r in recs if r["initiative"] == "Specialistteamet" and r["year"] == 2024]
    assert [(r["category"], r["funder"]) for r in spec_2024] == [("Personal", "Förbundet"), ("Övrigt", "Förbundet")]
    assert sum(r["budget"] for r in spec_2024) == Decimal("1277950")  # 1 037 950 + 240 000
    assert sum(r["actual"] for r in spec_2024) == Decimal("1199620")  # 1 001 220 kr + 198 400 kr
    steget_2022 = [r["budget"] for r in recs if r["initiative"] == "Steget före" and r["year"] == 2022]
    assert steget_2022 == [Decimal("441058.00"), Decimal("30000.00"), Decimal("15000.00"), Decimal("10000.00")]
    assert all(r["actual"] is None for r in recs if r["year"] in (2022, 2023, 2026))


def test_example_anonymous_counts():
    recs = records_of(EXAMPLES / "anonyma_deltagare.csv")
    assert [(r["initiative"], r["year"], r["women"], r["men"]) for r in recs] == [
        ("Specialistteamet", 2024, 3, 2), ("Specialistteamet", 2025, 4, 1), ("Steget före", 2022, 0, 1)]


def test_example_initiatives_register():
    recs = records_of(EXAMPLES / "insatser.xlsx")
    assert [(r["initiative"], r["owner"], r["target_participants"], r["target_women_share"],
             r["target_positive_share"]) for r in recs] == [
        ("Steget före", "Region Sörmland", 18, 0.5, None),
        ("Specialistteamet", "Eskilstuna kommun", 45, 0.5, 0.4),
        ("Samverkansteam Säter", "Säters kommun", 50, None, 0.55),
    ]
    assert recs[2]["partners"] == "Arbetsförmedlingen, Försäkringskassan, Landstinget Dalarna"
    assert (recs[2]["start_date"], recs[2]["end_date"]) == (D(2018, 4, 1), None)
