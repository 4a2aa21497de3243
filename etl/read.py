"""Files → raw rows. Row i of `Table.rows` is the row Excel (or a text editor) shows as i+1.

A file is recognised by its content, not only its name: an Excel workbook saved as `.csv` is
read as Excel, a text file named `.xlsx` as text, each with a notice. Whatever cannot be read
right is refused with a Swedish reason (`FileRefused`) before anything else looks at it.
"""
from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from python_calamine import CalamineWorkbook, SheetTypeEnum

from . import limits, xlsx
from .problems import ERROR, NOTICE, FileRefused, Problem

EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
TEXT_SUFFIXES = {".csv", ".txt"}
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and any password-protected workbook


@dataclass
class Table:
    file: str
    sheet: str | None
    rows: list[list[object]]
    source: str = "csv"  # "csv" or "xlsx"
    hidden: str | None = None  # "hidden" or "veryHidden": a sheet Excel does not show
    bad_cells: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, column index) -> why unreadable
    unplaced: list[str] = field(default_factory=list)  # the same for cells without a reference
    problems: list[Problem] = field(default_factory=list)  # found while reading


# ---------------------------------------------------------------- text


_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16/32 with a BOM (Excel's "Unicode-text") or without, or Windows-1252.

    A file that is UTF-8 but for a stray byte is refused, naming the line, rather than decoded
    wholesale as Windows-1252 (which would turn every "ä" into "Ã¤" and make new initiatives).
    """
    for bom, encoding in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                          (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return _decode_wide(data, encoding)
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise _bad_utf8(data) from None
    if wide := _utf16_without_bom(data):
        return _decode_wide(data, wide)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        if _UTF8_MULTIBYTE.search(data):
            raise _bad_utf8(data) from None
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise FileRefused(f"rad {line} innehåller ett tecken (byte 0x{data[exc.start]:02X}) som varken är UTF-8 eller "
                          "Windows-1252; filen är skadad eller i en annan teckenkodning. Spara den som "
                          "\"CSV UTF-8\" och försök igen", row=line) from None


def _decode_wide(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].decode(encoding, "replace").count("\n") + 1
        raise FileRefused(f"filen är sparad som Unicode-text ({encoding.upper()}) men är trasig vid rad {line} "
                          "(avkortad eller med ogiltiga tecken); spara den igen", row=line) from None


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 without a BOM: every other byte of Latin text is NUL."""
    sample = data[:4096]
    if len(sample) < 8:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
        return "utf-16-be"
    return None


def _bad_utf8(data: bytes) -> FileRefused:
    found: list[tuple[int, int]] = []
    pos = 0
    while len(found) < 6:
        try:
            data[pos:].decode("utf-8")
            break
        except UnicodeDecodeError as exc:
            at = pos + exc.start
            found.append((data.count(b"\n", 0, at) + 1, data[at]))
            pos += exc.end
    (line, byte), more = found[0], sorted({ln for ln, _ in found[1:]} - {found[0][0]})
    also = f" (även rad {', '.join(map(str, more))})" if more else ""
    return FileRefused(f"filen är sparad som UTF-8, men rad {line} innehåller ett tecken som inte är giltig UTF-8 "
                       f"(byte 0x{byte:02X}, troligen inklistrat från ett program som skriver Windows-1252){also}. "
                       "Filen läses inte, så att inga namn blir fel; rätta tecknet eller spara filen igen som "
                       "\"CSV UTF-8\"", row=line)


def sniff_delimiter(text: str) -> str:
    """Pick `;`, tab or `,` by which splits the first non-blank lines most consistently."""
    lines = [ln for ln in text[:65536].splitlines() if ln.strip()][:20]
    best, best_score = ";", -1
    for delim in (";", "\t", ","):
        counts = [len(next(csv.reader([ln], delimiter=delim))) for ln in lines]
        if not counts:
            continue
        header_width = max(counts)
        score = (header_width > 1) * (sum(c == header_width for c in counts) * 100 + header_width)
        if score > best_score:
            best, best_score = delim, score
    return best


def read_text(data: bytes, name: str) -> list[Table]:
    """A CSV or tab-separated text file; a quote that swallows rows is an error naming the row."""
    text = decode_text(data)
    if not text.strip():
        raise FileRefused("filen är tom")
    delim = sniff_delimiter(text)
    table = Table(name, None, [])
    rows = table.rows
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    last_line = 0  # the line the previous row ended on
    try:
        for row in reader:
            if reader.line_num > last_line + 1 and any(delim in c and ("\n" in c or "\r" in c) for c in row):
                table.problems.append(Problem(
                    ERROR, name, None, len(rows) + 1, None, None,
                    f"ett citattecken (\") öppnas på rad {last_line + 1} men stängs inte förrän på rad "
                    f"{reader.line_num}, så raderna däremellan har lästs som en enda cell. Ta bort citattecknet, eller "
                    "skriv det dubbelt (\"\") om det ska stå i texten"))
            last_line = reader.line_num
            rows.append(row)
    except csv.Error as exc:
        row_no, first_line = len(rows) + 1, last_line + 1
        if "field larger" in str(exc):
            limit = f"{csv.field_size_limit():,}".replace(",", " ")
            raise FileRefused(f"en cell på rad {first_line} eller senare är längre än {limit} tecken, ofta för att "
                              "ett citattecken (\") aldrig stängs; rätta filen", row=row_no) from None
        raise FileRefused(f"rad {first_line} kan inte läsas som CSV; kontrollera citattecknen", row=row_no) from None
    return [table]


# ---------------------------------------------------------------- Excel


def read_excel(path: Path, name: str) -> list[Table]:
    """Every worksheet, read by calamine after etl.xlsx has measured the file and found unreadable cells."""
    infos = {s.name: s for s in xlsx.inspect(path)}
    try:
        wb = CalamineWorkbook.from_path(str(path))
        metas = list(wb.sheets_metadata)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # calamine's errors, and a Rust panic (a BaseException): damage the zip check missed
        raise FileRefused("filen kan inte läsas som Excel-arbetsbok (den är skadad); öppna den i Excel och spara "
                          "den igen") from None
    tables = []
    for meta in metas:
        if meta.typ != SheetTypeEnum.WorkSheet:
            continue
        info = infos.get(meta.name)
        if info is None or info.part is None:
            raise FileRefused("bladet kunde inte kontrolleras före läsningen (arbetsboken är ovanligt uppbyggd); "
                              "öppna filen i Excel och spara den igen", sheet=meta.name)
        try:
            rows = wb.get_sheet_by_name(meta.name).to_python(skip_empty_area=False)
        except (KeyboardInterrupt, SystemExit, MemoryError):
            raise
        except BaseException:
            raise FileRefused("bladet kan inte läsas (arbetsboken är skadad); öppna filen i Excel och spara den igen",
                              sheet=meta.name) from None
        tables.append(Table(name, meta.name, rows, source="xlsx",
                            hidden=None if info.state == "visible" else info.state,
                            bad_cells=info.bad_cells, unplaced=info.unplaced))
    return tables


# ---------------------------------------------------------------- any file


def read_file(path: Path, name: str | None = None) -> list[Table]:
    """The tables of one file; `name` is how messages name it (default: the file name)."""
    path = Path(path)
    name = name or path.name
    suffix = path.suffix.lower()
    if suffix not in EXCEL_SUFFIXES | TEXT_SUFFIXES:
        raise FileRefused(f"filtypen {suffix or '(ingen)'} stöds inte; använd .xlsx, .csv eller .txt")
    try:
        if path.is_dir():
            raise FileRefused("det är en mapp, inte en fil")
        size = path.stat().st_size
        if size == 0:
            raise FileRefused("filen är tom (0 byte)")
        if size > limits.MAX_FILE_BYTES:
            raise FileRefused(f"filen är {size // limits.MB} MB, mer än gränsen {limits.MAX_FILE_BYTES // limits.MB} MB; "
                              "dela upp exporten")
        with path.open("rb") as fh:
            head = fh.read(8)
        if head.startswith(ZIP_MAGIC):
            tables = read_excel(path, name)
            if suffix in TEXT_SUFFIXES:
                _notice(tables, name, f"filen heter {suffix} men är en Excel-arbetsbok och läses som en sådan")
            return tables
        if head.startswith(OLE_MAGIC):
            raise FileRefused("filen är i Excels gamla format (.xls) eller lösenordsskyddad; spara den som "
                              "Excel-arbetsbok (.xlsx) utan lösenord")
        data = path.read_bytes()
    except FileNotFoundError:
        raise FileRefused("filen finns inte") from None
    except PermissionError:
        raise FileRefused("filen kan inte öppnas: behörighet saknas") from None
    except OSError as exc:
        raise FileRefused(f"filen kan inte läsas (fel i filsystemet, kod {exc.errno})") from None
    if suffix in EXCEL_SUFFIXES:
        if not _looks_like_text(data):
            raise FileRefused("filen är ingen giltig Excel-arbetsbok (xlsx): den är skadad, avkortad eller en annan "
                              "sorts fil. Öppna den i Excel och spara den som Excel-arbetsbok (.xlsx)")
        tables = read_text(data, name)
        _notice(tables, name, f"filen heter {suffix} men är en textfil (CSV) och läses som en sådan")
        return tables
    return read_text(data, name)


def _looks_like_text(data: bytes) -> bool:
    sample = data[:4096]
    if sample.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or _utf16_without_bom(data):
        return True
    return not re.search(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f]", sample)


def _notice(tables: list[Table], name: str, message: str) -> None:
    if tables:
        tables[0].problems.append(Problem(NOTICE, name, None, None, None, None, message))
