"""What the money buys: budget, actual cost and cost per participant per initiative and year.

Cost is not attributable to sex or agency, so those filters do not narrow it, and the
denominators here are all participants of the initiative in the calendar year. The one
definition of cost per participant (metrics/definitions.py) is `per_person` for one
initiative-year and `_pooled` for several: every function below goes through them.
"""
from __future__ import annotations

import duckdb
import pandas as pd

from .facts import counts
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
    or agency: a year's cost is for all of that year's participants.
    """
    pos, _ = positive_codes(con)
    frames = []
    for y in f.years:
        fy = Filters.year(y, initiatives=f.initiatives)
        p = counts(con, fy, "participants", ("initiative",))[["initiative", "total"]].rename(columns={"total": "participants"})
        s = counts(con, fy, "started", ("initiative",))[["initiative", "total"]].rename(columns={"total": "started"})
        r = counts(con, fy, "exited", ("initiative", "reason"))
        e = (r[r.reason.isin(pos)].groupby("initiative", as_index=False)["total"].sum()
             .rename(columns={"total": "positive_exits"}))
        frames.append(p.merge(s, on="initiative", how="outer").merge(e, on="initiative", how="outer").assign(year=y))
    if not frames:
        return pd.DataFrame(columns=["initiative", *PEOPLE, "year"])
    return pd.concat(frames, ignore_index=True)


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


def _pooled(rows: pd.DataFrame) -> dict:
    """Cost per participant over several initiative-years: summed cost ÷ summed participants.

    Only initiative-years with both a cost figure and participants take part, on both sides,
    so that a year without cost does not make the association look cheaper than it is.
    """
    with_cost = rows[rows.cost.notna() & (rows.participants > 0)]
    cost = float(with_cost.cost.sum()) if len(with_cost) else None
    participants = int(with_cost.participants.sum())
    return {"cost": cost, "participants": participants, "per_participant": per_person(cost, participants)}


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
    rows = []
    for name, g in df.groupby("initiative"):
        bases = set(g.basis.dropna())
        rows.append({"initiative": name, "basis": None if not bases else (bases.pop() if len(bases) == 1 else MIXED)}
                    | _pooled(g))
    return pd.DataFrame(rows, columns=["initiative", "cost", "basis", "participants", "per_participant"])


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
