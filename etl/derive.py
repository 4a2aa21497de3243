"""What the loader works out from a valid participants table: consent, agency and age at start.

Runs after validation, on the typed frame: consent is settled first (an empty cell means no
consent), then every row without consent is stripped to sex, age and dates before anything
else can use or store its other fields. Column-wise; the referrer mapping runs once per unit.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from core.problems import NOTICE, WARNING
from core.vocabulary import MISSING, OTHER_AGENCY, counted

from .normalise import ParsedTable, as_series, categorical
from .reference import referrer_mapping

# Without consent only these fields survive (section 2 of the data contract).
CONSENTLESS_KEEP = {"initiative", "association", "sex", "start_date", "end_date", "birth_year", "age", "consent"}


def _col(t: ParsedTable, fld: str, fallback: str) -> str:
    return t.columns[fld].header if fld in t.columns else fallback


def derive_participants(t: ParsedTable) -> None:
    """Consent, agency (from data/referrers.csv) and age at start for every row of `t`, in place."""
    frame, n = t.frame, t.size
    rows = frame["_row"].to_numpy()
    blank_consent = np.zeros(n, bool)
    if "consent" in t.columns:
        consent = frame["consent"].array.copy()
        blank_consent = consent.isna() & ~t.is_bad("consent")
        consent[blank_consent] = False
    else:
        consent = pd.array(np.ones(n, bool), dtype="boolean")
    frame["consent"] = consent
    without = np.asarray(consent.fillna(True) == False, bool)  # noqa: E712 - consent given as Nej (not unreadable)
    # agency: from the referrer unit (each unit mapped once), where there is one and consent is not refused
    unit = t.get("referrer")
    codes = unit.cat.codes.to_numpy().astype(np.int64)
    names = list(unit.cat.categories)
    mapping = referrer_mapping()
    agencies = [mapping.agency(u) for u in names]
    labels = list(dict.fromkeys([MISSING, *(a or OTHER_AGENCY for a in agencies)]))
    agency_code = np.array([labels.index(a or OTHER_AGENCY) for a in agencies] + [0], np.int64)  # MISSING last
    use = (codes >= 0) & ~without
    frame["agency"] = categorical(np.where(use, agency_code[codes], 0), labels)
    unmatched = use & ~np.array([a is not None for a in agencies] + [True], bool)[codes]
    if unmatched.any():
        at = np.flatnonzero(unmatched)
        found, first, counts = np.unique(codes[at], return_index=True, return_counts=True)
        for k in np.argsort(first):  # in the order the units first occur
            t.problem(WARNING, row=int(rows[at[first[k]]]), column=_col(t, "referrer", "Remittent"),
                      value=names[found[k]], message=(
                      f"remittenten matchar ingen myndighet i data/referrers.csv och räknas som {OTHER_AGENCY} "
                      f"({counted(int(counts[k]), 'rad', 'rader')}); lägg till den i mappningen"))
    if blank_consent.any():
        at = np.flatnonzero(blank_consent)
        t.problem(NOTICE, row=int(rows[at[0]]), column=_col(t, "consent", "Samtycke"), message=(
            f"{counted(len(at), 'rad', 'rader')} saknar värde i Samtycke och behandlas som utan samtycke"))
    # age at start: the age given, else the start year minus the birth year
    start = t.get("start_date").to_numpy()
    no_start = np.isnat(start)
    start_year = pd.array(np.where(no_start, 0, start.astype("datetime64[Y]").astype(np.int64) + 1970), dtype="Int64")
    birth = t.get("birth_year").array
    from_birth = start_year - birth
    from_birth[no_start | np.asarray(birth.fillna(0) == 0, bool)] = pd.NA
    age = t.get("age").array.copy()
    missing = np.asarray(age.isna(), bool)
    age[missing] = from_birth[missing]
    frame["age_at_start"] = age
    apply_consent(t, without)


def apply_consent(t: ParsedTable, without: np.ndarray) -> None:
    """Drop every field but sex, age and dates (and the initiative) from the rows without consent."""
    if not without.any():
        return
    frame = t.frame
    for name in frame.columns:
        if not name.startswith("_") and name not in CONSENTLESS_KEEP | {"agency", "age_at_start"}:
            column = frame[name]
            if isinstance(column.dtype, pd.CategoricalDtype):
                codes = np.where(without, -1, column.cat.codes.to_numpy())
                frame[name] = categorical(codes, list(column.cat.categories))
            elif column.dtype == object:
                values = column.to_numpy(dtype=object).copy()
                values[without] = None
                frame[name] = as_series(values)
            else:
                values = column.array.copy()
                values[without] = pd.NA
                frame[name] = values
    agency = frame["agency"]
    labels = list(agency.cat.categories)
    frame["agency"] = categorical(np.where(without, labels.index(MISSING), agency.cat.codes.to_numpy()), labels)
