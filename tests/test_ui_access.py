"""Sign-in and roles in the app (AppTest): each role's pages and downloads, refusals by address,
protection forced for läsare, slowed failed sign-ins, idle sessions, the local-only rule, OIDC roles,
and no password in clear in the accounts file, the audit log or the logs."""
from __future__ import annotations

import logging
import shutil
import sqlite3
import time
from pathlib import Path

import pytest
import streamlit
from streamlit.runtime.context import ContextProxy, StreamlitHeaders
from streamlit.testing.v1 import AppTest

from tests.conftest import open_tables

from auth import accounts, audit
from auth.throttle import THROTTLE
from render.text import md
from ui import access

ROOT = Path(__file__).resolve().parents[1]
PASSWORDS = {"lisa": ("läsare", "lisas-lösen-Ö1"), "hanna": ("handläggare", "hannas-lösen-Ö2"),
             "adam": ("administratör", "adams-lösen-Ö3")}
AGGREGATE = {"pages/oversikt.py": "Översikt", "pages/inflode.py": "Inflöde per remittent",
             "pages/jamstalldhet.py": "Jämställdhet", "pages/avslut.py": "Avslut och resultat",
             "pages/kostnad.py": "Kostnad per deltagare", "pages/ekonomi.py": "Ekonomi"}
RESTRICTED = {"pages/export.py": "Export", "pages/data.py": "Data", "pages/konton.py": "Konton och logg"}
ALLOWED = {  # role -> the restricted pages it may open (every role opens the aggregate pages)
    "läsare": set(),
    "handläggare": {"pages/export.py"},
    "administratör": {"pages/export.py", "pages/data.py", "pages/konton.py"},
}
URLS = {"pages/export.py": "export", "pages/data.py": "data", "pages/konton.py": "konton"}
BOARD_PACK = "Styrelseunderlag (PowerPoint)"
TABLE_CSV = "Ladda ned tabellen (CSV)"
ROWS = ("Ladda ned deltagarrader (Excel)", "Ladda ned deltagarrader (CSV)")
FOLLOWUP = "Ladda ned Uppföljning Finsam (Excel)"  # issue 13: exact counts, for handläggare and up
EXPORTS = ("Ladda ned alla tabeller (Excel)", TABLE_CSV, FOLLOWUP, *ROWS)


@pytest.fixture(scope="module")
def accounts_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("accounts") / "accounts.toml"
    for name, (role, password) in PASSWORDS.items():
        accounts.upsert(name, role, password, path)
    return path


@pytest.fixture()
def env(tmp_path, sample_db, accounts_template, monkeypatch):
    """Sign-in configured with the three accounts; the audit log and settings in tmp_path."""
    shutil.copy(accounts_template, tmp_path / "accounts.toml")
    monkeypatch.setenv("FINSAM_DB", str(sample_db))
    monkeypatch.setenv("FINSAM_ACCOUNTS", str(tmp_path / "accounts.toml"))
    monkeypatch.setenv("FINSAM_AUDIT_DB", str(tmp_path / "audit.sqlite"))
    monkeypatch.setenv("FINSAM_AUTH_CONFIG", str(tmp_path / "auth.toml"))
    THROTTLE.reset()
    yield tmp_path
    THROTTLE.reset()


@pytest.fixture()
def no_signin(tmp_path, sample_db, monkeypatch):
    monkeypatch.setenv("FINSAM_DB", str(sample_db))
    monkeypatch.setenv("FINSAM_ACCOUNTS", str(tmp_path / "accounts.toml"))  # does not exist
    monkeypatch.setenv("FINSAM_AUDIT_DB", str(tmp_path / "audit.sqlite"))
    monkeypatch.setenv("FINSAM_AUTH_CONFIG", str(tmp_path / "auth.toml"))
    return tmp_path


def app(**query) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


def sign_in(at: AppTest, name: str, password: str | None = None) -> AppTest:
    at.text_input(key="signin_name").input(name)
    at.text_input(key="signin_password").input(PASSWORDS[name][1] if password is None else password)
    return next(b for b in at.button if b.label == "Logga in").click().run()


def open_page(at: AppTest, page: str) -> AppTest:
    at.switch_page(page)
    return at.run()


def titles(at: AppTest) -> list[str]:
    return [t.value for t in at.title]


def downloads(at: AppTest, where=None) -> list[str]:
    return [b.proto.label for b in (where or at).get("download_button")]


def events(tmp_path: Path) -> list[tuple]:
    if not (tmp_path / "audit.sqlite").exists():
        return []
    con = sqlite3.connect(tmp_path / "audit.sqlite")
    return con.execute("SELECT event, actor, role, detail FROM audit_log ORDER BY id").fetchall()


def signed_in_page(at: AppTest) -> bool:
    return not any(t.label == "Lösenord" for t in at.text_input) and "Ingen behörighet" not in titles(at)


# --------------------------------------------------------------------------- the sign-in form

def test_nothing_but_the_form_until_signed_in(env):
    at = app(year="2024")
    assert not at.exception, at.exception
    assert [t.label for t in at.text_input] == ["Användarnamn", "Lösenord"]
    assert at.text_input(key="signin_password").proto.type == at.text_input(key="signin_password").proto.PASSWORD
    assert [b.label for b in at.button] == ["Logga in"]
    assert titles(at) == ["Insatskollen"]
    assert not at.metric and not at.get("plotly_chart") and not at.dataframe and not downloads(at)
    assert not at.sidebar.selectbox and not at.sidebar.multiselect  # no filters, no names of initiatives
    assert at.query_params["year"] == "2024"  # the address asked for is kept


def test_sign_in_lands_on_the_page_asked_for(env):
    at = app(year="2023")
    at = open_page(at, "pages/kostnad.py")  # a bookmarked /kostnad?year=2023
    assert titles(at) == ["Insatskollen"]  # the sign-in, drawn at that address
    at = sign_in(at, "hanna")
    assert not at.exception, at.exception
    assert titles(at)[0] == "Kostnad per deltagare"
    assert at.query_params["year"] == "2023"
    assert at.selectbox(key="f_year").value == 2023
    assert any("Inloggad som **hanna** · handläggare" in c.value for c in at.sidebar.caption)
    assert ("sign_in", "hanna", "handläggare", "lokalt konto") in events(env)


def test_wrong_password_is_refused(env):
    at = sign_in(app(), "lisa", "fel-lösenord-123")
    assert [e.value for e in at.error] == ["Fel användarnamn eller lösenord."]
    assert titles(at) == ["Insatskollen"] and not at.metric
    assert at.text_input(key="signin_password").value == ""  # the password does not stay in the session
    at = sign_in(at, "ingen-sadan", "fel-lösenord-123")
    assert [e.value for e in at.error] == ["Fel användarnamn eller lösenord."]  # the same answer for an unknown name
    assert [e[:2] for e in events(env)] == [("sign_in_failed", "lisa"), ("sign_in_failed", audit.UNKNOWN_NAME)]


def test_sign_out(env):
    at = sign_in(app(), "lisa")
    assert titles(at)[0] == "Översikt"
    at = at.sidebar.button(key="signout").click().run()
    assert titles(at) == ["Insatskollen"] and not at.metric
    assert "Du är utloggad." in [i.value for i in at.info]
    assert events(env)[-1][:2] == ("sign_out", "lisa")


def test_a_new_password_or_a_removed_account_ends_the_session(env):
    at = sign_in(app(), "lisa")
    accounts.upsert("lisa", "läsare", "ett-helt-nytt-lösen", env / "accounts.toml")  # same role, new password
    at = at.run()
    assert titles(at) == ["Insatskollen"] and not at.metric
    assert any("Kontot har ändrats eller tagits bort" in i.value for i in at.info)
    at = sign_in(at, "lisa", "ett-helt-nytt-lösen")
    assert titles(at)[0] == "Översikt"
    accounts.remove("lisa", env / "accounts.toml")
    assert titles(at.run()) == ["Insatskollen"]


# --------------------------------------------------------------------------- each role's pages and downloads

@pytest.fixture()
def menus(monkeypatch):
    """What app.py hands st.navigation: (url_path, visibility) per page, per run."""
    seen: list[list[tuple[str, str]]] = []
    real = streamlit.navigation

    def spy(pages, *args, **kwargs):
        if kwargs.get("position") != "hidden":
            seen.append([(p.url_path, p.visibility) for p in pages])
        return real(pages, *args, **kwargs)

    monkeypatch.setattr(streamlit, "navigation", spy)
    return seen


@pytest.mark.parametrize("name", list(PASSWORDS))
def test_each_role_sees_exactly_its_pages_and_downloads(env, menus, name):
    role = PASSWORDS[name][0]
    at = open_tables(sign_in(app(year="2024"), name))
    assert not at.exception, at.exception
    menu = dict(menus[-1])
    visible = {p for p in RESTRICTED if menu[URLS[p]] == "visible"}
    assert visible == ALLOWED[role]
    assert all(menu[path] == "visible" for path in ("", "inflode", "jamstalldhet", "avslut", "kostnad", "ekonomi"))
    # Översikt: the board pack (sidebar) for every role; the CSV under each chart's table for handläggare and up
    assert set(downloads(at)) == ({BOARD_PACK} if role == "läsare" else {BOARD_PACK, TABLE_CSV})
    assert downloads(at).count(BOARD_PACK) == 1

    for page, title in AGGREGATE.items():
        at = open_tables(open_page(at, page))
        assert not at.exception, at.exception
        assert titles(at)[0] == title
        assert set(downloads(at, at.main)) == (set() if role == "läsare" else {TABLE_CSV}), page

    for page, title in RESTRICTED.items():
        at = open_page(at, page)
        assert not at.exception, at.exception
        if page in ALLOWED[role]:
            assert titles(at)[0] == title
        else:
            assert titles(at) == ["Ingen behörighet"]
            assert f"rollen {role}" in at.error[0].value
        if page == "pages/export.py" and page in ALLOWED[role]:
            for label in EXPORTS:
                assert downloads(at).count(label) == 1, downloads(at)
        else:
            assert not set(downloads(at)) & set(EXPORTS)
    if role == "administratör":
        at = open_page(at, "pages/konton.py")
        shown = at.dataframe[0].value
        assert list(shown["Användarnamn"]) == ["adam", "hanna", "lisa"]
        assert "password" not in shown.columns and "Logg" in [s.value for s in at.subheader]


def test_a_reader_asking_for_data_or_rows_by_address_is_refused(env):
    at = sign_in(app(), "lisa")
    for page in ("pages/data.py", "pages/export.py", "pages/konton.py"):
        at = open_page(at, page)
        assert titles(at) == ["Ingen behörighet"]
        assert not at.dataframe and not set(downloads(at)) & set(EXPORTS)
        assert not any("individdata" in s.value.lower() for s in at.subheader)
    refused = [e[3] for e in events(env) if e[0] == "access_refused"]
    assert refused == ["/data", "/export", "/konton"]


def test_a_restricted_page_refuses_on_its_own(env):
    """Even run without app.py (as Streamlit's pages/ discovery would on a fresh server), the page refuses."""
    for page in ("pages/data.py", "pages/konton.py"):
        at = AppTest.from_file(str(ROOT / page), default_timeout=60).run()
        assert titles(at) == ["Ingen behörighet"], page
        assert not at.dataframe and not at.info


@pytest.fixture()
def deferred(monkeypatch):
    """The builders the download buttons register, by file name: what a click would run."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    found: dict[str, object] = {}
    real = MediaFileManager.add_deferred

    def spy(self, data_callable, mimetype, coordinates, file_name=None, **kw):
        found[file_name] = data_callable
        return real(self, data_callable, mimetype, coordinates, file_name=file_name, **kw)

    monkeypatch.setattr(MediaFileManager, "add_deferred", spy)
    return found


def test_row_downloads_are_checked_when_built_and_logged(env, deferred):
    at = open_page(sign_in(app(year="2024"), "hanna"), "pages/export.py")
    xlsx = next(build for name, build in deferred.items() if "deltagarrader" in name and name.endswith(".xlsx"))
    data = xlsx()
    assert data[:2] == b"PK"
    rows = [e for e in events(env) if e[0] == "rows_download"]
    assert len(rows) == 1 and rows[0][1:3] == ("hanna", "handläggare") and rows[0][3].startswith("Excel, ")
    assert "2024" in rows[0][3]
    # hanna is made a läsare after the page was drawn: the button she still sees builds nothing
    accounts.upsert("hanna", "läsare", PASSWORDS["hanna"][1], env / "accounts.toml")
    with pytest.raises(PermissionError):
        xlsx()
    assert len([e for e in events(env) if e[0] == "rows_download"]) == 1
    # and at her next click anywhere the session is over
    at = at.run()
    assert titles(at) == ["Insatskollen"]


def test_local_row_downloads_are_logged_too(no_signin, deferred):
    open_page(app(year="2024"), "pages/export.py")
    csv = next(build for name, build in deferred.items() if "deltagarrader" in name and name.endswith(".csv"))
    assert csv()[:3] == b"\xef\xbb\xbf"
    assert [e[:2] for e in events(no_signin)] == [("rows_download", "lokal användare")]


# --------------------------------------------------------------------------- protection for läsare

def _small_initiative(sample_db) -> str:
    from core.database import connect_read

    with connect_read(sample_db) as con:
        return con.execute("""SELECT initiative FROM enrollments WHERE year(start_date) = 2025 GROUP BY initiative
                              ORDER BY count(*) FILTER (WHERE sex IN ('other', 'unknown')) LIMIT 1""").fetchone()[0]


@pytest.mark.parametrize("name, protected", [("lisa", True), ("hanna", False)])
def test_protection_is_forced_for_a_reader(env, sample_db, name, protected):
    at = sign_in(app(year="2025", initiative=_small_initiative(sample_db)), name)
    toggle = at.sidebar.toggle(key="suppress")
    assert toggle.disabled is protected and toggle.value is protected
    at = open_page(at, "pages/inflode.py")
    # a hostile client sends "off" and a lower threshold for the switches it cannot see
    at.session_state["suppress"] = False
    at.session_state["suppress_threshold"] = 3
    at = at.run()
    assert not at.exception, at.exception
    cols = ["Kvinnor", "Män", "Annat/okänt", "Totalt"]
    counts = next(d.value[cols] for d in at.dataframe if set(cols) <= set(d.value.columns))
    assert bool(counts.isin([-1, -2]).any().any()) is protected  # hidden counts carry their codes
    if protected:  # at the standard threshold, not the 3 sent
        assert any("<5 = 1–4 personer" in c.value for c in at.caption)
        assert not (counts.isin([3, 4])).any().any()
    else:  # the same table shows 3s and 4s when unprotected, so the check above can fail
        assert counts.isin([3, 4]).any().any()


def test_a_reader_choosing_a_custom_period_gets_the_sentence_not_a_traceback(env):
    """A läsare is always protected, and protection shows the year, its delår and the tertials only: choosing
    "Eget intervall" in the sidebar gives every page the plain sentence (metrics.suppress.OFF_GRID)."""
    import datetime as dt

    from metrics.suppress import OFF_GRID
    from ui.filters import MODE_RANGE

    at = sign_in(app(year="2025"), "lisa")
    at.sidebar.selectbox(key="f_mode").set_value(MODE_RANGE).run()
    at.sidebar.date_input(key="f_range").set_value((dt.date(2025, 2, 1), dt.date(2025, 6, 30))).run()
    assert not at.exception, at.exception
    assert any(i.value == OFF_GRID for i in at.info) and not at.metric
    for page, title in AGGREGATE.items():
        at = open_page(at, page)
        assert not at.exception, (page, at.exception)
        assert titles(at) == [title]
        assert any(i.value == OFF_GRID for i in at.info), page
        assert not at.metric and not at.dataframe and not at.get("plotly_chart"), page
    assert "Styrelseunderlag (PowerPoint)" not in downloads(at)


# --------------------------------------------------------------------------- slowing, idle time

def test_failed_sign_ins_are_slowed(env, monkeypatch):
    clock = [5000.0]
    monkeypatch.setattr(THROTTLE, "clock", lambda: clock[0])
    at = app()
    for _ in range(3):
        at = sign_in(at, "lisa", "gissat-lösenord")
        assert at.error[0].value == "Fel användarnamn eller lösenord."
    at = sign_in(at, "lisa")  # the right password, too soon: not even checked
    assert at.error[0].value == "För många misslyckade försök. Vänta 1 sekund och försök igen."
    assert titles(at) == ["Insatskollen"]
    clock[0] += 1.5
    at = sign_in(at, "lisa", "gissat-igen-1")
    clock[0] += 1.5  # the fourth failure asks for 2 s
    at = sign_in(at, "lisa")
    assert "Vänta 1 sekund " in at.error[0].value
    clock[0] += 1
    at = sign_in(at, "lisa")
    assert titles(at)[0] == "Översikt"
    assert [e[0] for e in events(env)] == ["sign_in_failed"] * 3 + ["sign_in_throttled", "sign_in_failed",
                                                                     "sign_in_throttled", "sign_in"]


def test_many_names_from_one_address_are_slowed(env, monkeypatch):
    monkeypatch.setattr(THROTTLE, "clock", lambda: 9000.0)
    at = app()
    for i in range(10):  # ten names, each below its own limit
        at = sign_in(at, f"namn{i}", f"gissning-nummer-{i}")
    at = sign_in(at, "adam")
    assert "För många misslyckade försök" in at.error[0].value


def _age(at: AppTest, seconds: float) -> None:
    session = dict(at.session_state[access.SESSION_KEY])
    session["last_seen"] = time.time() - seconds
    at.session_state[access.SESSION_KEY] = session


def test_an_idle_session_ends_after_the_configured_time(env):
    (env / "auth.toml").write_text("[session]\nidle_minutes = 5\n", encoding="utf-8")
    at = sign_in(app(), "adam")
    assert titles(at)[0] == "Översikt"
    _age(at, 4 * 60)
    at = at.run()
    assert titles(at)[0] == "Översikt"  # 4 minutes idle: still in, and the clock starts again
    assert time.time() - at.session_state[access.SESSION_KEY]["last_seen"] < 60
    _age(at, 5 * 60 + 5)
    at = at.run()
    assert titles(at) == ["Insatskollen"] and not at.metric
    assert any("Du loggades ut efter 5 minuter utan aktivitet." in i.value for i in at.info)
    assert events(env)[-1][:2] == ("session_expired", "adam")


def test_default_idle_time_is_thirty_minutes(env):
    at = sign_in(app(), "lisa")
    _age(at, 29 * 60)
    assert titles(at.run())[0] == "Översikt"
    _age(at, 31 * 60)
    assert titles(at.run()) == ["Insatskollen"]


# --------------------------------------------------------------------------- nothing configured: this machine only

@pytest.fixture()
def client(monkeypatch):
    """Set the address (and headers) a request comes from, as Streamlit would report them."""
    def set_client(ip: str | None, headers: dict | None = None):
        monkeypatch.setattr(ContextProxy, "ip_address", property(lambda self: ip))
        monkeypatch.setattr(ContextProxy, "headers",
                            property(lambda self: StreamlitHeaders(list((headers or {}).items()))))
    return set_client


@pytest.mark.parametrize("ip, headers", [("203.0.113.9", None), ("192.168.1.20", None), ("2001:db8::5", None),
                                         ("fe80::1%eth0", None), ("inte-en-adress", None),
                                         (None, {"X-Forwarded-For": "203.0.113.9"}),  # a proxy on this machine
                                         (None, {"Forwarded": "for=203.0.113.9"})])
def test_a_remote_request_is_refused_when_nothing_is_configured(no_signin, client, ip, headers):
    client(ip, headers)
    at = app(year="2024")
    assert not at.exception, at.exception
    assert titles(at) == ["Insatskollen visas bara på serverns egen dator"]
    assert "python -m auth add" in at.markdown[0].value
    assert not at.metric and not at.get("plotly_chart") and not at.dataframe and not downloads(at)
    assert not at.sidebar.selectbox and not at.sidebar.warning


@pytest.mark.parametrize("host, origin", [
    ("evil.example:8610", "http://evil.example:8610"),  # DNS rebinding: the attacker's name points at 127.0.0.1
    ("evil.example:8610", None),
    ("localhost:8610", "http://evil.example:8610"),      # a foreign page's socket to the right name
    ("localhost.evil.com:8610", "http://localhost.evil.com:8610"),
    ("127.0.0.1.nip.io:8610", None),
    ("localhost.:8610", None),
    ("", None),
    ("localhost:8610", "null"),
])
def test_this_machine_by_another_name_is_refused_when_nothing_is_configured(no_signin, client, host, origin):
    """Issue 22 §1: from 127.0.0.1 itself, but asked for by a name that is not this machine's own."""
    client(None, {"Host": host} | ({"Origin": origin} if origin else {}))
    at = app(year="2024")
    assert not at.exception, at.exception
    assert titles(at) == ["Insatskollen visas bara på serverns egen dator"]
    assert "localhost eller 127.0.0.1" in at.markdown[0].value
    assert not at.metric and not at.get("plotly_chart") and not at.dataframe and not downloads(at)
    for page in ("pages/export.py", "pages/data.py", "pages/konton.py"):
        at = open_page(at, page)
        assert titles(at) == ["Insatskollen visas bara på serverns egen dator"], page
        assert not at.dataframe and not downloads(at) and not at.file_uploader, page


@pytest.mark.parametrize("host, origin", [("localhost:8501", "http://localhost:8501"), ("127.0.0.1:8501", None),
                                          ("[::1]:8501", "http://[::1]:8501"), ("LOCALHOST:8501", None)])
def test_this_machine_by_its_own_name_is_served(no_signin, client, host, origin):
    client(None, {"Host": host} | ({"Origin": origin} if origin else {}))
    at = app(year="2024")
    assert not at.exception, at.exception
    assert titles(at)[0] == "Översikt" and at.metric


@pytest.mark.parametrize("ip", [None, "127.0.0.2", "::ffff:127.0.0.1", "::1"])
def test_this_machine_works_as_before_with_a_banner(no_signin, client, ip):
    client(ip)
    at = app(year="2024")
    assert not at.exception, at.exception
    assert titles(at)[0] == "Översikt" and at.metric
    assert any("Ingen inloggning är inställd" in w.value for w in at.sidebar.warning)
    at = open_page(at, "pages/export.py")
    for label in EXPORTS:
        assert label in downloads(at)


def test_with_accounts_a_remote_client_gets_the_sign_in(env, client):
    client("203.0.113.9")
    at = sign_in(app(), "hanna")
    assert titles(at)[0] == "Översikt"
    assert events(env)[-1][:2] == ("sign_in", "hanna")
    con = sqlite3.connect(env / "audit.sqlite")
    assert con.execute("SELECT client FROM audit_log").fetchone()[0] == "203.0.113.9"


def test_unreadable_settings_let_nobody_in(env, client):
    (env / "accounts.toml").write_text("[accounts.lisa\n", encoding="utf-8")
    client(None)  # not even this machine
    at = app()
    assert titles(at) == ["Inloggningen är felinställd"]
    assert "rad 1" in at.error[0].value and not at.text_input and not at.metric


# --------------------------------------------------------------------------- organisation sign-in (OIDC)

OIDC_SECRETS = {"auth": {"redirect_uri": "https://insats.example.se/oauth2callback", "cookie_secret": "x" * 32,
                         "microsoft": {"client_id": "id", "client_secret": "hemlis",
                                       "server_metadata_url": "https://login.example/.well-known/openid-configuration"},
                         }}


OIDC_ISSUER = "https://login.example"  # what OIDC_SECRETS' server_metadata_url names


def oidc_user(**claims) -> dict:
    """st.user as Streamlit gives it after the provider's sign-in: the ID token's claims."""
    return {"is_logged_in": True, "iss": OIDC_ISSUER, "email_verified": True, "sub": "s-1"} | claims


def oidc_app(tmp_path: Path, user: dict, page: str | None = None) -> AppTest:
    (tmp_path / "auth.toml").write_text('[oidc.emails]\n"anna.berg@kommun.se" = "administratör"\n'
                                        '[oidc.groups]\n"g-styrelse" = "läsare"\n', encoding="utf-8")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.secrets = OIDC_SECRETS
    at.user = user
    return at.run()


def test_oidc_user_gets_the_role_of_their_email(no_signin):
    at = oidc_app(no_signin, oidc_user(email="Anna.Berg@kommun.se", groups=[]))
    assert not at.exception, at.exception
    assert titles(at)[0] == "Översikt"
    # escaped as every name shown in Markdown (render.text.md): the address is not made a mailto link either
    assert any(md("anna.berg@kommun.se") in c.value and "administratör" in c.value for c in at.sidebar.caption)
    at = open_page(at, "pages/konton.py")
    assert titles(at)[0] == "Konton och logg"
    assert events(no_signin)[0][:3] == ("sign_in", "anna.berg@kommun.se", "administratör")


def test_oidc_group_member_is_a_reader(no_signin):
    at = oidc_app(no_signin, oidc_user(email="styr@kommun.se", groups=["g-styrelse"]))
    assert titles(at)[0] == "Översikt"
    assert titles(open_page(at, "pages/export.py")) == ["Ingen behörighet"]


def test_oidc_without_a_role_gets_nothing(no_signin):
    at = oidc_app(no_signin, oidc_user(email="okand@kommun.se", groups=["g-annat"]))
    assert titles(at) == ["Insatskollen"] and not at.metric
    assert "har ingen roll" in at.warning[0].value
    assert events(no_signin)[0][:2] == ("sign_in_no_role", "okand@kommun.se")


def test_oidc_idle_session_signs_out_of_the_provider_too(no_signin):
    at = oidc_app(no_signin, oidc_user(email="anna.berg@kommun.se"))
    assert titles(at)[0] == "Översikt"
    _age(at, 31 * 60)
    at = at.run()
    assert titles(at) == ["Insatskollen"] and not at.metric
    assert at.user == {"is_logged_in": False}  # st.logout(): the identity cookie is gone as well
    assert [e[:2] for e in events(no_signin)] == [("sign_in", "anna.berg@kommun.se"),
                                                  ("session_expired", "anna.berg@kommun.se")]


@pytest.mark.parametrize("claims", [
    {"preferred_username": "anna.berg@kommun.se", "email": "mallory@evil.example"},  # a user name is not an e-mail
    {"preferred_username": "anna.berg@kommun.se", "email": None, "email_verified": None},
    {"upn": "anna.berg@kommun.se", "email": None},
    {"email": "anna.berg@kommun.se", "email_verified": False},   # the provider does not vouch for it
    {"email": "anna.berg@kommun.se", "email_verified": None},
    {"email": "anna.berg@kommun.se", "iss": "https://evil.example"},  # another provider's token
    {"email": "anna.berg@kommun.se", "iss": None},
])
def test_oidc_spoofed_or_unverified_claims_get_nothing(no_signin, claims):
    """Issue 22 §3: an administrator's e-mail in a claim the provider does not vouch for, or from another
    issuer, gives no role at all: no page, no menu."""
    user = {k: v for k, v in (oidc_user() | claims).items() if v is not None}
    at = oidc_app(no_signin, user)
    assert not at.exception, at.exception
    assert titles(at) == ["Insatskollen"] and not at.metric and not downloads(at)
    assert "har ingen roll" in at.warning[0].value
    for page in ("pages/konton.py", "pages/export.py"):
        at = open_page(at, page)
        assert titles(at) == ["Insatskollen"] and not at.dataframe and not downloads(at), page
    assert not any(e[0] == "sign_in" for e in events(no_signin))
    assert [e[0] for e in events(no_signin)] == ["sign_in_no_role"]


def _rows_builder(deferred) -> object:
    return next(build for name, build in deferred.items() if "deltagarrader" in name and name.endswith(".xlsx"))


def test_a_demoted_oidc_user_builds_no_file_and_loses_the_page(no_signin, deferred):
    """Issue 22 §4: the group leaves auth.toml after /export was drawn. The button still on the screen builds
    nothing (the role is derived again from the session's claims and auth.toml as it is now), and the next
    click anywhere shows what the new role allows."""
    at = oidc_app(no_signin, oidc_user(email="hanna@kommun.se", groups=["g-handl"]))
    (no_signin / "auth.toml").write_text('[oidc.groups]\n"g-handl" = "handläggare"\n', encoding="utf-8")
    at = open_page(at.run(), "pages/export.py")
    assert titles(at)[0] == "Export"
    build = _rows_builder(deferred)
    assert build()[:2] == b"PK"  # the control: before the change the file is made
    (no_signin / "auth.toml").write_text('[oidc.groups]\n"g-styrelse" = "läsare"\n', encoding="utf-8")
    with pytest.raises(PermissionError):
        build()
    assert len([e for e in events(no_signin) if e[0] == "rows_download"]) == 1
    at = at.run()
    assert titles(at) == ["Insatskollen"] and "har ingen roll" in at.warning[0].value


def test_an_oidc_user_demoted_to_reader_loses_the_rows(no_signin, deferred):
    at = oidc_app(no_signin, oidc_user(email="anna.berg@kommun.se"))
    at = open_page(at, "pages/export.py")
    build = _rows_builder(deferred)
    (no_signin / "auth.toml").write_text('[oidc.emails]\n"anna.berg@kommun.se" = "läsare"\n', encoding="utf-8")
    with pytest.raises(PermissionError):
        build()
    at = at.run()
    assert titles(at) == ["Ingen behörighet"]


def test_a_password_change_ends_what_the_page_offered(env, deferred):
    """Issue 22 §4: same role, new password (someone else knew the old one): the session ends, and so does the
    download button the old session still shows."""
    at = open_page(sign_in(app(year="2024"), "hanna"), "pages/export.py")
    build = _rows_builder(deferred)
    assert build()[:2] == b"PK"
    accounts.upsert("hanna", "handläggare", "ett-helt-nytt-lösen", env / "accounts.toml")
    with pytest.raises(PermissionError):
        build()
    assert titles(at.run()) == ["Insatskollen"]


def test_a_demoted_account_gets_no_table_either(env, deferred):
    """Issue 22 §4: the unprotected tables (the workbook, a table's CSV, the follow-up with exact counts, the CSV
    under a chart) are checked again when clicked, like the rows."""
    at = open_page(sign_in(app(year="2024"), "hanna"), "pages/export.py")
    at = open_tables(open_page(at, "pages/inflode.py"))
    builders = {name: build for name, build in deferred.items()  # the board pack is for every role
                if "deltagarrader" not in name and not name.endswith(".pptx")}
    assert any(n.startswith("uppfoljning") for n in builders) and any(n.endswith(".csv") for n in builders)
    assert len(builders) >= 4
    for name, build in builders.items():
        assert build(), name  # the control: each builds before the change
    accounts.upsert("hanna", "läsare", PASSWORDS["hanna"][1], env / "accounts.toml")
    for name, build in builders.items():
        with pytest.raises(PermissionError):
            build()


def test_signing_out_ends_what_the_page_offered(env, deferred):
    at = open_page(sign_in(app(year="2024"), "hanna"), "pages/export.py")
    build = _rows_builder(deferred)
    at = at.sidebar.button(key="signout").click().run()
    assert titles(at) == ["Insatskollen"]
    with pytest.raises(PermissionError):
        build()
    assert not [e for e in events(env) if e[0] == "rows_download"]


def test_an_idle_session_builds_no_file(env, deferred):
    at = open_page(sign_in(app(year="2024"), "hanna"), "pages/export.py")
    build = _rows_builder(deferred)
    at.session_state[access.SESSION_KEY]["last_seen"] = time.time() - 31 * 60  # the same session, idle
    with pytest.raises(PermissionError):
        build()


def test_oidc_signed_out_sees_the_provider_button_only(no_signin):
    at = oidc_app(no_signin, {"is_logged_in": False})
    assert [b.label for b in at.button] == ["Logga in med Microsoft"]
    assert not at.text_input and not at.metric


# --------------------------------------------------------------------------- no password in clear, anywhere

def test_no_password_is_stored_or_logged_in_clear(env, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    typed_as_name = "adams-lösen-Ö3"  # a password typed into the name field
    at = app()
    at = sign_in(at, typed_as_name, "något")
    at = sign_in(at, "hanna", "fel-" + PASSWORDS["hanna"][1])
    at = sign_in(at, "adam")
    at = open_page(at, "pages/konton.py")
    assert titles(at)[0] == "Konton och logg"
    log_page = at.dataframe[1].value.to_string()
    captured = capfd.readouterr()
    places = {
        "accounts file": (env / "accounts.toml").read_bytes().decode("utf-8"),
        "audit log": b"".join(p.read_bytes() for p in env.glob("audit.sqlite*")).decode("utf-8", "replace"),
        "log page": log_page,
        "logs": caplog.text + captured.out + captured.err,
        "session": repr(at.session_state.to_dict()),
    }
    for name, (_, password) in PASSWORDS.items():
        for where, text in places.items():
            assert password not in text, f"{name}'s password in the {where}"
            assert ("fel-" + password) not in text, where
    assert audit.UNKNOWN_NAME in log_page


def test_the_follow_up_download_is_the_years_workbook(no_signin, deferred, sample_db):
    """Issue 13: /export's Uppföljning Finsam builds, when clicked, the same workbook as `etl report --format
    uppfoljning` for the selected year (a tertial: its calendar year)."""
    import io

    import openpyxl

    from core.database import connect_read
    from render.uppfoljning import followup_workbook

    open_page(app(tertial="2024-2"), "pages/export.py")
    [build] = [b for name, b in deferred.items() if name == "uppfoljning-finsam-2024.xlsx"]

    def cells(data: bytes) -> dict:
        wb = openpyxl.load_workbook(io.BytesIO(data))
        return {ws.title: [r for r in ws.iter_rows(values_only=True) if r[0] not in ("Skapad",)] for ws in wb}

    with connect_read(sample_db) as con:
        expected = cells(followup_workbook(con, 2024))
    got = cells(build())
    assert got == expected
    assert [r[0] for r in got["Strukturövergripande insatser"][1:]] == ["Samverkan Sörmland"]
