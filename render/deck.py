"""The board pack: one PowerPoint deck with the board meeting's figures for the chosen period and filters.

Every chart is a native PowerPoint chart (editable, with its data in the embedded workbook),
in the app's fixed colours. Small-count protection is always on here, whatever the app's
switch says, decided by the same engine as every page (render/protected.py → metrics.suppress):
a hidden count is shown as `<5` or `..` in tables, and in charts as a hatched, labelled segment —
never a silent gap. Shares and costs per person resting on a hidden count are not shown.

Layouts survive many categories: horizontal bars read top-down, the largest ten initiatives and
the rest said in words; the legend below the chart; one takeaway sentence per slide
(render/takeaways.py) and a footnote inside the slide. Every text that reaches the embedded
workbooks is neutralised (python-pptx writes them with XlsxWriter, which would turn a name
starting with `=` into a live formula).
"""
from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import pandas as pd
from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE, XL_LABEL_POSITION, XL_LEGEND_POSITION
from pptx.enum.dml import MSO_PATTERN
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.oxml.ns import qn
from pptx.util import Emu, Inches, Pt

from core.vocabulary import MISSING, SEX_COLUMNS, SEX_LABELS, SEX_WORDS, SEXES, TOTAL, UNKNOWN_REASON
from metrics import Filters
from metrics.catalog import coverage, status
from metrics.compare import key_figures
from metrics.cost import ACTUAL, BUDGET, MIXED, cost_by_initiative_year, cost_per_initiative, cost_summary
from metrics.definitions import note
from metrics.people import (DEFAULT_WOMEN_TARGET, by_initiative, headline, inflow_by_agency, reason_shares,
                            women_share_vs_target)
from metrics.suppress import DEFAULT_THRESHOLD, PRIMARY, SECONDARY, SECONDARY_MARK, is_hidden, kind_of, legend, mark

from . import theme
from .workbook import NUMBER_FORMATS, neutralise
from .files import board_pack_file_name as file_name  # noqa: F401 - the deck's own name, kept where it was
from .format import DASH, fmt_date, fmt_datetime, fmt_delta_int, fmt_int, fmt_kr, fmt_pct, fmt_pp
from .protected import Figures, Shown, bar_ends, compared, hidden_shares
from .targets import below_targets, none_below_text, not_compared
from .takeaways import cost_takeaway, exits_takeaway, inflow_takeaway, women_target_takeaway
from .text import coverage_line, describe, period_label, period_title

DECK_TITLE = "Styrelsemöte – underlag"
TITLES = {
    "headline": "Nyckeltal per kön",
    "compare": "Jämfört med föregående period",
    "inflow": "Inflöde per remittent",
    "gender": "Jämställdhet",
    "exits": "Avslut och resultat",
    "cost": "Kostnad per deltagare",
    "targets": "Under målen",
}
TOP = 10  # initiatives per chart; the rest are named in the footnote
SHORT_TARGET = {"Deltagare per år": "Deltagare/år", "Andel kvinnor": "Kvinnor", "Till arbete/studier": "Arbete/studier"}
TARGET_ROWS = 5  # shortfalls on the targets slide: rows readable from the back of the room above the footnote
UNKNOWN_SHORT = "Okänd orsak"
BASIS_SERIES = {ACTUAL: "Utfall", BUDGET: "Budget (utfall saknas)", MIXED: "Utfall och budget"}
BASIS_COLORS = {ACTUAL: theme.ACTUAL_COLOR, BUDGET: theme.BUDGET_COLOR, MIXED: theme.MIXED_COST_COLOR}
HEADLINE_ROWS = {
    "participants": "Deltagare",
    "started": "Nya deltagare",
    "exited": "Avslutade",
    "positive_share": "Till arbete/studier",
    "positive_wide_share": "Till arbete, studier eller rehab.",
    "cost_per_participant": "Kostnad per deltagare",
    "women_share": "Andel kvinnor",
}

# Speaker notes: each slide's definitions, from metrics/definitions.py.
NOTES = {
    "title": "Underlaget bygger på Insatskollens definitioner (metrics/definitions.py). Skydd för små tal är alltid "
             "på. Saknade uppgifter visas som –.",
    "headline": note("participants", "started", "exited", "positive_share", "positive_wide_share",
                     "cost_per_participant", "women_share"),
    "compare": "Samma mått för föregående period av samma längd (för ett kalenderår: året innan). Förändringen av en "
               "andel anges i procentenheter. " + note("participants", "exited", "positive_share"),
    "inflow": note("started") + f" Per remittentens myndighet och kön. {MISSING}: ingen remittent angiven, inget "
              "samtycke eller anonymt antal, så att myndigheterna summerar till alla nya.",
    "gender": note("women_share") + " Urvalet på kön används inte här. Mål: insatsregistrets mål för andelen "
              "kvinnor; insatser utan mål jämförs med 50 %.",
    "exits": note("exited", "positive_share") + " Staplarna visar varje avslutsorsaks andel av alla avslut inom "
             "respektive kön. Okänd orsak: avslut utan samtycke eller utan angiven orsak; de räknas med i nämnaren.",
    "cost": note("cost_per_participant") + " Där året saknar utfall används budgeten, och stapeln visas då i "
            "budgetfärgen. Urvalet på kön och remittent gäller inte kostnaden.",
    "targets": "Insatser under insatsregistrets mål för antal deltagare per år (jämförs bara för helår), andel kvinnor "
               "och andel till arbete eller studier, med avvikelsen; störst avvikelse i förhållande till målet först. "
               "Dolda tal jämförs inte.",
}

# Layout of a 16:9 slide, in inches; everything stays inside SLIDE_W × SLIDE_H
SLIDE_W, SLIDE_H = 13.333, 7.5
MARGIN = 0.6
CHART_TOP, CHART_H = 2.05, 4.35
FOOT_TOP = 6.55
TEXT_COLOR = RGBColor.from_string("111111")
MUTED_COLOR = RGBColor.from_string("3A3A3A")
HEADER_FILL = RGBColor.from_string("DDDDDD")
BAND_FILL = RGBColor.from_string("F2F2F2")
WHITE = RGBColor.from_string("FFFFFF")
GRID = RGBColor.from_string("D0D0D0")
TITLE_PT, TAKEAWAY_PT, BODY_PT, CHART_PT, FOOT_PT = 34, 22, 18, 16, 14
# Number formats that read Swedish wherever the deck is opened: a literal space between thousands (not Excel's
# locale-dependent `,`), the Swedish space before % and kr (render.workbook.NUMBER_FORMATS)
PCT_FORMAT = '0" %"'
COUNT_FORMAT = NUMBER_FORMATS["int"]
KR_FORMAT = NUMBER_FORMATS["kr"]
HIDDEN_SERIES = "Dolt (skydd för små tal)"
END_SERIES = "\u00a0"  # invisible, unnamed (no legend text): carries each stacked bar's total past its end
PLOT_W, CHAR_W = 8.5, 0.14  # inches: the bars' width at the axis maximum, and a bold label character at CHART_PT


def _value(v) -> float | None:
    """A chart value: None for missing (None or NaN, which a pandas column turns None into)."""
    return None if v is None or pd.isna(v) else float(v)


def _rgb(hex_color: str) -> RGBColor:
    return RGBColor.from_string(hex_color.lstrip("#").upper())


def _safe(text: object) -> str:
    """A name from a file, safe in the embedded chart workbook (no formula) and on one line."""
    return neutralise(" ".join(str(text).split()))


# ---------------------------------------------------------------- drawing

def _style_runs(paragraph, size: int, *, bold: bool = False, color: RGBColor = TEXT_COLOR) -> None:
    for run in paragraph.runs:
        run.font.size = Pt(size)
        run.font.bold = bold
        run.font.color.rgb = color


def _text(slide, left: float, top: float, width: float, height: float, lines: Sequence[str] | str, size: int,
          *, bold: bool = False, color: RGBColor = TEXT_COLOR, name: str | None = None):
    box = slide.shapes.add_textbox(Inches(left), Inches(top), Inches(width), Inches(height))
    if name:
        box.name = name
    tf = box.text_frame
    tf.word_wrap = True
    tf.vertical_anchor = MSO_ANCHOR.TOP
    for i, line in enumerate([lines] if isinstance(lines, str) else lines):
        p = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
        p.text = line
        p.alignment = PP_ALIGN.LEFT
        _style_runs(p, size, bold=bold, color=color)
    return box


def _slide(prs, title: str, notes: str):
    slide = prs.slides.add_slide(prs.slide_layouts[5])  # "Title Only": a real title, for outline and screen readers
    t = slide.shapes.title
    t.left, t.top, t.width, t.height = Inches(MARGIN), Inches(0.3), Inches(SLIDE_W - 2 * MARGIN), Inches(0.85)
    t.text = title
    tf = t.text_frame
    tf.vertical_anchor = MSO_ANCHOR.MIDDLE
    for p in tf.paragraphs:
        p.alignment = PP_ALIGN.LEFT
        _style_runs(p, TITLE_PT, bold=True)
    slide.notes_slide.notes_text_frame.text = notes
    return slide


def _takeaway(slide, sentence: str) -> None:
    _text(slide, MARGIN, 1.2, SLIDE_W - 2 * MARGIN, 0.8, sentence, TAKEAWAY_PT, name="Slutsats")


def _footnote(slide, lines: Sequence[str]) -> None:
    lines = [x for x in lines if x]
    if lines:
        _text(slide, MARGIN, FOOT_TOP, SLIDE_W - 2 * MARGIN, SLIDE_H - FOOT_TOP - 0.15, " ".join(lines), FOOT_PT,
              color=MUTED_COLOR, name="Fotnot")


def _set_alt_text(shape, text: str) -> None:
    shape._element.xpath("./*[1]/p:cNvPr")[0].set("descr", text)


def _chart(slide, categories: Sequence[str], series: Sequence[tuple[str, Sequence, str]], *, number_format: str,
           title: str, alt: str, stacked: bool = False, percent_axis: bool = False,
           hidden: tuple[Sequence, Sequence[str]] | None = None, ends: Sequence[str] | None = None,
           point_marks: Sequence[Sequence[str]] | None = None, empty_message: str = "") -> bool:
    """Horizontal bars read top-down, values on the bars, legend below.

    `hidden` = (sizes, marks) of a hatched segment for counts protection hides (stacked charts), labelled with
    the mark; `ends` = each stacked bar's total, written just past its end (a segment too narrow for its own
    label has it moved there, in words, so no two labels run into each other); `point_marks` = per series,
    per category, the mark of a hidden figure whose value is the largest it can be (clustered charts): that
    bar is drawn hatched to there and labelled with the mark, so a hidden figure never reads as zero."""
    left, width = MARGIN, SLIDE_W - 2 * MARGIN
    series = [(name, [_value(v) for v in values], color) for name, values, color in series]
    if hidden is not None:
        hidden = ([_value(v) for v in hidden[0]], hidden[1])
    if not categories or not any(v is not None for _, vals, _ in series for v in vals) and not (
            hidden is not None and any(v for v in hidden[0])):
        _text(slide, left, CHART_TOP + 1.2, width, 1.2, empty_message or "Det finns inga uppgifter att visa.",
              TAKEAWAY_PT, color=MUTED_COLOR, name="Tomt diagram")
        return False
    data = CategoryChartData(number_format=number_format)
    data.categories = [_safe(c) for c in categories]
    all_series = list(series)
    if hidden is not None and any(v for v in hidden[0]):
        all_series.append((HIDDEN_SERIES, list(hidden[0]), theme.HIDDEN_COLOR))
    with_ends = stacked and ends is not None
    if with_ends:
        all_series.append((END_SERIES, [0.0] * len(categories), theme.TOTAL_COLOR))
    for name, values, _ in all_series:
        data.add_series(name if name == END_SERIES else _safe(name), values, number_format)
    kind = XL_CHART_TYPE.BAR_STACKED if stacked else XL_CHART_TYPE.BAR_CLUSTERED
    height = min(CHART_H, 0.9 + 0.42 * len(categories) * (1 if stacked else max(1, len(series) * 0.6)))
    frame = slide.shapes.add_chart(kind, Inches(left), Inches(CHART_TOP), Inches(width), Inches(max(2.2, height)), data)
    frame.name = title
    _set_alt_text(frame, alt)
    chart = frame.chart
    chart.font.size = Pt(CHART_PT)
    chart.font.color.rgb = TEXT_COLOR
    chart.has_title = False  # the slide's title and takeaway say it, in larger type
    legend_series = [name for name, _, _ in all_series if name != END_SERIES]
    chart.has_legend = len(legend_series) > 1
    if chart.has_legend:
        chart.legend.position = XL_LEGEND_POSITION.BOTTOM
        chart.legend.include_in_layout = False
        chart.legend.font.size = Pt(CHART_PT)
    va = chart.value_axis
    va.visible = False
    va.has_major_gridlines = False
    va.minimum_scale = 0
    totals = [sum(float(v) for _, vals, _ in all_series for v in [vals[i]] if v is not None)
              if stacked else max([float(vals[i]) for _, vals, _ in all_series if vals[i] is not None] or [0])
              for i in range(len(categories))]
    top_value = max(totals or [0])
    scale = (1.25 if percent_axis else top_value * (1.45 if with_ends else 1.25)) if top_value > 0 else None
    va.maximum_scale = scale
    ca = chart.category_axis
    ca.reverse_order = True  # the first category on top, as a table reads
    ca.tick_labels.font.size = Pt(CHART_PT)
    ca.format.line.color.rgb = GRID
    plot = chart.plots[0]
    plot.gap_width = 50
    if stacked:
        plot.overlap = 100
    crowded = not stacked and len(categories) * len(series) > 12  # thin bars: labels one size down, bars closer
    label_pt = CHART_PT - 2 if crowded else CHART_PT
    if crowded:
        plot.gap_width = 20
    moved: list[list[str]] = [[] for _ in categories]  # labels too wide for their segment, said at the bar's end

    def fits(value: float | None, text: str) -> bool:
        return not stacked or not scale or (value or 0) / scale * PLOT_W >= len(text) * CHAR_W + 0.15

    for k, (s, (name, values, color)) in enumerate(zip(plot.series, all_series)):
        s.invert_if_negative = False
        if name == END_SERIES:
            s.format.fill.background()
            s.format.line.fill.background()
            for i, text in enumerate(ends):
                label = text + (f" ({', '.join(moved[i])})" if moved[i] else "")
                dl = s.points[i].data_label
                dl.position = XL_LABEL_POSITION.INSIDE_BASE
                dl.text_frame.text = " " + label
                _style_runs(dl.text_frame.paragraphs[0], CHART_PT, bold=True)
                _no_wrap(dl._dLbl)
            continue
        if name == HIDDEN_SERIES:
            _hatch(s.format.fill)
            s.format.line.color.rgb = _rgb(theme.HIDDEN_COLOR)
            for i, m in enumerate(hidden[1]):
                if hidden[0][i] and m:
                    if fits(hidden[0][i], m):
                        tf = s.points[i].data_label.text_frame
                        tf.text = m
                        _style_runs(tf.paragraphs[0], CHART_PT, bold=True)
                    else:
                        moved[i].append(f"dolt {m}")
            continue
        s.format.fill.solid()
        s.format.fill.fore_color.rgb = _rgb(color)
        dl = s.data_labels
        dl.show_value = True
        dl.number_format = number_format
        dl.number_format_is_linked = False
        dl.font.size = Pt(label_pt)
        dl.font.bold = True
        dl.font.color.rgb = _rgb(theme.label_color(color)) if stacked else TEXT_COLOR
        dl.position = XL_LABEL_POSITION.CENTER if stacked else XL_LABEL_POSITION.OUTSIDE_END
        for body in dl._element.xpath("./c:txPr/a:bodyPr"):
            body.set("wrap", "none")  # "21 038 kr" on one line
        for i, v in enumerate(values):
            if v and with_ends and not fits(v, fmt_int(v)):
                _delete_label(s.points[i].data_label)
                moved[i].append(f"{name.lower()} {fmt_int(v)}")
        marks = point_marks[k] if point_marks is not None and k < len(point_marks) else None
        for i, m in enumerate(marks or []):
            if m and values[i] is not None:
                if m == SECONDARY_MARK and percent_axis is False and number_format == PCT_FORMAT:
                    m = f"{m} ≤\u00a0{fmt_pct(values[i] / 100, 0)}"  # the bar's length said: at most
                point = s.points[i]
                _hatch(point.format.fill)
                point.format.line.color.rgb = _rgb(color)
                point.format.line.width = Pt(1.5)
                tf = point.data_label.text_frame
                tf.text = m
                _style_runs(tf.paragraphs[0], label_pt, bold=True)
                point.data_label.position = XL_LABEL_POSITION.OUTSIDE_END
                _no_wrap(point.data_label._dLbl)
    return True


def _hatch(fill) -> None:
    fill.patterned()
    fill.pattern = MSO_PATTERN.WIDE_UPWARD_DIAGONAL
    fill.fore_color.rgb = _rgb("#767676")
    fill.back_color.rgb = WHITE


def _no_wrap(dlbl) -> None:
    for body in dlbl.xpath("./c:tx/c:rich/a:bodyPr"):
        body.set("wrap", "none")


def _delete_label(data_label) -> None:
    """No label on this one bar segment (its value is said at the bar's end instead)."""
    dlbl = data_label._get_or_add_dLbl()
    for child in list(dlbl)[1:]:
        dlbl.remove(child)
    dlbl.append(dlbl.makeelement(qn("c:delete"), {"val": "1"}))


def _table(slide, cells: pd.DataFrame, *, top: float = 1.25, first_col_width: float = 4.6,
           last_col_width: float | None = None) -> None:
    rows, cols = len(cells) + 1, len(cells.columns) + 1
    width = SLIDE_W - 2 * MARGIN
    row_h = min(0.6, (FOOT_TOP - top - 0.1) / rows)
    frame = slide.shapes.add_table(rows, cols, Inches(MARGIN), Inches(top), Inches(width), Inches(row_h * rows))
    frame.name = "Nyckeltal"
    table = frame.table
    table.columns[0].width = Inches(first_col_width)
    fixed = first_col_width + (last_col_width or 0)
    other = Emu(int((Inches(width) - Inches(fixed)) / (cols - 1 - (last_col_width is not None))))
    for j in range(1, cols):
        table.columns[j].width = Inches(last_col_width) if last_col_width and j == cols - 1 else other
    for r in range(rows):
        table.rows[r].height = Inches(row_h)
    header = ["", *cells.columns]
    body = [[idx, *[str(v) for v in row]] for idx, row in zip(cells.index, cells.itertuples(index=False))]
    for i, row in enumerate([header, *body]):
        for j, value in enumerate(row):
            cell = table.cell(i, j)
            cell.text = str(value)
            cell.fill.solid()
            cell.fill.fore_color.rgb = HEADER_FILL if i == 0 else (BAND_FILL if i % 2 == 0 else WHITE)
            cell.vertical_anchor = MSO_ANCHOR.MIDDLE
            p = cell.text_frame.paragraphs[0]
            p.alignment = PP_ALIGN.LEFT if j == 0 else PP_ALIGN.RIGHT
            _style_runs(p, BODY_PT, bold=i == 0 or j == 0)


# ---------------------------------------------------------------- figures, as shown

def _count_text(v, threshold: int) -> str:
    return mark(kind_of(v), threshold) if is_hidden(v) else fmt_int(v)


def _stack(df: pd.DataFrame, category: str, threshold: int, whole=None) -> tuple[list, list, tuple, list]:
    """Series per sex of a shown count table, the hatched hidden part of each bar, and each bar's end label.

    A bar is never shorter than the truth (render.protected.bar_ends): with its total visible, the hidden part
    is the total less the visible parts; with its total hidden, the bar reaches the largest the total can be,
    its hidden part hatched, and the end label says so."""
    series = []
    for s in SEXES:
        vals = [None if is_hidden(v) else v for v in df[s]]
        if any(v for v in vals):  # its hidden counts are in the hatched part: no legend entry without a bar
            series.append((SEX_LABELS[s], vals, theme.SEX_COLORS[s]))
    visible = [sum(float(row[s]) for s in SEXES if not is_hidden(row[s]) and not pd.isna(row[s]))
               for _, row in df.iterrows()]
    ends = bar_ends(list(df["total"]), visible, whole, threshold,
                    [[row[s] for s in SEXES if is_hidden(row[s])] for _, row in df.iterrows()])
    top = max([e for e in ends if e is not None] + [v for v in visible] + [0.0])
    sizes, marks, ends_text = [], [], []
    for (_, row), seen, end in zip(df.iterrows(), visible, ends):
        hid = [row[s] for s in SEXES if is_hidden(row[s])]
        if end is None:  # a `..` total with no whole to bound it: the bar runs to the axis's end
            end = max(top, seen) * 1.2 if top else float(threshold)
        rest = end - seen if (hid or is_hidden(row["total"])) else 0.0
        sizes.append(rest if rest > 0 else None)
        # the hatched part carries the marks of the hidden parts of a visible total; a hidden total's mark is
        # said once, at the bar's end
        marks.append("" if is_hidden(row["total"]) else " ".join(dict.fromkeys(mark(kind_of(v), threshold) for v in hid)))
        if not is_hidden(row["total"]):
            ends_text.append(fmt_int(row["total"]))
        elif kind_of(row["total"]) == PRIMARY:
            ends_text.append(mark(PRIMARY, threshold))
        else:
            ends_text.append(f"{mark(SECONDARY, threshold)} (högst {fmt_int(end)})" if ends[len(ends_text)] is not None
                             else f"{mark(SECONDARY, threshold)} (storlek okänd)")
    return list(df[category]), series, (sizes, marks), ends_text


# ---------------------------------------------------------------- the deck

@dataclass
class _Pack:
    """What the slides read: the selection and its figures as protection shows them, now and in the previous
    period (each under its own period's protection), and the comparison of the two (metrics.compare)."""

    con: duckdb.DuckDBPyConnection
    f: Filters
    t: int
    association: str
    show: Shown
    now: Figures
    before: Figures
    key: pd.DataFrame  # metrics.compare.key_figures: the change and whether the previous period is covered
    cov: dict  # how far the data reach (metrics.catalog.coverage)
    years: pd.DataFrame  # cost per initiative and year: what a cost per participant divides
    budget_only: list

    @property
    def previous_covered(self) -> bool:
        return bool(self.key["previous_covered"].iloc[0])


def _pack(con: duckdb.DuckDBPyConnection, f: Filters, association: str, t: int) -> _Pack:
    show, prev_f = Shown(con, f, t), f.previous()
    summary, years = cost_summary(con, f), cost_by_initiative_year(con, f)
    now = show.figures(headline(con, f), summary, years)
    before = Shown.previous(con, prev_f, t).figures(headline(con, prev_f), cost_summary(con, prev_f),
                                          cost_by_initiative_year(con, prev_f))
    return _Pack(con, f, t, association, show, now, before, key_figures(con, f), coverage(con), years,
                 list(summary.get("budget_only") or []))


def build_board_pack(con: duckdb.DuckDBPyConnection, f: Filters, *, association: str = "Samordningsförbundet",
                     threshold: int = DEFAULT_THRESHOLD) -> bytes:
    """The board meeting's material for `f` as a .pptx file (bytes), small-count protection always on."""
    d = _pack(con, f, association, threshold)
    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(SLIDE_W), Inches(SLIDE_H)
    prs.core_properties.title = deck_title(f)
    prs.core_properties.author = association
    prs.core_properties.language = "sv-SE"
    for slide in (_title_slide, _headline_slide, _compare_slide, _inflow_slide, _gender_slide, _exits_slide,
                  _cost_slide, _targets_slide):
        slide(prs, d)
    buf = io.BytesIO()
    prs.save(buf)
    return buf.getvalue()


def _title_slide(prs, d: _Pack) -> None:
    """1. The period, the selection, how fresh the data are, and what the protection marks mean."""
    s = _slide(prs, deck_title(d.f), NOTES["title"])
    s.shapes.title.top, s.shapes.title.height = Inches(2.0), Inches(1.1)
    for p in s.shapes.title.text_frame.paragraphs:
        _style_runs(p, 44, bold=True)
    _text(s, MARGIN, 1.0, SLIDE_W - 2 * MARGIN, 0.8, d.association, 32, bold=True, name="Förbund")
    last = status(d.con).get("last_load")
    _text(s, MARGIN, 3.4, SLIDE_W - 2 * MARGIN, 3.2, [
        f"Period: {period_title(d.f)} ({fmt_date(d.f.start)} – {fmt_date(d.f.end)})",
        f"Urval: {describe(d.f)}",
        f"Data inlästa {fmt_datetime(last)}" + (f" · {coverage_line(d.cov)}" if coverage_line(d.cov) else ""),
        f"Skydd för små tal: {legend(d.t)}",
    ], 20, name="Urval")


def _headline_slide(prs, d: _Pack) -> None:
    """2. The headline figures by sex."""
    t, now = d.t, d.now
    cells = pd.DataFrame(DASH, index=list(HEADLINE_ROWS.values()), columns=[SEX_LABELS[c] for c in SEX_COLUMNS],
                         dtype=object)
    counts = {m: now.by_sex(m) for m in ("participants", "started", "exited")}
    for m, values in counts.items():
        for c in SEX_COLUMNS:
            cells.at[HEADLINE_ROWS[m], SEX_LABELS[c]] = _count_text(values[c], t)
    for m in ("positive_share", "positive_wide_share"):
        for c, v in now.by_sex(m).items():
            cells.at[HEADLINE_ROWS[m], SEX_LABELS[c]] = fmt_pct(v)
    cells.at[HEADLINE_ROWS["cost_per_participant"], TOTAL] = fmt_kr(now.get("cost_per_participant"))
    cells.at[HEADLINE_ROWS["women_share"], TOTAL] = fmt_pct(now.get("women_share"))
    if not d.f.is_calendar_year:  # costs are kept per year: a delår or a tertial shows its year's figure
        years = f"{d.f.start.year}" + (f"–{d.f.end.year}" if d.f.end.year > d.f.start.year else "")
        cells = cells.rename(index={HEADLINE_ROWS["cost_per_participant"]: f"Kostnad per deltagare (helår {years})"})
    s = _slide(prs, TITLES["headline"], NOTES["headline"])
    _table(s, cells)
    hidden_any = any(is_hidden(v) for m in counts.values() for v in m.values())
    _footnote(s, [legend(t) if hidden_any else "",
                  f"Kostnaden bygger på budget där utfall saknas: {', '.join(d.budget_only)}."
                  if d.budget_only else ""])


def _compare_slide(prs, d: _Pack) -> None:
    """3. Against the previous period: metrics.compare's change, shown where both periods' figures are."""
    t, prev_f = d.t, d.f.previous()
    rows = []
    for m in ("participants", "started", "exited"):
        a, b, change = compared(d.key, m, d.now, d.before)
        rows.append((HEADLINE_ROWS[m], _count_text(a, t), DASH if b is None else _count_text(b, t),
                     DASH if change is None else fmt_delta_int(change)))
    a, b, change = compared(d.key, "positive_share", d.now, d.before)
    rows.append((HEADLINE_ROWS["positive_share"], fmt_pct(a), DASH if b is None else fmt_pct(b),
                 DASH if change is None else fmt_pp(change)))
    a, b, change = compared(d.key, "cost_per_participant", d.now, d.before)
    rows.append((HEADLINE_ROWS["cost_per_participant"], fmt_kr(a), DASH if b is None else fmt_kr(b),
                 DASH if change is None else fmt_kr(change, signed=True)))
    compare = pd.DataFrame([r[1:] for r in rows], index=[r[0] for r in rows],
                           columns=[period_label(d.f), period_label(prev_f), "Förändring"])
    s = _slide(prs, TITLES["compare"], NOTES["compare"])
    _table(s, compare, first_col_width=3.6, last_col_width=3.4)  # "+12,3 procentenheter" on one line
    _footnote(s, (["Förändringen av en andel anges i procentenheter."] if d.previous_covered else
                  [f"Ingen jämförelse med {period_label(prev_f)}: uppgifterna täcker den perioden bara delvis "
                   f"(de börjar {fmt_date(d.cov['first'])})."]) + [legend(t)])


def _inflow_slide(prs, d: _Pack) -> None:
    """4. Inflow per agency, stacked by sex."""
    t, started = d.t, d.now.count("started")
    agencies = inflow_by_agency(d.con, d.f)
    shown = pd.DataFrame([{"agency": r.agency, **d.show.row("started", {"agency": r.agency}, r._asdict())}
                          for r in agencies.itertuples(index=False)])
    shown = shown.rename(columns={SEX_LABELS[c]: c for c in SEX_COLUMNS}) if len(shown) else shown
    sentence = inflow_takeaway(shown, started) if len(shown) else "Inga nya deltagare."
    s = _slide(prs, TITLES["inflow"], NOTES["inflow"])
    _takeaway(s, sentence)
    if len(shown):
        cats, series, hidden, ends = _stack(shown, "agency", t, started)
        _chart(s, cats, series, number_format=COUNT_FORMAT, title="Nya deltagare per remittent och kön",
               alt=sentence, stacked=True, hidden=hidden, ends=ends)
    _footnote(s, [(legend(t) + " Randigt: dolda antal. Där en stapels summa är dold når stapeln det högsta summan "
                   "kan vara, så att ingen stapel ser mindre ut än den är.")
                  if len(shown) and shown.map(is_hidden).any().any() else ""])


def _gender_slide(prs, d: _Pack) -> None:
    """5. Gender balance: the share of women per initiative, largest initiatives first (the sex filter is not used
    here)."""
    t = d.t
    w = women_share_vs_target(d.con, d.f)
    w = w[w.total > 0].sort_values("total", ascending=False, kind="stable").reset_index(drop=True)
    w["share"] = d.show.narrowed(d.f.with_(sexes=())).wide(
        w.rename(columns={c: f"participants_{c}" for c in SEX_COLUMNS}), ["women_share"],
        sexes=("women", "total")).women_share
    w["registered"] = ~w.target_is_default.astype(bool)
    sentence = women_target_takeaway(w[["initiative", "share", "target", "registered"]], d.now.get("women_share"))
    s = _slide(prs, TITLES["gender"], NOTES["gender"])
    _takeaway(s, sentence)
    largest = w.head(TOP)
    top = largest[largest.share.notna()]  # a share protection hides is named below, never an empty row read as 0 %
    withheld = list(largest[largest.share.isna()].initiative)
    labels = [f"{name} (mål {fmt_pct(tg, 0)})" if reg else name
              for name, tg, reg in zip(top.initiative, top.target, top.registered)]
    _chart(s, labels, [("Andel kvinnor", [None if _value(v) is None else v * 100 for v in top.share],
                        theme.SEX_COLORS["women"])], number_format=PCT_FORMAT,
           title="Andel kvinnor bland deltagarna per insats", alt=sentence, percent_axis=False,
           empty_message="Deltagarna per insats är för få för att visa andelen kvinnor.")
    rest = len(w) - len(largest)
    _footnote(s, [f"De {TOP} största insatserna visas; {rest} till finns i appen." if rest > 0 else "",
                  f"Andelen visas inte (för få deltagare eller ett dolt antal): {', '.join(map(_safe, withheld))}."
                  if withheld and len(top) else "",
                  "Insatser utan mål i insatsregistret jämförs med "
                  f"{fmt_pct(DEFAULT_WOMEN_TARGET, 0)}." if (~top.registered).any() else "",
                  legend(t) if withheld else ""])


def _exits_slide(prs, d: _Pack) -> None:
    """6. Exits: each reason's share of the exits within each sex."""
    t, f, show = d.t, d.f, d.show
    r = reason_shares(d.con, f)
    exited, positive = d.now.by_sex("exited"), d.now.by_sex("positive_share")
    s = _slide(prs, TITLES["exits"], NOTES["exits"])
    _takeaway(s, exits_takeaway(positive, exited["total"]))
    left_out, point_marks = [], []
    if len(r) and r.total.sum() > 0:
        sexes = [c for c in SEXES if not f.sexes or c in f.sexes]
        series = []
        by_sex = {c: [show.count("exited", {"reason": row.reason}, c, getattr(row, c)) for row in r.itertuples()]
                  for c in SEXES if c in r}
        # each hidden count to the least of what the sex's exits and the reason's total leave (render.protected)
        hidden_by_sex = hidden_shares(by_sex, [show.count("exited", {"reason": row.reason}, "total", row.total)
                                               for row in r.itertuples()], exited, t)
        for c in sexes:
            if not is_hidden(exited[c]) and not exited[c]:
                continue  # nobody of this sex exited: no series, no empty legend entry
            cnts = by_sex[c]
            shares_c = [show.ratio(getattr(row, f"{c}_share"), exited[c], cnt) for row, cnt in zip(r.itertuples(), cnts)]
            if is_hidden(exited[c]) or all(v is None for v in shares_c):
                left_out.append(SEX_WORDS[c])  # too few exits of this sex for any share
                continue
            # a hidden count's share is drawn hatched to the largest it can be, and labelled with its mark
            vals, marks = [], []
            for v, hidden in zip(shares_c, hidden_by_sex[c]):
                if hidden is not None:
                    end, m = hidden
                    vals.append(100.0 if end is None else min(100.0, end * 100))
                    marks.append(m)
                else:
                    vals.append(None if v is None else v * 100)
                    marks.append("")
            series.append((SEX_LABELS[c], vals, theme.SEX_COLORS[c]))
            point_marks.append(marks)
        labels = [UNKNOWN_SHORT if code == UNKNOWN_REASON else lbl for code, lbl in zip(r.reason, r.label)]
        _chart(s, labels, series, number_format=PCT_FORMAT, title="Avslutade per avslutsorsak, andel inom varje kön",
               alt=exits_takeaway(positive, exited["total"]), point_marks=point_marks,
               empty_message="De avslutade är för få för att visa fördelningen på avslutsorsak.")
    _footnote(s, [f"{UNKNOWN_SHORT}: avslut utan samtycke eller utan angiven orsak." if UNKNOWN_REASON in set(r.reason)
                  else "",
                  f"Avslutade {' och '.join(left_out)} är för få för att visas per orsak." if left_out else "",
                  legend(t), "Randig stapel: ett dolt antal, ritad till den största andel det kan vara."
                  if any(m for ms in point_marks for m in ms) else ""])


def _cost_slide(prs, d: _Pack) -> None:
    """7. Cost per participant per initiative, largest initiatives first."""
    costs = d.show.wide(cost_per_initiative(d.con, d.f), ["cost_per_participant"], d.years)
    costs["shown"] = costs.per_participant
    costs = costs.sort_values("participants", ascending=False, kind="stable")
    sentence = cost_takeaway(costs, d.now.get("cost_per_participant"))
    s = _slide(prs, TITLES["cost"], NOTES["cost"])
    _takeaway(s, sentence)
    drawn = _cost_bars(costs[costs.shown.notna()])
    bases = [b for b in (ACTUAL, BUDGET, MIXED) if b in set(drawn.basis)]
    _chart(s, list(drawn.initiative),
           [(BASIS_SERIES[b], [v if basis == b else None for v, basis in zip(drawn.shown, drawn.basis)],
             BASIS_COLORS[b]) for b in bases], number_format=KR_FORMAT, title="Kostnad per deltagare och insats",
           alt=sentence, stacked=True, empty_message="Det finns ingen kostnad per deltagare att visa för urvalet.")
    missing = list(costs[costs.shown.isna()].initiative)
    _footnote(s, [f"Budget i stället för utfall: {', '.join(drawn[drawn.basis.isin([BUDGET, MIXED])].initiative)}."
                  if drawn.basis.isin([BUDGET, MIXED]).any() else "",
                  f"Visas inte (kostnad saknas eller för få deltagare): {len(missing)} insatser." if missing else "",
                  f"De {len(drawn)} största insatserna visas, med högsta och lägsta kostnad; "
                  f"{len(costs) - len(missing) - len(drawn)} till finns i appen."
                  if len(costs) - len(missing) > len(drawn) else ""])


def _targets_slide(prs, d: _Pack) -> None:
    """8. Under the targets: the initiatives below their register targets, with the gap (render/targets.py)."""
    f, t = d.f, d.t
    target_rows = _target_rows(d.con, f, d.show)
    calendar = f.is_calendar_year and not (f.sexes or f.agencies)
    short = below_targets(target_rows, calendar_year=calendar)
    s = _slide(prs, TITLES["targets"], NOTES["targets"])
    if f.sexes or f.agencies:
        _takeaway(s, "Målen gäller hela insatser: de jämförs inte när urvalet är begränsat till kön eller remittent.")
    elif short.empty:
        _takeaway(s, none_below_text(not_compared(target_rows, calendar_year=calendar)))
    else:
        _takeaway(s, f"{short['Insats'].nunique()} insatser ligger under minst ett mål.")
        rows = short.head(TARGET_ROWS).assign(**{"Mål för": lambda df: df["Mål för"].map(SHORT_TARGET)})
        _table(s, rows.set_index("Insats"), top=1.8, first_col_width=2.8,
               last_col_width=3.5)  # "−12,5 procentenheter" on one line
        _footnote(s, [f"De {TARGET_ROWS} största avvikelserna visas; {len(short) - TARGET_ROWS} till finns på Översikt."
                      if len(short) > TARGET_ROWS else "", "Målet för antal deltagare gäller per år.", legend(t)])


def _target_rows(con: duckdb.DuckDBPyConnection, f: Filters, show: Shown) -> pd.DataFrame:
    """Each initiative's participants, share of women and share to work or studies as the deck shows them (hidden
    counts as their codes, withheld shares as None), with its targets: what render.targets compares."""
    ini = by_initiative(con, f)
    shown = show.wide(ini[ini.participants_total > 0], ["participants", "women_share", "positive_share"],
                      sexes=("women", "total"))
    return shown[["initiative", "participants_total", "women_share", "positive_share_total", "target_participants",
                  "target_women_share", "target_positive_share"]].reset_index(drop=True)


def _cost_bars(costs: pd.DataFrame) -> pd.DataFrame:
    """The cost chart's bars: the largest initiatives by participants, always with the highest and the lowest cost
    (the takeaway names them), sorted by cost per participant, highest first, as the takeaway reads."""
    if costs.empty:
        return costs
    value = costs.shown.astype(float)
    ends = {value.idxmax(), value.idxmin()}
    keep = list(dict.fromkeys([*costs.index[: max(0, TOP - len(ends))], *ends]))
    for i in costs.index:
        if len(keep) >= min(TOP, len(costs)):
            break
        if i not in keep:
            keep.append(i)
    drawn = costs.loc[keep]
    return drawn.assign(_v=drawn.shown.astype(float)).sort_values("_v", ascending=False, kind="stable").drop(columns="_v")


def deck_title(f: Filters) -> str:
    """'Styrelsemöte – Tertial 2 2025': the board's own words for the period."""
    return f"Styrelsemöte – {period_title(f)}"
