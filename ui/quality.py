"""Data quality on /data: each check with its count, and the rows behind it for roles that may see rows.

The queries are metrics/quality.py's (SQL over DuckDB), cached per data version like every page's.
"""
from __future__ import annotations

import datetime as dt

import streamlit as st

from auth.roles import INDIVIDUAL_ROWS
from metrics.quality import CHECKS, DEFAULT_MAX_YEARS, rows, summary
from render.changes import quality_rows
from render.format import fmt_int

from . import access
from .data import run
from .layout import dataframe, lazy_expander

SHOWN_ROWS = 500  # rows behind a check shown at once: the page went to the browser as 13 MB at national scale


def section() -> None:
    st.caption("Det som behöver en titt innan siffrorna går vidare. Räknat på hela databasen; öppna en rad för att "
               "se vad som ligger bakom.")
    max_years = int(st.number_input("Långa inskrivningar: längre än så här många år", min_value=1, max_value=50,
                                    value=DEFAULT_MAX_YEARS, step=1, key="quality_max_years"))
    as_of = dt.date.today()
    found = run(summary, as_of=as_of, max_years=max_years)
    may_see_rows = access.may(INDIVIDUAL_ROWS)
    for check, r in zip(CHECKS, found.to_dict("records")):
        n = int(r["count"])
        label = f"{check.label}: {check.counted(fmt_int(n))}"
        box = lazy_expander(label, f"quality_{check.key}",
                            icon=":material/check_circle:" if n == 0 else ":material/error:")
        if not box:
            continue
        with box:
            st.caption(check.explanation)
            if n == 0:
                st.write("Inget att åtgärda.")
            elif check.individual and not may_see_rows:
                st.info("Raderna bakom visas för roller som får se deltagarrader.")
            else:
                detail = run(rows, check.key, as_of=as_of, max_years=max_years, limit=SHOWN_ROWS)
                if n > len(detail):
                    st.caption(f"Visar de {fmt_int(len(detail))} första av {fmt_int(n)}.")
                dataframe(quality_rows(detail), hide_index=True, width="stretch", key=f"quality_{check.key}")
