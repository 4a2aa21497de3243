"""The editable reference tables in data/: exit-reason codes and the referrer → agency mapping."""
from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from core.paths import EXIT_REASONS_CSV, REFERRERS_CSV, default_referrers_path
from core.privacy import INVISIBLE
from core.vocabulary import AGENCIES


@dataclass(frozen=True)
class ExitReason:
    code: int
    label: str
    short_label: str
    positive: bool


def _read_semicolon(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        # a line with more fields than the header puts the rest under the key None: not ours to read
        return [{k.strip(): (v or "").strip() for k, v in row.items() if isinstance(k, str) and not isinstance(v, list)}
                for row in csv.DictReader(fh, delimiter=";")]


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
        return self.match(unit)[0]

    def match(self, unit: str) -> tuple[str | None, str | None]:
        """(agency, the rule that gave it: "exact" or the keyword), or (None, None) when nothing matches."""
        key = _fold(unit)
        if key in self.exact:
            return self.exact[key], EXACT
        words = re.findall(r"\w+", key)
        for keyword, agency in self.keywords:
            # short keywords (FK, Af) must be whole words; longer ones may sit inside a word
            if len(keyword) <= 3:
                if keyword in words:
                    return agency, keyword
            elif keyword in key:
                return agency, keyword
        return None, None


EXACT, KEYWORD = "exact", "keyword"


def _fold(text: str) -> str:
    """NFC and case-insensitive, invisible characters dropped: a unit typed on a Mac (NFD) still matches."""
    text = INVISIBLE.sub("", unicodedata.normalize("NFC", text))
    return unicodedata.normalize("NFC", re.sub(r"\s+", " ", text.strip().casefold()))


fold_unit = _fold  # how the mapping compares unit names (etl.mapping matches the editor's rows with it)


class MappingError(ValueError):
    """The mapping file cannot be used; the message is Swedish and names the file and line."""


@dataclass(frozen=True)
class Rule:
    match: str  # EXACT or KEYWORD
    pattern: str
    agency: str


def referrers_path() -> Path:
    """The mapping in use: `$FINSAM_REFERRERS` (or data/referrers.csv), or the shipped file until that exists."""
    configured = default_referrers_path()
    return configured if configured.exists() else REFERRERS_CSV


def read_rules(path: Path | None = None) -> list[Rule]:
    """The rules of the mapping file, in file order; MappingError (Swedish) when a line is wrong."""
    path = Path(path or referrers_path())
    try:
        rows = _read_semicolon(path)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise MappingError(f"remittentmappningen {path.name} kan inte läsas ({type(exc).__name__})") from None
    rules = []
    for line, r in enumerate(rows, start=2):
        match, pattern, agency = r.get("match", ""), r.get("pattern", ""), r.get("agency", "")
        if match not in (EXACT, KEYWORD):
            raise MappingError(f"{path.name}, rad {line}: kolumnen match ska vara exact eller keyword, inte {match!r}")
        if not pattern:
            raise MappingError(f"{path.name}, rad {line}: mönstret (pattern) är tomt")
        if agency not in AGENCIES:
            raise MappingError(f"{path.name}, rad {line}: okänd myndighet {agency!r}; använd en av {', '.join(AGENCIES)}")
        rules.append(Rule(match, pattern, agency))
    return rules


def mapping_from_rules(rules: list[Rule]) -> ReferrerMapping:
    exact: dict[str, str] = {}
    keywords: list[tuple[str, str]] = []
    for r in rules:
        if r.match == EXACT:
            exact[_fold(r.pattern)] = r.agency  # a later exact line wins, as it always has
        else:
            keywords.append((_fold(r.pattern), r.agency))
    return ReferrerMapping(exact, tuple(keywords))


@lru_cache(maxsize=8)
def _mapping_of_version(path: str, mtime_ns: int, size: int) -> ReferrerMapping:
    return mapping_from_rules(read_rules(Path(path)))


def referrer_mapping(path: Path | None = None) -> ReferrerMapping:
    """The mapping as the file says now: cached per file version, so a mapping saved on the data page is used
    by the very next load in the same process."""
    path = Path(path or referrers_path())
    st = path.stat()
    return _mapping_of_version(str(path), st.st_mtime_ns, st.st_size)
