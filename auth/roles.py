"""The three roles and what each may do: the one place where a role's permissions are declared.

A role is a set of permissions; the app asks for a permission, never for a role name, so a page
or a download states what it needs and this table decides who has it. Each role has everything
the role below it has:

    läsare         the aggregate pages, presentation mode, the board pack; small counts always protected
    handläggare    also: protection off, the individual rows on /export, the table downloads
    administratör  also: /data (upload, undo, mapping, data quality), the accounts list, the audit log
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

# permissions
AGGREGATE_PAGES = "aggregate pages"
PRESENTATION = "presentation"
BOARD_PACK = "board pack"
PROTECTION_OFF = "protection off"
INDIVIDUAL_ROWS = "individual rows"
TABLE_DOWNLOADS = "table downloads"
DATA_ADMIN = "data admin"
ACCOUNTS_LIST = "accounts list"
AUDIT_LOG = "audit log"

READER, STAFF, ADMIN = "läsare", "handläggare", "administratör"

_READER = frozenset({AGGREGATE_PAGES, PRESENTATION, BOARD_PACK})
_STAFF = _READER | {PROTECTION_OFF, INDIVIDUAL_ROWS, TABLE_DOWNLOADS}
_ADMIN = _STAFF | {DATA_ADMIN, ACCOUNTS_LIST, AUDIT_LOG}

PERMISSIONS: dict[str, frozenset[str]] = {READER: _READER, STAFF: frozenset(_STAFF), ADMIN: frozenset(_ADMIN)}
ROLES = tuple(PERMISSIONS)  # lowest first
ALL_PERMISSIONS = frozenset(_ADMIN)

# what a person may type for a role: the Swedish name, the English one, and the Swedish without å/ä/ö
_ALIASES = {
    READER: (READER, "reader", "lasare"),
    STAFF: (STAFF, "staff", "handlaggare"),
    ADMIN: (ADMIN, "admin", "administrator"),
}
_BY_ALIAS = {alias: role for role, aliases in _ALIASES.items() for alias in aliases}


class RoleError(ValueError):
    """An unknown role name; the message is Swedish and names the accepted ones."""


def parse_role(text: object) -> str:
    """The Swedish role name for `läsare|handläggare|administratör` or `reader|staff|admin` (any case)."""
    key = unicodedata.normalize("NFC", str(text)).strip().lower() if text is not None else ""
    if key in _BY_ALIAS:
        return _BY_ALIAS[key]
    raise RoleError(f"okänd roll {str(text)!r}: välj läsare, handläggare eller administratör "
                    "(eller reader, staff, admin)")


def permissions(role: str) -> frozenset[str]:
    return PERMISSIONS.get(role, frozenset())


def rank(role: str) -> int:
    """0 for läsare … 2 for administratör; -1 for no role."""
    return ROLES.index(role) if role in PERMISSIONS else -1


@dataclass(frozen=True)
class Viewer:
    """Who is looking: a signed-in person, or the local user when no sign-in is configured.

    `via` is "konto" (a local account), "oidc" (the organisation's identity provider) or
    "ingen" (no sign-in configured: the local machine only).
    """

    name: str
    role: str
    via: str

    @property
    def permissions(self) -> frozenset[str]:
        return permissions(self.role)

    def may(self, permission: str) -> bool:
        return permission in self.permissions
