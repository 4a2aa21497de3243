"""What the loader works out from a valid participants table: consent, agency and age at start.

Runs after validation, on typed records: consent is settled first (an empty cell means no
consent), then every row without consent is stripped to sex, age and dates before anything
else can use or store its other fields.
"""
from __future__ import annotations

from core.vocabulary import MISSING, OTHER_AGENCY

from .normalise import ParsedTable
from .problems import NOTICE, WARNING
from .reference import referrer_mapping

# Without consent only these fields survive (section 2 of the data contract).
CONSENTLESS_KEEP = {"initiative", "association", "sex", "start_date", "end_date", "birth_year", "age", "consent"}


def _col(t: ParsedTable, fld: str, fallback: str) -> str:
    return t.columns[fld].header if fld in t.columns else fallback


def derive_participants(t: ParsedTable) -> None:
    """Consent, agency (from data/referrers.csv) and age at start for every record of `t`, in place."""
    mapping = referrer_mapping()
    unmatched: dict[str, list[int]] = {}
    blank_consent = []
    for r in t.records:
        start = r.get("start_date")
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
                agency = OTHER_AGENCY
            r["agency"] = agency
        else:
            r["agency"] = MISSING
        r["age_at_start"] = r.get("age")
        if r["age_at_start"] is None and r.get("birth_year") and start:
            r["age_at_start"] = start.year - r["birth_year"]
    for unit, rows in unmatched.items():
        t.problem(WARNING, rows[0], _col(t, "referrer", "Remittent"), unit,
                  f"remittenten matchar ingen myndighet i data/referrers.csv och räknas som {OTHER_AGENCY} "
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
        r["agency"] = MISSING
