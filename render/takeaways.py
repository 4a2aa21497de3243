"""The board deck's one-line takeaways: a metrics table in, a Swedish sentence out.

Small pure functions, so they can be tested on their own, and each protects the figures it
names with metrics.suppress first: a takeaway never states a count that a slide hides.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd

from core.vocabulary import MISSING, SEX_LABELS, SEXES, TOTAL
from metrics.cost import BUDGET
from metrics.people import LARGE_GAP
from metrics.suppress import DEFAULT_THRESHOLD, positive_share_cells, protected_table, visible_share

from .format import fmt_int, fmt_kr, fmt_number, fmt_pct, is_missing


def _names(names: Sequence[str]) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " och " + names[-1]


def inflow_takeaway(df: pd.DataFrame, threshold: int = DEFAULT_THRESHOLD) -> str:
    """Which agency referred most new participants, from `metrics.people.inflow_by_agency`."""
    p = protected_table(df, "agency", threshold)
    total = int(p.data.at[TOTAL, "total"])
    if total == 0:
        return "Inga nya deltagare under perioden."
    named = [a for a in p.data.index if a not in (TOTAL, MISSING)]
    top = max((int(p.data.at[a, "total"]) for a in named), default=0)
    if top == 0:
        return "Ingen av de nya deltagarna har en känd remittent."
    leaders = [a for a in named if int(p.data.at[a, "total"]) == top]
    if top < threshold or p.hidden(TOTAL, "total") or any(p.hidden(a, "total") for a in leaders):
        return "Antalen nya deltagare per remittent är för små för att visas."
    if len(leaders) == 1:
        return (f"{leaders[0]} remitterade flest nya deltagare: {fmt_int(top)} av {fmt_int(total)} "
                f"({fmt_pct(top / total)}).")
    return (f"{_names(leaders)} remitterade flest nya deltagare, lika många: {fmt_int(top)} var av "
            f"{fmt_int(total)} ({fmt_pct(top / total)}).")


def women_target_visible(df: pd.DataFrame, threshold: int = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """`women_share_vs_target` limited to initiatives with participants, with `shown`: the share or None."""
    d = df[df.total > 0].reset_index(drop=True)
    if d.empty:
        return d.assign(shown=pd.Series(dtype=object))
    p = protected_table(d, "initiative", threshold)
    shown = [visible_share(s, p.hidden(i, "women"), n, p.hidden(i, "total"), threshold)
             for i, s, n in zip(d.initiative, d.women_share, d.total)]
    return d.assign(shown=pd.Series(shown, dtype=object))


def women_target_takeaway(df: pd.DataFrame, threshold: int = DEFAULT_THRESHOLD) -> str:
    """The initiative furthest from its target share of women, from `women_share_vs_target`."""
    d = women_target_visible(df, threshold)
    if d.empty:
        return "Inga deltagare under perioden."
    v = d[d.shown.notna()]
    if v.empty:
        return "Deltagarna per insats är för få för att visa andelen kvinnor."
    gaps = [abs(s - t) for s, t in zip(v.shown, v.target)]
    worst = v.iloc[max(range(len(gaps)), key=lambda i: (gaps[i], -i))]
    if abs(worst.shown - worst.target) > LARGE_GAP:
        return (f"{worst.initiative} ligger längst från målet för andelen kvinnor: "
                f"{fmt_pct(worst.shown)} mot målet {fmt_pct(worst.target)}.")
    which = "Alla insatser" if len(v) == len(d) else "Alla insatser som kan visas"
    return (f"{which} ligger inom {fmt_number(LARGE_GAP * 100)} procentenheter från målet för andelen kvinnor.")


def exits_takeaway(reasons: pd.DataFrame, positive: Iterable[str] = ("1",),
                   threshold: int = DEFAULT_THRESHOLD) -> str:
    """Share of exits to work/studies, in total and per sex, from `metrics.people.exits_by_reason`."""
    if reasons.empty or int(reasons.total.sum()) == 0:
        return "Inga avslut under perioden."
    s = positive_share_cells(reasons, positive, threshold)
    if s["total"] is None:
        return "De avslutade är för få för att visa andelen till arbete eller studier."
    parts = [f"{SEX_LABELS[c].lower()} {fmt_pct(s[c])}" for c in SEXES if s[c] is not None]
    return (f"Andelen avslutade till arbete eller studier var {fmt_pct(s['total'])}"
            + (": " + ", ".join(parts) if parts else "") + ".")


def cost_visible(df: pd.DataFrame, threshold: int = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """`metrics.cost.cost_per_initiative` with `shown`: cost per participant, or None where it rests on fewer than `threshold` people."""
    shown = [None if is_missing(v) or n < threshold else float(v) for v, n in zip(df.per_participant, df.participants)]
    return df.assign(shown=pd.Series(shown, index=df.index, dtype=object))


def cost_takeaway(df: pd.DataFrame, summary: dict, threshold: int = DEFAULT_THRESHOLD) -> str:
    """Highest and lowest cost per participant, from `cost_per_initiative` and `metrics.cost.cost_summary`."""
    v = cost_visible(df, threshold)
    v = v[v.shown.notna()]
    whole = summary.get("per_participant")
    whole = None if is_missing(whole) or summary.get("participants", 0) < threshold else whole

    def one(r) -> str:
        return f"{fmt_kr(r.shown)}, budget" if r.basis == BUDGET else fmt_kr(r.shown)

    if v.empty:
        if whole is None:
            return "Det finns ingen kostnad per deltagare att visa för urvalet."
        return f"Kostnaden per deltagare var {fmt_kr(whole)} för hela urvalet."
    if len(v) == 1:
        r = v.iloc[0]
        text = f"Kostnaden per deltagare var {fmt_kr(r.shown)} i {r.initiative}"
        return text + (" (budget)." if r.basis == BUDGET else ".")
    hi = v.loc[v.shown.astype(float).idxmax()]
    lo = v.loc[v.shown.astype(float).idxmin()]
    text = (f"Kostnaden per deltagare var högst i {hi.initiative} ({one(hi)}) "
            f"och lägst i {lo.initiative} ({one(lo)})")
    return text + (f"; för hela urvalet {fmt_kr(whole)}." if whole is not None else ".")
