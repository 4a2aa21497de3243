"""An initiative-year's money without pandas: the budget lines' query, which figure is the cost, and cost per person.

metrics/cost.py builds its tables on these; the annual report (`python -m etl report`, a process started
for one answer) uses them as they are, so that the command does not load pandas (half a second of its time).
"""
from __future__ import annotations

import duckdb

from .catalog import owned_by, owners_sql
from .facts import share
from .filters import Filters

ACTUAL, BUDGET, MIXED = "utfall", "budget", "blandat"


def per_person(cost, people):
    """Cost ÷ people, or None where either is missing or there is nobody: missing is not 0 kr."""
    if cost is None or cost != cost:  # None or NaN: pd.isna of the values cost tables hold, without pandas
        return None
    return share(float(cost), int(people))


def cost_basis(budget, actual) -> tuple[str | None, float | None]:
    """(basis, cost) of an initiative-year: the actual cost where any is given, otherwise the budget."""
    if actual is not None and actual == actual:
        return ACTUAL, actual
    if budget is not None and budget == budget:
        return BUDGET, budget
    return None, None


def budget_lines_sql(con: duckdb.DuckDBPyConnection, f: Filters, by: str = "", by_association: bool = False
                     ) -> tuple[str, dict]:
    """The query (and its parameters) of budget and actual per initiative and year (and `by`: category or funder) of
    the period's years, of the initiatives the chosen associations own (metrics.catalog.owned_by). `by_association`:
    one row per owning association too (an initiative two associations name is each one's)."""
    owned, params = owned_by(con, f.associations, "b.initiative")
    join = f"JOIN ({owners_sql(con)}) o ON o.initiative = b.initiative" if by_association else ""
    association = "o.association, " if by_association else ""
    narrow = " AND list_contains(CAST($associations AS VARCHAR[]), o.association)" \
        if by_association and f.associations else ""
    extra = f", b.{by}" if by else ""
    sql = f"""
        SELECT {association}b.initiative, b.year{extra},
               CAST(sum(b.budget) AS DOUBLE) AS budget,
               CAST(sum(b.actual) AS DOUBLE) AS actual
        FROM budget_lines b {join}
        WHERE b.year BETWEEN $y0 AND $y1
          AND (len(CAST($initiatives AS VARCHAR[])) = 0 OR list_contains(CAST($initiatives AS VARCHAR[]), b.initiative))
          AND {owned}{narrow}
        GROUP BY ALL
        """
    return sql, {"y0": f.start.year, "y1": f.end.year, "initiatives": list(f.initiatives)} | params
