"""Sign-in settings in data/auth.toml (or `$FINSAM_AUTH_CONFIG`): the idle time, and who gets which
role when signing in through the organisation's identity provider (OIDC, e.g. Microsoft Entra ID).

    [session]
    idle_minutes = 30                 # a session with no activity for this long is signed out

    [oidc]
    groups_claim = "groups"           # the ID-token claim holding group ids (Entra: "groups", or "roles")
    default_role = ""                 # role for anyone else who signs in ("" = nobody else gets in)
    issuer = ""                       # the only issuer whose tokens get a role ("" = the one secrets.toml's
                                      # server_metadata_url names: that URL less /.well-known/openid-configuration)
    email_claim = "email"             # the claim looked up in [oidc.emails]
    email_verified_claim = "email_verified"  # must be true for the e-mail to count (Entra: "xms_edov")

    [oidc.emails]                     # verified e-mail -> role; wins over groups
    "anna.berg@kommun.se" = "administratör"

    [oidc.groups]                     # group id -> role; the highest role of a person's groups counts
    "6f1c2a9e-0000-4000-8000-000000000001" = "handläggare"

The file is optional (no file: 30 minutes, and no one gets a role through OIDC). A file that
cannot be read is an error, so that a typo never opens the app wider than meant.

Which claims count (issue 22 §3): a role comes only from a token of the configured issuer, and the
e-mail table is asked only with the e-mail claim its provider vouches for (email_verified true).
`preferred_username` and `upn` are names a user or a foreign directory can set to anything, often
someone else's e-mail address, so they are never looked up and cannot be chosen as email_claim.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from core.paths import default_auth_config_path

from .roles import RoleError, parse_role, rank

DEFAULT_IDLE_MINUTES = 30
MAX_IDLE_MINUTES = 24 * 60


class ConfigError(ValueError):
    """Swedish, names the file and the setting."""


UNTRUSTED_CLAIMS = frozenset({"preferred_username", "upn", "unique_name", "name", "nickname", "given_name",
                              "family_name", "sub"})


def issuer_of(server_metadata_url: object) -> str | None:
    """The issuer a provider's discovery address names (OIDC Discovery: issuer + /.well-known/openid-configuration)."""
    suffix = "/.well-known/openid-configuration"
    if isinstance(server_metadata_url, str) and server_metadata_url.endswith(suffix):
        return server_metadata_url[: -len(suffix)]
    return None


def _true(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


@dataclass(frozen=True)
class SignInConfig:
    idle_minutes: int = DEFAULT_IDLE_MINUTES
    groups_claim: str = "groups"
    default_role: str = ""
    emails: dict[str, str] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)
    issuer: str = ""
    email_claim: str = "email"
    email_verified_claim: str = "email_verified"

    def trusted_issuer(self, claims: dict, issuers=()) -> bool:
        """Whether the token comes from the configured issuer (auth.toml's, else one secrets.toml names)."""
        allowed = {self.issuer} if self.issuer else {i for i in issuers if i}
        iss = claims.get("iss")
        return isinstance(iss, str) and iss in allowed

    def verified_email(self, claims: dict) -> str | None:
        """The e-mail claim, in lower case, when the provider says it is verified; else None."""
        value = claims.get(self.email_claim)
        if isinstance(value, str) and value.strip() and _true(claims.get(self.email_verified_claim)):
            return value.strip().lower()
        return None

    def role_for(self, claims: dict, issuers=()) -> str:
        """The role for an identity provider's claims: nothing unless the token is the configured issuer's;
        then the verified e-mail's role if listed, else the highest role of the person's groups, else
        default_role; "" for none."""
        if not self.trusted_issuer(claims, issuers):
            return ""
        email = self.verified_email(claims)
        if email is not None and email in self.emails:
            return self.emails[email]
        found = claims.get(self.groups_claim) or []
        if isinstance(found, str):
            found = [found]
        roles = [self.groups[g] for g in found if isinstance(g, str) and g in self.groups]
        if roles:
            return max(roles, key=rank)
        return self.default_role

    def identity(self, claims: dict) -> str:
        """How a person is named in the log and the sidebar: the verified e-mail; else a user name or an
        unverified e-mail marked as such (it may be anyone's), else the subject."""
        email = self.verified_email(claims)
        if email is not None:
            return email
        for key in (self.email_claim, "preferred_username", "upn"):
            value = claims.get(key)
            if isinstance(value, str) and value.strip():
                return f"{value.strip().lower()} (ej verifierad)"
        value = claims.get("sub")
        return value.strip() if isinstance(value, str) and value.strip() else "?"


def _role(value, where: str) -> str:
    try:
        return parse_role(value)
    except RoleError as e:
        raise ConfigError(f"{where}: {e}") from None


def load(path: Path | None = None) -> SignInConfig:
    path = Path(path or default_auth_config_path())
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return SignInConfig()
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: filen är inte UTF-8") from None
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"line (\d+), column (\d+)", str(e))
        raise ConfigError(f"{path}: {'rad ' + m[1] + ', kolumn ' + m[2] + ': ' if m else ''}inte giltig TOML") from None
    except OSError as e:
        raise ConfigError(f"{path}: kan inte läsas ({e.strerror})") from None

    session = data.get("session", {})
    oidc = data.get("oidc", {})
    if not isinstance(session, dict) or not isinstance(oidc, dict):
        raise ConfigError(f"{path}: [session] och [oidc] ska vara tabeller")
    idle = session.get("idle_minutes", DEFAULT_IDLE_MINUTES)
    if not isinstance(idle, int) or isinstance(idle, bool) or not 1 <= idle <= MAX_IDLE_MINUTES:
        raise ConfigError(f"{path}: [session] idle_minutes ska vara ett heltal 1–{MAX_IDLE_MINUTES}, inte {idle!r}")
    claim = oidc.get("groups_claim", "groups")
    if not isinstance(claim, str) or not claim.strip():
        raise ConfigError(f"{path}: [oidc] groups_claim ska vara ett namn på ett anspråk, t.ex. \"groups\"")
    default = oidc.get("default_role", "")
    default = _role(default, f"{path}: [oidc] default_role") if default not in ("", None) else ""
    maps = {}
    for section in ("emails", "groups"):
        table = oidc.get(section, {})
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [oidc.{section}] ska vara en tabell")
        key = str.lower if section == "emails" else str
        maps[section] = {key(k.strip()): _role(v, f"{path}: [oidc.{section}] {k!r}") for k, v in table.items()}
    names = {}
    for key, default_value in (("issuer", ""), ("email_claim", "email"), ("email_verified_claim", "email_verified")):
        value = oidc.get(key, default_value)
        if not isinstance(value, str) or (key != "issuer" and not value.strip()):
            raise ConfigError(f"{path}: [oidc] {key} ska vara en text")
        names[key] = value.strip()
    if names["email_claim"].lower() in UNTRUSTED_CLAIMS:
        raise ConfigError(f"{path}: [oidc] email_claim = {names['email_claim']!r} kan sättas av användaren eller en "
                          "annan katalog och ger därför ingen roll; använd \"email\" (verifierad) eller roller per grupp")
    return SignInConfig(idle, claim.strip(), default, maps["emails"], maps["groups"], **names)
