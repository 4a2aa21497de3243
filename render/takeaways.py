"""The board deck's one-line takeaways: protected figures in, a Swedish sentence out.

Small pure functions over tables as shown (counts protection hides carry the codes of
metrics.suppress), so a takeaway can never state a figure a slide hides, and can be tested alone.
"""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from core.vocabulary import MISSING, SEX_WORDS, SEXES
from metrics.cost import BUDGET
from metrics.people import DEFAULT_WOMEN_TARGET, LARGE_GAP
from metrics.suppress import PRIMARY, is_hidden, kind_of

from .format import fmt_int, fmt_kr, fmt_number, fmt_pct


def _names(names: Sequence[str]) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " och " + names[-1]


def inflow_takeaway(agencies: pd.DataFrame, total) -> str:
    """Which agency referred most new participants, from the agency × sex table as shown and the shown total.

    "Most" is only said where no hidden count could be larger: a `<5` can't, a `..` might.
    """
    if not is_hidden(total) and total == 0:
        return "Inga nya deltagare under perioden."
    named = agencies[agencies.agency != MISSING]
    visible = named[~named.total.map(is_hidden)]
    if visible.empty or visible.total.max() == 0:
        return "Ingen av de nya deltagarna har en känd remittent som kan visas."
    top = int(visible.total.max())
    leaders = list(visible[visible.total == top].agency)
    unknown_size = named.total.map(lambda v: is_hidden(v) and kind_of(v) != PRIMARY).any()
    if is_hidden(total):
        return f"{_names(leaders)} remitterade {fmt_int(top)} nya deltagare{' var' if len(leaders) > 1 else ''}."
    share = fmt_pct(top / total)
    if unknown_size:
        return (f"{_names(leaders)} remitterade {fmt_int(top)} av {fmt_int(total)} nya deltagare ({share})"
                + (" var." if len(leaders) > 1 else "."))
    if len(leaders) == 1:
        return f"{leaders[0]} remitterade flest nya deltagare: {fmt_int(top)} av {fmt_int(total)} ({share})."
    return (f"{_names(leaders)} remitterade flest nya deltagare, lika många: {fmt_int(top)} var av "
            f"{fmt_int(total)} ({share}).")


def women_target_takeaway(women: pd.DataFrame, overall) -> str:
    """The initiative furthest from its register target for the share of women, from shares as shown.

    `women` has initiative, share (None where hidden), target, registered (the target is the
    register's, not the 50 % default); `overall` is the whole selection's share as shown.
    """
    if women.empty:
        return "Inga deltagare under perioden."
    with_goal = women[women.registered & women.share.notna()]
    if len(with_goal):
        gaps = [abs(s - t) for s, t in zip(with_goal.share, with_goal.target)]
        worst = with_goal.iloc[max(range(len(gaps)), key=lambda i: (gaps[i], -i))]
        if abs(worst.share - worst.target) > LARGE_GAP:
            return (f"{worst.initiative} ligger längst från sitt mål för andelen kvinnor: "
                    f"{fmt_pct(worst.share)} mot målet {fmt_pct(worst.target)}.")
        return (f"Insatserna med mål i insatsregistret ligger inom {fmt_number(LARGE_GAP * 100)} procentenheter "
                "från målet för andelen kvinnor.")
    if overall is None:
        return "Andelen kvinnor kan inte visas för urvalet."
    return (f"Andelen kvinnor bland deltagarna var {fmt_pct(overall)}, jämfört med "
            f"{fmt_pct(DEFAULT_WOMEN_TARGET, 0)} (insatsregistret har inga mål för andelen).")


def exits_takeaway(shares: dict, exited) -> str:
    """The share of exits to work or studies, in total and per sex, as shown (`shares`: sex -> share or None)."""
    if not is_hidden(exited) and exited == 0:
        return "Inga avslut ännu under perioden."
    if shares.get("total") is None:
        return "De avslutade är för få för att visa andelen till arbete eller studier."
    parts = [f"{SEX_WORDS[s]} {fmt_pct(shares[s])}" for s in SEXES if shares.get(s) is not None]
    return (f"Andelen avslutade till arbete eller studier var {fmt_pct(shares['total'])}"
            + (": " + ", ".join(parts) if parts else "") + ".")


def cost_takeaway(costs: pd.DataFrame, whole) -> str:
    """Highest and lowest cost per participant (`costs`: initiative, shown, basis) and the whole's, as shown."""
    v = costs[costs.shown.notna()]

    def one(r) -> str:
        return f"{fmt_kr(r.shown)}, budget" if r.basis == BUDGET else fmt_kr(r.shown)

    if v.empty:
        if whole is None:
            return "Det finns ingen kostnad per deltagare att visa för urvalet."
        return f"Kostnaden per deltagare var {fmt_kr(whole)} för hela urvalet."
    if len(v) == 1:
        r = v.iloc[0]
        return f"Kostnaden per deltagare var {one(r)} i {r.initiative}."
    hi = v.loc[v.shown.astype(float).idxmax()]
    lo = v.loc[v.shown.astype(float).idxmin()]
    text = f"Kostnaden per deltagare var högst i {hi.initiative} ({one(hi)}) och lägst i {lo.initiative} ({one(lo)})"
    return text + (f"; för hela urvalet {fmt_kr(whole)}." if whole is not None else ".")
