"""render/xlsx_xml.py: a large workbook written as XML text reads back as the one openpyxl writes, cell by cell.

to_excel_bytes takes the XML writer from render.files.XML_CELLS cells on; here the threshold is moved so that the
same tables go through both writers. (tests/test_render_files.py passes with either; this holds them to each other.)
The annual report (`etl report --format xlsx`) always goes through the XML writer.
"""
from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal

import numpy as np
import openpyxl
import pandas as pd
import pytest

from render import files, xlsx_xml


def _dump(data: bytes, skip=lambda title, row: False) -> dict:
    """Everything a reader or a printer sees of a workbook: cells with their formats, fonts, fills and alignment,
    widths, row heights, merged cells, frozen header, filter, print titles, area, breaks and page setup."""
    wb = openpyxl.load_workbook(io.BytesIO(data))
    out = {"creator": wb.properties.creator, "sheets": wb.sheetnames}
    for ws in wb.worksheets:
        cells = {c.coordinate: (c.value, c.data_type, c.number_format, bool(c.font.b), bool(c.font.i), c.fill.fill_type,
                                c.fill.fgColor.rgb if c.fill.fill_type else None, c.border.bottom.style,
                                c.alignment.vertical, bool(c.alignment.wrap_text))
                 for row in ws.iter_rows() for c in row if c.value is not None and not skip(ws.title, row)}
        out[ws.title] = (cells, {k: d.width for k, d in ws.column_dimensions.items()},
                         {k: d.height for k, d in ws.row_dimensions.items() if d.height is not None},
                         sorted(map(str, ws.merged_cells.ranges)), ws.freeze_panes, ws.auto_filter.ref,
                         ws.print_title_rows, ws.print_title_cols, ws.print_area, [b.id for b in ws.col_breaks.brk],
                         (ws.page_setup.orientation, ws.page_setup.paperSize, ws.page_setup.fitToWidth,
                          ws.page_setup.fitToHeight, ws.page_setup.scale, ws.sheet_properties.pageSetUpPr.fitToPage),
                         ws.dimensions)
    return out


def _both(monkeypatch, *args, **kwargs) -> tuple[bytes, bytes]:
    monkeypatch.setattr(files, "XML_CELLS", 10**12)
    by_openpyxl = files.to_excel_bytes(*args, **kwargs)
    monkeypatch.setattr(files, "XML_CELLS", 0)
    return by_openpyxl, files.to_excel_bytes(*args, **kwargs)


def _written_as_xml(data: bytes) -> bool:
    return b"Insatskollen" in zipfile.ZipFile(io.BytesIO(data)).read("docProps/app.xml")


SHEETS = {
    "Per insats": pd.DataFrame({
        "Insats": ["Steg & <Bro>", " Inledande blanksteg", "=cmd|' /C calc'!A0", "Åtgärd \"citat\""],
        "Kvinnor": [3, 0, 12, 1_234_567], "Andel": [0.4589, None, 0.5, 1.0], "Budget (kr)": [2410500.0, np.nan, 1.5, 0.0],
        "Kod": ["1", "2", None, "unknown"], "Start": ["2021-03-05", None, "2022-01-10", "2023-12-31"],
        "Inläst": [pd.Timestamp("2025-01-02 13:45", tz="Europe/Stockholm"), pd.NaT,
                   pd.Timestamp("2025-01-03"), pd.Timestamp("1900-02-01 06:00")],
        "Mål": [40.0, np.nan, 25.0, 0.0], "Flagga": [True, False, True, False], "Tal": [1.25, -3.5, 1e16, 2 / 3],
        "En rubrik som är längre än sextio tecken, så att den bryts på flera rader": ["x" * 100, "kort", None, "y"],
    }),
    "Tom": pd.DataFrame(columns=["Insats", "Antal"]),
    "Förbund's 'blad'": pd.DataFrame({"Förbund": ["Ösby"], "Deltagare": [7]}),
}
FORMATS = {"Per insats": {"Budget (kr)": "kr", "Andel": "pct", "Start": "date", "Kod": "text", "Kvinnor": "int",
                          "Tal": "number"}}
META = {"Rapport": "Insatskollen – årsrapport 2021", "Insatser": "-Alla-", "Skapad": dt.datetime(2026, 1, 2, 9, 30)}


LONG = "En rubrik som är längre än sextio tecken, så att den bryts på flera rader"
PLAIN = {name: df.drop(columns=[LONG]) if LONG in df else df for name, df in SHEETS.items()}


def test_the_xml_workbook_reads_back_as_openpyxls(monkeypatch):
    by_openpyxl, by_xml = _both(monkeypatch, PLAIN, formats=FORMATS)
    assert _written_as_xml(by_xml) and not _written_as_xml(by_openpyxl)
    assert _dump(by_xml) == _dump(by_openpyxl)


@pytest.mark.parametrize("kw", [{"meta": META}, {"notes": {"Tom": "Inga insatser i urvalet. " * 12}}, {"wide": True},
                                {"meta": META, "notes": {"Tom": "Inga.", "Per insats": "Tomma celler: ingen siffra."},
                                 "wide": True}])
def test_a_sheet_laid_out_for_print_is_written_as_xml_too(monkeypatch, kw):
    """The Urval sheet wraps its values, a note explains an empty sheet, a sheet wider than a page is broken across
    pages with its headers wrapped: both writers take that layout from render/workbook.py and write the same."""
    sheets = SHEETS if kw.pop("wide", False) else PLAIN
    by_openpyxl, by_xml = _both(monkeypatch, sheets, formats=FORMATS, **kw)
    assert _written_as_xml(by_xml)
    assert _dump(by_xml) == _dump(by_openpyxl)


def test_a_sheet_without_columns_is_written_as_xml_too(monkeypatch):
    """The annual report of a year without initiatives has a `Per insats` sheet with no header at all."""
    by_openpyxl, by_xml = _both(monkeypatch, {"Tom": pd.DataFrame(), "Blad": pd.DataFrame({"a": [1]})}, meta=META)
    assert _written_as_xml(by_xml)
    assert _dump(by_xml) == _dump(by_openpyxl)


def test_a_text_excel_would_read_as_an_error_goes_through_openpyxl(monkeypatch):
    sheets = {"Fel": pd.DataFrame({"Text": ["#N/A", "ok"], "Antal": [1, 2]})}
    by_openpyxl, by_xml = _both(monkeypatch, sheets)
    assert not _written_as_xml(by_xml)
    assert _dump(by_xml) == _dump(by_openpyxl)


def test_hidden_counts_go_through_openpyxl(monkeypatch):
    """Protection's #N/A cells carry a note, which only openpyxl writes."""
    sheets = {"Skyddad": pd.DataFrame({"Insats": ["A"], "Antal": [-1]})}
    by_openpyxl, by_xml = _both(monkeypatch, sheets, formats={"Skyddad": {"Antal": "int"}}, hidden_marks={-1: ".."})
    assert not _written_as_xml(by_xml)
    assert _dump(by_xml) == _dump(by_openpyxl)


@pytest.mark.parametrize("rows", [0, 30_000])
def test_the_threshold_decides_the_writer(rows):
    df = pd.DataFrame({"Insats": [f"Insats {i}" for i in range(rows)], "Antal": range(rows)})
    assert _written_as_xml(files.to_excel_bytes({"Blad": df})) == (rows * 2 >= files.XML_CELLS)


def test_the_annual_report_written_as_xml_reads_back_as_openpyxls(small_con):
    """`etl report --format xlsx` writes its workbook as XML text; openpyxl writing the same laid-out sheets gives
    the same cells, formats, widths, heights and print setup (its creation time left out)."""
    from metrics.catalog import reason_labels
    from metrics.report import build_report
    from render import annual_report, workbook

    report, labels = build_report(small_con, 2021), reason_labels(small_con, short=False)
    created = dt.datetime(2026, 1, 2, 9, 30)
    by_xml = annual_report.report_bytes(report, labels, created)
    assert _written_as_xml(by_xml)
    tables = {}
    for name, (headers, rows) in annual_report.report_tables(report, labels).items():
        kinds = ["general" if h in annual_report.TEXT_COLUMNS else "kr" if "(kr)" in h else "int" for h in headers]
        tables[name] = (headers, [[workbook.plain_value(v, k) for v, k in zip(row, kinds)] for row in rows], kinds)
    meta = {"Rapport": "Insatskollen – årsrapport 2021", "Period": "2021-01-01 – 2021-12-31", "Skapad": "2026-01-02 09:30"}
    by_openpyxl = files.openpyxl_bytes(workbook.lay_out_workbook(tables, meta=meta))
    assert _dump(by_xml) == _dump(by_openpyxl)
    assert openpyxl.load_workbook(io.BytesIO(by_xml)).sheetnames == [
        "Urval", "Sammanfattning", "Avslutsorsaker", "Per insats", "Avslut per insats", "Remittenter per insats"]


def test_an_initiative_named_as_an_excel_error_goes_through_openpyxl(small_con):
    from metrics.report import build_report
    from render import annual_report

    report = build_report(small_con, 2021)
    report["initiatives"] = {"#N/A" if k == "Alfa" else k: v for k, v in report["initiatives"].items()}
    data = annual_report.report_bytes(report, {})
    assert not _written_as_xml(data)
    assert openpyxl.load_workbook(io.BytesIO(data))["Per insats"]["A2"].value == "#N/A"


@pytest.mark.parametrize("kind", ["int", "kr", "tkr", "pct", "number", "general", "text", "date", "datetime"])
def test_a_columns_width_counts_what_render_format_shows(kind):
    """render/workbook.py sizes a number without importing render.format (and pandas): the same length."""
    from render import format as fmt
    from render.workbook import display_width

    shown = {"int": fmt.fmt_int, "kr": fmt.fmt_kr, "tkr": fmt.fmt_tkr, "pct": fmt.fmt_pct, "date": fmt.fmt_date,
             "datetime": fmt.fmt_datetime}.get(kind, lambda x: fmt.fmt_number(x, 2))
    for v in [0, 7, -7, 999, 1000, -1_234_567, 10**15, 0.5, 1.5, 2.5, -0.004, 0.0049, 0.995, 1234.5678, 2 / 3,
              1e-7, 1e16, -0.0, Decimal("2410500.50"), Decimal("-0.005"), 0.3085, 123456.4999]:
        assert display_width(v, kind) == len(shown(v)), (kind, v)


def test_the_theme_is_openpyxls():
    from openpyxl.writer.theme import theme_xml

    assert xlsx_xml.theme_xml() == theme_xml


@pytest.mark.parametrize("value", [dt.date(1900, 1, 1), dt.date(1900, 2, 28), dt.date(1900, 3, 1),
                                   dt.datetime(1900, 2, 1, 6, 0), dt.datetime(2025, 1, 2, 13, 45, 10, 500),
                                   dt.date(2021, 12, 31)])
def test_a_dates_serial_is_openpyxls(value):
    from openpyxl.utils.datetime import to_excel

    assert xlsx_xml._serial(value) == to_excel(value)
