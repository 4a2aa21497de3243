"""Local accounts in data/accounts.toml (or `$FINSAM_ACCOUNTS`), for a server without an identity provider.

The file holds, per account, its role and a salted scrypt hash (auth/passwords.py), never a
password. Only `python -m auth` writes it: under a lock, to a private temporary file (mode
0600) that is fsynced and `os.replace`d over the old one, so the app, which reads it on every
rerun, sees either the old file or the new one, never half of one. A file that cannot be read
is an error, not "no accounts": the app then refuses everyone rather than open up.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import re
import tempfile
import tomllib
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path

from core.paths import default_accounts_path

from . import passwords
from .roles import RoleError, parse_role

NAME_RE = re.compile(r"^[^\W_][\w.@-]{0,63}$")
HEADER = ("# Insatskollen: lokala konton, skrivna av `python -m auth add|remove`. Redigera inte för hand.\n"
          "# Lösenorden finns bara som saltade scrypt-hashar.\n")


class AccountError(ValueError):
    """A Swedish message about an account or the accounts file; never holds a password."""


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    password_hash: str
    created: str
    changed: str


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def normalise_name(text: object) -> str:
    """The stored form of a user name: trimmed, NFC, lower case; AccountError if it is not allowed."""
    name = unicodedata.normalize("NFC", str(text or "")).strip().lower()
    if not NAME_RE.match(name):
        raise AccountError(f"ogiltigt användarnamn {str(text or '')!r}: använd 1–64 tecken – bokstäver, "
                           "siffror, punkt, bindestreck, understreck eller @ – och börja med en bokstav "
                           "eller siffra")
    return name


def _toml_str(s: str) -> str:
    """A TOML basic string: quotes, backslashes and every control character escaped."""
    out = []
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _where(path: Path) -> str:
    return str(path)


def load(path: Path | None = None) -> dict[str, Account]:
    """Every account by name; {} when the file does not exist. AccountError names the file and the problem."""
    path = Path(path or default_accounts_path())
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as e:
        raise AccountError(f"{_where(path)}: kontofilen kan inte läsas ({e.strerror})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise AccountError(f"{_where(path)}: kontofilen är inte UTF-8") from None
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"line (\d+), column (\d+)", str(e))
        at = f"rad {m[1]}, kolumn {m[2]}: " if m else ""
        raise AccountError(f"{_where(path)}: {at}kontofilen är inte giltig TOML") from None
    table = data.get("accounts", {})
    if not isinstance(table, dict):
        raise AccountError(f"{_where(path)}: [accounts] ska vara en tabell")
    accounts: dict[str, Account] = {}
    for key, entry in table.items():
        where = f"{_where(path)}, konto {key!r}"
        try:
            name = normalise_name(key)
        except AccountError as e:
            raise AccountError(f"{where}: {e}") from None
        if name != key:
            raise AccountError(f"{where}: namnet ska skrivas {name!r}")
        if not isinstance(entry, dict):
            raise AccountError(f"{where}: ska vara en tabell med role och password")
        try:
            role = parse_role(entry.get("role"))
        except RoleError as e:
            raise AccountError(f"{where}: {e}") from None
        stored = entry.get("password")
        if not isinstance(stored, str):
            raise AccountError(f"{where}: lösenordshash saknas")
        try:
            passwords.parse(stored)
        except passwords.PasswordError as e:
            raise AccountError(f"{where}: {e}") from None
        accounts[name] = Account(name, role, stored, str(entry.get("created", "")), str(entry.get("changed", "")))
    return accounts


def dumps(accounts: dict[str, Account]) -> str:
    parts = [HEADER]
    for a in sorted(accounts.values(), key=lambda a: a.name):
        parts.append(f"\n[accounts.{_toml_str(a.name)}]\nrole = {_toml_str(a.role)}\n"
                     f"password = {_toml_str(a.password_hash)}\ncreated = {_toml_str(a.created)}\n"
                     f"changed = {_toml_str(a.changed)}\n")
    return "".join(parts)


def save(accounts: dict[str, Account], path: Path | None = None) -> None:
    """Write the whole file atomically, readable by its owner only (0600)."""
    path = Path(path or default_accounts_path())
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".tmp-", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(dumps(accounts))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


@contextlib.contextmanager
def _locked(path: Path):
    """One writer at a time: two `python -m auth add` at once must not lose an account."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.parent / (path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def upsert(name: str, role: str, password: str, path: Path | None = None) -> tuple[Account, bool]:
    """Create the account or give it a new role and password; (account, created?)."""
    path = Path(path or default_accounts_path())
    name, role = normalise_name(name), parse_role(role)
    try:
        passwords.check_strength(password, name)
    except passwords.PasswordError as e:
        raise AccountError(str(e)) from None
    hashed = passwords.hash_password(password)
    with _locked(path):
        accounts = load(path)
        old = accounts.get(name)
        t = now()
        account = (replace(old, role=role, password_hash=hashed, changed=t) if old
                   else Account(name, role, hashed, t, t))
        accounts[name] = account
        save(accounts, path)
    return account, old is None


def remove(name: str, path: Path | None = None) -> Account:
    path = Path(path or default_accounts_path())
    name = normalise_name(name)
    with _locked(path):
        accounts = load(path)
        if name not in accounts:
            raise AccountError(f"det finns inget konto som heter {name!r} i {_where(path)}")
        gone = accounts.pop(name)
        save(accounts, path)
    return gone


def authenticate(name: str, password: str, path: Path | None = None) -> Account | None:
    """The account when name and password match, else None; as slow for an unknown name as for a known one."""
    try:
        key = normalise_name(name)
    except AccountError:
        key = None
    account = load(path).get(key) if key else None
    if account is None:
        passwords.burn_time(password)
        return None
    return account if passwords.verify_password(password, account.password_hash) else None
