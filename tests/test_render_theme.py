"""Chart theme: readable contrast, colour-blind safe sets, fixed colours, projector-sized fonts."""
import itertools
import math
import os
import subprocess
import sys
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio
import pytest
from plotly.subplots import make_subplots

from core.vocabulary import AGENCIES, MISSING as AGENCY_MISSING
from render import theme
from render.theme import (
    AGENCY_COLORS,
    CATEGORY_PALETTE,
    EXIT_REASON_COLORS,
    HIGHLIGHT_COLOR,
    KNOWN_CATEGORY_COLORS,
    MISSING_COLOR,
    SEX_COLORS,
    TARGET_LINE,
    apply_theme,
    category_color,
    contrast_ratio,
    exit_reason_color,
)

ROOT = Path(__file__).resolve().parents[1]

ALL_COLORS = {
    **{f"sex:{k}": c for k, c in SEX_COLORS.items()},
    **{f"agency:{k}": c for k, c in AGENCY_COLORS.items()},
    **{f"exit:{k}": c for k, c in EXIT_REASON_COLORS.items()},
    **{f"{kind}:{k}": c for kind, m in KNOWN_CATEGORY_COLORS.items() for k, c in m.items()},
    **{f"palette:{i}": c for i, c in enumerate(CATEGORY_PALETTE)},
    "target": TARGET_LINE["color"],
    "highlight": HIGHLIGHT_COLOR,
    "missing": MISSING_COLOR,
}


def test_contrast_ratio_matches_wcag():
    assert contrast_ratio("#000000") == pytest.approx(21.0)
    assert contrast_ratio("#FFFFFF") == pytest.approx(1.0)
    assert contrast_ratio("#767676") == pytest.approx(4.54, abs=0.01)  # WebAIM's reference grey
    assert contrast_ratio("#FFFFFF", "#000000") == pytest.approx(21.0)


@pytest.mark.parametrize("name", sorted(ALL_COLORS))
def test_every_category_colour_has_3_to_1_contrast_against_white(name):
    color = ALL_COLORS[name]
    assert contrast_ratio(color) >= 3.0, f"{name} {color}: {contrast_ratio(color):.2f}"


def test_okabe_ito_yellow_and_orange_are_not_used_undarkened():
    used = {c.upper() for c in ALL_COLORS.values()}
    assert not used & {"#F0E442", "#E69F00", "#56B4E9"}


# --- colour-vision deficiency: simulated with Machado, Oliveira & Fernandes (2009), severity 1.0

_MACHADO = {
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]],
}


def _linear(hex_color):
    h = hex_color.lstrip("#")
    return [(c / 12.92) if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in (int(h[i:i + 2], 16) / 255
                                                                                   for i in (0, 2, 4))]


def _lab(linear_rgb):
    r, g, b = (min(1.0, max(0.0, c)) for c in linear_rgb)
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883
    f = lambda t: t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116  # noqa: E731
    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def _seen(hex_color, vision):
    v = _linear(hex_color)
    if vision != "normal":
        v = [sum(m * c for m, c in zip(row, v)) for row in _MACHADO[vision]]
    return _lab(v)


SETS = {
    "sex": {k: SEX_COLORS[k] for k in ("women", "men", "other", "total")},
    "agency": AGENCY_COLORS,
    "exit_reason": EXIT_REASON_COLORS,
    "category": KNOWN_CATEGORY_COLORS["category"],
    "funder": KNOWN_CATEGORY_COLORS["funder"],
    "use": KNOWN_CATEGORY_COLORS["use"],
    "money": theme.MONEY_COLORS,
}


@pytest.mark.parametrize("vision", ["normal", *_MACHADO])
@pytest.mark.parametrize("kind", sorted(SETS))
def test_colours_within_a_set_stay_apart_for_colour_blind_readers(kind, vision):
    """CIE76 ΔE ≥ 10 between any two colours of a set, as seen with each kind of colour blindness."""
    colours = SETS[kind]
    for (ka, a), (kb, b) in itertools.combinations(colours.items(), 2):
        delta = math.dist(_seen(a, vision), _seen(b, vision))
        assert delta >= 10, f"{kind} {ka} {a} vs {kb} {b} under {vision}: ΔE {delta:.1f}"


def test_women_and_the_deviation_highlight_stay_apart():
    for vision in ["normal", *_MACHADO]:
        assert math.dist(_seen(SEX_COLORS["women"], vision), _seen(HIGHLIGHT_COLOR, vision)) >= 10


# --- fixed colours per category

def test_sex_colours_by_key_and_by_label():
    for key, label in (("women", "Kvinnor"), ("men", "Män"), ("other", "Annat/okänt"), ("total", "Totalt")):
        assert SEX_COLORS[key] == SEX_COLORS[label]
    assert len({SEX_COLORS["women"], SEX_COLORS["men"], SEX_COLORS["other"]}) == 3


def test_agency_colours_cover_the_agencies_of_the_reference_data():
    assert set(AGENCY_COLORS) == {*AGENCIES, AGENCY_MISSING}
    assert AGENCY_COLORS["Uppgift saknas"] == MISSING_COLOR
    assert len(set(AGENCY_COLORS.values())) == len(AGENCY_COLORS)


def _is_grey(hex_color):
    h = hex_color.lstrip("#")
    return h[0:2] == h[2:4] == h[4:6]


def test_missing_is_grey():
    assert _is_grey(MISSING_COLOR)
    assert _is_grey(EXIT_REASON_COLORS["unknown"]) and _is_grey(AGENCY_COLORS["Uppgift saknas"])


def test_exit_reason_colours():
    assert set(EXIT_REASON_COLORS) == {"1", "2", "3", "4", "5", "6", "unknown"}
    assert len(set(EXIT_REASON_COLORS.values())) == 7
    assert EXIT_REASON_COLORS["unknown"] == MISSING_COLOR and EXIT_REASON_COLORS["1"] != MISSING_COLOR


def test_one_colour_one_meaning_across_dimensions():
    """No colour stands for two things: sex, agency, exit reason and money never share one (grey = no information)."""
    sets = {"sex": set(SEX_COLORS.values()) - {theme.TOTAL_COLOR}, "agency": set(AGENCY_COLORS.values()),
            "exit": set(EXIT_REASON_COLORS.values()), "money": set(theme.MONEY_COLORS.values()),
            "category": set(KNOWN_CATEGORY_COLORS["category"].values()),
            "funder": set(KNOWN_CATEGORY_COLORS["funder"].values()), "fallback": set(CATEGORY_PALETTE),
            "use": set(KNOWN_CATEGORY_COLORS["use"].values())}
    for (a, ca), (b, cb) in itertools.combinations(sets.items(), 2):
        assert not (ca & cb) - {MISSING_COLOR}, (a, b, (ca & cb) - {MISSING_COLOR})
    assert HIGHLIGHT_COLOR not in sets["sex"] | sets["agency"] | sets["exit"]  # a flag is an outline, not a colour


def test_values_written_on_bars_are_readable():
    """White only on colours reaching 4,5:1 (WCAG AA for text); dark text elsewhere."""
    for c in [*SEX_COLORS.values(), *AGENCY_COLORS.values(), *EXIT_REASON_COLORS.values(), *theme.MONEY_COLORS.values()]:
        assert contrast_ratio(theme.label_color(c), c) >= 4.5, c
    assert contrast_ratio(theme.MUTED_TEXT) >= 4.5


@pytest.mark.parametrize("key", ["1", 1, 1.0, "1.0", " 1 "], ids=repr)
def test_exit_reason_color_accepts_codes_in_any_shape(key):
    assert exit_reason_color(key) == EXIT_REASON_COLORS["1"]


@pytest.mark.parametrize("key", [None, float("nan"), "", "unknown", "UNKNOWN"], ids=repr)
def test_exit_reason_without_code_is_grey(key):
    assert exit_reason_color(key) == MISSING_COLOR


def test_unknown_exit_code_still_gets_a_stable_colour():
    assert exit_reason_color("9") in CATEGORY_PALETTE
    assert exit_reason_color("9") == exit_reason_color(9)


def test_category_color_known_kinds():
    assert category_color("sex", "Kvinnor") == SEX_COLORS["women"]
    assert category_color("agency", "Region") == AGENCY_COLORS["Region"]
    assert category_color("exit_reason", 3) == EXIT_REASON_COLORS["3"]
    assert category_color("category", "Personal") == KNOWN_CATEGORY_COLORS["category"]["Personal"]
    assert category_color("funder", "ESF") == KNOWN_CATEGORY_COLORS["funder"]["ESF"]
    assert category_color("funder", None) == MISSING_COLOR
    assert category_color("whatever", float("nan")) == MISSING_COLOR


def test_category_color_unknown_is_stable_and_safe():
    c = category_color("category", "Konsulter")
    assert c in CATEGORY_PALETTE
    assert category_color("category", "Konsulter") == c
    assert len({category_color("x", f"Kategori {i}") for i in range(60)}) > 5  # spread over the palette


def test_category_color_is_the_same_in_every_process():
    """Python's hash() is salted per process; the colour of a category must not change between reruns."""
    code = "from render.theme import category_color as c; print(c('category','Konsulter'), c('funder','Regionen X'))"
    outputs = {
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True, text=True,
                       env={**os.environ, "PYTHONHASHSEED": seed}).stdout
        for seed in ("1", "2", "3")
    }
    assert len(outputs) == 1


def test_target_line_is_dashed_and_dark():
    assert TARGET_LINE["dash"] == "dash"
    assert contrast_ratio(TARGET_LINE["color"]) >= 7


# --- apply_theme

def _bar_figure():
    fig = go.Figure()
    fig.add_bar(x=["a", "b"], y=[1234.5, 2000], name="Kvinnor", marker_color=SEX_COLORS["Kvinnor"])
    fig.add_bar(x=["a", "b"], y=[1, 2], name="Män", marker_color=SEX_COLORS["Män"])
    fig.update_layout(title="Deltagare", barmode="stack", height=380, xaxis_title="Insats")
    return fig


def test_template_is_registered_on_import():
    assert "insatskollen" in pio.templates
    tpl = pio.templates["insatskollen"].layout
    assert tpl.font.size == 16
    assert tpl.separators == ", "
    assert list(tpl.colorway) == CATEGORY_PALETTE


def test_apply_theme_sets_the_look_and_keeps_the_page_settings():
    page = _bar_figure()
    before = page.to_dict()
    fig = apply_theme(page)
    assert page.to_dict() == before  # a new figure; the page's own is left as it was
    lay = fig.layout
    assert lay.font.size == 16 and "sans-serif" in lay.font.family
    assert lay.separators == ", "
    assert lay.paper_bgcolor == "#FFFFFF" and lay.plot_bgcolor == "#FFFFFF"
    assert lay.legend.orientation == "h" and lay.legend.y > 1 and lay.legend.yanchor == "bottom"
    assert lay.hoverlabel.font.size >= 14
    assert lay.xaxis.gridcolor == theme.GRID_COLOR and lay.yaxis.gridcolor == theme.GRID_COLOR
    assert lay.margin.t > 0
    # what the page decided stays
    assert lay.title.text == "Deltagare" and lay.barmode == "stack" and lay.height == 380
    assert lay.xaxis.title.text == "Insats"
    assert fig.data[0].marker.color == SEX_COLORS["Kvinnor"]
    fig.to_json()  # still a valid figure


def test_apply_theme_present_is_projector_sized_on_every_axis():
    fig = make_subplots(rows=1, cols=2)
    fig.add_bar(x=["a"], y=[1], row=1, col=1)
    fig.add_bar(x=["b"], y=[2], row=1, col=2)
    lay = apply_theme(fig, present=True).layout
    assert lay.font.size == 24
    for axis in (lay.xaxis, lay.yaxis, lay.xaxis2, lay.yaxis2):
        assert axis.tickfont.size >= 24
        assert axis.title.font.size >= 24
    assert lay.legend.font.size >= 24 and lay.hoverlabel.font.size >= 24
    assert lay.title.font.size > 24


def test_apply_theme_twice_is_harmless():
    fig = apply_theme(apply_theme(_bar_figure()), present=False)
    assert fig.layout.font.size == 16


def test_top_margin_leaves_room_for_a_legend_that_wraps():
    few, many = _bar_figure(), _bar_figure()
    for i in range(6):
        many.add_bar(x=["a"], y=[1], name=f"Avslutsorsak med lång etikett {i}")
    few, many = apply_theme(few), apply_theme(many)
    assert many.layout.margin.t > few.layout.margin.t
    single = apply_theme(go.Figure(go.Bar(x=["a"], y=[1], name="Ensam")))
    assert single.layout.margin.t < few.layout.margin.t  # no title, no legend: no wasted space


def _through_plotly_updates(fig: go.Figure, present: bool) -> go.Figure:
    """The theme applied with Plotly's own validated updates: what apply_theme must equal, key for key."""
    fig = go.Figure(fig)
    fig.layout.template = pio.templates[theme.PRESENT_TEMPLATE_NAME if present else theme.TEMPLATE_NAME]
    fig.update_layout(**theme._layout(present, fig))
    fig.update_xaxes(**theme._axis(present))
    fig.update_yaxes(**theme._axis(present))
    return fig


def _figures() -> dict[str, go.Figure]:
    subplots = make_subplots(rows=1, cols=2)
    subplots.add_bar(x=["a"], y=[1], row=1, col=1)
    subplots.add_scatter(x=[1, 2], y=[2, 3], row=1, col=2, name="Linje")
    titled = _bar_figure()
    titled.update_layout(legend={"traceorder": "reversed"}, margin={"l": 200}, font={"color": "#FF0000"},
                         xaxis={"range": [0, 3], "title": {"text": "X", "font": {"size": 9}}}, yaxis2={"overlaying": "y"})
    return {
        "bars": _bar_figure(), "page settings": titled, "subplots": subplots, "empty": go.Figure(),
        "pie": go.Figure(go.Pie(labels=["a", "b", "a"], values=[1, 2, 3])),
        "sankey": go.Figure(go.Sankey(node={"label": ["Före", "Efter"]}, link={"source": [0], "target": [1], "value": [4]})),
    }


@pytest.mark.parametrize("present", [False, True])
@pytest.mark.parametrize("name", list(_figures()))
def test_apply_theme_equals_plotlys_validated_updates(name, present):
    fig = _figures()[name]
    themed = apply_theme(fig, present=present)
    assert themed.to_plotly_json() == _through_plotly_updates(fig, present).to_plotly_json()
    go.Figure(themed.to_dict())  # and Plotly's validation accepts every value it set


def test_a_full_hd_slide_chart_has_every_text_larger_and_room_for_it():
    from render.charts import sex_bars
    from render.theme import apply_theme, larger_text
    import pandas as pd

    df = pd.DataFrame({"initiative": ["Alfa", "Beta"], "women": [30, 12], "men": [20, 9], "total": [50, 21]})
    small = apply_theme(sex_bars(df, "initiative", "Deltagare per insats och kön"), present=True)
    small.update_traces(selector=dict(type="bar"), textfont_size=24)
    large = larger_text(small, 32)
    assert large is not small and small.layout.font.size == 24  # a copy: the projector's chart stays as it was
    assert large.layout.font.size == large.layout.legend.font.size == large.layout.yaxis.tickfont.size == 32
    assert all(t.textfont.size in (None, 32) for t in large.data) and any(t.textfont.size == 32 for t in large.data)
    assert large.layout.margin.r > small.layout.margin.r and large.layout.margin.t > small.layout.margin.t
