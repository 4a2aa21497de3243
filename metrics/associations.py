"""Associations side by side: a region comparing its associations, or the national network.

One row per association with the figures the comparison ranks on, and the whole (national) total:
participants by sex, the share of women, exits and the share to work or studies, cost and cost per
participant. The definitions are the usual ones (metrics/definitions.py); cost follows the
association's initiatives (budget lines carry the initiative, which belongs to one association).
"""
from __future__ import annotations

import duckdb
import pandas as pd

from core.vocabulary import SEX_COLUMNS

from .cost import cost_by_initiative_year, per_person
from .facts import counts
from .filters import Filters
from .people import positive_codes, share

TOTAL_ROW = "Alla förbund"


def by_association(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """Per association and for all of them together: the comparison's figures (missing stays None)."""
    whole = f.with_(associations=())
    parts = counts(con, whole, "participants", ("association",)).set_index("association")[list(SEX_COLUMNS)]
    exited = counts(con, whole, "exited", ("association",)).set_index("association")["total"]
    reasons = counts(con, whole, "exited", ("association", "reason"))
    pos, _ = positive_codes(con)
    positive = reasons[reasons.reason.isin(pos)].groupby("association")["total"].sum()
    df = parts.add_prefix("participants_").join(exited.rename("exited"), how="outer").join(
        positive.rename("exited_positive"), how="outer").fillna(0).astype("int64")
    owner = con.execute("""SELECT initiative, min(association) AS association FROM
                             (SELECT initiative, association FROM enrollments UNION SELECT initiative, association
                              FROM anonymous_counts) GROUP BY initiative""").df()
    cost = cost_by_initiative_year(con, whole).merge(owner, on="initiative", how="left")
    cost = cost[cost.cost.notna() & (cost.participants > 0)]
    pooled = cost.groupby("association").agg(cost=("cost", "sum"), cost_participants=("participants", "sum"))
    df = df.join(pooled, how="left")
    total = df.sum(numeric_only=True)
    total["cost"] = float(cost.cost.sum()) if len(cost) else None
    df.loc[TOTAL_ROW] = total
    df = df.reset_index().rename(columns={"index": "association"})
    df["women_share"] = [share(w, n) for w, n in zip(df.participants_women, df.participants_total)]
    df["positive_share"] = [share(p, e) for p, e in zip(df.exited_positive, df.exited)]
    df["per_participant"] = [per_person(c if pd.notna(c) else None, int(n) if pd.notna(n) else 0)
                             for c, n in zip(df.cost, df.cost_participants)]
    df = df.astype({"cost": object, "per_participant": object})
    df["cost"] = [None if pd.isna(c) else float(c) for c in df.cost]
    return df
