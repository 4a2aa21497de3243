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

No Streamlit here. What goes in each cell and how a sheet is laid out and printed is render/workbook.py's;
this module turns DataFrames into its rows and writes them through openpyxl, or as XML text for a large
workbook (render/xlsx_xml.py).
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
from . import xlsx_xml
from .format import fmt_date, is_missing
from .workbook import (_FORMULA_TRIGGERS, KINDS, META_SHEET, Hidden, Sheet, cell_format, clean_text,
                       lay_out_workbook, neutralise, plain_value, sheet_title, unique_title)
from .workbook import is_midnight as _is_midnight



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


_clean_text = clean_text  # render/workbook.py: no control characters, no formula


def _frame(df: pd.DataFrame) -> pd.DataFrame:
    """A named index carries data (e.g. 'Insats'): export it as columns instead of dropping it."""
    if not isinstance(df.index, pd.RangeIndex) and any(n is not None for n in df.index.names):
        return df.reset_index()
    return df


def _header(col: Any) -> str:
    if isinstance(col, tuple):
        col = " – ".join(str(c) for c in col if not is_missing(c))
    return _clean_text(col)


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
        try:  # the plain Python values of most cells first: _excel_value's answer for them, without its checks
            return plain_value(v, kind)
        except TypeError:
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
    formats = formats or {}
    used = {META_SHEET.lower()} if meta else set()  # the titles lay_out_workbook gives, which `formats` may use
    tables = {}
    for name, df in sheets.items():
        title = unique_title(sheet_title(name), used)
        tables[name] = _table(df, formats.get(name) or formats.get(title) or {}, hidden_marks)
    laid_out = lay_out_workbook(tables, meta=meta and {k: _excel_value(v, "general") for k, v in meta.items()},
                                notes=notes)
    # a large workbook as XML text (a national table); protection's #N/A cells with their notes through openpyxl
    if laid_out and not hidden_marks and sum(len(s.headers) * (len(s.rows) + 1) for s in laid_out) >= XML_CELLS:
        try:
            return xlsx_xml.workbook_bytes(laid_out)
        except xlsx_xml.NotPlain:
            pass  # a text Excel would read as an error, or a value of its own: openpyxl decides
    return openpyxl_bytes(laid_out)


def openpyxl_bytes(sheets: list[Sheet]) -> bytes:
    """The workbook of `sheets` (render/workbook.py) through openpyxl, which writes any value (xlsx_xml does not).

    openpyxl is imported here, when a workbook is written: every page imports this module for its CSV and tables,
    and a server's first visit would otherwise pay for openpyxl (about 0,07 s) before anything is asked of it."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    wb.properties.creator = "Insatskollen"
    for sheet in sheets:
        _write_sheet(wb.create_sheet(sheet.title), sheet)
    if not wb.worksheets:
        wb.create_sheet("Blad")  # a workbook without sheets cannot be opened
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _write_sheet(ws, s: Sheet) -> None:
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.pagebreak import Break

    header_fill = PatternFill("solid", fgColor="DCE6F1")
    header_font = Font(bold=True)
    header_border = Border(bottom=Side(style="thin", color="8A8A8A"))
    note_font = Font(italic=True)
    hidden_fill = PatternFill("lightGray", fgColor="BDBDBD")
    for c, (h, wrap) in enumerate(zip(s.headers, s.header_wrap), start=1):
        cell = ws.cell(row=1, column=c, value=h)
        cell.font, cell.fill, cell.border = header_font, header_fill, header_border
        cell.alignment = Alignment(vertical="top", wrap_text=wrap)
    for r, row in enumerate(s.rows, start=2):
        for c, value in enumerate(row, start=1):
            if value is None:
                continue  # missing stays an empty cell
            if isinstance(value, Hidden):
                cell = ws.cell(row=r, column=c)
                cell.value, cell.data_type = "#N/A", "e"
                cell.comment = Comment(f"Dolt av skyddet för små tal: {value.mark}", "Insatskollen", height=40, width=220)
                cell.fill = hidden_fill
                cell.alignment = Alignment(horizontal="right")
                continue
            cell = ws.cell(row=r, column=c, value=value)
            fmt = cell_format(value, s.kinds[c - 1])
            if fmt is not None:
                cell.number_format = fmt
            if s.wrap_values and isinstance(value, str):
                cell.alignment = Alignment(vertical="top", wrap_text=True)
    for c, w in enumerate(s.widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = w
    for r, height in s.heights.items():
        ws.row_dimensions[r].height = height
    if s.headers:
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = f"A1:{get_column_letter(len(s.headers))}{max(1, len(s.rows) + 1)}"
        ws.print_title_rows = "1:1"  # the header row on every printed page
    if s.note:
        cell = ws.cell(row=s.note_row, column=1, value=s.note)
        cell.font, cell.alignment = note_font, Alignment(wrap_text=True, vertical="top")
        if len(s.headers) > 1:
            ws.merge_cells(start_row=s.note_row, start_column=1, end_row=s.note_row, end_column=len(s.headers))
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = s.fit_to_page
    if s.fit_to_page:
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    else:
        ws.page_setup.scale = 100
        for c in s.col_breaks:
            ws.col_breaks.append(Break(id=c))
    if s.print_title_cols:
        ws.print_title_cols = s.print_title_cols
    ws.print_area = s.print_area


def board_pack_file_name(f) -> str:
    """`styrelseunderlag-2025.pptx` or `styrelseunderlag-2025-03-01_2025-08-31.pptx` (a metrics.Filters): here, not
    in render.deck, so that the sidebar can name the board pack without importing python-pptx before it is asked for."""
    period = str(f.start.year) if f.is_calendar_year else f"{f.start.isoformat()}_{f.end.isoformat()}"
    return f"styrelseunderlag-{period}.pptx"
