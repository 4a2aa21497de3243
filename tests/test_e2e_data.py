"""Upload in a real browser: an administrator signs in at /data, drops an export in Chromium, sees what will
change and loads it; the database then holds it, recorded as loaded by that administrator."""
from __future__ import annotations

import pytest

from auth import accounts
from core.database import connect_read
from etl.load import load_files
from tests.conftest import write_small_association
from tests.e2e_server import streamlit_server, wait_idle
from tests.test_etl_history import newer_alfa

ADMIN, PASSWORD = "adam", "adams-lösen-Ö3"


@pytest.fixture(scope="module")
def data_server(tmp_path_factory):
    d = tmp_path_factory.mktemp("e2e_data")
    db = d / "finsam.duckdb"
    assert load_files(write_small_association(d / "files"), db, actor="test").ok
    accounts.upsert(ADMIN, "administratör", PASSWORD, d / "accounts.toml")
    env = {"FINSAM_ACCOUNTS": str(d / "accounts.toml"), "FINSAM_AUDIT_DB": str(d / "audit.sqlite"),
           "FINSAM_AUTH_CONFIG": str(d / "auth.toml"), "FINSAM_REFERRERS": str(d / "referrers.csv")}
    with streamlit_server(db, env=env, log=d / "server.log") as url:
        yield url, d


def test_an_administrator_uploads_sees_the_preview_and_loads(data_server, browser, tmp_path):
    url, d = data_server
    export = newer_alfa(tmp_path / "alfa_mars.xlsx")
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{url}/data")
    wait_idle(page)
    page.get_by_label("Användarnamn", exact=True).fill(ADMIN)
    page.get_by_label("Lösenord", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.get_by_text("Exportfiler (högst 50 MB per fil)").wait_for(timeout=60_000)
    assert page.locator("h1").first.inner_text().startswith("Data")
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(export))
    page.get_by_text("Det här ändras").wait_for(timeout=90_000)
    wait_idle(page)
    assert page.get_by_test_id("stException").count() == 0
    load = page.get_by_role("button", name="Ladda in")
    assert load.is_enabled()
    load.click()
    page.get_by_text("Inläst: alfa_mars.xlsx", exact=False).wait_for(timeout=90_000)
    wait_idle(page)
    assert page.get_by_test_id("stException").count() == 0
    page.close()
    with connect_read(d / "finsam.duckdb") as con:
        assert con.execute("SELECT file_name FROM load_history ORDER BY load_id DESC LIMIT 1").fetchall() == [
            ("alfa_mars.xlsx",)]
        assert con.execute("SELECT actor FROM changes ORDER BY change_id DESC LIMIT 1").fetchall() == [(ADMIN,)]
        assert con.execute("SELECT count(*) FROM enrollments WHERE initiative = 'Alfa'").fetchall() == [(3,)]
