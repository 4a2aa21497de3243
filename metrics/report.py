"""The annual report of section 8 of the data contract, built only from the metrics definitions.

One query: the facts of metrics/facts.py (who counts in the year, MEASURES) are summed once per
initiative, agency, exit reason and sex, and that small table is summed over GROUPING SETS — the
whole year, per reason, per initiative, per initiative and reason, per initiative and agency —
instead of a query per figure and a pandas filter per initiative; a national database of
thousands of initiatives is reported in well under a second. The money comes from the budget lines'
query and the cost rules of metrics/budget.py (what metrics/cost.py builds its tables on), given the
participants this query already has: the report needs no pandas, so `etl report` does not load it.
"""
from __future__ import annotations

from collections import defaultdict

import duckdb

from core.vocabulary import SEXES, UNKNOWN_REASON

from .budget import budget_lines_sql, cost_basis, per_person
from .facts import MEASURES, query_rows
from .filters import Filters

KEYS = ["total", *SEXES]
REPORTED = ("participants", "started", "exited", "no_consent")
SETS = {  # GROUPING(initiative, agency, reason) of each grouping set: 1 where the column is summed over
    (1, 1, 1): "year", (1, 1, 0): "reason", (0, 1, 1): "initiative", (0, 1, 0): "initiative_reason",
    (0, 0, 1): "initiative_agency",
}


def _sql() -> str:
    first, then = [], []
    for m in REPORTED:
        for sex in SEXES:
            first.append(f"sum(n) FILTER (WHERE ({MEASURES[m]}) AND sex = '{sex}') AS {m}_{sex}")
            then.append(f"CAST(coalesce(sum({m}_{sex}), 0) AS BIGINT) AS {m}_{sex}")
        then.append(f"CAST({' + '.join(f'coalesce(sum({m}_{sex}), 0)' for sex in SEXES)} AS BIGINT) AS {m}_total")
    first_sql = ",\n           ".join(first)
    then_sql = ",\n       ".join(then)
    return f"""
, per_group AS (
    SELECT initiative, agency, reason,
           {first_sql}
    FROM facts
    WHERE is_participant OR is_started OR is_exited
    GROUP BY ALL
)
SELECT initiative, agency, reason,
       GROUPING(initiative) AS g_initiative, GROUPING(agency) AS g_agency, GROUPING(reason) AS g_reason,
       {then_sql}
FROM per_group
GROUP BY GROUPING SETS ((), (reason), (initiative), (initiative, reason), (initiative, agency))
ORDER BY initiative, agency, reason
"""


REPORT_SQL = _sql()


def _zero() -> dict:
    return {k: 0 for k in KEYS}


def _money(x) -> float | None:
    return None if x is None or x != x else round(float(x), 2)


def _reason_order(reason: str) -> int:
    return 99 if reason == UNKNOWN_REASON else int(reason)


def build_report(con: duckdb.DuckDBPyConnection, year: int, associations=()) -> dict:
    """The report of `year`; `associations`: one association's (or several's) of a database of many, its people
    and the initiatives it owns (metrics.catalog.owned_by), else the whole database's."""
    f = Filters.year(year, associations=tuple(associations))
    names, rows = query_rows(con, REPORT_SQL, f)  # REPORT_SQL goes on from the facts CTE: ", per_group AS …"
    col = {n: i for i, n in enumerate(names)}

    def split(row: tuple, measure: str) -> dict:
        return {k: int(row[col[f"{measure}_{k}"]]) for k in KEYS}

    def reasons(group: list[tuple]) -> dict[str, dict]:
        """Exits per reason with any exit, by code, unknown last."""
        found = [r for r in group if r[col["exited_total"]] > 0]
        found.sort(key=lambda r: _reason_order(r[col["reason"]]))
        return {str(r[col["reason"]]): split(r, "exited") for r in found}

    sets: dict[str, list[tuple]] = defaultdict(list)
    for r in rows:
        sets[SETS[(r[col["g_initiative"]], r[col["g_agency"]], r[col["g_reason"]])]].append(r)
    whole = sets["year"][0] if sets["year"] else (0,) * len(names)
    report: dict = {"year": year}
    for m in ("participants", "started"):
        report[m] = split(whole, m)
    report["exited"] = split(whole, "exited") | {"by_reason": reasons(sets["reason"])}
    report["no_consent"] = int(whole[col["no_consent_total"]])

    per = {r[col["initiative"]]: r for r in sets["initiative"]}
    by_reason: dict[str, list[tuple]] = defaultdict(list)
    for r in sets["initiative_reason"]:
        by_reason[r[col["initiative"]]].append(r)
    by_agency: dict[str, list[tuple]] = defaultdict(list)
    for r in sets["initiative_agency"]:  # ordered by agency, as the query gives them
        by_agency[r[col["initiative"]]].append(r)
    cost_rows = {}  # initiative -> (budget, actual, per participant), as metrics.cost.cost_by_initiative_year has them
    for name, _year, budget, actual in con.execute(*budget_lines_sql(con, f)).fetchall():
        row = per.get(name)
        _, cost = cost_basis(budget, actual)
        cost_rows[name] = (budget, actual, per_person(cost, 0 if row is None else row[col["participants_total"]]))
    initiatives = {}
    for name in sorted({n for n, r in per.items() if r[col["participants_total"]] > 0} | set(cost_rows)):
        row = per.get(name)
        budget, actual, per_participant = cost_rows.get(name, (None, None, None))
        initiatives[name] = {
            "participants": _zero() if row is None else split(row, "participants"),
            "started": _zero() if row is None else split(row, "started"),
            "exited": (_zero() if row is None else split(row, "exited")) | {"by_reason": reasons(by_reason[name])},
            "no_consent": 0 if row is None else int(row[col["no_consent_total"]]),
            "referrers": {str(r[col["agency"]]): split(r, "started") for r in by_agency[name]
                          if r[col["started_total"]] > 0},
            "cost": {"budget": _money(budget), "actual": _money(actual), "per_participant": _money(per_participant)},
        }
    report["initiatives"] = initiatives
    return report

