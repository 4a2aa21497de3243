"""Konton och logg (administrators): who may sign in with which role, and the audit log."""
import datetime as dt
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from auth import accounts as local_accounts
from auth import audit
from auth.roles import ACCOUNTS_LIST, AUDIT_LOG
from ui import access
from ui.layout import dataframe

STOCKHOLM = ZoneInfo("Europe/Stockholm")

viewer = access.require(ACCOUNTS_LIST)
st.title("Konton och logg")
st.caption("Vem som kan logga in och med vilken roll, och vad som har hänt: inloggningar, nedladdningar av "
           "deltagarrader, inläsningar och ändringar.")


def local_time(stamp: str) -> str:
    try:
        t = dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    except (TypeError, ValueError):
        return stamp or "–"
    return t.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M:%S")


st.subheader("Lokala konton")
try:
    found = local_accounts.load()
except local_accounts.AccountError as e:  # the gate lets nobody in then, but say it plainly if it changed just now
    st.error(str(e))
    found = {}
if found:
    dataframe(pd.DataFrame([(a.name, a.role, local_time(a.created), local_time(a.changed)) for a in found.values()],
                           columns=["Användarnamn", "Roll", "Skapat", "Ändrat"]), hide_index=True, width="stretch")
else:
    st.caption("Inga lokala konton.")
st.caption("Konton skapas, byter roll eller lösenord och tas bort på servern: `python -m auth add NAMN --role "
           "läsare|handläggare|administratör`, `python -m auth remove NAMN`, `python -m auth list`.")

providers = access.oidc_providers()
if providers:
    st.subheader("Organisationens inloggning (OIDC)")
    cfg = access.setup().config
    rules = [("e-post", k, v) for k, v in cfg.emails.items()] + [("grupp", k, v) for k, v in cfg.groups.items()]
    if cfg.default_role:
        rules.append(("alla andra", "", cfg.default_role))
    if rules:
        dataframe(pd.DataFrame(rules, columns=["Gäller", "Värde", "Roll"]), hide_index=True, width="stretch")
    else:
        st.warning("Ingen e-post eller grupp har fått en roll i auth.toml: ingen kommer in via organisationens "
                   "inloggning.")

if viewer.may(AUDIT_LOG):
    st.subheader("Logg")
    try:
        events = audit.recent(2000)
    except audit.AuditError as e:
        st.error(str(e))
        events = []
    if not events:
        st.caption("Inget loggat ännu.")
    else:
        log = pd.DataFrame({
            "Tid": [local_time(e["at"]) for e in events],
            "Vem": [e["actor"] for e in events],
            "Roll": [e["role"] for e in events],
            "Händelse": [audit.EVENTS.get(e["event"], e["event"]) for e in events],
            "Detaljer": [e["detail"] for e in events],
            "Adress": [e["client"] for e in events],
        })
        kinds = st.multiselect("Händelser", sorted(set(log["Händelse"])), placeholder="Alla händelser",
                               key="audit_kinds")
        if kinds:
            log = log[log["Händelse"].isin(kinds)]
        dataframe(log, hide_index=True, width="stretch")
        st.caption(f"De senaste {len(events)} händelserna, nyaste först. Tider i svensk tid.")
