"""The annual report of section 8 of the data contract, built only from the metrics functions."""
from __future__ import annotations

import duckdb
import pandas as pd

from core.vocabulary import SEXES

from .cost import cost_by_initiative_year
from .facts import counts
from .filters import Filters
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
