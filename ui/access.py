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

This module is the gate and the API pages use. What it draws instead of a page is ui/signin.py,
the download guard ui/downloads.py, and who is asking (the settings, the request's address and
"this machine", the session's sign-in) ui/visitor.py.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import streamlit as st

from auth import audit
from auth.roles import (ACCOUNTS_LIST, ADMIN, AGGREGATE_PAGES, DATA_ADMIN, PRESENTATION, PROTECTION_OFF,
                        TABLE_DOWNLOADS, Viewer)
from core.paths import ROOT
from metrics.suppress import DEFAULT_THRESHOLD
from render.text import md

from . import signin
from .downloads import guarded
from .visitor import (NOTICE_KEY, SESSION_KEY, VIEWER_KEY, Setup, client_address, current, is_local,
                      is_local_host, is_local_origin, log_event, oidc_providers, setup, stamp)

__all__ = [  # what pages, app.py and the tests use; the rest of the sign-in lives beside it (see above)
    "SESSION_KEY", "VIEWER_KEY", "PAGE_PERMISSIONS", "LOCAL_VIEWER", "Setup", "setup", "oidc_providers",
    "client_address", "is_local", "is_local_host", "is_local_origin", "current", "may", "protection_forced",
    "page_permission", "shown", "gate", "check_page", "require", "through_app", "leave_pages_autodiscovery",
    "guarded", "sidebar",
]

# Addresses that need more than the aggregate pages; every other address is an aggregate page
# (and a slide, in presentation mode). A new page that shows rows must be listed here.
PAGE_PERMISSIONS = {"export": TABLE_DOWNLOADS, "data": DATA_ADMIN, "konton": ACCOUNTS_LIST}
LOCAL_VIEWER = Viewer("lokal användare", ADMIN, "ingen")
IDLE_CHECK_SECONDS = 60


# --------------------------------------------------------------------------- the viewer

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
        if account is None or stamp(account) != session.get("stamp"):
            return None, "gone"
        if expired:
            return None, "expired"
        return Viewer(account.name, account.role, "konto"), "ok"
    return None, "signed_out"


# --------------------------------------------------------------------------- the gate

def gate(pages: list) -> Viewer:
    """Let the viewer in, or draw the sign-in (or refusal) at the address asked for and stop the run."""
    s = setup()
    if s.error:
        _stop(pages, lambda: signin.config_error(s.error))
    if not s.configured:
        st.session_state.pop(SESSION_KEY, None)
        if not is_local():
            _stop(pages, signin.remote_refused)
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
            _stop(pages, lambda: signin.sign_in_page(s, state))
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
        log_event(audit.SIGN_IN, viewer.name, role=viewer.role, detail="via organisationens inloggning (OIDC)")
    if viewer.via == "oidc":  # the claims the role was derived from, to derive it again when a file is built
        session["claims"] = st.user.to_dict()
    session["last_seen"] = now
    st.session_state[SESSION_KEY] = session


def _end_session(event: str | None, notice: str) -> None:
    session = st.session_state.pop(SESSION_KEY, None) or {}
    session["ended"] = True  # a download button drawn before now builds nothing (guarded)
    if event:
        log_event(event, session.get("name", "?"))
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


# --------------------------------------------------------------------------- pages

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
    log_event(audit.ACCESS_REFUSED, v.name if v else "?", role=v.role if v else "", detail=detail)
    st.title("Ingen behörighet")
    role = f"rollen {v.role}" if v else "din inloggning"
    st.error(f"Sidan eller filen du bad om ingår inte i {role}. Be förbundets administratör om en annan roll om "
             "du behöver den.", icon=":material/lock:")
    st.stop()


_RERUNS = "_autodiscovery_reruns"
_IN_APP: ContextVar[bool] = ContextVar("in_app", default=False)  # this run's page runs inside app.py
PAGES_DIR = ROOT / "pages"


@contextmanager
def through_app() -> Iterator[None]:
    """app.py runs the page inside this: a page that finds itself outside it was started without app.py.

    Per run, not per session: on a fresh server a later run of a session that has been through app.py
    can still start a page alone (and AppTest starts each run so), so a mark in session state would not do.
    """
    token = _IN_APP.set(True)
    st.session_state[_RERUNS] = 0  # the reruns below count only those in a row that did not reach app.py
    try:
        yield
    finally:
        _IN_APP.reset(token)


def leave_pages_autodiscovery() -> None:
    """Run app.py after all where a page was started without it.

    On a freshly started server the first requests run in Streamlit's old multipage mode until some
    run calls st.navigation, so a bookmarked /kostnad starts pages/kostnad.py alone, without app.py's
    sign-in gate and filters. Calling st.navigation here switches that mode off for every session (as
    its documentation says), over the same pages/ files, so the URL keeps its page; the rerun then hands
    it to app.py's st.navigation (tested end to end). Every run that has not come through app.py reruns,
    not only the first: several links opened at once on a fresh server all start in the old mode, and
    the first one to switch it off must not leave the others behind. A few reruns at most, so a page run
    on its own (tests) goes on to refuse or stop. Not for a fragment: its rerun does not run app.py.
    """
    if _IN_APP.get():
        return
    tries = st.session_state.get(_RERUNS, 0)
    if tries < 3:
        st.session_state[_RERUNS] = tries + 1
        st.navigation([st.Page(path) for path in sorted(PAGES_DIR.glob("*.py"))], position="hidden")
        st.rerun()


# --------------------------------------------------------------------------- the sidebar

def _sign_out() -> None:
    session = st.session_state.pop(SESSION_KEY, None) or {}
    session["ended"] = True  # a download button drawn before now builds nothing (guarded)
    v = current()
    log_event(audit.SIGN_OUT, session.get("name") or (v.name if v else "?"))
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
        st.caption(f"Inloggad som **{md(viewer.name)}** · {viewer.role}")
        st.button("Logga ut", on_click=_sign_out, key="signout", icon=":material/logout:")
