"""Issue 13: the register's follow-up fields, structural initiatives' counts and the association's economy,
loaded to the loader's standard: every problem named by file, sheet, row, column and value, and nothing changed.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from etl.load import load_files
from etl.validate import party_group
from tests.conftest import made_before_issue_13, write_csv, write_xlsx
from tests.test_etl_hostile import db, errors, loaded, query, refused, template_db  # noqa: F401 (fixtures)

ECONOMY = ["År", "Post", "Part", "Budget", "Utfall"]
STRUCTURAL = ["Insats", "År", "Antal deltagare"]
THIS_YEAR = dt.date.today().year


def allocation(year=2024, state=500, region=250, towns=(("Kommunerna", 250),)):
    return [[year, "Tilldelade medel", "Försäkringskassan", state, state],
            [year, "Tilldelade medel", "Region Test", region, region],
            *[[year, "Tilldelade medel", t, a, a] for t, a in towns]]


def economy_xlsx(tmp_path, *rows, name="ekonomi.xlsx", header=ECONOMY):
    """A sheet "Ekonomi" with a title line and a blank row: the header is on row 3, data from row 4."""
    return write_xlsx(tmp_path / name, {"Ekonomi": [["Förbundets ekonomi"], [], header, *rows]})


def warnings(result) -> list[tuple]:
    return [(p.file, p.sheet, p.row, p.column, p.value, p.message) for p in result.problems if p.severity == "varning"]


# ---------------------------------------------------------------- the register


def test_register_fields_are_stored_with_their_spellings(tmp_path, db):
    path = write_xlsx(tmp_path / "insatser.xlsx", {"Insatser": [
        ["Insats", "Insatsägare", "Inriktning", "Målgrupp", "Budgeterat antal deltagare", "ESF-finansierad"],
        ["Alfa", "Kommunen", "individinriktad insats", "Unga  vuxna", 40, "ja"],
        ["Beta", "Regionen", "Struktur-övergripande", None, None, "NEJ"],
        ["Gamma", "Regionen", None, None, 12, None],
    ]})
    loaded([path], db)
    assert query(db, "SELECT initiative, direction, target_group, target_participants, esf FROM initiatives "
                     "WHERE initiative <> 'Noll' ORDER BY 1") == [
        ("Alfa", "individual", "Unga vuxna", 40, True), ("Beta", "structural", None, None, False),
        ("Gamma", None, None, 12, None)]


def test_a_register_without_the_new_columns_loads_as_before(tmp_path, db):
    path = write_csv(tmp_path / "reg.csv", [["Insats", "Insatsägare", "Planerat antal deltagare"], ["Alfa", "K", "5"]])
    loaded([path], db)
    assert query(db, "SELECT direction, target_group, esf, target_participants FROM initiatives "
                     "WHERE initiative = 'Alfa'") == [(None, None, None, 5)]


@pytest.mark.parametrize("value, message", [
    ("båda", "en insats som är både individinriktad och strukturövergripande registreras som två insatser"),
    ("Individinriktad och strukturövergripande", "en insats som är både individinriktad och strukturövergripande"),
    ("Förebyggande", "okänd inriktning; skriv Individinriktad eller Strukturövergripande"),
])
def test_a_direction_that_is_both_or_unknown_is_refused(tmp_path, db, value, message):
    path = write_csv(tmp_path / "reg.csv", [["Insats", "Inriktning"], ["Alfa", "Individinriktad"], ["Beta", value]])
    [(file, sheet, row, column, found)] = errors(refused([path], db))
    assert (file, sheet, row, column) == ("reg.csv", None, 3, "Inriktning") and found.startswith(message)


def test_esf_must_be_yes_or_no(tmp_path, db):
    path = write_csv(tmp_path / "reg.csv", [["Insats", "ESF"], ["Alfa", "kanske"]])
    assert errors(refused([path], db)) == [("reg.csv", None, 2, "ESF", "ESF-finansiering ska vara Ja eller Nej (eller "
                                                                       "lämnas tom om den inte är känd)")]


# ---------------------------------------------------------------- structural initiatives' counts


def test_structural_counts_are_their_own_kind_and_table(tmp_path, db):
    path = write_csv(tmp_path / "struktur.csv", [STRUCTURAL, ["Nätverket", "2023", "120"], ["nätverket", "2024", "95"]])
    result = loaded([path], db)
    assert result.files[0].kinds == ["structural"]
    assert query(db, "SELECT initiative, year, participants FROM structural_counts ORDER BY year") == [
        ("Nätverket", 2023, 120), ("Nätverket", 2024, 95)]  # one spelling
    assert query(db, "SELECT count(*) FROM enrollments WHERE initiative ILIKE 'nätverket'") == [(0,)]
    assert query(db, "SELECT count(*) FROM anonymous_counts") == [(0,)]


@pytest.mark.parametrize("row, column, value, message", [
    (["Nätverket", "tjugohundra", "5"], "År", "tjugohundra", "ska vara ett årtal"),
    (["Nätverket", str(THIS_YEAR + 1), "5"], "År", str(THIS_YEAR + 1), f"ska vara ett årtal mellan 1990 och {THIS_YEAR}"),
    (["Nätverket", "2023", "-4"], "Antal deltagare", "-4", "ska vara ett icke-negativt heltal mellan 0 och 100000"),
    (["Nätverket", "2023", "4,5"], "Antal deltagare", "4,5", "ska vara ett icke-negativt heltal"),
    (["Nätverket", "2023", ""], "Antal deltagare", None, "värde saknas i obligatorisk kolumn Antal deltagare"),
])
def test_bad_structural_values_are_refused(tmp_path, db, row, column, value, message):
    path = write_csv(tmp_path / "struktur.csv", [STRUCTURAL, ["Nätverket", "2022", "3"], row])
    result = refused([path], db)
    [problem] = [p for p in result.problems if p.severity == "fel"]
    assert (problem.file, problem.sheet, problem.row, problem.column, problem.value) == (
        "struktur.csv", None, 3, column, value)
    assert problem.message.startswith(message)


def test_the_same_structural_count_twice_is_refused(tmp_path, db):
    path = write_xlsx(tmp_path / "s.xlsx", {"2023": [STRUCTURAL, ["Nätverket", 2023, 5]],
                                            "Kopia": [STRUCTURAL, ["nätverket", 2023, 5]]})
    assert errors(refused([path], db)) == [(
        "s.xlsx", "Kopia", 2, "Insats",
        "samma insats och år (antalet skulle annars räknas två gånger) finns redan på blad 2023, rad 2")]


def test_two_files_with_the_same_structural_count_are_refused_naming_both(tmp_path, db):
    a = write_csv(tmp_path / "a.csv", [STRUCTURAL, ["Nätverket", "2023", "5"]])
    b = write_csv(tmp_path / "b.csv", [STRUCTURAL, ["Nätverket", "2024", "7"], ["Nätverket", "2023", "5"]])
    [(file, sheet, row, column, message)] = errors(refused([a, b], db))
    assert (file, sheet, row, column) == ("b.csv", None, 3, "Insats")
    assert message.startswith("antal deltagare för «Nätverket» 2023 finns också i a.csv, rad 2. En fil med "
                              "strukturövergripande insatser ersätter")


def test_a_personnummer_or_a_control_character_in_structural_counts_is_refused(tmp_path, db):
    path = write_csv(tmp_path / "s.csv", [STRUCTURAL, ["Nätverk 850101-1234", "2023", "5"],
                                          ["Nätverk\x1b[31m", "2023", "6"]])
    found = errors(refused([path], db))
    assert [(r, c) for _, _, r, c, _ in found] == [(2, "Insats"), (3, "Insats")]
    assert "personnummer" in found[0][4] and found[1][4].startswith("cellen innehåller osynliga styrtecken")
    assert all("850101" not in str(p) for p in refused([path], db).problems)


def test_money_in_a_structural_counts_file_is_refused_not_dropped(tmp_path, db):
    path = write_csv(tmp_path / "s.csv", [[*STRUCTURAL, "Budget"], ["Nätverket", "2023", "5", "100 000"]])
    [(file, _, row, column, message)] = errors(refused([path], db))
    assert (file, row, column) == ("s.csv", 1, "Budget")
    assert message.startswith("en tabell med antal deltagare i strukturövergripande insatser läser inga belopp")


@pytest.mark.parametrize("other", ["register", "participants"])
def test_an_initiative_is_not_both_individual_and_structural_in_one_load(tmp_path, db, other):
    counts = write_csv(tmp_path / "s.csv", [STRUCTURAL, ["Alfa", "2023", "5"]])
    if other == "register":
        second = write_csv(tmp_path / "reg.csv", [["Insats", "Inriktning"], ["Alfa", "Individinriktad"]])
        why = "insatsen är individinriktad enligt insatsregistret (reg.csv, rad 2)"
    else:
        second = write_csv(tmp_path / "d.csv", [["Deltagar-ID", "Insats", "Kön", "Startdatum"],
                                                 ["A-1", "Alfa", "K", "2023-02-01"]])
        why = "insatsen har deltagare med individuppgifter (d.csv, rad 2)"
    [(file, _, row, column, message)] = errors(refused([second, counts], db))
    assert (file, row, column) == ("s.csv", 2, "Insats")
    assert message.startswith(why) and "registreras som två insatser" in message


def test_a_register_calling_an_initiative_with_participants_structural_is_refused(tmp_path, db):
    reg = write_csv(tmp_path / "reg.csv", [["Insats", "Inriktning"], ["Alfa", "Strukturövergripande"]])
    people = write_csv(tmp_path / "d.csv", [["Deltagar-ID", "Insats", "Kön", "Startdatum"],
                                            ["A-1", "Alfa", "K", "2023-02-01"]])
    [(file, _, row, column, message)] = errors(refused([reg, people], db))
    assert (file, row, column) == ("reg.csv", 2, "Inriktning")
    assert message.startswith("insatsen anges som strukturövergripande men har deltagare med individuppgifter (d.csv, "
                              "rad 2)")


# ---------------------------------------------------------------- the association's economy


def test_economy_is_stored_per_year_post_and_party(tmp_path, db):
    path = economy_xlsx(tmp_path, *allocation(2024, towns=(("Flens kommun", 100), ("Kommunen Vingåker", 150))),
                        [2024, "Administration", None, "120 000 kr", "118 500,50"],
                        [2024, "eget kapital vid årets början", None, None, 900],
                        [2024, "Utgående eget kapital", None, None, 1000])
    result = loaded([path], db)
    assert result.files[0].kinds == ["economy"] and warnings(result) == []
    assert query(db, "SELECT item, party, party_group, budget, actual FROM economy_lines ORDER BY item, party") == [
        ("administration", None, None, Decimal("120000.00"), Decimal("118500.50")),
        ("allocated", "Flens kommun", "municipalities", Decimal("100.00"), Decimal("100.00")),
        ("allocated", "Försäkringskassan", "state", Decimal("500.00"), Decimal("500.00")),
        ("allocated", "Kommunen Vingåker", "municipalities", Decimal("150.00"), Decimal("150.00")),
        ("allocated", "Region Test", "region", Decimal("250.00"), Decimal("250.00")),
        ("equity_end", None, None, None, Decimal("1000.00")),
        ("equity_start", None, None, None, Decimal("900.00"))]


def test_belopp_and_tkr_are_read_as_amounts(tmp_path, db):
    path = write_csv(tmp_path / "e.csv", [["År", "Post", "Part", "Belopp (tkr)"], ["2024", "Eget kapital vid årets slut",
                                                                                   "", "1 250,5"]])
    loaded([path], db)
    assert query(db, "SELECT item, budget, actual FROM economy_lines") == [("equity_end", None, Decimal("1250500.00"))]


@pytest.mark.parametrize("row, column, value, message", [
    (["tjugotjugofyra", "Administration", None, 5, 5], "År", "tjugotjugofyra", "ska vara ett årtal"),
    ([1850, "Administration", None, 5, 5], "År", "1850", "ska vara ett årtal mellan 1990 och"),
    ([2024, "Administration", None, -5, 5], "Budget", "-5", "beloppet är negativt"),
    ([2024, "Eget kapital vid årets slut", None, None, "−1 000"], "Utfall", "−1 000", "beloppet är negativt"),
    ([2024, "Lokaler", None, 5, 5], "Post", "Lokaler", "okänd post; förbundets ekonomi har posterna Tilldelade medel"),
    ([2024, "Eget kapital", None, 5, 5], "Post", "Eget kapital", "ange om eget kapital gäller årets början eller slut"),
    ([2024, "Tilldelade medel", "Sparbanken", 5, 5], "Part", "Sparbanken", "okänd part; ange Staten (Försäkringskassan)"),
    ([2024, "Tilldelade medel", "Region och kommun", 5, 5], "Part", "Region och kommun", "okänd part"),
    ([2024, "Tilldelade medel", None, 5, 5], "Part", None, "Tilldelade medel behöver en part"),
])
def test_bad_economy_rows_are_refused(tmp_path, db, row, column, value, message):
    path = economy_xlsx(tmp_path, [2023, "Administration", None, 10, 10], row)
    result = refused([path], db)
    [problem] = [p for p in result.problems if p.severity == "fel"]
    assert (problem.file, problem.sheet, problem.row, problem.column, problem.value) == (
        "ekonomi.xlsx", "Ekonomi", 5, column, value)
    assert problem.message.startswith(message)


def test_the_same_economy_line_twice_is_refused(tmp_path, db):
    path = economy_xlsx(tmp_path, *allocation(), [2024, "tilldelade medel", "försäkringskassan", 500, 500])
    assert errors(refused([path], db)) == [(
        "ekonomi.xlsx", "Ekonomi", 7, "Post",
        "samma post (år, post och part), som annars skulle räknas två gånger, finns redan på rad 4")]


def test_two_files_with_the_same_economy_year_are_refused_naming_both(tmp_path, db):
    a = economy_xlsx(tmp_path, [2024, "Administration", None, 10, 10], name="a.xlsx")
    b = write_csv(tmp_path / "b.csv", [ECONOMY, ["2023", "Administration", "", "9", "9"],
                                       ["2024", "Administration", "", "10", "10"]])
    [(file, sheet, row, column, message)] = errors(refused([a, b], db))
    assert (file, sheet, row, column) == ("b.csv", None, 3, "År")
    assert message.startswith("förbundets ekonomi för 2024 finns också i a.xlsx, blad Ekonomi, rad 4. En fil med "
                              "förbundets ekonomi ersätter")


def test_a_newer_economy_file_replaces_the_years_it_covers(tmp_path, db):
    loaded([economy_xlsx(tmp_path, [2023, "Administration", None, 9, 9], [2024, "Administration", None, 10, 10],
                         name="a.xlsx")], db)
    loaded([write_csv(tmp_path / "b.csv", [ECONOMY, ["2024", "Administration", "", "11", ""]])], db)
    assert query(db, "SELECT year, budget, actual FROM economy_lines ORDER BY year") == [
        (2023, Decimal("9.00"), Decimal("9.00")), (2024, Decimal("11.00"), None)]


def test_an_economy_file_without_post_or_amounts_is_refused(tmp_path, db):
    path = write_csv(tmp_path / "e.csv", [["År", "Part", "Kommentar"], ["2024", "Försäkringskassan", "x"]])
    assert [(r, c, m) for _, _, r, c, m in errors(refused([path], db))] == [
        (1, "Post", "obligatorisk kolumn saknas för förbundets ekonomi: Post"),
        (1, "Belopp", "obligatorisk kolumn saknas: Belopp, Utfall eller Budget (minst en av dem)")]


def test_a_budget_file_that_lost_its_insats_column_says_so(tmp_path, db):
    path = write_csv(tmp_path / "budget.csv", [["År", "Kostnadsslag", "Budget"], ["2024", "Personal", "100"]])
    [(_, _, row, column, message)] = errors(refused([path], db))
    assert (row, column) == (2, "Kostnadsslag") and "en budget för insatser behöver kolumnen Insats" in message


def test_a_party_for_another_post_is_a_warning(tmp_path, db):
    path = economy_xlsx(tmp_path, [2024, "Administration", "Förbundet", 10, 10])
    result = loaded([path], db)
    assert warnings(result) == [("ekonomi.xlsx", "Ekonomi", 4, "Part", "Förbundet",
                                 "part anges bara för Tilldelade medel och läses inte för posten Administration")]
    assert query(db, "SELECT party FROM economy_lines") == [(None,)]


# ---------------------------------------------------------------- 50/25/25


def test_allocations_shared_50_25_25_load_without_a_warning(tmp_path, db):
    result = loaded([economy_xlsx(tmp_path, *allocation(2024, 9_800_000, 4_900_000,
                                                        (("Flens kommun", 2_000_000), ("Nyköpings kommun", 2_900_000))))],
                    db)
    assert warnings(result) == []


def test_allocations_shared_otherwise_are_flagged_but_loaded(tmp_path, db):
    path = economy_xlsx(tmp_path, *allocation(2023), *allocation(2024, 600, 200, (("Kommunerna", 200),)))
    result = loaded([path], db)
    assert warnings(result) == [(
        "ekonomi.xlsx", "Ekonomi", 7, "Post", "Tilldelade medel",
        "tilldelade medel för 2024 fördelas Staten (Försäkringskassan) 60,0 %, Regionen 20,0 %, Kommunerna 20,0 %; "
        "enligt finsamlagen bidrar staten genom Försäkringskassan med hälften och regionen och kommunerna med en "
        "fjärdedel var (50/25/25). Kontrollera beloppen (filen läses in ändå)")]
    assert query(db, "SELECT sum(actual) FROM economy_lines WHERE year = 2024") == [(Decimal("1000.00"),)]


@pytest.mark.parametrize("name, group", [
    ("Försäkringskassan", "state"), ("Staten genom FK", "state"), ("FK", "state"), ("Region Sörmland", "region"),
    ("Landstinget", "region"), ("Kommunerna", "municipalities"), ("Flens kommun", "municipalities"),
    ("Eskilstuna kommun", "municipalities"), ("Fkassan", None), ("Region och kommun", None), ("Banken", None),
])
def test_party_groups(name, group):
    assert party_group(name) == group


# ---------------------------------------------------------------- databases made before issue 13


def test_a_database_made_before_the_new_tables_takes_the_new_files(tmp_path, db):
    old = made_before_issue_13(db, tmp_path / "old.duckdb")
    db.write_bytes(old.read_bytes())
    assert query(db, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'economy_lines'") == [(0,)]
    files = [write_csv(tmp_path / "reg.csv", [["Insats", "Inriktning"], ["Nätverket", "Strukturövergripande"]]),
             write_csv(tmp_path / "s.csv", [STRUCTURAL, ["Nätverket", "2023", "5"]]),
             economy_xlsx(tmp_path, [2023, "Administration", None, 10, 10])]
    loaded(files, db)
    assert query(db, "SELECT direction FROM initiatives WHERE initiative = 'Nätverket'") == [("structural",)]
    assert query(db, "SELECT participants FROM structural_counts") == [(5,)]
    assert query(db, "SELECT count(*) FROM economy_lines") == [(1,)]


def test_loading_the_same_files_twice_changes_nothing(tmp_path, db):
    files = [write_csv(tmp_path / "s.csv", [STRUCTURAL, ["Nätverket", "2023", "5"]]),
             economy_xlsx(tmp_path, *allocation())]
    loaded(files, db)
    before = db.read_bytes()
    result = load_files(files, db)
    assert result.ok and not result.changed and db.read_bytes() == before


@pytest.mark.parametrize("column", ["Belopp", "Utfall", "Budget"])
@pytest.mark.parametrize("value, words", [("-100", "negativt"), ("mycket", "går inte att tolka"),
                                          ("12000000000", "orimligt stort")])
def test_a_refused_amount_in_the_economy_is_named_at_its_cell(tmp_path, db, column, value, words):
    """The 50/25/25 check skips an amount the parser refused: the refusal itself names file, row and column
    (it used to end in an unexpected KeyError/TypeError without a place, and hid every other problem)."""
    path = write_csv(tmp_path / "e.csv", [["År", "Post", "Part", column],
                                          ["2024", "Tilldelade medel", "Försäkringskassan", value],
                                          ["2024", "Tilldelade medel", "Region Sörmland", "500"],
                                          ["2024", "Okänd post", "", "1"]])
    found = errors(refused([path], db))
    assert [(r, c) for _, _, r, c, _ in found] == [(2, column), (4, "Post")]
    assert words in found[0][4]


def test_budget_amounts_far_down_a_long_file_load_exactly(tmp_path, db):
    """DuckDB types a column of Python Decimals from its first rows: 3 000 lines of 1 500,00 kr and a
    12 000 000 kr line on row 2 900 must still load, to the öre."""
    rows = [["Insats", "År", "Kostnadsslag", "Budget", "Utfall"]]
    rows += [["Noll", str(2000 + i % 25), f"Post {i}", "1500", "1499,50"] for i in range(3000)]
    rows[2900] = ["Noll", "2024", "Investering", "12000000", "11800000,25"]
    loaded([write_csv(tmp_path / "b.csv", rows)], db)
    assert query(db, "SELECT budget, actual FROM budget_lines WHERE category = 'Investering'") == [
        (Decimal("12000000.00"), Decimal("11800000.25"))]
    assert query(db, "SELECT count(*), sum(budget) FROM budget_lines") == [(3000, Decimal("16498500.00"))]
