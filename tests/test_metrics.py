"""The metrics functions on the small hand-made association (tests/fixtures/small_association.py).

Rows are named A1 … B6 as in the fixture; unless said otherwise the period is 2021.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from metrics import Filters
from metrics.cost import actual_against_budget, cost_by_initiative_year, cost_summary
from metrics.people import by_initiative, exits_by_reason, headline, income_flow, time_in_initiative, \
    women_share_vs_target

Y2021 = Filters.year(2021)
Y2020_2021 = Filters(dt.date(2020, 1, 1), dt.date(2021, 12, 31))
MONTH = 30.4375  # days per month, the unit of time_in_initiative


def _row(women, men, other, total):
    return {"women": women, "men": men, "other": other, "total": total}


def _missing(x) -> bool:
    return x is None or pd.isna(x)


# ---------------------------------------------------------------- people


def test_headline_counts_and_shares(small_con):
    h = headline(small_con, Y2021).to_dict("index")
    assert {m: h[m] for m in ("participants", "started", "exited", "no_consent", "exited_positive",
                              "exited_positive_wide")} == {
        "participants": _row(8, 4, 3, 15),  # see test_report: A1 A3 A5 B1 B5 B6 +2 | A2 A6 B2 +1 | A7 B3 +1
        "started": _row(6, 3, 3, 12),       # A3 B1 B5 B6 +2 | A2 A6 +1 | A7 B3 +1
        "exited": _row(3, 3, 1, 7),         # A1 B1 B5 | A2 A6 B2 | B3
        "no_consent": _row(2, 2, 1, 5),     # anonymous 2 women | A6 + 1 anonymous man | 1 anonymous other
        "exited_positive": _row(2, 0, 0, 2),       # code 1: A1, B1
        "exited_positive_wide": _row(2, 1, 1, 4),  # codes 1 + 2: A1 B1 | A2 | B3
    }
    # shares of all exits, unknown reasons included in the denominator
    assert h["positive_share"] == _row(2 / 3, 0 / 3, 0 / 1, 2 / 7)
    assert h["positive_wide_share"] == _row(2 / 3, 1 / 3, 1 / 1, 4 / 7)
    # share of women among participants: 8 of 15; per sex it is not defined
    assert h["women_share"] == _row(None, None, None, 8 / 15)


def test_headline_share_without_exits_is_missing_not_zero(small_con):
    # Beta in 2022: participants B4 and B6, nobody exits
    h = headline(small_con, Filters.year(2022, initiatives=("Beta",))).to_dict("index")
    assert h["exited"] == _row(0, 0, 0, 0)
    assert h["positive_share"] == _row(None, None, None, None)


def test_by_initiative(small_con):
    df = by_initiative(small_con, Y2021).set_index("initiative")
    assert list(df.index) == ["Alfa", "Beta"]  # Gamma has no participants
    alfa, beta = df.loc["Alfa"], df.loc["Beta"]
    sexes = ("women", "men", "other", "total")

    def split(row, prefix):
        return {s: int(row[f"{prefix}_{s}"]) for s in sexes}

    assert split(alfa, "participants") == _row(3, 2, 1, 6)  # A1 A3 A5 | A2 A6 | A7
    assert split(alfa, "started") == _row(1, 2, 1, 4)       # A3 | A2 A6 | A7
    assert split(alfa, "exited") == _row(1, 2, 0, 3)        # A1 | A2 A6
    assert split(alfa, "no_consent") == _row(0, 1, 0, 1)    # A6
    assert split(alfa, "exited_positive") == _row(1, 0, 0, 1)       # A1
    assert split(alfa, "exited_positive_wide") == _row(1, 1, 0, 2)  # A1 | A2
    assert split(beta, "participants") == _row(5, 2, 2, 9)  # B1 B5 B6 +2 | B2 +1 | B3 +1
    assert split(beta, "started") == _row(5, 1, 2, 8)       # B1 B5 B6 +2 | +1 | B3 +1
    assert split(beta, "exited") == _row(2, 1, 1, 4)        # B1 B5 | B2 | B3
    assert split(beta, "no_consent") == _row(2, 1, 1, 4)    # the anonymous counts
    assert split(beta, "exited_positive") == _row(1, 0, 0, 1)       # B1
    assert split(beta, "exited_positive_wide") == _row(1, 0, 1, 2)  # B1 | B3
    assert alfa.positive_share_total == 1 / 3
    assert alfa.positive_wide_share_total == 2 / 3
    assert _missing(alfa.positive_share_other)  # Alfa has no exit of other sex: no share, not 0
    assert beta.positive_share_total == 1 / 4
    assert beta.positive_wide_share_other == 1 / 1
    assert alfa.women_share == 3 / 6
    assert beta.women_share == 5 / 9
    # targets from the register: "70 %", "0,5" and 20 for Alfa; no women target, 40 and 10 for Beta
    assert (alfa.owner, alfa.target_participants, alfa.target_women_share, alfa.target_positive_share) == \
        ("Region Test", 20, 0.7, 0.5)
    assert (beta.owner, beta.target_participants, beta.target_positive_share) == ("Testkommun", 10, 0.4)
    assert _missing(beta.target_women_share)


def test_women_share_vs_target(small_con):
    df = women_share_vs_target(small_con, Y2021).set_index("initiative")
    alfa, beta = df.loc["Alfa"], df.loc["Beta"]
    # Alfa: 3 women of 6 against the register's 70 %: 20 points short, flagged
    assert (alfa.women, alfa.total, alfa.women_share, alfa.target, alfa.target_is_default) == (3, 6, 0.5, 0.7, False)
    assert alfa.gap == pytest.approx(-0.2)
    assert alfa.large_gap
    # Beta: 5 of 9 against the default 50 % (no target in the register): 5.6 points over, not flagged
    assert (beta.women, beta.total, beta.women_share, beta.target, beta.target_is_default) == (5, 9, 5 / 9, 0.5, True)
    assert beta.gap == pytest.approx(5 / 9 - 0.5)
    assert not beta.large_gap


def test_women_share_vs_target_ignores_the_sex_filter(small_con):
    df = women_share_vs_target(small_con, Filters.year(2021, sexes=("men",))).set_index("initiative")
    assert (df.loc["Alfa"].women, df.loc["Alfa"].total) == (3, 6)


def test_exits_by_reason(small_con):
    df = exits_by_reason(small_con, Y2021)
    assert df.to_dict("records") == [
        {"reason": "1", "label": "Arbete/studier", **_row(2, 0, 0, 2)},                       # A1 B1
        {"reason": "2", "label": "Fortsatt rehabilitering", **_row(0, 1, 1, 2)},              # A2 | B3
        {"reason": "4", "label": "Flyttat/ej aktuell", **_row(0, 1, 0, 1)},                   # B2
        {"reason": "unknown", "label": "Okänd orsak (ej samtycke/ej angiven)", **_row(1, 1, 0, 2)},  # B5 | A6
    ]


def test_exits_by_reason_per_initiative(small_con):
    df = exits_by_reason(small_con, Y2021, ("initiative",))
    assert [(r.initiative, r.reason, r.total) for r in df.itertuples()] == [
        ("Alfa", "1", 1), ("Alfa", "2", 1), ("Alfa", "unknown", 1),
        ("Beta", "1", 1), ("Beta", "2", 1), ("Beta", "4", 1), ("Beta", "unknown", 1),
    ]


def test_time_in_initiative_median_months(small_con):
    df = time_in_initiative(small_con, Y2021)
    got = {(r.reason, r.sex): (r.n, r.median_months) for r in df.itertuples()}
    # days from start to end: A1 2020-03-01→2021-04-30 = 425, B1 2021-01-01→2021-12-31 = 364,
    # A2 2021-02-01→2021-08-31 = 211, B3 2021-06-15→2021-10-01 = 108, B2 2019-05-01→2021-01-01 = 611,
    # A6 2021-09-01→2021-11-30 = 90, B5 2021-11-01→2021-12-20 = 49
    expected = {
        ("1", "women"): (2, (425 + 364) / 2 / MONTH),
        ("1", "total"): (2, (425 + 364) / 2 / MONTH),
        ("2", "men"): (1, 211 / MONTH),
        ("2", "other"): (1, 108 / MONTH),
        ("2", "total"): (2, (211 + 108) / 2 / MONTH),
        ("4", "men"): (1, 611 / MONTH),
        ("4", "total"): (1, 611 / MONTH),
        ("unknown", "men"): (1, 90 / MONTH),
        ("unknown", "women"): (1, 49 / MONTH),
        ("unknown", "total"): (2, (90 + 49) / 2 / MONTH),
    }
    assert set(got) == set(expected)
    for key, (n, months) in expected.items():
        assert got[key][0] == n, key
        assert got[key][1] == pytest.approx(months), key
    # the box plot's whiskers: 10th and 90th percentiles, interpolated (reason 1: 364 and 425 days)
    r1 = df[(df.reason == "1") & (df.sex == "total")].iloc[0]
    assert r1.p10_months == pytest.approx((364 + 0.1 * 61) / MONTH)
    assert r1.p90_months == pytest.approx((364 + 0.9 * 61) / MONTH)
    assert r1.q1_months == pytest.approx((364 + 0.25 * 61) / MONTH)
    q = df[(df.reason == "1") & (df.sex == "total")].iloc[0]
    assert q.q1_months == pytest.approx((364 + 0.25 * (425 - 364)) / MONTH)
    assert q.q3_months == pytest.approx((364 + 0.75 * (425 - 364)) / MONTH)


def test_income_flow_only_exits_with_both_incomes(small_con):
    # exits in 2021 with both incomes recorded: A1, B1 (Sjukpenning → Ingen offentlig försörjning),
    # B3 (Aktivitetsersättning → Ingen …), A2 (Försörjningsstöd → A-kassa/Aktivitetsstöd).
    # Left out: A6 (no consent: incomes dropped), B2 and B5 (no income at exit).
    assert income_flow(small_con, Y2021).to_dict("records") == [
        {"income_at_start": "Sjukpenning", "income_at_exit": "Ingen offentlig försörjning", **_row(2, 0, 0, 2)},
        {"income_at_start": "Aktivitetsersättning", "income_at_exit": "Ingen offentlig försörjning",
         **_row(0, 0, 1, 1)},
        {"income_at_start": "Försörjningsstöd", "income_at_exit": "A-kassa/Aktivitetsstöd", **_row(0, 1, 0, 1)},
    ]


# ---------------------------------------------------------------- filters


def test_filter_by_agency_narrows_people(small_con):
    h = headline(small_con, Filters.year(2021, agencies=("Försäkringskassan",))).to_dict("index")
    assert h["participants"] == _row(2, 1, 0, 3)  # A1, B6 (women), B2 ("FK"); A6's referrer was dropped
    assert h["started"] == _row(1, 0, 0, 1)       # B6
    assert h["exited"] == _row(1, 1, 0, 2)        # A1, B2


def test_filter_by_missing_agency_holds_no_consent_and_anonymous(small_con):
    df = exits_by_reason(small_con, Filters.year(2021, agencies=("Uppgift saknas",)))
    assert df[["reason", "women", "men", "other", "total"]].to_dict("records") == [
        {"reason": "unknown", **_row(1, 1, 0, 2)},  # B5 (no referrer), A6 (no consent)
    ]
    h = headline(small_con, Filters.year(2021, agencies=("Uppgift saknas",))).to_dict("index")
    assert h["participants"] == _row(3, 2, 1, 6)  # B5 +2 anon women | A6 +1 anon man | 1 anon other


def test_filter_by_sex_narrows_people(small_con):
    h = headline(small_con, Filters.year(2021, sexes=("women",))).to_dict("index")
    assert h["participants"] == _row(8, 0, 0, 8)
    assert h["exited"] == _row(3, 0, 0, 3)
    h = headline(small_con, Filters.year(2021, sexes=("other",))).to_dict("index")
    assert h["participants"] == _row(0, 0, 3, 3)  # A7, B3 (unknown) + 1 anonymous


def test_filter_by_initiative_narrows_people(small_con):
    h = headline(small_con, Filters.year(2021, initiatives=("Beta",))).to_dict("index")
    assert h["participants"] == _row(5, 2, 2, 9)
    assert h["no_consent"] == _row(2, 1, 1, 4)


def test_filters_combine(small_con):
    f = Filters.year(2021, initiatives=("Alfa",), sexes=("men",))
    h = headline(small_con, f).to_dict("index")
    assert h["participants"] == _row(0, 2, 0, 2)  # A2, A6
    assert [(r.reason, r.total) for r in exits_by_reason(small_con, f).itertuples()] == [("2", 1), ("unknown", 1)]


# ---------------------------------------------------------------- cost


def test_cost_by_initiative_year_2021(small_con):
    df = cost_by_initiative_year(small_con, Y2021).set_index("initiative")
    assert list(df.index) == ["Alfa", "Beta", "Gamma"]
    alfa, beta, gamma = df.loc["Alfa"], df.loc["Beta"], df.loc["Gamma"]
    # Alfa: actual given, so actual is the basis: 380 000,50 + 100 000,50 = 480 001
    assert (alfa.year, alfa.budget, alfa.actual, alfa.basis, alfa.cost) == (2021, 650000.0, 480001.0, "utfall", 480001.0)
    assert (alfa.participants, alfa.started, alfa.positive_exits) == (6, 4, 1)
    assert alfa.per_participant == pytest.approx(480001 / 6)
    assert alfa.per_started == pytest.approx(480001 / 4)
    assert alfa.per_positive_exit == pytest.approx(480001 / 1)  # A1
    # Beta: budget only, so budget is the basis and flagged as such
    assert (beta.budget, beta.basis, beta.cost) == (300000.0, "budget", 300000.0)
    assert beta.actual is None
    assert (beta.participants, beta.started, beta.positive_exits) == (9, 8, 1)
    assert beta.per_participant == pytest.approx(300000 / 9)
    assert beta.per_started == pytest.approx(300000 / 8)
    assert beta.per_positive_exit == pytest.approx(300000 / 1)  # B1
    # Gamma: a cost and nobody to divide it by: no figure, not 0
    assert (gamma.budget, gamma.actual, gamma.basis, gamma.participants) == (200000.0, 150000.0, "utfall", 0)
    assert _missing(gamma.per_participant) and _missing(gamma.per_started) and _missing(gamma.per_positive_exit)


def test_cost_by_initiative_year_over_two_years(small_con):
    df = cost_by_initiative_year(small_con, Y2020_2021)
    assert [(r.initiative, r.year) for r in df.itertuples()] == [
        ("Alfa", 2020), ("Alfa", 2021), ("Beta", 2020), ("Beta", 2021), ("Gamma", 2021)]
    alfa_2020 = df.iloc[0]
    # Alfa 2020: 390 000 actual; participants A1 A4 A5 + 2 anonymous = 5, all started in 2020; no code-1 exit
    assert (alfa_2020.actual, alfa_2020.basis, alfa_2020.participants, alfa_2020.started) == (390000.0, "utfall", 5, 5)
    assert alfa_2020.per_participant == 78000.0
    assert _missing(alfa_2020.per_positive_exit)
    # Beta 2020: B2 took part, no budget line: cost unknown, never 0
    beta_2020 = df.iloc[2]
    assert beta_2020.participants == 1
    assert _missing(beta_2020.budget) and _missing(beta_2020.actual) and _missing(beta_2020.cost)
    assert _missing(beta_2020.basis) and _missing(beta_2020.per_participant)


@pytest.mark.parametrize("period", [(2019, 1, 1, 2022, 12, 31), (2020, 3, 15, 2021, 5, 31), (2021, 7, 1, 2021, 7, 1)])
def test_people_per_year_in_one_query_equal_the_counts_of_each_whole_year(small_con, period):
    """metrics/facts.YEARLY_FACTS_SQL counts every year at once: each must equal facts.counts over that whole
    calendar year (the one definition), whatever part of it the period covers, anonymous counts included."""
    import datetime as dt

    from metrics.cost import _people_per_initiative_year
    from metrics.facts import counts
    from metrics.people import positive_codes

    f = Filters(dt.date(*period[:3]), dt.date(*period[3:]))
    got = _people_per_initiative_year(small_con, f).set_index(["initiative", "year"]).sort_index()
    pos, _ = positive_codes(small_con)
    expected = {}
    for y in f.years:
        fy = Filters.year(y)
        for r in counts(small_con, fy, "participants", ("initiative",)).itertuples():
            expected.setdefault((r.initiative, y), [0, 0, 0])[0] = r.total
        for r in counts(small_con, fy, "started", ("initiative",)).itertuples():
            expected.setdefault((r.initiative, y), [0, 0, 0])[1] = r.total
        for r in counts(small_con, fy, "exited", ("initiative", "reason")).itertuples():
            if r.reason in pos:
                expected.setdefault((r.initiative, y), [0, 0, 0])[2] += r.total
    expected = {k: v for k, v in expected.items() if any(v)}
    assert {k: list(v) for k, v in zip(got.index, got[["participants", "started", "positive_exits"]].values.tolist())
            } == expected
    assert expected  # the fixture has people in every tested period


def test_cost_per_initiative_pools_each_initiative_as_cost_summary_pools_one(small_con):
    """The column-wise pooling per initiative gives what the one pooling (cost_summary) gives for that initiative."""
    from metrics.cost import cost_per_initiative

    per = cost_per_initiative(small_con, Y2020_2021).set_index("initiative")
    for name in ["Alfa", "Beta", "Gamma"]:
        one = cost_summary(small_con, Filters(Y2020_2021.start, Y2020_2021.end, initiatives=(name,)))
        row = per.loc[name]
        assert int(row.participants) == one["participants"]
        assert (_missing(row.cost), _missing(row.per_participant)) == (one["cost"] is None,
                                                                        one["per_participant"] is None)
        if one["cost"] is not None:
            assert row.cost == one["cost"]
        if one["per_participant"] is not None:
            assert row.per_participant == pytest.approx(one["per_participant"])
    # Beta: 2020 without cost (1 participant, left out on both sides), 2021 on budget: basis says budget
    assert (per.loc["Beta", "participants"], per.loc["Beta", "basis"]) == (9, "budget")
    # Gamma: a cost and nobody to divide it by
    assert per.loc["Gamma", "participants"] == 0 and _missing(per.loc["Gamma", "per_participant"])


def test_cost_is_not_narrowed_by_sex_or_agency(small_con):
    f = Filters.year(2021, sexes=("women",), agencies=("Kommun",))
    alfa = cost_by_initiative_year(small_con, f).set_index("initiative").loc["Alfa"]
    assert (alfa.participants, alfa.per_participant) == (6, pytest.approx(480001 / 6))


def test_cost_by_initiative_year_narrowed_by_initiative(small_con):
    df = cost_by_initiative_year(small_con, Filters.year(2021, initiatives=("Beta",)))
    assert list(df.initiative) == ["Beta"]


def test_cost_summary(small_con):
    s = cost_summary(small_con, Y2021)
    # Alfa 480 001 over 6 and Beta 300 000 over 9; Gamma has no participants and is left out
    assert s == {"cost": 780001.0, "participants": 15, "per_participant": pytest.approx(780001 / 15),
                 "budget_only": ["Beta"], "missing_cost": []}


def test_cost_summary_leaves_out_years_without_cost(small_con):
    s = cost_summary(small_con, Y2020_2021)
    # Alfa 2020 390 000 / 5, Alfa 2021 480 001 / 6, Beta 2021 300 000 / 9; Beta 2020 (1 participant, no cost) out
    assert s == {"cost": 1170001.0, "participants": 20, "per_participant": pytest.approx(1170001 / 20),
                 "budget_only": ["Beta"], "missing_cost": ["Beta"]}


def test_targets_summary(small_con):
    from metrics.people import targets_summary

    # 2021: Alfa (6 participants, target 20) and Beta (9, target 10) → 30 planned, 15 actual
    t = targets_summary(small_con, Y2021)
    assert t["participants"] == 30
    assert t["participants_gap"] == 15 - 30
    # the shares differ between Alfa and Beta (Beta has no women target): no common target to state
    assert t["women_share"] is None and t["positive_share"] is None
    alfa = targets_summary(small_con, Filters.year(2021, initiatives=("Alfa",)))
    assert (alfa["participants"], alfa["participants_gap"], alfa["women_share"], alfa["positive_share"]) == (20, -14, 0.7, 0.5)
    # a custom period is not a year: a per-year target does not apply
    import datetime as dt

    half = targets_summary(small_con, Filters(dt.date(2021, 1, 1), dt.date(2021, 6, 30), initiatives=("Alfa",)))
    assert half["participants"] is None and half["participants_gap"] is None


def test_actual_is_set_against_the_budget_of_the_initiatives_that_report_one():
    """Four initiatives with an actual, two with a budget only (the sample's 2025): the share is 2 700 / 3 000, not
    2 700 / 5 000 (which read as barely half the money spent); an actual without a budget is in neither sum."""
    rows = pd.DataFrame({"initiative": list("ABCDEFG"),
                         "budget": [1000.0, 1000.0, 500.0, 500.0, 1000.0, 1000.0, None],
                         "actual": [900.0, 1000.0, 400.0, 400.0, None, None, 250.0]})
    share, compared, budgeted = actual_against_budget(rows)
    assert (round(share, 6), compared, budgeted) == (0.9, 4, 6)
    assert actual_against_budget(rows[rows.actual.isna()]) == (None, 0, 2)  # nothing to compare: missing, not 0 %


def test_kostnad_sets_the_actual_against_the_budgets_of_those_with_one(sample_db, monkeypatch):
    from tests.test_pages import app

    at = app(sample_db, monkeypatch, "pages/kostnad.py", tables=False, year="2025")
    captions = [c.proto.body for c in at.caption if "av budgeten" in c.proto.body]
    # 9 617 200 kr of the four initiatives' own budgets; the six budgets together are 15 998 400 kr (60,1 %)
    assert captions == ["91,5\xa0% av budgeten för de 4 insatser som har utfall (av 6 med budget)"]
