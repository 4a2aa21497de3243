"""Questions about people: how many, who, referred by whom, leaving how. All split by sex."""
from __future__ import annotations

import duckdb
import pandas as pd

from core.vocabulary import (AGE_GROUPS, AGENCY_ORDER, MISSING, SEX_COLUMNS, UNKNOWN_REASON,
                             WIDE_POSITIVE_EXTRA)

from .catalog import reason_labels
from .facts import counts, query, share
from .filters import Filters

COLS = list(SEX_COLUMNS)  # women, men, other, total: a list, as pandas wants for selecting columns
DEFAULT_WOMEN_TARGET = 0.5  # the target share of women where the register gives none
LARGE_GAP = 0.10  # a share of women more than 10 percentage points from target is flagged


def positive_codes(con: duckdb.DuckDBPyConnection) -> tuple[set[str], set[str]]:
    """(codes counted as positive exit, codes of the wider 1 + 2 figure), from data/exit_reasons.csv."""
    pos = {str(c) for (c,) in con.execute("SELECT code FROM exit_reasons WHERE positive").fetchall()} or {"1"}
    return pos, pos | {WIDE_POSITIVE_EXTRA}


def _share_row(num: pd.Series, den: pd.Series) -> dict:
    return {c: share(num[c], den[c]) for c in COLS}


def headline(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """The start page's figures, one row per measure, columns women/men/other/total.

    Shares of exits use all exits (unknown reasons included) as the denominator, as the
    association's annual reports do; share_women is of participants (missing under a sex filter).
    """
    rows = {m: counts(con, f, m).iloc[0] for m in ("participants", "started", "exited", "no_consent")}
    reasons = counts(con, f, "exited", ("reason",))
    pos, wide = positive_codes(con)
    positive = reasons[reasons.reason.isin(pos)][COLS].sum()
    positive_wide = reasons[reasons.reason.isin(wide)][COLS].sum()
    out = pd.DataFrame(
        {
            **{m: r[COLS] for m, r in rows.items()},
            "exited_positive": positive,
            "exited_positive_wide": positive_wide,
        }
    ).T.astype("int64").astype(object)
    out.loc["positive_share"] = _share_row(positive, rows["exited"])
    out.loc["positive_wide_share"] = _share_row(positive_wide, rows["exited"])
    p = rows["participants"]
    women = None if f.sexes else share(p["women"], p["total"])  # under a sex filter the share says nothing
    out.loc["women_share"] = {c: (women if c == "total" else None) for c in COLS}
    out.index.name = "measure"
    return out[COLS]


def exits_by_reason(con: duckdb.DuckDBPyConnection, f: Filters, by: tuple[str, ...] = ()) -> pd.DataFrame:
    """Exits per reason (with `unknown` for no consent or no code), split by sex, with labels."""
    df = counts(con, f, "exited", (*by, "reason"))
    labels = reason_labels(con)
    df.insert(len(by) + 1, "label", df.reason.map(labels))
    df["sort"] = df.reason.map(lambda r: 99 if r == UNKNOWN_REASON else int(r))
    return df.sort_values([*by, "sort"]).drop(columns="sort").reset_index(drop=True)


def reason_shares(con: duckdb.DuckDBPyConnection, f: Filters, by: tuple[str, ...] = ()) -> pd.DataFrame:
    """Each reason's share of all exits in its group, per sex: are women more often exited for illness?"""
    df = exits_by_reason(con, f, by)
    for c in COLS:
        den = df.groupby(list(by))[c].transform("sum") if by else pd.Series(df[c].sum(), index=df.index)
        df[f"{c}_share"] = [share(n, d) for n, d in zip(df[c], den)]
        df[f"{c}_exits"] = den.astype("int64")  # the denominator, so callers can judge small bases
    return df


def by_initiative(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """One row per initiative with participants/started/exited by sex, outcome shares and targets."""
    parts = []
    for m in ("participants", "started", "exited", "no_consent"):
        d = counts(con, f, m, ("initiative",)).set_index("initiative")
        parts.append(d.add_prefix(f"{m}_"))
    df = pd.concat(parts, axis=1).fillna(0).astype("int64")
    reasons = counts(con, f, "exited", ("initiative", "reason"))
    pos, wide = positive_codes(con)
    for name, codes in (("exited_positive", pos), ("exited_positive_wide", wide)):
        d = reasons[reasons.reason.isin(codes)].groupby("initiative")[COLS].sum().add_prefix(f"{name}_")
        df = df.join(d).fillna({c: 0 for c in d.columns})
        df[d.columns] = df[d.columns].astype("int64")
    df = df.reset_index()
    for c in COLS:
        df[f"positive_share_{c}"] = [share(a, b) for a, b in zip(df[f"exited_positive_{c}"], df[f"exited_{c}"])]
        df[f"positive_wide_share_{c}"] = [share(a, b) for a, b in zip(df[f"exited_positive_wide_{c}"], df[f"exited_{c}"])]
    df["women_share"] = [share(a, b) for a, b in zip(df.participants_women, df.participants_total)]
    targets = initiative_targets(con)
    df = df.merge(targets, on="initiative", how="left")
    return df.sort_values("initiative").reset_index(drop=True)


def initiative_targets(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute(
        "SELECT initiative, owner, target_participants, target_women_share, target_positive_share FROM initiatives"
    ).df()


def women_share_vs_target(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """Share of women among participants per initiative against its target (default 50 %)."""
    d = counts(con, f.with_(sexes=()), "participants", ("initiative",))
    t = initiative_targets(con)[["initiative", "target_women_share"]]
    d = d.merge(t, on="initiative", how="left")
    d["target_is_default"] = d.target_women_share.isna()
    d["target"] = d.target_women_share.fillna(DEFAULT_WOMEN_TARGET)
    d["women_share"] = [share(w, n) for w, n in zip(d.women, d.total)]
    d["gap"] = [None if s is None else s - t for s, t in zip(d.women_share, d.target)]
    d["large_gap"] = [g is not None and abs(g) > LARGE_GAP for g in d.gap]
    return d.drop(columns="target_women_share")


def inflow(con: duckdb.DuckDBPyConnection, f: Filters, grain: str = "quarter") -> pd.DataFrame:
    """Started enrollments per month or quarter and agency (anonymous counts carry no date)."""
    return counts(con, f, "started", (grain, "agency"))


def inflow_units(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """Started enrollments per agency and referring unit: the drill-down below an agency."""
    return counts(con, f, "started", ("agency", "unit")).sort_values(["agency", "total"], ascending=[True, False])


def positive_share_over_time(con: duckdb.DuckDBPyConnection, f: Filters, grain: str = "quarter") -> pd.DataFrame:
    """Share of exits to work/studies per period, per sex."""
    df = counts(con, f, "exited", (grain, "reason"))
    pos, _ = positive_codes(con)
    total = df.groupby(grain)[COLS].sum()
    positive = df[df.reason.isin(pos)].groupby(grain)[COLS].sum().reindex(total.index, fill_value=0)
    out = total.add_prefix("exited_").join(positive.add_prefix("positive_"))
    for c in COLS:
        out[f"share_{c}"] = [share(a, b) for a, b in zip(out[f"positive_{c}"], out[f"exited_{c}"])]
    return out.reset_index()


def time_in_initiative(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """Months from start to exit for exits in the period, per reason and sex (and in total).

    Median, quartiles and the 10th/90th percentiles: enough to draw a box plot without
    sending any one person's length of stay to the browser.
    """
    stats = """count(*) AS n,
               median(d) / 30.4375 AS median_months,
               quantile_cont(d, 0.25) / 30.4375 AS q1_months,
               quantile_cont(d, 0.75) / 30.4375 AS q3_months,
               quantile_cont(d, 0.10) / 30.4375 AS p10_months,
               quantile_cont(d, 0.90) / 30.4375 AS p90_months"""
    exits = "(SELECT reason, sex, date_diff('day', start_date, end_date) AS d FROM facts WHERE is_exited) AS exits"
    df = query(con, f"""
        SELECT reason, sex, {stats} FROM {exits} GROUP BY reason, sex
        UNION ALL
        SELECT reason, 'total' AS sex, {stats} FROM {exits} GROUP BY reason
    """, f)
    df["label"] = df.reason.map(reason_labels(con))
    df["sort"] = df.reason.map(lambda r: 99 if r == UNKNOWN_REASON else int(r))
    return df.sort_values(["sort", "sex"]).drop(columns="sort").reset_index(drop=True)


def income_flow(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """Exits in the period from income source at start to income source at exit, split by sex.

    Only exits where both are recorded (consent given) take part; the view SUS used to give.
    """
    return query(con, f"""
        SELECT income_at_start, income_at_exit,
            CAST(coalesce(sum(n) FILTER (WHERE sex = 'women'), 0) AS BIGINT) AS women,
            CAST(coalesce(sum(n) FILTER (WHERE sex = 'men'), 0) AS BIGINT) AS men,
            CAST(coalesce(sum(n) FILTER (WHERE sex = 'other'), 0) AS BIGINT) AS other,
            CAST(sum(n) AS BIGINT) AS total
        FROM facts
        WHERE is_exited AND income_at_start <> '{MISSING}' AND income_at_exit <> '{MISSING}'
        GROUP BY ALL ORDER BY total DESC, income_at_start, income_at_exit
    """, f)


def age_by_sex(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """Participants per age group at start, split by sex, in the order of core.vocabulary.AGE_GROUPS."""
    df = counts(con, f, "participants", ("age_group",))
    order = [g for g in AGE_GROUPS if g in set(df.age_group)]
    return df.set_index("age_group").reindex(order).reset_index()


def by_sex_per_initiative(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """Long table: initiative × measure (participants/started/exited) × sex counts."""
    frames = [counts(con, f, m, ("initiative",)).assign(measure=m) for m in ("participants", "started", "exited")]
    return pd.concat(frames, ignore_index=True)[["initiative", "measure", *COLS]]



def inflow_by_agency(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """The table annual reports print: started per agency × women/men/other, in the fixed agency order.

    The agencies add up to all started (`headline`'s started row), which is the total row
    a caller prints under it.
    """
    df = counts(con, f, "started", ("agency",)).set_index("agency")
    order = [a for a in AGENCY_ORDER if a in df.index]
    return df.reindex(order).astype("int64").reset_index()


def inflow_by_initiative(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """Started per initiative and agency, split by sex."""
    return counts(con, f, "started", ("initiative", "agency"))


def enrollment_rows(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """The enrollments behind the period's participants, for staff follow-up (not for publication).

    Anonymous counts have no rows; enrollments without consent carry only sex, age and dates.
    """
    return query(con, """
        SELECT initiative, participant_id, sex, start_date, end_date, exit_reason, age_at_start, age_group,
               referrer_unit, agency, income_start_raw AS income_at_start, income_exit_raw AS income_at_exit,
               education_raw AS education, consent
        FROM facts WHERE is_participant AND NOT anonymous
        ORDER BY initiative, start_date, participant_id
    """, f)


def targets_summary(con: duckdb.DuckDBPyConnection, f: Filters) -> dict:
    """The register's targets for the whole selection, where they can be stated honestly.

    Participants: the sum of per-year targets, only for a calendar year and only when every
    initiative with participants has one. Shares: only when those initiatives share one target.
    """
    scope = counts(con, f.with_(sexes=(), agencies=()), "participants", ("initiative",))
    scope = scope[scope.total > 0].merge(initiative_targets(con), on="initiative", how="left")
    if scope.empty:
        return {"participants": None, "participants_gap": None, "women_share": None, "positive_share": None}

    def common(col: str):
        vals = scope[col]
        return float(vals.iloc[0]) if vals.notna().all() and vals.nunique() == 1 else None

    parts = scope.target_participants
    target = int(parts.sum()) if f.is_calendar_year and parts.notna().all() else None
    actual = int(counts(con, f, "participants").total.iloc[0])
    return {
        "participants": target,
        "participants_gap": None if target is None else actual - target,
        "women_share": common("target_women_share"),
        "positive_share": common("target_positive_share"),
    }
