"""Data quality: what in the stored data needs a look before the figures are trusted. SQL over DuckDB.

Each check has a count and the rows behind it. Checks about enrollments list individual rows
(for roles that may see them); the others list initiatives and years, which are aggregates.
`as_of` is the day an open enrollment is measured to (today on the page; fixed in tests), and
`max_years` the length above which an enrollment is flagged.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import pandas as pd

from core.vocabulary import OTHER_AGENCY

DEFAULT_MAX_YEARS = 3


@dataclass(frozen=True)
class Check:
    key: str
    label: str  # Swedish, for the page
    explanation: str
    unit: str  # what the count counts (plural)
    individual: bool  # its rows are enrollments (individual rows), not aggregates

    def counted(self, n: int) -> str:
        """'1 inskrivning', '3 inskrivningar' (the number as given: format it first)."""
        return f"{n} {UNIT_ONE.get(self.unit, self.unit) if str(n) == '1' else self.unit}"


UNIT_ONE = {"inskrivningar": "inskrivning", "insatser": "insats", "insatsår": "insatsår"}


CHECKS = (
    Check("ended_without_reason", "Avslutade utan avslutsorsak",
          "Inskrivningar med slutdatum men utan avslutsorsak (bland dem med samtycke; utan samtycke sparas ingen "
          "orsak). De räknas som okänd orsak och sänker andelen till arbete/studier.", "inskrivningar", True),
    Check("no_consent", "Utan samtycke",
          "Inskrivningar utan samtycke: bara kön, ålder och datum finns kvar, så remittent och avslutsorsak saknas. "
          "Anonymt registrerade deltagare (antal per år) har inga rader och räknas inte här.", "inskrivningar", True),
    Check("no_budget", "Insatsår utan budget",
          "Insatser som har deltagare ett år men ingen budget- eller utfallsrad för det året: kostnaden per "
          "deltagare saknas då.", "insatsår", False),
    Check("budget_without_participants", "Budget utan deltagare",
          "Insatser med budget eller utfall ett år men inga deltagare det året: kontrollera insatsens namn i "
          "budgetfilen, eller om deltagarexporten saknas.", "insatsår", False),
    Check("unmapped_referrers", "Remittenter utan mappning",
          f"Inskrivningar vars remittent inte matchar någon rad i remittentmappningen och därför räknas som "
          f"{OTHER_AGENCY}. Lägg till enheterna under Remittenter.", "inskrivningar", True),
    Check("missing_from_register", "Insatser som saknas i insatsregistret",
          "Insatser som har deltagare, anonyma deltagare eller budget men ingen rad i insatsregistret: deras mål och "
          "insatsägare saknas.", "insatser", False),
    Check("long_enrollments", "Långa inskrivningar",
          "Inskrivningar som varat längre än det valda antalet år (öppna räknas till i dag): kanske har ett "
          "avslut inte registrerats.", "inskrivningar", True),
)
BY_KEY = {c.key: c for c in CHECKS}

_ROW_COLUMNS = """participant_id, initiative, sex, start_date, end_date, exit_reason, referrer_unit, agency, consent,
                  load_id"""


def _has(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(con.execute("SELECT 1 FROM duckdb_tables() WHERE database_name = current_database() "
                            "AND table_name = ?", [table]).fetchall())


# Per initiative and year: the participants (enrollments overlapping the year; anonymous counts in their year), as
# metrics/facts.py counts them. An open enrollment runs to the last year the data has any activity in, so an export
# made in January does not flag the new year as lacking a budget that nobody has entered yet.
_PARTICIPANT_YEARS = """
    last_year AS (  -- an open enrollment counts up to the data's last year with activity (not past `as_of`)
        SELECT least(year($as_of), max(y)) AS y FROM (
            SELECT year(start_date) AS y FROM enrollments UNION ALL SELECT year(end_date) FROM enrollments
            UNION ALL SELECT year FROM anonymous_counts)
    ),
    people AS (
        SELECT initiative, y AS year, count(*) AS participants FROM (
            SELECT initiative, unnest(generate_series(year(start_date), coalesce(
                year(end_date), greatest((SELECT y FROM last_year), year(start_date))))) AS y
            FROM enrollments)
        GROUP BY ALL
        UNION ALL
        SELECT initiative, year, sum(women + men + other) FROM anonymous_counts
        WHERE women + men + other > 0 GROUP BY ALL
    ),
    participant_years AS (SELECT initiative, year, CAST(sum(participants) AS BIGINT) AS participants FROM people GROUP BY ALL),
    budget_years AS (
        SELECT initiative, year, CAST(sum(budget) AS DOUBLE) AS budget, CAST(sum(actual) AS DOUBLE) AS actual,
               count(*) AS lines
        FROM budget_lines GROUP BY ALL
    )
"""

_SQL = {
    "ended_without_reason": f"""
        SELECT {_ROW_COLUMNS} FROM enrollments
        WHERE end_date IS NOT NULL AND exit_reason IS NULL AND consent
        ORDER BY initiative, end_date, participant_id""",
    "no_consent": f"""
        SELECT {_ROW_COLUMNS} FROM enrollments WHERE NOT consent ORDER BY initiative, start_date""",
    "no_budget": f"""
        WITH {_PARTICIPANT_YEARS}
        SELECT p.initiative, p.year, p.participants FROM participant_years p
        WHERE NOT EXISTS (SELECT 1 FROM budget_years b WHERE b.initiative = p.initiative AND b.year = p.year)
        ORDER BY p.initiative, p.year""",
    "budget_without_participants": f"""
        WITH {_PARTICIPANT_YEARS}
        SELECT b.initiative, b.year, b.lines, b.budget, b.actual FROM budget_years b
        WHERE NOT EXISTS (SELECT 1 FROM participant_years p WHERE p.initiative = b.initiative AND p.year = b.year)
        ORDER BY b.initiative, b.year""",
    "unmapped_referrers": f"""
        SELECT {_ROW_COLUMNS} FROM enrollments
        WHERE consent AND referrer_unit IN (SELECT unit FROM referrer_units WHERE rule IS NULL)
        ORDER BY referrer_unit, initiative, start_date""",
    "missing_from_register": """
        WITH used AS (
            SELECT initiative, 'deltagare' AS source FROM enrollments
            UNION SELECT initiative, 'anonyma deltagare' FROM anonymous_counts
            UNION SELECT initiative, 'budget' FROM budget_lines
        )
        SELECT initiative, string_agg(source, ', ' ORDER BY source) AS found_in FROM used
        WHERE initiative NOT IN (SELECT initiative FROM initiatives)
        GROUP BY initiative ORDER BY initiative""",
    "long_enrollments": f"""
        SELECT {_ROW_COLUMNS},
               round(datediff('day', start_date, coalesce(end_date, $as_of)) / 365.25, 1) AS years
        FROM enrollments
        WHERE coalesce(end_date, $as_of) > start_date + to_years(CAST($max_years AS INTEGER))
        ORDER BY years DESC, initiative""",
}
_PARAMS = {"no_budget": {"as_of"}, "budget_without_participants": {"as_of"}, "long_enrollments": {"as_of", "max_years"}}


def rows(con: duckdb.DuckDBPyConnection, key: str, *, as_of: dt.date, max_years: int = DEFAULT_MAX_YEARS,
         limit: int | None = None) -> pd.DataFrame:
    """The rows behind one check: enrollments for the individual checks, initiatives (and years) for the others;
    the first `limit` of them in the check's order (a national database has tens of thousands behind one check)."""
    if key not in _SQL:
        raise ValueError(f"unknown data-quality check {key!r}")
    if key == "unmapped_referrers" and not _has(con, "referrer_units"):
        return con.execute(f"SELECT {_ROW_COLUMNS} FROM enrollments WHERE FALSE").df()  # loaded before the table existed
    given = {"as_of": as_of, "max_years": int(max_years)}
    sql = _SQL[key] if limit is None else f"SELECT * FROM ({_SQL[key]}) LIMIT {int(limit)}"
    return con.execute(sql, {k: given[k] for k in _PARAMS.get(key, ())}).df()


def summary(con: duckdb.DuckDBPyConnection, *, as_of: dt.date, max_years: int = DEFAULT_MAX_YEARS) -> pd.DataFrame:
    """One row per check: key, label, count, unit, explanation and whether its rows are individual rows."""
    out = []
    for c in CHECKS:
        sql = _SQL[c.key]
        if c.key == "unmapped_referrers" and not _has(con, "referrer_units"):
            n = 0
        else:
            given = {"as_of": as_of, "max_years": int(max_years)}
            n = con.execute(f"SELECT count(*) FROM ({sql})", {k: given[k] for k in _PARAMS.get(c.key, ())}).fetchall()[0][0]
        out.append({"key": c.key, "label": c.label, "count": int(n), "unit": c.unit, "explanation": c.explanation,
                    "individual": c.individual})
    return pd.DataFrame(out)


def referrer_units(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Each stored referrer unit with its enrollments, its agency and the rule that gave it; those that matched
    nothing (rule NULL, counted as Annan) first, then the most used."""
    if not _has(con, "referrer_units"):
        return con.execute("""
            SELECT referrer_unit AS unit, count(*) AS enrollments, any_value(agency) AS agency,
                   CAST(NULL AS VARCHAR) AS rule
            FROM enrollments WHERE consent AND referrer_unit IS NOT NULL AND referrer_unit <> ''
            GROUP BY referrer_unit ORDER BY enrollments DESC, unit""").df()
    return con.execute("""
        SELECT r.unit, count(e.referrer_unit) AS enrollments, r.agency, r.rule
        FROM referrer_units r LEFT JOIN enrollments e ON e.referrer_unit = r.unit AND e.consent
        GROUP BY r.unit, r.agency, r.rule
        ORDER BY r.rule IS NOT NULL, enrollments DESC, r.unit""").df()
