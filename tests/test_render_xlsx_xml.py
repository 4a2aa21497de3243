"""render/xlsx_xml.py: a large workbook written as XML text reads back as the one openpyxl writes, cell by cell.

to_excel_bytes takes the XML writer from render.files.XML_CELLS cells on; here the threshold is moved so that the
same tables go through both writers. (tests/test_render_files.py passes with either; this holds them to each other.)
"""
from __future__ import annotations

import datetime as dt
import io
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest

from render import files


def _dump(data: bytes) -> dict:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    out = {"creator": wb.properties.creator, "sheets": wb.sheetnames}
    for ws in wb.worksheets:
        cells = {c.coordinate: (c.value, c.data_type, c.number_format, bool(c.font.b), c.fill.fill_type,
                                c.fill.fgColor.rgb if c.fill.fill_type else None, c.border.bottom.style,
                                c.alignment.vertical, bool(c.alignment.wrap_text))
                 for row in ws.iter_rows() for c in row if c.value is not None}
        out[ws.title] = (cells, {k: d.width for k, d in ws.column_dimensions.items()}, ws.freeze_panes,
                         ws.auto_filter.ref, ws.print_title_rows,
                         (ws.page_setup.orientation, ws.page_setup.paperSize, ws.page_setup.fitToWidth,
                          ws.page_setup.fitToHeight, ws.sheet_properties.pageSetUpPr.fitToPage))
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


@pytest.mark.parametrize("kw", [{"meta": META}, {"notes": {"Tom": "Inga insatser i urvalet."}}, {"wide": True}])
def test_a_sheet_laid_out_for_print_goes_through_openpyxl(monkeypatch, kw):
    """The Urval sheet wraps its values, a note explains an empty sheet, a sheet wider than a page is broken across
    pages with its headers wrapped: only openpyxl lays these out, so such a workbook is never written as XML."""
    sheets = SHEETS if kw.pop("wide", False) else PLAIN
    by_openpyxl, by_xml = _both(monkeypatch, sheets, formats=FORMATS, **kw)
    assert not _written_as_xml(by_xml)
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
