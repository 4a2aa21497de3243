"""Look inside an xlsx before calamine reads it: sizes, sheets, and the cells calamine would misread.

calamine fills the whole rectangle up to a sheet's last cell, so one cell at XFD1048576 asks for
hundreds of gigabytes; a zip part may expand a thousandfold. It also reads a formula that was never
calculated (a workbook written by a script and never opened in Excel) and an Excel error such as
#DIV/0! as an empty cell, which would load as a missing end date or amount. So the zip's parts are
measured first, and each sheet's XML is streamed once, in chunks, with byte-level patterns (not a
DOM, which would cost more than the reading itself): its real extent, its declared <dimension>, and
the cells with an uncached formula or an error value.

The few small parts read as XML (the relationships and the workbook's list of sheets) are parsed
with defusedxml, and no part may declare a DTD at all: Excel never writes one, and a DTD is how an
XML file expands a few bytes into gigabytes (billion laughs) or reads a file of the server's
(external entities). The sheets are never parsed as XML here, and calamine gets them only after this.
"""
from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeElementTree

from core.problems import FileRefused

from . import limits

CHUNK = 4 * limits.MB
MAX_WORKBOOK_XML = 16 * limits.MB

_P = rb"(?:[A-Za-z_][\w.-]*:)?"  # an optional namespace prefix (some writers use <x:c>)
_ROW_END = re.compile(rb"</" + _P + rb"row>|<" + _P + rb"row\b[^>]*/>")
_ROW_WHOLE = re.compile(rb"<" + _P + rb"row\b([^>]*)(?<!/)>(.*?)</" + _P + rb"row>", re.S)
_R_ATTR = re.compile(rb"\sr=[\"'](\d+)[\"']")
_DIMENSION = re.compile(rb"<" + _P + rb"dimension\s(?:[^>]*?\s)?ref=[\"']([^\"']*)[\"']")
_F_TAG = re.compile(rb"<" + _P + rb"f[\s/>]")
_ERROR_TYPE = re.compile(rb"<" + _P + rb"c\s[^>]*?\bt=[\"']e[\"']")
_CELL = re.compile(rb"<(" + _P + rb")c(\s[^>]*?)?(?:/>|>(.*?)</\1c>)", re.S)
_CELL_REF = re.compile(rb"\sr=[\"']([A-Z]{1,3})([0-9]{1,7})[\"']")
_CELL_TYPE = re.compile(rb"\st=[\"']([A-Za-z]+)[\"']")
_VALUE = re.compile(rb"<" + _P + rb"v(?:\s[^>]*)?(?:/>|>(.*?)</" + _P + rb"v>)", re.S)
_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d{1,7})$")

PROLOG_BYTES = 64 * 1024  # an XML part's declaration, comments and DTD come before its first element
_ROOT_START = re.compile(rb"<[A-Za-z_]")
DTD_REFUSED = ("arbetsboken innehåller XML med egna definitioner (DTD eller entiteter), något Excel aldrig skriver "
               "och som kan användas för att angripa servern; filen läses inte. Öppna den i Excel och spara den "
               "som en ny arbetsbok")

UNCACHED = ("formeln i cellen har inget sparat värde (arbetsboken har skapats av ett program och aldrig "
            "räknats om i Excel), så cellen skulle läsas som tom. Öppna filen i Excel, spara den och försök igen")


def column_letters(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA: the column as Excel names it."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_number(letters: bytes | str) -> int:
    """A → 1, AA → 27."""
    n = 0
    for ch in letters.upper() if isinstance(letters, str) else letters.decode().upper():
        n = n * 26 + ord(ch) - 64
    return n


@dataclass
class SheetInfo:
    name: str
    state: str = "visible"  # visible, hidden or veryHidden
    part: str | None = None  # the worksheet's XML in the zip; None for a chart sheet
    declared: tuple[int, int] | None = None  # (last row, last column) of <dimension>
    rows: int = 0  # last row with a cell
    cols: int = 0  # last column with a cell
    bad_cells: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, column index) -> message
    unplaced: list[str] = field(default_factory=list)  # such messages for cells without a reference


def _refuse(message: str, sheet: str | None = None) -> FileRefused:
    return FileRefused(message, sheet=sheet)


def inspect(path: Path) -> list[SheetInfo]:
    """Every sheet of the workbook, measured; raises FileRefused for what must not be read."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise _refuse("filen är ingen giltig Excel-arbetsbok (xlsx): den är skadad, avkortad eller en annan "
                      "sorts fil. Öppna den i Excel och spara den som Excel-arbetsbok (.xlsx)") from None
    with zf:
        members = {i.filename: i for i in zf.infolist()}
        _check_sizes(members)
        try:
            _check_no_dtd(zf, members)
            sheets = _sheets(zf, members)
            for s in sheets:
                if s.part:
                    _scan(zf, members[s.part], s)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError,
                RuntimeError, ElementTree.ParseError):
            raise _refuse("filen är skadad (en del av arbetsboken kan inte packas upp eller läsas). "
                          "Öppna den i Excel och spara den igen") from None
    return sheets


def _check_sizes(members: dict[str, zipfile.ZipInfo]) -> None:
    total = sum(i.file_size for i in members.values())
    if total > limits.MAX_XLSX_UNCOMPRESSED:
        raise _refuse(f"arbetsboken packas upp till {_mb(total)} MB, mer än gränsen {_mb(limits.MAX_XLSX_UNCOMPRESSED)} MB; "
                      "dela upp den eller spara den som CSV (semikolonavgränsad)")
    for info in members.values():
        if info.flag_bits & 0x1:
            raise _refuse("arbetsboken är krypterad; spara den utan lösenord")
        if info.file_size > limits.MAX_XLSX_PART:
            raise _refuse(f"en del av arbetsboken ({info.filename}) packas upp till {_mb(info.file_size)} MB, mer än "
                          f"gränsen {_mb(limits.MAX_XLSX_PART)} MB; dela upp den eller spara den som CSV")
        if info.file_size > limits.RATIO_FLOOR and info.file_size > limits.MAX_XLSX_RATIO * max(info.compress_size, 1):
            raise _refuse(f"en del av arbetsboken ({info.filename}) packas upp {info.file_size // max(info.compress_size, 1)} "
                          f"gånger större än den är packad (gränsen är {limits.MAX_XLSX_RATIO}); filen läses inte")


def _mb(n: int) -> str:
    return f"{n / limits.MB:,.0f}".replace(",", " ")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _attr(el: ElementTree.Element, local: str) -> str | None:
    for k, v in el.attrib.items():
        if _local(k) == local:
            return v
    return None


def _xml(zf: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], name: str) -> ElementTree.Element | None:
    info = members.get(name)
    if info is None:
        return None
    if info.file_size > MAX_WORKBOOK_XML:
        raise _refuse(f"en del av arbetsboken ({name}) är orimligt stor")
    try:
        return SafeElementTree.fromstring(zf.read(info), forbid_dtd=True)
    except DefusedXmlException:
        raise _refuse(DTD_REFUSED) from None


def _prolog(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes | None:
    """The part's bytes before its first element, upper-cased (UTF-16 as UTF-8); None when no element starts
    within PROLOG_BYTES of a longer part (a prolog that long hides something: no writer pads it so)."""
    with zf.open(info) as fh:
        head = fh.read(PROLOG_BYTES)
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        head = head.decode("utf-16", "replace").encode("utf-8")
    m = _ROOT_START.search(head)
    if m is None and info.file_size > PROLOG_BYTES:
        return None
    return (head[:m.start()] if m else head).upper()


def _check_no_dtd(zf: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo]) -> None:
    """Refuse a workbook one of whose XML parts declares a DTD, before anything (ours or calamine) parses it."""
    for name, info in members.items():
        if name.lower().endswith((".xml", ".rels", ".vml")):
            prolog = _prolog(zf, info)
            if prolog is None or b"<!DOCTYPE" in prolog or b"<!ENTITY" in prolog:
                raise _refuse(DTD_REFUSED)


def _resolve(base_dir: str, target: str) -> str:
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join(base_dir, target))


def _sheets(zf: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo]) -> list[SheetInfo]:
    workbook = "xl/workbook.xml"
    root_rels = _xml(zf, members, "_rels/.rels")
    if root_rels is not None:
        for rel in root_rels:
            if (rel.get("Type") or "").endswith("/officeDocument") and rel.get("Target"):
                workbook = _resolve("", rel.get("Target"))
    book = _xml(zf, members, workbook)
    if book is None:
        raise _refuse("filen är ingen Excel-arbetsbok (den saknar arbetsbokens innehållsförteckning); "
                      "spara den som Excel-arbetsbok (.xlsx)")
    base = posixpath.dirname(workbook)
    rels_xml = _xml(zf, members, posixpath.join(base, "_rels", posixpath.basename(workbook) + ".rels"))
    rels = {}
    if rels_xml is not None:
        for rel in rels_xml:
            if rel.get("Id"):
                rels[rel.get("Id")] = (rel.get("Type") or "", rel.get("Target") or "")
    sheets = []
    for el in book.iter():
        if _local(el.tag) != "sheet":
            continue
        info = SheetInfo(name=el.get("name") or "", state=el.get("state") or "visible")
        kind, target = rels.get(_attr(el, "id") or "", ("", ""))
        if kind.endswith("/worksheet"):
            info.part = _resolve(base, target)
            if info.part not in members:
                raise _refuse("bladet saknas i filen (arbetsboken är skadad); öppna den i Excel och spara den igen",
                              sheet=info.name)
        sheets.append(info)
    return sheets


def _pieces(zf: zipfile.ZipFile, member: zipfile.ZipInfo, sheet: SheetInfo):
    """The sheet's XML in pieces of about CHUNK bytes, each ending at a row's end (so no cell is split)."""
    carry = b""
    read = 0
    with zf.open(member) as fh:
        while True:
            chunk = fh.read(CHUNK)
            read += len(chunk)
            if read > limits.MAX_XLSX_PART:
                raise _refuse("bladet packas upp till mer än gränsen "
                              f"{_mb(limits.MAX_XLSX_PART)} MB; dela upp det eller spara det som CSV", sheet=sheet.name)
            buf = carry + chunk
            if not chunk:
                if buf:
                    yield buf
                return
            cut = _last_row_end(buf)
            if cut is None:
                if len(buf) > limits.MAX_ROW_XML:
                    raise _refuse("en rad i bladet är orimligt stor", sheet=sheet.name)
                carry = buf
                continue
            yield buf[:cut]
            carry = buf[cut:]


class _Patterns:
    """Byte patterns for one sheet, with its namespace prefix written out (a literal start keeps them fast)."""

    def __init__(self, prefix: bytes):
        p = re.escape(prefix)
        self.col = re.compile(rb"<" + p + rb"c r=[\"']([A-Z]{1,3})[0-9]")
        self.cell = b"<" + prefix + b"c "
        self.odd_cell = re.compile(rb"<" + p + rb"c[>\n\t\r]")  # a cell whose r="…" cannot come first
        self.row_r = re.compile(rb"<" + p + rb"row\s(?:[^>]*?\s)?r=[\"']([0-9]+)")
        self.odd_row = re.compile(rb"<" + p + rb"row(?:>|\s(?!(?:[^>]*?\s)?r=))")  # a row without r="…"
        self.formula = b"<" + prefix + b"f"


_SHEET_DATA = re.compile(rb"<(" + _P + rb")sheetData[\s>/]")


def _scan(zf: zipfile.ZipFile, member: zipfile.ZipInfo, sheet: SheetInfo) -> None:
    """Extent, dimension and unreadable cells of one sheet, streamed once.

    The extent is first estimated fast (every cell with a reference counts, even an empty formatted
    one); only an estimate over the limit, or a sheet whose cells or rows lack references, is
    measured again counting cells with content, which is what calamine fills its rectangle up to.
    """
    cols: set[bytes] = set()
    max_row = 0
    unreferenced = False
    pat: _Patterns | None = None
    for piece in _pieces(zf, member, sheet):
        if pat is None:
            if m := _DIMENSION.search(piece):
                sheet.declared = _dimension(m[1].decode("ascii", "replace"))
                _check_cells(sheet, sheet.declared, declared=True)
            m = _SHEET_DATA.search(piece)
            pat = _Patterns(m[1] if m else b"")
        found = pat.col.findall(piece)
        cols.update(found)
        if not unreferenced and (piece.count(pat.cell) != len(found) or pat.odd_cell.search(piece)
                                 or pat.odd_row.search(piece)):
            unreferenced = True  # a cell or row without r="…", or attributes in another order
        rows = pat.row_r.findall(piece)
        if rows:
            longest = max(map(len, rows))
            max_row = max(max_row, int(max(r for r in rows if len(r) == longest)))
        if (pat.formula in piece and _F_TAG.search(piece)) or (
                (b't="e"' in piece or b"t='e'" in piece) and _ERROR_TYPE.search(piece)):
            _bad_cells(piece, sheet)
    sheet.rows = max_row
    sheet.cols = max((column_number(c) for c in cols), default=0)
    if unreferenced:
        _measure(zf, member, sheet)
    elif sheet.rows * sheet.cols > limits.MAX_SHEET_CELLS:
        _measure_valued(zf, member, sheet, pat)  # type: ignore[arg-type]
    _check_cells(sheet, (sheet.rows, sheet.cols), declared=False)


def _measure_valued(zf: zipfile.ZipFile, member: zipfile.ZipInfo, sheet: SheetInfo, pat: _Patterns) -> None:
    """The extent of the cells with content, every cell having its reference first (`<c r="…" …>`, not `…/>`)."""
    valued = re.compile(rb"<" + re.escape(pat.cell[1:-2]) + rb"c r=[\"']([A-Z]{1,3})([0-9]{1,7})[\"'][^>/]*>")
    cols: set[bytes] = set()
    max_row = 0
    for piece in _pieces(zf, member, sheet):
        found = valued.findall(piece)
        if found:
            cols.update(c for c, _ in found)
            rows = [r for _, r in found]
            longest = max(map(len, rows))
            max_row = max(max_row, int(max(r for r in rows if len(r) == longest)))
            if max_row * max((column_number(c) for c in cols), default=0) > limits.MAX_SHEET_CELLS:
                break  # over the limit already: no need to read on
    sheet.rows, sheet.cols = max_row, max((column_number(c) for c in cols), default=0)


_CELL_HEAD = re.compile(rb"<" + _P + rb"c(\s[^>]*?)?(/?)>")


def _measure(zf: zipfile.ZipFile, member: zipfile.ZipInfo, sheet: SheetInfo) -> None:
    """The extent counting only cells with content; cells without a reference by their place in the row."""
    max_row = max_col = 0
    row_number = 0
    for piece in _pieces(zf, member, sheet):
        for row in _ROW_WHOLE.finditer(piece):
            r = _R_ATTR.search(b" " + row[1])
            row_number = int(r[1]) if r else row_number + 1
            position = 0
            for attrs, closed in _CELL_HEAD.findall(row[2]):
                ref = _CELL_REF.search(b" " + attrs) if attrs else None
                position = column_number(ref[1]) if ref else position + 1
                if not closed:  # <c …/> is an empty, formatted cell: calamine does not count it
                    max_row = max(max_row, int(ref[2]) if ref else row_number)
                    max_col = max(max_col, position)
        if max_row * max_col > limits.MAX_SHEET_CELLS:
            break  # over the limit already: no need to read on
    sheet.rows, sheet.cols = max_row, max_col


def _last_row_end(buf: bytes) -> int | None:
    tail_start = max(0, len(buf) - (1 << 16))
    last = None
    for m in _ROW_END.finditer(buf, tail_start):
        last = m.end()
    if last is None and tail_start:
        for m in _ROW_END.finditer(buf):
            last = m.end()
    return last


def _dimension(ref: str) -> tuple[int, int] | None:
    end = ref.split(":")[-1].strip()
    m = _REF.match(end)
    if not m:
        return None
    return int(m[2]), column_number(m[1])


def _check_cells(sheet: SheetInfo, extent: tuple[int, int] | None, *, declared: bool) -> None:
    if not extent:
        return
    rows, cols = extent
    if rows * cols <= limits.MAX_SHEET_CELLS:
        return
    size = f"{rows:,} rader × {cols:,} kolumner".replace(",", " ")
    limit = f"{limits.MAX_SHEET_CELLS:,}".replace(",", " ")
    if declared:
        raise _refuse(f"bladet anger att det är {size} stort (upp till cell {column_letters(cols - 1)}{rows}), mer än "
                      f"gränsen {limit} celler. Öppna filen i Excel och spara den igen, så anges den verkliga storleken; "
                      "är bladet verkligen så stort, spara det som CSV", sheet=sheet.name)
    raise _refuse(f"bladet har celler ända ut till {column_letters(cols - 1)}{rows} ({size}), mer än gränsen {limit} "
                  "celler. Ta bort innehållet långt utanför tabellen, eller spara bladet som CSV (semikolonavgränsad)",
                  sheet=sheet.name)


def _bad_cells(piece: bytes, sheet: SheetInfo) -> None:
    for m in _CELL.finditer(piece):
        attrs, inner = b" " + (m[2] or b""), m[3] or b""
        kind = _CELL_TYPE.search(attrs)
        kind = kind[1] if kind else b"n"
        value = _VALUE.search(inner)
        if kind == b"e":
            shown = (value[1] or b"").decode("utf-8", "replace") if value else ""
            message = (f"cellen innehåller Excel-felet {shown or '(fel)'}, som annars skulle läsas som tom; "
                       "rätta formeln eller skriv in värdet")
        elif _F_TAG.search(inner) and (value is None or (not value[1] and kind != b"str")):
            message = UNCACHED
        else:
            continue
        ref = _CELL_REF.search(attrs)
        if ref:
            sheet.bad_cells[(int(ref[2]), column_number(ref[1]) - 1)] = message
        else:
            sheet.unplaced.append(message)
