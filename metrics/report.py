"""The annual report of section 8 of the data contract, built only from the metrics functions."""
from __future__ import annotations

import duckdb
import pandas as pd

from .cost import cost_by_initiative_year
from .facts import UNKNOWN_REASON, counts
from .filters import SEXES, Filters
from .people import exits_by_reason

KEYS = ["total", *SEXES]


def _split(row) -> dict:
    return {k: int(row[k]) for k in KEYS}


def _zero() -> dict:
    return {k: 0 for k in KEYS}


def _by(df: pd.DataFrame, key: str) -> dict[str, dict]:
    return {str(r[key]): _split(r) for _, r in df.iterrows()}


def _reasons(df: pd.DataFrame) -> dict[str, dict]:
    return {str(r.reason): _split(r) for _, r in df.iterrows() if r.total > 0}


def _money(x) -> float | None:
    return None if x is None or pd.isna(x) else round(float(x), 2)


def build_report(con: duckdb.DuckDBPyConnection, year: int) -> dict:
    f = Filters.year(year)
    report: dict = {"year": year}
    for m in ("participants", "started"):
        report[m] = _split(counts(con, f, m).iloc[0])
    report["exited"] = _split(counts(con, f, "exited").iloc[0]) | {"by_reason": _reasons(exits_by_reason(con, f))}
    report["no_consent"] = int(counts(con, f, "no_consent").total.iloc[0])

    per = {m: _by(counts(con, f, m, ("initiative",)), "initiative") for m in ("participants", "started", "exited")}
    no_consent = _by(counts(con, f, "no_consent", ("initiative",)), "initiative")
    reasons = exits_by_reason(con, f, ("initiative",))
    referrers = counts(con, f, "started", ("initiative", "agency"))
    cost = cost_by_initiative_year(con, f).set_index("initiative")
    names = sorted(set(per["participants"]) | set(cost.index))
    initiatives = {}
    for name in names:
        c = cost.loc[name] if name in cost.index else None
        initiatives[name] = {
            "participants": per["participants"].get(name, _zero()),
            "started": per["started"].get(name, _zero()),
            "exited": per["exited"].get(name, _zero())
            | {"by_reason": _reasons(reasons[reasons.initiative == name])},
            "no_consent": no_consent.get(name, {"total": 0})["total"],
            "referrers": _by(referrers[referrers.initiative == name], "agency"),
            "cost": {
                "budget": _money(None if c is None else c["budget"]),
                "actual": _money(None if c is None else c["actual"]),
                "per_participant": _money(None if c is None else c["per_participant"]),
            },
        }
    report["initiatives"] = initiatives
    return report


SEX_HEADERS = {"women": "Kvinnor", "men": "Män", "other": "Annat/okänt", "total": "Totalt"}


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
