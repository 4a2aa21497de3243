"""render/charts.py: charts that scale — the largest 15 and one "Övriga" row that adds up only what adds up."""
from __future__ import annotations

import pandas as pd

from render.charts import OTHERS, TOP_N, stacked_money, top_n


def test_the_rest_sums_counts_but_never_shares_targets_or_amounts_per_person():
    df = pd.DataFrame({"initiative": [f"I{i:02d}" for i in range(20)], "total": list(range(20, 0, -1)),
                       "women": [1] * 20, "women_share": [0.5] * 20, "target_positive_share": [0.4] * 20,
                       "per_participant": [1000.0] * 20, "flag": [True] * 20})
    out = top_n(df, "initiative")
    assert len(out) == TOP_N + 1
    rest = out.iloc[-1]
    assert rest.initiative == f"{OTHERS} (5)"
    assert (rest.total, rest.women) == (5 + 4 + 3 + 2 + 1, 5)  # the five smallest, added up
    assert rest.women_share is None and rest.target_positive_share is None and rest.per_participant is None
    assert not rest.flag  # 2,5 would be a share of women of 250 %; 5 000 kr a cost nobody paid


def test_a_hidden_count_in_the_rest_hides_the_rest():
    df = pd.DataFrame({"initiative": [f"I{i:02d}" for i in range(18)], "total": [100] * 17 + [-1]})
    assert top_n(df, "initiative").iloc[-1].total == -2


def test_few_categories_are_drawn_as_they_are():
    df = pd.DataFrame({"initiative": [f"I{i}" for i in range(TOP_N + 1)], "total": range(TOP_N + 1)})
    assert top_n(df, "initiative").equals(df)


def test_a_stacked_cost_chart_draws_the_largest_and_says_so():
    rows = [{"label": f"Insats {i}", "category": c, "cost": float(100 * i + (5 if c == "Personal" else 1))}
            for i in range(40) for c in ("Personal", "Lokaler")]
    fig = stacked_money(pd.DataFrame(rows), "label", "category", "Kostnad per kostnadsslag")
    for bar in fig.data:
        assert {y.split(" ")[1] for y in bar.y} == {str(i) for i in range(25, 40)}  # the 15 largest
    assert fig.layout.title.text.endswith(f"de {TOP_N} största av 40")
    personal = next(b for b in fig.data if b.name == "Personal")
    assert sorted(personal.x) == [100 * i + 5 for i in range(25, 40)]


def test_hidden_column_wise_is_is_hidden_value_by_value():
    import numpy as np

    from metrics.suppress import HIDDEN_PRIMARY, HIDDEN_SECONDARY, is_hidden
    from render.charts import _hidden

    columns = [pd.Series([1, HIDDEN_PRIMARY, HIDDEN_SECONDARY, 3]), pd.Series([1.0, -1.0, np.nan, -2.0, -3.0]),
               pd.Series([True, False]), pd.Series(["a", HIDDEN_PRIMARY, None, -2.0, "-1"], dtype=object),
               pd.Series([], dtype=float), pd.Series([1, pd.NA, HIDDEN_PRIMARY], dtype="Int64")]
    for col in columns:
        assert _hidden(col).tolist() == [is_hidden(v) for v in col], col.tolist()
