"""The national follow-up's own facts (Uppföljning Finsam): each initiative's direction and register fields,
and the structural initiatives' counts of participants.

Structural initiatives report a number of participants per year and nothing per person. Their counts
live in their own table and are read only here: metrics/facts.py, where every individual figure comes
from, never sees them, so they cannot reach participants, started or any share.

A database made before these fields has neither the register's new columns nor the table; it reads
as "direction not stated" (individinriktad) and "no counts" until the next load adds them.
"""
from __future__ import annotations

import duckdb
import pandas as pd

from .filters import Filters

INDIVIDUAL, STRUCTURAL = "individual", "structural"


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    """The columns `table` has in this database (none when the table is missing)."""
    rows = con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() "
        "AND schema_name = current_schema() AND table_name = ?", [table]).fetchall()
    return {c for (c,) in rows}


def has_structural_counts(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(_columns(con, "structural_counts"))


def register(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The register's follow-up fields per initiative: direction as stated (None: not stated), target group,
    budgeted participants per year and ESF funding (None: not known)."""
    have = _columns(con, "initiatives")
    cols = {c: (c if c in have else "NULL") for c in ("direction", "target_group", "esf")}
    return con.execute(f"""
        SELECT initiative, CAST({cols['direction']} AS VARCHAR) AS direction,
               CAST({cols['target_group']} AS VARCHAR) AS target_group, target_participants,
               CAST({cols['esf']} AS BOOLEAN) AS esf
        FROM initiatives ORDER BY initiative
    """).df()


def _structural_sql(con: duckdb.DuckDBPyConnection) -> str:
    if has_structural_counts(con):
        return "SELECT association, initiative, year, participants FROM structural_counts"
    return ("SELECT CAST(NULL AS VARCHAR) AS association, CAST(NULL AS VARCHAR) AS initiative, "
            "CAST(NULL AS INTEGER) AS year, CAST(NULL AS INTEGER) AS participants WHERE FALSE")


def directions(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every initiative the database names, with its direction: 'individual' or 'structural'.

    The register's word where it gives one; otherwise structural for an initiative that has only
    structural counts (no enrollments, no anonymous counts), and individual for every other.
    """
    stated = "r.direction" if "direction" in _columns(con, "initiatives") else "CAST(NULL AS VARCHAR)"
    return con.execute(f"""
        WITH structural AS ({_structural_sql(con)}),
        individual AS (SELECT initiative FROM enrollments UNION SELECT initiative FROM anonymous_counts),
        names AS (SELECT initiative FROM individual UNION SELECT initiative FROM budget_lines
                  UNION SELECT initiative FROM initiatives UNION SELECT initiative FROM structural)
        SELECT n.initiative,
               coalesce({stated},
                        CASE WHEN n.initiative IN (SELECT initiative FROM structural)
                              AND n.initiative NOT IN (SELECT initiative FROM individual)
                             THEN '{STRUCTURAL}' ELSE '{INDIVIDUAL}' END) AS direction
        FROM names n LEFT JOIN initiatives r USING (initiative)
        ORDER BY n.initiative
    """).df()


def structural_participants(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """Participants of structural initiatives per initiative: the counts of the years the period touches.

    A count carries only a year (like an anonymous count), so it counts in any period overlapping its year.
    """
    return con.execute(f"""
        WITH s AS ({_structural_sql(con)})
        SELECT initiative, CAST(sum(participants) AS BIGINT) AS participants
        FROM s
        WHERE year BETWEEN $y0 AND $y1
          AND (len(CAST($initiatives AS VARCHAR[])) = 0 OR list_contains(CAST($initiatives AS VARCHAR[]), initiative))
          AND (len(CAST($associations AS VARCHAR[])) = 0
               OR list_contains(CAST($associations AS VARCHAR[]), association))
        GROUP BY initiative ORDER BY initiative
    """, {"y0": f.start.year, "y1": f.end.year, "initiatives": list(f.initiatives),
          "associations": list(f.associations)}).df()


def direction_conflicts(con: duckdb.DuckDBPyConnection, f: Filters) -> list[str]:
    """Initiatives of the period that are one direction by the register but have data of the other kind.

    A structural initiative with enrollments, or an individual one with structural counts: the
    follow-up reports each under its direction only, so the rest would be left out. They should be
    registered as two initiatives. Narrowed by the association filter (the chosen associations' data).
    """
    d = directions(con)
    mine = " AND list_contains(CAST($associations AS VARCHAR[]), association)" if f.associations else ""
    people = con.execute(f"""
        SELECT DISTINCT initiative FROM enrollments
        WHERE start_date <= $end AND (end_date IS NULL OR end_date >= $start){mine}
        UNION SELECT initiative FROM anonymous_counts WHERE year BETWEEN $y0 AND $y1{mine}
    """, {"start": f.start, "end": f.end, "y0": f.start.year, "y1": f.end.year}
        | ({"associations": list(f.associations)} if f.associations else {})).df()
    counted = set(structural_participants(con, Filters(f.start, f.end, associations=f.associations)).initiative)
    structural = set(d[d.direction == STRUCTURAL].initiative)
    return sorted((set(people.initiative) & structural) | (counted - structural))
