"""Ten browser tabs guessing one account's password at the same instant, on a running server (issue 22 §2).

Each tab is its own Streamlit session on its own websocket, so the ten sign-in callbacks run in ten script
threads at once, as an attacker's ten connections would. With three free tries per name, three guesses are
checked and seven are told to wait when the ten arrive within a second (more only as the waits after the free
tries run out): the look at the counts and the count of the try are one write transaction in the audit database
(auth/throttle.py)."""
from __future__ import annotations

import shutil
import sqlite3
import time

import pytest
from auth import accounts
from auth.throttle import FREE_PER_NAME
from tests.e2e_server import streamlit_server, wait_idle

TABS = 10
SUBMIT = "[data-testid='stBaseButton-primaryFormSubmit']"


@pytest.fixture(scope="module")
def server(tmp_path_factory, sample_db):
    d = tmp_path_factory.mktemp("e2e_throttle")
    shutil.copyfile(sample_db, d / "finsam.duckdb")  # the session's sample, a copy: the server writes beside it
    accounts.upsert("anna", "administratör", "annas-rätta-lösen-1", d / "accounts.toml")
    env = {"FINSAM_ACCOUNTS": str(d / "accounts.toml"), "FINSAM_AUDIT_DB": str(d / "audit.sqlite"),
           "FINSAM_AUTH_CONFIG": str(d / "auth.toml")}
    with streamlit_server(d / "finsam.duckdb", env=env, log=d / "server.log") as url:
        yield url, d


def test_ten_tabs_guessing_at_once_get_three_checks(server, browser):
    url, d = server
    if True:  # the session's Chromium (tests/conftest.py); each tab a context of its own
        pages = [browser.new_page() for _ in range(TABS)]
        for page in pages:  # the ten sign-in forms load side by side, then each is filled in
            page.goto(url, wait_until="commit")
        for i, page in enumerate(pages):
            wait_idle(page)
            page.get_by_label("Användarnamn", exact=True).fill("anna")
            page.get_by_label("Lösenord", exact=True).fill(f"gissning-nummer-{i:02}")
            page.get_by_label("Användarnamn", exact=True).click()  # the password field's value is committed
        at = int(time.time() * 1000) + 1500  # one instant for every tab, in each tab's own timer
        for page in pages:
            page.evaluate("([sel, at]) => setTimeout(() => document.querySelector(sel).click(), at - Date.now())",
                          [SUBMIT, at])
        answers = []
        for page in pages:
            alert = page.get_by_test_id("stAlertContentError").first
            alert.wait_for(timeout=90_000)
            answers.append(alert.inner_text())
        spread = time.time() - at / 1000  # every try was counted within this many seconds of the click
        for page in pages:
            page.close()
    # after the free tries the next must wait 1 s, the one after 2 s more …: on a loaded machine the ten tries can
    # reach the server over more than a second, and then a fourth is rightly checked (seen in CI). Exactly three
    # when they came within a second; never more than the waits allow.
    checked = FREE_PER_NAME + sum(1 for k in range(TABS) if 2 ** (k + 1) - 1 <= spread)
    con = sqlite3.connect(d / "audit.sqlite")
    events = [e for (e,) in con.execute("SELECT event FROM audit_log WHERE event LIKE 'sign_in%' ORDER BY id")]
    failed = events.count("sign_in_failed")
    assert len(events) == TABS and FREE_PER_NAME <= failed <= min(checked, TABS - 1), (events, spread)
    assert events.count("sign_in_throttled") == TABS - failed
    assert sum(a.startswith("Fel användarnamn eller lösenord") for a in answers) == failed
    assert sum(a.startswith("För många misslyckade försök") for a in answers) == TABS - failed
