"""Issue 13: the association's economy and the follow-up's facts, counted by hand on the small association.

The small association (tests/fixtures/small_association.py) in 2021, plus: Delta, a structural initiative
with 40 participants and a budget of 70 000 (actual 69 999), and an economy file. Initiatives' cost in
2021 (actual, else budget): Alfa 480 001 (380 000,50 + 100 000,50), Beta 300 000 (budget only), Gamma
150 000, Delta 69 999; together 1 000 000. Administration 240 000 (budget 250 000).
"""
from __future__ import annotations

import pytest

from core.database import connect_read
from etl.load import load_files
from metrics import Filters
from metrics.economy import by_year, cost_with_administration, has_economy, pooled, summary
from metrics.followup import direction_conflicts, directions, register, structural_participants
from tests.conftest import made_before_issue_13, write_csv, write_small_association, write_xlsx

ECONOMY = [["År", "Post", "Part", "Budget", "Utfall"],
           [2021, "Tilldelade medel", "Försäkringskassan", None, 1_000_000],
           [2021, "Tilldelade medel", "Region Test", None, 500_000],
           [2021, "Tilldelade medel", "Testkommun", None, 300_000],
           [2021, "Tilldelade medel", "Annan kommun", None, 200_000],
           [2021, "Administration", None, 250_000, 240_000],
           [2021, "Eget kapital vid årets början", None, None, 400_000],
           [2021, "Eget kapital vid årets slut", None, None, 350_000]]


def economy_files(directory):
    return [*write_small_association(directory),
            write_csv(directory / "struktur.csv", [["Insats", "År", "Antal deltagare"], ["Delta", 2021, 40],
                                                   ["Delta", 2020, 30]]),
            write_csv(directory / "budget_delta.csv", [["Insats", "År", "Budget", "Utfall"], ["Delta", 2021, 70000, 69999]]),
            write_xlsx(directory / "ekonomi.xlsx", {"Ekonomi": ECONOMY})]


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    directory = tmp_path_factory.mktemp("economy")
    result = load_files(economy_files(directory / "files"), directory / "e.duckdb")
    assert result.ok, "\n".join(map(str, result.problems))
    return directory / "e.duckdb"


@pytest.fixture()
def con(db):
    c = connect_read(db)
    yield c
    c.close()


def test_the_years_figures(con):
    row = by_year(con, Filters.year(2021)).set_index("year").loc[2021]
    assert (row.allocated, row.allocated_state, row.allocated_region, row.allocated_municipalities) == (
        2_000_000, 1_000_000, 500_000, 500_000)
    assert (row.administration_budget, row.administration_actual, row.administration) == (250_000, 240_000, 240_000)
    assert (row.individual, row.structural, row.initiatives) == (930_001, 69_999, 1_000_000)
    assert row.used == 1_240_000
    assert row.administration_share == pytest.approx(240_000 / 1_240_000)
    assert (row.equity_start, row.equity_end, row.shares_deviate) == (400_000, 350_000, False)


def test_years_without_economy_show_the_initiatives_only(con):
    df = by_year(con, Filters.year(2021)).set_index("year")
    assert list(df.index) == [2020, 2021]  # 2020: Alfa's budget lines, no economy file
    row = df.loc[2020]
    assert (row.allocated, row.administration, row.used, row.initiatives) == (None, None, 390_000, 390_000)
    assert summary(con, Filters.year(2020))["years_without_administration"] == [2020]


def test_the_summary_of_a_period(con):
    s = summary(con, Filters.year(2021))
    assert (s["allocated"], s["used"], s["administration"], s["equity_start"], s["equity_end"]) == (
        2_000_000, 1_240_000, 240_000, 400_000, 350_000)
    assert s["shares"] == {"state": 0.5, "region": 0.25, "municipalities": 0.25} and not s["shares_deviate"]
    tertial = summary(con, Filters.tertial(2021, 2))  # a tertial shows its calendar year
    assert (tertial["allocated"], tertial["equity_end"]) == (2_000_000, 350_000)
    assert not summary(con, Filters.year(2019))["has_lines"]


def test_administration_is_shared_in_proportion_to_cost(con):
    c = cost_with_administration(con, Filters.year(2021)).set_index("initiative")
    shares = {n: round(v, 2) for n, v in c.administration_share.items()}
    assert shares == {"Alfa": 115_200.24, "Beta": 72_000.0, "Gamma": 36_000.0, "Delta": 16_799.76}
    assert sum(c.administration_share) == pytest.approx(240_000)
    assert c.loc["Alfa", "per_participant_with_administration"] == pytest.approx((480_001 + 115_200.24) / 6)
    assert c.loc["Beta", "per_participant_with_administration"] == pytest.approx((300_000 + 72_000) / 9)
    assert c.loc["Delta", "per_participant_with_administration"] is None  # structural: nobody counted per person
    assert pooled(c, administration=True)["per_participant"] == pytest.approx((595_201.24 + 372_000) / 15)
    assert pooled(c, administration=False)["per_participant"] == pytest.approx((480_001 + 300_000) / 15)


def test_the_initiative_filter_narrows_the_rows_never_the_shares(con):
    c = cost_with_administration(con, Filters.year(2021, initiatives=("Beta",)))
    assert list(c.initiative) == ["Beta"] and c.administration_share[0] == pytest.approx(72_000)


def test_directions_and_structural_counts(con):
    d = dict(directions(con).values)
    assert d == {"Alfa": "individual", "Beta": "individual", "Gamma": "individual", "Delta": "structural"}
    s = structural_participants(con, Filters.year(2021))
    assert list(s.itertuples(index=False, name=None)) == [("Delta", 40)]
    assert list(structural_participants(con, Filters(Filters.year(2020).start, Filters.year(2021).end)).participants) \
        == [70]
    assert direction_conflicts(con, Filters.year(2021)) == []


def test_shares_off_50_25_25_are_flagged(tmp_path):
    rows = [[2021, "Tilldelade medel", "FK", None, 600], [2021, "Tilldelade medel", "Regionen", None, 200],
            [2021, "Tilldelade medel", "Kommunerna", None, 200]]
    path = write_xlsx(tmp_path / "e.xlsx", {"E": [ECONOMY[0], *rows]})
    assert load_files([path], tmp_path / "e.duckdb").ok
    with connect_read(tmp_path / "e.duckdb") as con:
        s = summary(con, Filters.year(2021))
    assert s["shares_deviate"] and s["deviating_years"] == [2021]
    assert s["shares"] == {"state": 0.6, "region": 0.2, "municipalities": 0.2}


def test_a_register_direction_against_the_data_is_a_conflict(tmp_path):
    reg = write_csv(tmp_path / "reg.csv", [["Insats", "Inriktning"], ["Alfa", "Strukturövergripande"]])
    assert load_files([reg], tmp_path / "c.duckdb").ok  # the register first, the participants in a later load
    people = write_csv(tmp_path / "d.csv", [["Deltagar-ID", "Insats", "Kön", "Startdatum"], ["A-1", "Alfa", "K", "2021-02-01"]])
    assert load_files([people], tmp_path / "c.duckdb").ok
    with connect_read(tmp_path / "c.duckdb") as con:
        assert direction_conflicts(con, Filters.year(2021)) == ["Alfa"]


def test_a_database_made_before_issue_13_reads_as_having_none_of_it(db, tmp_path):
    old = made_before_issue_13(db, tmp_path / "old.duckdb")
    with connect_read(old) as con:
        assert not has_economy(con)
        assert not summary(con, Filters.year(2021))["has_lines"]
        assert set(directions(con).direction) == {"individual"}
        assert structural_participants(con, Filters.year(2021)).empty
        assert register(con).direction.isna().all()
        row = by_year(con, Filters.year(2021)).set_index("year").loc[2021]
        assert (row.individual, row.structural, row.allocated) == (1_000_000, None, None)  # Delta: not known as structural


def test_no_administration_share_without_the_initiatives_cost(tmp_path):
    """Administration and no budget file: used is the administration alone, and its share is not 100 % but unknown."""
    people = write_csv(tmp_path / "d.csv", [["Deltagar-ID", "Insats", "Kön", "Startdatum"], ["A-1", "Alfa", "K", "2024-02-01"]])
    economy = write_xlsx(tmp_path / "e.xlsx", {"E": [["År", "Post", "Belopp"], [2024, "Administration", 100]]})
    assert load_files([people, economy], tmp_path / "e.duckdb").ok
    with connect_read(tmp_path / "e.duckdb") as con:
        s = summary(con, Filters.year(2024))
        rows = cost_with_administration(con, Filters.year(2024))
    assert (s["used"], s["administration"], s["initiatives"], s["administration_share"]) == (100, 100, None, None)
    assert list(rows.initiative) == ["Alfa"] and rows.administration_share[0] is None
