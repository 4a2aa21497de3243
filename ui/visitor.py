"""Who is asking: the sign-in that is configured, where the request comes from, this session's sign-in.

What the gate (ui/access.py), the sign-in form (ui/signin.py) and the download guard
(ui/downloads.py) all read, kept apart from them so none imports another.

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
import re
from dataclasses import dataclass, field

import streamlit as st

from auth import accounts as local_accounts
from auth import audit
from auth import config as signin_config
from auth.roles import Viewer

_LOG = logging.getLogger(__name__)

SESSION_KEY = "_auth"      # this session's sign-in: name, via, account stamp, last activity
VIEWER_KEY = "_viewer"     # the Viewer this run's gate() let in (None while signed out)
NOTICE_KEY = "_auth_notice"
FORWARD_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-Ip", "X-Forwarded-Host")


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


# --------------------------------------------------------------------------- this session's viewer

def current() -> Viewer | None:
    """The viewer this run's gate() let in; None before the gate or while signed out."""
    v = st.session_state.get(VIEWER_KEY)
    return v if isinstance(v, Viewer) else None


def stamp(account: local_accounts.Account) -> str:
    """Changes with the account's password or role: a session signed in before either change ends."""
    return hashlib.sha256(f"{account.role}\n{account.password_hash}".encode()).hexdigest()[:16]


def log_event(event: str, actor: str, *, role: str = "", detail: str = "") -> None:
    """Log an event; a log that cannot be written is reported on the server, and the app goes on."""
    try:
        audit.record(event, actor, role=role, detail=detail, client=client_address() or "lokal")
    except audit.AuditError as e:
        _LOG.warning("%s", e)
