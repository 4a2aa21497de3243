"""The board pack (render/deck.py, render/takeaways.py): a .pptx with native charts, figures equal to the metrics layer, always protected.

Two databases: the generated sample (data/sample/, year 2025) and the small hand-made
association of tests/fixtures/small_association.py (year 2021), whose figures are known
by hand (tests/test_report.py): participants 8 women, 4 men, 3 other = 15, and so on.
Expected figures are read from the metrics layer and protected here with
metrics.suppress directly, independently of the board pack's own code.
"""
from __future__ import annotations

import datetime as dt
import io
import re

import duckdb
import openpyxl
import pandas as pd
import pytest
from core.database import connect_read
from pptx import Presentation
from pptx.util import Inches, Pt

from etl.load import ensure_database
from metrics import Filters
from metrics.catalog import status
from metrics.cost import cost_per_initiative, cost_summary
from metrics.people import (exits_by_reason, headline, inflow_by_agency, positive_codes, reason_shares,
                            women_share_vs_target)
from metrics.suppress import suppression_mask
from render.deck import TITLES, build_board_pack, file_name
from render.takeaways import cost_takeaway, exits_takeaway, inflow_takeaway, women_target_takeaway
from render.format import NBSP, fmt_datetime, fmt_int, fmt_kr, fmt_pct
from render.text import describe, period_label
from render.theme import AGENCY_COLORS, SEX_COLORS, exit_reason_color

SLIDE_TITLES = ["Styrelsemöte – underlag", "Nyckeltal per kön", "Inflöde per remittent", "Jämställdhet",
                "Avslut och resultat", "Kostnad per deltagare"]
PARTS = ["women", "men", "other"]
COLS = [*PARTS, "total"]
SEX_CATS = ["Kvinnor", "Män", "Annat/okänt", "Totalt"]
Y2025 = Filters.year(2025)
Y2021 = Filters.year(2021)


@pytest.fixture(scope="module")
def sample_con(tmp_path_factory):
    db = tmp_path_factory.mktemp("boardpack") / "s.duckdb"
    ensure_database(db)
    con = connect_read(db)
    yield con
    con.close()


@pytest.fixture(scope="module")
def small(small_db):
    con = connect_read(small_db)
    yield con
    con.close()


@pytest.fixture(scope="module")
def sample_deck(sample_con):
    return Presentation(io.BytesIO(build_board_pack(sample_con, Y2025)))


@pytest.fixture(scope="module")
def small_deck(small):
    return Presentation(io.BytesIO(build_board_pack(small, Y2021, association="Samordningsförbundet Test")))


# ---------------------------------------------------------------- helpers

def charts(slide):
    return [sh.chart for sh in slide.shapes if sh.has_chart]


def the_chart(slide):
    found = charts(slide)
    assert len(found) == 1, [sh.name for sh in slide.shapes]
    return found[0]


def series(chart) -> dict[str, tuple]:
    return {s.name: tuple(s.values) for s in chart.plots[0].series}


def colors(chart) -> dict[str, str]:
    return {s.name: "#" + str(s.format.fill.fore_color.rgb) for s in chart.plots[0].series}


def shape_text(slide, name: str) -> str | None:
    hits = [sh.text_frame.text for sh in slide.shapes if sh.name == name and sh.has_text_frame]
    return hits[0] if hits else None


def all_text(slide) -> str:
    return "\n".join(sh.text_frame.text for sh in slide.shapes if sh.has_text_frame)


def table_rows(slide) -> list[list[str]]:
    tables = [sh.table for sh in slide.shapes if sh.has_table]
    assert len(tables) == 1
    return [[c.text for c in row.cells] for row in tables[0].rows]


def protected(df: pd.DataFrame, key: str, total_row: str = "Totalt") -> tuple[pd.DataFrame, pd.DataFrame]:
    """(values, mask) of a count table with a total row, protected with metrics.suppress directly."""
    d = df.set_index(key)[COLS].astype("int64")
    if total_row not in d.index:
        d.loc[total_row] = d.sum()
    return d, suppression_mask(d, PARTS, "total", total_row=total_row)


def expected_share(value, count_hidden: bool, den: int, den_hidden: bool):
    return None if count_hidden or den_hidden or den < 5 or value is None or pd.isna(value) else value


def approx_equal(got: tuple, want: list) -> bool:
    return len(got) == len(want) and all(
        (g is None and w is None) or (g is not None and w is not None and g == pytest.approx(float(w)))
        for g, w in zip(got, want))


def count_charts(prs):
    """Charts whose values are counts of people (not shares, not kronor)."""
    return [c for slide in prs.slides for c in charts(slide) if c.value_axis.tick_labels.number_format == "#,##0"]


def is_small_count(x) -> bool:
    return x is not None and float(x).is_integer() and 1 <= float(x) <= 4


def text_counts(text: str) -> list[int]:
    """Every count a sentence states: 'n av m', or a table cell holding only a number."""
    found = [int(a.replace(NBSP, "")) for pair in re.findall(r"(\d[\d\u00a0]*) (?:var )?av (\d[\d\u00a0]*)", text)
             for a in pair]
    cell = text.replace(NBSP, "").strip()
    if re.fullmatch(r"\d+", cell):
        found.append(int(cell))
    return found


# ---------------------------------------------------------------- structure

def test_deck_has_six_slides_in_order_16_9(sample_deck, small_deck):
    for prs in (sample_deck, small_deck):
        assert [s.shapes.title.text for s in prs.slides] == SLIDE_TITLES
        assert SLIDE_TITLES[1:] == list(TITLES.values())
        assert round(prs.slide_width / prs.slide_height, 3) == round(16 / 9, 3)
        assert prs.slide_height == Inches(7.5)


def test_type_is_large_and_dark_on_white(sample_deck):
    for slide in sample_deck.slides:
        for sh in slide.shapes:
            if sh.has_table:
                for row in sh.table.rows:
                    for cell in row.cells:
                        for r in cell.text_frame.paragraphs[0].runs:
                            assert r.font.size >= Pt(20) and str(r.font.color.rgb) == "1F1F1F", r.text
            if not sh.has_text_frame:
                continue
            minimum = Pt(32) if sh == slide.shapes.title else Pt(20)
            for p in sh.text_frame.paragraphs:
                for r in p.runs:
                    assert r.font.size is not None and r.font.size >= minimum, (sh.name, r.text)
                    assert str(r.font.color.rgb) in {"1F1F1F", "3A3A3A"}, (sh.name, r.text)
        for chart in charts(slide):
            assert chart.font.size >= Pt(20)


def test_every_slide_names_its_definition_in_the_notes(sample_deck):
    notes = [s.notes_slide.notes_text_frame.text for s in sample_deck.slides]
    assert all(n.strip() for n in notes)
    assert "Deltagare: inskrivna någon gång under perioden" in notes[1]
    assert "Nya deltagare: start inom perioden" in notes[2]
    assert "Andel kvinnor: kvinnor delat med alla deltagare" in notes[3]
    assert "Avslutade: slut inom perioden" in notes[4]
    assert "budget" in notes[5] and "Kostnad per deltagare" in notes[5]


def test_title_slide_holds_association_period_filters_and_load_time(sample_con):
    f = Filters(dt.date(2025, 3, 1), dt.date(2025, 8, 31), initiatives=("Hälsokraft", "MIA Vidare"),
                sexes=("women",))
    prs = Presentation(io.BytesIO(build_board_pack(sample_con, f, association="Samordningsförbundet Exempel")))
    slide = prs.slides[0]
    assert slide.shapes.title.text == "Styrelsemöte – underlag"
    assert shape_text(slide, "Förbund") == "Samordningsförbundet Exempel"
    lines = shape_text(slide, "Urval").split("\n")
    assert lines[0] == "Period: 2025-03-01 – 2025-08-31" == f"Period: {period_label(f)}"
    assert lines[1] == f"Urval: {describe(f)}" == "Urval: 2025-03-01 – 2025-08-31 · Hälsokraft, MIA Vidare · kön: kvinnor"
    assert lines[2] == f"Data inläst {fmt_datetime(status(sample_con)['last_load'])}"
    assert re.fullmatch(r"Data inläst \d{4}-\d\d-\d\d \d\d:\d\d", lines[2])


def test_file_name():
    assert file_name(Y2025) == "styrelseunderlag-2025.pptx"
    assert file_name(Filters(dt.date(2025, 3, 1), dt.date(2025, 8, 31))) == \
        "styrelseunderlag-2025-03-01_2025-08-31.pptx"


# ---------------------------------------------------------------- headline table

def test_headline_table_equals_the_metrics_in_swedish_sample(sample_con, sample_deck):
    h = headline(sample_con, Y2025)
    s = cost_summary(sample_con, Y2025)
    reasons = exits_by_reason(sample_con, Y2025).set_index("reason")
    rows = table_rows(sample_deck.slides[1])
    assert rows[0] == ["", *SEX_CATS]

    def counts(m):
        assert all(h.at[m, c] >= 5 for c in COLS)  # nothing small in these rows of the sample
        return [fmt_int(h.at[m, c]) for c in COLS]

    # Reason 2 among "other" is 4, hidden on the exits slide; that hides men's reason 2 (69) as well
    # (secondary suppression), so a 1 + 2 share for men or other would give those counts back.
    assert reasons.at["2", "other"] == 4
    assert rows[1:] == [
        ["Deltagare", *counts("participants")],
        ["Nya deltagare", *counts("started")],
        ["Avslutade", *counts("exited")],
        ["Andel till arbete/studier (orsak 1)", *[fmt_pct(h.at["positive_share", c]) for c in COLS]],
        ["Andel till orsak 1 + 2", fmt_pct(h.at["positive_wide_share", "women"]), "–", "–",
         fmt_pct(h.at["positive_wide_share", "total"])],
        ["Kostnad per deltagare", "–", "–", "–", fmt_kr(s["per_participant"])],
        ["Andel kvinnor", "–", "–", "–", fmt_pct(h.at["women_share", "total"])],
    ]
    assert rows[1][4] == f"1{NBSP}379" and rows[4][4] == f"35,3{NBSP}%"


def test_headline_table_small_association_hides_small_counts_and_their_shares(small, small_deck):
    rows = table_rows(small_deck.slides[1])
    # hand-computed (test_report.py): participants 8/4/3 = 15, started 6/3/3 = 12, exited 3/3/1 = 7;
    # positive exits 2 of 7 (a share built on 2 people is not shown); cost 780 001 kr / 15 = 52 000,07 kr
    assert rows[1:] == [
        ["Deltagare", "8", "<5", "<5", "15"],
        ["Nya deltagare", "6", "<5", "<5", "12"],
        ["Avslutade", "<5", "<5", "<5", "7"],
        ["Andel till arbete/studier (orsak 1)", "–", "–", "–", "–"],
        ["Andel till orsak 1 + 2", "–", "–", "–", "–"],
        ["Kostnad per deltagare", "–", "–", "–", f"52{NBSP}000{NBSP}kr"],
        ["Andel kvinnor", "–", "–", "–", f"53,3{NBSP}%"],
    ]
    assert "Antal under 5 visas inte" in shape_text(small_deck.slides[1], "Fotnot")
    assert "budget där utfall saknas: Beta" in shape_text(small_deck.slides[1], "Fotnot")


# ---------------------------------------------------------------- charts

def test_inflow_chart_is_native_with_agency_series_and_protected_counts(sample_con, sample_deck):
    chart = the_chart(sample_deck.slides[2])
    d, mask = protected(inflow_by_agency(sample_con, Y2025), "agency")
    agencies = [a for a in d.index if a != "Totalt"]
    assert list(chart.plots[0].categories) == SEX_CATS
    assert list(series(chart)) == agencies
    for a in agencies:
        want = [None if mask.at[a, c] else d.at[a, c] for c in COLS]
        assert approx_equal(series(chart)[a], want), a
    assert colors(chart) == {a: AGENCY_COLORS[a] for a in agencies}
    assert "Antal under 5 visas inte" in shape_text(sample_deck.slides[2], "Fotnot")


def test_inflow_secondary_suppression_closes_the_row_total_leak(sample_con, sample_deck):
    # Annan: 2 women, 6 men, 0 other, 8 in all. Hiding only the 2 would leak it: 8 − 6 − 0 = 2.
    d = inflow_by_agency(sample_con, Y2025).set_index("agency")
    assert list(d.loc["Annan", COLS]) == [2, 6, 0, 8]
    annan = series(the_chart(sample_deck.slides[2]))["Annan"]
    assert annan == (None, None, 0.0, 8.0)
    # and in general: no line with a visible total has exactly one hidden part
    values = series(the_chart(sample_deck.slides[2]))
    for name, vals in values.items():
        if vals[3] is not None:
            assert sum(v is None for v in vals[:3]) != 1, name
    started = table_rows(sample_deck.slides[1])[2][1:]  # the column totals are on the headline slide
    for j in range(3):
        if started[j] != "<5":
            assert sum(vals[j] is None for vals in values.values()) != 1, SEX_CATS[j]


def test_women_share_chart_against_target(sample_con, sample_deck):
    chart = the_chart(sample_deck.slides[3])
    w = women_share_vs_target(sample_con, Y2025)
    w = w[w.total > 0]
    d, mask = protected(w, "initiative")
    assert list(chart.plots[0].categories) == list(w.initiative)
    want = [expected_share(s, mask.at[i, "women"], n, mask.at[i, "total"])
            for i, s, n in zip(w.initiative, w.women_share, w.total)]
    assert approx_equal(series(chart)["Andel kvinnor"], want)
    assert approx_equal(series(chart)["Mål"], list(w.target))
    assert colors(chart)["Andel kvinnor"] == SEX_COLORS["women"]
    assert chart.value_axis.tick_labels.number_format == "0 %"


def test_women_share_hides_a_share_that_would_give_back_a_hidden_count(small_deck):
    # Alfa: 3 women of 6 (hidden); Beta: 5 women of 9; all women: 8, shown on the headline slide.
    # Beta's 55,6 % would reveal Beta's 5 women and so Alfa's 8 − 5 = 3: it must not be shown either.
    chart = the_chart(small_deck.slides[3])
    assert list(chart.plots[0].categories) == ["Alfa", "Beta"]
    assert series(chart)["Andel kvinnor"] == (None, None)
    assert series(chart)["Mål"] == pytest.approx((0.7, 0.5))
    assert shape_text(small_deck.slides[3], "Slutsats") == "Deltagarna per insats är för få för att visa andelen kvinnor."
    assert "Antal under 5 visas inte" in shape_text(small_deck.slides[3], "Fotnot")


def test_exits_chart_reason_shares_by_sex(sample_con, sample_deck):
    chart = the_chart(sample_deck.slides[4])
    r = reason_shares(sample_con, Y2025)
    d, mask = protected(exits_by_reason(sample_con, Y2025), "reason")
    assert list(chart.plots[0].categories) == SEX_CATS
    names = ["Okänd orsak" if code == "unknown" else lbl for code, lbl in zip(r.reason, r.label)]
    assert list(series(chart)) == names
    for code, name, row in zip(r.reason, names, r.itertuples()):
        want = [expected_share(getattr(row, f"{c}_share"), mask.at[code, c], d.at["Totalt", c], mask.at["Totalt", c])
                for c in COLS]
        assert approx_equal(series(chart)[name], want), name
    assert colors(chart) == {n: exit_reason_color(c) for n, c in zip(names, r.reason)}
    # other: 2 exits for illness, hidden, and with it the cells that would give it back
    assert d.at["3", "other"] == 2 and series(chart)["Sjukdom"][2] is None


def test_exits_chart_left_out_when_everything_is_hidden(small_deck):
    slide = small_deck.slides[4]
    assert charts(slide) == []
    assert "för få" in all_text(slide)


def test_cost_chart_flags_budget_based_figures(sample_con, sample_deck):
    chart = the_chart(sample_deck.slides[5])
    ct = cost_per_initiative(sample_con, Y2025)
    assert list(chart.plots[0].categories) == list(ct.initiative)
    got = series(chart)
    assert set(got) == {"Utfall", "Budget (utfall saknas)"}
    for name, basis in (("Utfall", "utfall"), ("Budget (utfall saknas)", "budget")):
        want = [v if b == basis else None for v, b in zip(ct.per_participant, ct.basis)]
        assert approx_equal(got[name], want), name
    budget = cost_summary(sample_con, Y2025)["budget_only"]
    assert budget and f"Budget i stället för utfall: {', '.join(budget)}." in shape_text(sample_deck.slides[5], "Fotnot")


def test_cost_chart_small_association(small, small_deck):
    chart = the_chart(small_deck.slides[5])
    assert list(chart.plots[0].categories) == ["Alfa", "Beta"]  # Gamma: a cost but no participants
    assert approx_equal(series(chart)["Utfall"], [480001 / 6, None])
    assert approx_equal(series(chart)["Budget (utfall saknas)"], [None, 300000 / 9])
    assert "Gamma" in shape_text(small_deck.slides[5], "Fotnot")


def test_all_charts_are_native_with_the_data_in_the_workbook(sample_deck, small_deck):
    # the sample has a chart on each mission slide; no picture stands in for a chart anywhere
    assert [len(charts(s)) for s in sample_deck.slides] == [0, 0, 1, 1, 1, 1]
    for prs in (sample_deck, small_deck):
        for slide in prs.slides:
            assert not [sh for sh in slide.shapes if sh.shape_type == 13], "pictures"  # MSO_SHAPE_TYPE.PICTURE
            for sh in slide.shapes:
                if sh.has_chart:
                    wb = openpyxl.load_workbook(io.BytesIO(sh.chart.part.chart_workbook.xlsx_part.blob))
                    assert wb.active.max_row > 1


# ---------------------------------------------------------------- takeaways

def test_takeaways_equal_the_pure_functions_on_the_metrics(sample_con, sample_deck):
    inflow = inflow_by_agency(sample_con, Y2025)
    pos, _ = positive_codes(sample_con)
    expected = [
        inflow_takeaway(inflow),
        women_target_takeaway(women_share_vs_target(sample_con, Y2025)),
        exits_takeaway(exits_by_reason(sample_con, Y2025), pos),
        cost_takeaway(cost_per_initiative(sample_con, Y2025), cost_summary(sample_con, Y2025)),
    ]
    assert [shape_text(s, "Slutsats") for s in list(sample_deck.slides)[2:]] == expected

    top = inflow[inflow.agency != "Totalt"].sort_values("total").iloc[-1]
    total = int(inflow.total.sum())
    assert expected[0] == (f"{top.agency} remitterade flest nya deltagare: {fmt_int(top.total)} av {fmt_int(total)} "
                           f"({fmt_pct(top.total / total)}).")
    assert expected[0] == f"Kommun remitterade flest nya deltagare: 294 av 888 (33,1{NBSP}%)."
    h = headline(sample_con, Y2025)
    assert expected[2] == (f"Andelen avslutade till arbete eller studier var {fmt_pct(h.at['positive_share', 'total'])}: "
                           f"kvinnor {fmt_pct(h.at['positive_share', 'women'])}, "
                           f"män {fmt_pct(h.at['positive_share', 'men'])}, "
                           f"annat/okänt {fmt_pct(h.at['positive_share', 'other'])}.")
    w = women_share_vs_target(sample_con, Y2025)
    worst = w.loc[w.gap.abs().idxmax()]
    assert expected[1] == (f"{worst.initiative} ligger längst från målet för andelen kvinnor: "
                           f"{fmt_pct(worst.women_share)} mot målet {fmt_pct(worst.target)}.")


def test_cost_takeaway_small_association(small_deck):
    assert shape_text(small_deck.slides[5], "Slutsats") == (
        f"Kostnaden per deltagare var högst i Alfa (80{NBSP}000{NBSP}kr) och lägst i Beta "
        f"(33{NBSP}333{NBSP}kr, budget); för hela urvalet 52{NBSP}000{NBSP}kr.")


def _inflow(rows: dict[str, tuple[int, int, int]]) -> pd.DataFrame:
    df = pd.DataFrame([{"agency": a, "women": w, "men": m, "other": o, "total": w + m + o}
                       for a, (w, m, o) in rows.items()], columns=["agency", *COLS])
    total = df[COLS].sum()
    return pd.concat([df, pd.DataFrame([{"agency": "Totalt", **total}])], ignore_index=True)


def test_inflow_takeaway_never_states_a_small_count():
    assert inflow_takeaway(_inflow({"Kommun": (2, 1, 0), "Region": (1, 0, 0), "Uppgift saknas": (20, 10, 0)})) == \
        "Antalen nya deltagare per remittent är för små för att visas."
    assert inflow_takeaway(_inflow({"Kommun": (5, 5, 0), "Region": (6, 4, 0)})) == \
        f"Kommun och Region remitterade flest nya deltagare, lika många: 10 var av 20 (50,0{NBSP}%)."
    assert inflow_takeaway(_inflow({})) == "Inga nya deltagare under perioden."
    assert inflow_takeaway(_inflow({"Uppgift saknas": (3, 3, 0)})) == \
        "Ingen av de nya deltagarna har en känd remittent."


def test_women_target_takeaway_skips_hidden_shares():
    def frame(rows):
        df = pd.DataFrame([{"initiative": i, "women": w, "men": m, "other": 0, "total": w + m, "target": 0.5,
                            "target_is_default": True} for i, (w, m) in rows.items()])
        return df.assign(women_share=df.women / df.total)

    # A: 2 women of 12, far below the target, is hidden; so is D (6 of 16), which would give A's 2 back
    # through the column of women (all women are on the headline slide). B and C are within 10 points.
    rows = {"A": (2, 10), "B": (30, 30), "C": (25, 25), "D": (6, 10)}
    assert women_target_takeaway(frame(rows)) == \
        "Alla insatser som kan visas ligger inom 10 procentenheter från målet för andelen kvinnor."
    rows["B"] = (20, 40)
    assert women_target_takeaway(frame(rows)) == \
        f"B ligger längst från målet för andelen kvinnor: 33,3{NBSP}% mot målet 50,0{NBSP}%."
    assert women_target_takeaway(frame({"A": (2, 10), "B": (3, 3)})) == \
        "Deltagarna per insats är för få för att visa andelen kvinnor."


def test_exits_takeaway_respects_small_bases():
    def reasons(rows):
        return pd.DataFrame([{"reason": r, "women": w, "men": m, "other": o, "total": w + m + o}
                             for r, (w, m, o) in rows.items()])
    assert exits_takeaway(reasons({"1": (1, 1, 0), "3": (1, 0, 0)})) == \
        "De avslutade är för få för att visa andelen till arbete eller studier."
    # 16 of 39 to work: 10 of 25 women, 6 of 14 men; no other
    assert exits_takeaway(reasons({"1": (10, 6, 0), "3": (10, 3, 0), "5": (5, 5, 0)})) == \
        f"Andelen avslutade till arbete eller studier var 41,0{NBSP}%: kvinnor 40,0{NBSP}%, män 42,9{NBSP}%."
    # men: 4 exits, too few for a share; women's 10 of 20 is hidden, since the 4 men for illness hide the
    # 10 women for illness, and then the women's column would give those back
    assert exits_takeaway(reasons({"1": (10, 0, 0), "3": (10, 4, 0)})) == \
        f"Andelen avslutade till arbete eller studier var 41,7{NBSP}%."
    assert exits_takeaway(reasons({})) == "Inga avslut under perioden."


def test_cost_takeaway_hides_figures_built_on_few_people():
    df = pd.DataFrame({"initiative": ["A", "B"], "cost": [100000.0, 90000.0], "basis": ["utfall", "budget"],
                       "per_participant": [25000.0, 9000.0], "participants": [4, 10]})
    assert cost_takeaway(df, {"per_participant": 190000 / 14, "participants": 14}) == \
        f"Kostnaden per deltagare var 9{NBSP}000{NBSP}kr i B (budget)."
    assert cost_takeaway(df.iloc[:1], {"per_participant": 25000.0, "participants": 4}) == \
        "Det finns ingen kostnad per deltagare att visa för urvalet."


# ---------------------------------------------------------------- protection everywhere

FILTERS = [
    Y2021, Filters.year(2020), Filters.year(2022),
    Filters(dt.date(2021, 3, 1), dt.date(2021, 8, 31)),
    Filters.year(2021, initiatives=("Alfa",)),
]


@pytest.mark.parametrize("f", FILTERS, ids=lambda f: describe(f))
def test_no_count_below_five_anywhere_small_association(small, f):
    _assert_no_small_counts(Presentation(io.BytesIO(build_board_pack(small, f))))


@pytest.mark.parametrize("f", [Y2025, Filters(dt.date(2025, 3, 1), dt.date(2025, 8, 31), initiatives=("Kvinnokraft",)),
                               Filters.year(2024, agencies=("Annan", "Region"), sexes=("other",))],
                         ids=lambda f: describe(f))
def test_no_count_below_five_anywhere_sample(sample_con, f):
    _assert_no_small_counts(Presentation(io.BytesIO(build_board_pack(sample_con, f))))


def _assert_no_small_counts(prs):
    for slide in prs.slides:
        for sh in slide.shapes:
            if sh.has_table:
                for row in sh.table.rows:
                    for cell in row.cells:
                        assert not any(1 <= n <= 4 for n in text_counts(cell.text)), cell.text
            elif sh.has_text_frame:
                assert not any(1 <= n <= 4 for n in text_counts(sh.text_frame.text)), sh.text_frame.text
    for chart in count_charts(prs):
        for s in chart.plots[0].series:
            assert not any(is_small_count(v) for v in s.values), (s.name, s.values)
        wb = openpyxl.load_workbook(io.BytesIO(chart.part.chart_workbook.xlsx_part.blob))
        for row in wb.active.iter_rows(min_row=2, min_col=2, values_only=True):
            assert not any(is_small_count(v) for v in row if isinstance(v, (int, float))), row


def test_a_higher_threshold_hides_more(sample_con):
    prs = Presentation(io.BytesIO(build_board_pack(sample_con, Y2025, threshold=10)))
    annan = series(the_chart(prs.slides[2]))["Annan"]
    assert annan == (None, None, 0.0, None)  # 8 in all is below 10 now
    assert "Antal under 10 visas inte" in shape_text(prs.slides[2], "Fotnot")
    rows = table_rows(prs.slides[1])
    assert all(cell != "<5" for row in rows for cell in row)


def test_an_empty_period_gives_messages_not_charts_or_zeros(sample_con):
    prs = Presentation(io.BytesIO(build_board_pack(sample_con, Filters.year(2010))))
    assert [s.shapes.title.text for s in prs.slides] == SLIDE_TITLES
    assert all(charts(s) == [] for s in prs.slides)
    rows = table_rows(prs.slides[1])
    assert [r[4] for r in rows[4:]] == ["–", "–", "–", "–"]  # shares and cost: missing, never 0
    assert shape_text(prs.slides[2], "Slutsats") == "Inga nya deltagare under perioden."
    assert shape_text(prs.slides[4], "Slutsats") == "Inga avslut under perioden."
