"""The filters in words: for page subtitles, exports, the presentation and the board pack."""
from __future__ import annotations

from core.vocabulary import SEX_LABELS, SEXES
from metrics import Filters

from .format import fmt_date

SEX_OPTIONS = {s: SEX_LABELS[s] for s in SEXES}  # the sexes a reader can filter on


def period_label(f: Filters) -> str:
    return str(f.start.year) if f.is_calendar_year else f"{fmt_date(f.start)} – {fmt_date(f.end)}"


def describe(f: Filters) -> str:
    parts = [period_label(f), ", ".join(f.initiatives) if f.initiatives else "alla insatser"]
    if f.agencies:
        parts.append("remittent: " + ", ".join(f.agencies))
    if f.sexes:
        parts.append("kön: " + ", ".join(SEX_OPTIONS[s].lower() for s in f.sexes))
    return " · ".join(parts)
