"""The same figures the usual Streamlit way: the exports read into pandas DataFrames held in memory,
then filtered and grouped on every rerun.

This is the yardstick for the metrics layer (bench/national.py times both, side by side) and an
independent second implementation of the data contract's definitions (section 6), so the
correctness check can demand identical figures. It reads only the generated files (see
bench/generate.py), never our database or code: were the loader or the SQL to drift from the
contract, the two would disagree.

Each function mirrors the metrics function of the same name and returns the columns the
comparison needs; `f` is a `metrics.Filters` (only its period is used, as the pages use it).
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SEXES = ["women", "men", "other"]
COLS = [*SEXES, "total"]
MISSING = "Uppgift saknas"  # no referrer, no consent
UNKNOWN = "unknown"  # exit reason without consent or code
AGE_LABELS = ["Under 16", "16–29", "30–49", "50–64", "65+"]
SEX_MAP = {"kvinna": "women", "k": "women", "f": "women", "man": "men", "m": "men"}  # anything else: other
MONTH = 30.4375


@dataclass
class Frames:
    enr: pd.DataFrame
    budget: pd.DataFrame
    register: pd.DataFrame
    labels: dict[str, str]
    positive: set[str]

    def memory_mb(self) -> float:
        return sum(df.memory_usage(deep=True).sum() for df in (self.enr, self.budget, self.register)) / 1e6


def _parse_share(text: str) -> float | None:
    if not text:
        return None
    x = float(text.rstrip("% ").replace(",", "."))
    return x / 100 if text.endswith("%") or x > 1 else x


def prepare(directory: Path) -> Frames:
    """Read and tidy the exports once (what `st.cache_data` would hold)."""
    directory = Path(directory)
    raw = pd.read_csv(directory / "deltagare.csv", sep=";", dtype=str, keep_default_na=False)
    units = pd.read_csv(directory / "enheter.csv", sep=";", dtype=str)
    consent = raw["Samtycke"].str.strip().str.casefold().isin(["ja", "j", "yes"]).to_numpy()
    start = pd.to_datetime(raw["Startdatum"], format="%Y-%m-%d")
    end = pd.to_datetime(raw["Slutdatum"], format="%Y-%m-%d", errors="coerce")
    code = raw["Avslutsorsak"].str.extract(r"^\s*(\d+)", expand=False)
    unit = raw["Remittent"].str.strip()
    has_unit = unit.ne("").to_numpy() & consent
    agency = np.where(has_unit, unit.map(dict(zip(units.unit, units.agency))).fillna("Annan"), MISSING)
    age = start.dt.year - pd.to_numeric(raw["Födelseår"], errors="coerce")

    def kept(col: str) -> pd.Series:  # without consent only sex, age and dates are kept
        s = raw[col].str.strip()
        return s.where(s.ne("") & consent)

    enr = pd.DataFrame({
        "association": raw["Förbund"],
        "participant_id": raw["Deltagar-ID"].where(consent),
        "initiative": raw["Insats"].str.strip(),
        "sex": raw["Kön"].str.strip().str.casefold().map(SEX_MAP).fillna("other"),
        "start": start, "end": end,
        "reason": code.where(consent & code.notna().to_numpy(), UNKNOWN),
        "agency": agency,
        "unit": np.where(has_unit, unit, MISSING),
        "consent": consent,
        "age": age,
        "age_group": pd.cut(age, [-np.inf, 15, 29, 49, 64, np.inf], labels=AGE_LABELS).astype(object).fillna("Okänd"),
        "income_at_start": kept("Försörjning vid start"),
        "income_at_exit": kept("Försörjning vid avslut"),
        "education": kept("Utbildning"),
    })
    budget = pd.read_csv(directory / "budget.csv", sep=";", dtype={"Insats": str})
    budget = budget.rename(columns={"Insats": "initiative", "År": "year", "Kostnadsslag": "category",
                                    "Finansiär": "funder", "Budget": "budget", "Utfall": "actual"})
    budget[["budget", "actual"]] = budget[["budget", "actual"]].astype(float)
    reg = pd.read_csv(directory / "insatser.csv", sep=";", dtype=str, keep_default_na=False)
    register = pd.DataFrame({
        "initiative": reg["Insats"],
        "owner": reg["Insatsägare"],
        "target_participants": pd.to_numeric(reg["Planerat antal deltagare"], errors="coerce"),
        "target_women_share": reg["Mål andel kvinnor"].map(_parse_share).astype(float),
        "target_positive_share": reg["Mål andel till arbete/studier"].map(_parse_share).astype(float),
    })
    with (ROOT / "data" / "exit_reasons.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    labels = {r["code"]: r["short_label"] for r in rows} | {UNKNOWN: "Okänd orsak (ej samtycke/ej angiven)"}
    positive = {r["code"] for r in rows if r["positive"].strip() in {"1", "ja", "Ja"}} or {"1"}
    return Frames(enr, budget, register, labels, positive)


# ---------------------------------------------------------------- who counts in a period


def _period(f):
    return pd.Timestamp(f.start), pd.Timestamp(f.end)


def flags(F: Frames, f) -> dict[str, pd.Series]:
    s, e = _period(f)
    start, end = F.enr["start"], F.enr["end"]
    part = (start <= e) & (end.isna() | (end >= s))
    return {"participants": part, "started": (start >= s) & (start <= e), "exited": (end >= s) & (end <= e),
            "no_consent": part & ~F.enr["consent"]}


def by_sex(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Counts per `keys` split into women/men/other/total (a frame with one row when keys is empty)."""
    if not keys:
        c = df["sex"].value_counts()
        row = {s: int(c.get(s, 0)) for s in SEXES}
        return pd.DataFrame([row | {"total": sum(row.values())}])
    out = df.groupby([*keys, "sex"], observed=True).size().unstack("sex", fill_value=0)
    out = out.reindex(columns=SEXES, fill_value=0).astype("int64")
    out["total"] = out.sum(axis=1)
    return out.reset_index()


def counts(F: Frames, f, measure: str, keys: list[str] = (), fl=None) -> pd.DataFrame:
    fl = fl or flags(F, f)
    return by_sex(F.enr[fl[measure]], list(keys))


def _share(num, den):
    return None if not den else num / den


# ---------------------------------------------------------------- people


def headline(F: Frames, f) -> pd.DataFrame:
    fl = flags(F, f)
    rows = {m: counts(F, f, m, fl=fl).iloc[0] for m in ("participants", "started", "exited", "no_consent")}
    ex = F.enr[fl["exited"]]
    rows["exited_positive"] = by_sex(ex[ex.reason.isin(F.positive)], []).iloc[0]
    rows["exited_positive_wide"] = by_sex(ex[ex.reason.isin(F.positive | {"2"})], []).iloc[0]
    out = pd.DataFrame(rows).T[COLS].astype(object)
    for name, num in (("positive_share", "exited_positive"), ("positive_wide_share", "exited_positive_wide")):
        out.loc[name] = {c: _share(out.loc[num, c], out.loc["exited", c]) for c in COLS}
    p = out.loc["participants"]
    out.loc["women_share"] = {c: (_share(p["women"], p["total"]) if c == "total" else None) for c in COLS}
    return out


def exits_by_reason(F: Frames, f, by: tuple[str, ...] = ()) -> pd.DataFrame:
    ex = F.enr[flags(F, f)["exited"]]
    df = by_sex(ex, [*by, "reason"])
    df["label"] = df.reason.map(F.labels)
    df["sort"] = [99 if r == UNKNOWN else int(r) for r in df.reason]
    return df.sort_values([*by, "sort"]).drop(columns="sort").reset_index(drop=True)


def by_initiative(F: Frames, f) -> pd.DataFrame:
    fl = flags(F, f)
    parts = [counts(F, f, m, ["initiative"], fl).set_index("initiative").add_prefix(f"{m}_")
             for m in ("participants", "started", "exited", "no_consent")]
    df = pd.concat(parts, axis=1).fillna(0).astype("int64")
    ex = F.enr[fl["exited"]]
    for name, codes in (("exited_positive", F.positive), ("exited_positive_wide", F.positive | {"2"})):
        d = by_sex(ex[ex.reason.isin(codes)], ["initiative"]).set_index("initiative").add_prefix(f"{name}_")
        df = df.join(d).fillna(0)
    df = df.astype("int64").reset_index()
    for c in COLS:
        df[f"positive_share_{c}"] = [_share(a, b) for a, b in zip(df[f"exited_positive_{c}"], df[f"exited_{c}"])]
    df["women_share"] = [_share(a, b) for a, b in zip(df.participants_women, df.participants_total)]
    return df.merge(F.register, on="initiative", how="left").sort_values("initiative").reset_index(drop=True)


def per_agency(F: Frames, f) -> pd.DataFrame:
    """Participants, started and exited per agency, by sex (the metrics side filters headline by agency)."""
    fl = flags(F, f)
    parts = [counts(F, f, m, ["agency"], fl).set_index("agency").add_prefix(f"{m}_")
             for m in ("participants", "started", "exited")]
    return pd.concat(parts, axis=1).fillna(0).astype("int64").reset_index()


def inflow_by_agency(F: Frames, f) -> pd.DataFrame:
    return counts(F, f, "started", ["agency"])


def inflow_by_initiative(F: Frames, f) -> pd.DataFrame:
    return counts(F, f, "started", ["initiative", "agency"])


def inflow(F: Frames, f, grain: str = "quarter") -> pd.DataFrame:
    st = F.enr[flags(F, f)["started"]]
    d = st["start"]
    key = d.dt.strftime("%Y-%m") if grain == "month" else d.dt.year.astype(str) + "-K" + d.dt.quarter.astype(str)
    return by_sex(st.assign(**{grain: key}), [grain, "agency"])


def inflow_units(F: Frames, f) -> pd.DataFrame:
    return counts(F, f, "started", ["agency", "unit"]).sort_values(["agency", "total"], ascending=[True, False])


def by_sex_per_initiative(F: Frames, f) -> pd.DataFrame:
    fl = flags(F, f)
    return pd.concat([counts(F, f, m, ["initiative"], fl).assign(measure=m) for m in ("participants", "started", "exited")],
                     ignore_index=True)


def women_share_vs_target(F: Frames, f) -> pd.DataFrame:
    d = counts(F, f, "participants", ["initiative"]).merge(F.register[["initiative", "target_women_share"]],
                                                           on="initiative", how="left")
    d["target"] = d.target_women_share.fillna(0.5)
    d["women_share"] = d.women / d.total
    d["gap"] = d.women_share - d.target
    d["large_gap"] = d.gap.abs() > 0.10
    return d


def reason_shares(F: Frames, f) -> pd.DataFrame:
    df = exits_by_reason(F, f)
    for c in COLS:
        df[f"{c}_share"] = df[c] / df[c].sum() if df[c].sum() else None
    return df


def age_by_sex(F: Frames, f) -> pd.DataFrame:
    return counts(F, f, "participants", ["age_group"])


def positive_share_over_time(F: Frames, f, grain: str = "quarter") -> pd.DataFrame:
    ex = F.enr[flags(F, f)["exited"]]
    d = ex["end"]
    key = {"month": d.dt.strftime("%Y-%m"), "year": d.dt.year.astype(str)}.get(
        grain, d.dt.year.astype(str) + "-K" + d.dt.quarter.astype(str))
    ex = ex.assign(**{grain: key})
    total = by_sex(ex, [grain]).set_index(grain)
    pos = by_sex(ex[ex.reason.isin(F.positive)], [grain]).set_index(grain).reindex(total.index, fill_value=0)
    out = total.add_prefix("exited_").join(pos.add_prefix("positive_"))
    for c in COLS:
        out[f"share_{c}"] = out[f"positive_{c}"] / out[f"exited_{c}"]
    return out.reset_index()


def time_in_initiative(F: Frames, f) -> pd.DataFrame:
    ex = F.enr[flags(F, f)["exited"]]
    ex = ex.assign(d=(ex["end"] - ex["start"]).dt.days.astype(float))

    def stats(g: pd.core.groupby.DataFrameGroupBy) -> pd.DataFrame:
        q = g["d"].quantile([0.5, 0.25, 0.75, 0.10, 0.90]).unstack() / MONTH
        q.columns = ["median_months", "q1_months", "q3_months", "p10_months", "p90_months"]
        return q.join(g.size().rename("n"))

    by = stats(ex.groupby(["reason", "sex"])).reset_index()
    total = stats(ex.groupby("reason")).reset_index().assign(sex="total")
    return pd.concat([by, total], ignore_index=True)


def income_flow(F: Frames, f) -> pd.DataFrame:
    ex = F.enr[flags(F, f)["exited"]]
    ex = ex[ex.income_at_start.notna() & ex.income_at_exit.notna()]
    return by_sex(ex, ["income_at_start", "income_at_exit"]).sort_values(
        ["total", "income_at_start", "income_at_exit"], ascending=[False, True, True])


def enrollment_rows(F: Frames, f) -> pd.DataFrame:
    return F.enr[flags(F, f)["participants"]].sort_values(["initiative", "start", "participant_id"])


def targets_summary(F: Frames, f) -> dict:
    scope = counts(F, f, "participants", ["initiative"])
    scope = scope[scope.total > 0].merge(F.register, on="initiative", how="left")
    if scope.empty:
        return {"participants": None, "women_share": None, "positive_share": None}

    def common(col):
        v = scope[col]
        return float(v.iloc[0]) if v.notna().all() and v.nunique() == 1 else None

    calendar = f.start.year == f.end.year and (f.start.month, f.start.day, f.end.month, f.end.day) == (1, 1, 12, 31)
    target = int(scope.target_participants.sum()) if calendar and scope.target_participants.notna().all() else None
    return {"participants": target, "women_share": common("target_women_share"),
            "positive_share": common("target_positive_share")}


# ---------------------------------------------------------------- cost


def cost_by_initiative_year(F: Frames, f) -> pd.DataFrame:
    """Per initiative and calendar year of the period: budget, actual, cost (actual, else budget), people, per person."""
    b = F.budget[(F.budget.year >= f.start.year) & (F.budget.year <= f.end.year)]
    lines = b.groupby(["initiative", "year"], as_index=False)[["budget", "actual"]].sum(min_count=1)
    frames = []
    for y in range(f.start.year, f.end.year + 1):
        fy = type(f).year(y)
        fl = flags(F, fy)
        p = F.enr[fl["participants"]].groupby("initiative").size().rename("participants")
        s = F.enr[fl["started"]].groupby("initiative").size().rename("started")
        ex = F.enr[fl["exited"]]
        e = ex[ex.reason.isin(F.positive)].groupby("initiative").size().rename("positive_exits")
        frames.append(pd.concat([p, s, e], axis=1).reset_index().assign(year=y))
    people = pd.concat(frames, ignore_index=True)
    for d in (lines, people):  # object keys: pandas 3.1 cannot merge two empty Arrow string columns
        d["initiative"] = d["initiative"].astype(object)
    df = lines.merge(people, on=["initiative", "year"], how="outer")
    for c in ("participants", "started", "positive_exits"):
        df[c] = df[c].fillna(0).astype("int64")
    df["basis"] = np.where(df.actual.notna(), "utfall", np.where(df.budget.notna(), "budget", None))
    df["cost"] = df.actual.where(df.actual.notna(), df.budget)
    for name, den in (("per_participant", "participants"), ("per_started", "started"),
                      ("per_positive_exit", "positive_exits")):
        df[name] = (df.cost / df[den].where(df[den] > 0)).where(df.cost.notna())
    return df.sort_values(["initiative", "year"]).reset_index(drop=True)


def _pooled(rows: pd.DataFrame) -> dict:
    with_cost = rows[rows.cost.notna() & (rows.participants > 0)]
    cost = float(with_cost.cost.sum()) if len(with_cost) else None
    n = int(with_cost.participants.sum())
    return {"cost": cost, "participants": n, "per_participant": None if cost is None or not n else cost / n}


def cost_summary(F: Frames, f) -> dict:
    return _pooled(cost_by_initiative_year(F, f))


def cost_per_initiative(F: Frames, f) -> pd.DataFrame:
    df = cost_by_initiative_year(F, f)
    rows = []
    for name, g in df.groupby("initiative"):
        bases = set(g.basis.dropna())
        rows.append({"initiative": name, "basis": None if not bases else (bases.pop() if len(bases) == 1 else "blandat")}
                    | _pooled(g))
    return pd.DataFrame(rows, columns=["initiative", "cost", "basis", "participants", "per_participant"])


def cost_by_dimension(F: Frames, f, dim: str) -> pd.DataFrame:
    b = F.budget[(F.budget.year >= f.start.year) & (F.budget.year <= f.end.year)]
    d = b.groupby(["initiative", "year", dim], as_index=False)[["budget", "actual"]].sum(min_count=1)
    has_actual = d.groupby(["initiative", "year"]).actual.transform("count") > 0
    d["cost"] = np.where(has_actual, d.actual.fillna(0), d.budget)
    return d


# ---------------------------------------------------------------- what the sidebar lists


def years(F: Frames) -> list[int]:
    return sorted(np.union1d(F.enr.start.dt.year.unique(), F.enr.end.dropna().dt.year.unique()).tolist(), reverse=True)


def initiatives(F: Frames) -> list[str]:
    return sorted(set(F.enr.initiative.unique()) | set(F.budget.initiative.unique()) | set(F.register.initiative))


def default_year(F: Frames, this_year: int) -> int:
    found = sorted(set(F.enr.start.dt.year.dropna().astype(int)))
    past = [y for y in found if y <= this_year]
    if not past:
        return min(found)
    last = max(F.enr.start.max(), F.enr.end.max())
    complete = [y for y in past if not pd.isna(last) and last >= pd.Timestamp(y, 12, 31)]
    return max(complete) if complete else max(past)


def associations(F: Frames) -> list[str]:
    return sorted(a for a in F.enr.association.unique() if a)


def initiative_owners(F: Frames) -> dict[str, str]:
    pairs = F.enr.loc[F.enr.association != "", ["initiative", "association"]].drop_duplicates()
    return {i: ", ".join(sorted(g)) for i, g in pairs.groupby("initiative").association}


def status(F: Frames) -> dict:
    return {"enrollments": len(F.enr)}
