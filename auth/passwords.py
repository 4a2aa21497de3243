"""Salted scrypt password hashes (stdlib `hashlib.scrypt`): no password is ever stored, only these.

Format: `scrypt$ln=15,r=8,p=1$<salt>$<hash>` (base64 without padding), so the cost can be raised
later without breaking stored hashes. ln=15, r=8 costs 32 MiB and a few tenths of a second per
check: cheap for one sign-in, expensive for a guesser. A stored hash asking for more than
MAX_LN/MAX_R/MAX_P is refused rather than computed, so an edited accounts file cannot make a
sign-in eat the server's memory. Passwords are NFC-normalised, so `å` typed on a Mac (NFD)
matches `å` typed on Windows.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import unicodedata

LN, R, P = 15, 8, 1
MAX_LN, MAX_R, MAX_P = 20, 16, 4
SALT_BYTES, KEY_BYTES = 16, 32
MIN_LENGTH, MAX_LENGTH = 10, 1024


class PasswordError(ValueError):
    """A password that may not be used, or a stored hash that cannot be read. Never holds the password."""


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii").rstrip("=")


def _unb64(s: str) -> bytes:
    return base64.b64decode(s + "=" * (-len(s) % 4), validate=True)


def _key(password: str, salt: bytes, ln: int, r: int, p: int) -> bytes:
    pw = unicodedata.normalize("NFC", password).encode("utf-8")
    return hashlib.scrypt(pw, salt=salt, n=2 ** ln, r=r, p=p, dklen=KEY_BYTES, maxmem=256 * 1024 * 1024)


def check_strength(password: str, name: str = "") -> None:
    """Refuse passwords that are too short, too long, or the account name itself."""
    n = len(unicodedata.normalize("NFC", password))
    if n < MIN_LENGTH:
        raise PasswordError(f"lösenordet är för kort: minst {MIN_LENGTH} tecken")
    if n > MAX_LENGTH:
        raise PasswordError(f"lösenordet är för långt: högst {MAX_LENGTH} tecken")
    if name and password.strip().lower() == name.strip().lower():
        raise PasswordError("lösenordet får inte vara samma som användarnamnet")


def hash_password(password: str) -> str:
    salt = os.urandom(SALT_BYTES)
    return f"scrypt$ln={LN},r={R},p={P}${_b64(salt)}${_b64(_key(password, salt, LN, R, P))}"


def parse(stored: str) -> tuple[int, int, int, bytes, bytes]:
    """(ln, r, p, salt, key) from a stored hash; PasswordError if it is not one we wrote."""
    try:
        scheme, params, salt, key = stored.split("$")
        values = dict(item.split("=", 1) for item in params.split(","))
        ln, r, p = int(values["ln"]), int(values["r"]), int(values["p"])
        salt_b, key_b = _unb64(salt), _unb64(key)
    except (ValueError, KeyError, AttributeError):
        raise PasswordError("lösenordshashen har fel format (väntat scrypt$ln=…,r=…,p=…$salt$hash)") from None
    if scheme != "scrypt" or set(values) != {"ln", "r", "p"}:
        raise PasswordError("lösenordshashen har fel format (väntat scrypt$ln=…,r=…,p=…$salt$hash)")
    if not (10 <= ln <= MAX_LN and 1 <= r <= MAX_R and 1 <= p <= MAX_P) or len(salt_b) < 8 or len(key_b) != KEY_BYTES:
        raise PasswordError("lösenordshashen har orimliga parametrar")
    return ln, r, p, salt_b, key_b


def verify_password(password: str, stored: str) -> bool:
    """True when `password` matches `stored`; constant-time comparison."""
    ln, r, p, salt, key = parse(stored)
    if len(password) > MAX_LENGTH:
        return False
    return hmac.compare_digest(_key(password, salt, ln, r, p), key)


_DUMMY: list[str] = []


def burn_time(password: str) -> None:
    """Spend the time a real check takes, for a name that has no account: the answer's timing
    must not tell a guesser which names exist."""
    if not _DUMMY:
        _DUMMY.append(hash_password("inget konto har det här lösenordet"))
    verify_password(password[:MAX_LENGTH], _DUMMY[0])
