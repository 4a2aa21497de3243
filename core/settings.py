"""Every environment variable the app, the loader and the commands read, declared once (like datasette's SETTINGS).

Each setting has its name, its default and a short help text; `get` reads one, so the parsing (a decimal comma,
a bad value falling back to the default) lives here and not in the module that uses it. The README's settings
table is generated from SETTINGS: `python -m core.settings` prints it, and tests/test_readme.py checks it.
"""
from __future__ import annotations

import contextlib
import os
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent  # the project folder; path defaults are in its data/
DATA_DIR = ROOT / "data"


def _path(raw: str) -> Path | None:
    """A file's path as given (relative to the working directory); empty is the default."""
    return Path(raw) if raw else None


def _seconds(raw: str) -> float | None:
    """Seconds, with a decimal point or comma; below 0 is 0."""
    raw = raw.strip().replace(",", ".")
    return max(0.0, float(raw)) if raw else None


def _count(raw: str) -> int | None:
    """A whole number; below 0 is 0."""
    raw = raw.strip()
    return max(int(raw), 0) if raw else None


def _switch(raw: str) -> bool | None:
    """On or off: 1/ja/true/on or 0/nej/false/off (any case); anything else is the default."""
    raw = raw.strip().lower()
    if raw in ("1", "ja", "true", "on", "yes"):
        return True
    if raw in ("0", "nej", "false", "off", "no"):
        return False
    return None


@dataclass(frozen=True)
class Setting:
    name: str
    default: object  # None: worked out from another setting, as the help says
    help: str
    parse: Callable[[str], object]  # the raw text → the value; None or ValueError: the default

    def shown_default(self) -> str:
        """The default as the README shows it: a path in the project relative to it."""
        if self.default is None:
            return "–"
        if isinstance(self.default, Path):
            return f"`{self.default.relative_to(ROOT).as_posix()}`"
        if isinstance(self.default, bool):
            return "`1`" if self.default else "`0`"
        return f"`{self.default:g}`" if isinstance(self.default, float) else f"`{self.default}`"


SETTINGS: tuple[Setting, ...] = (
    Setting("FINSAM_DB", DATA_DIR / "finsam.duckdb", "The database file the app reads and `python -m etl` writes.",
            _path),
    Setting("FINSAM_REFERRERS", DATA_DIR / "referrers.csv",
            "Where the data page saves the referrer mapping; until that file exists the one in `data/` is read.",
            _path),
    Setting("FINSAM_ACCOUNTS", DATA_DIR / "accounts.toml", "The local accounts (`python -m auth`).", _path),
    Setting("FINSAM_AUTH_CONFIG", DATA_DIR / "auth.toml",
            "Sign-in settings: the idle time and the OIDC e-mail/group → role map.", _path),
    Setting("FINSAM_AUDIT_DB", None, "The audit log (SQLite); unset: `audit.sqlite` beside the database.", _path),
    Setting("FINSAM_SNAPSHOTS", 10,
            "How many snapshots of the database a load or an undo keeps (0 keeps none, so nothing can be undone).",
            _count),
    Setting("FINSAM_PROTECT_SECONDS", 120.0,
            "How long a load may spend deciding each year's protection ahead, in seconds (0: none; `1,5` is read).",
            _seconds),
    Setting("FINSAM_DECIDE_BACKGROUND", True,
            "Whether the years a load had no time to decide are decided after it, in the background "
            "(`python -m etl decide`), while a reader of such a year is told so instead of deciding it (0: off).",
            _switch),
    Setting("FINSAM_DECISION_CACHE", None,
            "A folder where protection decisions are kept by a digest of everything they are made over, for any "
            "database and process (unset: none; the tests use `tests/decisions/`).", _path),
    Setting("FINSAM_QUERY_SECONDS", 30.0,
            "The longest one of the app's database queries may run, in seconds (0: no limit); past it the page "
            "says so in Swedish.", _seconds),
)
BY_NAME = {s.name: s for s in SETTINGS}


_OVERRIDDEN: ContextVar[dict[str, object]] = ContextVar("overridden", default={})


@contextlib.contextmanager
def overridden(**values: object):
    """Settings as given, for the code run inside (this thread or task only; the environment is not touched):
    the bundled sample is built with its own decisions' folder whatever the environment says."""
    token = _OVERRIDDEN.set({**_OVERRIDDEN.get(), **values})
    try:
        yield
    finally:
        _OVERRIDDEN.reset(token)


def environment(**extra: str) -> dict[str, str]:
    """The environment for a process this one starts: its own, with the settings given by `overridden` (unset
    ones as empty) and `extra`, so that the process reads the same settings as the code that starts it."""
    over = {name: "" if value is None else str(value) for name, value in _OVERRIDDEN.get().items()}
    return os.environ | over | extra


def get(name: str):
    """The setting's value from the environment, read anew on every call; unset, empty or unreadable: its default
    (inside `overridden`, the value given there)."""
    setting = BY_NAME[name]
    if name in (over := _OVERRIDDEN.get()):
        return over[name]
    try:
        value = setting.parse(os.environ.get(name, ""))
    except ValueError:
        value = None
    return setting.default if value is None else value


def markdown_table() -> str:
    """The README's settings table."""
    lines = ["| Variable | Default | What it sets |", "| --- | --- | --- |"]
    lines += [f"| `{s.name}` | {s.shown_default()} | {s.help} |" for s in SETTINGS]
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
