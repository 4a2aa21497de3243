"""The board pack: one PowerPoint deck with the board meeting's figures for the chosen period and filters.

Every chart is a native PowerPoint chart (editable, with its data in the embedded workbook),
coloured with the app's fixed category colours. Small-count protection is always on here,
whatever the app's switch says: counts of 1 to threshold − 1 are shown as `<5` in tables and
left out of charts, with secondary suppression so that a total minus the visible cells never
gives a hidden count back, and shares resting on fewer than `threshold` people or on a hidden
count are not shown. Tables that appear on more than one slide are protected alike, so that
one slide cannot undo the protection of another.

The one-line takeaways are in render/takeaways.py; the protection rules in metrics/suppress.py.
"""
from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import duckdb
import pandas as pd
from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE, XL_LABEL_POSITION, XL_LEGEND_POSITION
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.util import Emu, Inches, Pt

from core.vocabulary import MISSING, SEX_COLUMNS, SEX_LABELS, SEXES, TOTAL, UNKNOWN_REASON
from metrics import Filters
from metrics.catalog import status
from metrics.cost import ACTUAL, BUDGET, MIXED, cost_per_initiative, cost_summary
from metrics.definitions import FIGURES, note
from metrics.people import LARGE_GAP, exits_by_reason, headline, inflow_by_agency, positive_codes, reason_shares, \
    women_share_vs_target
from metrics.suppress import (DEFAULT_THRESHOLD, exits_protected, label, positive_share_cells, protected_table,
                              visible_share)

from . import theme
from .format import DASH, fmt_datetime, fmt_int, fmt_kr, fmt_number, fmt_pct, is_missing
from .takeaways import cost_takeaway, cost_visible, exits_takeaway, inflow_takeaway, women_target_takeaway, \
    women_target_visible
from .text import describe, period_label

DECK_TITLE = "Styrelsemöte – underlag"
TITLES = {
    "headline": "Nyckeltal per kön",
    "inflow": "Inflöde per remittent",
    "gender": "Jämställdhet",
    "exits": "Avslut och resultat",
    "cost": "Kostnad per deltagare",
}
UNKNOWN_SHORT = "Okänd orsak"  # in the legend; the footnote says what it covers
BASIS_SERIES = {ACTUAL: "Utfall", BUDGET: "Budget (utfall saknas)", MIXED: "Utfall och budget"}
BASIS_COLORS = {ACTUAL: theme.ACTUAL_COLOR, BUDGET: theme.BUDGET_COLOR, MIXED: theme.MIXED_COST_COLOR}
HEADLINE_ROWS = {
    "participants": "Deltagare",
    "started": "Nya deltagare",
    "exited": "Avslutade",
    "positive_share": "Andel till arbete/studier (orsak 1)",
    "positive_wide_share": "Andel till orsak 1 + 2",
    "cost_per_participant": "Kostnad per deltagare",
    "women_share": "Andel kvinnor",
}

# Speaker notes: each slide's definitions, from metrics/definitions.py.
NOTES = {
    "title": "Underlaget bygger på Insatskollens definitioner (metrics/definitions.py). Skydd för små tal är alltid "
             "på: antal från 1 till {low} visas som {lbl} eller inte alls, liksom celler som annars skulle kunna "
             "räknas fram ur en summa; andelar som bygger på färre än {t} personer visas inte. Saknade uppgifter "
             "visas som –.",
    "headline": note("participants", "started", "exited", "positive_share", "positive_wide_share",
                     "cost_per_participant", "women_share"),
    "inflow": note("started") + f" Per remittentens myndighet och kön. {MISSING}: ingen remittent angiven, inget "
              "samtycke eller anonymt antal, så att myndigheterna summerar till alla nya.",
    "gender": note("women_share") + " Urvalet på kön används inte här. Mål: insatsregistrets mål för andelen "
              "kvinnor, annars 50 %. Stor avvikelse: mer än {gap} procentenheter från målet.",
    "exits": note("exited", "positive_share") + " Staplarna visar varje avslutsorsaks andel av alla avslut inom "
             "respektive kön. Okänd orsak: avslut utan samtycke eller utan angiven orsak; de räknas med i nämnaren.",
    "cost": note("cost_per_participant") + " Där året saknar utfall används budgeten, och stapeln visas då i "
            "budgetfärgen. Urvalet på kön och remittent gäller inte kostnaden.",
}

# Layout of a 16:9 slide, in inches
SLIDE_W, SLIDE_H = 13.333, 7.5
MARGIN = 0.6
TEXT_COLOR = RGBColor.from_string("1F1F1F")
MUTED_COLOR = RGBColor.from_string("3A3A3A")
HEADER_FILL = RGBColor.from_string("DDDDDD")
BAND_FILL = RGBColor.from_string("F2F2F2")
WHITE = RGBColor.from_string("FFFFFF")
GRID = RGBColor.from_string("D0D0D0")
TITLE_PT, TAKEAWAY_PT, BODY_PT, CHART_PT = 36, 24, 20, 20
PCT_FORMAT = "0 %"  # per cent with the Swedish space; the viewer's locale supplies separators
COUNT_FORMAT = "#,##0"
KR_FORMAT = '#,##0" kr"'


# ---------------------------------------------------------------- figures for the slides

def headline_cells(head: pd.DataFrame, reasons: pd.DataFrame, summary: dict, positive: Iterable[str],
                   wide: Iterable[str], threshold: int = DEFAULT_THRESHOLD) -> tuple[pd.DataFrame, bool]:
    """The headline table as display strings (rows HEADLINE_ROWS, columns Kvinnor … Totalt), and whether any is hidden.

    `head` is `metrics.people.headline`, `reasons` `exits_by_reason` for the same filters,
    `summary` `metrics.cost.cost_summary`.
    """
    counts = protected_table(head.loc[["participants", "started", "exited"]], None, threshold, total_row=None)
    exits = exits_protected(reasons, threshold)
    hidden = counts.any_hidden
    cols = [SEX_LABELS[c] for c in SEX_COLUMNS]
    out = pd.DataFrame(DASH, index=list(HEADLINE_ROWS.values()), columns=cols, dtype=object)
    for m in ("participants", "started", "exited"):
        for c in SEX_COLUMNS:
            out.at[HEADLINE_ROWS[m], SEX_LABELS[c]] = (label(threshold) if counts.hidden(m, c)
                                                       else fmt_int(counts.data.at[m, c]))
    for m, codes in (("positive_share", positive), ("positive_wide_share", wide)):
        cells = positive_share_cells(reasons, codes, threshold)
        for c in SEX_COLUMNS:
            raw = head.at[m, c]
            shown = cells[c]
            hidden |= shown is None and not is_missing(raw)
            if shown is not None and not exits.hidden(TOTAL, c) and not counts.hidden("exited", c):
                out.at[HEADLINE_ROWS[m], SEX_LABELS[c]] = fmt_pct(raw)
    per = summary.get("per_participant")
    if not is_missing(per):
        if summary.get("participants", 0) >= threshold:
            out.at[HEADLINE_ROWS["cost_per_participant"], TOTAL] = fmt_kr(per)
        else:
            hidden = True
    ws = head.at["women_share", "total"]
    if not is_missing(ws):
        n = int(head.at["participants", "total"])
        shown = visible_share(ws, counts.hidden("participants", "women"), n,
                               counts.hidden("participants", "total"), threshold)
        if shown is None:
            hidden = True
        else:
            out.at[HEADLINE_ROWS["women_share"], TOTAL] = fmt_pct(shown)
    return out, hidden


def _sexes(f: Filters) -> list[str]:
    return [s for s in SEXES if not f.sexes or s in f.sexes]


def suppression_note(threshold: int, shares: bool = False) -> str:
    """The line a slide shows when protection hid something on it."""
    if shares:
        return f"Antal under {threshold} visas inte, inte heller andelar som bygger på färre än {threshold} personer."
    return f"Antal under {threshold} visas inte, inte heller tal som skulle avslöja dem."


# ---------------------------------------------------------------- drawing

def _rgb(hex_color: str) -> RGBColor:
    return RGBColor.from_string(hex_color.lstrip("#").upper())


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
    t.left, t.top, t.width, t.height = Inches(MARGIN), Inches(0.3), Inches(SLIDE_W - 2 * MARGIN), Inches(0.95)
    t.text = title
    tf = t.text_frame
    tf.vertical_anchor = MSO_ANCHOR.MIDDLE
    for p in tf.paragraphs:
        p.alignment = PP_ALIGN.LEFT
        _style_runs(p, TITLE_PT, bold=True)
    slide.notes_slide.notes_text_frame.text = notes
    return slide


def _takeaway(slide, sentence: str) -> None:
    _text(slide, MARGIN, 1.2, SLIDE_W - 2 * MARGIN, 0.85, sentence, TAKEAWAY_PT, name="Slutsats")


def _footnote(slide, lines: Sequence[str]) -> None:
    lines = [x for x in lines if x]
    if lines:
        _text(slide, MARGIN, 6.6, SLIDE_W - 2 * MARGIN, 0.8, " ".join(lines), BODY_PT, color=MUTED_COLOR,
              name="Fotnot")


def _set_alt_text(shape, text: str) -> None:
    shape._element.xpath("./*[1]/p:cNvPr")[0].set("descr", text)


def _chart(slide, kind, categories: Sequence[str], series: Sequence[tuple[str, Sequence, str]], *,
           number_format: str, title: str, alt: str, percent_axis: bool = False, overlap: int | None = None,
           labels: Sequence[bool] | bool = False, label_color: RGBColor | None = None,
           label_position=None, legend_right: bool = False, top_down: bool = False,
           empty_message: str = "") -> bool:
    """A native chart at the slide's chart area, or `empty_message` where there is nothing to draw.

    `top_down` (horizontal bars): the first category at the top, read like a table; the value
    axis is then left out and the bars carry their values.
    """
    left, top, width, height = MARGIN, 2.1, SLIDE_W - 2 * MARGIN, 4.45
    if not categories or not any(v is not None for _, vals, _ in series for v in vals):
        _text(slide, left, top + 1.2, width, 1.2, empty_message or "Det finns inga uppgifter att visa.", TAKEAWAY_PT,
              color=MUTED_COLOR, name="Tomt diagram")
        return False
    data = CategoryChartData(number_format=number_format)
    data.categories = list(categories)
    for name, values, _ in series:
        data.add_series(name, [None if v is None else float(v) for v in values], number_format)
    frame = slide.shapes.add_chart(kind, Inches(left), Inches(top), Inches(width), Inches(height), data)
    frame.name = title
    _set_alt_text(frame, alt)
    chart = frame.chart
    chart.font.size = Pt(CHART_PT)
    chart.font.color.rgb = TEXT_COLOR
    chart.has_title = True
    chart.chart_title.text_frame.text = title
    _style_runs(chart.chart_title.text_frame.paragraphs[0], CHART_PT, bold=True)
    chart.has_legend = len(series) > 1
    if chart.has_legend:
        chart.legend.position = XL_LEGEND_POSITION.RIGHT if legend_right else XL_LEGEND_POSITION.BOTTOM
        chart.legend.include_in_layout = False
        chart.legend.font.size = Pt(CHART_PT)
    va = chart.value_axis
    va.tick_labels.number_format = number_format
    va.tick_labels.number_format_is_linked = False
    va.tick_labels.font.size = Pt(CHART_PT)
    va.has_major_gridlines = True
    va.major_gridlines.format.line.color.rgb = GRID
    va.minimum_scale = 0
    if percent_axis:
        va.maximum_scale = 1
    chart.category_axis.tick_labels.font.size = Pt(CHART_PT)
    if top_down:
        chart.category_axis.reverse_order = True
        va.visible = False
        va.has_major_gridlines = False
        top_value = max(float(v) for _, vals, _ in series for v in vals if v is not None)
        va.maximum_scale = top_value * 1.3 if top_value > 0 else None  # room for the labels beside the bars
    plot = chart.plots[0]
    plot.gap_width = 60
    if overlap is not None:
        plot.overlap = overlap
    flags = [labels] * len(series) if isinstance(labels, bool) else list(labels)
    for s, (_, _, color), show in zip(plot.series, series, flags):
        s.format.fill.solid()
        s.format.fill.fore_color.rgb = _rgb(color)
        s.invert_if_negative = False
        if show:
            dl = s.data_labels
            dl.show_value = True
            dl.number_format = number_format
            dl.number_format_is_linked = False
            dl.font.size = Pt(CHART_PT)
            dl.font.bold = True
            dl.font.color.rgb = label_color or TEXT_COLOR
            if label_position is not None:
                dl.position = label_position
            for body in dl._element.xpath("./c:txPr/a:bodyPr"):
                body.set("wrap", "none")  # "21 038 kr" on one line
    return True


def _table(slide, cells: pd.DataFrame, *, top: float = 1.4, first_col_width: float = 4.9) -> None:
    rows, cols = len(cells) + 1, len(cells.columns) + 1
    width = SLIDE_W - 2 * MARGIN
    height = 0.6 * rows
    frame = slide.shapes.add_table(rows, cols, Inches(MARGIN), Inches(top), Inches(width), Inches(height))
    frame.name = "Nyckeltal"
    table = frame.table
    table.columns[0].width = Inches(first_col_width)
    other = Emu(int((Inches(width) - Inches(first_col_width)) / (cols - 1)))
    for j in range(1, cols):
        table.columns[j].width = other
    header = ["", *cells.columns]
    body = [[idx, *[str(v) for v in row]] for idx, row in zip(cells.index, cells.itertuples(index=False))]
    for i, row in enumerate([header, *body]):
        for j, value in enumerate(row):
            cell = table.cell(i, j)
            cell.text = value
            cell.fill.solid()
            cell.fill.fore_color.rgb = HEADER_FILL if i == 0 else (BAND_FILL if i % 2 == 0 else WHITE)
            cell.vertical_anchor = MSO_ANCHOR.MIDDLE
            p = cell.text_frame.paragraphs[0]
            p.alignment = PP_ALIGN.LEFT if j == 0 else PP_ALIGN.RIGHT
            _style_runs(p, BODY_PT, bold=i == 0 or j == 0)


# ---------------------------------------------------------------- the deck

def build_board_pack(con: duckdb.DuckDBPyConnection, f: Filters, *, association: str = "Samordningsförbundet",
                     threshold: int = DEFAULT_THRESHOLD) -> bytes:
    """The board meeting's material for `f` as a .pptx file (bytes), small-count protection always on."""
    t = threshold
    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(SLIDE_W), Inches(SLIDE_H)
    prs.core_properties.title = f"{DECK_TITLE} {period_label(f)}"
    prs.core_properties.author = association
    prs.core_properties.language = "sv-SE"
    note, share_note = suppression_note(t), suppression_note(t, shares=True)
    pos, wide = positive_codes(con)

    # 1. Title
    s = _slide(prs, DECK_TITLE, NOTES["title"].format(low=t - 1, lbl=label(t), t=t))
    s.shapes.title.top, s.shapes.title.height = Inches(2.0), Inches(1.2)
    for p in s.shapes.title.text_frame.paragraphs:
        _style_runs(p, 44, bold=True)
    _text(s, MARGIN, 1.1, SLIDE_W - 2 * MARGIN, 0.8, association, 32, bold=True, name="Förbund")
    last = status(con).get("last_load")
    _text(s, MARGIN, 3.5, SLIDE_W - 2 * MARGIN, 2.6, [
        f"Period: {period_label(f)}",
        f"Urval: {describe(f)}",
        f"Data inläst {fmt_datetime(last)}",
        f"Skydd för små tal: antal under {t} visas inte.",
    ], 24, name="Urval")

    # 2. Headline figures by sex
    head = headline(con, f)
    reasons = exits_by_reason(con, f)
    summary = cost_summary(con, f)
    cells, hidden = headline_cells(head, reasons, summary, pos, wide, t)
    s = _slide(prs, TITLES["headline"], NOTES["headline"])
    _table(s, cells)
    budget_note = (f"Kostnaden bygger på budget där utfall saknas: {', '.join(summary['budget_only'])}."
                   if summary.get("budget_only") else "")
    _footnote(s, [share_note if hidden else "", budget_note])

    # 3. Inflow per agency
    inflow = inflow_by_agency(con, f)
    p = protected_table(inflow, "agency", t)
    sexes = _sexes(f)
    cols = [*sexes, "total"]
    agencies = [a for a in p.data.index if a != TOTAL]
    sentence = inflow_takeaway(inflow, t)
    s = _slide(prs, TITLES["inflow"], NOTES["inflow"])
    _takeaway(s, sentence)
    _chart(s, XL_CHART_TYPE.COLUMN_CLUSTERED, [SEX_LABELS[c] for c in cols],
           [(a, [p.value(a, c) for c in cols], theme.AGENCY_COLORS.get(a, theme.category_color("agency", a)))
            for a in agencies],
           number_format=COUNT_FORMAT, title="Nya deltagare per kön och remittent", alt=sentence,
           empty_message="Inga nya deltagare under perioden." if int(p.data.at[TOTAL, "total"]) == 0
           else "De nya deltagarna är för få för att visa fördelningen på remittent.")
    _footnote(s, [note if p.any_hidden else ""])

    # 4. Gender balance: share of women per initiative against its target
    women = women_share_vs_target(con, f)
    w = women_target_visible(women, t)
    sentence = women_target_takeaway(women, t)
    s = _slide(prs, TITLES["gender"], NOTES["gender"].format(gap=fmt_number(LARGE_GAP * 100)))
    _takeaway(s, sentence)
    _chart(s, XL_CHART_TYPE.COLUMN_CLUSTERED, list(w.initiative),
           [("Andel kvinnor", list(w.shown), theme.SEX_COLORS["women"]),
            ("Mål", [float(x) for x in w.target], theme.TOTAL_COLOR)],
           number_format=PCT_FORMAT, title="Andel kvinnor bland deltagarna, och insatsens mål", alt=sentence,
           percent_axis=True, overlap=-10, labels=True, label_position=XL_LABEL_POSITION.OUTSIDE_END,
           empty_message="Inga deltagare under perioden." if w.empty
           else "Deltagarna per insats är för få för att visa andelen kvinnor.")
    defaults = list(w[w.target_is_default.astype(bool)].initiative) if len(w) else []
    _footnote(s, [share_note if w.shown.isna().any() else "",
                  f"Mål 50 % (inget mål i insatsregistret): {', '.join(defaults)}." if defaults else ""])

    # 5. Exits and results: each reason's share of the exits within each sex
    shares = reason_shares(con, f)
    ep = exits_protected(reasons, t)
    cats = [*sexes, "total"]
    series = []
    for r in shares.itertuples():
        vals = [visible_share(getattr(r, f"{c}_share"), ep.hidden(r.reason, c), int(ep.data.at[TOTAL, c]),
                               ep.hidden(TOTAL, c), t) for c in cats]
        series.append((UNKNOWN_SHORT if r.reason == UNKNOWN_REASON else r.label, vals,
                       theme.exit_reason_color(r.reason)))
    hidden = any(v is None and int(ep.data.at[TOTAL, c]) > 0 for _, vals, _ in series for v, c in zip(vals, cats))
    sentence = exits_takeaway(reasons, pos, t)
    s = _slide(prs, TITLES["exits"], NOTES["exits"])
    _takeaway(s, sentence)
    _chart(s, XL_CHART_TYPE.COLUMN_STACKED, [SEX_LABELS[c] for c in cats], series,
           number_format=PCT_FORMAT, title="Avslutade per avslutsorsak, andel inom varje kön", alt=sentence,
           percent_axis=True, overlap=100, labels=[str(r) in pos for r in shares.reason],
           label_color=WHITE, label_position=XL_LABEL_POSITION.CENTER, legend_right=True,
           empty_message="Inga avslut under perioden." if int(ep.data.at[TOTAL, "total"]) == 0
           else "De avslutade är för få för att visa fördelningen på avslutsorsak.")
    _footnote(s, [share_note if hidden else "",
                  f"{UNKNOWN_SHORT}: avslut utan samtycke eller utan angiven orsak."
                  if UNKNOWN_REASON in set(shares.reason) else ""])

    # 6. Cost per participant per initiative
    costs = cost_per_initiative(con, f)
    ct = cost_visible(costs, t)
    shown = ct[ct.per_participant.notna()]
    missing = list(ct[ct.per_participant.isna()].initiative)
    bases = [b for b in (ACTUAL, BUDGET, MIXED) if b in set(shown.basis)]
    sentence = cost_takeaway(costs, summary, t)
    s = _slide(prs, TITLES["cost"], NOTES["cost"])
    _takeaway(s, sentence)
    _chart(s, XL_CHART_TYPE.BAR_CLUSTERED, list(shown.initiative),
           [(BASIS_SERIES[b], [v if basis == b else None for v, basis in zip(shown.shown, shown.basis)],
             BASIS_COLORS[b]) for b in bases],
           number_format=KR_FORMAT, title="Kostnad per deltagare och insats", alt=sentence, overlap=100,
           labels=True, label_position=XL_LABEL_POSITION.OUTSIDE_END, top_down=True,
           empty_message="Det finns ingen kostnad per deltagare att visa för urvalet.")
    budget = list(shown[shown.basis.isin([BUDGET, MIXED])].initiative)
    _footnote(s, [share_note if shown.shown.isna().any() else "",
                  f"Budget i stället för utfall: {', '.join(budget)}." if budget else "",
                  f"Ingen kostnad per deltagare (kostnad eller deltagare saknas): {', '.join(missing)}."
                  if missing else ""])

    buf = io.BytesIO()
    prs.save(buf)
    return buf.getvalue()


def file_name(f: Filters) -> str:
    """`styrelseunderlag-2025.pptx` or `styrelseunderlag-2025-03-01_2025-08-31.pptx`."""
    period = str(f.start.year) if f.is_calendar_year else f"{f.start.isoformat()}_{f.end.isoformat()}"
    return f"styrelseunderlag-{period}.pptx"
