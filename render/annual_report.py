"""The annual report as an Excel workbook: the JSON report (metrics/report.py) as readable Swedish sheets.

Built from the report's dict as plain rows and written as XML text (render/workbook.py, render/xlsx_xml.py):
`etl report --format xlsx` at national scale answers in a second and a half with no pandas and no openpyxl
to import (issue 25). openpyxl writes it only when a name would read as an Excel error (`#N/A`).
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from core.vocabulary import SEX_LABELS, UNKNOWN_REASON
from metrics.catalog import reason_labels

from . import xlsx_xml
from .workbook import clean_text, lay_out_workbook, plain_value

STOCKHOLM = ZoneInfo("Europe/Stockholm")
SEXES = ("women", "men", "other", "total")
SEX_HEADERS = [SEX_LABELS[k] for k in SEXES]
TEXT_COLUMNS = frozenset({"Mått", "Insats", "Kod", "Avslutsorsak", "Remittent"})


def _by_sex(d: dict) -> list:
    return [d[k] for k in SEXES]


def report_tables(report: dict, labels: dict[str, str]) -> dict[str, tuple[list[str], list[list]]]:
    """The report as readable tables with Swedish headers (header, rows), for the annual report's workbook."""
    def code(k: str) -> str:
        return k if k != UNKNOWN_REASON else ""

    measures = {"participants": "Deltagare", "started": "Nya (startade)", "exited": "Avslutade"}
    summary = ([[name, *_by_sex(report[m])] for m, name in measures.items()]
               + [["Utan samtycke (ingår ovan)", None, None, None, report["no_consent"]]])
    reasons = [[code(k), labels.get(k, k), *_by_sex(v)] for k, v in report["exited"]["by_reason"].items()]
    per, per_reason, referrers = [], [], []
    for name, ini in report["initiatives"].items():
        cost = ini["cost"]
        per.append([name, *_by_sex(ini["participants"]), *_by_sex(ini["started"]), *_by_sex(ini["exited"]),
                    ini["no_consent"], cost["budget"], cost["actual"], cost["per_participant"]])
        per_reason += [[name, code(k), labels.get(k, k), *_by_sex(v)] for k, v in ini["exited"]["by_reason"].items()]
        referrers += [[name, a, *_by_sex(v)] for a, v in ini["referrers"].items()]
    per_header = ["Insats", *(f"{m} {s}" for m in ("Deltagare", "Nya", "Avslutade") for s in SEX_HEADERS),
                  "Utan samtycke", "Budget (kr)", "Utfall (kr)", "Kostnad per deltagare (kr)"]
    return {
        "Sammanfattning": (["Mått", *SEX_HEADERS], summary),
        "Avslutsorsaker": (["Kod", "Avslutsorsak", *SEX_HEADERS], reasons),
        "Per insats": (per_header if per else [], per),  # a year without initiatives: an empty sheet, as before
        "Avslut per insats": (["Insats", "Kod", "Avslutsorsak", *SEX_HEADERS], per_reason),
        "Remittenter per insats": (["Insats", "Remittent", *SEX_HEADERS], referrers),
    }


def report_bytes(report: dict, labels: dict[str, str], created: dt.datetime | None = None) -> bytes:
    """The workbook: an Urval sheet saying what it is, then the tables; counts as integers, amounts in kronor."""
    tables = {}
    for name, (headers, rows) in report_tables(report, labels).items():
        kinds = ["general" if h in TEXT_COLUMNS else "kr" if "(kr)" in h else "int" for h in headers]
        tables[name] = (headers, [[plain_value(v, k) for v, k in zip(row, kinds)] for row in rows], kinds)
    created = created or dt.datetime.now(STOCKHOLM)
    meta = {"Rapport": f"Insatskollen – årsrapport {report['year']}",
            "Period": f"{report['year']}-01-01 – {report['year']}-12-31",
            "Skapad": created.strftime("%Y-%m-%d %H:%M")}
    sheets = lay_out_workbook(tables, meta={k: clean_text(v) for k, v in meta.items()})
    try:
        return xlsx_xml.workbook_bytes(sheets)
    except xlsx_xml.NotPlain:  # a name Excel would read as an error: openpyxl writes what XML text does not
        from .files import openpyxl_bytes

        return openpyxl_bytes(sheets)


def write_report_xlsx(report: dict, out: Path, con) -> None:
    """Serialised in one piece, then written once."""
    Path(out).write_bytes(report_bytes(report, reason_labels(con, short=False)))
