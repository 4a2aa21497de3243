"""Organisation sign-in end to end against a real OpenID provider (oidc-provider-mock), issue 22 §3–4.

The provider issues signed ID tokens with the claims each test gives its user; Streamlit's st.login runs the
whole code flow (discovery, redirect, token, signature and issuer checks) and the app derives the role. So
the claims a spoofer controls (preferred_username, an unverified e-mail) are tested as a real token carries
them, and a demotion in auth.toml is tested on a session that really signed in."""
from __future__ import annotations

import json
import shutil
import sqlite3
import urllib.request

import pytest
from oidc_provider_mock import run_server_in_thread
from tests.e2e_server import free_port, streamlit_server, wait_idle

ROLES = '[oidc.emails]\n"anna.berg@kommun.se" = "administratör"\n[oidc.groups]\n"g-handl" = "handläggare"\n'
USERS = {
    "anna": {"email": "anna.berg@kommun.se", "email_verified": True},
    "mallory": {"email": "mallory@evil.example", "email_verified": True, "preferred_username": "anna.berg@kommun.se"},
    "overifierad": {"email": "anna.berg@kommun.se", "email_verified": False},
    "hanna": {"email": "hanna@kommun.se", "email_verified": True, "groups": ["g-handl"]},
}
NO_ROLE = "har ingen roll i Insatskollen"


@pytest.fixture(scope="module")
def provider():
    with run_server_in_thread() as server:
        base = f"http://localhost:{server.server_port}"
        for sub, claims in USERS.items():
            req = urllib.request.Request(f"{base}/users/{sub}", data=json.dumps(claims).encode(), method="PUT",
                                         headers={"Content-Type": "application/json"})
            assert urllib.request.urlopen(req, timeout=10).status == 204
        yield base


@pytest.fixture(scope="module")
def server(tmp_path_factory, sample_db, provider):
    d = tmp_path_factory.mktemp("e2e_oidc")
    shutil.copyfile(sample_db, d / "finsam.duckdb")  # the session's sample, a copy: the server writes beside it
    port = free_port()
    (d / "secrets.toml").write_text(f"""
[auth]
redirect_uri = "http://localhost:{port}/oauth2callback"
cookie_secret = "en-hemlighet-bara-for-testet-0123456789"

[auth.mock]
client_id = "insatskollen"
client_secret = "hemligt"
server_metadata_url = "{provider}/.well-known/openid-configuration"
""", encoding="utf-8")
    (d / "auth.toml").write_text(ROLES, encoding="utf-8")
    env = {"FINSAM_ACCOUNTS": str(d / "accounts.toml"), "FINSAM_AUDIT_DB": str(d / "audit.sqlite"),
           "FINSAM_AUTH_CONFIG": str(d / "auth.toml"), "STREAMLIT_SECRETS_FILES": str(d / "secrets.toml")}
    with streamlit_server(d / "finsam.duckdb", env=env, log=d / "server.log", port=port):
        yield f"http://localhost:{port}", d


def sign_in(browser, url: str, sub: str):
    """A fresh browser (no cookies) through the provider's form as `sub`, back on the app's start page."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.goto(url)
    wait_idle(page)
    page.get_by_role("button", name="Logga in med Mock").click()
    page.wait_for_selector("input[name=sub]", timeout=60_000)
    page.fill("input[name=sub]", sub)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{url}/**", timeout=60_000)
    wait_idle(page)
    page.wait_for_timeout(1000)
    wait_idle(page)
    return context, page


def h1(page) -> str:
    page.locator("h1").first.wait_for(timeout=60_000)
    return page.locator("h1").first.inner_text()


def test_a_verified_email_gets_its_role(server, browser):
    url, d = server
    context, page = sign_in(browser, url, "anna")
    assert h1(page).startswith("Översikt")
    assert "administratör" in page.get_by_test_id("stSidebar").inner_text()
    context.close()


def _admin_sign_ins(d) -> int:
    con = sqlite3.connect(d / "audit.sqlite")
    return con.execute("SELECT count(*) FROM audit_log WHERE event = 'sign_in' AND actor = 'anna.berg@kommun.se'"
                       ).fetchone()[0]


@pytest.mark.parametrize("sub, logged_as", [("mallory", "mallory@evil.example"),
                                            ("overifierad", "anna.berg@kommun.se (ej verifierad)")])
def test_a_spoofed_or_unverified_email_gets_nothing(server, browser, sub, logged_as):
    url, d = server
    before = _admin_sign_ins(d)
    context, page = sign_in(browser, url, sub)
    page.get_by_text(NO_ROLE).first.wait_for(timeout=60_000)
    for path in ("konton", "export", "data"):
        page.goto(f"{url}/{path}")
        wait_idle(page)
        page.get_by_text(NO_ROLE).first.wait_for(timeout=60_000)
        assert page.get_by_test_id("stDataFrame").count() == 0 and page.get_by_test_id("stDownloadButton").count() == 0
    context.close()
    assert _admin_sign_ins(d) == before
    con = sqlite3.connect(d / "audit.sqlite")
    assert (logged_as,) in con.execute("SELECT actor FROM audit_log WHERE event = 'sign_in_no_role'").fetchall()


def test_a_demoted_user_downloads_nothing_more(server, browser):
    url, d = server
    context, page = sign_in(browser, url, "hanna")
    page.goto(f"{url}/export")
    wait_idle(page)
    button = page.get_by_role("button", name="Ladda ned deltagarrader (CSV)")
    button.wait_for(timeout=60_000)
    downloads, files = [], []
    # every file the browser is sent, from before the control: its own response may arrive after the download starts
    page.on("response", lambda r: files.append(r.url) if "/media/" in r.url else None)
    with page.expect_download(timeout=60_000) as got:  # the control: the file comes before the change
        button.click()
    assert got.value.path().read_bytes()[:3] == b"\xef\xbb\xbf"
    page.wait_for_timeout(1000)
    sent = len(files)
    (d / "auth.toml").write_text(ROLES.replace('"g-handl" = "handläggare"', '"g-styrelse" = "läsare"'),
                                 encoding="utf-8")
    page.on("download", lambda dl: downloads.append(dl))
    button.click()  # the button drawn before the change: the server builds no file (Streamlit says so in English)
    page.get_by_text("Failed to generate file for download").wait_for(timeout=60_000)
    page.wait_for_timeout(1000)
    assert sent >= 1 and downloads == [] and files[sent:] == []
    con = sqlite3.connect(d / "audit.sqlite")
    assert con.execute("SELECT count(*) FROM audit_log WHERE event = 'rows_download' AND actor = 'hanna@kommun.se'"
                       ).fetchone()[0] == 1
    page.reload()
    wait_idle(page)
    page.get_by_text(NO_ROLE).first.wait_for(timeout=60_000)
    context.close()
