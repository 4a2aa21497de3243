"""The association's economy per year: what the parties allocated, where the money went, the equity.

Economy is the association's, not an initiative's: the initiative, agency and sex filters do not
narrow it. The association filter does: economy lines by their association, initiative costs by the
initiatives the chosen associations own (metrics.catalog.owned_by); with several associations in one
database and none chosen it is their sum. An initiative's cost is
metrics/cost.py's one definition (actual, else budget, over every category and funder); the
administration is its actual, else its budget. A database made before the economy file kind has
no economy table and reads as having no economy figures.

Cost per participant including administration shares each year's administration among that
year's initiatives in proportion to their cost (structural initiatives carry their part too), then
divides as metrics/cost.py does.
"""
from __future__ import annotations

import duckdb
import pandas as pd

from core.vocabulary import PARTY_SHARES, SHARE_TOLERANCE

from .catalog import owned_by
from .cost import _pooled, cost_by_initiative_year, per_person
from .filters import Filters
from .followup import INDIVIDUAL, STRUCTURAL, _columns, directions
from .people import share

GROUPS = tuple(PARTY_SHARES)  # state, region, municipalities
YEAR_COLUMNS = ["year", "allocated", *(f"allocated_{g}" for g in GROUPS), "administration_budget",
                "administration_actual", "administration", "individual", "structural", "initiatives", "used",
                "administration_share", "equity_start", "equity_end", "shares_deviate"]


LINE_COLUMNS = ["year", "allocated", *(f"allocated_{g}" for g in GROUPS), "administration_budget",
                "administration_actual", "equity_start", "equity_end"]


def has_economy(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the database has any economy lines at all (and the table for them)."""
    return bool(_columns(con, "economy_lines")) and bool(
        con.execute("SELECT count(*) FROM economy_lines").fetchall()[0][0])


def _lines(con: duckdb.DuckDBPyConnection, last_year: int, associations=()) -> pd.DataFrame:
    """Per year up to `last_year`: allocated per party group, administration, equity (None where not given), of
    the chosen associations (all when none is chosen)."""
    if not _columns(con, "economy_lines"):
        return pd.DataFrame(columns=LINE_COLUMNS)
    groups = ", ".join(
        f"CAST(sum(coalesce(actual, budget)) FILTER (WHERE item = 'allocated' AND party_group = '{g}') AS DOUBLE) "
        f"AS allocated_{g}" for g in GROUPS)
    return con.execute(f"""
        SELECT year,
               CAST(sum(coalesce(actual, budget)) FILTER (WHERE item = 'allocated') AS DOUBLE) AS allocated,
               {groups},
               CAST(sum(budget) FILTER (WHERE item = 'administration') AS DOUBLE) AS administration_budget,
               CAST(sum(actual) FILTER (WHERE item = 'administration') AS DOUBLE) AS administration_actual,
               CAST(sum(coalesce(actual, budget)) FILTER (WHERE item = 'equity_start') AS DOUBLE) AS equity_start,
               CAST(sum(coalesce(actual, budget)) FILTER (WHERE item = 'equity_end') AS DOUBLE) AS equity_end
        FROM economy_lines WHERE year <= $last{" AND list_contains(CAST($associations AS VARCHAR[]), association)"
                                                 if associations else ""}
        GROUP BY year ORDER BY year
    """, {"last": last_year} | ({"associations": list(associations)} if associations else {})).df()


def _initiative_costs(con: duckdb.DuckDBPyConnection, first: int, last: int, associations=()) -> pd.DataFrame:
    """Every initiative's cost per year (metrics/cost.py), with its direction; narrowed only by the associations."""
    c = cost_by_initiative_year(con, Filters(Filters.year(first).start, Filters.year(last).end,
                                             associations=tuple(associations)))
    c = c[c.cost.notna()].merge(directions(con), on="initiative", how="left")
    c["direction"] = c.direction.fillna(INDIVIDUAL)
    return c


def by_year(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """One row per year with economy lines or initiative costs, up to the period's last year.

    `administration` is the actual, else the budget; `used` the initiatives' cost plus the
    administration (what is known of the two); `administration_share` the administration's share of
    `used` where both are known; `shares_deviate` whether allocated funds are shared otherwise than 50/25/25.
    """
    lines = _lines(con, f.end.year, f.associations)
    owned, params = owned_by(con, f.associations)
    budget_years = [int(y) for (y,) in con.execute(
        f"SELECT DISTINCT year FROM budget_lines WHERE year <= $last AND {owned} ORDER BY year",
        {"last": f.end.year} | params).fetchall()]
    years = sorted({int(y) for y in lines.year} | set(budget_years))
    if not years:
        return pd.DataFrame(columns=YEAR_COLUMNS)
    costs = _initiative_costs(con, years[0], years[-1], f.associations)
    spent = costs.pivot_table(index="year", columns="direction", values="cost", aggfunc="sum")
    df = pd.DataFrame({"year": years}).merge(lines, on="year", how="left")
    for d in (INDIVIDUAL, STRUCTURAL):
        df[d] = df.year.map(spent[d]) if d in spent else None
    df["initiatives"] = df[[INDIVIDUAL, STRUCTURAL]].sum(axis=1, min_count=1)
    df["administration"] = df.administration_actual.where(df.administration_actual.notna(),
                                                          df.administration_budget)
    df["used"] = df[["initiatives", "administration"]].sum(axis=1, min_count=1)
    df["administration_share"] = [share(a, u) if pd.notna(a) and pd.notna(i) else None  # both parts known
                                  for a, i, u in zip(df.administration, df.initiatives, df.used)]
    df["shares_deviate"] = [_deviates(r) for r in df.itertuples()]
    df = df.reindex(columns=YEAR_COLUMNS).astype(object)
    return df.where(df.notna(), None)


def _deviates(row) -> bool:
    total = row.allocated
    if total is None or pd.isna(total) or not total:
        return False
    return any(abs((0 if pd.isna(v := getattr(row, f"allocated_{g}")) else v) / total - s) > SHARE_TOLERANCE
               for g, s in PARTY_SHARES.items())


def _sum(values) -> float | None:
    known = [float(v) for v in values if v is not None and not pd.isna(v)]
    return sum(known) if known else None


def summary(con: duckdb.DuckDBPyConnection, f: Filters) -> dict:
    """The period's key figures: the years the period touches, summed; equity at the start of the first
    year and at the end of the last; the administration's share of what was used in those years."""
    df = by_year(con, f)
    df = df[df.year.isin(f.years)]
    out = {k: _sum(df[k]) for k in ("allocated", *(f"allocated_{g}" for g in GROUPS), "administration_budget",
                                     "administration_actual", "administration", "individual", "structural",
                                     "initiatives", "used")}
    with_admin = df[df.administration_share.notna()]
    out["administration_share"] = share(_sum(with_admin.administration), _sum(with_admin.used)) \
        if len(with_admin) else None
    first, last = df[df.year == f.start.year], df[df.year == f.end.year]
    out["equity_start"] = first.equity_start.iloc[0] if len(first) else None
    out["equity_end"] = last.equity_end.iloc[0] if len(last) else None
    out["shares"] = {g: share(out[f"allocated_{g}"] or 0, out["allocated"]) if out["allocated"] else None
                     for g in GROUPS}
    out["shares_deviate"] = bool(df.shares_deviate.any()) if len(df) else False
    out["deviating_years"] = [int(y) for y, d in zip(df.year, df.shares_deviate) if d]
    out["years_without_administration"] = [int(y) for y, a in zip(df.year, df.administration) if a is None]
    out["has_lines"] = bool(len(df)) and any(df[c].notna().any() for c in ("allocated", "administration",
                                                                            "equity_start", "equity_end"))
    return out


def association_year(con: duckdb.DuckDBPyConnection, year: int, associations=()) -> dict:
    """The association's figures of one calendar year, as the national follow-up asks for them (of the chosen
    associations; all of the database's when none is chosen)."""
    s = summary(con, Filters.year(year, associations=tuple(associations)))
    return {k: s[k] for k in ("allocated", *(f"allocated_{g}" for g in GROUPS), "administration_budget",
                              "administration_actual", "equity_start", "equity_end", "shares", "shares_deviate")}


def cost_with_administration(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """metrics/cost.py's rows per initiative and year, with the initiative's share of the year's administration.

    `administration_share` = the year's administration × the initiative's cost ÷ every initiative's cost
    that year (structural ones included); `cost_with_administration` and `per_participant_with_administration`
    are None where the year has no administration figure or the initiative no cost. The initiative filter
    narrows the rows, never the shares; the association filter narrows both (the chosen associations' own
    administration over their own initiatives).
    """
    rows = cost_by_initiative_year(con, f.with_(initiatives=()))
    admin = by_year(con, f).set_index("year").administration
    total = rows.groupby("year").cost.apply(lambda c: _sum(c))
    shares, with_admin = [], []
    for r in rows.itertuples():
        a = admin.get(r.year)
        t = total.get(r.year)
        part = None if a is None or r.cost is None or pd.isna(r.cost) or not t else a * float(r.cost) / t
        shares.append(part)
        with_admin.append(None if part is None else float(r.cost) + part)
    rows["administration_share"] = shares
    rows["cost_with_administration"] = with_admin
    rows["per_participant_with_administration"] = pd.Series(
        [per_person(c, n) for c, n in zip(with_admin, rows.participants)], index=rows.index, dtype=object)
    rows = rows.astype({"administration_share": object, "cost_with_administration": object})
    if f.initiatives:
        rows = rows[rows.initiative.isin(f.initiatives)]
    return rows.reset_index(drop=True)


def pooled(rows: pd.DataFrame, *, administration: bool) -> dict:
    """Cost per participant over several initiative-years of `cost_with_administration`, with or without the
    administration, pooled as metrics/cost.py pools it."""
    return _pooled(rows.assign(cost=rows.cost_with_administration) if administration else rows)
