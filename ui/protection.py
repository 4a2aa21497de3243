"""Small-count protection in the app: the reader's switch and threshold, and the engine for the chosen period.

On by default in presentation mode (and always in the board pack and aggregate exports);
the threshold is a setting (default 5). The decision itself is metrics/suppress.py's, made
once per period and cached with the data. A page reads its figures through `shown(f)`, a
render.protected.Shown on that engine (protection off: the figures as they are): `.figures(...)`
for the headline, `.wide(...)` for the per-initiative table, `.frame(...)` for a count
table. The one-figure helpers below (`count`, `ratio`, `table` …) ask the same object, for pages
with a figure of their own.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd
import streamlit as st

from core.vocabulary import SEX_COLUMNS
from metrics import Filters
from metrics.suppress import (DEFAULT_THRESHOLD, OFF_GRID, SEVERAL_ASSOCIATIONS, VISIBLE,  # noqa: F401 (pages')
                              YEAR_ONLY_MESSAGE, Protection, hidden_code, is_hidden, legend, protect_year, span_of,
                              spans_several_associations)
from render.format import fmt_count as _fmt_count
from render.protected import Shown, Withheld, pooled_people, pooled_people_per_initiative, protected_share

from . import access
from .data import run, run_shared

FOR_PAGES = (hidden_code, is_hidden)  # pages read hidden codes through this module


def enabled() -> bool:
    # issue 11: a role without "protection off" (läsare) is always protected, whatever the session says
    return bool(st.session_state.get("suppress", False)) or access.protection_forced()


def threshold() -> int:
    t = int(st.session_state.get("suppress_threshold", DEFAULT_THRESHOLD))
    return max(t, DEFAULT_THRESHOLD) if access.protection_forced() else t  # issue 11: läsare cannot lower it


def active() -> int | None:
    """The threshold when protection is on, None when it is off."""
    return threshold() if enabled() else None


def note() -> str:
    """The legend every protected view prints: what `<5` and `..` mean."""
    return "Skydd för små tal: " + legend(threshold())


def short_note() -> str:
    """The legend in one line, for the projector's foot bar."""
    t = threshold()
    return f"Skyddade tal: <{t} = 1–{t - 1} personer, .. = dolt som skydd"


def engine(f: Filters) -> Protection | None:
    """The protection of `f`'s period, or None when protection is off: the view of its year's grid, decided once
    for the year, the delår and the tertials together (cached per data version, association and threshold)."""
    if not enabled():
        return None
    one_association_or_stop(f)
    return _year(f).view(span_of(f))


WAITING = "Skyddet för små tal i {year} räknas fram. Första gången för ett år kan det ta en stund …"


def _year(f: Filters) -> Protection:
    """The decided grid of `f`'s year. A year the loader did not decide ahead is solved on its first visit, and
    every year before it first (issue 21: minutes at national scale): the reader is told why the page waits.
    Streamlit shows the text only past half a second, so a stored or cached decision shows nothing."""
    with st.spinner(WAITING.format(year=int(f.start.year))):  # no show_time: Streamlit writes it in English
        return run_shared(protect_year, f.start.year, tuple(f.associations), threshold())


def shown(f: Filters) -> Shown:
    """`f`'s figures as this reader may see them: the page's one way to its counts, shares and costs per person."""
    return Shown.of(engine(f), f, threshold(), year_engines(f))


def shown_previous(prev: Filters) -> Shown:
    """The previous period's figures for a comparison (the page's own period has passed `one_association_or_stop`):
    where its year shows the year alone, every count of it is withheld and the comparison left out, not the page."""
    if enabled() and refusal(prev) == YEAR_ONLY_MESSAGE:
        return Shown.of(Withheld(), prev, threshold(), year_engines(prev))
    return shown(prev)


def several(f: Filters) -> bool:
    """Whether the selection spans more than one association (then nothing protected can be shown for it)."""
    return run(spans_several_associations, Filters(f.start, f.end, associations=f.associations))


def refusal(f: Filters) -> str | None:
    """Why nothing protected can be shown for `f` (several associations, a period off the year's grid, or a shorter
    period of a year whose grid shows the year alone), or None."""
    if several(f):
        return SEVERAL_ASSOCIATIONS
    if span_of(f) is None:
        return OFF_GRID
    if span_of(f) != "Y" and not _year(f).shorter:
        return YEAR_ONLY_MESSAGE
    return None


def on_grid_or_stop(f: Filters) -> None:
    """Stop the page with a plain message where `f` is not the year, its delår or a tertial: the check a page that
    protects its own figures over several associations (Förbund) still needs."""
    if span_of(f) is None:
        st.info(OFF_GRID, icon=":material/shield:")  # a constant: no data in it
        st.stop()


def one_association_or_stop(f: Filters) -> None:
    """Stop the page with a plain message where protected figures would span several associations or a period
    that is not the year, its delår or a tertial (one of these could be set against the others)."""
    if (why := refusal(f)) is not None:
        st.info(why, icon=":material/shield:")  # a constant: no data in it
        st.stop()


def table(df: pd.DataFrame, measure: str, dims: Iterable[str], f: Filters,
          sexes: Iterable[str] = SEX_COLUMNS, fixed: Mapping[str, object] | None = None) -> pd.DataFrame:
    """A metrics count table as shown: hidden counts replaced by their codes (printed `<5` and `..`)."""
    return shown(f).frame(df, measure, dims, sexes, fixed)


def prefixed(df: pd.DataFrame, measure: str, prefix: str, dims: Iterable[str], f: Filters,
             fixed: Mapping[str, object] | None = None) -> pd.DataFrame:
    """`table` for the `{prefix}_women … {prefix}_total` columns of a wide table (metrics.people.by_initiative)."""
    dims = list(dims)
    cols = {f"{prefix}_{s}": s for s in SEX_COLUMNS if f"{prefix}_{s}" in df.columns}
    shown = table(df[[*dims, *cols]].rename(columns=cols), measure, dims, f, fixed=fixed)
    out = df.copy()
    for c, s in cols.items():
        out[c] = shown[s].to_numpy()
    return out


def count(measure: str, dims: Mapping[str, object], sex: str, f: Filters, value):
    """One count as shown: `value`, or its hidden code."""
    return shown(f).count(measure, dims, sex, value)


def counts(measure: str, dim: str, keys: Iterable, f: Filters, values: Iterable, sex: str = "total") -> list:
    """`count` of many cells, one per key of `dim`: the engine is looked up once, and with protection off the
    values are returned as they are (a page asks this for thousands of initiatives)."""
    return shown(f).counts(measure, dim, keys, values, sex)


def ratio(value, denominator, *numerators):
    """A share or an amount per person, or None where protection hides a count under it or too few stand behind it
    (render.protected.protected_share)."""
    return protected_share(value, denominator, *numerators, threshold=active())


def ratios(values: Iterable, denominators: Iterable, numerators: Iterable | None = None) -> list:
    """`ratio` row by row, with the threshold looked up once: a page asks it for thousands of initiatives, and
    each lookup reads the session's state (the role, the switch) again."""
    t = active()
    if numerators is None:
        return [protected_share(v, d, threshold=t) for v, d in zip(values, denominators)]
    return [protected_share(v, d, n, threshold=t) for v, d, n in zip(values, denominators, numerators)]


def fmt_count(x) -> str:
    return _fmt_count(x, threshold())


def year_engines(f: Filters):
    """`engine` of each calendar year of `f`'s associations, asked once per year: costs are per initiative and
    year, and a page asks it for thousands of initiative-years."""
    engines: dict[int, Protection | None] = {}

    def of(y: int) -> Protection | None:
        if y not in engines:
            engines[y] = engine(Filters.year(int(y), associations=f.associations))
        return engines[y]

    return of


def _participants_kind(f: Filters):
    """(initiative, year) -> whether that initiative-year's participant count is visible, hidden and how."""
    of = year_engines(f)

    def kind(i: str, y: int) -> str:
        p = of(y)
        return VISIBLE if p is None else p.cell("participants", {"initiative": i}, "total")[0]

    return kind


def cost_people(years: pd.DataFrame, f: Filters, initiative: str | None = None):
    """The participants a pooled cost per participant divides by, or a hidden code (render.protected.pooled_people)."""
    return pooled_people(years, _participants_kind(f) if enabled() else None, initiative)


def cost_per_initiative(ini: pd.DataFrame, years: pd.DataFrame, f: Filters) -> list:
    """`per_participant` of each initiative row, or None where protection hides the participants under it."""
    people = pooled_people_per_initiative(years, _participants_kind(f) if enabled() else None)
    return ratios(ini.per_participant, [people.get(name, 0) for name in ini.initiative])
