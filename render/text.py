"""Words for people: the filters in Swedish, and names from files made safe for Markdown and charts.

Names of initiatives, referring units and notes come from files other people typed. Streamlit
renders Markdown (`**bold**`, links, `:red[…]`) in captions and Plotly renders a subset of HTML
(`<b>`, `<a href>`) in every text of a chart: both are escaped here before any name reaches them.
"""
from __future__ import annotations

import html
import re

from core.vocabulary import SEX_LABELS, SEXES
from metrics import Filters

from .format import fmt_date, fmt_date_long

SEX_OPTIONS = {s: SEX_LABELS[s] for s in SEXES}  # the sexes a reader can filter on

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~:<$&])")


ZWSP = "\u200b"  # breaks what Markdown would turn into a link by itself (an address, "www.", an e-mail)


def md(text: object) -> str:
    """A name shown literally inside Markdown: every character Markdown or Streamlit would act on is escaped,
    and addresses are broken with an invisible space, since GitHub-style Markdown links them even when escaped."""
    s = re.sub(r"[\x00-\x1f\x7f]", " ", str(text))
    s = re.sub(r"(?i)(://|www\.|@)", lambda m: ZWSP + m[1][0] + ZWSP + m[1][1:], s)
    return _MD_SPECIAL.sub(r"\\\1", s)


def chart_text(text: object) -> str:
    """A name shown literally in a Plotly chart: its HTML subset (<b>, <a href>, &entities;) is escaped."""
    return html.escape(re.sub(r"[\x00-\x1f\x7f]", " ", str(text)), quote=False)


def period_label(f: Filters) -> str:
    """The period as a sentence names it: '2025', 'tertial 2 2025', 'delår jan–aug 2025' or two dates."""
    if f.is_calendar_year:
        return str(f.start.year)
    if f.tertial_number:
        return f"tertial {f.tertial_number} {f.start.year}"
    if f.is_interim:
        return f"delår jan–aug {f.start.year}"
    return f"{fmt_date(f.start)} – {fmt_date(f.end)}"


def coverage_line(cov: dict, f: Filters | None = None) -> str | None:
    """'Data t.o.m. 30 mars 2022', and what of the chosen period `f` the data do not reach (metrics.catalog.coverage)."""
    if cov.get("last") is None:
        return None
    text = f"Data t.o.m. {fmt_date_long(cov['last'])}"
    if f is not None and f.end > cov["last"] >= f.start:
        text += f": {period_label(f)} är inte avslutat i uppgifterna, så siffrorna gäller bara fram till dess"
    elif f is not None and cov.get("first") is not None and f.start < cov["first"] <= f.end:
        text += (f"; uppgifterna börjar {fmt_date_long(cov['first'])}, så {period_label(f)} täcks bara delvis "
                 "(de som avslutades före dess saknas)")
    return text + "."


def period_title(f: Filters) -> str:
    """The period as the board's reports title it: 'Helår 2025', 'Tertial 2 2025', 'Delår (jan–aug) 2025'."""
    if f.is_calendar_year:
        return f"Helår {f.start.year}"
    if f.tertial_number:
        return f"Tertial {f.tertial_number} {f.start.year}"
    if f.is_interim:
        return f"Delår (jan–aug) {f.start.year}"
    return period_label(f)


def describe(f: Filters) -> str:
    """The selection in words, as plain text (escape with `md` before putting it in Markdown)."""
    parts = [period_label(f), ", ".join(f.initiatives) if f.initiatives else "alla insatser"]
    if f.agencies:
        parts.append("remittent: " + ", ".join(f.agencies))
    if f.sexes:
        parts.append("kön: " + ", ".join(SEX_OPTIONS[s].lower() for s in f.sexes))
    if f.associations:
        parts.insert(1, ", ".join(f.associations))
    return " · ".join(parts)
