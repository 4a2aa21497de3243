"""Sign-in in headless Chromium, on a freshly started server with local accounts: a bookmarked
address opens after signing in through the form, and a läsare asking for /data by address is refused."""
from __future__ import annotations

import shutil

import pytest

from auth import accounts
from tests.e2e_server import streamlit_server, wait_idle

USERS = {"hanna": ("handläggare", "hannas-lösen-Ö2"), "lisa": ("läsare", "lisas-lösen-Ö1")}


@pytest.fixture(scope="module")
def signin_server(tmp_path_factory, sample_db):
    d = tmp_path_factory.mktemp("e2e_signin")
    shutil.copyfile(sample_db, d / "finsam.duckdb")  # the session's sample, a copy: the server may write beside it
    for name, (role, password) in USERS.items():
        accounts.upsert(name, role, password, d / "accounts.toml")
    env = {"FINSAM_ACCOUNTS": str(d / "accounts.toml"), "FINSAM_AUDIT_DB": str(d / "audit.sqlite"),
           "FINSAM_AUTH_CONFIG": str(d / "auth.toml")}
    with streamlit_server(d / "finsam.duckdb", env=env, log=d / "server.log") as url:
        yield url, d


def sign_in(page, name: str) -> None:
    page.get_by_label("Användarnamn", exact=True).fill(name)
    page.get_by_label("Lösenord", exact=True).fill(USERS[name][1])
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_selector("[data-testid='stForm']", state="detached", timeout=60_000)
    wait_idle(page)


def test_sign_in_lands_on_the_address_asked_for(signin_server, browser):
    url, d = signin_server
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{url}/kostnad?year=2024&initiative=MIA+Vidare")  # the server's very first request
    wait_idle(page)
    page.get_by_role("button", name="Logga in").wait_for(timeout=60_000)
    assert page.get_by_test_id("stPlotlyChart").count() == 0
    assert page.get_by_test_id("stSidebarNav").count() == 0
    sign_in(page, "hanna")
    page.get_by_test_id("stPlotlyChart").first.wait_for(timeout=60_000)
    assert page.locator("h1").first.inner_text().startswith("Kostnad per deltagare")
    path, _, query = page.url.partition("?")
    assert path.endswith("/kostnad") and "year=2024" in query and "initiative=MIA+Vidare" in query
    assert page.get_by_test_id("stException").count() == 0
    assert "Inloggad som" in page.get_by_test_id("stSidebar").inner_text()
    assert page.get_by_test_id("stSidebarNav").get_by_text("Export").count() == 1
    page.close()


def test_a_reader_asking_for_data_is_refused(signin_server, browser):
    url, d = signin_server
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{url}/data")
    wait_idle(page)
    page.get_by_role("button", name="Logga in").wait_for(timeout=60_000)
    sign_in(page, "lisa")
    page.get_by_text("Ingen behörighet").first.wait_for(timeout=60_000)
    assert page.locator("h1").first.inner_text().startswith("Ingen behörighet")
    nav = page.get_by_test_id("stSidebarNav")
    assert nav.get_by_text("Översikt").count() == 1
    assert nav.get_by_text("Export").count() == 0 and nav.get_by_text("Data", exact=True).count() == 0
    page.close()
    log = (d / "server.log").read_text(encoding="utf-8", errors="replace")
    for _role, password in USERS.values():
        assert password not in log
    assert USERS["lisa"][1].encode() not in (d / "audit.sqlite").read_bytes()
