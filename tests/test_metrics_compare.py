"""metrics/compare.py on the small hand-made association (tests/fixtures/small_association.py)."""
from __future__ import annotations

from metrics import Filters
from metrics.compare import key_figures
from metrics.people import headline

Y2021 = Filters.year(2021)


def test_change_against_the_previous_year_by_hand(small_con):
    k = key_figures(small_con, Y2021)
    # 2021: 15 participants (tests/test_metrics_report.py). 2020: A1, A4, A5, B2 and Alfa's anonymous 1 + 1 = 6.
    assert (k.loc["participants", "now"], k.loc["participants", "before"], k.loc["participants", "change"]) == (15, 6, 9)
    h, p = headline(small_con, Y2021), headline(small_con, Y2021.previous())
    assert k.loc["positive_share", "change"] == h.loc["positive_share", "total"] - p.loc["positive_share", "total"]


def test_targets_only_where_they_can_be_stated(small_con):
    k = key_figures(small_con, Y2021)
    # Alfa plans 20 a year and Beta 10: 30 against 15 participants
    assert (k.loc["participants", "target"], k.loc["participants", "gap"]) == (30, -15)
    # Alfa's 70 % women and Beta's missing target are not one target: no gap is invented
    assert k.loc["women_share", "target"] is None and k.loc["women_share", "gap"] is None
    # narrowed to women, targets for whole initiatives say nothing
    narrowed = key_figures(small_con, Y2021.with_(sexes=("women",)))
    assert narrowed.loc["participants", "target"] is None


def test_missing_stays_missing(small_con):
    k = key_figures(small_con, Filters.year(2019))  # only B2 (started 2019-05-01): no exits, no cost
    assert k.loc["positive_share", "now"] is None and k.loc["positive_share", "change"] is None
    assert k.loc["cost_per_participant", "now"] is None


def _stub_and_tail(tmp_path):
    """Exports of 2021 taken on 30 March 2022: 2020 only as the tail (those still there in 2021), 2022 a stub."""
    import datetime as dt

    from tests.protection_audit import generate, write_db

    rows = generate(5, {"Alfa": 80, "Beta": 30}, year=2021)
    rows += [{"initiative": "Alfa", "sex": "woman", "start": dt.date(2022, 3, 30), "end": None, "age": 30,
              "agency": "Försäkringskassan", "reason": None, "consent": True, "id": "stub"}]
    return write_db(tmp_path / "stub.duckdb", rows)


def test_what_the_data_cover_and_the_year_a_link_opens(tmp_path):
    import datetime as dt

    from core.database import connect_read
    from metrics.catalog import coverage, covers, default_year

    with connect_read(_stub_and_tail(tmp_path)) as con:
        cov = coverage(con)
        assert cov == {"first": dt.date(2021, 1, 1), "last": dt.date(2022, 3, 30)}
        assert default_year(con, 2026) == 2021  # not the stub 2022
        assert default_year(con, 2021) == 2021
        assert covers(cov, dt.date(2021, 1, 1), dt.date(2021, 12, 31))
        assert not covers(cov, dt.date(2020, 1, 1), dt.date(2020, 12, 31))
        assert not covers(cov, dt.date(2022, 1, 1), dt.date(2022, 12, 31))


def test_no_comparison_with_a_period_the_data_cover_only_in_part(tmp_path, small_con):
    from core.database import connect_read

    with connect_read(_stub_and_tail(tmp_path)) as con:
        k = key_figures(con, Y2021)
        assert not k.previous_covered.any()
        assert k.loc["participants", "now"] > 0 and k.loc["participants", "before"] is None
        assert k.loc["participants", "change"] is None and k.loc["cost_per_participant", "change"] is None
    # the small association's 2020 has exits of its own: covered, compared
    assert key_figures(small_con, Y2021).previous_covered.all()
