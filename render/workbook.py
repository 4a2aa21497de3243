"""A workbook laid out as plain data: what is in each cell, how wide each column is, what wraps and how it prints.

Both writers take their sheets from here — openpyxl (render/files.py) and the XML text of render/xlsx_xml.py — so
they cannot lay a sheet out differently. Plain Python only (no pandas, numpy or openpyxl): `etl report --format
xlsx` lays out and writes its workbook without importing them (issue 25). render/files.py turns DataFrames into
the rows of Excel values this takes (int, float, Decimal, str, date, datetime, None, Hidden).
"""
from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")  # what openpyxl refuses in a cell

# Excel number formats that read Swedish wherever the file is opened: thousands are split by a literal space
# (`# ### ##0`), not by Excel's `,`, which is the reader's locale's separator (`60,800 kr` in an English Excel);
# the space before % and kr is the Swedish one. `.` is Excel's decimal placeholder (a comma in Swedish Excel;
# no format can fix the decimal mark itself).
_THOUSANDS = "# ### ### ##0"
NUMBER_FORMATS = {
    "int": f"{_THOUSANDS};-{_THOUSANDS}",
    "kr": f'{_THOUSANDS}" kr";-{_THOUSANDS}" kr"',
    "tkr": f'{_THOUSANDS}," tkr";-{_THOUSANDS}," tkr"',  # the trailing comma divides by 1000: cells keep kronor
    "pct": "0.0\\ %",
    "number": f"{_THOUSANDS}.0#;-{_THOUSANDS}.0#",
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm",
    "text": "@",
    "general": "General",
}
KINDS = frozenset(NUMBER_FORMATS) - {"general"}
_NUMERIC_KINDS = frozenset({"int", "kr", "tkr", "pct", "number"})
PLAIN_KINDS = _NUMERIC_KINDS | {"general"}  # a number stays the number

MAX_COLUMN_WIDTH = 60
MIN_COLUMN_WIDTH = 8
META_SHEET = "Urval"
PAGE_WIDTH = 135  # column-width units that fit across a landscape A4 page at 100 % (Calibri 11, default margins)
FIT_AT_MOST = 1.5  # a sheet up to this many pages wide is fitted to one page's width; a wider one is broken
WIDE_HEADER = 16  # on a sheet wider than a page, headers wrap at about this width, so columns size to their numbers
LINE_PT = 15  # a line of Calibri 11, in points


def neutralise(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe; anything else is returned as is."""
    if isinstance(value, str) and value.startswith(_FORMULA_TRIGGERS):
        return "'" + value
    return value


def clean_text(value: Any) -> str:
    """A text cell: no control characters (never meaningful in a report cell; openpyxl refuses them), no formula."""
    return neutralise(ILLEGAL_CHARACTERS_RE.sub("", str(value)))


def plain_value(v: Any, kind: str) -> Any:
    """The Excel value of a plain Python int, float, text or None; anything else raises TypeError (render/files.py
    converts the rest). A blank text is an empty cell, as a missing value is."""
    t = type(v)
    if v is None:
        return None
    if t is int and kind in PLAIN_KINDS:
        return v
    if t is float and kind in PLAIN_KINDS:
        return v if math.isfinite(v) else None  # NaN and ±inf are no figure
    if t is str and kind not in ("date", "datetime"):
        return clean_text(v) if v.strip() else None
    raise TypeError(f"{t.__name__} in a {kind} column")


_INVALID_SHEET_CHARS = str.maketrans({"/": "-", "\\": "-", ":": "-", "?": "", "*": "", "[": "(", "]": ")"})


def sheet_title(name: Any) -> str:
    """A name Excel accepts: ≤ 31 characters, none of []:*?/\\, no apostrophe at either end, not 'History'."""
    title = ILLEGAL_CHARACTERS_RE.sub("", str(name)).translate(_INVALID_SHEET_CHARS)
    title = title.strip().strip("'").strip()[:31].strip().strip("'").strip()
    if not title:
        return "Blad"
    if title.lower() == "history":  # reserved by Excel
        return "History_"
    return title


def unique_title(title: str, used: set[str]) -> str:
    """Excel compares sheet names case-insensitively; a clash gets ' (2)', ' (3)' … within 31 characters."""
    candidate, n = title, 1
    while candidate.lower() in used:
        n += 1
        suffix = f" ({n})"
        candidate = title[: 31 - len(suffix)].rstrip() + suffix
    used.add(candidate.lower())
    return candidate


def is_midnight(v: dt.datetime) -> bool:
    return (v.hour, v.minute, v.second, v.microsecond) == (0, 0, 0, 0)


def cell_format(value: Any, kind: str) -> str | None:
    """The column's format where it fits the value; a date is always shown as a date, never as a serial."""
    if isinstance(value, str):
        return NUMBER_FORMATS["text"] if kind == "text" else None
    if isinstance(value, dt.datetime):
        return NUMBER_FORMATS["datetime" if kind == "datetime" or not is_midnight(value) else "date"]
    if isinstance(value, dt.date):
        return NUMBER_FORMATS["date"]
    return NUMBER_FORMATS[kind] if kind in _NUMERIC_KINDS else None


class Hidden:
    """A count protection hides: written as Excel's #N/A error with a note, so sums over it fail loudly."""

    def __init__(self, mark: str) -> None:
        self.mark = mark


# ----------------------------------------------------------------------------- widths

_SHOWN = {  # kind -> (decimals, the unit's length with its space, scale): how render.format shows a number
    "int": (0, 0, None), "kr": (0, 3, None), "tkr": (0, 4, Decimal("0.001")), "pct": (1, 2, Decimal(100)),
    "number": (2, 0, None), "general": (2, 0, None)}


def _shown_number(v: int | float | Decimal, kind: str) -> int:
    """The length of the number as render.format's fmt_int, fmt_kr, … show it (`1 234 kr`): the column is sized to
    it. The same rounding, so the same length (tests/test_render_xlsx_xml.py holds the two together)."""
    decimals, unit, scale = _SHOWN.get(kind, _SHOWN["general"])
    d = v if isinstance(v, Decimal) else Decimal(v) if isinstance(v, int) else Decimal(repr(float(v)))
    if scale is not None:
        d = d * scale
    with localcontext() as ctx:
        ctx.prec = 60
        q = d.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
        text = f"{abs(q) if q.is_zero() else q:,.{decimals}f}"
    return len(text) + unit


def display_width(v: Any, kind: str) -> int:
    """Roughly how many characters Excel will show, to size the column."""
    if v is None:
        return 0
    if isinstance(v, str):
        return max(len(line) for line in v.splitlines() or [""])
    if isinstance(v, dt.datetime):
        return 16 if kind == "datetime" or not is_midnight(v) else 10
    if isinstance(v, dt.date):
        return 10
    if kind in ("date", "datetime") or not isinstance(v, (int, float, Decimal)):
        return len(str(v))  # fmt_date and fmt_datetime show what is not a date as it is
    return _shown_number(v, kind)


def _lines(value: Any, width: float) -> int:
    """About how many lines a wrapped text takes in a column `width` characters wide."""
    if not isinstance(value, str):
        return 1
    return sum(max(1, -(-len(part) // max(1, int(width) - 2))) for part in value.splitlines() or [""])


_SEX_WORDS = frozenset({"kvinnor", "män", "annat/okänt", "totalt"})


def _group(header: str) -> str:
    """'Deltagare kvinnor' -> 'Deltagare': the measure a wide sheet's column belongs to (its sex word dropped)."""
    words = header.split()
    return " ".join(words[:-1]) if len(words) > 1 and words[-1] in _SEX_WORDS else header


def wide(headers: list[str]) -> bool:
    """Whether a sheet is wider than a printed page: its headers wrap and it may be broken across pages."""
    return sum(len(h) + 3 for h in headers) > PAGE_WIDTH and len(headers) > 3


# ----------------------------------------------------------------------------- a sheet laid out

@dataclass
class Sheet:
    """One table laid out: its cells (row 1 the header), and everything both writers write around them."""

    title: str
    headers: list[str]
    rows: list[list[Any]]  # Excel values: int, float, Decimal, str, date, datetime, Hidden, or None for empty
    kinds: list[str]
    widths: list[float] = field(default_factory=list)
    header_wrap: list[bool] = field(default_factory=list)
    wrap_values: bool = False  # text values wrap, top-aligned (the Urval sheet)
    heights: dict[int, float] = field(default_factory=dict)  # row -> height in points, where text wraps
    note: str | None = None  # a sentence below the table, in row note_row, merged across the table's width
    note_row: int = 0
    fit_to_page: bool = True  # fitted to the page's width; else printed at 100 %, broken after col_breaks
    col_breaks: list[int] = field(default_factory=list)
    print_title_cols: str | None = None
    print_area: str = "A1:A1"


def column_letter(n: int) -> str:
    """1 -> A, 27 -> AA."""
    s = ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def _widths(headers: list[str], rows: list[list[Any]], kinds: list[str], is_wide: bool) -> list[float]:
    """Each column's width in characters: its header (wrapped at WIDE_HEADER on a wide sheet) or longest value as
    shown, within MIN and MAX_COLUMN_WIDTH. Each distinct value is sized once: a national table repeats its small
    counts thousands of times."""
    widths = [(min(len(h), WIDE_HEADER) if is_wide and c else len(h)) + 2 for c, h in enumerate(headers)]
    for c, kind in enumerate(kinds):
        distinct = {row[c] for row in rows} - {None}
        sizes = [display_width(v, kind) for v in distinct if not isinstance(v, Hidden)]
        if sizes:
            widths[c] = max(widths[c], *sizes)
    return [min(MAX_COLUMN_WIDTH, max(MIN_COLUMN_WIDTH, w + 1)) for w in widths]


def lay_out(title: str, headers: list[str], rows: list[list[Any]], kinds: list[str], note: str | None = None, *,
            wrap_values: bool = False) -> Sheet:
    """The sheet as it is written: widths, wrapped headers and their row heights, a note below the table, and its
    print setup. Landscape A4, the header row on every page. A sheet up to one and a half pages across is fitted to
    its width (printed at two thirds or more); a wider one (23 columns per initiative) is not shrunk to fit: it is
    printed over pages across, broken between groups of columns (Deltagare, Nya, …, each by sex), with its first
    column repeated on every page."""
    is_wide = wide(headers)
    s = Sheet(title, headers, rows, kinds, wrap_values=wrap_values)
    s.header_wrap = [len(h) > MAX_COLUMN_WIDTH or (is_wide and c > 0) for c, h in enumerate(headers)]
    widths = _widths(headers, rows, kinds, is_wide)
    if wrap_values:  # the Urval sheet: long values wrap in a column that fits the printed page with its label
        widths[-1] = min(max(widths[-1], MIN_COLUMN_WIDTH), PAGE_WIDTH - sum(widths[:-1]) - 5)
    s.widths = widths
    # wrapped text gets the rows it needs (neither Excel nor LibreOffice grows a row a file gives no height)
    if is_wide:
        s.heights[1] = LINE_PT * max(-(-len(h) // (widths[c] - 2)) for c, h in enumerate(headers))
    if wrap_values:
        for r, row in enumerate(rows, start=2):
            lines = max(_lines(v, w) for v, w in zip(row, widths))
            if lines > 1:
                s.heights[r] = LINE_PT * lines
    if note:  # why a sheet is empty (or what its empty cells mean): said in the sheet, below its table
        s.note, s.note_row = clean_text(note), len(rows) + 3
        span = max(1, len(headers))
        s.heights[s.note_row] = LINE_PT * (_lines(note, sum(widths[:span])) + 1)
    if not (sum(widths) <= PAGE_WIDTH * FIT_AT_MOST or len(headers) < 3):
        # "fit to" would ignore the breaks (in Excel and LibreOffice alike): printed at 100 %, broken by hand
        s.fit_to_page = False
        used = widths[0]
        for c in range(1, len(headers)):
            group = _group(headers[c])
            start = c == 1 or group != _group(headers[c - 1])
            size = sum(w for h, w in zip(headers[c:], widths[c:]) if _group(h) == group) if start else 0
            if start and used + size > PAGE_WIDTH and used > widths[0]:
                s.col_breaks.append(c)  # a break after column c (1-based): the group starts a new page
                used = widths[0]
            used += widths[c]
        s.print_title_cols = "A:A"
    s.print_area = f"A1:{column_letter(max(1, len(headers)))}{len(rows) + (3 if note else 1)}"
    return s


def lay_out_workbook(tables: Mapping[str, tuple[list[str], list[list[Any]], list[str]]], *,
                     meta: Mapping[str, Any] | None = None, notes: Mapping[str, str] | None = None) -> list[Sheet]:
    """Every sheet of a workbook: `tables` maps a name to its header, rows of Excel values and column kinds; `meta`
    (its values Excel values) becomes a first sheet `Urval`, so a forwarded file still says what it shows; `notes`
    maps a name to a sentence written below its table. Sheet names are made ones Excel accepts, each once."""
    notes = notes or {}
    used: set[str] = set()
    sheets = []
    if meta:
        sheets.append(lay_out(unique_title(META_SHEET, used), ["Uppgift", "Värde"],
                              [[clean_text(k), v] for k, v in meta.items()], ["general", "general"], wrap_values=True))
    for name, (headers, rows, kinds) in tables.items():
        sheets.append(lay_out(unique_title(sheet_title(name), used), headers, rows, kinds, notes.get(name)))
    return sheets
