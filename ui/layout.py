"""Shared page furniture: titles, key figures split by sex, charts with their table, empty states."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.vocabulary import SEX_LABELS
from metrics import Filters
from metrics.catalog import association_name, coverage, status
from render.files import as_percent, board_pack_file_name, neutralise_frame, to_csv_bytes
from render.format import FORMATTERS, fmt_count, fmt_date, fmt_int
from render.text import coverage_line, describe, md
from render.theme import apply_theme

from auth.roles import TABLE_DOWNLOADS

from . import access, protection
from .data import run
from .filters import notices

SEX_FORMATS = {"Kvinnor": "int", "Män": "int", "Annat/okänt": "int", "Totalt": "int"}

# Streamlit draws captions at 60 % opacity of the theme's text colour. The theme's #111111 (.streamlit/config.toml)
# makes that 5,0:1 on white from the first paint, before this CSS arrives (#1F1F1F gave 4,4:1, under WCAG AA's
# 4,5:1 for small text, until it did); solid #555555 is 7,5:1. Static CSS only: never data.
BASE_CSS = """<style>
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p { opacity: 1 !important; color: #555555 !important; }
</style>"""


def present() -> bool:
    return bool(st.session_state.get("_present"))


def filters_or_stop() -> Filters:
    """The sidebar's Filters; stops the page with a plain message when there is no data at all."""
    access.leave_pages_autodiscovery()
    f = st.session_state.get("_filters")
    if f is None:
        st.info("Databasen innehåller inga deltagare ännu. Läs in exporter på sidan Data (administratörer) eller med "
                "`python -m etl load FIL …` (se README) så visas siffrorna här.")
        st.stop()
    return f


def page_header(title: str, question: str, f: Filters, *, several_associations: bool = False,
                own_protection: bool = False) -> None:
    """Title, the question the page answers, the selection in words, and what a reader must know first.

    Under protection a page over several associations, or over a period that is not the year, its delår or a
    tertial, stops with a plain message (metrics.suppress: SeveralAssociations, OffGrid). A page that protects its
    own figures over associations (`several_associations`) stops only for such a period; a page with its own
    switch for protection (`own_protection`: the staff export) decides for itself.
    """
    st.title(title)
    covered = coverage_line(run(coverage), f)  # how far the data reach: the director must not read a stub year as a year
    st.caption(f"{question}  \n**Urval:** {md(describe(f))}" + (f"  \n{md(covered)}" if covered else ""))
    for text in notices():
        st.info(text, icon=":material/link:")
    if run(status)["source"] == "sample":
        st.warning("Exempeldata: siffrorna är genererade och fiktiva. Läs in förbundets exporter för riktiga siffror.",
                   icon=":material/science:")
    if protection.enabled():
        st.caption(protection.note())
        if own_protection:
            pass
        elif several_associations:
            protection.on_grid_or_stop(f)
        else:
            protection.one_association_or_stop(f)


def kpis(items: list[dict], columns: int | None = None) -> None:
    """A row of key figures as text: each a dict(label, value, by_sex=None, delta=None, help=None)."""
    cols = st.columns(columns or len(items))
    for col, item in zip(cols, items):
        with col:
            kpi(item["label"], item["value"], item.get("by_sex"), item.get("delta"),
                item.get("delta_color", "off"), item.get("help"))


def data_status() -> None:
    s = run(status)
    with st.sidebar:
        if s["source"] == "sample":
            st.warning("Exempeldata: genererade, fiktiva uppgifter.", icon=":material/science:")
        if s["last_load"]:
            st.caption(f"Data inläst {fmt_date(s['last_load'][:10])} kl. {s['last_load'][11:16]}")


def sex_line(row, fmt, sexes: tuple[str, ...] = ()) -> str:
    """'Kvinnor 12 · Män 9 · Annat/okänt 1' for a row with women/men/other; where the filters select sexes, those
    only (a "Män 0" under a selection of women read as a count of nobody)."""
    return " · ".join(f"{SEX_LABELS[k]} {fmt(row[k])}" for k in ("women", "men", "other") if not sexes or k in sexes)


def kpi(label: str, value: str, by_sex: str | None = None, delta: str | None = None,
        delta_color: str = "normal", help: str | None = None) -> None:
    st.metric(label, value, delta=delta, delta_color=delta_color, help=help, border=True)
    if by_sex:
        st.caption(by_sex)


def empty(message: str = "Det finns inga uppgifter för det här urvalet. Välj en annan period eller färre filter.") -> None:
    st.info(message, icon=":material/search_off:")


PAGE_ROWS = 25  # a longer table is searched and paged: 3 000 initiatives are no table to scroll


def table(df: pd.DataFrame, formats: dict[str, str] | None = None, *, key: str | None = None) -> None:
    """A sortable table: Swedish display strings over the raw numbers, so sorting stays numeric.

    Counts protection hides arrive as their codes (numeric, so the column still sorts) and print
    as `<5` or `..`. Beyond PAGE_ROWS rows, a search, an order and pages (`_paged`); the download
    holds every row.
    """
    formats = formats or {}
    whole = df
    if len(df) > PAGE_ROWS:
        df = _paged(df, key or "t_" + "_".join(map(str, df.columns))[:60])
    counts = [c for c, k in formats.items() if k == "int" and c in df.columns]
    fns = {c: FORMATTERS[k] for c, k in formats.items() if c in df.columns}
    fns |= {c: protection.fmt_count for c in counts}  # hidden counts hold their codes: printed as <5 or ..
    shown = neutralise_frame(df)  # text cells as the CSV has them: no live formula in what the browser can copy
    for c in shown.columns[shown.isna().any()]:
        # st.dataframe prints a missing cell as "None" whatever the format says: print these
        # columns as text ("–" for missing); the others stay numbers and sort as numbers
        fn = fns.pop(c, lambda x: x)
        shown[c] = ["–" if pd.isna(x) else fn(x) for x in shown[c]]
    st.dataframe(shown.style.format(fns, na_rep="–"), hide_index=True, width="stretch", key=key)
    if key and access.may(TABLE_DOWNLOADS):  # issue 11: table downloads are for handläggare and up
        t = protection.threshold()  # read now: the file is built when clicked, outside this run

        def csv() -> bytes:
            out = whole.copy()
            for c in counts:
                out[c] = [fmt_count(x, t) if protection.is_hidden(x) else x for x in out[c]]
            # shares as on screen: 30,8 under `… (%)`, not 0,308
            return to_csv_bytes(as_percent(out, [c for c, k in formats.items() if k == "pct"]))

        st.download_button("Ladda ned tabellen (CSV)", data=access.guarded(csv, TABLE_DOWNLOADS, key),  # issue 22
                           file_name=f"{key}.csv",
                           mime="text/csv", key=f"dl_{key}", on_click="ignore")


def dataframe(df: pd.DataFrame, *, display: Callable[[pd.DataFrame], pd.DataFrame] | None = None, **kwargs) -> None:
    """st.dataframe for every table outside `table`: its text cells neutralised like the exports' (issue 22).

    `display` turns the neutralised frame into display text (numbers formatted after the guard, so a negative
    number is not mistaken for a formula)."""
    shown = neutralise_frame(df)
    st.dataframe(display(shown) if display else shown, **kwargs)


def _paged(df: pd.DataFrame, key: str) -> pd.DataFrame:
    """The rows to show of a long table: those containing the search text (any text column, letter case
    ignored, taken literally), in the chosen order (the whole table's, not one page's), one page of them."""
    search, order, page = st.columns([3, 3, 1], vertical_alignment="bottom")
    query = search.text_input("Sök i tabellen", key=f"{key}_search", max_chars=100,
                              placeholder="Till exempel ett namn").strip()
    if query:
        hit = np.zeros(len(df), bool)
        for c in df.columns:
            if df[c].dtype == object or isinstance(df[c].dtype, pd.StringDtype):
                hit |= df[c].astype(str).str.contains(query, case=False, regex=False, na=False).to_numpy()
        df = df[hit]
    orders = [None, *((c, asc) for c in df.columns for asc in (False, True))]
    chosen = order.selectbox("Ordning", orders, key=f"{key}_order",
                             format_func=lambda o: "Som tabellen visar" if o is None
                             else f"{o[0]}, {'stigande' if o[1] else 'fallande'}")
    if chosen is not None and chosen[0] in df.columns:
        df = df.sort_values(chosen[0], ascending=chosen[1], kind="stable", na_position="last")
    pages = max(1, -(-len(df) // PAGE_ROWS))
    if not 1 <= st.session_state.get(f"{key}_page", 1) <= pages:
        st.session_state[f"{key}_page"] = 1  # a narrower search has fewer pages
    number = page.number_input("Sida", min_value=1, max_value=pages, step=1, key=f"{key}_page")
    first = (int(number) - 1) * PAGE_ROWS
    if df.empty:
        st.caption(f"Inga rader innehåller «{md(query)}».")
    else:
        found = f" som innehåller «{md(query)}»" if query else ""
        st.caption(f"Rad {fmt_int(first + 1)}–{fmt_int(min(first + PAGE_ROWS, len(df)))} av {fmt_int(len(df))}{found}, "
                   f"sida {fmt_int(number)} av {fmt_int(pages)}.")
    return df.iloc[first:first + PAGE_ROWS]


def chart(fig: go.Figure, data: pd.DataFrame | None, *, key: str, formats: dict[str, str] | None = None,
          caption: str | None = None) -> None:
    """A chart, and its data one click away as a table (with a CSV that Swedish Excel opens)."""
    st.plotly_chart(apply_theme(fig, present=present()), width="stretch", key=f"chart_{key}")
    if caption:
        st.caption(caption)
    if data is not None and not present():
        box = lazy_expander("Visa som tabell", f"{key}_table")
        if box:
            with box:
                table(data, formats, key=key)


def time_grain(grains: dict[str, str], key: str, help: str | None = None) -> str:
    """The series' time grain (label -> dimension) the reader chooses, or, where protection leaves one (tertials,
    which nest in every period of the year's grid), a line saying which: a choice of one option read as broken."""
    if st.session_state.get(key) not in grains:  # a grain chosen before protection was switched on
        st.session_state.pop(key, None)
    if len(grains) == 1:
        (only,) = grains
        st.caption(f"Tidsindelning: {only.lower()}" + (" (med skydd för små tal visas serier per tertial)"
                                                       if protection.enabled() else ""), help=help)
        return only
    return st.radio("Tidsindelning", list(grains), horizontal=True, key=key, help=help)


def lazy_expander(label: str, key: str, **kwargs):
    """An expander built only when opened (Streamlit's lazy expander: a click reruns the page), or None while it
    is closed: a closed one costs neither the server nor the browser. Its key is `key` + "_open", which
    tests/conftest.open_tables looks for."""
    box = st.expander(label, key=f"{key}_open", on_change="rerun", **kwargs)
    return box if box.open else None


def rename_sex(df: pd.DataFrame) -> pd.DataFrame:
    """Swedish headers for the women/men/other/total columns every people-table has."""
    return df.rename(columns=SEX_LABELS)


def board_pack_button(f: Filters | None) -> None:
    """The board pack for the current filters, built only when clicked (small counts always protected)."""
    if f is None:
        return
    from .data import cursor

    threshold = protection.threshold()  # read now: the file is built outside this run, where the session is gone
    if protection.several(f):  # its counts are always protected, one association at a time
        with st.sidebar:
            st.caption("Styrelseunderlaget görs för ett förbund i taget: välj ett förbund ovan.")
        return
    if (why := protection.refusal(f)) is not None:  # and for the periods of the year's grid only
        with st.sidebar:
            st.caption("Styrelseunderlaget görs för styrelsens perioder: helår, delår eller tertial."
                       if protection.span_of(f) is None else why)
        return

    def build() -> bytes:
        from render.deck import build_board_pack  # python-pptx only when the pack is asked for (a first visit's time)

        cur = cursor()
        try:
            return build_board_pack(cur, f, association=association_name(cur, f.associations), threshold=threshold)
        finally:
            cur.close()

    with st.sidebar:
        st.download_button("Styrelseunderlag (PowerPoint)", data=build, file_name=board_pack_file_name(f),
                           mime="application/vnd.openxmlformats-officedocument.presentationml.presentation",
                           icon=":material/co_present:", on_click="ignore", width="stretch",
                           help="Titelbild, nyckeltal per kön och en bild per fråga, med redigerbara diagram. "
                                "Små tal skyddas alltid.")

