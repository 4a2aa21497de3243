"""Personnummer and samordningsnummer, found by their shape so that none is stored or printed.

The association has no legal ground to hold them. A number counts as one when it reads as a real
date (YYMMDD or YYYYMMDD; a samordningsnummer adds 60 to the day) followed by four digits, with or
without a separator. The check digit is never consulted: a mistyped personnummer still points at a
person. Two entry points:

- `personnummer_positions(values)`: which cells of a column hold one (column-wise: the column is
  scanned as one string, so a million cells cost one regex pass, not a million).
- `mask(text)`: the same shapes replaced by a placeholder; every message goes through it
  (core.problems.safe_text), so no message can carry a number.

The 7–9-digit rule (a personnummer from the 2000s that lost its leading zeros in a number cell,
050115-5125 → 501155125) is a guess that fits ids and other text, where such a bare number has no
other meaning. In an amount column it has one: `-1234567`, `−1 234 567 kr` or `301155125` is an amount.
So both entry points take `amount=True` for a cell of an amount column: a value shaped like an amount
(a sign, digits alone or in groups of three, decimals, `kr`) is then checked for the full shapes only
(a date and four digits, 10 or 12 digits), which are refused and masked there as everywhere.
"""
from __future__ import annotations

import bisect
import calendar
import itertools
import datetime as dt
import re
import unicodedata
from collections.abc import Iterable

MASK = "[personnummer dolt]"

# Format characters (zero-width space and joiner, soft hyphen, BOM, bidirectional marks, …): invisible,
# so they are dropped before anything is matched or stored. Kept complete by a test over Unicode's Cf.
INVISIBLE = re.compile(
    "[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064"
    "\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)

# Between the date and the last four digits: nothing, or up to three separators, each a character that is
# not a letter or digit (`-`, `+`, `–`, `/`, `.`, a stray control character) or a run of whitespace (which
# storage collapses to one space, so cleaning a cell can never bring a number together). The century
# (18, 19, 20) is optional.
_FULL = re.compile(r"(?<!\d)(1[89]|20)?(\d\d)(\d\d)(\d\d)(?:\s+|[^\w\s]|_){0,3}(\d{4})(?!\d)")
# A number cell that lost its leading zeros: 050115-5125 typed into Excel becomes 501155125.
_NINE = re.compile(r"(?<!\d)(\d{9})(?!\d)")
_PREFIX = r"(?:p\W{0,2}nr|pers(?:on)?\W{0,2}nr|personnummer|samordningsnr|samordningsnummer|s\W?nr)"
_WHOLE_SHORT = re.compile(rf"(?i)^\W*(?:{_PREFIX}\W*)?(\d{{7,9}})(?:[.,]0+)?\W*$")
# An amount as staff write one (etl.cells.parse_amount): a minus sign (also U+2212) or parentheses, digits
# alone or in groups of three (space, non-breaking space, dot, comma or apostrophe between), decimals, kr/SEK/:-.
_AMOUNT = re.compile(r"(?i)^\(?[-\u2212]?\s*(?:\d+|\d{1,3}(?:[\s.,']\d{3})+)(?:[.,]\d+)?\s*(?:kr|sek|:-)?\.?\)?$")
_JOIN = "\nZ\n"  # a letter between cells: no separator, so no match, spans two of them


def _prepare(text: str) -> str:
    """Fullwidth and other compatibility digits become ASCII; invisible characters go."""
    if not text.isascii():
        text = INVISIBLE.sub("", unicodedata.normalize("NFKC", text))
    return text


def _real_date(century: str | None, yy: str, mm: str, dd: str) -> bool:
    month, day = int(mm), int(dd)
    if day > 60:  # samordningsnummer
        day -= 60
    if not (1 <= month <= 12 and day >= 1):
        return False
    years = [int(century + yy)] if century else [1900 + int(yy), 2000 + int(yy)]
    return any(day <= calendar.monthrange(y, month)[1] for y in years)


def _full_match_is_real(m: re.Match) -> bool:
    return _real_date(m[1], m[2], m[3], m[4])


def _padded_is_real(digits: str) -> bool:
    padded = digits.zfill(10)
    return _real_date(None, padded[0:2], padded[2:4], padded[4:6])


def cell_text(value: object) -> str:
    """A cell as the text it shows: an integral number without `.0`; dates and blanks as nothing."""
    if value is None or isinstance(value, (bool, dt.date, dt.time, dt.timedelta)):
        return ""
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return ""
        if value.is_integer() and abs(value) < 1e19:
            return str(int(value))
    return _prepare(str(value))


def contains_personnummer(value: object, *, whole_number: bool = False) -> bool:
    """True if `value` holds something shaped like a personnummer or samordningsnummer anywhere.

    `whole_number`: also count a cell that is nothing but 7–9 digits (leading zeros lost, as in a
    number cell); only for text columns, where no amount or count lives.
    """
    return bool(personnummer_positions([value], whole_number=whole_number))


_SIX = re.compile(r"\d{6}")
_WHOLE_SHORT_LINES = re.compile(rf"(?im)^[^\w\n]*(?:{_PREFIX}[^\w\n]*)?(\d{{7,9}})(?:[.,]0+)?[^\w\n]*$")


def personnummer_positions(values: Iterable[object], *, whole_number: bool = False) -> list[int]:
    """Indexes of the cells in `values` shaped like a personnummer (see `contains_personnummer`)."""
    return sorted(personnummer_cells(values, whole_number=whole_number))


def personnummer_cells(values: Iterable[object], *, whole_number: bool = False,
                       amount: bool = False) -> dict[int, bool]:
    """{index: lost_zeros} of the cells shaped like a personnummer; `lost_zeros` when only a bare number
    that may have lost its leading zeros matched (the message then says so).

    `amount`: the cells are an amount column's; one written as an amount counts only by the full shapes.

    The column is joined into one string and scanned once; only a match is looked at in Python.
    """
    texts = [v if type(v) is str else cell_text(v) for v in values]
    joined = _JOIN.join(texts)
    if not joined.isascii():
        texts = [t if t.isascii() else _prepare(t) for t in texts]
        joined = _JOIN.join(texts)
    if not _SIX.search(joined) and not (whole_number and re.search(r"\d{7}", joined)):
        return {}
    starts = [0, *itertools.accumulate(len(t) + len(_JOIN) for t in texts)]

    def cell(pos: int) -> int:
        return bisect.bisect_right(starts, pos) - 1

    hits = {cell(m.start()): False for m in _FULL.finditer(joined) if _full_match_is_real(m)}
    for m in _NINE.finditer(joined):
        if _padded_is_real(m[1]):
            hits.setdefault(cell(m.start()), True)
    if whole_number:
        for m in _WHOLE_SHORT_LINES.finditer(joined):
            if _padded_is_real(m[1]):
                hits.setdefault(cell(m.start(1)), True)
    if amount:
        hits = {k: lost for k, lost in hits.items() if not (lost and _AMOUNT.match(texts[k].strip()))}
    return hits


def mask(text: str, *, whole_number: bool = False, amount: bool = False) -> str:
    """`text` with every personnummer-shaped number replaced by a placeholder.

    `amount`: `text` is an amount column's value; written as an amount, only the full shapes are masked.
    """
    text = _prepare(text)
    if amount and _AMOUNT.match(text.strip()):
        return _FULL.sub(lambda m: MASK if _full_match_is_real(m) else m[0], text)
    if whole_number and (w := _WHOLE_SHORT.match(text)) and _padded_is_real(w[1]):
        return MASK
    text = _FULL.sub(lambda m: MASK if _full_match_is_real(m) else m[0], text)
    return _NINE.sub(lambda m: MASK if _padded_is_real(m[1]) else m[0], text)
