"""The annual report as an Excel workbook: the JSON report's tables as readable sheets."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from metrics.people import reason_labels
from metrics.report import report_tables
from ui.export import to_excel_bytes


def write_report_xlsx(report: dict, out: Path, con) -> None:
    tables = report_tables(report, reason_labels(con, short=False))
    formats = {
        name: {c: ("kr" if "(kr)" in c else "int") for c in df.columns if c not in {"Mått", "Insats", "Kod",
                                                                                     "Avslutsorsak", "Remittent"}}
        for name, df in tables.items()
    }
    meta = {"Rapport": f"Insatskollen – årsrapport {report['year']}",
            "Period": f"{report['year']}-01-01 – {report['year']}-12-31",
            "Skapad": dt.datetime.now().strftime("%Y-%m-%d %H:%M")}
    Path(out).write_bytes(to_excel_bytes(tables, meta=meta, formats=formats))
