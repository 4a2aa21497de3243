"""Failed sign-ins slow down further tries, per user name and per client address.

After FREE failures in a row for a key, the next try must wait 1 s, then 2, 4, 8 … up to
MAX_WAIT; during the wait the password is not even checked, so guessing gains nothing from
trying faster. Counts are forgotten WINDOW seconds after the last failure, and a success clears
the user name's count (not the address's: one valid account must not reset a guesser's address).
An address gets more free tries than a name, since a whole municipality may share one address.

Kept in the server's memory: Streamlit serves every session from one process.
"""
from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

FREE_PER_NAME, FREE_PER_ADDRESS = 3, 10
MAX_WAIT = 300.0
WINDOW = 15 * 60.0
MAX_KEYS = 10_000


@dataclass
class _Count:
    failures: int = 0
    last: float = 0.0


@dataclass
class Throttle:
    clock: Callable[[], float] = time.monotonic
    _counts: dict[str, _Count] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @staticmethod
    def keys(name: str, address: str | None) -> list[tuple[str, int]]:
        """The counters a try counts against. The name is kept only as a hash: people sometimes type
        their password into the name field, and it must not sit in memory in clear."""
        hashed = hashlib.sha256(name.strip().lower().encode("utf-8", "replace")).hexdigest()
        return [("namn:" + hashed, FREE_PER_NAME), ("adress:" + (address or "lokal"), FREE_PER_ADDRESS)]

    def wait(self, name: str, address: str | None) -> float:
        """Seconds left before a try for this name from this address may be checked (0: go ahead)."""
        now = self.clock()
        with self._lock:
            waits = [0.0]
            for key, free in self.keys(name, address):
                c = self._counts.get(key)
                if c is None or now - c.last > WINDOW or c.failures < free:
                    continue
                waits.append(c.last + min(2.0 ** (c.failures - free), MAX_WAIT) - now)
            return max(waits)

    def failed(self, name: str, address: str | None) -> None:
        now = self.clock()
        with self._lock:
            if len(self._counts) >= MAX_KEYS:
                self._forget_old(now)
            for key, _free in self.keys(name, address):
                c = self._counts.get(key)
                if c is None or now - c.last > WINDOW:
                    c = self._counts[key] = _Count()
                c.failures += 1
                c.last = now

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._counts.pop(self.keys(name, None)[0][0], None)

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()

    def _forget_old(self, now: float) -> None:
        for key in [k for k, c in self._counts.items() if now - c.last > WINDOW]:
            del self._counts[key]
        if len(self._counts) >= MAX_KEYS:  # a flood of fresh names: drop the oldest half
            for key in sorted(self._counts, key=lambda k: self._counts[k].last)[: MAX_KEYS // 2]:
                del self._counts[key]


THROTTLE = Throttle()
