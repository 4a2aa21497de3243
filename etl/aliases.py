"""The one table of header aliases: extend it here when a system exports a new column name.

Matching ignores case, surrounding spaces and the difference between `-`, `_` and space
(see `header_key`). A header ending in `(tkr)`/`(kkr)` is the same field in thousands of kronor.
"""
from __future__ import annotations

import re
import unicodedata

from core.privacy import INVISIBLE
from core.vocabulary import TABLE_KINDS


# field -> accepted headers (Swedish, as the systems export them)
ALIASES: dict[str, list[str]] = {
    # participants (enrollments)
    "participant_id": ["Deltagar-ID", "DeltagarID", "Deltagare", "ID", "Löpnummer", "Deltagarnummer"],
    "initiative": ["Insats", "Insatsnamn", "Insatsens namn", "Projekt"],
    "sex": ["Kön"],
    "start_date": ["Startdatum", "Inskrivningsdatum", "Inskriven", "Start", "Planerad start"],
    "end_date": ["Slutdatum", "Avslutsdatum", "Utskrivningsdatum", "Utskriven", "Planerat slut"],
    "exit_reason": ["Avslutsorsak", "Avslutningsorsak"],
    "birth_year": ["Födelseår"],
    "age": ["Ålder", "Ålder vid start"],
    "referrer": ["Remittent", "Anmälare", "Remitterande aktör", "Remitterande myndighet"],
    "income_at_start": ["Försörjning vid start", "Ersättning vid start", "Försörjning"],
    "income_at_exit": ["Försörjning vid avslut", "Försörjning efter", "Ersättning vid avslut"],
    "education": ["Utbildning", "Utbildningsnivå"],
    "association": ["Förbund", "Samordningsförbund"],
    "consent": ["Samtycke"],
    # anonymous counts
    "year": ["År", "Inregistreringsår", "Budgetår"],
    "women": ["Kvinnor"],
    "men": ["Män"],
    "other": ["Annat/Okänt", "Annat", "Okänt", "Annat/okänt kön"],
    # budget and costs
    "category": ["Kostnadsslag", "Post", "Kostnadspost"],
    "funder": ["Finansiär", "Finansiering"],
    "budget": ["Budget", "Budgeterat", "Beviljat"],
    "actual": ["Utfall", "Kostnad", "Faktisk kostnad"],
    # initiatives register
    "owner": ["Insatsägare"],
    "partners": ["Samverkansparter"],
    "target_participants": ["Planerat antal deltagare", "Förväntat antal deltagare", "Budgeterat antal deltagare",
                            "Budgeterat antal deltagare per år"],
    "target_women_share": ["Mål andel kvinnor"],
    "target_positive_share": ["Mål andel till arbete/studier"],
    # the national follow-up's register fields (values: etl.cells.parse_direction, parse_esf)
    "direction": ["Inriktning", "Insatsens inriktning"],
    "target_group": ["Målgrupp", "Insatsens målgrupp"],
    "esf": ["ESF-finansierad", "ESF", "ESF-finansiering"],
    # structural initiatives: a count of participants per year, no sex, no individual data
    "participant_count": ["Antal deltagare", "Antal deltagare totalt", "Antal medverkande"],
    # the association's economy (its post is read from the Post column: `category` above)
    "party": ["Part", "Finansierande part"],
    "amount": ["Belopp"],
}

# How each kind of table is recognised and what it must have.
KINDS: dict[str, dict[str, object]] = {
    "participants": {
        "label": TABLE_KINDS["participants"],
        "signature": {"participant_id", "sex", "exit_reason", "consent", "referrer"},
        "required": ["participant_id", "initiative", "sex", "start_date"],
    },
    "anonymous": {
        "label": TABLE_KINDS["anonymous"],
        "signature": {"women", "men"},
        "required": ["initiative", "year", "women", "men"],
    },
    "budget": {
        "label": TABLE_KINDS["budget"],
        "signature": {"budget", "actual", "category", "funder"},
        "required": ["initiative", "year"],
    },
    "initiatives": {
        "label": TABLE_KINDS["initiatives"],
        "signature": {"owner", "partners", "target_participants", "target_women_share", "target_positive_share",
                      "direction", "target_group", "esf"},
        "required": ["initiative"],
    },
    "structural": {
        "label": TABLE_KINDS["structural"],
        "signature": {"participant_count"},
        "required": ["initiative", "year", "participant_count"],
    },
    # No Insats column: the association's own figures. Post, År and Budget/Utfall alone would also fit a
    # budget file that lost its Insats column; etl.validate's message on an unknown post says so.
    "economy": {
        "label": TABLE_KINDS["economy"],
        "signature": {"party", "amount", "category"},
        "without": {"initiative"},
        "required": ["year"],
    },
}
# The order a header row is tried in: the first kind whose signature it has (and nothing of its `without`).
KIND_DETECTION = ("participants", "anonymous", "structural", "economy", "budget", "initiatives")

_THOUSANDS = re.compile(r"\(\s*(tkr|kkr)\s*\)\s*$")
_UNIT = re.compile(r"\(\s*(kr|sek)\s*\)\s*$")


def header_key(text: object) -> str:
    s = unicodedata.normalize("NFC", INVISIBLE.sub("", unicodedata.normalize("NFC", str(text)))).strip().casefold()
    s = re.sub(r"[-_\s]+", " ", s)
    return s.strip()


_LOOKUP: dict[str, str] = {header_key(a): field for field, aliases in ALIASES.items() for a in aliases}


def match_header(text: object) -> tuple[str | None, int]:
    """Map a header cell to (field, multiplier); multiplier is 1000 for `(tkr)`/`(kkr)`."""
    if text is None:
        return None, 1
    key = header_key(text)
    multiplier = 1
    if _THOUSANDS.search(key):
        multiplier = 1000
        key = _THOUSANDS.sub("", key).strip()
    elif _UNIT.search(key):
        key = _UNIT.sub("", key).strip()
    return _LOOKUP.get(key), multiplier


def display_name(field: str) -> str:
    """The header we name in messages about a missing column."""
    return ALIASES[field][0]
