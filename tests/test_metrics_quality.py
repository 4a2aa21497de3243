"""Data quality (metrics/quality.py) and the figures a load preview compares (metrics/changes.py), counted by
hand on the small association of tests/fixtures/small_association.py (its docstring lists A1 … B6)."""
from __future__ import annotations

import datetime as dt

import pytest

from core.database import connect_read
from etl.load import load_files
from metrics import quality
from metrics.changes import compare, figures, load_contents
from tests.conftest import write_small_association, write_xlsx

D = dt.date
AS_OF = D(2022, 6, 30)


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    """The small association, plus Delta: participants and a budget, but no line in the register."""
    d = tmp_path_factory.mktemp("quality")
    files = write_small_association(d / "files")
    files.append(write_xlsx(d / "delta.xlsx", {
        "Deltagare": [["Deltagar-ID", "Insats", "Kön", "Startdatum", "Slutdatum", "Avslutsorsak", "Remittent"],
                      ["D-1", "Delta", "Kvinna", D(2022, 1, 10), None, None, "Stadsdel Norr"]],
        "Budget": [["Insats", "År", "Budget"], ["Delta", 2022, 10000]]}))
    result = load_files(files, d / "q.duckdb")
    assert result.ok, result.problems
    return d / "q.duckdb"


@pytest.fixture()
def con(db):
    with connect_read(db) as c:
        yield c


def counts(con, max_years=2) -> dict[str, int]:
    df = quality.summary(con, as_of=AS_OF, max_years=max_years)
    return dict(zip(df.key, df["count"]))


def test_counts_by_hand(con):
    assert counts(con) == {
        "ended_without_reason": 1,  # B5 (A6 ended too, but without consent no reason is stored)
        "no_consent": 1,  # A6
        # Alfa 2022 (A3, A5, A7); Beta 2019 and 2020 (B2), 2022 (B4, B6). Delta 2022 has its budget.
        "no_budget": 4,
        "budget_without_participants": 1,  # Gamma 2021
        "unmapped_referrers": 1,  # A7, Frivilligcentralen (Stadsdel Norr is «stadsdel» → Kommun)
        "missing_from_register": 1,  # Delta
        "long_enrollments": 1,  # A5: 2020-01-15, open, 2,5 years at AS_OF
    }


def test_long_enrollments_follow_the_setting(con):
    # more than one year: A1 (2020-03-01 → 2021-04-30), A5, B2 (2019-05-01 → 2021-01-01), A3 (2021-05-10, open),
    # B6 (2021-06-01, open); not A7 (2021-03-01 → 2022-02-28: one day short) nor B1 (2021-01-01 → 2021-12-31)
    assert counts(con, max_years=1)["long_enrollments"] == 5
    rows = quality.rows(con, "long_enrollments", as_of=AS_OF, max_years=1)
    assert sorted(zip(rows.participant_id, rows.initiative)) == [  # B6 shares A1's id, in Beta
        ("RAR-A01", "Alfa"), ("RAR-A01", "Beta"), ("RAR-A03", "Alfa"), ("RAR-A05", "Alfa"), ("RAR-B02", "Beta")]
    assert counts(con, max_years=3)["long_enrollments"] == 0


def test_the_rows_behind_the_checks(con):
    def rows(key):
        return quality.rows(con, key, as_of=AS_OF, max_years=2)
    assert list(rows("ended_without_reason").participant_id) == ["RAR-B05"]
    no_consent = rows("no_consent")
    assert len(no_consent) == 1 and no_consent.participant_id.isna().all()  # the id is not stored without consent
    assert (no_consent.initiative[0], str(no_consent.start_date[0])[:10]) == ("Alfa", "2021-09-01")
    assert [tuple(r) for r in rows("no_budget")[["initiative", "year", "participants"]].values] == [
        ("Alfa", 2022, 3), ("Beta", 2019, 1), ("Beta", 2020, 1), ("Beta", 2022, 2)]
    gamma = rows("budget_without_participants")
    assert [tuple(r) for r in gamma[["initiative", "year", "lines", "budget", "actual"]].values] == [
        ("Gamma", 2021, 1, 200000.0, 150000.0)]
    assert list(rows("unmapped_referrers").referrer_unit) == ["Frivilligcentralen"]
    assert [tuple(r) for r in rows("missing_from_register").values] == [("Delta", "budget, deltagare")]
    assert list(rows("long_enrollments").participant_id) == ["RAR-A05"]
    assert float(rows("long_enrollments").years[0]) == 2.5
    # the first rows in the check's order, for a page at national scale
    first = quality.rows(con, "no_budget", as_of=AS_OF, max_years=2, limit=2)
    assert [tuple(r) for r in first[["initiative", "year"]].values] == [("Alfa", 2022), ("Beta", 2019)]


def test_referrer_units_unmapped_first(con):
    units = quality.referrer_units(con)
    assert list(units.unit[:1]) == ["Frivilligcentralen"] and units.rule.isna().tolist()[:2] == [True, False]
    assert dict(zip(units.unit, units.enrollments))["Försäkringskassan"] == 4  # A1, A4, B4, B6 (A6: no consent)
    assert dict(zip(units.unit, units.rule))["Stadsdel Norr"] == "stadsdel"


def test_figures_per_initiative_and_year_by_hand(con):
    f = figures(con).set_index(["initiative", "year"])
    # Alfa 2021: participants A1 A2 A3 A5 A6 A7; started A2 A3 A6 A7; exited A1 A2 A6
    assert tuple(f.loc[("Alfa", 2021), ["participants", "started", "exited"]]) == (6, 4, 3)
    assert (f.loc[("Alfa", 2021), "budget"], f.loc[("Alfa", 2021), "actual"]) == (650000.0, 480001.0)
    # Beta 2021: B1 B2 B3 B5 B6 and 4 anonymous; started B1 B3 B5 B6 and 4 anonymous; exited B1 B2 B3 B5
    assert tuple(f.loc[("Beta", 2021), ["participants", "started", "exited", "budget"]]) == (9, 8, 4, 300000.0)
    assert f.loc[("Beta", 2021), "actual"] is None  # missing is not 0 kr
    assert tuple(f.loc[("Gamma", 2021), ["participants", "budget"]]) == (0, 200000.0)
    assert tuple(f.loc[("Delta", 2022), ["participants", "started", "budget"]]) == (1, 1, 10000.0)


def test_compare_lists_only_what_changes(con):
    before = figures(con)
    after = before.copy()
    after.loc[(after.initiative == "Alfa") & (after.year == 2021), "participants"] = 7
    after.loc[(after.initiative == "Beta") & (after.year == 2021), "actual"] = 1.0
    diff = compare(before, after)
    assert [(r.initiative, r.year, r.participants_before, r.participants_after, r.actual_before, r.actual_after)
            for r in diff.itertuples()] == [("Alfa", 2021, 6, 7, 480001.0, 480001.0), ("Beta", 2021, 9, 9, None, 1.0)]
    assert compare(before, before).empty


def test_what_each_load_holds(con):
    contents = load_contents(con, [2, 5]).set_index("load_id")  # deltagare.xlsx; delta.xlsx
    assert (str(contents.first_date[2])[:10], str(contents.last_date[2])[:10]) == ("2019-05-01", "2022-02-28")
    assert list(contents.initiatives[2]) == ["Alfa", "Beta"] and contents.rows[2] == 13
    assert list(contents.initiatives[5]) == ["Delta"] and contents.rows[5] == 2
