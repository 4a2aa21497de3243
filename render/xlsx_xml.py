"""A workbook written as the XML an .xlsx holds, without a cell object per value.

render/workbook.py lays the sheets out (values, number formats, widths, wrapped text, notes, print setup); a
national table of 150 000 cells took openpyxl 2 s of cell objects and saving, most of `etl report --format
xlsx`. This writes the same workbook (the parts, styles, frozen header, filter, row heights, merged note, print
titles, breaks and page setup openpyxl writes for it) as text, in one pass, and imports neither openpyxl nor
pandas. tests/test_render_xlsx_xml.py reads both back and holds them to each other.
"""
from __future__ import annotations

import ast
import datetime as dt
import importlib.util
import io
import re
import zipfile
from collections.abc import Sequence
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

from .workbook import Sheet, cell_format, column_letter

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
INF = float("inf")
MAX_TEXT = 32767  # Excel's longest cell text; openpyxl cuts there too
ERROR_CODES = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A")  # text Excel reads as an error
BUILTIN_FORMATS = {"General": 0, "@": 49}  # Excel's own number formats among ours (NUMBER_FORMATS); others get ids
WINDOWS_EPOCH = dt.datetime(1899, 12, 30)


class NotPlain(Exception):
    """A value this writer does not write (an error text, a hidden count, a type of its own): use openpyxl."""


def _serial(v: dt.date) -> float:
    """A date as Excel's serial number, as openpyxl.utils.datetime.to_excel gives it (with Excel's leap day 1900)."""
    if not isinstance(v, dt.datetime):
        v = dt.datetime.combine(v, dt.time())
    days = (v - WINDOWS_EPOCH).days
    if 0 < days <= 60:
        days -= 1
    return days + (v.hour * 3600 + v.minute * 60 + v.second + v.microsecond / 10**6) / 86400


@lru_cache(maxsize=1)
def theme_xml() -> str:
    """The theme openpyxl writes into every workbook (Office's), read from openpyxl's source without importing
    openpyxl, whose import costs a quarter of a second of `etl report --format xlsx`."""
    source = Path(importlib.util.find_spec("openpyxl").origin).parent / "writer" / "theme.py"
    for node in ast.parse(source.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and [getattr(n, "id", None) for n in node.targets] == ["theme_xml"]:
            return node.value.value
    raise RuntimeError(f"{source} has no theme_xml")


def _text(s: str) -> str:
    if len(s) > MAX_TEXT:
        s = s[:MAX_TEXT]
    if s in ERROR_CODES or (len(s) > 1 and s.startswith("=")):
        raise NotPlain(s)
    space = ' xml:space="preserve"' if s != s.strip() else ""
    return f'<is><t{space}>{escape(s)}</t></is>'


HEADER, VALUE, NOTE = "header", "value", "note"


class _Styles:
    """cellXfs as openpyxl numbers them: 0 the default, then each (role, wrap, format) in order of first use."""

    def __init__(self):
        self.xfs: dict[tuple, int] = {(VALUE, False, None): 0}
        self.custom: dict[str, int] = {}

    def id(self, role: str, wrap: bool, fmt: str | None) -> int:
        key = (role, wrap, fmt)
        if key not in self.xfs:
            self.xfs[key] = len(self.xfs)
            if fmt is not None and fmt not in BUILTIN_FORMATS and fmt not in self.custom:
                self.custom[fmt] = 164 + len(self.custom)
        return self.xfs[key]

    def xml(self) -> str:
        num_fmts = "".join(f'<numFmt numFmtId="{i}" formatCode="{escape(f, {chr(34): "&quot;"})}"/>'
                           for f, i in self.custom.items())
        xfs = []
        for (role, wrap, fmt), _ in sorted(self.xfs.items(), key=lambda x: x[1]):
            num = 0 if fmt is None else BUILTIN_FORMATS.get(fmt, self.custom.get(fmt))
            align = '<alignment vertical="top" wrapText="1"/>' if wrap else '<alignment vertical="top"/>'
            if role == HEADER:
                xfs.append(f'<xf numFmtId="{num}" fontId="1" fillId="2" borderId="1" applyAlignment="1" xfId="0">'
                           f'{align}</xf>')
            elif role == NOTE or wrap:
                xfs.append(f'<xf numFmtId="{num}" fontId="{2 if role == NOTE else 0}" fillId="0" borderId="0" '
                           f'applyAlignment="1" xfId="0">{align}</xf>')
            else:
                xfs.append(f'<xf numFmtId="{num}" fontId="0" fillId="0" borderId="0" xfId="0"/>')
        return (f'<styleSheet xmlns="{MAIN}">'
                + (f'<numFmts count="{len(self.custom)}">{num_fmts}</numFmts>' if self.custom else "")
                + '<fonts count="3"><font><name val="Calibri"/><family val="2"/><color theme="1"/><sz val="11"/>'
                  '<scheme val="minor"/></font><font><b val="1"/></font><font><i val="1"/></font></fonts>'
                  '<fills count="3"><fill><patternFill/></fill><fill><patternFill patternType="gray125"/></fill>'
                  '<fill><patternFill patternType="solid"><fgColor rgb="00DCE6F1"/></patternFill></fill></fills>'
                  '<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>'
                  '<border><bottom style="thin"><color rgb="008A8A8A"/></bottom></border></borders>'
                  '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
                + f'<cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
                  '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
                  '</styleSheet>')


def _row(r: int, cells: list[str], heights: dict[int, float]) -> str:
    height = heights.get(r)
    ht = f' ht="{height:g}" customHeight="1"' if height is not None else ""
    return f'<row r="{r}"{ht}>{"".join(cells)}</row>'


def _sheet_xml(sheet: Sheet, styles: _Styles) -> str:
    n = len(sheet.headers)
    letters = [column_letter(c) for c in range(1, max(n, 1) + 1)]
    out = []
    add = out.append
    head = [f'<c r="{letters[c]}1" s="{styles.id(HEADER, wrap, None)}" t="inlineStr">{_text(h)}</c>'
            for c, (h, wrap) in enumerate(zip(sheet.headers, sheet.header_wrap))]
    if head:
        add(_row(1, head, sheet.heights))
    cache: dict[tuple, tuple[str, str, str]] = {}  # (column, type) -> the cell's opening, its style and type, its kind
    wrap_text = sheet.wrap_values

    def opening(c: int, v) -> tuple[str, str, str]:
        kind = sheet.kinds[c]
        if isinstance(v, str):
            s = styles.id(VALUE, wrap_text, cell_format(v, kind))
            style = f' s="{s}"' if s else ""
            return f'<c r="{letters[c]}', f'"{style} t="inlineStr">', "s"
        if isinstance(v, bool) or not isinstance(v, (int, float, Decimal, dt.date)):
            raise NotPlain(v)
        s = styles.id(VALUE, False, cell_format(v, kind))
        style = f' s="{s}"' if s else ""
        return (f'<c r="{letters[c]}', f'"{style} t="n"><v>',
                "d" if isinstance(v, dt.datetime) else ("t" if isinstance(v, dt.date) else "n"))

    last_row = 1 if head else 0
    for r, row in enumerate(sheet.rows, start=2):
        cells = []
        for c, v in enumerate(row):
            if v is None:
                continue
            o = cache.get((c, type(v)))
            if o is None or o[2] == "d":  # a date-time's format depends on its time of day: never cached
                o = opening(c, v)
                if o[2] != "d":
                    cache[(c, type(v))] = o
            a, b, what = o
            if what == "s":
                cells.append(f"{a}{r}{b}{_text(v)}</c>")
            elif what == "n":
                if v != v or v in (INF, -INF):
                    cells.append(f"{a}{r}{b}</v></c>")
                else:
                    cells.append(f"{a}{r}{b}{'%.16g' % v}</v></c>")  # as openpyxl writes a number (safe_string)
            else:
                cells.append(f"{a}{r}{b}{'%.16g' % _serial(v)}</v></c>")
        if cells:
            add(_row(r, cells, sheet.heights))
            last_row = r
    merge = ""
    if sheet.note:
        add(_row(sheet.note_row, [f'<c r="A{sheet.note_row}" s="{styles.id(NOTE, True, None)}" t="inlineStr">'
                                  f'{_text(sheet.note)}</c>'], sheet.heights))
        last_row = sheet.note_row
        if n > 1:
            merge = f'<mergeCells count="1"><mergeCell ref="A{sheet.note_row}:{letters[n - 1]}{sheet.note_row}"/></mergeCells>'
    last = f"{letters[n - 1]}{max(1, last_row)}" if n else "A1"
    cols = "".join(f'<col width="{w:g}" customWidth="1" min="{c}" max="{c}"/>'
                   for c, w in enumerate(sheet.widths, start=1))
    pane = ('<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
            '<selection pane="bottomLeft" activeCell="A1" sqref="A1"/>') if n else '<selection activeCell="A1" sqref="A1"/>'
    if sheet.fit_to_page:
        setup = '<pageSetup orientation="landscape" paperSize="9" fitToHeight="0" fitToWidth="1"/>'
    else:
        setup = '<pageSetup orientation="landscape" paperSize="9" scale="100"/>'
        if sheet.col_breaks:
            k = len(sheet.col_breaks)
            setup += (f'<colBreaks count="{k}" manualBreakCount="{k}">'
                      + "".join(f'<brk id="{c}" min="0" max="16383" man="1"/>' for c in sheet.col_breaks)
                      + "</colBreaks>")
    return (f'<worksheet xmlns="{MAIN}"><sheetPr><outlinePr summaryBelow="1" summaryRight="1"/>'
            f'<pageSetUpPr fitToPage="{int(sheet.fit_to_page)}"/></sheetPr><dimension ref="A1:{last}"/>'
            f'<sheetViews><sheetView workbookViewId="0">{pane}</sheetView></sheetViews>'
            f'<sheetFormatPr baseColWidth="8" defaultRowHeight="15"/>' + (f"<cols>{cols}</cols>" if cols else "")
            + f'<sheetData>{"".join(out)}</sheetData>'
            + (f'<autoFilter ref="A1:{letters[n - 1]}{max(1, len(sheet.rows) + 1)}"/>' if n else "")
            + merge
            + '<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5"/>'
            + setup + "</worksheet>")


def _quoted(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


def _range(area: str) -> str:
    """A1:Q3 -> $A$1:$Q$3, as a defined name holds it."""
    return re.sub(r"([A-Z]+)(\d+)", r"$\1$\2", area)


def workbook_bytes(sheets: Sequence[Sheet], *, creator: str = "Insatskollen") -> bytes:
    """The .xlsx of `sheets`; raises NotPlain for a value only openpyxl writes (the caller then uses openpyxl)."""
    if not sheets:
        raise NotPlain("a workbook without sheets")
    styles = _Styles()
    parts = [_sheet_xml(s, styles) for s in sheets]
    names = []
    for i, s in enumerate(sheets):
        n, title = len(s.headers), escape(_quoted(s.title))
        if n:
            ref = f"$A$1:${column_letter(n)}${max(1, len(s.rows) + 1)}"
            names.append(f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
                         f'{title}!{ref}</definedName>')
        titles = ([f"{title}!$1:$1"] if n else []) + (
            [f"{title}!${s.print_title_cols.replace(':', ':$')}"] if s.print_title_cols else [])
        if titles:
            names.append(f'<definedName name="_xlnm.Print_Titles" localSheetId="{i}">{",".join(titles)}</definedName>')
        names.append(f'<definedName name="_xlnm.Print_Area" localSheetId="{i}">{title}!{_range(s.print_area)}'
                     '</definedName>')
    workbook = (f'<workbook xmlns="{MAIN}"><workbookPr/><bookViews><workbookView activeTab="0"/></bookViews><sheets>'
                + "".join(f'<sheet xmlns:r="{REL}" name="{escape(s.title, {chr(34): "&quot;"})}" sheetId="{i}" '
                          f'state="visible" r:id="rId{i}"/>' for i, s in enumerate(sheets, start=1))
                + "</sheets>" + (f"<definedNames>{''.join(names)}</definedNames>" if names else "")
                + '<calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>')
    n = len(sheets)
    rels = ("".join(f'<Relationship Type="{REL}/worksheet" Target="/xl/worksheets/sheet{i}.xml" Id="rId{i}"/>'
                    for i in range(1, n + 1))
            + f'<Relationship Type="{REL}/styles" Target="styles.xml" Id="rId{n + 1}"/>'
            + f'<Relationship Type="{REL}/theme" Target="theme/theme1.xml" Id="rId{n + 2}"/>')
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    files = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            '<Override PartName="/xl/theme/theme1.xml" ContentType="application/vnd.openxmlformats-officedocument.theme+xml"/>'
            '<Override PartName="/docProps/core.xml" '
            'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
            '<Override PartName="/docProps/app.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
            + "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{SHEET_TYPE}"/>'
                      for i in range(1, n + 1))
            + '<Override PartName="/xl/workbook.xml" '
              'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>'),
        "_rels/.rels": (
            f'<Relationships xmlns="{PKG_REL}">'
            f'<Relationship Type="{REL}/officeDocument" Target="xl/workbook.xml" Id="rId1"/>'
            f'<Relationship Type="{PKG_REL}/metadata/core-properties" Target="docProps/core.xml" Id="rId2"/>'
            f'<Relationship Type="{REL}/extended-properties" Target="docProps/app.xml" Id="rId3"/></Relationships>'),
        "docProps/app.xml": ('<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
                             '<Application>Microsoft Excel Compatible / Insatskollen</Application></Properties>'),
        "docProps/core.xml": (
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f'<dc:creator>{escape(creator)}</dc:creator>'
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{now}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{now}</dcterms:modified></cp:coreProperties>'),
        "xl/workbook.xml": workbook,
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{PKG_REL}">{rels}</Relationships>',
        "xl/styles.xml": styles.xml(),
        "xl/theme/theme1.xml": theme_xml(),
        **{f"xl/worksheets/sheet{i}.xml": part for i, part in enumerate(parts, start=1)},
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, text in files.items():
            z.writestr(name, text.encode("utf-8"))
    return buf.getvalue()
