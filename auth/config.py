"""Sign-in settings in data/auth.toml (or `$FINSAM_AUTH_CONFIG`): the idle time, and who gets which
role when signing in through the organisation's identity provider (OIDC, e.g. Microsoft Entra ID).

    [session]
    idle_minutes = 30                 # a session with no activity for this long is signed out

    [oidc]
    groups_claim = "groups"           # the ID-token claim holding group ids (Entra: "groups", or "roles")
    default_role = ""                 # role for anyone else who signs in ("" = nobody else gets in)

    [oidc.emails]                     # e-mail (or Entra user name) -> role; wins over groups
    "anna.berg@kommun.se" = "administratör"

    [oidc.groups]                     # group id -> role; the highest role of a person's groups counts
    "6f1c2a9e-0000-4000-8000-000000000001" = "handläggare"

The file is optional (no file: 30 minutes, and no one gets a role through OIDC). A file that
cannot be read is an error, so that a typo never opens the app wider than meant.
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


@dataclass(frozen=True)
class SignInConfig:
    idle_minutes: int = DEFAULT_IDLE_MINUTES
    groups_claim: str = "groups"
    default_role: str = ""
    emails: dict[str, str] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)

    def role_for(self, claims: dict) -> str:
        """The role for an identity provider's claims: the e-mail's role if listed, else the highest
        role of the person's groups, else default_role; "" for none."""
        for key in ("email", "preferred_username", "upn"):
            value = claims.get(key)
            if isinstance(value, str) and value.strip().lower() in self.emails:
                return self.emails[value.strip().lower()]
        found = claims.get(self.groups_claim) or []
        if isinstance(found, str):
            found = [found]
        roles = [self.groups[g] for g in found if isinstance(g, str) and g in self.groups]
        if roles:
            return max(roles, key=rank)
        return self.default_role

    @staticmethod
    def identity(claims: dict) -> str:
        """How a person is named in the log and the sidebar: e-mail, else user name, else subject."""
        for key in ("email", "preferred_username", "upn", "sub"):
            value = claims.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip().lower() if key != "sub" else value.strip()
        return "?"


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
    return SignInConfig(idle, claim.strip(), default, maps["emails"], maps["groups"])
