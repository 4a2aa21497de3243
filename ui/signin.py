"""What the gate (ui/access.py) draws instead of a page: the sign-in form, the refusal of a remote
visitor when no sign-in is configured, and the page saying the sign-in settings cannot be read.

The form checks a local account's password through auth/throttle.py (so a guesser is slowed
across sessions and replicas) and forgets the password as soon as it is checked.
"""
from __future__ import annotations

import logging
import math
import time

import streamlit as st

from auth import accounts as local_accounts
from auth import audit
from auth.throttle import THROTTLE
from render.text import md

from .visitor import NOTICE_KEY, SESSION_KEY, Setup, client_address, log_event, stamp

_LOG = logging.getLogger(__name__)

NO_ROLE_LOGGED = "_auth_no_role_logged"


def _notice() -> None:
    notice = st.session_state.pop(NOTICE_KEY, None)
    if notice:
        kind, text = notice
        (st.error if kind == "error" else st.info)(text)


def _provider_label(provider: str | None) -> str:
    if provider is None:
        return "Logga in med organisationens konto"
    return f"Logga in med {provider.capitalize() if provider.lower() != 'microsoft' else 'Microsoft'}"


def sign_in_page(s: Setup, state: str) -> None:
    """The organisation's sign-in buttons and the local account form; or, for an OIDC user without a
    role, why there is nothing to see."""
    st.title("Insatskollen")
    if state == "no_role":
        user = st.user.to_dict()
        name = s.config.identity(user)
        if not st.session_state.get(NO_ROLE_LOGGED):
            st.session_state[NO_ROLE_LOGGED] = True
            log_event(audit.SIGN_IN_NO_ROLE, name)
        st.warning(f"Du är inloggad som {md(name)}, men ditt konto har ingen roll i Insatskollen. Be förbundets "
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
        log_event(audit.SIGN_IN_THROTTLED, actor)
        seconds = math.ceil(wait)
        st.session_state[NOTICE_KEY] = ("error", f"För många misslyckade försök. Vänta {seconds} "
                                                 f"{'sekund' if seconds == 1 else 'sekunder'} och försök igen.")
        return
    if account is None:
        log_event(audit.SIGN_IN_FAILED, actor)
        st.session_state[NOTICE_KEY] = ("error", "Fel användarnamn eller lösenord.")
        return
    now = time.time()
    st.session_state[SESSION_KEY] = {"name": account.name, "via": "konto", "stamp": stamp(account),
                                     "signed_in": now, "last_seen": now}
    st.session_state["signin_name"] = ""
    log_event(audit.SIGN_IN, account.name, role=account.role, detail="lokalt konto")


def remote_refused() -> None:
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


def config_error(message: str) -> None:
    st.title("Inloggningen är felinställd")
    st.error("Inställningarna för inloggning kan inte läsas, så ingen släpps in förrän de är rättade:\n\n"
             f"{md(message)}")
