"""What the money buys: budget, actual cost and cost per participant per initiative and year.

Cost is not attributable to sex or agency, so those filters do not narrow it, and the
denominators here are all participants of the initiative in the year.
"""
from __future__ import annotations

import duckdb
import pandas as pd

from .facts import counts
from .filters import Filters
from .people import positive_codes, share

ACTUAL, BUDGET = "utfall", "budget"


def cost_by_initiative_year(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """Budget, actual and cost per participant/started/positive exit, per initiative and calendar year.

    `cost` is the actual cost where any actual is given for the initiative-year, otherwise
    the budget, and `basis` says which ('utfall' or 'budget'). Missing stays missing (None).
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
    people = []
    pos, _ = positive_codes(con)
    for y in f.years:
        fy = Filters.year(y, initiatives=f.initiatives)
        p = counts(con, fy, "participants", ("initiative",))[["initiative", "total"]].rename(columns={"total": "participants"})
        s = counts(con, fy, "started", ("initiative",))[["initiative", "total"]].rename(columns={"total": "started"})
        r = counts(con, fy, "exited", ("initiative", "reason"))
        e = r[r.reason.isin(pos)].groupby("initiative", as_index=False)["total"].sum().rename(columns={"total": "positive_exits"})
        people.append(p.merge(s, on="initiative", how="outer").merge(e, on="initiative", how="outer").assign(year=y))
    people_df = pd.concat(people, ignore_index=True) if people else pd.DataFrame(
        columns=["initiative", "participants", "started", "positive_exits", "year"])
    df = lines.merge(people_df, on=["initiative", "year"], how="outer")
    for c in ("participants", "started", "positive_exits"):
        df[c] = df[c].fillna(0).astype("int64")
    df["basis"] = [ACTUAL if pd.notna(a) else (BUDGET if pd.notna(b) else None) for a, b in zip(df.actual, df.budget)]
    df["cost"] = [a if pd.notna(a) else (b if pd.notna(b) else None) for a, b in zip(df.actual, df.budget)]
    for name, den in (("per_participant", "participants"), ("per_started", "started"), ("per_positive_exit", "positive_exits")):
        df[name] = [None if c is None or pd.isna(c) else share(c, d) for c, d in zip(df.cost, df[den])]
    df = df.astype({"budget": object, "actual": object, "cost": object})
    df[["budget", "actual", "cost"]] = df[["budget", "actual", "cost"]].where(df[["budget", "actual", "cost"]].notna(), None)
    return df.sort_values(["initiative", "year"]).reset_index(drop=True)[
        ["initiative", "year", "budget", "actual", "basis", "cost", "participants", "started", "positive_exits",
         "per_participant", "per_started", "per_positive_exit"]]


def cost_summary(con: duckdb.DuckDBPyConnection, f: Filters) -> dict:
    """Cost per participant for the whole selection: cost ÷ participants over initiative-years with cost.

    Initiative-years without any cost figure are left out of both sides, so they do not
    make the association look cheaper than it is.
    """
    df = cost_by_initiative_year(con, f)
    with_cost = df[df.cost.notna() & (df.participants > 0)]
    total = float(with_cost.cost.sum()) if len(with_cost) else None
    return {
        "cost": total,
        "participants": int(with_cost.participants.sum()),
        "per_participant": share(total, int(with_cost.participants.sum())) if total is not None else None,
        "budget_only": sorted(set(df[df.basis == BUDGET].initiative)),
        "missing_cost": sorted(set(df[df.cost.isna() & (df.participants > 0)].initiative)),
    }


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


def cost_per_initiative(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """Per initiative over the period's years: cost, its basis and cost per participant.

    Sums cost and participants over the initiative-years that have a cost figure (the
    same rule as `cost_summary`); basis is 'utfall', 'budget' or 'blandat' when years differ.
    """
    df = cost_by_initiative_year(con, f)
    rows = []
    for name, g in df.groupby("initiative"):
        with_cost = g[g.cost.notna() & (g.participants > 0)]
        bases = set(g.basis.dropna())
        cost = float(with_cost.cost.sum()) if len(with_cost) else None
        rows.append({
            "initiative": name,
            "cost": cost,
            "basis": None if not bases else (bases.pop() if len(bases) == 1 else "blandat"),
            "per_participant": None if cost is None else share(cost, int(with_cost.participants.sum())),
        })
    return pd.DataFrame(rows, columns=["initiative", "cost", "basis", "per_participant"])
