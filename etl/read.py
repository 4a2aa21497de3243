"""Files → raw tables. Row i of a `Table` (counted from 0) is the row Excel (or a text editor) shows as i+1.

A file is recognised by its content, not only its name: an Excel workbook saved as `.csv` is
read as Excel, a text file named `.xlsx` as text, each with a notice. Whatever cannot be read
right is refused with a Swedish reason (`FileRefused`) before anything else looks at it.

A large CSV is read column-wise by Arrow's CSV reader (multi-threaded C++, strings kept in Arrow
buffers rather than as millions of Python objects); Python's csv module reads the first rows,
where titles and the header are, and the whole file whenever Arrow's reading could differ from
it (rows of different lengths, a record over several lines, an unclosed quote, a huge cell), so
that every message about the file's structure stays the same.
"""
from __future__ import annotations

import codecs
import csv
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from python_calamine import CalamineWorkbook, SheetTypeEnum

from core.problems import ERROR, NOTICE, FileRefused, Problem

from . import limits, xlsx

EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
TEXT_SUFFIXES = {".csv", ".txt"}
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and any password-protected workbook


@dataclass
class Table:
    file: str
    sheet: str | None
    rows: list[list[object]] | None  # row-wise (Excel, and CSV read by Python), or None when `columns` holds them
    source: str = "csv"  # "csv" or "xlsx"
    hidden: str | None = None  # "hidden" or "veryHidden": a sheet Excel does not show
    bad_cells: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, column index) -> why unreadable
    unplaced: list[str] = field(default_factory=list)  # the same for cells without a reference
    problems: list[Problem] = field(default_factory=list)  # found while reading
    columns: list[pa.DictionaryArray] | None = None  # column-wise (a large CSV); null where a row has no field
    _transposed: list[tuple] | None = field(default=None, repr=False, compare=False)

    @property
    def n_rows(self) -> int:
        if self.columns is not None:
            return len(self.columns[0]) if self.columns else 0
        return len(self.rows or [])

    @property
    def width(self) -> int:
        """Fields of the longest row."""
        if self.columns is not None:
            return len(self.columns)
        return max(map(len, self.rows), default=0) if self.rows else 0

    def head(self, n: int) -> list[list[object]]:
        """The first n rows, each as long as it is (trailing fields a row does not have left out)."""
        if self.columns is None:
            return (self.rows or [])[:n]
        cells = [c.slice(0, n).to_pylist() for c in self.columns]
        out = []
        for row in zip(*cells):
            end = len(row)
            while end and row[end - 1] is None:
                end -= 1
            out.append(list(row[:end]))
        return out

    def column(self, j: int) -> pa.Array | tuple | list:
        """Column j over every row: Arrow strings for a CSV (null where a row is shorter), else the cells."""
        if self.columns is not None:
            return self.columns[j] if j < len(self.columns) else pa.nulls(self.n_rows, pa.string())
        if self._transposed is None:  # rows → columns once; calamine's rows are all as wide as the sheet
            rows = self.rows or []
            if len({len(row) for row in rows}) <= 1:
                self._transposed = list(zip(*rows))
            else:
                width = self.width
                self._transposed = list(zip(*(row + [None] * (width - len(row)) for row in rows)))
        values = self._transposed[j] if j < len(self._transposed) else (None,) * self.n_rows
        if self.source == "csv" and all(type(v) is str or v is None for v in values):  # Arrow, as a large CSV's
            return pa.array(values, pa.string())
        return values


# ---------------------------------------------------------------- text


_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16/32 with a BOM (Excel's "Unicode-text") or without, or Windows-1252.

    A file that is UTF-8 but for a stray byte is refused, naming the line, rather than decoded
    wholesale as Windows-1252 (which would turn every "ä" into "Ã¤" and make new initiatives).
    """
    return _decode(data)[0]


def _decode(data: bytes) -> tuple[str, int | None]:
    """The text, and where it starts in `data` when `data` is that text in UTF-8 (after a BOM), else None."""
    for bom, encoding in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                          (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return _decode_wide(data, encoding), None
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8):].decode("utf-8"), len(codecs.BOM_UTF8)
        except UnicodeDecodeError:
            raise _bad_utf8(data[len(codecs.BOM_UTF8):]) from None
    if wide := _utf16_without_bom(data):
        return _decode_wide(data, wide), None
    try:
        return data.decode("utf-8"), 0
    except UnicodeDecodeError:
        if _UTF8_MULTIBYTE.search(data):
            raise _bad_utf8(data) from None
    try:
        return data.decode("cp1252"), None
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


HEAD_RECORDS = 200  # read by Python's csv module: titles, the header and the first data rows


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")  # as io.StringIO(newline="") splits lines


class _Lines:
    """The lines of a text for csv.reader, counting the characters handed out (where the next record starts).

    Unlike io.StringIO, which copies the text into four bytes a character, it only slices it.
    """

    def __init__(self, text: str):
        self._matches = _LINE.finditer(text)
        self.consumed = 0

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = next(self._matches)[0]
        self.consumed += len(line)
        return line


PREFIX_BYTES = 1 << 20  # of a large UTF-8 file, the part Python decodes (Arrow checks the rest)


def read_text(data: bytes, name: str) -> list[Table]:
    """A CSV or tab-separated text file; a quote that swallows rows is an error naming the row."""
    if len(data) > PREFIX_BYTES and (tables := _read_large_utf8(data, name)) is not None:
        return tables
    text, utf8_start = _decode(data)
    if not text or text.isspace():
        raise FileRefused("filen är tom")
    delim = sniff_delimiter(text)
    table, consumed = _read_rows(text, name, delim, HEAD_RECORDS)
    if consumed is None:  # all read
        return [table]
    if table.problems:  # a problem in the first rows: Python reads on, so that its messages stay the same
        return [_read_rows(text, name, delim)[0]]
    if utf8_start is not None:  # Arrow reads the rest from the file's own bytes
        start = utf8_start + len(text[:consumed].encode("utf-8"))
        del text
        columns = _arrow_rest(data, start, delim, table.rows)
    else:
        rest = text[consumed:].encode("utf-8")
        columns = _arrow_rest(rest, 0, delim, table.rows)
        del rest, text
    if columns is not None:
        return [Table(name, None, None, columns=columns)]
    return [_read_rows(_decode(data)[0], name, delim)[0]]


def _read_large_utf8(data: bytes, name: str) -> list[Table] | None:
    """A large file that starts as UTF-8, without the whole of it as one Python string: Python decodes and
    reads the first rows, Arrow reads the rest (and refuses anything there that is not UTF-8).

    None wherever the whole file must be decoded first, as `_decode` does: another encoding's BOM,
    UTF-16 without one, a start that is not UTF-8, a problem in the first rows, or a rest that Arrow
    does not read as Python would (see `_arrow_rest`), such as a byte that is not UTF-8.
    """
    bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or (not bom and _utf16_without_bom(data)):
        return None  # the UTF-16 and UTF-32 BOMs, and UTF-16 without a BOM
    end = data.rfind(b"\n", bom, bom + PREFIX_BYTES) + 1
    try:
        prefix = data[bom:end].decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not prefix or prefix.isspace():
        return None
    delim = sniff_delimiter(prefix)  # reads the first 64 kB only: the prefix holds them
    table, consumed = _read_rows(prefix, name, delim, HEAD_RECORDS)
    if consumed is None or table.problems:
        return None
    columns = _arrow_rest(data, bom + len(prefix[:consumed].encode("utf-8")), delim, table.rows)
    return None if columns is None else [Table(name, None, None, columns=columns)]


def _read_rows(text: str, name: str, delim: str, limit: int | None = None) -> tuple[Table, int | None]:
    """The rows Python's csv module reads, up to `limit`; and where the text goes on (None: it was all read)."""
    table = Table(name, None, [])
    rows = table.rows
    lines = _Lines(text)
    reader = csv.reader(lines, delimiter=delim)
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
            if len(rows) == limit and lines.consumed < len(text):
                return table, lines.consumed
    except csv.Error as exc:
        row_no, first_line = len(rows) + 1, last_line + 1
        if "field larger" in str(exc):
            limit_text = f"{csv.field_size_limit():,}".replace(",", " ")
            raise FileRefused(f"en cell på rad {first_line} eller senare är längre än {limit_text} tecken, ofta för "
                              "att ett citattecken (\") aldrig stängs; rätta filen", row=row_no) from None
        raise FileRefused(f"rad {first_line} kan inte läsas som CSV; kontrollera citattecknen", row=row_no) from None
    return table, None


ODD_ROWS = 1000  # rows of another width than the rest (a "Summa;154" at the end) that Arrow hands back to Python


def _arrow_rest(data: bytes, start: int, delim: str, head: list[list[str]]) -> list[pa.DictionaryArray] | None:
    """Every row as Arrow columns, dictionary-encoded: `head` as Python read it, the rest (`data` from `start`,
    UTF-8) by Arrow.

    Arrow needs one width (the head's data rows'): the few rows of another width are parsed by
    Python's csv module and put back in their place. None (and Python reads the whole file)
    wherever Arrow's result could differ from Python's: many rows of another width, or one with a
    quote, a quote that
    swallows rows (a cell with a line break and the delimiter: the message names the lines), an
    unclosed quote, bytes that are not UTF-8, or a cell longer than csv's field limit (its own
    message). An empty line is a row of empty fields rather than of none: blank either way.
    """
    widths = [len(row) for row in head[len(head) // 2:] if row]  # the data rows' width: the most common one
    width = max(set(widths), key=widths.count) if widths else 0
    if width == 0 or data.startswith(codecs.BOM_UTF8, start):  # Arrow would drop a BOM that Python keeps
        return None
    read = _arrow_read(data, start, delim, width)
    odd: list[tuple[int, str]] = []  # (row of the rest, from 1; its text)
    if read is None:
        read = _arrow_read(data, start, delim, width, odd=odd)
        # Arrow gives an odd row's text without its line end: one with a quote is left to Python (an unclosed
        # quote on the last line keeps the line end in Python's cell)
        if read is None or len(odd) > ODD_ROWS or any('"' in t or "\n" in t or "\r" in t for _, t in odd):
            return None
    columns = [read.column(j) for j in range(width)]
    rows = read.num_rows + len(odd)
    del read
    if odd:
        try:
            odd_rows = [next(csv.reader([t], delimiter=delim)) for _, t in odd]
        except csv.Error:
            return None
        columns = _put_back(columns, [n - 1 for n, _ in odd], odd_rows, rows)
    # with quotes, a cell may hold a line break; with the delimiter too, Python names a quote that swallows rows
    quoted = data.find(b'"', start) != -1
    limit = csv.field_size_limit()
    for c in columns:
        if quoted:
            broken = pc.or_(pc.match_substring(c, "\n"), pc.match_substring(c, "\r"))
            if pc.any(pc.and_(broken, pc.match_substring(c, delim))).as_py():
                return None
        if len(c) and pc.max(pc.binary_length(c)).as_py() > limit and pc.max(pc.utf8_length(c)).as_py() > limit:
            return None
    out = []
    for j in range(max(len(columns), max(map(len, head)))):
        first = pa.array([row[j] if j < len(row) else None for row in head], pa.string())
        rest = columns[j].chunks if j < len(columns) else [pa.nulls(rows, pa.string())]
        if j < len(columns):
            columns[j] = None  # dictionary-encoded below: each distinct value once, a code per row
        out.append(pc.dictionary_encode(pa.chunked_array([first, *rest], pa.string()).combine_chunks()))
        del rest
    return out


def _arrow_read(data: bytes, start: int, delim: str, width: int, odd: list | None = None) -> pa.Table | None:
    """Arrow's reading of `data` from `start`, every row `width` fields; None where it fails.

    With `odd`, a row of another width is left out and listed there as (row number, text); Arrow
    numbers rows only when it reads with one thread. A row whose text is not UTF-8 makes the
    reading fail (pyarrow reports the decoding error as unraisable: it is kept from stderr).
    """
    names = [str(j) for j in range(width)]
    handler = None if odd is None else (lambda row: odd.append((row.number, row.text)) or "skip")
    unraisable = sys.unraisablehook
    sys.unraisablehook = lambda _: None
    try:
        return pa_csv.read_csv(
            pa.py_buffer(memoryview(data)[start:]),
            read_options=pa_csv.ReadOptions(column_names=names, use_threads=odd is None),
            parse_options=pa_csv.ParseOptions(delimiter=delim, quote_char='"', double_quote=True, escape_char=False,
                                              newlines_in_values=True, ignore_empty_lines=False,
                                              invalid_row_handler=handler),
            convert_options=pa_csv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()),
                                                  strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pa.ArrowException, ValueError):  # a row of another width, an unclosed quote, bytes that are not UTF-8
        return None
    finally:
        sys.unraisablehook = unraisable


def _put_back(columns: list[pa.ChunkedArray], at: list[int], odd_rows: list[list[str]], rows: int) -> list[pa.Array]:
    """Arrow's columns with the rows Python read put back at their places `at` (0-based), as wide as the widest."""
    is_odd = np.zeros(rows, bool)
    is_odd[at] = True
    order = np.empty(rows, np.int64)
    order[~is_odd] = np.arange(rows - len(at))
    order[is_odd] = rows - len(at) + np.arange(len(at))  # the odd rows come after Arrow's in the concatenation
    taken = pa.array(order)
    out = []
    for j in range(max(len(columns), max(map(len, odd_rows)))):
        extra = pa.array([row[j] if j < len(row) else None for row in odd_rows], pa.string())
        main = columns[j].combine_chunks() if j < len(columns) else pa.nulls(rows - len(at), pa.string())
        out.append(pa.chunked_array([pa.concat_arrays([main, extra]).take(taken)]))
    return out


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
