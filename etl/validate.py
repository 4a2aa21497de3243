"""Rules across cells, rows and files; and the consent rule, applied before anything is stored.

Every problem is collected (never stop at the first) so staff can fix a file in one go.
"""
from __future__ import annotations

import re

from .normalise import ParsedTable
from .problems import ERROR, NOTICE, WARNING, Problem
from .reference import AGENCY_MISSING, referrer_mapping

_PNR = re.compile(r"^(?:(?:19|20)(\d{2})|(\d{2}))(\d{2})(\d{2})[-+]?(\d{4})$")

# Without consent only these fields survive (section 2 of the data contract).
CONSENTLESS_KEEP = {"initiative", "association", "sex", "start_date", "end_date", "birth_year", "age", "consent"}


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
    mapping = referrer_mapping()
    unmatched: dict[str, list[int]] = {}
    blank_consent = []
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
        if "consent" in t.columns and r.get("consent") is None and "consent" not in r.get("_bad", ()):
            blank_consent.append(r["_row"])
            r["consent"] = False
        elif "consent" not in t.columns:
            r["consent"] = True
        unit = r.get("referrer")
        if unit and r["consent"] is not False:
            agency = mapping.agency(unit)
            if agency is None:
                unmatched.setdefault(unit, []).append(r["_row"])
                agency = "Annan"
            r["agency"] = agency
        else:
            r["agency"] = AGENCY_MISSING
        r["age_at_start"] = r.get("age")
        if r["age_at_start"] is None and r.get("birth_year") and start:
            r["age_at_start"] = start.year - r["birth_year"]
    for unit, rows in unmatched.items():
        t.problem(WARNING, rows[0], _col(t, "referrer", "Remittent"), unit,
                  f"remittenten matchar ingen myndighet i data/referrers.csv och räknas som Annan "
                  f"({len(rows)} rader); lägg till den i mappningen")
    if blank_consent:
        t.problem(NOTICE, blank_consent[0], _col(t, "consent", "Samtycke"), None,
                  f"{len(blank_consent)} rader saknar värde i Samtycke och behandlas som utan samtycke")
    for r in t.records:
        apply_consent(r)


def apply_consent(r: dict) -> None:
    """Drop every field but sex, age and dates (and the initiative) from a row without consent."""
    if r.get("consent") is False:
        for k in list(r):
            if not k.startswith("_") and k not in CONSENTLESS_KEEP | {"agency", "age_at_start"}:
                r[k] = None
        r["agency"] = AGENCY_MISSING
        r["_raw"] = {}


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


