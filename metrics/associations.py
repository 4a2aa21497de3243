"""Associations side by side: a region comparing its associations, or the national network.

One row per association with the figures the comparison ranks on, and the whole (national) total:
participants by sex, the share of women, exits and the share to work or studies, cost and cost per
participant. The definitions are the usual ones (metrics/definitions.py). Cost per participant is
each association's own, as its Översikt gives it: metrics/cost.py's pooled cost over the initiative-years
of its initiatives (metrics.catalog.owned_by) that have both a cost and participants, with those
participants (`cost_participants`) shown beside it. With associations chosen in the filter, the comparison
is of those (and the last row is their sum); otherwise of every association in the database.
"""
from __future__ import annotations

import duckdb
import pandas as pd

from core.vocabulary import SELECTED_ROW, SEX_COLUMNS, TOTAL_ROW

from .catalog import associations as named_associations
from .cost import _pooled, cost_by_association_initiative_year, cost_by_initiative_year, per_person, pooled_by
from .facts import counts
from .filters import Filters
from .people import positive_codes, share

COUNTS = [*(f"participants_{s}" for s in SEX_COLUMNS), "exited", "exited_positive"]


def total_label(f: Filters) -> str:
    """The whole's row: all associations, or the ones the filter chose."""
    return SELECTED_ROW if f.associations else TOTAL_ROW


def cost_years(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """metrics/cost.py's rows per association, initiative and year of the comparison (the chosen associations, or
    all): association `a`'s rows are its own Översikt's `cost_by_initiative_year`."""
    return cost_by_association_initiative_year(con, Filters(f.start, f.end, initiatives=f.initiatives,
                                                            associations=f.associations))


def by_association(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """Per association and for all of them together (last row, `total_label(f)`): the comparison's figures
    (missing stays None). People follow every filter of `f`; cost the period, the initiatives and the
    associations (cost is not split by sex or agency)."""
    parts = counts(con, f, "participants", ("association",)).set_index("association")[list(SEX_COLUMNS)]
    exited = counts(con, f, "exited", ("association",)).set_index("association")["total"]
    reasons = counts(con, f, "exited", ("association", "reason"))
    pos, _ = positive_codes(con)
    positive = reasons[reasons.reason.isin(pos)].groupby("association")["total"].sum()
    df = parts.add_prefix("participants_").join(exited.rename("exited"), how="outer").join(
        positive.rename("exited_positive"), how="outer")
    names = list(f.associations) or named_associations(con)
    df = df.reindex(sorted(set(df.index) | set(names))).fillna(0).astype("int64")
    df.index.name = "association"
    pooled = pooled_by(cost_years(con, f), ["association"]).set_index("association")
    df = df.join(pooled.cost, how="left").join(pooled.participants.rename("cost_participants"), how="left")
    df["cost_participants"] = df.cost_participants.fillna(0).astype("int64")
    whole = _pooled(cost_by_initiative_year(con, Filters(f.start, f.end, initiatives=f.initiatives,
                                                         associations=f.associations)))
    total = df.sum(numeric_only=True)
    total["cost"], total["cost_participants"] = whole["cost"], whole["participants"]
    df.loc[total_label(f)] = total
    df = df.reset_index()
    for c in COUNTS + ["cost_participants"]:
        df[c] = df[c].astype("int64")
    df["women_share"] = [share(w, n) for w, n in zip(df.participants_women, df.participants_total)]
    df["positive_share"] = [share(p, e) for p, e in zip(df.exited_positive, df.exited)]
    df["per_participant"] = [per_person(c if pd.notna(c) else None, int(n))
                             for c, n in zip(df.cost, df.cost_participants)]
    df = df.astype({"cost": object, "per_participant": object})
    df["cost"] = [None if c is None or pd.isna(c) else float(c) for c in df.cost]
    return df
