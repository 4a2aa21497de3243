"""Every page under AppTest, on the sample and on an empty database; filters and URL."""
from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.database import connect_read, connect_write

from tests.conftest import open_tables

from etl.load import SCHEMA, load_files
from metrics import Filters
from metrics.catalog import default_year
from metrics.people import headline
from render.format import fmt_delta_int, fmt_int, fmt_kr, fmt_pct

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["pages/oversikt.py", "pages/inflode.py", "pages/jamstalldhet.py", "pages/avslut.py", "pages/kostnad.py",
         "pages/ekonomi.py"]


@pytest.fixture(scope="module")
def empty_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("empty") / "finsam.duckdb"
    with connect_write(db) as con:
        con.execute(SCHEMA.read_text(encoding="utf-8"))
    return db


def app(db, monkeypatch, page=None, tables=True, **query) -> AppTest:
    """The app on `page`, with every chart's table opened (`tables`)."""
    monkeypatch.setenv("FINSAM_DB", str(db))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    return open_tables(at) if tables else at


def metric(at: AppTest, label: str):
    return next(m for m in at.metric if m.label == label)


def figures(db, f: Filters):
    with connect_read(db) as con:
        return headline(con, f)


@pytest.mark.parametrize("page", PAGES)
def test_page_runs_on_sample(page, sample_db, monkeypatch):
    at = app(sample_db, monkeypatch, page)
    assert not at.exception, at.exception
    assert at.title[0].value  # the page drew its heading
    charts = at.get("plotly_chart")
    assert charts and all(json.loads(c.proto.spec)["data"] for c in charts)  # each chart has data to draw


@pytest.mark.parametrize("page", PAGES)
def test_page_runs_on_empty_database(page, empty_db, monkeypatch):
    at = app(empty_db, monkeypatch, page)
    assert not at.exception, at.exception
    assert "inga deltagare" in at.info[0].value


def test_overview_shows_metrics_layer_figures(sample_db, monkeypatch):
    at = app(sample_db, monkeypatch)
    with connect_read(sample_db) as con:
        year = default_year(con, dt.date.today().year)
    h = figures(sample_db, Filters.year(year))
    assert metric(at, "Deltagare").value == fmt_int(h.loc["participants", "total"])
    assert metric(at, "Nya deltagare").value == fmt_int(h.loc["started", "total"])
    assert metric(at, "Avslutade").value == fmt_int(h.loc["exited", "total"])
    assert metric(at, "Till arbete eller studier").value == fmt_pct(h.loc["positive_share", "total"])


def test_filter_change_changes_numbers(sample_db, monkeypatch):
    at = app(sample_db, monkeypatch)
    before = metric(at, "Deltagare").value
    at.selectbox(key="f_year").set_value(2023).run()
    h = figures(sample_db, Filters.year(2023))
    assert metric(at, "Deltagare").value == fmt_int(h.loc["participants", "total"])
    assert metric(at, "Deltagare").value != before
    assert at.query_params["year"] == "2023"
    at.multiselect(key="f_sexes").set_value(["women"]).run()
    h = figures(sample_db, Filters.year(2023, sexes=("women",)))
    assert metric(at, "Deltagare").value == fmt_int(h.loc["participants", "total"])
    assert at.query_params["sex"] == "women"


def test_query_params_set_the_filters(sample_db, monkeypatch):
    with connect_read(sample_db) as con:
        name = con.execute("SELECT min(initiative) FROM enrollments").fetchone()[0]
    at = app(sample_db, monkeypatch, year="2024", initiative=name)
    assert at.selectbox(key="f_year").value == 2024
    assert at.multiselect(key="f_initiatives").value == [name]
    h = figures(sample_db, Filters.year(2024, initiatives=(name,)))
    assert metric(at, "Deltagare").value == fmt_int(h.loc["participants", "total"])


def test_custom_period_from_url(sample_db, monkeypatch):
    at = app(sample_db, monkeypatch, **{"from": "2024-03-01", "to": "2024-08-31"})
    assert not at.exception
    import datetime as dt

    h = figures(sample_db, Filters(dt.date(2024, 3, 1), dt.date(2024, 8, 31)))
    assert metric(at, "Deltagare").value == fmt_int(h.loc["participants", "total"])


def test_presentation_mode_shows_one_topic_and_steps_through(sample_db, monkeypatch):
    at = app(sample_db, monkeypatch, year="2025", present="1")
    assert not at.exception, at.exception
    assert at.title[0].value == "Översikt"
    assert at.session_state["suppress"] is True  # protection is on by default on the projector
    assert any("Skyddade tal" in m.value for m in at.markdown)  # the foot bar's one-line note
    at.button(key="next_slide").click().run()
    assert at.title[0].value == "Inflöde per remittent"
    assert at.query_params["slide"] == "2"
    for expected in ("Jämställdhet", "Avslut och resultat", "Kostnad per deltagare", "Översikt"):
        at.button(key="next_slide").click().run()
        assert not at.exception, at.exception
        assert at.title[0].value == expected
    at.button(key="prev_slide").click().run()
    assert at.title[0].value == "Kostnad per deltagare"


def test_presentation_starts_on_the_topic_of_the_link(sample_db, monkeypatch):
    at = app(sample_db, monkeypatch, year="2025", present="1", slide="3")
    assert at.title[0].value == "Jämställdhet"


def test_the_cost_slide_says_what_its_stripes_are_where_its_title_is_dropped(sample_db, monkeypatch):
    """A 720 px projector drops the chart's title, the only place that said "randig = budget": the stripes read as
    hidden counts, as on every other slide (a board member's walk-through). The key figure's line says it."""
    at = app(sample_db, monkeypatch, year="2025", present="1", slide="5")
    assert at.title[0].value == "Kostnad per deltagare"
    assert "utfall, annars budget (randig stapel = budget)" in [c.value for c in at.caption]


def test_a_time_grain_of_one_option_is_a_line_not_a_choice(sample_db, monkeypatch):
    """Under protection a series is by tertial only: a radio with one option read as broken (a board member)."""
    for page in ("pages/inflode.py", "pages/avslut.py"):
        free = app(sample_db, monkeypatch, page, tables=False, year="2025")
        assert [r.options for r in free.radio if r.label == "Tidsindelning"][0][0] in ("Tertial", "Kvartal")
        assert len([r.options for r in free.radio if r.label == "Tidsindelning"][0]) == 3
        shielded = app(sample_db, monkeypatch, page, tables=False, year="2025", suppress="1")
        assert not [r for r in shielded.radio if r.label == "Tidsindelning"] and not shielded.exception
        assert "Tidsindelning: tertial (med skydd för små tal visas serier per tertial)" in \
            [c.value for c in shielded.caption]


def test_a_selection_of_one_sex_shows_that_sex_only_under_the_key_figures(sample_db, monkeypatch):
    """With the sidebar on women, the lines read "Kvinnor 691", not "Kvinnor 691 · Män 0 · Annat/okänt 0": a 0 for a
    sex left out by the filter read as a count of nobody."""
    for page in (None, "pages/avslut.py", "pages/inflode.py"):
        at = app(sample_db, monkeypatch, page, tables=False, year="2025", sex="women")
        lines = [c.value for c in at.caption if c.value.startswith("Kvinnor ")]
        assert lines and not any("Män" in x or "Annat/okänt" in x for x in lines), (page, lines)


def test_small_counts_hidden_when_protection_is_on(sample_db, monkeypatch):
    with connect_read(sample_db) as con:
        # an initiative with few participants of other/unknown sex: the case protection is for
        name = con.execute("""SELECT initiative FROM enrollments WHERE year(start_date) = 2025
                              GROUP BY initiative ORDER BY count(*) FILTER (WHERE sex IN ('other', 'unknown'))
                              LIMIT 1""").fetchone()[0]
    at = app(sample_db, monkeypatch, "pages/inflode.py", year="2025", initiative=name)
    def codes(at):
        cols = ["Kvinnor", "Män", "Annat/okänt", "Totalt"]
        return [(d.value[[c for c in cols if c in d.value]].isin([-1, -2])).any().any() for d in at.dataframe]

    assert not any(codes(at))  # without protection the real counts are shown
    at.session_state["suppress"] = True  # the sidebar toggle (AppTest drops sidebar widgets after switch_page)
    at.run()
    assert not at.exception
    # hidden counts travel as their codes (numeric, so columns still sort) and print as <5 or ..
    assert any(codes(at))


def test_protection_travels_in_the_link(sample_db, monkeypatch):
    at = app(sample_db, monkeypatch, year="2025", suppress="1")
    assert at.session_state["suppress"] is True
    assert at.query_params["suppress"] == "1"
    assert "Skydd för små tal" in at.caption[1].value


def test_leaving_presentation_restores_the_users_choice(sample_db, monkeypatch):
    at = app(sample_db, monkeypatch, year="2025", present="1")
    assert at.session_state["suppress"] is True
    at.button(key="stop_present").click().run()
    assert not at.exception
    assert at.session_state["suppress"] is False
    assert "present" not in at.query_params


def test_pages_agree_with_the_annual_report(sample_db, monkeypatch):
    """What the board reads equals `python -m etl report` for the same year."""
    from metrics.report import build_report

    with connect_read(sample_db) as con:
        report = build_report(con, 2024)
    at = app(sample_db, monkeypatch, year="2024")
    assert metric(at, "Deltagare").value == fmt_int(report["participants"]["total"])
    assert metric(at, "Nya deltagare").value == fmt_int(report["started"]["total"])
    assert metric(at, "Avslutade").value == fmt_int(report["exited"]["total"])
    assert metric(at, "Utan samtycke").value == fmt_int(report["no_consent"])
    at.switch_page("pages/inflode.py")
    open_tables(at.run())
    table = at.dataframe[1].value.set_index("Remittent")  # the agency × sex table
    for agency in table.index.drop("Totalt"):
        expected = sum(ini["referrers"].get(agency, {}).get("total", 0) for ini in report["initiatives"].values())
        assert table.loc[agency, "Totalt"] == expected
    assert table.loc["Totalt", "Kvinnor"] == report["started"]["women"]


def test_a_charts_table_is_drawn_only_when_opened(sample_db, monkeypatch):
    """Closed, "Visa som tabell" sends nothing (at national scale four hidden tables per page cost the browser
    time on every visit); opened, it holds the chart's table and its download."""
    at = app(sample_db, monkeypatch, "pages/inflode.py", tables=False, year="2024")
    boxes = [e for e in at.expander if e.label == "Visa som tabell"]
    assert len(boxes) >= 2 and not any(len(e.dataframe) for e in boxes)
    open_tables(at)
    boxes = [e for e in at.expander if e.label == "Visa som tabell"]
    assert all(len(e.dataframe) == 1 for e in boxes)
    assert not at.exception


def test_app_builds_the_database_from_the_sample_when_missing(tmp_path, monkeypatch):
    db = tmp_path / "new" / "finsam.duckdb"
    at = app(db, monkeypatch)
    assert not at.exception, at.exception
    assert db.exists()
    assert metric(at, "Deltagare").value not in ("0", "–")
    assert any("Exempeldata" in w.value for w in at.sidebar.warning)


# ---------------------------------------------------------------- links and periods that used to crash

@pytest.fixture(scope="module")
def january_db(tmp_path_factory):
    """The current year in January: participants, no exits yet (the default view of every association)."""
    from tests.protection_audit import write_db

    this_year = dt.date.today().year
    rows = [{"initiative": "Alfa" if i % 2 else "Beta", "sex": "woman" if i % 3 else "man",
             "start": dt.date(this_year, 1, 2), "end": None, "age": 30 + i % 20, "agency": "Kommun",
             "reason": None, "consent": True, "id": f"J-{i}"} for i in range(40)]
    rows += [{"initiative": "Alfa", "sex": "woman", "start": dt.date(this_year - 1, 3, 1),
              "end": dt.date(this_year - 1, 9, 1), "age": 40, "agency": "Region", "reason": 1, "consent": True,
              "id": f"P-{i}"} for i in range(12)]
    return write_db(tmp_path_factory.mktemp("jan") / "f.duckdb", rows)


@pytest.mark.parametrize("page", PAGES)
def test_a_year_without_exits_opens_with_a_plain_sentence(january_db, monkeypatch, page):
    this_year = dt.date.today().year
    # without a year in the link: the last complete year (issue 23), never a future one nor the stub of this one
    assert f"**Urval:** {this_year - 1}" in app(january_db, monkeypatch, page, tables=False).caption[0].value
    at = app(january_db, monkeypatch, page, year=str(this_year))
    assert not at.exception, at.exception
    assert f"**Urval:** {this_year}" in at.caption[0].value
    if page in ("pages/oversikt.py", "pages/avslut.py"):
        texts = [x.value for x in [*at.caption, *at.info, *at.markdown]]
        assert any("Inga avslut ännu" in t for t in texts), texts


def test_presentation_without_exits_opens(january_db, monkeypatch):
    for slide in range(1, 6):
        at = app(january_db, monkeypatch, present="1", slide=str(slide))
        assert not at.exception, (slide, at.exception)


@pytest.mark.parametrize("query, notice", [
    ({"from": "2010-01-01", "to": "2024-12-31"}, "kortats"),
    ({"from": "2099-01-01", "to": "2099-12-31"}, "utanför"),
    ({"from": "2024-12-31", "to": "2024-01-01"}, "kunde inte läsas"),
    ({"from": "igår", "to": "2024-01-01"}, "kunde inte läsas"),
    ({"year": "²"}, "Året i länken"),
    ({"year": "99999999999999999999"}, "Året i länken"),
    ({"initiative": "<a href='x'>finns inte</a>"}, "insats i länken"),
    ({"sex": "kvinna"}, "kön i länken"),
    ({"agency": "FK"}, "remittent i länken"),
    ({"association": "<b>Förbund X</b>"}, "förbund i länken"),
], ids=lambda q: str(q))
def test_odd_links_open_with_a_notice(sample_db, monkeypatch, query, notice):
    at = app(sample_db, monkeypatch, **query)
    assert not at.exception, at.exception
    assert any(notice in i.value for i in at.info), [i.value for i in at.info]
    assert at.title[0].value == "Översikt"


def test_a_link_may_name_sexes_and_agencies_as_people_write_them(sample_db, monkeypatch):
    at = app(sample_db, monkeypatch, year="2024", sex="Kvinnor", agency="försäkringskassan")
    assert not at.exception and not at.info, [i.value for i in at.info]
    assert at.session_state["f_sexes"] == ["women"] and at.session_state["f_agencies"] == ["Försäkringskassan"]
    assert "kön\\: kvinnor" in at.caption[0].value  # escaped for Markdown


@pytest.mark.parametrize("slide", ["²", "0", "99", "-1", "1.5", ""])
def test_odd_slide_numbers_open_the_presentation(sample_db, monkeypatch, slide):
    at = app(sample_db, monkeypatch, year="2025", present="1", slide=slide)
    assert not at.exception, at.exception
    assert at.title[0].value == "Översikt"


# ---------------------------------------------------------------- the board's periods

@pytest.mark.parametrize("query, f, words", [
    ({"tertial": "2024-2"}, Filters.tertial(2024, 2), "tertial 2 2024"),
    ({"delar": "2024"}, Filters.interim(2024), "delår jan–aug 2024"),
    ({"year": "2024"}, Filters.year(2024), "2024"),
])
def test_the_boards_periods_open_from_the_link(sample_db, monkeypatch, query, f, words):
    at = app(sample_db, monkeypatch, **query)
    assert not at.exception, at.exception
    assert metric(at, "Deltagare").value == fmt_int(figures(sample_db, f).loc["participants", "total"])
    assert words in at.caption[0].value
    assert dict(at.query_params) == {k: v for k, v in query.items()}
    # costs are kept per year: a delår's or a tertial's cost per participant is its year's, and the card says so
    said = any("hela året 2024" in c.value for c in at.caption)
    assert said == (not f.is_calendar_year), [c.value for c in at.caption]


def test_a_tertial_link_that_cannot_be_read_opens_with_a_notice(sample_db, monkeypatch):
    at = app(sample_db, monkeypatch, tertial="2024-9")
    assert not at.exception
    assert any("Tertialen i länken" in i.value for i in at.info)


def test_tertial_boundaries():
    assert (Filters.tertial(2025, 1).start, Filters.tertial(2025, 1).end) == (dt.date(2025, 1, 1), dt.date(2025, 4, 30))
    assert (Filters.tertial(2025, 2).start, Filters.tertial(2025, 2).end) == (dt.date(2025, 5, 1), dt.date(2025, 8, 31))
    assert (Filters.tertial(2025, 3).start, Filters.tertial(2025, 3).end) == (dt.date(2025, 9, 1), dt.date(2025, 12, 31))
    assert (Filters.interim(2024).start, Filters.interim(2024).end) == (dt.date(2024, 1, 1), dt.date(2024, 8, 31))
    assert Filters.tertial(2025, 2).tertial_number == 2 and Filters.tertial(2025, 2).previous() == Filters.tertial(2024, 2)
    assert Filters.interim(2025).is_interim and not Filters.year(2025).is_interim
    assert Filters(dt.date(2025, 5, 1), dt.date(2025, 8, 30)).tertial_number is None


def test_inflow_by_tertial_adds_up_to_the_year(sample_db):
    from metrics.people import headline, inflow

    with connect_read(sample_db) as con:
        by_tertial = inflow(con, Filters.year(2024), "tertial")
        h = headline(con, Filters.year(2024))
        anonymous = con.execute(
            "SELECT coalesce(sum(women + men + other), 0) FROM anonymous_counts WHERE year = 2024").fetchone()[0]
        for n in (1, 2, 3):
            part = by_tertial[by_tertial.tertial == f"2024-T{n}"].total.sum()
            # anonymous counts carry only a year: they count in every period of it, never in a dated series
            assert part == headline(con, Filters.tertial(2024, n)).loc["started", "total"] - anonymous
    assert set(by_tertial.tertial) == {"2024-T1", "2024-T2", "2024-T3"}
    assert by_tertial.total.sum() + anonymous == h.loc["started", "total"]


# ---------------------------------------------------------------- several associations

@pytest.fixture(scope="module")
def network_db(tmp_path_factory):
    from tests.protection_audit import generate, write_db

    rows = []
    for n, size in ((1, 120), (2, 60), (3, 3)):
        for r in generate(n, {f"Insats {n}-{i}": size // 2 for i in (1, 2)}):
            rows.append(r | {"association": f"Förbund {n}", "id": f"{n}-{r['id']}"})
    return write_db(tmp_path_factory.mktemp("net") / "n.duckdb", rows)


def test_associations_are_compared_with_the_whole(network_db, monkeypatch):
    from metrics.associations import TOTAL_ROW, by_association

    at = app(network_db, monkeypatch, "pages/forbund.py", year="2025")
    assert not at.exception, at.exception
    assert at.title[0].value == "Förbund"
    with connect_read(network_db) as con:
        df = by_association(con, Filters.year(2025))
    assert list(df.association) == ["Förbund 1", "Förbund 2", "Förbund 3", TOTAL_ROW]
    assert df.set_index("association").loc[TOTAL_ROW, "participants_total"] == df.participants_total[:3].sum()
    shown = at.dataframe[0].value.set_index("Förbund")
    assert shown.loc["Förbund 1", "Deltagare"] == df.participants_total[0]


def test_the_association_filter_narrows_every_figure(network_db, monkeypatch):
    at = app(network_db, monkeypatch, year="2025", association="Förbund 2")
    assert not at.exception, at.exception
    with connect_read(network_db) as con:
        from metrics.people import headline
        h = headline(con, Filters.year(2025, associations=("Förbund 2",)))
    assert metric(at, "Deltagare").value == fmt_int(h.loc["participants", "total"])
    assert "Förbund 2" in at.caption[0].value


def test_protected_association_comparison_hides_a_small_one_and_the_whole(network_db, monkeypatch):
    """Each association as its own pages show it (Förbund 3: 2 people, `<5`), and the whole, which less the two
    visible associations would give Förbund 3's count, hidden too (tests/test_associations_filter.py in full)."""
    at = app(network_db, monkeypatch, "pages/forbund.py", year="2025", suppress="1")
    at.session_state["suppress"] = True
    at.run()
    assert not at.exception, at.exception
    col = at.dataframe[0].value.set_index("Förbund")["Deltagare"]
    assert col["Förbund 3"] == -1 and col["Alla förbund"] == -2
    assert col["Förbund 1"] > 0
    # each association as its own pages show it: Förbund 2's 2024 is only those who started then and still take
    # part, so 2024's participants are the stock open on 1 January 2025, and 2025 hides its total beside them
    from metrics.suppress import protect_period
    with connect_read(network_db) as con:
        own = protect_period(con, Filters.year(2025, associations=("Förbund 2",)), 5)
    kind, value = own.cell("participants", {}, "total")
    assert col["Förbund 2"] == {"primary": -1, "secondary": -2}.get(kind, value) and kind == "secondary"


def test_protected_pages_over_several_associations_ask_for_one(network_db, monkeypatch):
    """Protection decides one association at a time: over several, a page says so instead of showing figures;
    with one association chosen it shows them; the comparison page keeps its own protected table."""
    from metrics.suppress import SEVERAL_ASSOCIATIONS, SeveralAssociations, protect_period

    for page in ("pages/oversikt.py", "pages/inflode.py", "pages/avslut.py", "pages/kostnad.py"):
        at = app(network_db, monkeypatch, page, year="2025")
        at.session_state["suppress"] = True
        at.run()
        assert not at.exception, at.exception
        assert any(i.value == SEVERAL_ASSOCIATIONS for i in at.info), page
        assert not at.metric and not at.dataframe, page  # no figure at all
    at = app(network_db, monkeypatch, "pages/oversikt.py", year="2025", association="Förbund 2")
    at.session_state["suppress"] = True
    at.run()
    assert not at.exception and not any(i.value == SEVERAL_ASSOCIATIONS for i in at.info)
    assert metric(at, "Deltagare").value
    with connect_read(network_db) as con:
        with pytest.raises(SeveralAssociations):
            protect_period(con, Filters.year(2025))
        with pytest.raises(SeveralAssociations):
            protect_period(con, Filters.year(2025, associations=("Förbund 1", "Förbund 2")))
        assert protect_period(con, Filters.year(2025, associations=("Förbund 3",))).values
    at = app(network_db, monkeypatch, "pages/forbund.py", year="2025")
    at.session_state["suppress"] = True
    at.run()
    kpi = next(c.value for c in at.caption if "Uppdelat på kön per förbund" in c.value)
    assert kpi and not any("Kvinnor" in c.value for c in at.caption if "alla förbund" in c.value)


@pytest.fixture(scope="module")
def many_db(tmp_path_factory):
    """One association with 60 initiatives: long tables."""
    from tests.protection_audit import generate, write_db

    rows = generate(7, {f"Insats {i:02d}": 6 for i in range(60)})
    return write_db(tmp_path_factory.mktemp("many") / "m.duckdb", rows)


def test_a_long_table_is_searched_ordered_and_paged(many_db, monkeypatch):
    from ui.layout import PAGE_ROWS

    at = app(many_db, monkeypatch, "pages/jamstalldhet.py", year="2025")
    assert not at.exception, at.exception
    search = next(w for w in at.text_input if w.label == "Sök i tabellen")
    key = search.key.removesuffix("_search")
    first = next(d.value for d in at.dataframe if len(d.value) == PAGE_ROWS)  # the long one, one page of it
    caption = next(c.value for c in at.caption if c.value.startswith("Rad 1–25 av"))
    assert "sida 1 av" in caption
    names = list(first.iloc[:, 0])
    assert len(set(names)) == PAGE_ROWS and all(str(n).startswith("Insats ") for n in names)
    at.number_input(key=f"{key}_page").set_value(3).run()
    assert any(c.value.startswith("Rad 51–") for c in at.caption)
    third = next(d.value for d in at.dataframe if any(str(v).startswith("Insats ") for v in d.value.iloc[:, 0])
                 and 0 < len(d.value) <= PAGE_ROWS and not set(d.value.iloc[:, 0]) & set(names))
    assert len(third) < PAGE_ROWS  # the last page: rows 51 to the end, none of page 1's
    at.text_input(key=f"{key}_search").input("Insats 07").run()  # literal text, letter case ignored
    shown = next(d.value for d in at.dataframe if any("Insats 07" in str(v) for v in d.value.iloc[:, 0]))
    assert len(shown) == 1 and any(c.value.startswith("Rad 1–1 av 1 som innehåller «Insats 07»") for c in at.caption)
    at.text_input(key=f"{key}_search").input("*[(").run()  # a pattern is only text: no match, no error
    assert not at.exception and any("Inga rader innehåller" in c.value for c in at.caption)


def test_among_many_initiatives_a_search_adds_the_one_named_and_offers_the_rest(many_db, monkeypatch):
    """60 initiatives: no list of every one goes to the browser; the exact name is added on Enter, a part of a
    name offers its matches, a search for nothing says so (as text, not Markdown)."""
    at = app(many_db, monkeypatch, year="2025")
    assert not at.exception, at.exception
    assert not [w for w in at.selectbox if w.key == "f_initiative_add"]  # nothing offered before a search
    at.text_input(key="f_initiative_query").input(" insats 07 ").run()  # letter case and spaces ignored
    assert at.multiselect(key="f_initiatives").value == ["Insats 07"]
    assert at.text_input(key="f_initiative_query").value == ""
    assert at.query_params["initiative"] in ("Insats 07", ["Insats 07"])
    at.text_input(key="f_initiative_query").input("Insats 1").run()  # ten matches: chosen from a list
    offered = at.selectbox(key="f_initiative_add")
    assert offered.options == [f"Insats {i}" for i in range(10, 20)]
    offered.select("Insats 15").run()
    assert at.multiselect(key="f_initiatives").value == ["Insats 07", "Insats 15"]
    assert "Insats 15" not in at.selectbox(key="f_initiative_add").options
    at.text_input(key="f_initiative_query").input("Insats").run()  # 58 left: the first 50 offered, and said so
    assert len(at.selectbox(key="f_initiative_add").options) == 50
    at.text_input(key="f_initiative_query").input("*finns [inte]*").run()
    assert not at.exception
    assert any(c.value == "Ingen insats innehåller «\\*finns \\[inte\\]\\*»." for c in at.caption), \
        [c.value for c in at.caption]


def test_initiative_matches_ignores_case_spaces_and_the_chosen():
    from ui.filters import initiative_matches

    names = ["Insats 17-3", "Insats 17-30", "Jobbet", "jobbet 2"]
    labels = {"Insats 17-3": "Insats 17-3 · Förbund 17", "Insats 17-30": "Insats 17-30 · Förbund 17"}
    assert initiative_matches("  insats 17-3 ", names, labels) == (["Insats 17-3"], ["Insats 17-3", "Insats 17-30"])
    assert initiative_matches("förbund 17", names, labels) == ([], ["Insats 17-3", "Insats 17-30"])
    assert initiative_matches("Insats 17-3 · Förbund 17", names, labels)[0] == ["Insats 17-3"]
    assert initiative_matches("jobbet", names, labels, ["Jobbet"]) == ([], ["jobbet 2"])
    assert initiative_matches("   ", names, labels) == ([], [])
    assert initiative_matches(".*", names, labels) == ([], [])  # taken literally


# ---------------------------------------------------------------- Ekonomi (issue 13)

def test_ekonomi_opens_with_the_metrics_figures_on_the_sample(sample_db, monkeypatch):
    from metrics.economy import summary

    at = app(sample_db, monkeypatch, "pages/ekonomi.py", year="2024")
    assert not at.exception, at.exception
    with connect_read(sample_db) as con:
        s = summary(con, Filters.year(2024))
    assert s["allocated"] and s["equity_end"]  # the sample has an economy file
    assert metric(at, "Tilldelade medel").value == fmt_kr(s["allocated"])
    assert metric(at, "Använda medel").value == fmt_kr(s["used"])
    assert metric(at, "Eget kapital vid årets slut").value == fmt_kr(s["equity_end"])
    assert metric(at, "Administrationens andel").value == fmt_pct(s["administration_share"])
    assert len(at.get("plotly_chart")) == 4
    assert not at.warning or all("50/25/25" not in w.value for w in at.warning)


@pytest.fixture(scope="module")
def economy_db(tmp_path_factory):
    from tests.test_metrics_economy import economy_files

    directory = tmp_path_factory.mktemp("ekonomi")
    assert load_files(economy_files(directory / "files"), directory / "e.duckdb").ok
    return directory / "e.duckdb"


def test_ekonomi_key_figures_and_the_administration_switch(economy_db, monkeypatch):
    """The small association's economy (tests/test_metrics_economy.py), counted by hand there."""
    at = app(economy_db, monkeypatch, "pages/ekonomi.py", year="2021")
    assert not at.exception, at.exception
    assert [metric(at, k).value for k in ("Tilldelade medel", "Använda medel", "Eget kapital vid årets slut",
                                          "Administrationens andel")] == [
        fmt_kr(2_000_000), fmt_kr(1_240_000), fmt_kr(350_000), fmt_pct(240_000 / 1_240_000)]
    assert metric(at, "Kostnad per deltagare inkl. administration").value == fmt_kr((595_201.24 + 372_000) / 15)
    shown = at.dataframe[-1].value.set_index("Insats")
    assert shown.loc["Alfa", "Andel av administrationen"] == pytest.approx(115_200.24)
    at.toggle(key="ekonomi_admin").set_value(False).run()
    assert metric(at, "Kostnad per deltagare").value == fmt_kr((480_001 + 300_000) / 15)
    assert "Andel av administrationen" not in at.dataframe[-1].value.columns


def test_ekonomi_flags_shares_off_50_25_25(tmp_path, monkeypatch):
    from tests.conftest import write_small_association, write_xlsx

    files = write_small_association(tmp_path / "files")
    files.append(write_xlsx(tmp_path / "e.xlsx", {"E": [["År", "Post", "Part", "Utfall"],
                                                        [2021, "Tilldelade medel", "FK", 600],
                                                        [2021, "Tilldelade medel", "Regionen", 300],
                                                        [2021, "Tilldelade medel", "Kommunerna", 100]]}))
    assert load_files(files, tmp_path / "e.duckdb").ok
    at = app(tmp_path / "e.duckdb", monkeypatch, "pages/ekonomi.py", year="2021")
    assert not at.exception, at.exception
    assert any("inte 50/25/25" in w.value and "2021" in w.value for w in at.warning)
    assert "Staten 60,0" in " ".join(c.value for c in at.caption)


def test_ekonomi_on_a_database_made_before_it(economy_db, tmp_path, monkeypatch):
    from tests.conftest import made_before_issue_13

    old = made_before_issue_13(economy_db, tmp_path / "old.duckdb")
    at = app(old, monkeypatch, "pages/ekonomi.py", year="2021")
    assert not at.exception, at.exception
    assert any("inga uppgifter om förbundets ekonomi" in i.value for i in at.info)
    at = app(old, monkeypatch, "pages/kostnad.py", year="2021")  # and the other pages as before
    assert not at.exception, at.exception


def test_jamstalldhet_names_ten_flagged_initiatives_and_counts_the_rest(many_db, tmp_path, monkeypatch):
    import shutil

    from core.database import connect_write

    db = shutil.copy(many_db, tmp_path / "flags.duckdb")
    with connect_write(db) as con:  # a register target no initiative is near: all 60 flagged
        con.executemany("INSERT INTO initiatives (initiative, target_women_share, load_id) VALUES (?, 0.99, 1)",
                        [(f"Insats {i:02d}",) for i in range(60)])
    at = app(db, monkeypatch, "pages/jamstalldhet.py", tables=False, year="2025")
    assert not at.exception, at.exception
    warning = next(w.value for w in at.warning if w.value.startswith("Stor avvikelse från målet"))
    shares = [float(x.replace(",", ".")) for x in re.findall(r"\(([0-9,]+)\xa0% mot målet 99,0", warning)]
    assert len(shares) == 10 and shares == sorted(shares)  # the furthest from the target (99 %) first
    assert warning.endswith(" och 50 till (kolumnen Flagga i tabellen *Visa som tabell*).")


# ---------------------------------------------------------------- protection: the year's grid only

OFF_GRID_LINK = {"from": "2025-02-01", "to": "2025-06-30"}
GRID_LINKS = {"helår": {"year": "2025"}, "delår": {"delar": "2025"},
              **{f"tertial {n}": {"tertial": f"2025-{n}"} for n in (1, 2, 3)}}
PROTECTED_PAGES = [*PAGES, "pages/export.py"]
AGGREGATE_DOWNLOADS = {"Ladda ned alla tabeller (Excel)", "Ladda ned tabellen (CSV)"}
ROW_DOWNLOADS = {"Ladda ned deltagarrader (Excel)", "Ladda ned deltagarrader (CSV)", "Ladda ned Uppföljning Finsam (Excel)"}
BOARD_PACK = "Styrelseunderlag (PowerPoint)"


def protected(db, monkeypatch, page=None, **query) -> AppTest:
    """`app` with protection on, as the link's suppress=1 sets it (and the switch, which AppTest drops after a
    page switch)."""
    at = app(db, monkeypatch, page, **query, suppress="1")
    at.session_state["suppress"] = True
    return open_tables(at.run())


def downloads(at: AppTest) -> list[str]:
    return [b.proto.label for b in at.get("download_button")]


def refused_off_grid(at: AppTest) -> bool:
    from metrics.suppress import OFF_GRID

    return any(i.value == OFF_GRID for i in at.info)


def small_counts_shown(at: AppTest) -> list:
    """Counts 1–4 in the by-sex columns of the page's tables: none may be shown under protection."""
    cols = ["Kvinnor", "Män", "Annat/okänt", "Totalt"]
    out = []
    for d in at.dataframe:
        for c in cols:
            if c in d.value.columns:
                values = d.value[c]
                if values.dtype.kind in "iuf":
                    out += [(c, v) for v in values if 1 <= v <= 4]
    return out


@pytest.mark.parametrize("page", PROTECTED_PAGES)
def test_a_custom_period_under_protection_says_so_on_every_page(sample_db, monkeypatch, page):
    """A from–to that is not the year, its delår or a tertial could be set against them: under protection every page
    says so in Swedish (metrics.suppress.OFF_GRID) and shows no figure, never a traceback."""
    at = protected(sample_db, monkeypatch, page, **OFF_GRID_LINK)
    assert not at.exception, at.exception
    assert refused_off_grid(at), [i.value for i in at.info]
    assert not at.metric and not at.get("plotly_chart") and not at.dataframe
    assert BOARD_PACK not in downloads(at)  # the board pack is for the board's periods only
    assert any("styrelsens perioder" in c.value for c in at.sidebar.caption)
    if page == "pages/export.py":
        assert not AGGREGATE_DOWNLOADS & set(downloads(at))  # nothing protected to download
        assert ROW_DOWNLOADS <= set(downloads(at))  # the rows and the follow-up are never protected: still there


def test_a_custom_period_under_protection_leaves_the_export_unprotected_when_asked(sample_db, monkeypatch):
    """The export's own switch is on by default: a custom period without the sidebar's switch is refused too (it
    raised OffGrid), and with the export's switch off the tables are offered, unprotected."""
    at = app(sample_db, monkeypatch, "pages/export.py", **OFF_GRID_LINK)
    assert not at.exception, at.exception
    assert refused_off_grid(at)
    assert not AGGREGATE_DOWNLOADS & set(downloads(at)) and ROW_DOWNLOADS <= set(downloads(at))
    at.checkbox(key="export_protect").uncheck().run()
    assert not at.exception, at.exception
    assert not refused_off_grid(at)
    assert AGGREGATE_DOWNLOADS | ROW_DOWNLOADS <= set(downloads(at))
    assert any("Utan skydd för små tal" in w.value for w in at.warning)


def test_a_custom_period_under_protection_says_so_in_the_presentation(sample_db, monkeypatch):
    """Presentation mode is always protected: a custom period gives the sentence on every slide, with the way on and
    the way out still at the foot."""
    at = app(sample_db, monkeypatch, present="1", **OFF_GRID_LINK)
    for title in ("Översikt", "Inflöde per remittent", "Jämställdhet", "Avslut och resultat", "Kostnad per deltagare"):
        assert not at.exception, (title, at.exception)
        assert at.title[0].value == title
        assert refused_off_grid(at), title
        assert not at.metric and not at.get("plotly_chart"), title
        at.button(key="next_slide").click().run()
    assert at.title[0].value == "Översikt"
    at.button(key="stop_present").click().run()
    assert not at.exception and "present" not in at.query_params


def test_a_custom_period_under_protection_says_so_on_the_association_page(network_db, monkeypatch):
    """Förbund protects its own figures over associations, but for the year's grid only."""
    at = protected(network_db, monkeypatch, "pages/forbund.py", **OFF_GRID_LINK)
    assert not at.exception, at.exception
    assert refused_off_grid(at)
    assert not at.metric and not at.dataframe


@pytest.mark.parametrize("period", GRID_LINKS)
@pytest.mark.parametrize("page", PROTECTED_PAGES)
def test_the_years_grid_under_protection_runs_on_every_page(sample_db, monkeypatch, page, period):
    at = protected(sample_db, monkeypatch, page, **GRID_LINKS[period])
    assert not at.exception, at.exception
    assert not refused_off_grid(at)
    assert BOARD_PACK in downloads(at)
    assert not small_counts_shown(at), small_counts_shown(at)
    if page == "pages/export.py":
        assert AGGREGATE_DOWNLOADS | ROW_DOWNLOADS <= set(downloads(at))
    else:
        assert at.metric and at.get("plotly_chart")


@pytest.mark.parametrize("period", GRID_LINKS)
def test_the_years_grid_under_protection_runs_in_the_presentation(sample_db, monkeypatch, period):
    at = app(sample_db, monkeypatch, present="1", **GRID_LINKS[period])
    for _ in range(5):
        assert not at.exception, (at.title[0].value, at.exception)
        assert not refused_off_grid(at) and at.metric, at.title[0].value
        at.button(key="next_slide").click().run()
    assert at.title[0].value == "Översikt"


def test_a_stub_year_opens_on_the_last_complete_year_and_says_how_far_the_data_reach(tmp_path, monkeypatch):
    """Issue 23: exports ending 30 March 2022 open on 2021 (not a quarter of 2022 with no exits), the header says
    'Data t.o.m. 30 mars 2022', and 2021 is not compared with 2020, the exports' tail."""
    from tests.test_metrics_compare import _stub_and_tail

    db = _stub_and_tail(tmp_path)
    at = app(db, monkeypatch, tables=False)
    assert not at.exception
    assert at.session_state["f_year"] == 2021
    captions = " ".join(c.value for c in at.caption).replace("\\", "")  # Markdown's escapes
    assert "Data t.o.m. 30 mars 2022." in captions
    assert "Ingen jämförelse med 2020" in captions
    assert all(not m.delta for m in at.metric if m.label in ("Deltagare", "Nya deltagare", "Avslutade"))
    assert metric(at, "Deltagare").value == "110"  # 2021, not the stub
    # the stub year chosen: the header says it is not complete
    at.selectbox(key="f_year").set_value(2022).run()
    captions = " ".join(c.value for c in at.caption).replace("\\", "")
    assert "2022 är inte avslutat i uppgifterna" in captions
    assert "Förändringen på korten är mot 2021." in captions


def test_the_cards_show_the_previous_years_value_and_the_change(sample_db, monkeypatch):
    at = app(sample_db, monkeypatch, tables=False, year="2025")
    h, before = figures(sample_db, Filters.year(2025)), figures(sample_db, Filters.year(2024))
    card = metric(at, "Deltagare")
    assert card.delta == fmt_delta_int(h.loc["participants", "total"] - before.loc["participants", "total"])
    captions = " ".join(c.value for c in at.caption)
    assert f"2024: {fmt_int(before.loc['participants', 'total'])}" in captions
    assert "Under målen" in [s.value for s in at.subheader]


def test_a_hidden_tertial_is_never_drawn_shorter_than_the_truth(sample_db, monkeypatch):
    """Under protection a tertial's own series chart hides its total (it would give the year's anonymous count);
    the bar still reaches at least the true count, bounded by the tertial's new participants shown on the card."""
    import json

    from metrics.facts import counts

    at = app(sample_db, monkeypatch, "pages/inflode.py", tables=False, suppress="1", tertial="2024-2")
    assert not at.exception
    figure = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                  if "per tertial och remittent" in json.dumps(json.loads(c.proto.spec)["layout"].get("title", "")))
    drawn = sum(sum(x for x in (trace.get("y") or []) if isinstance(x, (int, float)))
                for trace in figure["data"] if trace.get("type") == "bar")
    with connect_read(sample_db) as con:
        truth = int(counts(con, Filters(dt.date(2024, 5, 1), dt.date(2024, 8, 31)), "started", ("tertial",))
                    .total.sum())
    assert drawn >= truth > 50


def test_jamstalldhet_card_holds_the_change_alone_and_names_the_reference_beneath(sample_db, monkeypatch):
    """Issue 23 walk-through at 1440×900: "+2,4 procentenheter från lika fördelning" was cut to "från lik…" on the
    card. The card carries the change; the line beneath says what it is measured against."""
    at = app(sample_db, monkeypatch, "pages/jamstalldhet.py", tables=False, year="2024")
    card = metric(at, "Andel kvinnor")
    assert card.delta.endswith("procentenheter") and "från" not in card.delta
    assert any(c.value.startswith("jämfört med 50") and c.value.endswith("(lika fördelning)") for c in at.caption)


def test_a_delar_whose_previous_year_shows_the_year_alone_compares_with_nothing(small_db, monkeypatch):
    """Issue 21: the small association's 2021 is too small for its shorter periods to be protected (the year is shown
    alone), so its delår is refused; Översikt for the delår 2022 still opens, with no comparison, instead of stopping
    on the previous period's refusal."""
    from metrics.suppress import protect_year

    with connect_read(small_db) as con:
        assert not protect_year(con, 2021).shorter and protect_year(con, 2022).shorter
    at = app(small_db, monkeypatch, "pages/oversikt.py", delar="2022", suppress="1")
    assert not at.exception, at.exception
    assert metric(at, "Deltagare")  # the page shows its own figures
    assert not [i for i in at.info if "bara helåret" in i.value]  # not stopped by the previous period
    assert all("2021" not in m.value for m in at.metric)  # nothing of the withheld delår 2021


def test_a_withdrawn_lines_zeros_are_not_shown_in_the_reasons_per_initiative(small_db, monkeypatch):
    """Issue 21: a withdrawn line prints every cell `..`, zeros too, or the zero would tell which of the others are at
    least 1. The small association's 2021 withdraws Alfa's exits by reason; nobody of Alfa left as 4 (moved), and
    Avslut's table of reasons per initiative filled that missing row with 0 (found looking at the page)."""
    from metrics.suppress import HIDDEN_SECONDARY, protect_period

    with connect_read(small_db) as con:
        p = protect_period(con, Filters.year(2021), 5)
    assert p.cell("exited", {"initiative": "Alfa", "reason": "4"}, "total") == ("secondary", 0)
    at = app(small_db, monkeypatch, "pages/avslut.py", year="2021", suppress="1")
    assert not at.exception, at.exception
    wide = next(d.value for d in at.dataframe if "Flyttat/ej aktuell" in d.value.columns and "Insats" in d.value.columns
                and "Avslutsorsak" not in d.value.columns).set_index("Insats")
    assert wide.loc["Alfa", "Flyttat/ej aktuell"] == HIDDEN_SECONDARY
    # without protection the zero is a zero
    at = app(small_db, monkeypatch, "pages/avslut.py", year="2021")
    wide = next(d.value for d in at.dataframe if "Flyttat/ej aktuell" in d.value.columns and "Insats" in d.value.columns
                and "Avslutsorsak" not in d.value.columns).set_index("Insats")
    assert wide.loc["Alfa", "Flyttat/ej aktuell"] == 0
