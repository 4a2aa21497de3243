"""Rules across cells, rows and files. Every problem is collected (never stop at the first) so staff
can fix a file in one go; a participants table then goes on to etl.derive.

Across the files of one call: a file is a snapshot that replaces what it covers (etl.load), so
the same initiative (participants), initiative and year (budget, anonymous counts) or register
entry may come from one file only. Two files covering it would either count it twice or let one
silently overwrite the other; the call is refused, naming both places. Within one file (over its
sheets) the same enrollment, budget line or count twice is an error for the same reason.
"""
from __future__ import annotations

from collections import defaultdict

from .derive import derive_participants
from .normalise import ParsedTable, fold
from .privacy import contains_personnummer
from .problems import ERROR, WARNING, Problem

CONFLICTS_SHOWN = 5  # per pair of files and kind; the rest are counted


def looks_like_personnummer(value: str | None) -> bool:
    """Anything shaped like a personnummer or samordningsnummer (see etl.privacy)."""
    return bool(value) and contains_personnummer(value)


def validate(tables: list[ParsedTable], known_initiatives: set[str], skipped: set[int] = frozenset()) -> list[Problem]:
    """Row, file and cross-file rules; `known_initiatives` are folded names already in the database.

    `skipped`: the sources (files) that will not be written (already loaded), left out of the
    cross-file rule.
    """
    problems: list[Problem] = []
    known = set(known_initiatives)
    for t in tables:
        if t.kind in {"participants", "anonymous", "initiatives"}:
            known |= {fold(r["initiative"]) for r in t.records if r.get("initiative")}
    seen: dict[str, dict] = defaultdict(dict)  # per kind: key -> (table, row), over the tables of one file
    for t in tables:
        if t.kind == "participants":
            _participants(t, seen["participants"])
        elif t.kind == "anonymous":
            _anonymous(t, seen["anonymous"])
        elif t.kind == "budget":
            _budget(t, known, seen["budget"])
        elif t.kind == "initiatives":
            _register(t, seen["initiatives"])
    _totals_beside_categories([t for t in tables if t.kind == "budget"])
    _snapshots([t for t in tables if t.source not in skipped])
    for t in tables:
        problems.extend(t.problems)
    return problems


def _col(t: ParsedTable, fld: str, fallback: str) -> str:
    return t.columns[fld].header if fld in t.columns else fallback


def _required_values(t: ParsedTable, fields: dict[str, str]) -> None:
    for r in t.records:
        for fld, name in fields.items():
            if fld in t.columns and r.get(fld) is None and fld not in r.get("_bad", ()):
                t.problem(ERROR, r["_row"], _col(t, fld, name), None, f"värde saknas i obligatorisk kolumn {name}")


def _where(t: ParsedTable, first: tuple[ParsedTable, int]) -> str:
    """Row N, or sheet X, row N when the first occurrence is on another sheet of the file."""
    other, row = first
    return f"rad {row}" if other is t else f"blad {other.sheet}, rad {row}"


def _duplicate(t: ParsedTable, seen: dict, key: tuple, r: dict, column: str, value: object, what: str) -> None:
    key = (t.source, *key)
    if key in seen:
        t.problem(ERROR, r["_row"], column, value, f"{what} finns redan på {_where(t, seen[key])}")
    else:
        seen[key] = (t, r["_row"])


def _participants(t: ParsedTable, seen: dict) -> None:
    _required_values(t, {"participant_id": "Deltagar-ID", "initiative": "Insats", "start_date": "Startdatum"})
    for r in t.records:
        start, end, bad = r.get("start_date"), r.get("end_date"), r.get("_bad", ())
        if start and end and end < start:
            t.problem(ERROR, r["_row"], _col(t, "end_date", "Slutdatum"), end.isoformat(),
                      f"slutdatum ligger före startdatum ({start.isoformat()})")
        if r.get("exit_reason") is not None and end is None and "end_date" not in bad:
            t.problem(ERROR, r["_row"], _col(t, "exit_reason", "Avslutsorsak"), str(r["exit_reason"]),
                      "avslutsorsak utan slutdatum; fyll i slutdatum, eller ta bort avslutsorsaken om deltagaren "
                      "fortfarande är inskriven")
        if start and r.get("birth_year") and r["birth_year"] > start.year:
            t.problem(ERROR, r["_row"], _col(t, "birth_year", "Födelseår"), str(r["birth_year"]),
                      f"födelseåret ligger efter startdatumet ({start.isoformat()})")
        if r.get("participant_id") and r.get("initiative") and start:
            key = (fold(r.get("association") or ""), r["participant_id"], fold(r["initiative"]), start)
            _duplicate(t, seen, key, r, _col(t, "participant_id", "Deltagar-ID"), r["participant_id"],
                       "samma deltagare, insats och startdatum")
    derive_participants(t)


def _anonymous(t: ParsedTable, seen: dict) -> None:
    _required_values(t, {"initiative": "Insats", "year": "År", "women": "Kvinnor", "men": "Män"})
    for r in t.records:
        if r.get("initiative") and r.get("year"):
            key = (fold(r.get("association") or ""), fold(r["initiative"]), r["year"])
            _duplicate(t, seen, key, r, _col(t, "initiative", "Insats"), r["initiative"],
                       "samma insats och år (anonyma deltagare räknas annars två gånger)")


def _budget(t: ParsedTable, known: set[str], seen: dict) -> None:
    _required_values(t, {"initiative": "Insats", "year": "År"})
    unknown: dict[str, int] = {}
    for r in t.records:
        if r.get("budget") is None and r.get("actual") is None and not ({"budget", "actual"} & r.get("_bad", set())):
            t.problem(WARNING, r["_row"], _col(t, "budget", "Budget"), None,
                      "raden har varken budget eller utfall och hoppas över")
            r["_skip"] = True
        name = r.get("initiative")
        if name and fold(name) not in known and fold(name) not in unknown:
            unknown[fold(name)] = r["_row"]
            t.problem(WARNING, r["_row"], _col(t, "initiative", "Insats"), name,
                      "budgetraden gäller en insats som inte finns bland deltagare eller i insatsregistret; "
                      "kontrollera stavningen")
        if name and r.get("year") and not r.get("_skip"):
            key = (fold(name), r["year"], fold(r.get("category") or "Totalt"), fold(r.get("funder") or "Förbundet"))
            _duplicate(t, seen, key, r, _col(t, "initiative", "Insats"), name,
                       "samma budgetrad (insats, år, kostnadsslag och finansiär), som annars skulle räknas två gånger,")


def _totals_beside_categories(tables: list[ParsedTable]) -> None:
    """A `Totalt` line next to other categories of the same initiative, year and funder is a sum: it would double."""
    groups: dict[tuple, list[tuple[ParsedTable, dict]]] = defaultdict(list)
    for t in tables:
        for r in t.records:
            if r.get("initiative") and r.get("year") and not r.get("_skip"):
                groups[(t.source, fold(r["initiative"]), r["year"], fold(r.get("funder") or "Förbundet"))].append((t, r))
    for lines in groups.values():
        totals = [(t, r) for t, r in lines if fold(r.get("category") or "Totalt") == "totalt"]
        if totals and len(totals) < len(lines):
            for t, r in totals:
                t.problem(ERROR, r["_row"], _col(t, "category", "Kostnadsslag"), r.get("category") or "Totalt",
                          "raden med kostnadsslag Totalt står bredvid rader med andra kostnadsslag för samma insats, "
                          "år och finansiär, så summan skulle räknas två gånger; ta bort Totalt-raden eller de andra")


def _register(t: ParsedTable, seen: dict) -> None:
    _required_values(t, {"initiative": "Insats"})
    for r in t.records:
        name = r.get("initiative")
        if name:
            _duplicate(t, seen, (fold(name),), r, _col(t, "initiative", "Insats"), name,
                       "insatsen (i registret)")
        s, e = r.get("start_date"), r.get("end_date")
        if s and e and e < s:
            t.problem(ERROR, r["_row"], _col(t, "end_date", "Slutdatum"), e.isoformat(),
                      f"slutdatum ligger före startdatum ({s.isoformat()})")


def _unit(kind: str, r: dict) -> tuple | None:
    """What one file's rows replace in the database (etl.load): the unit two files of a call may not share."""
    name = r.get("initiative")
    if not name:
        return None
    if kind == "participants":
        return fold(r.get("association") or ""), fold(name)
    if kind == "anonymous":
        return (fold(r.get("association") or ""), fold(name), r["year"]) if r.get("year") else None
    if kind == "budget":
        return (fold(name), r["year"]) if r.get("year") and not r.get("_skip") else None
    return (fold(name),)


_SNAPSHOT_TEXT = {
    "participants": ("deltagare i insatsen «{name}»", "En deltagarexport ersätter allt som finns för insatsen"),
    "anonymous": ("anonyma deltagare för «{name}» {year}", "En fil med anonyma deltagare ersätter insatsens tidigare "
                                                           "antal för året"),
    "budget": ("budget för «{name}» {year}", "En budgetfil ersätter insatsens tidigare budgetrader för året"),
    "initiatives": ("insatsen «{name}» i insatsregistret", "Ett insatsregister ersätter insatsens tidigare uppgifter"),
}


def _snapshots(tables: list[ParsedTable]) -> None:
    first: dict[tuple, tuple[ParsedTable, dict]] = {}
    clashes: dict[tuple, list[tuple[dict, ParsedTable, dict]]] = defaultdict(list)
    for t in tables:
        mine: set[tuple] = set()
        for r in t.records:
            unit = _unit(t.kind, r)  # type: ignore[arg-type]
            if unit is None:
                continue
            key = (t.kind, unit)
            if key not in first:
                first[key] = (t, r)
            elif first[key][0].source != t.source and key not in mine:
                other_t, other_r = first[key]
                clashes[(id(t), id(other_t))].append((r, other_t, other_r))
            mine.add(key)
    by_id = {id(t): t for t in tables}
    for (tid, _), items in clashes.items():
        t = by_id[tid]
        what, why = _SNAPSHOT_TEXT[t.kind]  # type: ignore[index]
        for r, other_t, other_r in items[:CONFLICTS_SHOWN]:
            name = what.format(name=r["initiative"], year=r.get("year"))
            t.problem(ERROR, r["_row"], _col(t, "initiative", "Insats"), r["initiative"],
                      f"{name} finns också i {other_t.place}, rad {other_r['_row']}. {why}, så två filer med samma "
                      "uppgifter kan inte läsas in samtidigt (den ena skulle räknas dubbelt eller skriva över den "
                      "andra). Är den ena en nyare export: läs in filerna en i taget, den äldre först (den senare "
                      "ersätter den tidigare). Är de delar av samma export: slå ihop dem till en fil")
        if len(items) > CONFLICTS_SHOWN:
            r = items[CONFLICTS_SHOWN][0]
            t.problem(ERROR, r["_row"], _col(t, "initiative", "Insats"), None,
                      f"ytterligare {len(items) - CONFLICTS_SHOWN} sådana krockar med {items[0][1].place}")
