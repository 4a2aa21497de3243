"""The annual report as an Excel workbook: the JSON report (metrics/report.py) as readable Swedish sheets."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

from core.vocabulary import SEX_LABELS, UNKNOWN_REASON
from metrics.people import reason_labels

from .files import to_excel_bytes

STOCKHOLM = ZoneInfo("Europe/Stockholm")


SEX_HEADERS = {k: SEX_LABELS[k] for k in ("women", "men", "other", "total")}


def _sex_cols(d: dict, prefix: str = "") -> dict:
    return {f"{prefix}{SEX_HEADERS[k]}": d[k] for k in ("women", "men", "other", "total")}


def report_tables(report: dict, labels: dict[str, str]) -> dict[str, pd.DataFrame]:
    """The report as readable tables with Swedish headers, for the annual report's Excel workbook."""
    measures = {"participants": "Deltagare", "started": "Nya (startade)", "exited": "Avslutade"}
    summary = pd.DataFrame([{"Mått": name, **_sex_cols(report[m])} for m, name in measures.items()]
                           + [{"Mått": "Utan samtycke (ingår ovan)", "Totalt": report["no_consent"]}])
    reasons = pd.DataFrame([{"Kod": k if k != UNKNOWN_REASON else "", "Avslutsorsak": labels.get(k, k), **_sex_cols(v)}
                            for k, v in report["exited"]["by_reason"].items()],
                           columns=["Kod", "Avslutsorsak", *SEX_HEADERS.values()])
    per, per_reason, referrers = [], [], []
    for name, ini in report["initiatives"].items():
        per.append({"Insats": name, **_sex_cols(ini["participants"], "Deltagare "), **_sex_cols(ini["started"], "Nya "),
                    **_sex_cols(ini["exited"], "Avslutade "), "Utan samtycke": ini["no_consent"],
                    "Budget (kr)": ini["cost"]["budget"], "Utfall (kr)": ini["cost"]["actual"],
                    "Kostnad per deltagare (kr)": ini["cost"]["per_participant"]})
        per_reason += [{"Insats": name, "Kod": k if k != UNKNOWN_REASON else "", "Avslutsorsak": labels.get(k, k),
                        **_sex_cols(v)} for k, v in ini["exited"]["by_reason"].items()]
        referrers += [{"Insats": name, "Remittent": a, **_sex_cols(v)} for a, v in ini["referrers"].items()]
    return {
        "Sammanfattning": summary,
        "Avslutsorsaker": reasons,
        "Per insats": pd.DataFrame(per),
        "Avslut per insats": pd.DataFrame(per_reason, columns=["Insats", "Kod", "Avslutsorsak", *SEX_HEADERS.values()]),
        "Remittenter per insats": pd.DataFrame(referrers, columns=["Insats", "Remittent", *SEX_HEADERS.values()]),
    }


def write_report_xlsx(report: dict, out: Path, con) -> None:
    tables = report_tables(report, reason_labels(con, short=False))
    formats = {
        name: {c: ("kr" if "(kr)" in c else "int") for c in df.columns if c not in {"Mått", "Insats", "Kod",
                                                                                     "Avslutsorsak", "Remittent"}}
        for name, df in tables.items()
    }
    meta = {"Rapport": f"Insatskollen – årsrapport {report['year']}",
            "Period": f"{report['year']}-01-01 – {report['year']}-12-31",
            "Skapad": dt.datetime.now(STOCKHOLM).strftime("%Y-%m-%d %H:%M")}
    Path(out).write_bytes(to_excel_bytes(tables, meta=meta, formats=formats))
