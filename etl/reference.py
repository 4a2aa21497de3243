"""The editable reference tables in data/: exit-reason codes and the referrer → agency mapping."""
from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from core.paths import EXIT_REASONS_CSV, REFERRERS_CSV
from core.vocabulary import AGENCIES

from .privacy import INVISIBLE



@dataclass(frozen=True)
class ExitReason:
    code: int
    label: str
    short_label: str
    positive: bool


def _read_semicolon(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [{k.strip(): (v or "").strip() for k, v in row.items()} for row in csv.DictReader(fh, delimiter=";")]


@lru_cache(maxsize=None)
def exit_reasons(path: Path = EXIT_REASONS_CSV) -> tuple[ExitReason, ...]:
    return tuple(
        ExitReason(int(r["code"]), r["label"], r.get("short_label") or r["label"], r.get("positive") in {"1", "ja", "Ja"})
        for r in _read_semicolon(path)
    )


@dataclass(frozen=True)
class ReferrerMapping:
    exact: dict[str, str]
    keywords: tuple[tuple[str, str], ...]

    def agency(self, unit: str) -> str | None:
        """Exact unit names first, then keywords in file order; None when nothing matches."""
        key = _fold(unit)
        if key in self.exact:
            return self.exact[key]
        words = re.findall(r"\w+", key)
        for keyword, agency in self.keywords:
            # short keywords (FK, Af) must be whole words; longer ones may sit inside a word
            if len(keyword) <= 3:
                if keyword in words:
                    return agency
            elif keyword in key:
                return agency
        return None


def _fold(text: str) -> str:
    """NFC and case-insensitive, invisible characters dropped: a unit typed on a Mac (NFD) still matches."""
    text = INVISIBLE.sub("", unicodedata.normalize("NFC", text))
    return unicodedata.normalize("NFC", re.sub(r"\s+", " ", text.strip().casefold()))


@lru_cache(maxsize=None)
def referrer_mapping(path: Path = REFERRERS_CSV) -> ReferrerMapping:
    exact: dict[str, str] = {}
    keywords: list[tuple[str, str]] = []
    for r in _read_semicolon(path):
        if r["agency"] not in AGENCIES:
            raise ValueError(f"{path.name}: okänd myndighet {r['agency']!r}; använd en av {', '.join(AGENCIES)}")
        if r["match"] == "exact":
            exact[_fold(r["pattern"])] = r["agency"]
        else:
            keywords.append((_fold(r["pattern"]), r["agency"]))
    return ReferrerMapping(exact, tuple(keywords))
