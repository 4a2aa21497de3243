"""Issue 23 §7: charts whose labels are all there — medians not cut off, a target stroke never over its bar's
label, kronor ticks that stay level, values for every exit-reason segment, bars on Kostnad in order of size, and
"Arbete/studier" apart from the grey of "Okänd orsak" under protanopia and deuteranopia."""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from render.charts import MEDIAN_ROOM, duration_boxes, money_bars, sex_bars, share_bars, stacked_money
from render.theme import EXIT_REASON_COLORS, MISSING_COLOR, apply_theme
from tests.test_render_theme import _seen

ROOT = Path(__file__).resolve().parents[1]
PLOT_PX = 420  # the plot area of a half-width chart on a 1440 px laptop, less the category labels
CHAR_PX = 0.6  # a character of the chart font is about 0,6 of its size wide


def stats(p90s):
    return pd.DataFrame([{"reason": str(i + 1), "label": f"Orsak {i + 1}", "sex": "total", "n": 20,
                          "q1_months": p / 4, "median_months": p / 2, "q3_months": p * 0.75, "p10_months": 0.5,
                          "p90_months": p} for i, p in enumerate(p90s)])


@pytest.mark.parametrize("present", [False, True])
def test_the_median_labels_fit_inside_the_chart(present):
    fig = apply_theme(duration_boxes(stats([3.2, 11.4, 24.9])), present=present)
    lo, hi = fig.layout.xaxis.range
    assert lo == 0 and hi >= 24.9 * MEDIAN_ROOM
    font = 24 if present else 16
    width = 1100 if present else PLOT_PX
    for trace in (t for t in fig.data if t.type == "scatter"):
        start = trace.x[0] / hi * width
        assert start + len(trace.text[0]) * CHAR_PX * font <= width, trace.text[0]


def test_a_share_bars_value_starts_after_its_target_stroke():
    df = pd.DataFrame({"initiative": ["A", "B", "C"], "share": [0.48, 0.62, 0.20], "goal": [0.50, 0.40, None]})
    fig = share_bars(df, "initiative", "share", "Andel kvinnor", color="#B4346C", name="Andel kvinnor",
                     target="goal")
    bar = next(t for t in fig.data if t.type == "bar")
    assert bar.text is None  # the values are written by the text trace, past bar and stroke
    labels = next(t for t in fig.data if t.type == "scatter" and t.mode == "text")
    assert list(labels.x) == [0.50, 0.62, 0.20]
    assert [t.strip().replace("\xa0", " ") for t in labels.text] == ["48,0 %", "62,0 %", "20,0 %"]


def test_a_count_bars_total_starts_after_its_target_stroke():
    df = pd.DataFrame({"initiative": ["A", "B"], "women": [10, 30], "men": [8, 20], "total": [18, 50]})
    fig = sex_bars(df, "initiative", "Deltagare", targets=pd.Series([20, 40]))
    totals = next(t for t in fig.data if t.type == "scatter" and t.mode == "text")
    assert list(totals.x) == [20, 50]  # A's label after its stroke at 20, B's after its bar at 50
    assert [t.strip() for t in totals.text] == ["18", "50"]


def test_kronor_ticks_stay_level():
    df = pd.DataFrame({"label": ["Insats A", "Insats B"], "budget": [1_250_000.0, 640_000.0],
                       "actual": [1_100_000.0, 700_000.0]})
    bars = money_bars(df, "label", {"budget": ("Budget", "#6C8EBF"), "actual": ("Utfall", "#1D3557")}, "Budget")
    assert bars.layout.xaxis.tickangle == 0 and bars.layout.xaxis.nticks <= 5
    assert bars.layout.xaxis.title.text == "Kronor"
    stacked = stacked_money(pd.DataFrame({"label": ["A", "A"], "category": ["Personal", "Lokaler"],
                                          "cost": [900_000.0, 150_000.0]}), "label", "category", "Kostnad")
    assert stacked.layout.xaxis.tickangle == 0


@pytest.mark.parametrize("vision", ["protanopia", "deuteranopia"])
def test_work_and_studies_is_not_the_grey_of_an_unknown_reason(vision):
    work, unknown = _seen(EXIT_REASON_COLORS["1"], vision), _seen(MISSING_COLOR, vision)
    assert math.dist(work, unknown) >= 25
    assert math.hypot(work[1], work[2]) >= 15  # it keeps a hue: not a grey of another lightness


# ------------------------------------------------------------------ the pages (AppTest, on the sample)


def page(db, monkeypatch, path, **query) -> AppTest:
    monkeypatch.setenv("FINSAM_DB", str(db))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    at.switch_page(path)
    return at.run()


def chart_bars(at: AppTest, key: str) -> list[dict]:
    import json

    chart = next(c for c in at.get("plotly_chart") if c.proto.id.endswith(key) or key in c.proto.id)
    return [t for t in json.loads(chart.proto.spec)["data"] if t["type"] == "bar"]


def test_every_exit_reason_segment_has_its_value_in_a_table_beside_the_chart(sample_db, monkeypatch):
    at = page(sample_db, monkeypatch, "pages/avslut.py", year="2021")
    assert not at.exception, at.exception
    wide = next(df.value for df in at.dataframe if list(df.value.columns)[:1] == ["Insats"]
                and "Totalt" in df.value.columns and "Arbete/studier" in df.value.columns)
    reasons = [c for c in wide.columns if c not in ("Insats", "Totalt")]
    assert len(reasons) >= 5 and len(wide) >= 5
    numbers = wide[reasons].apply(pd.to_numeric)
    assert (numbers.sum(axis=1) == pd.to_numeric(wide.Totalt)).all()  # without protection: every count, adding up


def test_kostnad_bars_can_be_ordered_by_size(sample_db, monkeypatch):
    at = page(sample_db, monkeypatch, "pages/kostnad.py", year="2021")
    assert not at.exception, at.exception
    radio = next(r for r in at.radio if r.label == "Staplarnas ordning")
    radio.set_value("Störst först")
    at = at.run()
    per = next(t for t in chart_bars(at, "kostnad_per_deltagare") if t["name"] == "Per deltagare")
    values = [v for v in per["x"] if v is not None]
    assert len(values) >= 5 and values == sorted(values, reverse=True)
    radio = next(r for r in at.radio if r.label == "Staplarnas ordning")
    radio.set_value("Som i tabellen")
    at = at.run()
    per = next(t for t in chart_bars(at, "kostnad_per_deltagare") if t["name"] == "Per deltagare")
    assert [v for v in per["x"] if v is not None] != values  # the sample's initiatives are not named in cost order


def test_the_reference_line_is_named_in_the_legend_and_crosses_no_value():
    df = pd.DataFrame({"initiative": ["A", "B", "C", "D"], "share": [0.50, 0.42, 0.20, 0.70]})
    fig = share_bars(df, "initiative", "share", "Andel kvinnor", color="#B4346C", name="Andel kvinnor",
                     reference=0.5, reference_name="50 %")
    assert not fig.layout.annotations  # no "50 %" written on the plot, where it ran into "50,0 %"
    legend = [t.name for t in fig.data if t.showlegend is not False and t.name]
    assert "Jämförelse: 50 %" in legend and fig.layout.showlegend
    labels = next(t for t in fig.data if t.type == "scatter" and t.mode == "text")
    # A at the line itself; B (42 %) would run across the line at 50 %: written after it; C and D clear of it
    assert list(labels.x) == [0.5, 0.5, 0.2, 0.7]


def test_values_in_stacked_segments_stay_level():
    from render.charts import reason_bars

    df = pd.DataFrame({"initiative": ["A", "A", "B"], "reason": ["1", "unknown", "1"],
                       "label": ["Arbete/studier", "Okänd orsak", "Arbete/studier"], "total": [30, 7, 12],
                       "_total": [37, 37, 12]})
    fig = reason_bars(df, "initiative", "Avslutade")
    segments = [t for t in fig.data if t.type == "bar"]
    assert segments and all(t.textangle == 0 for t in segments)
    work = next(t for t in segments if t.name == "Arbete/studier")
    assert work.marker.color == EXIT_REASON_COLORS["1"] != MISSING_COLOR


def test_exits_by_initiative_and_reason_leave_each_bar_room_for_its_values():
    """Issue 23: with seven reasons the legend takes four rows, and at Plotly's default 450 px the bars of seven
    initiatives were too thin for any value (uniformtext hides what does not fit at 11 px): about 40 px a bar."""
    from render.charts import reason_bars

    names = [f"Insats {c}" for c in "ABCDEFG"]
    df = pd.DataFrame([{"initiative": n, "reason": r, "label": f"Orsak {r}", "total": 10, "_total": 70}
                       for n in names for r in "1234567"])
    fig = reason_bars(df, "initiative", "Avslutade")
    assert fig.layout.height >= 230 + 40 * len(names)
    assert reason_bars(df[df.initiative == "Insats A"], "initiative", "Avslutade").layout.height == 450
