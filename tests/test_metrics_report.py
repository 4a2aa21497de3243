"""The annual report (data contract section 8) on the small hand-made association, every number by hand.

Rows are named as in tests/fixtures/small_association.py (A1 … B6). The year is 2021.
Anonymous counts: Beta 2021 = 2 women, 1 man, 1 other (they are participants and started, no outcome).
"""
from __future__ import annotations

import json
import subprocess
import sys

from openpyxl import load_workbook

from core.database import connect_read
from metrics.report import build_report
from render.annual_report import write_report_xlsx
from tests.conftest import ROOT, run_cli


def _s(total, women, men, other):
    return {"total": total, "women": women, "men": men, "other": other}


EXPECTED_2021 = {
    "year": 2021,
    # start ≤ 2021-12-31 and (no end or end ≥ 2021-01-01); A4 (ended 2020) and B4 (starts 2022) are out.
    # women: A1 A3 A5 B1 B5 B6 + 2 anonymous = 8; men: A2 A6 B2 + 1 anonymous = 4;
    # other: A7 (blank = unknown) B3 (Vill ej uppge = unknown) + 1 anonymous = 3
    "participants": _s(15, 8, 4, 3),
    # start in 2021: women A3 B1 B5 B6 + 2 anon = 6; men A2 A6 + 1 anon = 3; other A7 B3 + 1 anon = 3
    "started": _s(12, 6, 3, 3),
    # end in 2021: women A1 B1 B5 = 3; men A2 A6 B2 = 3; other B3 = 1 (A7 ends 2022-02-28)
    "exited": _s(7, 3, 3, 1) | {
        "by_reason": {
            "1": _s(2, 2, 0, 0),        # A1, B1 (A7's code 1 is in 2022)
            "2": _s(2, 0, 1, 1),        # A2 (man), B3 (unknown sex → other)
            "4": _s(1, 0, 1, 0),        # B2
            "unknown": _s(2, 1, 1, 0),  # A6 (no consent, its code 3 does not count), B5 (no code)
            # codes 3, 5, 6 do not occur in 2021 and are not listed (A4's code 5 is from 2020)
        },
    },
    # A6 (no consent) + Beta's 4 anonymous
    "no_consent": 5,
    "initiatives": {
        "Alfa": {
            "participants": _s(6, 3, 2, 1),  # women A1 A3 A5, men A2 A6, other A7
            "started": _s(4, 1, 2, 1),       # woman A3, men A2 A6, other A7
            "exited": _s(3, 1, 2, 0) | {     # woman A1, men A2 A6
                "by_reason": {
                    "1": _s(1, 1, 0, 0),        # A1
                    "2": _s(1, 0, 1, 0),        # A2
                    "unknown": _s(1, 0, 1, 0),  # A6, no consent
                },
            },
            "no_consent": 1,  # A6
            "referrers": {    # started in 2021, by agency
                "Region": _s(1, 0, 1, 0),          # A2 "Vårdcentralen Norr" (keyword vårdcentral)
                "Kommun": _s(1, 1, 0, 0),          # A3 "Jobbtorg Väst" (keyword jobbtorg)
                "Uppgift saknas": _s(1, 0, 1, 0),  # A6: no consent, the referrer is dropped
                "Annan": _s(1, 0, 0, 1),           # A7 "Frivilligcentralen" matches nothing
            },
            "cost": {
                "budget": 650000.0,          # 500 000 + 100 000 + 50 000 (Alfa 2021 lines)
                "actual": 480001.0,          # 380 000,50 + 100 000,50 (the Övrigt line has no actual)
                "per_participant": 80000.17,  # 480 001 / 6 participants = 80 000.1666… → öre
            },
        },
        "Beta": {
            # enrollments: women B1 B5 B6, man B2, other B3; anonymous 2 women, 1 man, 1 other
            "participants": _s(9, 5, 2, 2),
            # women B1 B5 B6 + 2 anon, man 1 anon (B2 started 2019), other B3 + 1 anon
            "started": _s(8, 5, 1, 2),
            "exited": _s(4, 2, 1, 1) | {     # women B1 B5, man B2, other B3
                "by_reason": {
                    "1": _s(1, 1, 0, 0),        # B1
                    "2": _s(1, 0, 0, 1),        # B3
                    "4": _s(1, 0, 1, 0),        # B2
                    "unknown": _s(1, 1, 0, 0),  # B5, consent but no code
                },
            },
            "no_consent": 4,  # the anonymous counts
            "referrers": {
                "Kommun": _s(1, 1, 0, 0),              # B1 "Socialtjänsten Öst"
                "Arbetsförmedlingen": _s(1, 0, 0, 1),  # B3
                "Försäkringskassan": _s(1, 1, 0, 0),   # B6 (same person as A1, counted in Beta too)
                "Uppgift saknas": _s(5, 3, 1, 1),      # B5 (no referrer) + 4 anonymous (2 women, 1 man, 1 other)
            },
            "cost": {
                "budget": 300000.0,           # "300 000 kr"
                "actual": None,               # no actual given: null, never 0
                "per_participant": 33333.33,  # budget as the basis: 300 000 / 9 = 33 333.333…
            },
        },
        "Gamma": {  # a budget and no participants
            "participants": _s(0, 0, 0, 0),
            "started": _s(0, 0, 0, 0),
            "exited": _s(0, 0, 0, 0) | {"by_reason": {}},
            "no_consent": 0,
            "referrers": {},
            "cost": {
                "budget": 200000.0,
                "actual": 150000.0,
                "per_participant": None,  # 150 000 / 0 participants: no figure, not 0
            },
        },
    },
}


def test_report_2021_equals_the_hand_computed_figures(small_con):
    assert build_report(small_con, 2021) == EXPECTED_2021


def test_report_cli_json_prints_the_same_report(small_db):
    done = run_cli("report", "--db", small_db, "--year", "2021", "--format", "json", fresh_process=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == EXPECTED_2021


def test_report_cli_prints_the_same_bytes_as_before(small_db, small_con):
    """The report is now serialised in one piece and written once (issue 25); its text is what
    `json.dump(report, sys.stdout, ensure_ascii=False, indent=2)` and a newline wrote, byte for byte,
    with --format json and without --format, and through a pipe."""
    before = (json.dumps(build_report(small_con, 2021), ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    for args in (["--format", "json"], []):
        done = subprocess.run([sys.executable, "-m", "etl", "report", "--db", str(small_db), "--year", "2021", *args],
                              cwd=ROOT, capture_output=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert done.stdout == before, args


def test_report_cli_json_imports_neither_pandas_nor_the_loader(small_db):
    """`etl report` is a process started for one answer: its JSON needs duckdb, not pandas, the loader or the
    history (issue 25; their imports were half of the process's time at national scale)."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "etl", "report", "--db", str(small_db),
                           "--year", "2021"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "duckdb" in imported and "metrics.report" in imported
    assert not imported & {"pandas", "numpy", "pyarrow", "etl.history", "etl.load", "openpyxl"}


def test_report_cli_xlsx_imports_neither_pandas_nor_openpyxl(small_db, tmp_path):
    """The workbook is laid out and written as XML text from the report's dict (render/workbook.py,
    render/xlsx_xml.py): no pandas, numpy or openpyxl to import for it (issue 25)."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "etl", "report", "--db", str(small_db),
                           "--year", "2021", "--format", "xlsx", "--out", str(tmp_path / "r.xlsx")],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "render.xlsx_xml" in imported and "render.annual_report" in imported
    assert not imported & {"pandas", "numpy", "pyarrow", "etl.history", "etl.load", "openpyxl", "render.files"}
    assert load_workbook(tmp_path / "r.xlsx")["Per insats"]["A2"].value == "Alfa"


def _cells(path) -> dict:
    """Every sheet's cells as (value, number format), and its column widths; the creation time left out."""
    wb = load_workbook(path)
    out = {}
    for ws in wb.worksheets:
        cells = {(c.row, c.column): (c.value, c.number_format) for row in ws.iter_rows() for c in row
                 if c.value is not None and not (ws.title == "Urval" and row[0].value == "Skapad")}
        out[ws.title] = (cells, {k: d.width for k, d in ws.column_dimensions.items()}, ws.freeze_panes)
    return out


def test_report_cli_xlsx_writes_the_report_of_build_report(small_db, tmp_path):
    """`--format xlsx`: the workbook holds the same cells, formats and widths as the report written in process."""
    done = run_cli("report", "--db", small_db, "--year", "2021", "--format", "xlsx", "--out", tmp_path / "cli.xlsx")
    assert done.returncode == 0, done.stderr
    with connect_read(small_db) as con:
        write_report_xlsx(build_report(con, 2021), tmp_path / "here.xlsx", con)
    cli, here = _cells(tmp_path / "cli.xlsx"), _cells(tmp_path / "here.xlsx")
    assert cli == here
    assert cli["Per insats"][0][(2, 1)] == ("Alfa", "General")


def test_report_per_participant_is_rounded_to_ore(small_con):
    costs = {name: ini["cost"]["per_participant"] for name, ini in build_report(small_con, 2021)["initiatives"].items()}
    assert costs == {"Alfa": 80000.17, "Beta": 33333.33, "Gamma": None}


def test_report_missing_figures_are_null_never_zero(small_con):
    report = build_report(small_con, 2021)
    assert report["initiatives"]["Beta"]["cost"]["actual"] is None
    assert report["initiatives"]["Gamma"]["cost"]["per_participant"] is None


def test_report_other_counts_other_and_unknown_sex(small_con):
    # 2022: participants A7 (unknown, ends 2022-02-28), B4 (Ickebinär), A3 A5 (women), B6 (woman)
    report = build_report(small_con, 2022)
    assert report["participants"] == _s(5, 3, 0, 2)
    assert report["started"] == _s(1, 0, 0, 1)  # B4
    assert report["exited"] == _s(1, 0, 0, 1) | {"by_reason": {"1": _s(1, 0, 0, 1)}}  # A7


def test_report_by_reason_lists_only_codes_that_occur(small_con):
    # 2020: only A4 (other, code 5) ends in 2020
    report = build_report(small_con, 2020)
    assert report["exited"]["by_reason"] == {"5": _s(1, 0, 0, 1)}
    assert report["initiatives"]["Alfa"]["exited"]["by_reason"] == {"5": _s(1, 0, 0, 1)}
    assert report["initiatives"]["Beta"]["exited"]["by_reason"] == {}


def test_report_referrers_count_started_enrollments_by_agency(small_con):
    # 2020: started in Alfa A1 (Försäkringskassan), A4 (Försäkringskassan), A5 (Arbetsförmedlingen)
    # and the 2020 anonymous count (1 woman, 1 man); Beta had no start in 2020 (B2 started 2019)
    report = build_report(small_con, 2020)
    assert report["initiatives"]["Alfa"]["referrers"] == {
        "Försäkringskassan": _s(2, 1, 0, 1),   # A1 woman, A4 other
        "Arbetsförmedlingen": _s(1, 1, 0, 0),  # A5
        "Uppgift saknas": _s(2, 1, 1, 0),      # the anonymous count
    }
    assert report["initiatives"]["Beta"]["referrers"] == {}
    assert report["initiatives"]["Beta"]["participants"] == _s(1, 0, 1, 0)  # B2
    # 2020 cost: Alfa 390 000 actual / 5 participants (A1 A4 A5 + 2 anonymous); Beta has no budget line
    assert report["initiatives"]["Alfa"]["cost"] == {"budget": 400000.0, "actual": 390000.0, "per_participant": 78000.0}
    assert report["initiatives"]["Beta"]["cost"] == {"budget": None, "actual": None, "per_participant": None}


def test_report_for_a_year_without_data_is_all_zeros(small_con):
    assert build_report(small_con, 2015) == {
        "year": 2015,
        "participants": _s(0, 0, 0, 0),
        "started": _s(0, 0, 0, 0),
        "exited": _s(0, 0, 0, 0) | {"by_reason": {}},
        "no_consent": 0,
        "initiatives": {},
    }
