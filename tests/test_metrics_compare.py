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
