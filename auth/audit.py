"""The audit log: who signed in (or failed to), who downloaded individual rows, who loaded, undid or
remapped data, and when. Shown to administrators.

Why a separate SQLite file and not a table in the DuckDB database: the app opens DuckDB read-only
(a DuckDB file has one writer or many readers, never both), the loader replaces that file with
`os.replace` on every load, and an undo puts an old copy back. A log inside it would need the
app to write, would be copied along on every load and would be rolled back by an undo, which
is exactly when it matters. SQLite comes with Python, lets several processes (the app's
sessions, `python -m auth`, `python -m etl`) append to one file safely under its own locking,
and in WAL mode readers do not block the writer. Default: audit.sqlite beside the database
(`$FINSAM_AUDIT_DB` to move it); created readable by its owner only.

Nothing secret goes in: callers pass names, events and descriptions, never a password, and a
failed sign-in with an unknown user name is logged without that name, because people sometimes
type their password into the name field.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
import time
from pathlib import Path

from core.paths import default_audit_path

SIGN_IN = "sign_in"
SIGN_IN_FAILED = "sign_in_failed"
SIGN_IN_THROTTLED = "sign_in_throttled"
SIGN_IN_NO_ROLE = "sign_in_no_role"
SIGN_OUT = "sign_out"
SESSION_EXPIRED = "session_expired"
ACCESS_REFUSED = "access_refused"
ROWS_DOWNLOAD = "rows_download"
LOAD = "load"
UNDO = "undo"
MAPPING = "mapping"
ACCOUNT_SAVED = "account_saved"
ACCOUNT_REMOVED = "account_removed"
# issue 22 §8: a change that was tried and did not happen is logged too (who, what, why not)
UPLOAD_REFUSED = "upload_refused"
LOAD_FAILED = "load_failed"
UNDO_FAILED = "undo_failed"
MAPPING_FAILED = "mapping_failed"

EVENTS = {  # event -> what the log page prints
    SIGN_IN: "Inloggning",
    SIGN_IN_FAILED: "Misslyckad inloggning",
    SIGN_IN_THROTTLED: "Inloggning fördröjd (för många försök)",
    SIGN_IN_NO_ROLE: "Inloggning utan roll",
    SIGN_OUT: "Utloggning",
    SESSION_EXPIRED: "Utloggad efter inaktivitet",
    ACCESS_REFUSED: "Nekad åtkomst",
    ROWS_DOWNLOAD: "Nedladdning av deltagarrader",
    LOAD: "Inläsning",
    UNDO: "Ångrad inläsning",
    MAPPING: "Ändrad remittentmappning",
    ACCOUNT_SAVED: "Konto skapat eller ändrat",
    ACCOUNT_REMOVED: "Konto borttaget",
    UPLOAD_REFUSED: "Uppladdning underkänd (fel i filerna)",
    LOAD_FAILED: "Inläsning nekad eller misslyckad",
    UNDO_FAILED: "Ångring nekad eller misslyckad",
    MAPPING_FAILED: "Ändring av remittentmappningen nekad eller misslyckad",
}
FAILED = {LOAD: LOAD_FAILED, UNDO: UNDO_FAILED, MAPPING: MAPPING_FAILED}  # a change's event → its failure's
UNKNOWN_NAME = "(okänt användarnamn)"
MAX_TEXT = 500
MAX_DETAIL = 4000  # a load's line carries what it changed per initiative and year (render.changes.audit_detail)

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit_log (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    at     TEXT NOT NULL,              -- UTC, 2026-11-23T14:05:09Z
    actor  TEXT NOT NULL,              -- account name, e-mail, or who ran the command
    role   TEXT NOT NULL DEFAULT '',
    event  TEXT NOT NULL,              -- a key of auth.audit.EVENTS
    detail TEXT NOT NULL DEFAULT '',
    client TEXT NOT NULL DEFAULT ''    -- the client's address, where there is one
)
"""


class AuditError(RuntimeError):
    """The log could not be written or read; Swedish, names the file."""


def _clean(text: object, limit: int = MAX_TEXT) -> str:
    """One line of printable text, at most `limit` characters."""
    s = "" if text is None else str(text)
    s = "".join(ch if ch.isprintable() else " " for ch in s).strip()
    return s[:limit]


SET_UP_SECONDS = 15


def _set_up(con: sqlite3.Connection) -> None:
    """WAL mode and the table, tried again for a while when SQLite answers "locked".

    Why a loop beside busy_timeout: switching a new log to WAL, and opening one while another
    process recovers its WAL, can answer SQLITE_BUSY at once without calling SQLite's busy handler
    (seen in CI: four processes starting on one new log, one of them refused)."""
    deadline = time.monotonic() + SET_UP_SECONDS
    pause = 0.01
    while True:
        try:
            con.execute("PRAGMA journal_mode = WAL")
            con.execute(SCHEMA)
            return
        except sqlite3.OperationalError as e:
            if not any(w in str(e).lower() for w in ("locked", "busy")) or time.monotonic() > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.25)


@contextlib.contextmanager
def _connect(path: Path):
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        con = sqlite3.connect(path, timeout=15, isolation_level=None)
    except (OSError, sqlite3.Error) as e:
        raise AuditError(f"granskningsloggen {path} kan inte öppnas: {e}") from None
    try:
        con.execute("PRAGMA busy_timeout = 15000")
        _set_up(con)
        yield con
    except sqlite3.Error as e:
        raise AuditError(f"granskningsloggen {path}: {e}") from None
    finally:
        con.close()


def record(event: str, actor: str, *, role: str = "", detail: str = "", client: str | None = None,
           path: Path | None = None) -> None:
    """Append one event. AuditError when the log cannot be written (callers decide whether to go on)."""
    if event not in EVENTS:
        raise ValueError(f"unknown audit event {event!r}")
    at = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    with _connect(Path(path or default_audit_path())) as con:
        con.execute("INSERT INTO audit_log (at, actor, role, event, detail, client) VALUES (?, ?, ?, ?, ?, ?)",
                    (at, _clean(actor) or "?", _clean(role), event, _clean(detail, MAX_DETAIL), _clean(client)))


def recent(limit: int = 1000, path: Path | None = None) -> list[dict]:
    """The latest events, newest first; [] when nothing has been logged yet."""
    path = Path(path or default_audit_path())
    if not path.exists():
        return []
    with _connect(path) as con:
        con.row_factory = sqlite3.Row
        rows = con.execute("SELECT id, at, actor, role, event, detail, client FROM audit_log "
                           "ORDER BY id DESC LIMIT ?", (int(limit),)).fetchall()
    return [dict(r) for r in rows]


# For the data page (upload, undo, mapping; issue 11 §1–3): one call each, so every change is logged alike.
def record_load(actor: str, detail: str, *, role: str = "", client: str | None = None,
                path: Path | None = None) -> None:
    record(LOAD, actor, role=role, detail=detail, client=client, path=path)


def record_undo(actor: str, detail: str, *, role: str = "", client: str | None = None,
                path: Path | None = None) -> None:
    record(UNDO, actor, role=role, detail=detail, client=client, path=path)


def record_mapping(actor: str, detail: str, *, role: str = "", client: str | None = None,
                   path: Path | None = None) -> None:
    record(MAPPING, actor, role=role, detail=detail, client=client, path=path)


def record_failure(event: str, actor: str, detail: str, *, role: str = "", client: str | None = None,
                   path: Path | None = None) -> None:
    """A refused or failed upload, load, undo or mapping change (UPLOAD_REFUSED or a value of FAILED)."""
    if event not in (UPLOAD_REFUSED, *FAILED.values()):
        raise ValueError(f"not a failure event: {event!r}")
    record(event, actor, role=role, detail=detail, client=client, path=path)
