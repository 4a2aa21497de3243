"""What is in the database: years, initiatives, agencies and when it was last loaded."""
from __future__ import annotations

import duckdb
import pandas as pd


def years(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Years with any activity (start, exit, anonymous count or budget line), newest first."""
    rows = con.execute(
        """
        SELECT DISTINCT y FROM (
            SELECT year(start_date) AS y FROM enrollments
            UNION SELECT year(end_date) FROM enrollments WHERE end_date IS NOT NULL
            UNION SELECT year FROM anonymous_counts
        ) ORDER BY y DESC
        """
    ).fetchall()
    return [int(y) for (y,) in rows]


def default_year(con: duckdb.DuckDBPyConnection, this_year: int) -> int | None:
    """The view a link without a year opens: the newest year with participants that is not in the future.

    In January the current year has participants but hardly any exits; it is still the year the
    director asks about, and the pages say plainly when a period has no exits yet.
    """
    rows = con.execute(
        """SELECT DISTINCT y FROM (SELECT year(start_date) AS y FROM enrollments UNION SELECT year FROM anonymous_counts)
           ORDER BY y"""
    ).fetchall()
    found = [int(y) for (y,) in rows if y is not None]
    if not found:
        return None
    past = [y for y in found if y <= this_year]
    return max(past) if past else min(found)


def associations(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The associations the data names (the Förbund column); one unnamed association gives an empty list."""
    rows = con.execute(
        """SELECT DISTINCT association FROM (SELECT association FROM enrollments UNION SELECT association FROM anonymous_counts)
           WHERE association <> '' ORDER BY association"""
    ).fetchall()
    return [a for (a,) in rows]


def initiative_owners(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Initiative -> the association(s) it belongs to, for labels when the data names several associations."""
    rows = con.execute(
        """SELECT initiative, string_agg(DISTINCT association, ', ' ORDER BY association) FROM
             (SELECT initiative, association FROM enrollments UNION SELECT initiative, association FROM anonymous_counts)
           WHERE association <> '' GROUP BY initiative"""
    ).fetchall()
    return dict(rows)


def initiatives(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        """SELECT DISTINCT initiative FROM (
               SELECT initiative FROM enrollments UNION SELECT initiative FROM anonymous_counts
               UNION SELECT initiative FROM initiatives UNION SELECT initiative FROM budget_lines)
           ORDER BY initiative"""
    ).fetchall()
    return [n for (n,) in rows]


def status(con: duckdb.DuckDBPyConnection) -> dict:
    meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    return {
        "source": meta.get("source"),
        "last_load": meta.get("last_load"),
        "enrollments": con.execute("SELECT count(*) FROM enrollments").fetchone()[0],
    }


def load_history(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute("SELECT * FROM load_history ORDER BY load_id DESC").df()


def association_name(con: duckdb.DuckDBPyConnection) -> str:
    """The association named in the exports (Förbund column), for titles; a neutral default otherwise."""
    row = con.execute("SELECT min(association) FROM enrollments WHERE association <> ''").fetchone()
    return row[0] if row and row[0] else "Samordningsförbundet"
