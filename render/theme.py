"""One chart look for every page: readable on a projector, colour-blind safe, one colour for one meaning.

Each dimension has its own palette, and no colour stands for two things: sex (women, men,
other/unknown), referring agency, exit reason, and money (budget, actual) never share a colour,
so a reader who has learnt "men are blue" is never misled by a blue agency. The one shared
colour is the grey of "no information" (Uppgift saknas, okänd orsak), which means the same
everywhere; targets are black strokes; flags (a large deviation) are a black outline and a word,
never a colour. Within each set, colours stay apart (CIE76 ΔE ≥ 12) as seen with protanopia,
deuteranopia and tritanopia (Machado et al. 2009), and every colour has at least 3:1 contrast
against white; tests/test_render_theme.py checks all three, so a new colour must pass them.

Colours and sizes are written into each figure's layout, not only into the template:
st.plotly_chart's default theme="streamlit" replaces the template, but keeps explicit
layout values (checked in the browser on 1.67: font sizes, trace colours and
separators survive; the title's font family and the legend's text colour become
Streamlit's, which matches the app).
"""
from __future__ import annotations

import hashlib
import re
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio

from core.vocabulary import MISSING, SEX_LABELS, UNKNOWN_REASON

from .format import is_missing

TEMPLATE_NAME = "insatskollen"
PRESENT_TEMPLATE_NAME = "insatskollen_present"

FONT_FAMILY = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
TEXT_COLOR = "#111111"
MUTED_TEXT = "#555555"  # 7,5:1 on white: captions and notes, above WCAG AA's 4,5:1 for small text
GRID_COLOR = "#E3E3E3"
AXIS_LINE_COLOR = "#8A8A8A"

MISSING_COLOR = "#949494"  # grey: "no information" recedes, yet keeps 3:1 against white; the same meaning everywhere
HIDDEN_COLOR = "#BDBDBD"  # a segment protection hides: drawn hatched and labelled, never as a gap
TOTAL_COLOR = "#222222"
FLAG_LINE = {"color": "#000000", "width": 3}  # a flagged bar (large deviation from target): outline, not colour
HIGHLIGHT_COLOR = TOTAL_COLOR  # kept for callers: a flag is drawn in black

SEX_COLORS_BY_KEY = {"women": "#B4346C", "men": "#1F63A6", "other": "#7D6B00", "total": TOTAL_COLOR}
SEX_COLORS: dict[str, str] = {**SEX_COLORS_BY_KEY, **{SEX_LABELS[k]: c for k, c in SEX_COLORS_BY_KEY.items()}}

AGENCY_COLORS: dict[str, str] = {
    "Försäkringskassan": "#332288",
    "Arbetsförmedlingen": "#117733",
    "Kommun": "#B35600",
    "Region": "#882255",
    "Annan": "#21A0B5",
    MISSING: MISSING_COLOR,
}

# 1 (work/studies) is the dark petrol blue the association is judged on; 2, its wide sibling, green. The petrol
# keeps its blue under protanopia and deuteranopia (the former teal turned the grey of "Okänd orsak" there: ΔE 12
# from it; now ≥ 25, checked in tests/test_render_theme.py).
EXIT_REASON_COLORS: dict[str, str] = {
    "1": "#0D5C75",
    "2": "#50A24A",
    "3": "#A23B2A",
    "4": "#7B5EA7",
    "5": "#B08600",
    "6": "#3D3D3D",
    UNKNOWN_REASON: MISSING_COLOR,
}

# Money: budget light, actual (what was spent) dark; per-person figures follow their basis.
BUDGET_COLOR = "#6C8EBF"
ACTUAL_COLOR = "#1D3557"
MIXED_COST_COLOR = "#86577F"  # over several years, some on actual and some on budget
PER_STARTED_COLOR = "#23744A"
ALLOCATED_COLOR = "#8A6A12"  # what the parties allocated (the Ekonomi page)
EQUITY_COLOR = "#5B4B8A"  # the association's equity
MONEY_COLORS = {"budget": BUDGET_COLOR, "actual": ACTUAL_COLOR, "mixed": MIXED_COST_COLOR,
                "per_started": PER_STARTED_COLOR, "allocated": ALLOCATED_COLOR, "equity": EQUITY_COLOR}

# Values the data contract names, fixed so that the common ones never share a hashed colour.
KNOWN_CATEGORY_COLORS: dict[str, dict[str, str]] = {
    "category": {"Personal": "#5C3D2E", "Lokaler": "#A6763C", "Övrigt": "#7A8C6E", "Totalt": "#5A5A5A"},
    "funder": {"Förbundet": "#2E4A62", "ESF": "#D0743C", "Medfinansiering": "#4E9A8A"},
    # where the association's money goes (the Ekonomi page)
    "use": {"Individinriktade insatser": "#2C5F7C", "Strukturövergripande insatser": "#5E9C8F",
            "Administration": "#A0522D"},
}

# Fallback for categories no palette names (new cost categories, funders): earth and slate tones, apart
# from the sex, agency and exit colours; every one has ≥ 3:1 contrast against white.
CATEGORY_PALETTE: list[str] = ["#6B4C3B", "#8D6E3F", "#5F7161", "#4A5D73", "#7D5A6E", "#866A3A", "#556B5D",
                               "#6A5F7F"]

TARGET_LINE: dict[str, Any] = {"color": TOTAL_COLOR, "width": 2, "dash": "dash"}

_KINDS = {
    "sex": SEX_COLORS, "kön": SEX_COLORS,
    "agency": AGENCY_COLORS, "remittent": AGENCY_COLORS,
    "category": KNOWN_CATEGORY_COLORS["category"], "kostnadsslag": KNOWN_CATEGORY_COLORS["category"],
    "funder": KNOWN_CATEGORY_COLORS["funder"], "finansiär": KNOWN_CATEGORY_COLORS["funder"],
    "use": KNOWN_CATEGORY_COLORS["use"],
}
_REASON_KINDS = {"exit_reason", "reason", "avslutsorsak"}


def _hashed_color(key: str) -> str:
    """Stable across runs and machines (unlike hash(), which is salted per process)."""
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    return CATEGORY_PALETTE[int.from_bytes(digest, "big") % len(CATEGORY_PALETTE)]


def _reason_key(key: Any) -> str:
    if is_missing(key):
        return "unknown"
    text = str(key).strip()
    try:
        number = float(text)
    except ValueError:
        return text.lower() if text.lower() == "unknown" else text
    return str(int(number)) if number.is_integer() else text


def exit_reason_color(key: Any) -> str:
    """Accepts "1", 1 or 1.0, since codes reach the pages from SQL, CSV and JSON alike."""
    k = _reason_key(key)
    return EXIT_REASON_COLORS.get(k) or _hashed_color(k)


def category_color(kind: str, key: Any) -> str:
    """The colour of any category, known or not; a missing value is always the 'no information' grey."""
    if is_missing(key):
        return MISSING_COLOR
    kind = kind.strip().lower()
    if kind in _REASON_KINDS:
        return exit_reason_color(key)
    name = str(key).strip()
    return _KINDS.get(kind, {}).get(name) or _hashed_color(name)


def contrast_ratio(color: str, background: str = "#FFFFFF") -> float:
    """WCAG 2 contrast ratio of two '#RRGGBB' colours (1 to 21)."""
    def luminance(hex_color: str) -> float:
        h = hex_color.lstrip("#")
        channels = [int(h[i:i + 2], 16) / 255 for i in (0, 2, 4)]
        r, g, b = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    hi, lo = sorted((luminance(color), luminance(background)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _sizes(present: bool) -> dict[str, int]:
    """Presentation mode is for the back row of a meeting room: every chart text at least 24 px."""
    if present:
        return {"base": 24, "tick": 24, "axis_title": 24, "title": 28, "legend": 24, "hover": 24}
    return {"base": 16, "tick": 14, "axis_title": 16, "title": 20, "legend": 15, "hover": 15}


def _axis(present: bool) -> dict[str, Any]:
    s = _sizes(present)
    return {
        "gridcolor": GRID_COLOR,
        "zerolinecolor": "#BDBDBD",
        "linecolor": AXIS_LINE_COLOR,
        "tickcolor": AXIS_LINE_COLOR,
        "tickfont": {"size": s["tick"], "color": TEXT_COLOR},
        "title": {"font": {"size": s["axis_title"], "color": TEXT_COLOR}},
        "automargin": True,  # long initiative names must not be cut off
    }


# Plotly cannot stack a container-anchored title above a legend by itself: a legend that
# needs more rows than the top margin holds grows up into the title. So the top margin
# is sized for the legend as it would wrap above a plot area this narrow (a half-width
# column on a laptop, less the axis labels); wider charts get a little air between
# title and legend.
ASSUMED_WIDTH_PX = 460
PRESENT_WIDTH_PX = 1100  # presentation mode draws one chart across the whole screen


_NO_LEGEND_BY_DEFAULT = {"heatmap", "contour", "histogram2d", "histogram2dcontour", "table", "sankey", "indicator"}


def _legend_names(fig: go.Figure) -> list[str]:
    if fig.layout.showlegend is False:
        return []
    names, seen = [], set()
    for t in fig.data:
        if getattr(t, "showlegend", False) is False:
            continue  # hidden, or a trace type without a legend (e.g. Sankey)
        if t.type in ("pie", "funnelarea"):
            labels = [] if t.labels is None else list(t.labels)
            names += [str(x) for x in dict.fromkeys(labels)]  # one entry per slice
            continue
        if t.name is None:
            continue
        key = getattr(t, "legendgroup", None) or t.name
        if key not in seen:
            seen.add(key)
            names.append(str(t.name))
    # Plotly hides the legend of a single trace, but counts every trace that its type would show in a legend, one
    # with showlegend=False too: the totals' text beside a lone hatched series brings the legend back (Inflöde's
    # tertial chart under protection had its "Dolt" entry drawn over its title)
    counted = sum(1 for t in fig.data if t.visible is not False and t.type not in _NO_LEGEND_BY_DEFAULT)
    single = counted < 2 and not any(t.type in ("pie", "funnelarea") for t in fig.data)
    if single and fig.layout.showlegend is not True:
        return []
    return names


def _legend_rows(names: list[str], font_size: int, width: int = ASSUMED_WIDTH_PX) -> int:
    """Rows as Plotly lays them out: one row if all fit, else a grid as wide as the widest entry."""
    if not names:
        return 0
    widths = [40 + 0.62 * font_size * len(name) for name in names]
    if sum(widths) <= width:
        return 1
    columns = max(1, int(width // max(widths)))
    return -(-len(names) // columns)


def _top_margin(fig: go.Figure | None, present: bool) -> int:
    s = _sizes(present)
    title = 14 + round(1.4 * s["title"]) if fig is None or fig.layout.title.text else 0
    width = PRESENT_WIDTH_PX if present else ASSUMED_WIDTH_PX
    rows = 1 if fig is None else _legend_rows(_legend_names(fig), s["legend"], width)
    return max(title + rows * round(1.5 * s["legend"]) + 16, 30)


def _right_margin(fig: go.Figure | None, present: bool) -> int:
    """Room right of the plot for the totals written after the bars' ends (render.charts.stacked). A label starts
    where its bar ends, and Plotly makes no room for text it draws outside the plot (cliponaxis=False): the
    longest bar's label was cut at the figure's edge (".. (hö" on a projector, a small association's hidden
    total at 1280×720). Each label's width is estimated as for the legend, and the plot taken to be half the
    assumed width, so a label is never cut for want of an estimate."""
    room = 24
    if fig is None:
        return room
    s = _sizes(present)
    plot = 0.5 * (PRESENT_WIDTH_PX if present else ASSUMED_WIDTH_PX)
    for trace in fig.data:
        if trace.type != "scatter" or trace.mode != "text" or trace.textposition != "middle right" \
                or trace.x is None or trace.text is None or isinstance(trace.text, str):
            continue
        xs = [float(x) for x in trace.x if isinstance(x, (int, float))]
        top = max(xs, default=0.0)
        if top <= 0:
            continue
        size = trace.textfont.size or s["base"]
        for x, text in zip(trace.x, trace.text):
            if isinstance(x, (int, float)) and text:
                room = max(room, round(0.62 * size * len(str(text)) - (1 - float(x) / top) * plot) + 8)
    return room


def _layout(present: bool, fig: go.Figure | None = None) -> dict[str, Any]:
    s = _sizes(present)
    top = _top_margin(fig, present)
    return {
        "font": {"family": FONT_FAMILY, "size": s["base"], "color": TEXT_COLOR},
        # Title at the top of the figure, legend just above the plot; the top margin holds both.
        "title": {"font": {"size": s["title"]}, "x": 0, "xanchor": "left", "xref": "container",
                  "y": 1, "yanchor": "top", "yref": "container", "pad": {"t": 14, "l": 12}},
        "paper_bgcolor": "#FFFFFF",
        "plot_bgcolor": "#FFFFFF",
        "colorway": CATEGORY_PALETTE,
        "separators": ", ",  # decimal comma, space between thousands: as in the tables
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0,
                   "traceorder": "normal",  # read left to right in the order the page added the series
                   "font": {"size": s["legend"]}, "bgcolor": "rgba(255,255,255,0)"},
        "margin": {"l": 12, "r": _right_margin(fig, present), "t": top, "b": 12, "pad": 4},
        "hoverlabel": {"font": {"family": FONT_FAMILY, "size": s["hover"]}, "bgcolor": "#FFFFFF",
                       "bordercolor": AXIS_LINE_COLOR, "align": "left"},
    }


def _template(present: bool) -> go.layout.Template:
    layout = _layout(present) | {"xaxis": _axis(present), "yaxis": _axis(present)}
    return go.layout.Template(layout=layout)


pio.templates[TEMPLATE_NAME] = _template(False)
pio.templates[PRESENT_TEMPLATE_NAME] = _template(True)


def _merged(base: dict, top: dict) -> dict:
    """`base` updated by `top` key by key, nested dicts merged: what Plotly's update_layout does."""
    out = dict(base)
    for key, value in top.items():
        out[key] = _merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


_AXIS_KEY = re.compile(r"[xy]axis\d*")


def apply_theme(fig: go.Figure, *, present: bool = False) -> go.Figure:
    """The figure with the app's look, as a new figure (`fig` is left as it was).

    Keeps what the page set that the theme does not decide (title text, heights,
    barmode, axis titles and ranges, showlegend). The theme is merged as plain dicts
    and the result built without Plotly's validation, as Plotly builds its own default
    template: the values are the theme's, checked by tests/test_render_theme.py, and
    validating them again per chart (update_layout, update_xaxes) was 10 ms a chart
    alone and most of a chart page's script time on a busy server. The figure is the
    same, key for key, as the validated updates give.
    """
    spec = fig.to_dict()
    layout = _merged(spec.get("layout", {}), _layout(present, fig))
    layout["template"] = pio.templates[PRESENT_TEMPLATE_NAME if present else TEMPLATE_NAME]
    for key in {"xaxis", "yaxis", *filter(_AXIS_KEY.fullmatch, layout)}:  # every axis, as update_xaxes/yaxes
        layout[key] = _merged(layout.get(key, {}), _axis(present))
    return go.Figure({**spec, "layout": layout}, _validate=False)


def label_color(fill: str) -> str:
    """The text colour for a value written on a bar of colour `fill`: white or dark, whichever stands out more."""
    return "#FFFFFF" if contrast_ratio(fill) >= contrast_ratio(fill, TEXT_COLOR) else TEXT_COLOR


def larger_text(fig: go.Figure, px: int, base: int = 24) -> go.Figure:
    """A presentation chart (`apply_theme(present=True)`, every text `base` px) with every text at `px` and its
    margins grown alike, as a new figure: 24 px is 3,3 % of a 720 px projector's height but 2,2 % of a full-HD
    screen's, where a board member found the charts' text small beside the headings, which grow with the screen."""
    f = px / base
    out = go.Figure(fig)
    out.update_layout(font_size=px, legend_font_size=px, uniformtext_minsize=px,
                      margin_r=round(fig.layout.margin.r * f) if fig.layout.margin.r is not None else None,
                      margin_t=round(fig.layout.margin.t * f) if fig.layout.margin.t is not None else None)
    if fig.layout.title.font.size:
        out.update_layout(title_font_size=round(fig.layout.title.font.size * f))
    out.update_xaxes(tickfont_size=px)
    out.update_yaxes(tickfont_size=px)
    for trace in out.data:
        if getattr(trace, "textfont", None) is not None and trace.textfont.size is not None:
            trace.textfont.size = px
    out.update_annotations(font_size=px)
    return out
