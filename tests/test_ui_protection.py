"""ui/protection.py: `ratios` is `ratio` row by row, with the session's threshold read once."""
import math

import pytest

from metrics.suppress import HIDDEN_PRIMARY, HIDDEN_SECONDARY
from ui import protection

VALUES = [0.5, None, math.nan, 0.25, 0.4, 1200.0, 0.1]
DENOMINATORS = [10, 10, 10, 4, HIDDEN_PRIMARY, 20, None]  # hidden counts as the display tables hold them
NUMERATORS = [5, 3, 2, 1, 2, HIDDEN_SECONDARY, 1]


@pytest.mark.parametrize("threshold", [None, 5])
def test_ratios_equal_ratio_row_by_row_and_read_the_threshold_once(monkeypatch, threshold):
    asked = []
    monkeypatch.setattr(protection, "active", lambda: asked.append(1) or threshold)
    with_numerators = protection.ratios(VALUES, DENOMINATORS, NUMERATORS)
    without = protection.ratios(VALUES, DENOMINATORS)
    assert len(asked) == 2
    assert with_numerators == [protection.ratio(v, d, n) for v, d, n in zip(VALUES, DENOMINATORS, NUMERATORS)]
    assert without == [protection.ratio(v, d) for v, d in zip(VALUES, DENOMINATORS)]
    if threshold is None:  # off: only a missing value is missing
        assert with_numerators == [0.5, None, None, 0.25, 0.4, 1200.0, 0.1]
    else:  # on: fewer than 5 behind it, a hidden count under it, or no denominator hides the share
        assert with_numerators == [0.5, None, None, None, None, None, None]
        assert without == [0.5, None, None, None, None, 1200.0, None]


def test_counts_equal_count_cell_by_cell_and_look_up_the_engine_once(monkeypatch):
    """`counts` is `count` for many cells of one dimension; off, the values come back as they are."""
    from metrics import Filters

    class Engine:
        def cell(self, measure, dims, sex, f):
            return ("visible", 0) if dims["initiative"] != "Liten" else ("primary", 0)

    f = Filters.year(2021)
    keys, values = ["Stor", "Liten", "Mellan"], [40, 3, 12]
    asked = []
    monkeypatch.setattr(protection, "engine", lambda f_: asked.append(f_) or None)
    assert protection.counts("started", "initiative", keys, f, values) == values
    monkeypatch.setattr(protection, "engine", lambda f_: asked.append(f_) or Engine())
    shown = protection.counts("started", "initiative", keys, f, values)
    assert shown == [protection.count("started", {"initiative": k}, "total", f, v) for k, v in zip(keys, values)]
    assert shown == [40, HIDDEN_PRIMARY, 12]
    assert len(asked) == 2 + 3  # once per `counts`, once per `count`


def test_pooled_people_without_protection_is_the_plain_sum_of_the_years_with_cost():
    """render.protected.pooled_people: `kind` None (protection off) sums as if every count were visible; with a
    hidden year under the pooled figure, the sum is hidden too."""
    import pandas as pd

    from metrics.suppress import VISIBLE
    from render.protected import pooled_people, pooled_people_per_initiative

    years = pd.DataFrame({"initiative": ["A", "A", "B", "B"], "year": [2020, 2021, 2020, 2021],
                          "cost": [100.0, None, 50.0, 70.0], "participants": [10, 4, 3, 0]})
    assert pooled_people(years, None) == pooled_people(years, lambda i, y: VISIBLE) == 13  # A 2021 and B 2021 out
    assert pooled_people(years, None, "A") == 10
    assert pooled_people(years, lambda i, y: "primary" if i == "B" else VISIBLE) == HIDDEN_SECONDARY
    assert pooled_people_per_initiative(years, None) == {"A": 10, "B": 3}


def test_a_year_solved_on_its_first_visit_says_why_the_page_waits(monkeypatch):
    """Issue 21: a year the loader did not decide ahead is solved when first asked for (at national scale minutes,
    the years before it first): the reader sees a Swedish line naming the year, not only Streamlit's running mark."""
    import contextlib

    from metrics import Filters

    said = []

    @contextlib.contextmanager
    def spinner(text, **kw):
        said.append((text, kw.get("show_time")))
        yield

    class Year:
        shorter = True

        def view(self, span):
            return ("view", span)

    monkeypatch.setattr(protection, "enabled", lambda: True)
    monkeypatch.setattr(protection, "one_association_or_stop", lambda f: None)
    monkeypatch.setattr(protection, "run_shared", lambda fn, year, associations, t: Year())
    monkeypatch.setattr(protection.st, "spinner", spinner)
    assert protection.engine(Filters.tertial(2025, 2)) == ("view", "T2")
    assert said == [("Skyddet för små tal i 2025 räknas fram. Första gången för ett år kan det ta en stund …", None)]
