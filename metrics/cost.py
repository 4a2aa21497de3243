"""What the money buys: budget, actual cost and cost per participant per initiative and year.

Cost is not attributable to sex or agency, so those filters do not narrow it, and the
denominators here are all participants of the initiative in the calendar year. The one
definition of cost per participant (metrics/definitions.py) is `per_person` for one
initiative-year and `pooled_by` for several (`_pooled`: all of them as one group): every function below
goes through them. The people behind the costs are counted for all the period's years in one query.
"""
from __future__ import annotations

import duckdb
import pandas as pd

from .facts import query
from .filters import Filters
from .people import positive_codes, share

ACTUAL, BUDGET, MIXED = "utfall", "budget", "blandat"
PEOPLE = ("participants", "started", "positive_exits")
PER_PERSON = {"per_participant": "participants", "per_started": "started", "per_positive_exit": "positive_exits"}


def per_person(cost, people):
    """Cost ÷ people, or None where either is missing or there is nobody: missing is not 0 kr."""
    if cost is None or pd.isna(cost):
        return None
    return share(float(cost), int(people))


def _people_per_initiative_year(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """Participants, started and exits to work/studies per initiative and calendar year of the period.

    A whole calendar year each, whatever part of it the period covers, and never narrowed by sex
    or agency: a year's cost is for all of that year's participants. One query for all the years.
    """
    pos, _ = positive_codes(con)
    return query(con, """
        SELECT initiative,
               CAST(coalesce(sum(n) FILTER (WHERE is_participant), 0) AS BIGINT) AS participants,
               CAST(coalesce(sum(n) FILTER (WHERE is_started), 0) AS BIGINT) AS started,
               CAST(coalesce(sum(n) FILTER (WHERE is_exited AND list_contains(CAST($positive AS VARCHAR[]), reason)), 0)
                    AS BIGINT) AS positive_exits,
               period_year AS year
        FROM facts
        WHERE is_participant OR is_started OR is_exited
        GROUP BY initiative, period_year
        """, Filters(f.start, f.end, initiatives=f.initiatives), {"positive": sorted(pos)}, per_year=True)


def cost_by_initiative_year(con: duckdb.DuckDBPyConnection, f: Filters, people: pd.DataFrame | None = None
                            ) -> pd.DataFrame:
    """Budget, actual and cost per participant/started/positive exit, per initiative and calendar year.

    `cost` is the actual cost where any actual is given for the initiative-year, otherwise
    the budget, and `basis` says which ('utfall' or 'budget'). Missing stays missing (None).
    `people`: the counts of `_people_per_initiative_year`, where the caller has them already.
    """
    lines = con.execute(
        """
        SELECT initiative, year,
               CAST(sum(budget) AS DOUBLE) AS budget,
               CAST(sum(actual) AS DOUBLE) AS actual
        FROM budget_lines
        WHERE year BETWEEN $y0 AND $y1
          AND (len(CAST($initiatives AS VARCHAR[])) = 0 OR list_contains(CAST($initiatives AS VARCHAR[]), initiative))
        GROUP BY initiative, year
        """,
        {"y0": f.start.year, "y1": f.end.year, "initiatives": list(f.initiatives)},
    ).df()
    if people is None:
        people = _people_per_initiative_year(con, f)
    df = lines.merge(people, on=["initiative", "year"], how="outer")
    for c in PEOPLE:
        df[c] = df[c].fillna(0).astype("int64")
    df["basis"] = [ACTUAL if pd.notna(a) else (BUDGET if pd.notna(b) else None) for a, b in zip(df.actual, df.budget)]
    df["cost"] = [a if pd.notna(a) else (b if pd.notna(b) else None) for a, b in zip(df.actual, df.budget)]
    for name, den in PER_PERSON.items():
        df[name] = [per_person(c, n) for c, n in zip(df.cost, df[den])]
    df = df.astype({"budget": object, "actual": object, "cost": object})
    df[["budget", "actual", "cost"]] = df[["budget", "actual", "cost"]].where(df[["budget", "actual", "cost"]].notna(), None)
    return df.sort_values(["initiative", "year"]).reset_index(drop=True)[
        ["initiative", "year", "budget", "actual", "basis", "cost", *PEOPLE, *PER_PERSON]]


def pooled_by(rows: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Cost per participant over several initiative-years, per group of `by`: summed cost ÷ summed participants.

    Only initiative-years with both a cost figure and participants take part, on both sides,
    so that a year without cost does not make the association look cheaper than it is.
    Columns `cost` (NaN where no year has one), `participants` and `per_participant` (NaN where either is
    missing); column-wise, as a national selection has thousands of initiatives.
    """
    counted = rows.cost.notna() & (rows.participants > 0)
    parts = rows[by].assign(cost=rows.cost.astype("float64").where(counted),
                            participants=rows.participants.where(counted, 0).astype("int64"))
    out = parts.groupby(by, sort=True).agg(cost=("cost", lambda c: c.sum(min_count=1)),
                                           participants=("participants", "sum")).reset_index()
    out["per_participant"] = out.cost / out.participants.where(out.participants > 0)
    return out


def _pooled(rows: pd.DataFrame) -> dict:
    """`pooled_by` over all of `rows`: one cost per participant for the whole selection (None where missing)."""
    one = pooled_by(rows.assign(_all=0), ["_all"])
    if one.empty:
        return {"cost": None, "participants": 0, "per_participant": None}
    r = one.iloc[0]
    return {"cost": None if pd.isna(r.cost) else float(r.cost), "participants": int(r.participants),
            "per_participant": None if pd.isna(r.per_participant) else float(r.per_participant)}


def cost_summary(con: duckdb.DuckDBPyConnection, f: Filters) -> dict:
    """Cost per participant for the whole selection, with the initiatives whose cost is a budget or missing."""
    df = cost_by_initiative_year(con, f)
    return _pooled(df) | {
        "budget_only": sorted(set(df[df.basis == BUDGET].initiative)),
        "missing_cost": sorted(set(df[df.cost.isna() & (df.participants > 0)].initiative)),
    }


def cost_per_initiative(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """Per initiative over the period's years: cost, its basis, the participants behind it and cost per participant.

    Basis is 'utfall', 'budget', or 'blandat' when the years differ.
    """
    df = cost_by_initiative_year(con, f)
    bases = df.groupby("initiative", sort=True).basis.agg(["nunique", "first"])
    basis = bases["first"].where(bases["nunique"] == 1, MIXED).where(bases["nunique"] > 0, None)
    out = pooled_by(df, ["initiative"]).merge(basis.rename("basis").reset_index(), on="initiative", how="left")
    return out[["initiative", "cost", "basis", "participants", "per_participant"]]  # NaN where missing


def cost_by_dimension(con: duckdb.DuckDBPyConnection, f: Filters, dim: str) -> pd.DataFrame:
    """Budget, actual and cost per initiative, year and cost category or funder.

    `cost` follows the initiative-year's basis: actual where the year has any actual, else budget.
    """
    if dim not in {"category", "funder"}:
        raise ValueError(dim)
    return con.execute(
        f"""
        WITH lines AS (
            SELECT initiative, year, {dim},
                   CAST(sum(budget) AS DOUBLE) AS budget, CAST(sum(actual) AS DOUBLE) AS actual
            FROM budget_lines
            WHERE year BETWEEN $y0 AND $y1
              AND (len(CAST($initiatives AS VARCHAR[])) = 0
                   OR list_contains(CAST($initiatives AS VARCHAR[]), initiative))
            GROUP BY ALL
        )
        SELECT *,
               CASE WHEN count(actual) OVER (PARTITION BY initiative, year) > 0 THEN coalesce(actual, 0)
                    ELSE budget END AS cost
        FROM lines ORDER BY initiative, year, {dim}
        """,
        {"y0": f.start.year, "y1": f.end.year, "initiatives": list(f.initiatives)},
    ).df()
