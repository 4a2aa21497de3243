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

import logging
from collections.abc import Iterable, Mapping

import pandas as pd
import streamlit as st

from core.vocabulary import SEX_COLUMNS
from metrics import Filters, backlog
from metrics.suppress import (DEFAULT_THRESHOLD, OFF_GRID, SEVERAL_ASSOCIATIONS, VISIBLE,  # noqa: F401 (pages')
                              YEAR_ONLY_MESSAGE, Protection, hidden_code, is_hidden, legend, protect_year, span_of,
                              spans_several_associations)
from render.format import fmt_count as _fmt_count
from render.format import fmt_int
from render.text import md
from render.protected import Shown, Withheld, pooled_people, pooled_people_per_initiative, protected_share

from . import access
from .data import cursor, data_version, db_path, run, run_shared

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


BACKGROUND = ("Skyddet för små tal i {year} räknas fram i bakgrunden efter den senaste inläsningen: {done} av "
              "{total} år{whose} är klara. Sidan visar siffrorna när {year} är klart – du kan låta den stå öppen.")


def _year(f: Filters) -> Protection:
    """The decided grid of `f`'s year. A year the load left undecided is decided in the background
    (metrics.backlog): the reader is told how far it has come and the page shows the figures once it is there,
    instead of deciding it and every year before it here (minutes at national scale, on any reader's visit).
    Where there is no such process (it is off, or failed), the year is solved on its first visit as before;
    Streamlit shows that text only past half a second, so a stored or cached decision shows nothing."""
    year, associations = int(f.start.year), tuple(f.associations)
    seen = (str(db_path()), data_version(), year, associations, threshold())
    if backlog.enabled() and seen not in _DECIDED_OR_OWN:
        if backlog.waiting(cursor(), year, associations, threshold()) is not None and _started(associations):
            _wait(year, associations)
            st.stop()
        if len(_DECIDED_OR_OWN) > 10_000:
            _DECIDED_OR_OWN.clear()
        _DECIDED_OR_OWN.add(seen)  # stored now, or the reader's own to decide: so for this data from now on
    with st.spinner(WAITING.format(year=year)):  # no show_time: Streamlit writes it in English
        return run_shared(protect_year, year, associations, threshold())


def _started(associations: tuple[str, ...]) -> bool:
    """The background process deciding this database's years runs (started here unless the load started it),
    told to decide this reader's association first."""
    try:
        backlog.want(db_path(), associations)
        backlog.start(db_path())
    except OSError:  # a folder beside the database that cannot be written: the reader decides after all
        logging.getLogger(__name__).exception("the background deciding could not be started")
        return False
    return True


_DECIDED_OR_OWN: set[tuple] = set()  # (database, version, year, associations, threshold): asked once per version


@st.fragment(run_every=5)
def _wait(year: int, associations: tuple[str, ...]) -> None:
    """The notice while the year is decided in the background, asked again every five seconds; the whole page
    runs again once the year is there."""
    progress = backlog.waiting(cursor(), year, associations, threshold())
    if progress is None:
        st.rerun()
    if not backlog.running(db_path()) and not _started(associations):  # stopped meanwhile: begun again, or here
        st.rerun()
    whose = f" för {md(associations[0])}" if progress.several and associations else ""  # its own, decided first
    st.info(BACKGROUND.format(year=year, done=fmt_int(progress.done), total=fmt_int(progress.total), whose=whose))


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
