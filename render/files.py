"""Files for Swedish Excel: CSV that opens in columns, and xlsx with real numbers and dates.

Exports keep the raw values (numbers stay numbers, so the recipient can sum them);
only the cell's number format makes them look Swedish. Missing values are empty
cells, never 0.

Every text cell and header is guarded against formula injection (OWASP "CSV
injection"): names of initiatives, units and filter values come from files other
people typed, and a cell such as `=HYPERLINK(...)` must not become a live formula
when a colleague opens the export. The guard prepends an apostrophe, visibly, to
text starting with = + - @ tab or carriage return; negative *numbers* are numbers
and are left alone.

No Streamlit here: the ETL's annual report writes its workbook with this module too.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

from . import xlsx_xml
from .format import fmt_date, fmt_datetime, fmt_int, fmt_kr, fmt_number, fmt_pct, fmt_tkr, is_missing

_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

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

MAX_COLUMN_WIDTH = 60
MIN_COLUMN_WIDTH = 8
HEADER_FILL = PatternFill("solid", fgColor="DCE6F1")
HEADER_FONT = Font(bold=True)
HEADER_BORDER = Border(bottom=Side(style="thin", color="8A8A8A"))
META_SHEET = "Urval"


def neutralise(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe; anything else is returned as is."""
    if isinstance(value, str) and value.startswith(_FORMULA_TRIGGERS):
        return "'" + value
    return value


def neutralise_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy with every text cell neutralised: what a browser's table can copy or save is as safe as an export
    (issue 22). Numbers, dates and missing values are left as they are, so columns still sort as before."""
    out = df.copy()
    for c in range(out.shape[1]):
        col = out.iloc[:, c]
        if col.dtype == object or isinstance(col.dtype, pd.StringDtype):
            if col.map(lambda v: isinstance(v, str) and v.startswith(_FORMULA_TRIGGERS)).any():
                out.isetitem(c, col.map(neutralise).astype(col.dtype))
    return out


def _clean_text(value: Any) -> str:
    # openpyxl refuses control characters; they are never meaningful in a report cell.
    return neutralise(ILLEGAL_CHARACTERS_RE.sub("", str(value)))


def _frame(df: pd.DataFrame) -> pd.DataFrame:
    """A named index carries data (e.g. 'Insats'): export it as columns instead of dropping it."""
    if not isinstance(df.index, pd.RangeIndex) and any(n is not None for n in df.index.names):
        return df.reset_index()
    return df


def _header(col: Any) -> str:
    if isinstance(col, tuple):
        col = " – ".join(str(c) for c in col if not is_missing(c))
    return _clean_text(col)


def _is_midnight(v: dt.datetime) -> bool:
    return (v.hour, v.minute, v.second, v.microsecond) == (0, 0, 0, 0)


def _naive(v: dt.datetime) -> dt.datetime:
    """Excel has no time zones: keep the wall-clock time the reader expects."""
    if isinstance(v, pd.Timestamp):
        v = v.to_pydatetime()
    return v.replace(tzinfo=None) if v.tzinfo is not None else v


# ----------------------------------------------------------------------------- CSV

def _csv_cell(v: Any) -> str:
    if is_missing(v):
        return ""
    if isinstance(v, (bool, np.bool_)):
        return "Ja" if v else "Nej"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        if not math.isfinite(float(v)):
            return ""
        return np.format_float_positional(float(v), trim="-").replace(".", ",")
    if isinstance(v, Decimal):
        return format(v, "f").replace(".", ",") if v.is_finite() else ""
    if isinstance(v, np.datetime64):
        v = pd.Timestamp(v)
    if isinstance(v, dt.datetime):
        v = _naive(v)
        return fmt_date(v) if _is_midnight(v) else f"{fmt_date(v)} {v:%H:%M:%S}"
    if isinstance(v, dt.date):
        return fmt_date(v)
    return _clean_text(v)


def as_percent(df: pd.DataFrame, columns) -> pd.DataFrame:
    """Shares (0..1) as per cent rounded as on screen, the unit in the header: `Andel kvinnor (%)` holding `30,8`
    where the file would otherwise say `0,308`. A missing share stays empty; text (a mark) passes through."""
    out = df.copy()
    for col in [c for c in columns if c in out.columns]:
        out[col] = [v if isinstance(v, str) or is_missing(v) else round(float(v) * 100, 1) for v in out[col]]
        out = out.rename(columns={col: f"{col} (%)"})
    return out


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """A CSV that Swedish Excel opens by double-click: `;`, BOM, decimal comma, CRLF.

    Swedish Excel expects `;` because `,` is its decimal mark, and needs the BOM
    to read the file as UTF-8 (å, ä, ö). Floats are written in full (no rounding);
    dates as YYYY-MM-DD; missing values as empty fields.
    """
    df = _frame(df)
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([_header(c) for c in df.columns])
    for row in df.itertuples(index=False, name=None):
        writer.writerow([_csv_cell(v) for v in row])
    return buf.getvalue().encode("utf-8-sig")


# ----------------------------------------------------------------------------- Excel

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


def _unique_title(title: str, used: set[str]) -> str:
    """Excel compares sheet names case-insensitively; a clash gets ' (2)', ' (3)' … within 31 characters."""
    candidate, n = title, 1
    while candidate.lower() in used:
        n += 1
        suffix = f" ({n})"
        candidate = title[: 31 - len(suffix)].rstrip() + suffix
    used.add(candidate.lower())
    return candidate


def _all_midnight(values: list) -> bool:
    return all(_is_midnight(_naive(v)) for v in values)


def _guess_kind(s: pd.Series) -> str:
    """A format from the column's type when the caller did not name one."""
    dtype = s.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "general"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        vals = s.dropna()
        vals = vals[np.isfinite(vals.to_numpy(dtype=float))]
        return "int" if len(vals) and bool((vals == vals.round()).all()) else "number"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        vals = [v for v in s.tolist() if not is_missing(v)]
        return "date" if _all_midnight(vals) else "datetime"
    vals = [v for v in s.tolist() if not is_missing(v)]
    if not vals:
        return "general"
    if all(isinstance(v, (dt.datetime, np.datetime64)) for v in vals):
        vals = [pd.Timestamp(v) for v in vals]
        return "date" if _all_midnight(vals) else "datetime"
    if all(isinstance(v, dt.date) for v in vals):
        return "date"
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) for v in vals):
        return "int"
    return "general"


def _as_date(v: Any, kind: str) -> Any:
    """A real Excel date cell from any date-like value; text that is not a date stays text."""
    if isinstance(v, np.datetime64):
        v = pd.Timestamp(v)
    if isinstance(v, str):
        try:
            v = pd.Timestamp(dt.datetime.fromisoformat(v.strip()))
        except ValueError:
            return _clean_text(v)
    if isinstance(v, dt.datetime):
        v = _naive(v)
        return v.date() if kind == "date" else v
    if isinstance(v, dt.date):
        return v if kind == "date" else dt.datetime(v.year, v.month, v.day)
    return _excel_value(v, "general")


def _excel_value(v: Any, kind: str) -> Any:
    if is_missing(v):
        return None
    if kind == "text":
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            v = int(v)  # a code read as 2.0 is the text "2"
        return _clean_text(fmt_date(v) if isinstance(v, (dt.date, np.datetime64)) else v)
    if kind in ("date", "datetime"):
        return _as_date(v, kind)
    if isinstance(v, (bool, np.bool_)):
        return "Ja" if v else "Nej"
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v) if math.isfinite(float(v)) else None
    if isinstance(v, Decimal):
        return v if v.is_finite() else None
    if isinstance(v, (dt.datetime, dt.date, np.datetime64)):
        return _as_date(v, "datetime" if isinstance(v, (dt.datetime, np.datetime64)) else "date")
    return _clean_text(v)


_DISPLAY = {"int": fmt_int, "kr": fmt_kr, "tkr": fmt_tkr, "pct": fmt_pct, "date": fmt_date,
            "datetime": fmt_datetime, "number": lambda x: fmt_number(x, 2)}


def _display_width(v: Any, kind: str) -> int:
    """Roughly how many characters Excel will show, to size the column."""
    if v is None:
        return 0
    if isinstance(v, str):
        return max(len(line) for line in v.splitlines() or [""])
    if isinstance(v, dt.datetime):
        return 16 if kind == "datetime" or not _is_midnight(v) else 10
    if isinstance(v, dt.date):
        return 10
    return len(_DISPLAY.get(kind, lambda x: fmt_number(x, 2))(v))


_NUMERIC_KINDS = frozenset({"int", "kr", "tkr", "pct", "number"})
_PLAIN_KINDS = _NUMERIC_KINDS | {"general"}  # a number stays the number


def _cell_format(value: Any, kind: str) -> str | None:
    """The column's format where it fits the value; a date is always shown as a date, never as a serial."""
    if isinstance(value, str):
        return NUMBER_FORMATS["text"] if kind == "text" else None
    if isinstance(value, dt.datetime):
        return NUMBER_FORMATS["datetime" if kind == "datetime" or not _is_midnight(value) else "date"]
    if isinstance(value, dt.date):
        return NUMBER_FORMATS["date"]
    return NUMBER_FORMATS[kind] if kind in _NUMERIC_KINDS else None


HIDDEN_FILL = PatternFill("lightGray", fgColor="BDBDBD")


class Hidden:
    """A count protection hides: written as Excel's #N/A error with a note, so sums over it fail loudly."""

    def __init__(self, mark: str) -> None:
        self.mark = mark


def _widths(headers: list[str], rows: list[list[Any]], kinds: list[str]) -> list[int]:
    """Each column's width in characters: its longest header or value as shown, within MIN and MAX_COLUMN_WIDTH."""
    widths = [len(h) + 2 for h in headers]  # bold header needs a little extra
    for c, kind in enumerate(kinds):
        column = [row[c] for row in rows]
        types = set(map(type, column)) - {type(None)}
        if len(types) == 1 and Hidden not in types:  # one type: each distinct value sized once (a national table
            distinct = set(column) - {None}  # repeats its small counts thousands of times)
            widths[c] = max(widths[c], *(_display_width(v, kind) for v in distinct)) if distinct else widths[c]
        else:
            for v in column:
                if v is not None:
                    widths[c] = max(widths[c], 5 if isinstance(v, Hidden) else _display_width(v, kind))
    return [min(MAX_COLUMN_WIDTH, max(MIN_COLUMN_WIDTH, w + 1)) for w in widths]


PAGE_WIDTH = 135  # column-width units that fit across a landscape A4 page at 100 % (Calibri 11, default margins)
FIT_AT_MOST = 1.5  # a sheet up to this many pages wide is fitted to one page's width; a wider one is broken
WIDE_HEADER = 16  # on a sheet wider than a page, headers wrap at about this width, so columns size to their numbers
NOTE_FONT = Font(italic=True)


def _print_setup(ws: Worksheet, headers: list[str], widths: list[float]) -> None:
    """Landscape A4, the header row on every page. A sheet up to one and a half pages across is fitted to its
    width (printed at two thirds or more); a wider one (23 columns per initiative) is not shrunk to fit: it is
    printed over pages across, broken between groups of columns (Deltagare, Nya, …, each by sex), with its
    first column repeated on every page."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    if sum(widths) <= PAGE_WIDTH * FIT_AT_MOST or len(headers) < 3:  # shrunk to no less than about 2/3: readable
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
        return
    # "fit to" would ignore the breaks (in Excel and LibreOffice alike): printed at 100 %, broken by hand
    ws.sheet_properties.pageSetUpPr.fitToPage = False
    ws.page_setup.scale = 100
    used = widths[0]
    for c in range(1, len(headers)):
        group = _group(headers[c])
        start = c == 1 or group != _group(headers[c - 1])
        size = sum(w for h, w in zip(headers[c:], widths[c:]) if _group(h) == group) if start else 0
        if start and used + size > PAGE_WIDTH and used > widths[0]:
            ws.col_breaks.append(Break(id=c))  # a break after column c (1-based): the group starts a new page
            used = widths[0]
        used += widths[c]
    ws.print_title_cols = "A:A"


LINE_PT = 15  # a line of Calibri 11, in points


def _lines(value: Any, width: float) -> int:
    """About how many lines a wrapped text takes in a column `width` characters wide."""
    if not isinstance(value, str):
        return 1
    return sum(max(1, -(-len(part) // max(1, int(width) - 2))) for part in value.splitlines() or [""])


def _group(header: str) -> str:
    """'Deltagare kvinnor' -> 'Deltagare': the measure a wide sheet's column belongs to (its sex word dropped)."""
    words = header.split()
    return " ".join(words[:-1]) if len(words) > 1 and words[-1] in _SEX_WORDS else header


_SEX_WORDS = frozenset({"kvinnor", "män", "annat/okänt", "totalt"})


def _wide(headers: list[str]) -> bool:
    """Whether a sheet is wider than a printed page: its headers wrap and it may be broken across pages."""
    return sum(len(h) + 3 for h in headers) > PAGE_WIDTH and len(headers) > 3


def _write_table(ws: Worksheet, headers: list[str], rows: list[list[Any]], kinds: list[str],
                 note: str | None = None, *, wrap_values: bool = False) -> None:
    wide = _wide(headers)
    widths = [(min(len(h), WIDE_HEADER) if wide and c else len(h)) + 2 for c, h in enumerate(headers)]
    for c, h in enumerate(headers, start=1):
        cell = ws.cell(row=1, column=c, value=h)
        cell.font, cell.fill, cell.border = HEADER_FONT, HEADER_FILL, HEADER_BORDER
        cell.alignment = Alignment(vertical="top", wrap_text=len(h) > MAX_COLUMN_WIDTH or (wide and c > 1))
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row, start=1):
            if value is None:
                continue  # missing stays an empty cell
            if isinstance(value, Hidden):
                cell = ws.cell(row=r, column=c)
                cell.value, cell.data_type = "#N/A", "e"
                cell.comment = Comment(f"Dolt av skyddet för små tal: {value.mark}", "Insatskollen", height=40, width=220)
                cell.fill = HIDDEN_FILL
                cell.alignment = Alignment(horizontal="right")
                continue
            cell = ws.cell(row=r, column=c, value=value)
            fmt = _cell_format(value, kinds[c - 1])
            if fmt is not None:
                cell.number_format = fmt
            if wrap_values and isinstance(value, str):
                cell.alignment = Alignment(vertical="top", wrap_text=True)
            widths[c - 1] = max(widths[c - 1], _display_width(value, kinds[c - 1]))
    widths = [min(MAX_COLUMN_WIDTH, max(MIN_COLUMN_WIDTH, w + 1)) for w in widths]
    if wrap_values:  # the Urval sheet: long values wrap in a column that fits the printed page with its label
        widths[-1] = min(max(widths[-1], MIN_COLUMN_WIDTH), PAGE_WIDTH - sum(widths[:-1]) - 5)
    for c, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = w
    # wrapped text gets the rows it needs (neither Excel nor LibreOffice grows a row openpyxl wrote)
    if wide:
        ws.row_dimensions[1].height = LINE_PT * max(-(-len(h) // (widths[c] - 2)) for c, h in enumerate(headers))
    if wrap_values:
        for r, row in enumerate(rows, start=2):
            lines = max(_lines(v, w) for v, w in zip(row, widths))
            if lines > 1:
                ws.row_dimensions[r].height = LINE_PT * lines
    if headers:
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{max(1, len(rows) + 1)}"
        ws.print_title_rows = "1:1"  # the header row on every printed page
    if note:  # why a sheet is empty (or what its empty cells mean): said in the sheet, below its table
        at = len(rows) + 3
        cell = ws.cell(row=at, column=1, value=_clean_text(note))
        cell.font, cell.alignment = NOTE_FONT, Alignment(wrap_text=True, vertical="top")
        span = max(1, len(headers))
        if span > 1:
            ws.merge_cells(start_row=at, start_column=1, end_row=at, end_column=span)
        ws.row_dimensions[at].height = LINE_PT * (_lines(note, sum(widths[:span])) + 1)
    _print_setup(ws, headers, widths)
    last = get_column_letter(max(1, len(headers)))
    ws.print_area = f"A1:{last}{len(rows) + (3 if note else 1)}"


def _table(df: pd.DataFrame, formats: Mapping[str, str], hidden_marks: Mapping[int, str] | None = None
           ) -> tuple[list[str], list[list[Any]], list[str]]:
    """A frame as a sheet's header, rows of Excel values and column kinds."""
    df = _frame(df)
    kinds = []
    for i, col in enumerate(df.columns):
        kind = formats.get(col) or formats.get(str(col)) or _guess_kind(df.iloc[:, i])
        if kind not in KINDS and kind != "general":
            raise ValueError(f"Okänt format {kind!r} för kolumnen {col!r}; välj bland {sorted(KINDS)}")
        kinds.append(kind)
    marks = hidden_marks or {}

    def value(v, kind):
        if marks and kind == "int" and not isinstance(v, bool) and isinstance(v, (int, np.integer)) and int(v) in marks:
            return Hidden(marks[int(v)])
        t = type(v)  # the plain Python values of most cells first: _excel_value's answer for them, without its checks
        if t is int and kind in _PLAIN_KINDS:
            return v
        if t is float and kind in _PLAIN_KINDS:
            return v if math.isfinite(v) else None
        if t is str and kind not in ("date", "datetime"):
            return _clean_text(v) if v.strip() else None
        return _excel_value(v, kind)

    rows = [[value(v, kinds[c]) for c, v in enumerate(row)] for row in df.itertuples(index=False, name=None)]
    return [_header(c) for c in df.columns], rows, kinds


XML_CELLS = 20_000  # from this many cells a workbook is written as XML text (render/xlsx_xml.py), not through openpyxl


def to_excel_bytes(sheets: Mapping[str, pd.DataFrame], *, meta: Mapping[str, Any] | None = None,
                   formats: Mapping[str, Mapping[str, str]] | None = None,
                   hidden_marks: Mapping[int, str] | None = None, notes: Mapping[str, str] | None = None) -> bytes:
    """An .xlsx workbook, one sheet per table, ready to filter and print.

    `formats` maps sheet name -> column -> 'int' | 'kr' | 'tkr' | 'pct' | 'number' |
    'date' | 'datetime' | 'text'; columns not named get a format from their dtype.
    `meta` (filters, export time, data load time) becomes a first sheet `Urval`, so a
    forwarded file still says what it shows. `hidden_marks` maps the codes of counts protection
    hides (metrics.suppress) to their marks: such cells of count columns become #N/A with a note.
    `notes` maps sheet name -> a sentence written below its table (why the sheet is empty, say).
    Every sheet prints landscape with its header row repeated; a sheet wider than a page is printed over
    pages across, broken between groups of columns, its first column repeated, instead of shrunk to fit.
    """
    notes = notes or {}
    formats = formats or {}
    tables = []  # (title, header, rows, kinds)
    names: dict[str, str] = {}  # sheet title -> the name `notes` knows it by
    used: set[str] = set()
    if meta:
        tables.append((_unique_title(META_SHEET, used), ["Uppgift", "Värde"],
                       [[_clean_text(k), _excel_value(v, "general")] for k, v in meta.items()], ["general", "general"]))
    for name, df in sheets.items():
        title = _unique_title(sheet_title(name), used)
        names[title] = name
        tables.append((title, *_table(df, formats.get(name) or formats.get(title) or {}, hidden_marks)))
    # a large plain workbook as XML text (a national table): only where openpyxl would lay every sheet out as the
    # XML writer does — no Urval to wrap, no note, no sheet wider than a page (broken across pages, headers wrapped)
    plain = not meta and not notes and not any(_wide(headers) for _, headers, _, _ in tables)
    if tables and plain and not hidden_marks and sum(len(t[1]) * (len(t[2]) + 1) for t in tables) >= XML_CELLS:
        sheets_ = [xlsx_xml.Sheet(title, headers, rows, kinds, _widths(headers, rows, kinds))
                   for title, headers, rows, kinds in tables]
        try:
            return xlsx_xml.workbook_bytes(sheets_, _cell_format, creator="Insatskollen", max_width=MAX_COLUMN_WIDTH)
        except xlsx_xml.NotPlain:
            pass  # a text Excel would read as a formula or an error, or a value of its own: openpyxl decides
    wb = Workbook()
    wb.remove(wb.active)
    wb.properties.creator = "Insatskollen"
    for i, (title, headers, rows, kinds) in enumerate(tables):
        urval = bool(meta) and i == 0  # the Urval sheet: its long values wrap within the printed page
        _write_table(wb.create_sheet(title), headers, rows, kinds, None if urval else notes.get(names[title]),
                     wrap_values=urval)
    if not wb.worksheets:
        wb.create_sheet("Blad")  # a workbook without sheets cannot be opened
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
