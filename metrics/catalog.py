"""What is in the database: years, initiatives, agencies, the exit reasons' wording and when it was last loaded."""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import duckdb

from core.vocabulary import UNKNOWN_REASON, UNKNOWN_REASON_LABEL

if TYPE_CHECKING:  # the history's frames come from duckdb's .df(); the annual report runs without pandas
    import pandas as pd


def reason_labels(con: duckdb.DuckDBPyConnection, short: bool = True) -> dict[str, str]:
    """Each exit reason code's wording (the editable table in data/), and the unknown reason's."""
    col = "short_label" if short else "label"
    labels = {str(c): lbl for c, lbl in con.execute(f"SELECT code, {col} FROM exit_reasons ORDER BY code").fetchall()}
    labels[UNKNOWN_REASON] = UNKNOWN_REASON_LABEL
    return labels


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
    """The view a link without a year opens: the newest *complete* year with participants, not in the future.

    A year is complete when the data reaches its last day (`coverage`): exports that end on 30 March 2022 open
    on 2021, not on a quarter of 2022 with no exits and no cost. Where no year is complete yet (an association's
    first year), the newest year with participants; the header says how far the data reaches either way.
    """
    rows = con.execute(
        """SELECT DISTINCT y FROM (SELECT year(start_date) AS y FROM enrollments UNION SELECT year FROM anonymous_counts)
           ORDER BY y"""
    ).fetchall()
    found = [int(y) for (y,) in rows if y is not None]
    if not found:
        return None
    past = [y for y in found if y <= this_year]
    if not past:
        return min(found)
    last = coverage(con)["last"]
    complete = [y for y in past if last is not None and last >= dt.date(y, 12, 31)]
    return max(complete) if complete else max(past)


def coverage(con: duckdb.DuckDBPyConnection) -> dict:
    """The dates the participant data covers: {"first", "last"} (None without dated participants).

    `last` is the latest start or exit. `first` is 1 January of the year of the earliest exit: an export holds
    the participants of its period, so those who left before it are missing, and a year without a single exit
    is only the tail of later exports (2020 in exports of 2021, its participants those still there in 2021).
    Without any exit, the year of the first start. A period is fully covered when it lies within both (`covers`).
    """
    first_exit, first_start, last = con.execute(
        "SELECT min(end_date), min(start_date), greatest(max(start_date), max(end_date)) FROM enrollments").fetchone()
    first = first_exit or first_start
    return {"first": dt.date(first.year, 1, 1) if first is not None else None, "last": last}


def covers(cov: dict, start: dt.date, end: dt.date) -> bool:
    """Whether the data covers every day of start … end (`coverage`)."""
    return cov["first"] is not None and cov["first"] <= start and end <= cov["last"]


def associations(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The associations the data names (the Förbund column); one unnamed association gives an empty list."""
    rows = con.execute(
        """SELECT DISTINCT association FROM (SELECT association FROM enrollments UNION SELECT association FROM anonymous_counts)
           WHERE association <> '' ORDER BY association"""
    ).fetchall()
    return [a for (a,) in rows]


def owners_sql(con: duckdb.DuckDBPyConnection) -> str:
    """The one definition of which association an initiative belongs to, as a SQL relation (initiative,
    association): every association whose enrollments, anonymous counts or structural counts name the initiative.

    Budget lines and the initiatives register carry no association; they belong to the associations that own
    their initiative by this relation (an initiative named by no association's people belongs to none). A database
    made before structural counts has no such table and reads as having none.
    """
    structural = " UNION SELECT initiative, association FROM structural_counts" \
        if _has_table(con, "structural_counts") else ""
    return ("SELECT initiative, association FROM enrollments UNION SELECT initiative, association "
            f"FROM anonymous_counts{structural}")


def owned_by(con: duckdb.DuckDBPyConnection, associations, column: str = "initiative") -> tuple[str, dict]:
    """(SQL condition, parameters): `column` names an initiative owned by one of `associations` (`owners_sql`).

    With no association chosen the condition is TRUE and needs no parameter (DuckDB refuses a parameter a query
    does not use). Every query of budget lines narrowed by the association filter goes through here.
    """
    if not associations:
        return "TRUE", {}
    return (f"{column} IN (SELECT initiative FROM ({owners_sql(con)}) "
            "WHERE list_contains(CAST($associations AS VARCHAR[]), association))",
            {"associations": list(associations)})


def initiative_owners(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Initiative -> the association(s) it belongs to (`owners_sql`), for labels when the data names several."""
    rows = con.execute(
        f"""SELECT initiative, string_agg(DISTINCT association, ', ' ORDER BY association) FROM ({owners_sql(con)})
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


def association_name(con: duckdb.DuckDBPyConnection, associations=()) -> str:
    """The association named in the exports (Förbund column), for titles; a neutral default otherwise.

    `associations`: the association filter; where it names associations, the title is theirs."""
    if associations:
        return ", ".join(associations)
    row = con.execute("SELECT min(association) FROM enrollments WHERE association <> ''").fetchone()
    return row[0] if row and row[0] else "Samordningsförbundet"


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(con.execute("SELECT 1 FROM duckdb_tables() WHERE database_name = current_database() "
                            "AND table_name = ?", [name]).fetchall())


def change_history(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every change to this database, newest first: one row per file of a load (who, when, checksum, rows, what it
    replaced and its snapshot), and one per undo or mapping change. Loads from before changes were recorded
    (etl/history.py) have no actor and no snapshot."""
    files = """
        SELECT coalesce(c.change_id, h.load_id) AS change_id, h.load_id, coalesce(c.action, 'load') AS action,
               coalesce(c.changed_at, h.loaded_at) AS changed_at, c.actor, h.file_name, h.checksum, h.kind,
               h.rows_read, h.rows_loaded, h.rows_replaced, c.replaced, c.replaced_sample, c.snapshot,
               c.no_database, c.detail, c.undoes, c.first_load_id, c.last_load_id
        FROM load_history h
    """
    if not _has_table(con, "changes"):
        return con.execute("""
            SELECT load_id AS change_id, load_id, 'load' AS action, loaded_at AS changed_at, NULL::VARCHAR AS actor,
                   file_name, checksum, kind, rows_read, rows_loaded, rows_replaced, NULL::VARCHAR AS replaced,
                   NULL::BOOLEAN AS replaced_sample, NULL::VARCHAR AS snapshot, NULL::BOOLEAN AS no_database,
                   NULL::VARCHAR AS detail, NULL::INTEGER AS undoes, load_id AS first_load_id,
                   load_id AS last_load_id
            FROM load_history ORDER BY load_id DESC""").df()
    return con.execute(f"""
        {files} LEFT JOIN changes c ON c.action = 'load' AND h.load_id BETWEEN c.first_load_id AND c.last_load_id
        UNION ALL BY NAME
        SELECT change_id, NULL::INTEGER AS load_id, action, changed_at, actor, NULL::VARCHAR AS file_name,
               NULL::VARCHAR AS checksum, NULL::VARCHAR AS kind, NULL::INTEGER AS rows_read,
               NULL::INTEGER AS rows_loaded, NULL::INTEGER AS rows_replaced, replaced, replaced_sample, snapshot,
               no_database, detail, undoes, first_load_id, last_load_id
        FROM changes WHERE action <> 'load'
        ORDER BY coalesce(load_id, change_id) DESC
    """).df()
