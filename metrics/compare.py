"""Översikt's comparisons: each key figure now, in the previous period, and against the register's target.

Which figures are compared, and in what unit the change is read, is declared in
metrics/definitions.py (`compare`, `change_unit`), as dbt's semantic layer declares an offset
window; the arithmetic is here, once, so a page only prints it.
"""
from __future__ import annotations

import duckdb
import pandas as pd

from .catalog import coverage, covers
from .cost import cost_summary
from .definitions import FIGURES, PREVIOUS_PERIOD
from .filters import Filters
from .people import headline, targets_summary

KEY_FIGURES = ("participants", "started", "exited", "no_consent", "positive_share", "positive_wide_share",
               "women_share", "cost_per_participant")
TARGETS = {"participants": "participants", "positive_share": "positive_share", "women_share": "women_share"}


def _value(head: pd.DataFrame, cost: dict, name: str):
    if name == "cost_per_participant":
        return cost["per_participant"]
    v = head.loc[name, "total"]
    return None if v is None or pd.isna(v) else v


def key_figures(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """One row per key figure: `now`, `before` (the previous period), `change`, `target` and `gap`.

    A change or a gap is missing where either side is; targets are for whole initiatives, so
    they are left out when the selection is narrowed by sex or agency. Where the data do not cover the
    previous period in full (`metrics.catalog.coverage`: 2020 as the tail of exports of 2021), there is
    no `before` and no change: column `previous_covered` says so, and the page says why.
    """
    prev = f.previous()
    covered = covers(coverage(con), prev.start, prev.end)
    now_h, before_h = headline(con, f), headline(con, prev)
    now_c, before_c = cost_summary(con, f), cost_summary(con, prev)
    targets = {} if (f.sexes or f.agencies) else targets_summary(con, f)
    rows = []
    for name in KEY_FIGURES:
        now, before = _value(now_h, now_c, name), _value(before_h, before_c, name)
        compared = FIGURES[name].compare == PREVIOUS_PERIOD and covered
        target = targets.get(TARGETS[name]) if name in TARGETS else None
        rows.append({
            "figure": name,
            "now": now,
            "before": before if compared else None,
            "change": now - before if compared and now is not None and before is not None else None,
            "target": target,
            "gap": now - target if now is not None and target is not None else None,
            "previous_covered": covered,
        })
    return pd.DataFrame(rows, dtype=object).set_index("figure")  # object: a missing figure stays None, not NaN
