"""The download guard: a file is built only if the viewer may still have it when the button is clicked.

Hiding a button is never the protection: every download of more than aggregates is checked again
when it is built, against the settings as they are then, and a download of individual rows is
logged (`guarded`).
"""
from __future__ import annotations

import time
from typing import Callable

import streamlit as st

from auth import accounts as local_accounts
from auth import audit
from auth import config as signin_config
from auth.roles import INDIVIDUAL_ROWS, Viewer

from .visitor import SESSION_KEY, client_address, current, oidc_issuers, oidc_providers, stamp


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
        return (account is not None and stamp(account) == session.get("stamp")
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
