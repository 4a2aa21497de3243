"""Exports for Swedish Excel: read the files back and check exactly what a recipient would get."""
import csv
import datetime as dt
import io
import re
import subprocess

import numpy as np
import openpyxl
import pandas as pd
import pytest

from render.files import as_percent, to_csv_bytes, to_excel_bytes
from render.workbook import MAX_COLUMN_WIDTH, NUMBER_FORMATS, PAGE_WIDTH, neutralise, sheet_title

INJECTIONS = ['=HYPERLINK("x")', "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


@pytest.mark.parametrize("text", INJECTIONS, ids=repr)
def test_neutralise_prefixes_formula_starts(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("value", ["Steg till arbete", "", "'redan skyddad", "1-2", "a=b", -5, 3.5, 0, None,
                                   dt.date(2021, 1, 1)], ids=repr)
def test_neutralise_leaves_everything_else(value):
    assert neutralise(value) == value
    assert type(neutralise(value)) is type(value)  # negative numbers stay numbers


def _frame():
    return pd.DataFrame({
        "Insats": [*INJECTIONS[:4], "Hälsa; arbete & \"mod\""],
        "Antal": [-5, 12, 1234567, 0, 7],
        "Andel": [3.5, np.nan, 0.1 + 0.2, 1e-7, 2.0],
        "Start": pd.to_datetime(["2021-03-05", None, "2021-01-01", "2022-12-31", "2020-02-29"]),
        "Mål": pd.array([10, None, 3, 4, 5], dtype="Int64"),
        "=Summa": ["a", None, "b", "c", "d"],
    })


# --------------------------------------------------------------------------- CSV

def _read_csv(data: bytes) -> list[list[str]]:
    text = data.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


def test_csv_for_swedish_excel():
    data = to_csv_bytes(_frame())
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    rows = _read_csv(data)
    assert rows == [
        ["Insats", "Antal", "Andel", "Start", "Mål", "'=Summa"],
        ['\'=HYPERLINK("x")', "-5", "3,5", "2021-03-05", "10", "a"],
        ["'+1", "12", "", "", "", ""],
        ["'-2+3", "1234567", "0,30000000000000004", "2021-01-01", "3", "b"],
        ["'@SUM(A1)", "0", "0,0000001", "2022-12-31", "4", "c"],
        ['Hälsa; arbete & "mod"', "7", "2", "2020-02-29", "5", "d"],
    ]


def test_csv_numbers_stay_numbers_when_read_back():
    back = pd.read_csv(io.BytesIO(to_csv_bytes(_frame())), sep=";", decimal=",", encoding="utf-8-sig")
    assert back["Antal"].tolist() == [-5, 12, 1234567, 0, 7]
    assert back["Andel"].tolist()[0] == 3.5 and pd.isna(back["Andel"].tolist()[1])
    assert back["Insats"].str.startswith("'").tolist() == [True, True, True, True, False]


def test_csv_other_cell_types():
    df = pd.DataFrame({
        "Flagga": [True, False],
        "Tid": [pd.Timestamp("2025-01-02 13:45:07", tz="Europe/Stockholm"), pd.NaT],
        "Datum": [dt.date(2024, 12, 31), None],
        "Text": pd.array(["x", pd.NA], dtype="string"),
        "Tab": ["\tx", "rad 1\nrad 2"],
    })
    rows = _read_csv(to_csv_bytes(df))
    assert rows[1:] == [["Ja", "2025-01-02 13:45:07", "2024-12-31", "x", "'\tx"], ["Nej", "", "", "", "rad 1\nrad 2"]]


def test_csv_keeps_a_named_index():
    df = pd.DataFrame({"Antal": [1, 2]}, index=pd.Index(["A", "B"], name="Insats"))
    assert _read_csv(to_csv_bytes(df)) == [["Insats", "Antal"], ["A", "1"], ["B", "2"]]


def test_csv_empty_frame_has_its_header():
    assert _read_csv(to_csv_bytes(pd.DataFrame(columns=["Insats", "Antal"]))) == [["Insats", "Antal"]]


# --------------------------------------------------------------------------- Excel

def _load(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def _values(ws):
    return [[c.value for c in row] for row in ws.iter_rows()]


@pytest.fixture()
def workbook():
    cost = pd.DataFrame({
        "Insats": ["Steg", "Bro", "=cmd|' /C calc'!A0"],
        "Kod": ["1", "2", None],
        "Budget": [2410500.0, np.nan, 1200000.0],
        "Andel": [0.4589, None, 0.5],
        "Start": ["2021-03-05", None, "2022-01-10"],
        "Lång": ["x" * 100, "kort", None],
    })
    meta = {"Period": "2025-01-01 – 2025-12-31", "Insatser": "-Alla-", "Skapad": dt.datetime(2026, 1, 2, 9, 30)}
    data = to_excel_bytes({"Per insats": _frame(), "Kostnad": cost}, meta=meta,
                          formats={"Kostnad": {"Budget": "kr", "Andel": "pct", "Start": "date", "Kod": "text"}})
    return _load(data)


def test_excel_sheets_and_urval(workbook):
    assert workbook.sheetnames == ["Urval", "Per insats", "Kostnad"]
    urval = workbook["Urval"]
    assert _values(urval) == [
        ["Uppgift", "Värde"],
        ["Period", "2025-01-01 – 2025-12-31"],
        ["Insatser", "'-Alla-"],
        ["Skapad", dt.datetime(2026, 1, 2, 9, 30)],
    ]
    assert urval["B4"].number_format == "yyyy-mm-dd hh:mm"


def test_excel_layout(workbook):
    for ws in workbook.worksheets:
        assert ws.freeze_panes == "A2"
        assert ws["A1"].font.b and ws["A1"].fill.fgColor.rgb.endswith("DCE6F1")
    assert workbook["Per insats"].auto_filter.ref == "A1:F6"
    assert workbook["Kostnad"].auto_filter.ref == "A1:F4"


def test_excel_values_formats_and_missing(workbook):
    ws = workbook["Per insats"]
    assert _values(ws) == [
        ["Insats", "Antal", "Andel", "Start", "Mål", "'=Summa"],
        ['\'=HYPERLINK("x")', -5, 3.5, dt.datetime(2021, 3, 5), 10, "a"],
        ["'+1", 12, None, None, None, None],
        ["'-2+3", 1234567, pytest.approx(0.3), dt.datetime(2021, 1, 1), 3, "b"],  # Excel keeps 15 digits
        ["'@SUM(A1)", 0, 1e-07, dt.datetime(2022, 12, 31), 4, "c"],
        ['Hälsa; arbete & "mod"', 7, 2, dt.datetime(2020, 2, 29), 5, "d"],
    ]
    # formats guessed from the dtypes
    assert ws["B2"].number_format == NUMBER_FORMATS["int"]     # int64
    assert ws["C2"].number_format == NUMBER_FORMATS["number"]  # float with decimals
    assert ws["D2"].number_format == "yyyy-mm-dd" and ws["D2"].is_date
    assert ws["E2"].number_format == NUMBER_FORMATS["int"]     # Int64 with a missing value
    assert ws["B5"].value == 0                        # a real zero stays 0 …
    assert ws["C3"].value is None                     # … and missing stays empty


def test_excel_named_formats(workbook):
    ws = workbook["Kostnad"]
    assert _values(ws)[1:] == [
        ["Steg", "1", 2410500, 0.4589, dt.datetime(2021, 3, 5), "x" * 100],
        ["Bro", "2", None, None, None, "kort"],
        ["'=cmd|' /C calc'!A0", None, 1200000, 0.5, dt.datetime(2022, 1, 10), None],
    ]
    assert ws["B2"].number_format == "@" and ws["B2"].data_type == "s"
    assert ws["C2"].number_format == NUMBER_FORMATS["kr"]
    assert ws["D2"].number_format == NUMBER_FORMATS["pct"]
    assert ws["E2"].number_format == "yyyy-mm-dd" and ws["E2"].is_date


def test_excel_column_widths_fit_the_content(workbook):
    ws = workbook["Kostnad"]
    width = {col: ws.column_dimensions[col].width for col in "ABCDEF"}
    assert width["F"] == MAX_COLUMN_WIDTH                      # 100 characters, capped
    assert width["A"] >= len("=cmd|' /C calc'!A0") + 1
    assert width["C"] >= len("2 410 500 kr")
    assert width["E"] >= len("2021-03-05")
    assert all(w >= 8 for w in width.values())
    assert workbook["Per insats"].column_dimensions["B"].width >= len("1 234 567")


def test_excel_datetimes_with_time_and_time_zone():
    df = pd.DataFrame({"Inläst": [pd.Timestamp("2025-01-02 13:45", tz="Europe/Stockholm"), pd.NaT]})
    ws = _load(to_excel_bytes({"Laddningar": df})).active
    assert ws["A2"].value == dt.datetime(2025, 1, 2, 13, 45)  # wall-clock time kept, zone dropped for Excel
    assert ws["A2"].number_format == "yyyy-mm-dd hh:mm"
    assert ws["A3"].value is None


def test_excel_float_counts_with_gaps_show_as_integers():
    df = pd.DataFrame({"Mål deltagare": [40.0, np.nan, 25.0], "Flagga": [True, False, True]})
    ws = _load(to_excel_bytes({"Mål": df})).active
    assert ws["A2"].number_format == NUMBER_FORMATS["int"] and ws["A3"].value is None
    assert [ws["B2"].value, ws["B3"].value] == ["Ja", "Nej"]


def test_excel_no_meta_no_urval_sheet_and_empty_frame():
    wb = _load(to_excel_bytes({"Tom": pd.DataFrame(columns=["Insats", "Antal", "Andel"])}))
    assert wb.sheetnames == ["Tom"]
    assert _values(wb["Tom"]) == [["Insats", "Antal", "Andel"]]
    assert wb["Tom"].auto_filter.ref == "A1:C1"


def test_excel_without_sheets_is_still_a_workbook():
    assert _load(to_excel_bytes({})).sheetnames == ["Blad"]


def test_excel_unknown_format_is_refused():
    with pytest.raises(ValueError, match="procent"):
        to_excel_bytes({"A": pd.DataFrame({"x": [1]})}, formats={"A": {"x": "procent"}})


@pytest.mark.parametrize(("name", "expected"), [
    ("Budget/utfall [2025]: *?", "Budget-utfall (2025)-"),
    ("'citerad'", "citerad"),
    ("", "Blad"),
    ("   ", "Blad"),
    ("History", "History_"),
    ("Avslutade per insats och avslutsorsak 2025", "Avslutade per insats och avslut"),
])
def test_sheet_title_follows_excels_rules(name, expected):
    assert sheet_title(name) == expected
    assert len(sheet_title(name)) <= 31


def test_excel_sheet_names_are_sanitised_and_unique():
    df = pd.DataFrame({"x": [1]})
    sheets = {"Avslutade per insats och avslutsorsak 2024": df, "Avslutade per insats och avslutsorsak 2025": df,
              "urval": df, "A/B": df}
    wb = _load(to_excel_bytes(sheets, meta={"Period": "2025"}, formats={"A/B": {"x": "kr"}}))
    assert wb.sheetnames == ["Urval", "Avslutade per insats och avslut", "Avslutade per insats och av (2)",
                             "urval (2)", "A-B"]
    assert all(len(n) <= 31 for n in wb.sheetnames)
    assert wb["A-B"]["A2"].number_format == NUMBER_FORMATS["kr"]  # formats follow the caller's sheet name


# ----------------------------------------------------------------------------- issue 23: Swedish anywhere, printable

def _rendered_text(xlsx: bytes, tmp_path) -> str:
    """The workbook printed by LibreOffice (as a PDF), as text: what a reader outside Sweden sees on paper."""
    (tmp_path / "book.xlsx").write_bytes(xlsx)
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(tmp_path / "book.xlsx")],
                   check=True, capture_output=True, timeout=180, env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    return subprocess.run(["pdftotext", "-layout", str(tmp_path / "book.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout


def test_number_formats_split_thousands_with_a_literal_space():
    """`#,##0` is the reader's locale's separator: 60,800 kr in an English Excel. A literal space reads Swedish
    everywhere; the space before kr and % is there too."""
    for kind in ("int", "kr", "tkr", "number"):
        assert "," not in NUMBER_FORMATS[kind].replace('," tkr"', ""), kind
        assert "# ### ### ##0" in NUMBER_FORMATS[kind], kind
    assert NUMBER_FORMATS["kr"].split(";")[0].endswith('" kr"') and "\\ %" in NUMBER_FORMATS["pct"]


def test_printed_numbers_read_swedish_in_libreoffice(tmp_path):
    df = pd.DataFrame({"Insats": ["A", "B", "C"], "Antal": [5, 60800, 1234567], "Kostnad (kr)": [999, 60800, 2411000]})
    text = _rendered_text(to_excel_bytes({"T": df}, formats={"T": {"Antal": "int", "Kostnad (kr)": "kr"}}), tmp_path)
    for want in ("60 800", "1 234 567", "999 kr", "60 800 kr", "2 411 000 kr"):
        assert re.search(want.replace(" ", r"[ \u00a0]"), text), (want, text)
    assert not re.search(r"\d,\d{3}", text), text


def test_shares_go_to_csv_as_per_cent_with_the_unit_in_the_header():
    df = pd.DataFrame({"Insats": ["A", "B", "C"], "Andel kvinnor": [0.3078, None, "<5"], "Antal": [1, 2, 3]})
    out = as_percent(df, ["Andel kvinnor"])
    assert list(out.columns) == ["Insats", "Andel kvinnor (%)", "Antal"]
    assert out["Andel kvinnor (%)"].tolist()[0] == 30.8 and pd.isna(out["Andel kvinnor (%)"].tolist()[1])
    assert out["Andel kvinnor (%)"].tolist()[2] == "<5"
    lines = to_csv_bytes(out).decode("utf-8-sig").splitlines()
    assert lines[0] == "Insats;Andel kvinnor (%);Antal" and lines[1] == "A;30,8;1" and lines[2] == "B;;2"


def test_a_wide_sheet_prints_over_pages_across_between_its_groups_not_shrunk():
    """23 columns per initiative shrank unreadably when fitted to one page's width: now printed at 100 %, broken
    between groups of columns, the first column and the header row on every page."""
    cols = {"Insats": ["Alfa", "Beta"]}
    for measure in ("Deltagare", "Nya", "Avslutade", "Utan samtycke", "Andel till arbete/studier"):
        for sex in ("kvinnor", "män", "annat/okänt", "totalt"):
            cols[f"{measure} {sex}"] = [1, 2]
    wb = _load(to_excel_bytes({"Per insats": pd.DataFrame(cols), "Smal": pd.DataFrame({"a": [1]})}, meta={"x": "y"}))
    ws = wb["Per insats"]
    assert not ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.scale == 100
    assert ws.print_title_cols == "$A:$A" and ws.print_title_rows == "$1:$1"
    breaks = sorted(b.id for b in ws.col_breaks.brk)
    assert breaks and all((b - 1) % 4 == 0 for b in breaks)  # between groups of four (a measure by sex)
    widths = [ws.column_dimensions[c.column_letter].width for c in ws[1]]
    pages = [widths[:1] + widths[a:b] for a, b in zip([1, *breaks], [*breaks, len(widths)])]
    assert all(sum(p) <= PAGE_WIDTH for p in pages), pages
    assert ws.row_dimensions[1].height and ws["B1"].alignment.wrap_text  # wrapped headers get their lines
    for name in ("Smal", "Urval"):
        assert wb[name].sheet_properties.pageSetUpPr.fitToPage and wb[name].page_setup.fitToWidth == 1


def test_urval_values_wrap_inside_the_printed_page():
    long = "På. " + "dolt för att skydda ett litet antal " * 6
    wb = _load(to_excel_bytes({"T": pd.DataFrame({"a": [1]})}, meta={"Kort": "x", "Skydd för små tal": long}))
    ws = wb["Urval"]
    assert ws["B3"].alignment.wrap_text and ws.row_dimensions[3].height >= 30
    assert sum(ws.column_dimensions[c].width for c in "AB") <= PAGE_WIDTH


def test_a_sheet_note_is_written_below_its_table():
    wb = _load(to_excel_bytes({"Tom": pd.DataFrame(columns=["Insats", "Antal"])},
                              notes={"Tom": "Tomt: inga insatser för året."}))
    ws = wb["Tom"]
    assert ws["A1"].value == "Insats" and ws["A3"].value == "Tomt: inga insatser för året." and ws["A3"].font.i
    assert ws.print_area[0].endswith("$B$3") if isinstance(ws.print_area, list) else ws.print_area.endswith("$B$3")
