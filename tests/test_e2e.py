"""End to end in headless Chromium: every page opens with a chart and no error box."""
from __future__ import annotations

import pytest
from playwright.sync_api import sync_playwright

from etl.load import ensure_database
from tests.e2e_server import CHROMIUM, CHROMIUM_ARGS, streamlit_server, wait_idle

PATHS = ["", "inflode", "jamstalldhet", "avslut", "kostnad"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    db = tmp_path_factory.mktemp("e2e") / "finsam.duckdb"
    ensure_database(db)
    with streamlit_server(db) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.mark.parametrize("path", PATHS)
def test_page_has_chart_and_no_error(server, browser, path):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{server}/{path}?year=2024")
    wait_idle(page)
    page.get_by_test_id("stPlotlyChart").first.wait_for(timeout=30_000)
    assert page.get_by_test_id("stPlotlyChart").count() >= 1
    assert page.get_by_test_id("stException").count() == 0
    assert page.locator("[data-testid='stAlertContentError']").count() == 0
    assert "year=2024" in page.url
    page.close()


def test_navigation_reaches_every_view_in_one_click(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(server)
    wait_idle(page)
    nav = page.get_by_test_id("stSidebarNav")
    for title in ("Inflöde per remittent", "Jämställdhet", "Avslut och resultat", "Kostnad per deltagare"):
        assert nav.get_by_text(title).count() == 1
    nav.get_by_text("Jämställdhet").click()
    wait_idle(page)
    assert page.url.split("?")[0].endswith("/jamstalldhet")
    page.close()
