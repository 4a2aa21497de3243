"""The one definition of who counts in a period (section 6 of the data contract), as SQL.

Every enrollment and every anonymous count becomes a row of `facts` with flags saying
whether it is a participant, started or exited in the period. All people-metrics
aggregate these rows, so the definitions live here and nowhere else.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb

from core.vocabulary import AGE_UNKNOWN, MISSING, UNKNOWN_REASON

from .filters import Filters

if TYPE_CHECKING:  # the frames come from duckdb's .df(); the annual report runs without pandas (metrics/budget.py)
    import pandas as pd


def share(num, den):
    """num / den, or None where the denominator is zero: a missing share is not 0 %."""
    return None if not den else num / den

# every calendar year from $start's to $end's, each a period of its own
_PERIOD_YEARS = """period_years AS (
    SELECT y AS period_year, make_date(y, 1, 1) AS period_start, make_date(y, 12, 31) AS period_end
    FROM range(year($start), year($end) + 1) AS t(y)
),
"""


def _facts_sql(start: str, end: str, per_year: bool, periods: str = _PERIOD_YEARS) -> str:
    """The facts for the period `start`–`end` (SQL expressions). `per_year`: every row once per period of the
    relation `period_years` (by default each calendar year of $start–$end; `periods` may name others), so one query
    can count many periods at once."""
    years = " CROSS JOIN period_years" if per_year else ""
    year = " period_year," if per_year else ""
    return f"""
WITH {periods if per_year else ""}enr AS (
    SELECT
        initiative, association,{year}
        CASE sex WHEN 'woman' THEN 'women' WHEN 'man' THEN 'men' ELSE 'other' END AS sex,
        agency,
        coalesce(referrer_unit, '{MISSING}') AS unit,
        CASE WHEN consent AND exit_reason IS NOT NULL THEN CAST(exit_reason AS VARCHAR)
             ELSE '{UNKNOWN_REASON}' END AS reason,
        CASE WHEN age_at_start IS NULL THEN '{AGE_UNKNOWN}'
             WHEN age_at_start < 16 THEN 'Under 16'
             WHEN age_at_start <= 29 THEN '16–29'
             WHEN age_at_start <= 49 THEN '30–49'
             WHEN age_at_start <= 64 THEN '50–64'
             ELSE '65+' END AS age_group,
        coalesce(income_at_start, '{MISSING}') AS income_at_start,
        coalesce(income_at_exit, '{MISSING}') AS income_at_exit,
        coalesce(education, '{MISSING}') AS education,
        start_date, end_date, consent, 1 AS n, FALSE AS anonymous,
        participant_id, age_at_start, referrer_unit, exit_reason, income_at_start AS income_start_raw,
        income_at_exit AS income_exit_raw, education AS education_raw,
        start_date <= {end} AND (end_date IS NULL OR end_date >= {start}) AS is_participant,
        start_date BETWEEN {start} AND {end} AS is_started,
        coalesce(end_date BETWEEN {start} AND {end}, FALSE) AS is_exited
    FROM enrollments{years}
),
anon AS (
    -- anonymous counts are participants and started in their year only, with no outcome
    SELECT
        initiative, association,{year} sex, '{MISSING}' AS agency, '{MISSING}' AS unit,
        '{UNKNOWN_REASON}' AS reason, '{AGE_UNKNOWN}' AS age_group,
        '{MISSING}' AS income_at_start, '{MISSING}' AS income_at_exit, '{MISSING}' AS education,
        make_date(year, 1, 1) AS start_date, CAST(NULL AS DATE) AS end_date, FALSE AS consent,
        n, TRUE AS anonymous,
        make_date(year, 1, 1) <= {end} AND make_date(year, 12, 31) >= {start} AS is_participant,
        make_date(year, 1, 1) <= {end} AND make_date(year, 12, 31) >= {start} AS is_started,
        FALSE AS is_exited
    FROM (UNPIVOT anonymous_counts ON women, men, other INTO NAME sex VALUE n){years}
    WHERE n > 0
),
facts AS (
    SELECT * FROM enr UNION ALL BY NAME SELECT * FROM anon
)
SELECT * FROM facts
WHERE (len(CAST($initiatives AS VARCHAR[])) = 0 OR list_contains(CAST($initiatives AS VARCHAR[]), initiative))
  AND (len(CAST($agencies AS VARCHAR[])) = 0 OR list_contains(CAST($agencies AS VARCHAR[]), agency))
  AND (len(CAST($sexes AS VARCHAR[])) = 0 OR list_contains(CAST($sexes AS VARCHAR[]), sex))
  AND (len(CAST($associations AS VARCHAR[])) = 0 OR list_contains(CAST($associations AS VARCHAR[]), association))
"""


FACTS_SQL = _facts_sql("$start", "$end", per_year=False)
YEARLY_FACTS_SQL = _facts_sql("period_start", "period_end", per_year=True)


def periods_facts_sql(periods: list[tuple[str, object, object]]) -> str:
    """The facts once per named period (name, first day, last day), the name in `period_year`: one query counts
    every period of a year's grid (metrics/suppress.py)."""
    rows = ", ".join(f"('{name}', DATE '{a.isoformat()}', DATE '{b.isoformat()}')" for name, a, b in periods)
    cte = f"period_years AS (SELECT * FROM (VALUES {rows}) AS t(period_year, period_start, period_end)),\n"
    return _facts_sql("period_start", "period_end", per_year=True, periods=cte)

MEASURES = {
    "participants": "is_participant",
    "started": "is_started",
    "exited": "is_exited",
    "no_consent": "is_participant AND NOT consent",
}
EVENT_DATE = {"started": "start_date", "exited": "end_date", "participants": "start_date", "no_consent": "start_date"}

# dimensions a count can be split by; time dimensions follow the measure's event date
DIMENSIONS = {
    "initiative", "association", "agency", "unit", "reason", "age_group",
    "income_at_start", "income_at_exit", "education", "month", "quarter", "tertial", "year",
}
TIME_DIMENSIONS = {"month", "quarter", "tertial", "year"}


def period_sql(dim: str, date: str) -> str | None:
    """A month, quarter or tertial of `date` as its label ('2024-05', '2024-K2', '2024-T2'); None for another dim."""
    if dim == "month":
        return f"strftime({date}, '%Y-%m')"
    if dim == "quarter":
        return f"CAST(year({date}) AS VARCHAR) || '-K' || CAST(quarter({date}) AS VARCHAR)"
    if dim == "tertial":
        return f"CAST(year({date}) AS VARCHAR) || '-T' || CAST((month({date}) - 1) // 4 + 1 AS VARCHAR)"
    return None


def _dim_sql(dim: str, measure: str) -> str:
    d = EVENT_DATE[measure]
    if (period := period_sql(dim, d)) is not None:
        return f"{period} AS {dim}"
    if dim == "year":
        return f"year({d}) AS year"
    return dim


def query(con: duckdb.DuckDBPyConnection, sql: str, f: Filters, extra: dict | None = None, *,
          per_year: bool = False) -> pd.DataFrame:
    """Run `sql` with the filtered facts available as the relation `facts`.

    `per_year`: the facts hold each calendar year of the period as a period of its own, told by `period_year`,
    so one query counts many years (cost per participant counts a whole calendar year each)."""
    full = f"WITH facts AS ({YEARLY_FACTS_SQL if per_year else FACTS_SQL})\n{sql}"
    return con.execute(full, f.params() | (extra or {})).df()


def query_rows(con: duckdb.DuckDBPyConnection, sql: str, f: Filters, extra: dict | None = None
               ) -> tuple[list[str], list[tuple]]:
    """`query` as column names and plain rows: for a caller that walks thousands of small groups in Python,
    where a DataFrame per group would cost more than the query."""
    cur = con.execute(f"WITH facts AS ({FACTS_SQL})\n{sql}", f.params() | (extra or {}))
    names = [d[0] for d in cur.description]
    return names, cur.fetchall()


def counts(con: duckdb.DuckDBPyConnection, f: Filters, measure: str, by: tuple[str, ...] = ()) -> pd.DataFrame:
    """Counts of `measure` split by sex (women, men, other, total), grouped by `by`.

    Time dimensions (month, quarter) leave out anonymous counts, which carry only a year.
    """
    unknown = set(by) - DIMENSIONS
    if measure not in MEASURES or unknown:
        raise ValueError(f"unknown measure or dimension: {measure} {unknown or ''}")
    select = [_dim_sql(d, measure) for d in by]
    where = MEASURES[measure]
    if set(by) & {"month", "quarter", "tertial"}:
        where += " AND NOT anonymous"
    group = f"GROUP BY {', '.join(by)} ORDER BY {', '.join(by)}" if by else ""
    sql = f"""
        SELECT {''.join(s + ', ' for s in select)}
            CAST(coalesce(sum(n) FILTER (WHERE sex = 'women'), 0) AS BIGINT) AS women,
            CAST(coalesce(sum(n) FILTER (WHERE sex = 'men'), 0) AS BIGINT) AS men,
            CAST(coalesce(sum(n) FILTER (WHERE sex = 'other'), 0) AS BIGINT) AS other,
            CAST(coalesce(sum(n), 0) AS BIGINT) AS total
        FROM facts WHERE {where}
        {group}
    """
    return query(con, sql, f)
