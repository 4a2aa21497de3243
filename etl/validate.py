"""Rules across cells, rows and files. Every problem is collected (never stop at the first) so staff
can fix a file in one go; a participants table then goes on to etl.derive.
"""
from __future__ import annotations

import re

from .derive import derive_participants
from .normalise import ParsedTable
from .problems import ERROR, WARNING, Problem

_PNR = re.compile(r"^(?:(?:19|20)(\d{2})|(\d{2}))(\d{2})(\d{2})[-+]?(\d{4})$")


def looks_like_personnummer(value: str | None) -> bool:
    """YYMMDD-NNNN or YYYYMMDDNNNN with a real month and day (samordningsnummer: day + 60)."""
    if not value:
        return False
    m = _PNR.match(value.strip().replace(" ", ""))
    if not m:
        return False
    month, day = int(m[3]), int(m[4])
    return 1 <= month <= 12 and (1 <= day <= 31 or 61 <= day <= 91)


def validate(tables: list[ParsedTable], known_initiatives: set[str]) -> list[Problem]:
    """Row and file rules; `known_initiatives` are casefolded names already in the database."""
    problems: list[Problem] = []
    known = set(known_initiatives)
    for t in tables:
        if t.kind in {"participants", "anonymous", "initiatives"}:
            known |= {r["initiative"].casefold() for r in t.records if r.get("initiative")}
    for t in tables:
        if t.kind == "participants":
            _participants(t)
        elif t.kind == "anonymous":
            _required_values(t, {"initiative": "Insats", "year": "År", "women": "Kvinnor", "men": "Män"})
        elif t.kind == "budget":
            _budget(t, known)
        elif t.kind == "initiatives":
            _register(t)
        problems.extend(t.problems)
    return problems


def _col(t: ParsedTable, fld: str, fallback: str) -> str:
    return t.columns[fld].header if fld in t.columns else fallback


def _required_values(t: ParsedTable, fields: dict[str, str]) -> None:
    for r in t.records:
        for fld, name in fields.items():
            if fld in t.columns and r.get(fld) is None and fld not in r.get("_bad", ()):
                t.problem(ERROR, r["_row"], _col(t, fld, name), None, f"värde saknas i obligatorisk kolumn {name}")


def _participants(t: ParsedTable) -> None:
    _required_values(t, {"participant_id": "Deltagar-ID", "initiative": "Insats", "start_date": "Startdatum"})
    pnr_rows = [r for r in t.records if looks_like_personnummer(r.get("participant_id"))]
    for r in pnr_rows:
        t.problem(ERROR, r["_row"], _col(t, "participant_id", "Deltagar-ID"), "(visas inte)",
                  "id:t ser ut som ett personnummer; personuppgifter får inte föras in i databasen, "
                  "så filen avvisas. Använd ett pseudonymt löpnummer")
    seen: dict[tuple, int] = {}
    for r in t.records:
        start, end = r.get("start_date"), r.get("end_date")
        if start and end and end < start:
            t.problem(ERROR, r["_row"], _col(t, "end_date", "Slutdatum"), end.isoformat(),
                      f"slutdatum ligger före startdatum ({start.isoformat()})")
        key = (r.get("association"), r.get("participant_id"), (r.get("initiative") or "").casefold(), start)
        if r.get("participant_id") and start and key in seen:
            t.problem(ERROR, r["_row"], _col(t, "participant_id", "Deltagar-ID"), r["participant_id"],
                      f"samma deltagare, insats och startdatum finns redan på rad {seen[key]}")
        seen.setdefault(key, r["_row"])
    derive_participants(t)


def _budget(t: ParsedTable, known: set[str]) -> None:
    _required_values(t, {"initiative": "Insats", "year": "År"})
    unknown: dict[str, int] = {}
    for r in t.records:
        if r.get("budget") is None and r.get("actual") is None and not ({"budget", "actual"} & r.get("_bad", set())):
            t.problem(WARNING, r["_row"], _col(t, "budget", "Budget"), None,
                      "raden har varken budget eller utfall och hoppas över")
            r["_skip"] = True
        name = r.get("initiative")
        if name and name.casefold() not in known and name.casefold() not in unknown:
            unknown[name.casefold()] = r["_row"]
            t.problem(WARNING, r["_row"], _col(t, "initiative", "Insats"), name,
                      "budgetraden gäller en insats som inte finns bland deltagare eller i insatsregistret; "
                      "kontrollera stavningen")


def _register(t: ParsedTable) -> None:
    _required_values(t, {"initiative": "Insats"})
    seen: dict[str, int] = {}
    for r in t.records:
        name = (r.get("initiative") or "").casefold()
        if name and name in seen:
            t.problem(ERROR, r["_row"], _col(t, "initiative", "Insats"), r["initiative"],
                      f"insatsen finns redan på rad {seen[name]} i registret")
        seen.setdefault(name, r["_row"])
        s, e = r.get("start_date"), r.get("end_date")
        if s and e and e < s:
            t.problem(ERROR, r["_row"], _col(t, "end_date", "Slutdatum"), e.isoformat(),
                      f"slutdatum ligger före startdatum ({s.isoformat()})")


