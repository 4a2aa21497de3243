"""Which initiatives are below their targets, and by how much: the answer a board asks for, as a list.

The register sets per initiative a planned number of participants a year, a share of women and a share to
work or studies. Strokes on a chart make a reader compare bars by eye; this lists the initiatives below a
target with the gap, from the same rows the page shows (so a count protection hides gives no gap).
"""
from __future__ import annotations

import pandas as pd

from metrics.suppress import is_hidden

from .format import fmt_delta_int, fmt_int, fmt_pct, fmt_pp

# (what, value column, target column, formatter of values, formatter of the gap)
TARGETS = (
    ("Deltagare per år", "participants_total", "target_participants", fmt_int, fmt_delta_int),
    ("Andel kvinnor", "women_share", "target_women_share", fmt_pct, fmt_pp),
    ("Till arbete/studier", "positive_share_total", "target_positive_share", fmt_pct, fmt_pp),
)
COLUMNS = ["Insats", "Mål för", "Utfall", "Mål", "Avvikelse"]


def _known(x) -> bool:
    return x is not None and not pd.isna(x) and not is_hidden(x)


def _minus(text: str) -> str:
    """The gap's sign as the minus sign (U+2212): the typographer's, and no text a spreadsheet reads as a formula
    (a leading hyphen is neutralised with an apostrophe on screen and in files, issue 22)."""
    return "\u2212" + text[1:] if text.startswith("-") else text


def below_targets(rows: pd.DataFrame, *, calendar_year: bool) -> pd.DataFrame:
    """One row per initiative and target it falls short of, the largest shortfall first within each target.

    `rows`: the page's per-initiative rows as shown (hidden counts as their codes, withheld shares as None).
    The participant target is per year, so it is compared only for a calendar year.
    """
    out = []
    for what, value, target, fmt, fmt_gap in TARGETS:
        if value not in rows.columns or target not in rows.columns or (target == "target_participants"
                                                                       and not calendar_year):
            continue
        for r in rows[["initiative", value, target]].itertuples(index=False):
            v, t = r[1], r[2]
            if _known(v) and _known(t) and v < t:
                out.append({"Insats": r[0], "Mål för": what, "Utfall": fmt(v), "Mål": fmt(t),
                            "Avvikelse": _minus(fmt_gap(v - t)), "_gap": (v - t) / t if t else v - t})
    df = pd.DataFrame(out, columns=[*COLUMNS, "_gap"])
    df["_what"] = df["Mål för"].map({w: i for i, (w, *_) in enumerate(TARGETS)})
    # the largest shortfall first, relative to the target (20 of 40 planned is further off than 90 of 100)
    return df.sort_values(["_what", "_gap"], kind="stable").drop(columns=["_what", "_gap"]).reset_index(drop=True)


def not_compared(rows: pd.DataFrame, *, calendar_year: bool) -> list[str]:
    """The initiatives with a target whose figure is not shown (a hidden count, a share withheld): no gap can be
    said for them, so "none below its target" must not be said for them either."""
    out: list[str] = []
    for _what, value, target, *_ in TARGETS:
        if value not in rows.columns or target not in rows.columns or (target == "target_participants"
                                                                       and not calendar_year):
            continue
        for name, v, t in rows[["initiative", value, target]].itertuples(index=False):
            if _known(t) and not _known(v) and name not in out:
                out.append(name)
    return out


def none_below_text(unknown: list[str]) -> str:
    """The sentence for an empty list of initiatives below their targets."""
    if not unknown:
        return "Ingen insats med mål i insatsregistret ligger under sitt mål för perioden."
    n = len(unknown)
    return (f"Ingen av de insatser som kan jämföras ligger under sitt mål; {n} "
            f"{'insats' if n == 1 else 'insatser'} med mål jämförs inte (dolt tal eller för få personer).")
