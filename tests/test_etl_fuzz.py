"""Property-based tests (Hypothesis) for issue 8: whatever a file holds, the loader loads it or returns
problems, never raises, and a refused load leaves the database byte for byte as it was. And no
message can carry a personnummer.

The files start as valid exports and are mutated the ways real ones go wrong: cut lines, changed
bytes, other encodings, shuffled and duplicated columns, stray quotes and delimiters, nasty values
(personnummer, control characters, absurd numbers and dates), and for xlsx uncached formulas, hidden
sheets, far-away cells and damaged zips. Run time is kept modest with `max_examples`.
"""
from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
import re
import shutil
import tempfile
import unicodedata
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.database import connect_read
from etl import limits
from etl.load import load_files
from etl.cells import END_AHEAD, START_AHEAD, today
from core.privacy import INVISIBLE, contains_personnummer
from core.problems import Problem, safe_text
from tests.conftest import write_xlsx

D = dt.date
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                derandomize=True)

PARTICIPANTS = [
    ["Deltagar-ID", "Insats", "Kön", "Födelseår", "Startdatum", "Slutdatum", "Avslutsorsak", "Remittent",
     "Försörjning vid start", "Samtycke"],
    ["P-1", "Rätt stöd", "Kvinna", "1980", "2021-01-10", "2021-06-30", "1", "Försäkringskassan", "Sjukpenning", "Ja"],
    ["P-2", "Rätt stöd", "Man", "1975", "2021-02-01", "", "", "Vårdcentralen Norr", "Försörjningsstöd", "Ja"],
    ["P-3", "Steget före", "Annat", "1990", "2021-03-15", "2021-09-01", "2", "Jobbtorg Väst", "", "Nej"],
    ["P-4", "Steget före", "", "1988", "2021-04-01", "", "", "Af Eskilstuna", "A-kassa/Aktivitetsstöd", "Ja"],
]
BUDGET = [
    ["Insats", "År", "Kostnadsslag", "Finansiär", "Budget", "Utfall"],
    ["Rätt stöd", "2021", "Personal", "Förbundet", "441 058", "400 000 kr"],
    ["Rätt stöd", "2021", "Lokaler", "Förbundet", "30.000", ""],
    ["Steget före", "2022", "Personal", "ESF", "1 277 950,50", "1199620"],
]
ANONYMOUS = [["Insats", "År", "Kvinnor", "Män", "Annat/Okänt"], ["Rätt stöd", "2021", "3", "2", ""],
             ["Steget före", "2022", "0", "1", "1"]]
EXPORTS = [PARTICIPANTS, BUDGET, ANONYMOUS]

NASTY = ["850101-1234", "19850101 1234", "501155125", "pnr 850161-1234", "\x1b[31mröd", "a\x00b", "Ra\u0308tt stöd",
         "Rätt\u200b stöd", "RÄTT STÖD", "Summa", "Totalt", "2099-01-01", "1e308", "99999999999999999999", "-5",
         "\"", "\"\"", ";", ",", "\t", "\n", "\r\n", "=1+1", "@SUM(A1)", "x" * 2000, "", " ", "NaN", "inf",
         "31/02/2021", "44260", "7", "Ja", "nej", "K", "M", "2021-13-01", "Ä", "\ufeff", "\u202eevil"]


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("fuzz")
    first = write_xlsx(directory / "first.xlsx", {"D": [["Deltagar-ID", "Insats", "Kön", "Startdatum"],
                                                        ["Q-1", "Noll", "Kvinna", D(2021, 1, 5)]]})
    assert load_files([first], directory / "f.duckdb").ok
    return directory / "f.duckdb"


# ---------------------------------------------------------------- mutations


@st.composite
def tables(draw) -> list[list[str]]:
    """A valid export, then structural mutations: columns shuffled, duplicated or dropped, rows cut or
    repeated, cells replaced by nasty values."""
    rows = [list(r) for r in draw(st.sampled_from(EXPORTS))]
    width = len(rows[0])
    if draw(st.booleans()):
        order = draw(st.permutations(range(width)))
        rows = [[r[j] for j in order] for r in rows]
    if draw(st.integers(0, 4)) == 0:
        j = draw(st.integers(0, width - 1))
        rows = [r + [r[j]] for r in rows]
    if draw(st.integers(0, 5)) == 0:
        j = draw(st.integers(0, width - 1))
        rows = [r[:j] + r[j + 1:] for r in rows]
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 1, 2, 4]))):
        i = draw(st.integers(0, len(rows) - 1))
        j = draw(st.integers(0, len(rows[i]) - 1)) if rows[i] else 0
        if rows[i]:
            rows[i][j] = draw(st.sampled_from(NASTY) | st.text(max_size=12))
    if draw(st.integers(0, 4)) == 0:
        rows.insert(draw(st.integers(1, len(rows))), list(draw(st.sampled_from(rows))))
    if draw(st.integers(0, 5)) == 0:
        rows = rows[: draw(st.integers(0, len(rows)))]
    if draw(st.integers(0, 5)) == 0:
        rows = [["Export från systemet"], [], *rows]
    return rows


def to_csv(rows: list[list[str]], delimiter: str, encoding: str) -> bytes:
    buf = io.StringIO(newline="")
    csv.writer(buf, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    bom = {"utf-8-sig": b"", "utf-16": b"", "utf-32": b""}.get(encoding, b"")
    return bom + buf.getvalue().encode(encoding, errors="replace")


@st.composite
def byte_mutations(draw, data: bytes) -> bytes:
    data = bytearray(data)
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 1, 2, 3]))):
        kind = draw(st.sampled_from(["cut", "flip", "insert", "quote", "line"]))
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        if kind == "cut":
            del data[at:]
        elif kind == "flip":
            data[at] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[at:at] = draw(st.sampled_from([b"\xe4", b"\x00", b"\x1b", b"\r", b"\n", b";", b",", b"\xef\xbb\xbf",
                                                b"\xff\xfe", b"\x81", b"\xc3\xa4"]))
        elif kind == "quote":
            data[at:at] = b'"'
        else:
            lines = bytes(data).split(b"\n")
            i = draw(st.integers(0, len(lines) - 1))
            lines.insert(i, lines[draw(st.integers(0, len(lines) - 1))])
            data = bytearray(b"\n".join(lines))
    return bytes(data)


@st.composite
def csv_files(draw) -> bytes:
    rows = draw(tables())
    delimiter = draw(st.sampled_from([";", ",", "\t"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16", "utf-16-le", "utf-32", "latin-1"]))
    return draw(byte_mutations(to_csv(rows, delimiter, encoding)))


ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # openpyxl refuses these in a cell


@st.composite
def xlsx_files(draw) -> bytes:
    rows = draw(tables())
    numeric = draw(st.booleans())
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = draw(st.sampled_from(["Blad1", "Deltagare", "Summa 2021"]))
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            value = ILLEGAL.sub("", value)
            if numeric and re.fullmatch(r"\d{1,12}", value):
                value = int(value)  # a number cell, as Excel makes of digits
            elif numeric and re.fullmatch(r"\d{4}-\d\d-\d\d", value):
                try:
                    value = dt.date.fromisoformat(value)
                except ValueError:
                    pass
            if value != "":
                ws.cell(r, c, value)
    if draw(st.integers(0, 4)) == 0:
        extra = wb.create_sheet("Gömd")
        extra.sheet_state = draw(st.sampled_from(["hidden", "veryHidden"]))
        for row in (rows[0], rows[-1]) if rows else (["x"],):
            extra.append([ILLEGAL.sub("", v) for v in row])
    if draw(st.integers(0, 4)) == 0:
        ws.cell(draw(st.integers(2, 6)), draw(st.integers(1, 8)), draw(st.sampled_from(["=A2", "=1/0", "=B2*2"])))
    buf = io.BytesIO()
    wb.save(buf)
    data = _rewrite(buf.getvalue(), {})  # the same bytes for the same draws (no save time), as Hypothesis needs
    change = draw(st.sampled_from(["none", "none", "dimension", "far", "error", "bytes", "part"]))
    if change in {"dimension", "far", "error"}:
        data = _patch(data, change, draw)
    elif change == "bytes":
        data = draw(byte_mutations(data))
    elif change == "part":
        data = _drop_part(data, draw(st.sampled_from(["xl/workbook.xml", "xl/worksheets/sheet1.xml",
                                                      "xl/_rels/workbook.xml.rels", "[Content_Types].xml"])))
    return data


def _patch(data: bytes, change: str, draw) -> bytes:
    def edit(xml: str) -> str:
        if change == "dimension":
            ref = draw(st.sampled_from(["A1:XFD1048576", "A1", "ZZ9:A1", "junk"]))
            return re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="{ref}"/>', xml)
        if change == "far":
            return xml.replace("</sheetData>", '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>')
        return re.sub(r'<c r="([A-Z]+[3-5])"( t="n")?><v>([^<]*)</v></c>',
                      r'<c r="\1" t="e"><f>1/0</f><v>#DIV/0!</v></c>', xml, count=1)
    return _rewrite(data, {"xl/worksheets/sheet1.xml": edit})


def _drop_part(data: bytes, name: str) -> bytes:
    return _rewrite(data, {name: None})


def _rewrite(data: bytes, changes: dict) -> bytes:
    """The zip with some parts changed (None: dropped), every time stamp fixed."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb">\d{4}-\d\d-\d\dT[\d:.]+Z<", b">2021-01-01T00:00:00Z<", content)
            if info.filename in changes:
                if changes[info.filename] is None:
                    continue
                content = changes[info.filename](content.decode()).encode()
            dst.writestr(zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0)), content,
                         compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


# ---------------------------------------------------------------- the property


def load_and_check(template: Path, name: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        db = directory / "db" / "f.duckdb"
        db.parent.mkdir()
        shutil.copyfile(template, db)
        before = db.read_bytes()
        path = directory / name
        path.write_bytes(data)
        result = load_files([path], db)  # must not raise
        for p in result.problems:
            text = str(p)
            assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", text), text
            assert not contains_personnummer(text), text
        leftovers = sorted(p.name for p in db.parent.iterdir())
        # a load that changed something keeps the database from before it as its one snapshot (etl/history.py)
        assert leftovers == ["f.duckdb", "f.duckdb.lock", *(["snapshots"] if result.changed else [])]
        if result.changed:
            [snapshot] = (db.parent / "snapshots").iterdir()
            assert snapshot.read_bytes() == before
        if not result.ok:
            assert not result.changed
            assert db.read_bytes() == before
            return
        stored_is_clean(db)


def stored_is_clean(db: Path) -> None:
    """What a successful load stored: clean names, no personnummer, dates and amounts within bounds."""
    latest_start, latest_end = today() + START_AHEAD, today() + END_AHEAD
    with connect_read(db) as con:
        texts = con.execute("""
            SELECT participant_id FROM enrollments UNION ALL SELECT initiative FROM enrollments
            UNION ALL SELECT referrer_unit FROM enrollments UNION ALL SELECT income_at_start FROM enrollments
            UNION ALL SELECT association FROM enrollments UNION ALL SELECT initiative FROM budget_lines
            UNION ALL SELECT category FROM budget_lines UNION ALL SELECT funder FROM budget_lines
            UNION ALL SELECT initiative FROM anonymous_counts UNION ALL SELECT file_name FROM load_history""").fetchall()
        for (v,) in texts:
            if v is None:
                continue
            assert v == unicodedata.normalize("NFC", v) and v == v.strip() and "  " not in v, repr(v)
            assert not re.search(r"[\x00-\x1f\x7f-\x9f]", v) and not INVISIBLE.search(v), repr(v)
            assert not contains_personnummer(v, whole_number=True), repr(v)
        (bad_dates,) = con.execute("SELECT count(*) FROM enrollments WHERE start_date > ? OR end_date > ? "
                                   "OR end_date < start_date OR (exit_reason IS NOT NULL AND end_date IS NULL)",
                                   [latest_start, latest_end]).fetchone()
        assert bad_dates == 0
        (too_much,) = con.execute("SELECT count(*) FROM budget_lines WHERE budget > ? OR actual > ?",
                                  [limits.MAX_AMOUNT, limits.MAX_AMOUNT]).fetchone()
        assert too_much == 0
        (years,) = con.execute("SELECT count(*) FROM anonymous_counts WHERE year > ?", [today().year]).fetchone()
        assert years == 0


@FUZZ
@given(data=csv_files(), name=st.sampled_from(["export.csv", "export.txt", "export.xlsx"]))
def test_any_mutated_csv_loads_or_is_refused_without_a_trace(template, data, name):
    load_and_check(template, name, data)


@FUZZ
@given(data=xlsx_files(), name=st.sampled_from(["export.xlsx", "export.xlsx", "export.csv"]))
def test_any_mutated_xlsx_loads_or_is_refused_without_a_trace(template, data, name):
    load_and_check(template, name, data)


def test_an_unmutated_export_loads_with_the_right_figures(template):
    """The fuzzer's starting point is valid, so that "refused" is not the only outcome it sees."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "f.duckdb"
        shutil.copyfile(template, db)
        files = []
        for name, rows in (("d.csv", PARTICIPANTS), ("b.csv", BUDGET), ("a.csv", ANONYMOUS)):
            (Path(tmp) / name).write_bytes(to_csv(rows, ";", "cp1252"))
            files.append(Path(tmp) / name)
        result = load_files(files, db)
        assert result.ok, [str(p) for p in result.problems]
        with connect_read(db) as con:
            assert con.execute("SELECT count(*), count(participant_id) FROM enrollments "
                               "WHERE initiative <> 'Noll'").fetchone() == (4, 3)
            assert con.execute("SELECT sum(budget), sum(actual) FROM budget_lines").fetchone() == (
                1749008.50, 1599620.00)


# ---------------------------------------------------------------- no message can carry a personnummer


@st.composite
def personnummer(draw) -> tuple[str, str]:
    """(a spelling of a personnummer or samordningsnummer, its ten core digits YYMMDDNNNN)."""
    year = draw(st.integers(1900, 2025))
    month = draw(st.integers(1, 12))
    day = draw(st.integers(1, calendar.monthrange(year, month)[1]))
    if draw(st.booleans()):
        day += 60  # samordningsnummer
    last = draw(st.integers(0, 9999))
    core = f"{year % 100:02d}{month:02d}{day:02d}{last:04d}"
    sep = draw(st.sampled_from(["", "-", "+", "–", "/", ".", " ", " - ", "\u00a0", "\x1b"]))
    date = f"{year}{month:02d}{day:02d}" if draw(st.booleans()) else core[:6]
    spelled = f"{date}{sep}{last:04d}"
    if draw(st.booleans()):
        spelled = draw(st.sampled_from(["pnr ", "Pnr:", "personnr ", "Personnummer: "])) + spelled
    if draw(st.integers(0, 3)) == 0:
        spelled = unicodedata.normalize("NFKC", spelled).translate({ord(c): 0xFF10 + int(c) for c in "0123456789"})
    return spelled, core


WORDS = st.text(alphabet=st.characters(blacklist_categories=["Nd", "No", "Cs"]), max_size=20)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(pnr=personnummer(), before=WORDS, after=WORDS,
       field=st.sampled_from(["file", "sheet", "column", "value", "message"]), row=st.integers(1, 10**6))
def test_no_message_can_carry_a_personnummer(pnr, before, after, field, row):
    spelled, core = pnr
    parts = dict(file="export.csv", sheet="Blad1", column="Remittent", value="x", message="något är fel")
    parts[field] = f"{before}{spelled}{after}"
    problem = Problem("fel", parts["file"], parts["sheet"], row, parts["column"], parts["value"], parts["message"])
    for text in (str(problem), safe_text(parts[field]), safe_text(parts[field], 80)):
        digits = unicodedata.normalize("NFKC", re.sub(r"\D", "", unicodedata.normalize("NFKC", text)))
        assert core not in digits and core[:6] + core[6:] not in text, text


@settings(max_examples=200, deadline=None, derandomize=True)
@given(pnr=personnummer())
def test_a_number_cell_that_lost_its_zero_is_masked_as_a_value(pnr):
    spelled, core = pnr
    lost = str(int(core))  # 0501155125 → 501155125
    problem = Problem("fel", "x.xlsx", "D", 2, "Deltagar-ID", int(lost), "id:t …")
    if len(lost) >= 7:
        assert lost not in str(problem)


def test_every_invisible_format_character_is_dropped():
    """INVISIBLE must cover Unicode's whole category Cf, or a zero-width character could split a name."""
    missing = [hex(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Cf" and not INVISIBLE.match(chr(c))]
    assert missing == []
