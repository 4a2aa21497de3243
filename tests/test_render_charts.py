"""render/charts.py: charts that scale — the largest 15 and one "Övriga" row that adds up only what adds up."""
from __future__ import annotations

import pandas as pd

from metrics.suppress import HIDDEN_PRIMARY as P, HIDDEN_SECONDARY as S
from render.charts import HIDDEN_NAME, OTHERS, TOP_N, sex_bars, stacked, stacked_money, top_n
from render.protected import bar_ends


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


# ---------------------------------------------------------------- issue 23: no bar shorter than the truth

def _bars(fig):
    """Per category: the length drawn (every bar trace stacked), the hatched part, and the end label."""
    cats = list(fig.data[0].y)
    drawn = [sum(float(t.x[i] or 0) for t in fig.data if t.type == "bar") for i in range(len(cats))]
    hatched = [t for t in fig.data if t.type == "bar" and t.name == HIDDEN_NAME]
    ends = [t for t in fig.data if t.type == "scatter"][0]
    return cats, drawn, (list(hatched[0].x) if hatched else [None] * len(cats)), [str(x).strip() for x in ends.text]


def test_bar_ends_are_bounds_any_reader_can_work_out():
    # Region 95 shown; Arbetsförmedlingen 25 women shown, its total `..` (truly 42); Annan `<5`; whole 150
    ends = bar_ends([95, S, P, 8], [95, 25, 0, 8], 150, 5, [[], [S], [P], []])
    assert ends[0] == 95 and ends[3] == 8
    assert ends[2] == 4  # `<5`: at most 4
    assert ends[1] == 150 - 95 - 8 - 1  # what the whole leaves after the others (a `<5` is at least 1) = 46 ≥ 42
    assert bar_ends([S], [3], None, 5, [[P, P]]) == [3 + 4 + 4]  # no whole: the visible parts and two `<5` parts
    assert bar_ends([S], [3], None, 5, [[S]]) == [None]  # nothing bounds it: the caller draws to the axis's end
    assert bar_ends([S, 10], [30, 10], 35, 5, [[S], []]) == [30, 10]  # never before its visible parts


def test_a_partly_hidden_bar_is_drawn_to_the_largest_its_total_can_be_hatched_and_said():
    """Presentation's `Arbetsförmedlingen 25 .. (delvis dold)` for a real 42 was drawn at 25 beside Region's 95,
    and `Annan` (`<5`) got no bar: now each reaches at least its true total, its hidden part hatched."""
    df = pd.DataFrame({"agency": ["Region", "Arbetsförmedlingen", "Annan", "Kommun"],
                       "women": [50, 25, P, 4 + 4], "men": [45, S, P, 0], "total": [95, S, P, 8]})
    truth = {"Region": 95, "Arbetsförmedlingen": 42, "Annan": 3, "Kommun": 8}
    whole = 95 + 42 + 3 + 8
    cats, drawn, hatched, ends = _bars(sex_bars(df, "agency", "Nya deltagare", whole=whole))
    for c, d in zip(cats, drawn):
        assert d >= truth[c], (c, d)
    assert hatched[1] and hatched[2]  # the hidden parts are drawn, hatched
    assert ends == ["95", f".. (högst {whole - 95 - 8 - 1})", "<5", "8"]
    # without a whole the `..` bar still reaches past every other bar's end, said as `..`
    cats, drawn, hatched, ends = _bars(sex_bars(df, "agency", "Nya deltagare"))
    assert drawn[1] >= max(drawn[0], drawn[2], drawn[3]) and ends[1] == ".."


def test_an_exit_reason_with_a_hidden_total_gets_a_bar():
    df = pd.DataFrame({"label": ["Arbete/studier", "Flyttat", "Avliden"], "total": [40, P, S]})
    cats, drawn, hatched, ends = _bars(stacked(df, "label", [("total", "Avslutade", "#1F77B4")], "Avslutade",
                                               whole=50))
    assert drawn[1] >= 4 and drawn[2] >= 50 - 40 - 1 and ends[1:] == ["<5", f".. (högst {50 - 40 - 1})"]


def test_a_hidden_parts_mark_stays_level_in_a_thin_bar():
    """Seen at 1280×720 in presentation mode: in a bar too thin for it, Plotly turned the mark `..` on its side,
    where it read as a colon. Level like every other value on a bar, or hidden where it does not fit."""
    df = pd.DataFrame({"initiative": ["A", "B"], "women": [S, 20], "men": [162, 30], "other": [S, 6],
                       "total": [246, 56]})
    fig = sex_bars(df, "initiative", "t", threshold=5)
    hatched = [t for t in fig.data if t.type == "bar" and t.name == HIDDEN_NAME]
    assert hatched and all(t.textangle == 0 for t in fig.data if t.type == "bar")


def test_the_longest_bars_end_label_has_room_right_of_the_plot():
    """A total is written after its bar's end, outside the plot where the bar is the longest, and Plotly makes no
    room for it: on a projector (24 px) a small association's ".. (högst 12)" was cut to ".. (hö". The theme keeps
    room for the longest bar's label, and little more than the default where the labels are short."""
    from render.theme import _sizes, apply_theme

    df = pd.DataFrame({"agency": ["Kommun", "Uppgift saknas"], "women": [P, S], "men": [P, S], "total": [S, S]})
    fig = sex_bars(df, "agency", "Inflöde", whole=12)
    labels = [t for t in fig.data if t.type == "scatter"][0]
    assert labels.text[-1] == " .. (högst 12)"  # the longest bar's, as the slide showed it
    for present in (False, True):
        needed = 0.62 * _sizes(present)["base"] * len(labels.text[-1])
        assert apply_theme(fig, present=present).layout.margin.r >= needed, present
    short = sex_bars(pd.DataFrame({"agency": ["Kommun"], "women": [3], "men": [4], "total": [7]}), "agency", "x")
    assert 24 <= apply_theme(short).layout.margin.r <= 32  # " 7": two characters of 16 px


def test_share_axes_write_a_percent_as_the_tables_do():
    """"20 %" with its space, as every table and key figure writes a share (Plotly's own ".0%" wrote "20%",
    seen by a board member on Avslut and Jämställdhet)."""
    from render.charts import reason_share_by_sex, share_bars, share_over_time

    shares = pd.DataFrame({"label": ["Arbete", "Sjukdom"], "women_share": [0.35, 0.1], "men_share": [0.2, None]})
    over = pd.DataFrame({"tertial": ["T1", "T2"], "share_total": [0.3, 0.35]})
    figs = [reason_share_by_sex(shares, "x"), share_over_time(over, "tertial", "x"),
            share_bars(shares, "label", "women_share", "x", color="#000000", name="Kvinnor")]
    for fig in figs:
        axis = fig.layout.xaxis if fig.layout.xaxis.tickvals else fig.layout.yaxis
        assert "20\xa0%" in axis.ticktext and not any(t.endswith("%") and "\xa0" not in t for t in axis.ticktext)
        assert not fig.layout.xaxis.tickformat and not fig.layout.yaxis.tickformat


def test_a_hidden_exit_share_is_drawn_hatched_to_its_bound_with_its_mark():
    """Jämställdhet left a hidden share out, so a reason read as nobody (a board member's walk-through); it is drawn
    as the board pack draws it: hatched, to the largest share it can be, labelled with its mark and that bound, and
    its hover says no more than the label."""
    from render.charts import reason_share_by_sex

    df = pd.DataFrame({"label": ["Arbete", "Sjukdom"], "women_share": [0.35, None], "men_share": [0.2, None]})
    fig = reason_share_by_sex(df, "x", hidden={"women": [None, (0.04, "<5")], "men": [None, (None, "..")]})
    women, women_hidden, men, men_hidden, legend = fig.data
    assert list(women.x) == [0.35, None] and list(women_hidden.x) == [None, 0.04]
    assert list(women_hidden.text) == ["", "<5 ≤ 4\xa0%"] and women_hidden.marker.pattern.shape == "/"
    assert women_hidden.offsetgroup == women.offsetgroup and women_hidden.showlegend is False  # the same slot
    assert list(men_hidden.x) == [None, 1.0] and men_hidden.text[1] == ".."  # nothing bounds it: its mark alone
    assert legend.name == HIDDEN_NAME and list(women_hidden.hovertext) == list(women_hidden.text)
    assert "%{x" not in women_hidden.hovertemplate  # the bound is never offered as a value
    plain = reason_share_by_sex(df, "x")
    assert [t.name for t in plain.data] == ["Kvinnor", "Män"] and list(plain.data[0].x)[1] is None


def test_a_lone_hatched_series_keeps_room_for_its_legend_under_the_title():
    """Plotly counts the totals' text trace (showlegend=False) and so draws the legend of a chart whose only series
    is the hatch; the theme left it no room, and Inflöde's tertial chart had "Dolt" over its title."""
    from render.theme import _legend_names, apply_theme

    df = pd.DataFrame({"tertial": ["2025-T1", "2025-T2"], "Kommun": [S, S], "total": [302, 275]})
    fig = stacked(df, "tertial", [("Kommun", "Kommun", "#000000")], "Nya deltagare per tertial och remittent",
                  horizontal=False)
    assert [t.name for t in fig.data if t.showlegend is not False] == [HIDDEN_NAME]
    assert _legend_names(fig) == [HIDDEN_NAME]
    without_totals = stacked(df, "tertial", [("Kommun", "Kommun", "#000000")], "Nya deltagare", horizontal=False,
                             labels=False)
    assert _legend_names(without_totals) == []  # one trace alone: Plotly draws no legend, and no room is kept
    assert apply_theme(fig).layout.margin.t > apply_theme(without_totals).layout.margin.t


def test_a_hidden_count_by_age_and_sex_is_a_hatched_bar_to_its_bound_not_a_mark_at_the_baseline():
    """Jämställdhet's age chart drew no bar for a hidden count and wrote its mark at the baseline, where it ran into
    a neighbour's "0" (a board member's walk-through). It is a hatched bar as tall as it can be from what is shown
    (the age group's total less the other sexes' counts, or the sex's count over all ages less the other groups'),
    labelled with its mark."""
    from render.charts import grouped_sex_bars

    df = pd.DataFrame({"age_group": ["16–29", "65+"], "women": [S, P], "men": [223, 0], "other": [20, 0],
                       "total": [420, P]})
    fig = grouped_sex_bars(df, "age_group", "x", whole={"women": 500, "men": 223, "other": 20})
    women, women_hidden = fig.data[0], fig.data[1]
    assert list(women.y) == [None, None] and list(women.text) == ["", ""]  # no mark at the baseline
    # 16–29: the group's 420 less 223 and 20 = 177; the women's 500 less one for the other `<5` = 499: the least
    assert list(women_hidden.y) == [177, 4] and list(women_hidden.text) == [".. (högst 177)", "<5"]
    assert women_hidden.offsetgroup == women.offsetgroup and women_hidden.marker.pattern.shape == "/"
    assert fig.data[-1].name == HIDDEN_NAME and "%{y" not in women_hidden.hovertemplate
    men = fig.data[2]
    assert list(men.text) == ["223", "0"]


def test_the_marks_in_a_hidden_part_read_in_one_order_on_every_bar():
    """Avslut's bars read ".. <5" on one initiative and "<5 .." on the next, after the order of the reasons that hid
    them (a board member's walk-through)."""
    df = pd.DataFrame({"ini": ["A", "B"], "r1": [S, P], "r2": [P, S], "r3": [30, 30], "total": [40, 41]})
    fig = stacked(df, "ini", [("r1", "1", "#111111"), ("r2", "2", "#222222"), ("r3", "3", "#333333")], "x")
    hidden = [t for t in fig.data if t.name == HIDDEN_NAME][0]
    assert list(hidden.text) == ["<5 ..", "<5 .."]


def test_a_series_that_is_the_total_is_written_once_at_the_bars_end():
    df = pd.DataFrame({"label": ["Arbete", "Sjukdom"], "total": [290, 72]})
    fig = stacked(df, "label", [("total", "Avslutade", "#111111")], "x", total="total")
    bar, ends = fig.data
    assert list(bar.text) == ["", ""] and list(ends.text) == [" 290", " 72"]
