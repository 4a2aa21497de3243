"""Failed sign-ins slow down further tries, per user name and per client address.

After FREE failures in a row for a key, the next try must wait 1 s, then 2, 4, 8 … up to
MAX_WAIT; during the wait the password is not even checked, so guessing gains nothing from
trying faster. Counts are forgotten WINDOW seconds after the last failure, and a success clears
the user name's count (not the address's: one valid account must not reset a guesser's address).
An address gets more free tries than a name, since a whole municipality may share one address.

Why the counts live in the audit SQLite file (issue 22 §2): several app replicas (README, *Beyond
one machine*) must share them, and a guesser sending many tries at once must not get them all
checked. `attempt` looks at the counts and counts the try as a failure in one write transaction
(BEGIN IMMEDIATE: SQLite lets one writer in at a time, across threads and processes), then checks
the password outside it, so a slow password hash never holds the lock; a success takes its
reservation back. So with FREE tries left, at most FREE concurrent tries are ever checked. The name
is kept only as a hash: people sometimes type their password into the name field.
"""
from __future__ import annotations

import contextlib
import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, TypeVar

from core.paths import default_audit_path

from . import audit

FREE_PER_NAME, FREE_PER_ADDRESS = 3, 10
MAX_WAIT = 300.0
WINDOW = 15 * 60.0
MAX_KEYS = 10_000

SCHEMA = """
CREATE TABLE IF NOT EXISTS signin_throttle (
    key      TEXT PRIMARY KEY,         -- namn:<sha256 of the name> or adress:<address>
    failures INTEGER NOT NULL,
    last     REAL NOT NULL             -- Unix time of the latest failure (or reserved try)
)
"""

T = TypeVar("T")


@dataclass
class Throttle:
    clock: Callable[[], float] = time.time  # wall-clock time: replicas on several machines compare it
    path: Path | None = None                # None: the audit database ($FINSAM_AUDIT_DB), looked up per call

    @staticmethod
    def keys(name: str, address: str | None) -> list[tuple[str, int]]:
        """The counters a try counts against, with their free tries."""
        hashed = hashlib.sha256(name.strip().lower().encode("utf-8", "replace")).hexdigest()
        return [("namn:" + hashed, FREE_PER_NAME), ("adress:" + (address or "lokal"), FREE_PER_ADDRESS)]

    def _transaction(self):
        return _transaction(Path(self.path or default_audit_path()))

    @staticmethod
    def _wait(con, keys: list[tuple[str, int]], now: float) -> float:
        waits = [0.0]
        for key, free in keys:
            row = con.execute("SELECT failures, last FROM signin_throttle WHERE key = ?", (key,)).fetchone()
            if row is None or now - row[1] > WINDOW or row[0] < free:
                continue
            waits.append(row[1] + min(2.0 ** (row[0] - free), MAX_WAIT) - now)
        return max(waits)

    @staticmethod
    def _count(con, keys: list[tuple[str, int]], now: float) -> None:
        for key, _free in keys:
            con.execute("""INSERT INTO signin_throttle (key, failures, last) VALUES (?, 1, ?)
                           ON CONFLICT (key) DO UPDATE SET
                             failures = CASE WHEN ? - last > ? THEN 1 ELSE failures + 1 END, last = ?""",
                        (key, now, now, WINDOW, now))

    def attempt(self, name: str, address: str | None, check: Callable[[], T | None]) -> tuple[float, T | None]:
        """Run `check` (the password check) unless this name or address must wait.

        Returns (seconds to wait, None) without checking, or (0, what `check` returned): a true value is
        a success. The try is counted as a failure before `check` runs, atomically with the look at the
        counts, and taken back on success or when `check` raises.
        """
        keys = self.keys(name, address)
        with self._transaction() as con:
            now = self.clock()
            wait = self._wait(con, keys, now)
            if wait > 0:
                return wait, None
            self._count(con, keys, now)
            self._forget_old(con, now)
        try:
            result = check()
        except BaseException:
            self._take_back(keys, clear_name=False)
            raise
        if result:
            self._take_back(keys, clear_name=True)
        return 0.0, result

    def _take_back(self, keys: list[tuple[str, int]], clear_name: bool) -> None:
        (name_key, _), (address_key, _) = keys
        with self._transaction() as con:
            if clear_name:
                con.execute("DELETE FROM signin_throttle WHERE key = ?", (name_key,))
            else:
                con.execute("UPDATE signin_throttle SET failures = max(failures - 1, 0) WHERE key = ?", (name_key,))
            con.execute("UPDATE signin_throttle SET failures = max(failures - 1, 0) WHERE key = ?", (address_key,))

    # One step each, for tests and tools; the app signs in through `attempt`.
    def wait(self, name: str, address: str | None) -> float:
        """Seconds left before a try for this name from this address may be checked (0: go ahead)."""
        with self._transaction() as con:
            return self._wait(con, self.keys(name, address), self.clock())

    def failed(self, name: str, address: str | None) -> None:
        with self._transaction() as con:
            now = self.clock()
            self._count(con, self.keys(name, address), now)
            self._forget_old(con, now)

    def succeeded(self, name: str) -> None:
        with self._transaction() as con:
            con.execute("DELETE FROM signin_throttle WHERE key = ?", (self.keys(name, None)[0][0],))

    def reset(self) -> None:
        with self._transaction() as con:
            con.execute("DELETE FROM signin_throttle")

    @staticmethod
    def _forget_old(con, now: float) -> None:
        con.execute("DELETE FROM signin_throttle WHERE ? - last > ?", (now, WINDOW))
        (n,) = con.execute("SELECT count(*) FROM signin_throttle").fetchone()
        if n > MAX_KEYS:  # a flood of fresh names: drop the oldest half
            con.execute("DELETE FROM signin_throttle WHERE key IN "
                        "(SELECT key FROM signin_throttle ORDER BY last LIMIT ?)", (n - MAX_KEYS // 2,))


@contextlib.contextmanager
def _transaction(path: Path):
    """A connection to the audit file inside BEGIN IMMEDIATE (the write lock taken at once), committed at the
    end and rolled back on an error; AuditError (Swedish, names the file) when the file fails."""
    with audit._connect(path) as con:
        con.execute(SCHEMA)
        con.execute("BEGIN IMMEDIATE")
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")


THROTTLE = Throttle()
