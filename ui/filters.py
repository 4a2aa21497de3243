"""The sidebar filters, mirrored in the URL so a shared link opens exactly the same view.

URL keys: `year` (helår), `tertial` (`2025-2`), `delar` (`2025`: January–August), or `from` and
`to` (YYYY-MM-DD); `association`, `initiative`, `agency`, `sex` (repeatable; sex is
women/men/other). Defaults are left out of the link.
"""
from __future__ import annotations

import datetime as dt

import streamlit as st

from core.vocabulary import AGENCY_ORDER
from metrics import Filters
from metrics.catalog import associations as list_associations
from metrics.catalog import initiative_owners
from metrics.catalog import initiatives as list_initiatives
from metrics.catalog import default_year as find_default_year
from metrics.catalog import years as list_years
from render.format import fmt_int
from render.text import SEX_OPTIONS, md

from . import access
from .data import run

AGENCY_OPTIONS = list(AGENCY_ORDER)
MODE_YEAR, MODE_TERTIAL, MODE_INTERIM, MODE_RANGE = "Helår", "Tertial", "Delår", "Eget intervall"
MODES = [MODE_YEAR, MODE_TERTIAL, MODE_INTERIM, MODE_RANGE]
TERTIALS = {1: "Tertial 1 (jan–apr)", 2: "Tertial 2 (maj–aug)", 3: "Tertial 3 (sep–dec)"}


def _parse_date(s: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(s) if s else None
    except ValueError:
        return None


def _notice(text: str) -> None:
    st.session_state.setdefault("_url_notices", []).append(text)


def _init_from_url(years: list[int], names: list[str], default_year: int) -> None:
    """Fill the widgets' state from the URL once per session; later the widgets lead.

    Whatever a link holds, the app opens: a value it cannot use is left out with a notice.
    """
    if st.session_state.get("_filters_ready"):
        return
    qp = st.query_params
    first, last = dt.date(min(years), 1, 1), dt.date(max(years), 12, 31)
    year = qp.get("year")
    raw_from, raw_to = qp.get("from"), qp.get("to")
    start, end = _parse_date(raw_from), _parse_date(raw_to)
    st.session_state.f_mode = MODE_YEAR
    if raw_from or raw_to:
        if not (start and end) or start > end:
            _notice("Perioden i länken kunde inte läsas (från och till ska vara datum ÅÅÅÅ-MM-DD, från före till); "
                    f"visar {default_year}.")
        else:
            clamped = (max(start, first), min(end, last))
            if clamped[0] > clamped[1]:
                _notice(f"Perioden i länken ligger utanför uppgifterna ({first.isoformat()} – {last.isoformat()}); "
                        f"visar {default_year}.")
            else:
                if clamped != (start, end):
                    _notice(f"Perioden i länken har kortats till uppgifternas {clamped[0].isoformat()} – "
                            f"{clamped[1].isoformat()}.")
                st.session_state.f_mode = MODE_RANGE
                st.session_state.f_range = clamped
    chosen = int(year) if year and year.isascii() and year.isdigit() and int(year) in years else None
    if year and chosen is None:
        _notice(f"Året i länken finns inte bland uppgifterna; visar {default_year}.")
    tertial, interim = qp.get("tertial"), qp.get("delar")
    if tertial:
        y, _, n = tertial.partition("-")
        if y.isascii() and y.isdigit() and int(y) in years and n in ("1", "2", "3"):
            st.session_state.f_mode, chosen = MODE_TERTIAL, int(y)
            st.session_state.f_tertial = int(n)
        else:
            _notice(f"Tertialen i länken ({tertial[:12]}) kunde inte läsas; skriv t.ex. tertial=2025-2. Visar {default_year}.")
    elif interim:
        if interim.isascii() and interim.isdigit() and int(interim) in years:
            st.session_state.f_mode, chosen = MODE_INTERIM, int(interim)
        else:
            _notice(f"Delåret i länken finns inte bland uppgifterna; visar {default_year}.")
    st.session_state.f_year = chosen or default_year
    st.session_state.setdefault("f_tertial", 1)
    associations = run(list_associations)
    st.session_state.f_associations = [a for a in qp.get_all("association") if a in associations]
    if len(st.session_state.f_associations) < len(qp.get_all("association")):
        _notice("Ett förbund i länken finns inte bland uppgifterna och har tagits bort ur urvalet.")
    st.session_state.setdefault("f_range", (dt.date(default_year, 1, 1), dt.date(default_year, 12, 31)))
    st.session_state.f_initiatives = [n for n in qp.get_all("initiative") if n in names]
    if len(st.session_state.f_initiatives) < len(qp.get_all("initiative")):
        _notice("En insats i länken finns inte bland uppgifterna och har tagits bort ur urvalet.")
    agencies = {a.casefold(): a for a in AGENCY_OPTIONS}
    st.session_state.f_agencies = [agencies[a.casefold()] for a in qp.get_all("agency") if a.casefold() in agencies]
    if len(st.session_state.f_agencies) < len(qp.get_all("agency")):
        _notice("En remittent i länken kunde inte läsas och har tagits bort ur urvalet; skriv till exempel "
                "agency=Försäkringskassan.")
    # the keys (sex=women) and the labels a person would write (sex=Kvinnor), letter case ignored
    sexes = {k.casefold(): k for k in SEX_OPTIONS} | {label.casefold(): k for k, label in SEX_OPTIONS.items()}
    st.session_state.f_sexes = list(dict.fromkeys(sexes[s.casefold()] for s in qp.get_all("sex")
                                                  if s.casefold() in sexes))
    if any(s.casefold() not in sexes for s in qp.get_all("sex")):
        _notice("Ett kön i länken kunde inte läsas och har tagits bort ur urvalet; skriv sex=women, men eller other.")
    st.session_state._filters_ready = True


SIDEBAR_KEYS = ("f_mode", "f_range", "f_year", "f_tertial", "f_associations", "f_initiative_query", "f_initiatives",
                "f_agencies", "f_sexes", "suppress", "suppress_threshold")


def _send_values_again() -> None:
    """Give each sidebar widget its value from the script on every run, so the browser shows what the page uses.

    After a page switch the browser may have dropped what it knew of the sidebar's widgets and then draws their
    defaults: with 20 sessions on one server, every switch showed År 2025 above a page for 2021, and choosing
    2025 then did nothing (seen by bench/national.py). A value set by the script is sent with the widget.
    """
    for key in SIDEBAR_KEYS:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def sidebar() -> Filters | None:
    """Draw the filters; return the chosen Filters, or None when the database holds no people."""
    years = run(list_years)
    names = run(list_initiatives)
    default_year = run(find_default_year, dt.date.today().year)
    if default_year is None or not years:
        return None
    _init_from_url(years, names, default_year)
    first, last = dt.date(min(years), 1, 1), dt.date(max(years), 12, 31)
    rng = st.session_state.get("f_range")
    if not (isinstance(rng, (tuple, list)) and len(rng) == 2 and first <= rng[0] <= rng[1] <= last):
        st.session_state.f_range = (max(first, min(last, dt.date(default_year, 1, 1))),
                                    max(first, min(last, dt.date(default_year, 12, 31))))
    if st.session_state.get("f_year") not in years:
        st.session_state.f_year = default_year
    if st.session_state.get("f_mode") not in MODES:
        st.session_state.f_mode = MODE_YEAR
    associations = run(list_associations)
    _send_values_again()
    with st.sidebar:
        st.header("Urval")
        st.selectbox("Period", MODES, key="f_mode",
                     help="Styrelsens perioder: helår, tertial (jan–apr, maj–aug, sep–dec) och delår (jan–aug).")
        if st.session_state.f_mode == MODE_RANGE:
            st.date_input("Från–till", key="f_range", format="YYYY-MM-DD", min_value=first, max_value=last)
        else:
            cols = st.columns(2) if st.session_state.f_mode == MODE_TERTIAL else [st.container()]
            cols[0].selectbox("År", years, key="f_year")
            if st.session_state.f_mode == MODE_TERTIAL:
                cols[1].selectbox("Tertial", list(TERTIALS), key="f_tertial", format_func=lambda n: f"T{n}",
                                  help="; ".join(TERTIALS.values()))
        if len(associations) > 1:  # a database of several associations: a region or the national network
            st.multiselect("Förbund", associations, key="f_associations", placeholder="Alla förbund")
        initiative_picker(names)
        st.multiselect("Remittent (myndighet)", AGENCY_OPTIONS, key="f_agencies", placeholder="Alla")
        st.multiselect("Kön", list(SEX_OPTIONS), key="f_sexes", format_func=SEX_OPTIONS.get, placeholder="Alla")
        settings()
    f = current(default_year)
    _write_url(f)
    return f


MANY = 30  # beyond this many initiatives, a search adds one at a time
SHOWN = 50  # matches offered at once: a browser has no use for a list of 3 000 options on every page


def _add_initiative() -> None:
    name = st.session_state.pop("f_initiative_add", None)
    if name and name not in st.session_state.f_initiatives:
        st.session_state.f_initiatives = [*st.session_state.f_initiatives, name]


def initiative_labels() -> dict[str, str]:
    """Initiative -> 'Insats 17-3 · Förbund 17' where the data names several associations, so a name says whose
    it is; empty otherwise. Asked once per run: a picker formats thousands of options."""
    owners = run(initiative_owners) if len(run(list_associations)) > 1 else {}
    return {name: f"{name} · {owner}" for name, owner in owners.items()}


def initiative_matches(query: str, names: list[str], labels: dict[str, str],
                       chosen: list[str] = ()) -> tuple[list[str], list[str]]:
    """(exact, matches) for a search: the names whose name or label is the text itself, letter case and
    surrounding spaces ignored, and those whose label contains it, in name order, leaving out the chosen."""
    q = query.strip().casefold()
    if not q:
        return [], []
    taken = set(chosen)
    hits = [n for n in names if n not in taken and q in labels.get(n, n).casefold()]
    exact = [n for n in hits if q in (n.casefold(), labels.get(n, n).casefold())]
    return exact, hits


def _search_initiative(names: list[str], labels: dict[str, str]) -> None:
    """Enter in the search: the initiative the text names — its exact name, or the only match — is added at once."""
    exact, hits = initiative_matches(st.session_state.get("f_initiative_query", ""), names, labels,
                                     st.session_state.f_initiatives)
    one = exact if len(exact) == 1 else hits if len(hits) == 1 else []
    if one:
        st.session_state.f_initiatives = [*st.session_state.f_initiatives, one[0]]
        st.session_state.f_initiative_query = ""


def initiative_picker(names: list[str]) -> None:
    """Initiatives to narrow to. With many (a region, the national network), a search field, then a list of at
    most SHOWN matches to choose from: Streamlit's multiselect adds every match on Enter ("Insats 17-3" would also
    add 17-30 … 17-39), and a list of every initiative goes to the browser on every page (150 kB for 3 000)."""
    labels = initiative_labels()
    label = lambda name: labels.get(name, name)  # noqa: E731
    if len(names) <= MANY:
        st.multiselect("Insatser", names, key="f_initiatives", placeholder="Alla insatser", filter_mode="contains",
                       format_func=label)
        return
    query = st.text_input("Lägg till insats", key="f_initiative_query", placeholder=f"Sök bland {fmt_int(len(names))} insatser",
                          on_change=_search_initiative, args=(names, labels), max_chars=200,
                          help="Skriv en del av namnet (eller förbundet) och tryck Enter. Ett namn som stämmer "
                               "läggs till direkt; annars väljer du bland träffarna.")
    _, hits = initiative_matches(query, names, labels, st.session_state.f_initiatives)
    if query.strip() and not hits:
        st.caption(f"Ingen insats innehåller «{md(query.strip())}».")
    elif hits:
        st.selectbox("Träffar", hits[:SHOWN], index=None, key="f_initiative_add", on_change=_add_initiative,
                     format_func=label, label_visibility="collapsed",
                     placeholder=f"Välj bland {fmt_int(len(hits))} träffar" if len(hits) <= SHOWN
                     else f"Välj bland de {SHOWN} första av {fmt_int(len(hits))} träffar; skriv mer för färre")
    st.multiselect("Insatser", list(dict.fromkeys([*st.session_state.f_initiatives])), key="f_initiatives",
                   placeholder="Alla insatser", help="Ta bort en insats med krysset.", format_func=label)


def notices() -> list[str]:
    """What the link held that could not be used, said once."""
    return st.session_state.pop("_url_notices", [])


def _start_presenting() -> None:
    st.query_params["present"] = "1"


def settings() -> None:
    """Display settings: small-count protection and the way into presentation mode."""
    locked = access.protection_forced()  # issue 11: läsare cannot switch protection off (enforced in ui/protection.py)
    with st.expander("Visning och skydd", expanded=False):
        st.toggle("Skydda små tal", key="suppress", disabled=locked,
                  help="Antal under gränsen visas som <5, och tal som annars skulle avslöja dem som .. . Alltid på i "
                       "presentationsläget och i styrelseunderlaget, förvalt i sammanställda exporter."
                       + (" Alltid på för rollen läsare." if locked else ""))
        st.number_input("Gräns för små tal", min_value=3, max_value=50, step=1, key="suppress_threshold",
                        disabled=locked, help="Antal under gränsen döljs (standard 5).")
    st.button("Presentationsläge", icon=":material/slideshow:", on_click=_start_presenting, width="stretch",
              help="Helskärmsvy för styrelsemöten: ett ämne per bild, stor text, piltangenter för att bläddra.")


def current(default_year: int) -> Filters:
    ss = st.session_state
    mode = ss.get("f_mode")
    y = ss.get("f_year", default_year)
    if mode == MODE_RANGE and isinstance(ss.get("f_range"), (tuple, list)) and len(ss.f_range) == 2:
        period = Filters(*ss.f_range)
    elif mode == MODE_TERTIAL:
        period = Filters.tertial(y, int(ss.get("f_tertial", 1)))
    elif mode == MODE_INTERIM:
        period = Filters.interim(y)
    else:
        period = Filters.year(y)
    return period.with_(
        initiatives=tuple(sorted(ss.get("f_initiatives", []))),
        agencies=tuple(ss.get("f_agencies", [])),
        sexes=tuple(s for s in SEX_OPTIONS if s in ss.get("f_sexes", [])),
        associations=tuple(sorted(ss.get("f_associations", []))),
    )


def _write_url(f: Filters) -> None:
    params: dict[str, object] = {}
    if f.is_calendar_year:
        params["year"] = str(f.start.year)
    elif f.tertial_number:
        params["tertial"] = f"{f.start.year}-{f.tertial_number}"
    elif f.is_interim:
        params["delar"] = str(f.start.year)
    else:
        params["from"], params["to"] = f.start.isoformat(), f.end.isoformat()
    if f.associations:
        params["association"] = list(f.associations)
    if f.initiatives:
        params["initiative"] = list(f.initiatives)
    if f.agencies:
        params["agency"] = list(f.agencies)
    if f.sexes:
        params["sex"] = list(f.sexes)
    if st.session_state.get("suppress") and "present" not in st.query_params:
        params["suppress"] = "1"  # a shared link keeps small counts protected
    for key in ("present", "slide"):  # keys owned by other parts of the app survive
        if key in st.query_params:
            params[key] = st.query_params[key]
    current = {k: st.query_params.get_all(k) for k in st.query_params}
    wanted = {k: v if isinstance(v, list) else [v] for k, v in params.items()}
    if current != wanted:
        st.query_params.from_dict(params)
