"""What the money buys: budget, actual cost and cost per participant per initiative and year.

Cost is not attributable to sex or agency, so those filters do not narrow it, and the
denominators here are all participants of the initiative in the calendar year. The association filter
narrows both sides: budget lines to the initiatives the chosen associations own (metrics.catalog.owned_by,
the one definition of ownership) and the people to the chosen associations' own. The one
definition of cost per participant (metrics/definitions.py) is `per_person` for one
initiative-year and `pooled_by` for several (`_pooled`: all of them as one group): every function below
goes through them. The people behind the costs are counted for all the period's years in one query.
"""
from __future__ import annotations

import duckdb
import pandas as pd

from .budget import ACTUAL, BUDGET, MIXED, budget_lines_sql, cost_basis, per_person  # noqa: F401 (imported from here too)
from .facts import query
from .filters import Filters
from .people import positive_codes

PEOPLE = ("participants", "started", "positive_exits")
PER_PERSON = {"per_participant": "participants", "per_started": "started", "per_positive_exit": "positive_exits"}


def _people_per_initiative_year(con: duckdb.DuckDBPyConnection, f: Filters, by_association: bool = False
                                ) -> pd.DataFrame:
    """Participants, started and exits to work/studies per initiative and calendar year of the period.

    A whole calendar year each, whatever part of it the period covers, and never narrowed by sex
    or agency: a year's cost is for all of that year's participants. Narrowed by initiatives and
    associations, as every people figure is. One query for all the years. `by_association`: one row per
    association too (column `association`).
    """
    pos, _ = positive_codes(con)
    group = "association, " if by_association else ""
    return query(con, f"""
        SELECT {group}initiative,
               CAST(coalesce(sum(n) FILTER (WHERE is_participant), 0) AS BIGINT) AS participants,
               CAST(coalesce(sum(n) FILTER (WHERE is_started), 0) AS BIGINT) AS started,
               CAST(coalesce(sum(n) FILTER (WHERE is_exited AND list_contains(CAST($positive AS VARCHAR[]), reason)), 0)
                    AS BIGINT) AS positive_exits,
               period_year AS year
        FROM facts
        WHERE is_participant OR is_started OR is_exited
        GROUP BY {group}initiative, period_year
        """, Filters(f.start, f.end, initiatives=f.initiatives, associations=f.associations),
        {"positive": sorted(pos)}, per_year=True)


def _budget_lines(con: duckdb.DuckDBPyConnection, f: Filters, by: str = "", by_association: bool = False
                  ) -> pd.DataFrame:
    """metrics.budget.budget_lines_sql's rows as a frame."""
    return con.execute(*budget_lines_sql(con, f, by, by_association)).df()


def cost_by_initiative_year(con: duckdb.DuckDBPyConnection, f: Filters, people: pd.DataFrame | None = None
                            ) -> pd.DataFrame:
    """Budget, actual and cost per participant/started/positive exit, per initiative and calendar year.

    `cost` is the actual cost where any actual is given for the initiative-year, otherwise
    the budget, and `basis` says which ('utfall' or 'budget'). Missing stays missing (None).
    Narrowed by the association filter: the chosen associations' initiatives (metrics.catalog.owned_by)
    and their people. `people`: the counts of `_people_per_initiative_year`, where the caller has them already.
    """
    lines = _budget_lines(con, f)
    if people is None:
        people = _people_per_initiative_year(con, f)
    return _cost_rows(lines, people, ["initiative", "year"])


def cost_by_association_initiative_year(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """`cost_by_initiative_year` for every association at once (column `association`): the rows of association
    `a` are exactly `cost_by_initiative_year(con, f.with_(associations=(a,)))`'s, in two queries for all of them
    (the Förbund page compares eighty associations)."""
    lines = _budget_lines(con, f, by_association=True)
    people = _people_per_initiative_year(con, f, by_association=True)
    return _cost_rows(lines, people, ["association", "initiative", "year"])


def _cost_rows(lines: pd.DataFrame, people: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    df = lines.merge(people, on=keys, how="outer")
    for c in PEOPLE:
        df[c] = df[c].fillna(0).astype("int64")
    basis_cost = [cost_basis(b, a) for b, a in zip(df.budget, df.actual)]
    df["basis"] = [basis for basis, _ in basis_cost]
    df["cost"] = [cost for _, cost in basis_cost]
    for name, den in PER_PERSON.items():
        df[name] = [per_person(c, n) for c, n in zip(df.cost, df[den])]
    df = df.astype({"budget": object, "actual": object, "cost": object})
    df[["budget", "actual", "cost"]] = df[["budget", "actual", "cost"]].where(df[["budget", "actual", "cost"]].notna(), None)
    return df.sort_values(keys).reset_index(drop=True)[
        [*keys[:-2], "initiative", "year", "budget", "actual", "basis", "cost", *PEOPLE, *PER_PERSON]]


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


def actual_against_budget(rows: pd.DataFrame) -> tuple[float | None, int, int]:
    """Utfall as a share of the budget *of the same initiative-years* (rows as `cost_by_initiative_year` gives them):
    (share, initiative-years compared, initiative-years with a budget). One that has reported no actual yet is in
    neither sum: the sample's 2025 set four initiatives' actual against six budgets and read "60,1 % av budgeten",
    when the four had spent about 91 % of theirs. None where no year has both."""
    both = rows[rows.actual.notna() & rows.budget.notna()]
    budget = both.budget.sum()
    return (float(both.actual.sum() / budget) if budget else None), len(both), int(rows.budget.notna().sum())


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
    Narrowed by initiatives and associations as `cost_by_initiative_year` is.
    """
    if dim not in {"category", "funder"}:
        raise ValueError(dim)
    lines = _budget_lines(con, f, by=dim).sort_values(["initiative", "year", dim]).reset_index(drop=True)
    has_actual = lines.actual.notna().groupby([lines.initiative, lines.year]).transform("any")
    lines["cost"] = lines.actual.fillna(0).where(has_actual, lines.budget)
    return lines[["initiative", "year", dim, "budget", "actual", "cost"]]
