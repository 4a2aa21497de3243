"""Who may see what, decided on the server: sign-in, the role's pages and downloads, the local-only rule.

app.py calls `gate()` before anything shows data. Three cases:

- **No sign-in configured** (no local accounts, no OIDC in secrets.toml): only this machine is
  served, as the local user with every permission, under a banner that says so. A request from
  anywhere else gets a page saying how to create an account, and nothing more.
- **Sign-in configured**: everyone signs in first, through the organisation's identity provider
  (`st.login`, roles from data/auth.toml) or a local account (the form: Användarnamn, Lösenord,
  Logga in). The sign-in is drawn at the address asked for, so after it that page opens with
  its query string as it was. A session idle longer than the configured time is signed out.
- **A setting that cannot be read** (accounts file, auth.toml): nobody gets in; the page says why.

Every page is checked against its permission before it runs (`check_page`, and `require` in the
pages that hold more than aggregates), and every download of individual rows is checked again
when it is built, and logged (`guarded`). Hiding a button is never the protection.

"This machine": Streamlit's `st.context.ip_address` is None for 127.0.0.1 and ::1 (and when there
is no client at all, as under AppTest); other loopback forms (127.0.0.2, ::ffff:127.0.0.1) are
checked with `ipaddress`. Uvicorn, under Streamlit, puts a proxy's X-Forwarded-For in place of
the address when the proxy connects from 127.0.0.1, and any request carrying forwarding headers
counts as remote, so a reverse proxy on the same machine cannot make the world look local.
The address alone is not enough (issue 22): a web page the server's own user opens can point its
own name at 127.0.0.1 (DNS rebinding) and talk to the app from this machine. Such a request names
the attacker's host in Host and Origin, so the open mode also needs both to be exactly localhost,
127.0.0.1 or [::1] (`is_local_host`, `is_local_origin`).
"""
from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import re
import time
from dataclasses import dataclass, field
from typing import Callable

import streamlit as st

from auth import accounts as local_accounts
from auth import audit
from auth import config as signin_config
from auth.roles import (ACCOUNTS_LIST, ADMIN, AGGREGATE_PAGES, DATA_ADMIN, INDIVIDUAL_ROWS, PRESENTATION,
                        PROTECTION_OFF, TABLE_DOWNLOADS, Viewer)
from auth.throttle import THROTTLE
from metrics.suppress import DEFAULT_THRESHOLD

_LOG = logging.getLogger(__name__)

SESSION_KEY = "_auth"      # this session's sign-in: name, via, account stamp, last activity
VIEWER_KEY = "_viewer"     # the Viewer this run's gate() let in (None while signed out)
NOTICE_KEY = "_auth_notice"
NO_ROLE_LOGGED = "_auth_no_role_logged"

# Addresses that need more than the aggregate pages; every other address is an aggregate page
# (and a slide, in presentation mode). A new page that shows rows must be listed here.
PAGE_PERMISSIONS = {"export": TABLE_DOWNLOADS, "data": DATA_ADMIN, "konton": ACCOUNTS_LIST}
LOCAL_VIEWER = Viewer("lokal användare", ADMIN, "ingen")
FORWARD_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-Ip", "X-Forwarded-Host")
IDLE_CHECK_SECONDS = 60


# --------------------------------------------------------------------------- what is configured

@dataclass
class Setup:
    accounts: dict = field(default_factory=dict)
    config: signin_config.SignInConfig = field(default_factory=signin_config.SignInConfig)
    providers: list = field(default_factory=list)  # OIDC providers: None for [auth] itself, else names
    error: str | None = None
    issuers: frozenset = frozenset()  # the issuers the providers' server_metadata_url name


    @property
    def configured(self) -> bool:
        return bool(self.accounts) or bool(self.providers)


def oidc_providers() -> list[str | None]:
    """The identity providers in .streamlit/secrets.toml's [auth]: None for a provider given in
    [auth] itself, a name for each [auth.NAME] with a client_id."""
    try:
        section = st.secrets["auth"]
    except (KeyError, FileNotFoundError):  # no [auth], or no secrets.toml at all
        return []
    if not hasattr(section, "items"):
        return []
    found: list[str | None] = [None] if section.get("client_id") else []
    found += [name for name, value in section.items() if hasattr(value, "get") and value.get("client_id")]
    return found


def oidc_issuers() -> frozenset[str]:
    """The issuers named by the server_metadata_url of [auth] and each [auth.NAME] in secrets.toml: a token
    from any other issuer gets no role (unless auth.toml's [oidc] issuer names the one to trust)."""
    try:
        section = st.secrets["auth"]
    except (KeyError, FileNotFoundError):
        return frozenset()
    if not hasattr(section, "items"):
        return frozenset()
    found = {signin_config.issuer_of(section.get("server_metadata_url"))}
    found |= {signin_config.issuer_of(v.get("server_metadata_url")) for _k, v in section.items() if hasattr(v, "get")}
    return frozenset(i for i in found if i)


def setup() -> Setup:
    try:
        return Setup(local_accounts.load(), signin_config.load(), oidc_providers(), issuers=oidc_issuers())
    except (local_accounts.AccountError, signin_config.ConfigError) as e:
        return Setup(error=str(e))


# --------------------------------------------------------------------------- where the request comes from

def client_address() -> str | None:
    """The client's address as Streamlit sees it; None for this machine or when there is no client."""
    ip = st.context.ip_address
    return ip if isinstance(ip, str) and ip else None


def _forwarded() -> bool:
    try:
        headers = st.context.headers
        return any(isinstance(v := headers.get(h), str) and v for h in FORWARD_HEADERS)
    except Exception:  # no client (AppTest): nothing was forwarded
        return False


def is_local_address(ip: str | None) -> bool:
    """True for no address (Streamlit's None: 127.0.0.1, ::1, or no client) and any loopback address."""
    if ip is None:
        return True
    try:
        addr = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    return addr.is_loopback


_LOCAL_NAME = r"(?:localhost|127\.0\.0\.1|\[::1\])(?::(?P<port>[0-9]{1,5}))?"
_LOCAL_HOST = re.compile(_LOCAL_NAME, re.IGNORECASE)
_LOCAL_ORIGIN = re.compile(r"https?://" + _LOCAL_NAME, re.IGNORECASE)


def _local_name(pattern: re.Pattern, value: object) -> bool:
    m = pattern.fullmatch(value) if isinstance(value, str) else None
    return m is not None and (m["port"] is None or 0 < int(m["port"]) <= 65535)


def is_local_host(host: object) -> bool:
    """A Host header that names this machine and nothing else: localhost, 127.0.0.1 or [::1], any port.
    Exact: no subdomain (localhost.evil.com), no name that merely contains one (127.0.0.1.nip.io), no
    trailing dot; letter case is ignored, since host names have none."""
    return _local_name(_LOCAL_HOST, host)


def is_local_origin(origin: object) -> bool:
    """An Origin header of a page served from this machine by one of the names is_local_host accepts."""
    return _local_name(_LOCAL_ORIGIN, origin)


def _local_names() -> bool:
    """Whether the request's Host (and Origin, when sent) name this machine. A request without any
    headers has no client at all (AppTest, a script run on the server): nothing was named."""
    try:
        headers = st.context.headers
        if not len(headers):
            return True
        hosts, origins = headers.get_all("Host"), headers.get_all("Origin")
    except Exception:  # no client: nothing was named
        return True
    return len(hosts) == 1 and is_local_host(hosts[0]) and all(is_local_origin(o) for o in origins)


def is_local() -> bool:
    """This machine, asked for by its own name: the open mode's only visitor."""
    return not _forwarded() and is_local_address(client_address()) and _local_names()


# --------------------------------------------------------------------------- the viewer

def current() -> Viewer | None:
    """The viewer this run's gate() let in; None before the gate or while signed out."""
    v = st.session_state.get(VIEWER_KEY)
    return v if isinstance(v, Viewer) else None


def may(permission: str) -> bool:
    """Whether this run's viewer has the permission (False when nobody is let in: fail closed)."""
    v = current()
    return v is not None and v.may(permission)


def protection_forced() -> bool:
    """Small-count protection cannot be switched off (läsare, or nobody let in)."""
    return not may(PROTECTION_OFF)


def page_permission(url_path: str) -> str:
    if st.session_state.get("_present"):
        return PRESENTATION
    return PAGE_PERMISSIONS.get(url_path.strip("/"), AGGREGATE_PAGES)


def shown(url_path: str) -> str:
    """`visibility=` for st.Page: whether the page belongs in the viewer's menu (the check is check_page)."""
    s = setup()
    v = LOCAL_VIEWER if not s.error and not s.configured else _resolve(s)[0]
    return "visible" if v is not None and v.may(PAGE_PERMISSIONS.get(url_path, AGGREGATE_PAGES)) else "hidden"


def _resolve(s: Setup) -> tuple[Viewer | None, str]:
    """(viewer, state) from this session's sign-in, without side effects; state is one of
    ok, signed_out, expired, gone (account removed or changed), no_role (OIDC without a role)."""
    session = st.session_state.get(SESSION_KEY)
    session = session if isinstance(session, dict) else None
    idle = s.config.idle_minutes * 60
    expired = session is not None and time.time() - float(session.get("last_seen", 0)) > idle
    if s.providers:
        user = st.user.to_dict()
        if user.get("is_logged_in") is True:
            name = s.config.identity(user)
            if session and session.get("via") == "oidc" and session.get("name") == name and expired:
                return None, "expired"
            role = s.config.role_for(user, s.issuers)
            return (Viewer(name, role, "oidc"), "ok") if role else (None, "no_role")
    if session and session.get("via") == "konto":
        account = s.accounts.get(session.get("name"))
        if account is None or _stamp(account) != session.get("stamp"):
            return None, "gone"
        if expired:
            return None, "expired"
        return Viewer(account.name, account.role, "konto"), "ok"
    return None, "signed_out"


def _stamp(account: local_accounts.Account) -> str:
    """Changes with the account's password or role: a session signed in before either change ends."""
    return hashlib.sha256(f"{account.role}\n{account.password_hash}".encode()).hexdigest()[:16]


# --------------------------------------------------------------------------- the gate

def gate(pages: list) -> Viewer:
    """Let the viewer in, or draw the sign-in (or refusal) at the address asked for and stop the run."""
    s = setup()
    if s.error:
        _stop(pages, lambda: _config_error(s.error))
    if not s.configured:
        st.session_state.pop(SESSION_KEY, None)
        if not is_local():
            _stop(pages, _remote_refused)
        viewer = LOCAL_VIEWER
    else:
        viewer, state = _resolve(s)
        if state == "expired":
            n = s.config.idle_minutes
            _end_session(audit.SESSION_EXPIRED, f"Du loggades ut efter {n} {'minut' if n == 1 else 'minuter'} utan "
                                                "aktivitet. Logga in igen.")
        elif state == "gone":
            _end_session(None, "Kontot har ändrats eller tagits bort. Logga in igen.")
        if viewer is None:
            _stop(pages, lambda: _sign_in_page(s, state))
        _touch(viewer)
        _idle_watch(s.config.idle_minutes * 60)
    st.session_state[VIEWER_KEY] = viewer
    if not viewer.may(PROTECTION_OFF):  # läsare: protection on, at least the standard threshold
        st.session_state["suppress"] = True
        if int(st.session_state.get("suppress_threshold", DEFAULT_THRESHOLD)) < DEFAULT_THRESHOLD:
            st.session_state["suppress_threshold"] = DEFAULT_THRESHOLD
    return viewer


def _stop(pages: list, draw: Callable[[], None]) -> None:
    """Keep the address (path and query) as asked for, draw instead of the page, and stop."""
    st.session_state[VIEWER_KEY] = None
    st.navigation(pages, position="hidden")
    draw()
    st.stop()


def _touch(viewer: Viewer) -> None:
    session = st.session_state.get(SESSION_KEY)
    now = time.time()
    if viewer.via == "oidc" and not (isinstance(session, dict) and session.get("name") == viewer.name):
        session = {"name": viewer.name, "via": "oidc", "signed_in": now}
        _audit(audit.SIGN_IN, viewer.name, role=viewer.role, detail="via organisationens inloggning (OIDC)")
    if viewer.via == "oidc":  # the claims the role was derived from, to derive it again when a file is built
        session["claims"] = st.user.to_dict()
    session["last_seen"] = now
    st.session_state[SESSION_KEY] = session


def _end_session(event: str | None, notice: str) -> None:
    session = st.session_state.pop(SESSION_KEY, None) or {}
    session["ended"] = True  # a download button drawn before now builds nothing (guarded)
    if event:
        _audit(event, session.get("name", "?"))
    st.session_state[NOTICE_KEY] = ("info", notice)
    if session.get("via") == "oidc":
        st.logout()


@st.fragment(run_every=IDLE_CHECK_SECONDS)
def _idle_fragment(limit_seconds: float) -> None:
    """Rerun the app once the session has been idle too long, so the data leaves an unattended screen."""
    session = st.session_state.get(SESSION_KEY)
    if isinstance(session, dict) and time.time() - float(session.get("last_seen", 0)) > limit_seconds:
        st.rerun(scope="app")


def _idle_watch(limit_seconds: float) -> None:
    with st.sidebar:
        _idle_fragment(limit_seconds)


def _audit(event: str, actor: str, *, role: str = "", detail: str = "") -> None:
    """Log an event; a log that cannot be written is reported on the server, and the app goes on."""
    try:
        audit.record(event, actor, role=role, detail=detail, client=client_address() or "lokal")
    except audit.AuditError as e:
        _LOG.warning("%s", e)


# --------------------------------------------------------------------------- pages drawn by the gate

def _md(text: str) -> str:
    """Text safe inside Markdown: every character Markdown or Streamlit's directives could read is escaped."""
    return "".join("\\" + ch if ch in "\\`*_{}[]()<>#+-.!|~:$" else ch for ch in str(text))


def _notice() -> None:
    notice = st.session_state.pop(NOTICE_KEY, None)
    if notice:
        kind, text = notice
        (st.error if kind == "error" else st.info)(text)


def _provider_label(provider: str | None) -> str:
    if provider is None:
        return "Logga in med organisationens konto"
    return f"Logga in med {provider.capitalize() if provider.lower() != 'microsoft' else 'Microsoft'}"


def _sign_in_page(s: Setup, state: str) -> None:
    st.title("Insatskollen")
    if state == "no_role":
        user = st.user.to_dict()
        name = s.config.identity(user)
        if not st.session_state.get(NO_ROLE_LOGGED):
            st.session_state[NO_ROLE_LOGGED] = True
            _audit(audit.SIGN_IN_NO_ROLE, name)
        st.warning(f"Du är inloggad som {_md(name)}, men ditt konto har ingen roll i Insatskollen. Be förbundets "
                   "administratör att ge dig en (läsare, handläggare eller administratör).")
        st.button("Logga ut", on_click=st.logout, key="signout_no_role")
        return
    st.caption("Förbundets uppföljning av insatser. Logga in för att fortsätta.")
    _notice()
    for provider in s.providers:
        if st.button(_provider_label(provider), key=f"oidc_{provider or 'default'}", type="primary"):
            if provider:
                st.login(provider)
            else:
                st.login()
    if s.providers and s.accounts:
        st.caption("… eller med ett lokalt konto:")
    if s.accounts:
        with st.form("signin", enter_to_submit=True):
            st.text_input("Användarnamn", key="signin_name", autocomplete="username", max_chars=64)
            st.text_input("Lösenord", key="signin_password", type="password", autocomplete="current-password",
                          max_chars=1024)
            st.form_submit_button("Logga in", type="primary", on_click=_attempt_sign_in)


def _attempt_sign_in() -> None:
    """The form's callback: check the password (unless the name or address must wait), then forget it."""
    name = str(st.session_state.get("signin_name") or "")
    password = str(st.session_state.get("signin_password") or "")
    st.session_state["signin_password"] = ""
    address = client_address()
    try:
        known = local_accounts.normalise_name(name)
        known = known if known in local_accounts.load() else None
    except local_accounts.AccountError:
        known = None
    actor = known or audit.UNKNOWN_NAME  # an unknown name may be a password typed in the wrong field
    try:  # look, count and check as one step, shared by every session and replica (auth/throttle.py)
        wait, account = THROTTLE.attempt(name, address, lambda: local_accounts.authenticate(name, password))
    except local_accounts.AccountError as e:
        st.session_state[NOTICE_KEY] = ("error", str(e))
        return
    except audit.AuditError as e:  # no record of tries, no check: the guesser must not gain from a broken file
        _LOG.warning("%s", e)
        st.session_state[NOTICE_KEY] = ("error", "Inloggningen kan inte kontrolleras just nu, eftersom "
                                                 "granskningsloggen inte kan skrivas. Försök igen om en stund eller "
                                                 "kontakta förbundets administratör.")
        return
    finally:
        password = ""  # forget it: the check above was its only use
    if wait > 0:
        _audit(audit.SIGN_IN_THROTTLED, actor)
        seconds = math.ceil(wait)
        st.session_state[NOTICE_KEY] = ("error", f"För många misslyckade försök. Vänta {seconds} "
                                                 f"{'sekund' if seconds == 1 else 'sekunder'} och försök igen.")
        return
    if account is None:
        _audit(audit.SIGN_IN_FAILED, actor)
        st.session_state[NOTICE_KEY] = ("error", "Fel användarnamn eller lösenord.")
        return
    now = time.time()
    st.session_state[SESSION_KEY] = {"name": account.name, "via": "konto", "stamp": _stamp(account),
                                     "signed_in": now, "last_seen": now}
    st.session_state["signin_name"] = ""
    _audit(audit.SIGN_IN, account.name, role=account.role, detail="lokalt konto")


def _remote_refused() -> None:
    st.title("Insatskollen visas bara på serverns egen dator")
    st.markdown(
        "Ingen inloggning är inställd ännu, så Insatskollen visas bara i en webbläsare på datorn där den "
        "körs, på adressen localhost eller 127.0.0.1 – inte för andra datorer i nätverket och inte under något "
        "annat namn.\n\n"
        "**Så öppnar du den för fler:** den som sköter servern skapar ett konto per person, till exempel\n\n"
        "```\npython -m auth add anna --role administratör\n```\n\n"
        "(rollerna är läsare, handläggare och administratör), eller ställer in inloggning med organisationens "
        "Microsoft Entra ID. Hur det går till står i README, avsnittet *Running it at an association*. "
        "Därefter loggar du in här med ditt konto.")


def _config_error(message: str) -> None:
    st.title("Inloggningen är felinställd")
    st.error("Inställningarna för inloggning kan inte läsas, så ingen släpps in förrän de är rättade:\n\n"
             f"{_md(message)}")


# --------------------------------------------------------------------------- pages and downloads

def check_page(page) -> None:
    """Refuse the page unless this run's viewer has its permission (app.py, before page.run())."""
    path = page.url_path or ""
    if not may(page_permission(path)):
        _refuse(f"/{path}")


def require(permission: str) -> Viewer:
    """At the top of a page that holds more than aggregates: refuse unless the viewer may."""
    leave_pages_autodiscovery()
    if not may(permission):
        _refuse(f"behörighet {permission!r}")
    return current()


def _refuse(detail: str) -> None:
    v = current()
    _audit(audit.ACCESS_REFUSED, v.name if v else "?", role=v.role if v else "", detail=detail)
    st.title("Ingen behörighet")
    role = f"rollen {v.role}" if v else "din inloggning"
    st.error(f"Sidan eller filen du bad om ingår inte i {role}. Be förbundets administratör om en annan roll om "
             "du behöver den.", icon=":material/lock:")
    st.stop()


_VIA_APP = "_via_app"
_RERUNS = "_autodiscovery_reruns"


def through_app() -> None:
    """app.py marks the session: its pages run through its navigation, sign-in gate and filters."""
    st.session_state[_VIA_APP] = True
    st.session_state[_RERUNS] = 0  # the reruns below count only those in a row that did not reach app.py


def leave_pages_autodiscovery() -> None:
    """Run app.py after all where a page was started without it.

    On a freshly started server the first requests run in Streamlit's old multipage mode until some
    run calls st.navigation, so a bookmarked /kostnad starts pages/kostnad.py alone, without app.py's
    sign-in gate and filters. Switching that mode off and rerunning hands the same URL to app.py's
    st.navigation (private API, checked on Streamlit 1.67; tested end to end). Every session that
    has not been through app.py reruns, not only the first: several links opened at once on a fresh
    server all start in the old mode, and the first one to switch it off must not leave the others
    behind. A few reruns at most, so a page run on its own (tests) goes on to refuse or stop.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if st.session_state.get(_VIA_APP) and not PagesManager.uses_pages_directory:
        return
    PagesManager.uses_pages_directory = False
    tries = st.session_state.get(_RERUNS, 0)
    if tries < 3:
        st.session_state[_RERUNS] = tries + 1
        st.rerun()


def _still_allowed(viewer: Viewer, permission: str, session: dict | None = None,
                   issuers: frozenset = frozenset()) -> bool:
    """Checked again when a download is built (issue 22 §4): the viewer's role is derived again from the
    settings as they are now. A local account must still exist with the same password and a role that
    may; an OIDC viewer's role is derived again from the claims the session signed in with and auth.toml
    as it is now (`issuers`: the providers' issuers, taken with the session, since secrets.toml changes
    only with a restart); a session signed out, ended or idle too long since the page was drawn gets nothing."""
    if not viewer.may(permission):
        return False
    try:
        found, config = local_accounts.load(), signin_config.load()
    except (local_accounts.AccountError, signin_config.ConfigError):
        return False
    if viewer.via == "ingen":  # sign-in configured since the page was drawn: sign in first
        return not found and not oidc_providers()
    if not isinstance(session, dict) or session.get("ended") or session.get("name") != viewer.name:
        return False
    if time.time() - float(session.get("last_seen", 0)) > config.idle_minutes * 60:
        return False
    if viewer.via == "konto":
        account = found.get(viewer.name)
        return (account is not None and _stamp(account) == session.get("stamp")
                and permission in Viewer(account.name, account.role, "konto").permissions)
    if viewer.via == "oidc":
        claims = session.get("claims")
        if not isinstance(claims, dict) or config.identity(claims) != viewer.name:
            return False
        return permission in Viewer(viewer.name, config.role_for(claims, issuers), "oidc").permissions
    return False


def guarded(build: Callable[[], bytes], permission: str, detail: str) -> Callable[[], bytes]:
    """A download's builder that checks the permission again when clicked and logs individual rows.

    Streamlit runs a deferred download outside the session (no session state), so who asked, and the
    session's sign-in (the dict itself: signing out marks it ended), are taken now. Without the
    permission, or when the log cannot be written, no file is made.
    """
    viewer, client = current(), client_address() or "lokal"
    session = st.session_state.get(SESSION_KEY)
    issuers = oidc_issuers() if viewer is not None and viewer.via == "oidc" else frozenset()

    def run() -> bytes:
        if viewer is None or not _still_allowed(viewer, permission, session, issuers):
            raise PermissionError("ingen behörighet för den här filen")
        data = build()
        if permission == INDIVIDUAL_ROWS:
            audit.record(audit.ROWS_DOWNLOAD, viewer.name, role=viewer.role, detail=detail, client=client)
        return data

    return run


# --------------------------------------------------------------------------- the sidebar

def _sign_out() -> None:
    session = st.session_state.pop(SESSION_KEY, None) or {}
    session["ended"] = True  # a download button drawn before now builds nothing (guarded)
    v = current()
    _audit(audit.SIGN_OUT, session.get("name") or (v.name if v else "?"))
    st.session_state[NOTICE_KEY] = ("info", "Du är utloggad.")
    if session.get("via") == "oidc":
        st.logout()


def sidebar(viewer: Viewer) -> None:
    """Who is signed in and the way out; or, with no sign-in configured, a banner that says so."""
    with st.sidebar:
        if viewer.via == "ingen":
            st.warning("Ingen inloggning är inställd: Insatskollen visas bara på den här datorn och allt är "
                       "öppet. Skapa konton med `python -m auth add` innan andra ska nå den (se README).",
                       icon=":material/lock_open:")
            return
        st.caption(f"Inloggad som **{_md(viewer.name)}** · {viewer.role}")
        st.button("Logga ut", on_click=_sign_out, key="signout", icon=":material/logout:")
