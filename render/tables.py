"""The staff export: the filtered tables as Excel and CSV, built from the metrics layer.

Every figure comes from a metrics function (metrics.people, metrics.cost); this module
only picks, renames and, with small-count protection on, hides. Protection treats the
aggregate tables as one linked set (metrics.suppress.suppress_linked): a count shown in
two sheets, or a row that adds up to a figure in another sheet, gets one decision, so
no sheet gives away what another hides. Hidden counts are written as the text `<5`;
a share or cost per person that rests on fewer than 5 people or on a hidden count is
left empty.

The enrollment-level table (one row per enrollment, pseudonymised) is for staff
follow-up only and is never protected: it is individual data by nature.

"""
from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Mapping
from typing import Any

import duckdb
import pandas as pd

from core.vocabulary import SEX_COLUMNS, SEX_LABELS, SEX_SINGULAR, SEX_WORDS, SEXES, TOTAL, UNKNOWN_REASON
from metrics import Filters
from metrics.cost import cost_by_initiative_year, cost_summary
from core.vocabulary import AGE_GROUPS, UNKNOWN_REASON
from metrics.people import (age_by_sex, by_initiative, enrollment_rows, exits_by_reason, headline, inflow_by_agency,
                            inflow_by_initiative, positive_codes, reason_labels)
from metrics.suppress import DEFAULT_THRESHOLD, label, suppress_linked

from .files import to_csv_bytes, to_excel_bytes
from .format import fmt_date, fmt_datetime
from .text import SEX_OPTIONS, describe

SEX_HEADERS = [SEX_LABELS[s] for s in SEX_COLUMNS]  # Kvinnor, Män, Annat/okänt, Totalt
ALL = "*"  # a margin: all initiatives, or no split

# sheet names (≤ 31 characters, Excel's limit); the order is the workbook's
PER_INITIATIVE = "Per insats"
PER_AGENCY = "Per remittent"
PER_INITIATIVE_AGENCY = "Per insats och remittent"
PER_REASON = "Per avslutsorsak"
PER_INITIATIVE_REASON = "Per insats och avslutsorsak"
PER_AGE = "Per åldersgrupp"
COST = "Kostnad per insats och år"
ENROLLMENTS = "Deltagarrader"

MEASURES = {"participants": "Deltagare", "started": "Nya", "exited": "Avslutade", "no_consent": "Utan samtycke"}
SHARES = {"positive_share": "Andel till arbete/studier", "positive_wide_share": "Andel arbete/studier/rehab."}

COST_COLUMNS = {
    "initiative": "Insats", "year": "År", "budget": "Budget (kr)", "actual": "Utfall (kr)", "cost": "Kostnad (kr)",
    "basis": "Kostnad enligt", "participants": "Deltagare", "started": "Nya", "positive_exits": "Avslut till arbete/studier",
    "per_participant": "Kostnad per deltagare (kr)", "per_started": "Kostnad per ny deltagare (kr)",
    "per_positive_exit": "Kostnad per avslut till arbete/studier (kr)",
}
COST_COUNTS = {"per_participant": "participants", "per_started": "started", "per_positive_exit": "positive_exits"}

ENROLLMENT_COLUMNS = {
    "initiative": "Insats", "participant_id": "Deltagar-ID", "sex": "Kön", "start_date": "Startdatum",
    "end_date": "Slutdatum", "exit_reason": "Avslutskod", "exit_label": "Avslutsorsak", "age_at_start": "Ålder vid start",
    "age_group": "Åldersgrupp", "referrer_unit": "Remittent (enhet)", "agency": "Myndighet",
    "income_at_start": "Försörjning vid start", "income_at_exit": "Försörjning vid avslut", "education": "Utbildning",
    "consent": "Samtycke",
}

INDIVIDUAL_WARNING = ("Filen innehåller uppgifter på individnivå (pseudonymiserade: deltagar-id, inga personnummer). "
                      "Den är endast för förbundets personal i uppföljningsarbetet och får inte publiceras eller "
                      "skickas vidare.")


def sex_header(measure: str, sex: str) -> str:
    """'Deltagare kvinnor', 'Andel till arbete/studier totalt' …: the wide per-initiative headers."""
    return f"{measure} {SEX_WORDS[sex]}"


# ----------------------------------------------------------------------------- the linked cells

class _Cells:
    """Every count of every aggregate sheet under one key, and how they add up."""

    def __init__(self) -> None:
        self.values: dict[Hashable, int] = {}
        self.relations: list[tuple[list[Hashable], Hashable]] = []

    def add_row(self, key: tuple, row: Mapping[str, Any], prefix: str = "") -> None:
        """The women/men/other/total of one row, tied together: the sexes add up to the total."""
        for s in SEX_COLUMNS:
            self.values[(*key, s)] = int(row[f"{prefix}{s}"])
        self.relations.append(([(*key, s) for s in SEXES], (*key, "total")))

    def add(self, key: Hashable, value) -> None:
        self.values[key] = int(value)

    def sums(self, parts: list[tuple], total: tuple) -> None:
        """Rows `parts` add up to row `total`, for each sex column."""
        parts = [p for p in parts if (*p, "total") in self.values]
        if (*total, "total") not in self.values:
            return
        for s in SEX_COLUMNS:
            self.relations.append(([(*p, s) for p in parts], (*total, s)))

    def relate(self, parts: list[Hashable], total: Hashable) -> None:
        parts = [p for p in parts if p in self.values]
        if total in self.values:
            self.relations.append((parts, total))


class _Shown:
    """What a cell looks like in the file: its count, or `<5` when hidden."""

    def __init__(self, cells: _Cells, hidden: set, threshold: int) -> None:
        self.cells, self.hidden, self.threshold = cells, hidden, threshold

    def count(self, key: Hashable):
        return label(self.threshold) if key in self.hidden else self.cells.values[key]

    def row(self, key: tuple) -> dict[str, Any]:
        return {SEX_LABELS[s]: self.count((*key, s)) for s in SEX_COLUMNS}

    def ratio(self, value, denominator: Hashable, numerators: list[Hashable] = ()):
        """A share or cost per person, or None where it rests on too few people or on a hidden count."""
        if value is None or pd.isna(value):
            return None
        if self.cells.values.get(denominator, 0) < self.threshold or denominator in self.hidden:
            return None
        if any(n in self.hidden for n in numerators):
            return None
        return float(value)


class _Open(_Shown):
    """Protection off: every figure as the metrics layer gives it."""

    def __init__(self, cells: _Cells) -> None:
        super().__init__(cells, set(), 0)

    def ratio(self, value, denominator, numerators=()):
        return None if value is None or pd.isna(value) else float(value)


def _plain(v):
    """A plain Python value for a cell: ints stay ints, missing is None (never NaN, never 0)."""
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    if isinstance(v, (bool, str)):
        return v
    if hasattr(v, "item"):  # numpy scalars
        v = v.item()
    return v


def _table(rows: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    """Rows as an object table, so a column of counts can hold `<5` and a missing cell stays empty."""
    return pd.DataFrame([[_plain(r.get(c)) for c in columns] for r in rows], columns=columns, dtype=object)


def export_tables(con: duckdb.DuckDBPyConnection, f: Filters, *, protect: bool,
                  threshold: int = DEFAULT_THRESHOLD) -> dict[str, pd.DataFrame]:
    """The aggregate tables for the filters `f`, sheet name -> table with Swedish headers.

    With `protect`, counts 1 to threshold − 1 and the cells that would give them away are
    the text `<threshold` (one decision per cell across all sheets), and shares or costs per
    person resting on fewer than `threshold` people or on a hidden count are empty (None).
    Every sheet ends with a `Totalt` row (Per remittent has its own from the metrics layer).
    """
    h = headline(con, f)
    ini = by_initiative(con, f)
    agencies = inflow_by_agency(con, f)
    ini_agencies = inflow_by_initiative(con, f)
    reasons = exits_by_reason(con, f)
    ini_reasons = exits_by_reason(con, f, ("initiative",))
    ages = age_by_sex(con, f)
    cost = cost_by_initiative_year(con, f)
    cost_all = cost_summary(con, f)
    pos, wide = positive_codes(con)
    names = list(ini.initiative)

    # --- every count, keyed (measure, initiative or ALL, split or ALL, sex) ---------------------
    c = _Cells()
    for m in MEASURES:
        c.add_row((m, ALL, ALL), h.loc[m])
        for r in ini.itertuples(index=False):
            c.add_row((m, r.initiative, ALL), r._asdict(), f"{m}_")
        c.sums([(m, n, ALL) for n in names], (m, ALL, ALL))
    agency_list = list(agencies.agency)
    for r in agencies.itertuples(index=False):
        c.add_row(("started", ALL, ("agency", r.agency)), r._asdict())
    for r in ini_agencies.itertuples(index=False):
        c.add_row(("started", r.initiative, ("agency", r.agency)), r._asdict())
    codes = list(reasons.reason)
    for r in reasons.itertuples(index=False):
        c.add_row(("exited", ALL, ("reason", r.reason)), r._asdict())
    for r in ini_reasons.itertuples(index=False):
        c.add_row(("exited", r.initiative, ("reason", r.reason)), r._asdict())
    for m, dim, values in (("started", "agency", agency_list), ("exited", "reason", codes)):
        c.sums([(m, ALL, (dim, v)) for v in values], (m, ALL, ALL))
        for n in names:
            c.sums([(m, n, (dim, v)) for v in values], (m, n, ALL))
        for v in values:
            c.sums([(m, n, (dim, v)) for n in names], (m, ALL, (dim, v)))
    for r in ages.itertuples(index=False):
        c.add_row(("participants", ALL, ("age", r.age_group)), r._asdict())
    c.sums([("participants", ALL, ("age", g)) for g in ages.age_group], ("participants", ALL, ALL))
    # cost: its counts per initiative-year are all participants of the calendar year, so they are
    # the per-initiative figures exactly when the filters are one calendar year with no sex/agency
    same_people = f.is_calendar_year and not f.agencies and not f.sexes
    for r in cost.itertuples(index=False):
        for col in COST_COUNTS.values():
            c.add(("cost", r.initiative, r.year, col), getattr(r, col))
        if same_people:
            c.relate([("cost", r.initiative, r.year, "participants")], ("participants", r.initiative, ALL, "total"))
            c.relate([("cost", r.initiative, r.year, "started")], ("started", r.initiative, ALL, "total"))
            c.relate([("exited", r.initiative, ("reason", code), "total") for code in pos],
                     ("cost", r.initiative, r.year, "positive_exits"))
    with_cost = cost[cost.cost.notna() & (cost.participants > 0)]
    if len(with_cost):
        c.add(("cost", ALL, ALL, "participants"), cost_all["participants"])
        c.relate([("cost", r.initiative, r.year, "participants") for r in with_cost.itertuples(index=False)],
                 ("cost", ALL, ALL, "participants"))

    show = _Shown(c, suppress_linked(c.values, c.relations, threshold), threshold) if protect else _Open(c)

    # --- the sheets ---------------------------------------------------------------------------
    def per_initiative_row(name: str, key: str, source: Mapping[str, Any]) -> dict[str, Any]:
        row: dict[str, Any] = {"Insats": name}
        for m, title in MEASURES.items():
            for s in SEX_COLUMNS:
                row[sex_header(title, s)] = show.count((m, key, ALL, s))
        for share, title in SHARES.items():
            codes_ = pos if share == "positive_share" else wide
            for s in SEX_COLUMNS:
                row[sex_header(title, s)] = show.ratio(
                    source[share][s], ("exited", key, ALL, s),
                    [("exited", key, ("reason", code), s) for code in codes_])
        return row

    rows = [per_initiative_row(r["initiative"], r["initiative"],
                               {sh: {s: r[f"{sh}_{s}"] for s in SEX_COLUMNS} for sh in SHARES})
            for _, r in ini.iterrows()]
    rows.append(per_initiative_row(TOTAL, ALL, {sh: h.loc[sh] for sh in SHARES}))
    per_initiative = _table(rows, ["Insats", *[sex_header(t, s) for t in [*MEASURES.values(),
                                                                                         *SHARES.values()]
                                                             for s in SEX_COLUMNS]])

    per_agency = _table(
        [{"Remittent": a, **show.row(("started", ALL, ("agency", a)))} for a in agency_list]
        + [{"Remittent": TOTAL, **show.row(("started", ALL, ALL))}], columns=["Remittent", *SEX_HEADERS])

    per_initiative_agency = _table(
        [{"Insats": r.initiative, "Remittent": r.agency, **show.row(("started", r.initiative, ("agency", r.agency)))}
         for r in ini_agencies.itertuples(index=False)]
        + [{"Insats": TOTAL, "Remittent": None, **show.row(("started", ALL, ALL))}],
        ["Insats", "Remittent", *SEX_HEADERS])

    def code(reason: str):
        return None if reason == UNKNOWN_REASON else reason

    per_reason = _table(
        [{"Kod": code(r.reason), "Avslutsorsak": r.label, **show.row(("exited", ALL, ("reason", r.reason)))}
         for r in reasons.itertuples(index=False)]
        + [{"Kod": None, "Avslutsorsak": TOTAL, **show.row(("exited", ALL, ALL))}],
        ["Kod", "Avslutsorsak", *SEX_HEADERS])

    per_initiative_reason = _table(
        [{"Insats": r.initiative, "Kod": code(r.reason), "Avslutsorsak": r.label,
          **show.row(("exited", r.initiative, ("reason", r.reason)))} for r in ini_reasons.itertuples(index=False)]
        + [{"Insats": TOTAL, "Kod": None, "Avslutsorsak": None, **show.row(("exited", ALL, ALL))}],
        ["Insats", "Kod", "Avslutsorsak", *SEX_HEADERS])

    per_age = _table(
        [{"Åldersgrupp": g, **show.row(("participants", ALL, ("age", g)))} for g in ages.age_group]
        + [{"Åldersgrupp": TOTAL, **show.row(("participants", ALL, ALL))}], ["Åldersgrupp", *SEX_HEADERS])

    cost_rows = []
    for r in cost.itertuples(index=False):
        row = {COST_COLUMNS[k]: getattr(r, k) for k in ("initiative", "year", "budget", "actual", "cost", "basis")}
        row[COST_COLUMNS["year"]] = int(r.year)
        for k in COST_COUNTS.values():
            row[COST_COLUMNS[k]] = show.count(("cost", r.initiative, r.year, k))
        for k, den in COST_COUNTS.items():
            row[COST_COLUMNS[k]] = show.ratio(getattr(r, k), ("cost", r.initiative, r.year, den))
        cost_rows.append(row)
    if len(with_cost):
        cost_rows.append({"Insats": TOTAL, "Kostnad (kr)": cost_all["cost"],
                          "Kostnad enligt": "insatser och år med både kostnad och deltagare",
                          "Deltagare": show.count(("cost", ALL, ALL, "participants")),
                          "Kostnad per deltagare (kr)": show.ratio(cost_all["per_participant"],
                                                                   ("cost", ALL, ALL, "participants"))})
    per_cost = _table(cost_rows, list(COST_COLUMNS.values()))

    return {
        PER_INITIATIVE: per_initiative,
        PER_AGENCY: per_agency,
        PER_INITIATIVE_AGENCY: per_initiative_agency,
        PER_REASON: per_reason,
        PER_INITIATIVE_REASON: per_initiative_reason,
        PER_AGE: per_age,
        COST: per_cost,
    }


def enrollment_table(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """The period's enrollments (metrics.people.enrollment_rows) with Swedish headers and words.

    Individual-level, pseudonymised data for staff follow-up: never protected, never published.
    """
    df = enrollment_rows(con, f).copy()
    labels = reason_labels(con, short=False)
    df["sex"] = df.sex.map(SEX_SINGULAR).fillna(df.sex)
    df.insert(df.columns.get_loc("exit_reason") + 1, "exit_label",
              [None if pd.isna(x) else labels.get(str(int(x))) for x in df.exit_reason])
    df["exit_reason"] = pd.Series([None if pd.isna(x) else int(x) for x in df.exit_reason], index=df.index, dtype=object)
    for col in ("start_date", "end_date"):
        df[col] = pd.Series([None if pd.isna(x) else pd.Timestamp(x).date() for x in df[col]], index=df.index,
                            dtype=object)
    return df[list(ENROLLMENT_COLUMNS)].rename(columns=ENROLLMENT_COLUMNS).reset_index(drop=True)


# ----------------------------------------------------------------------------- files

def _formats(df: pd.DataFrame) -> dict[str, str]:
    out = {}
    for col in df.columns:
        if col.startswith("Andel"):
            out[col] = "pct"
        elif col.endswith("(kr)"):
            out[col] = "kr"
        elif col in ("Startdatum", "Slutdatum"):
            out[col] = "date"
        elif col in ("Kod", "Avslutskod", "År", "Deltagar-ID"):
            out[col] = "text" if col in ("Kod", "Deltagar-ID") else "general"
        elif col in (*SEX_HEADERS, "Deltagare", "Nya", "Avslut till arbete/studier", "Ålder vid start") or \
                any(col.startswith(f"{m} ") for m in MEASURES.values()):
            out[col] = "int"
    return out


def formats(tables: Mapping[str, pd.DataFrame]) -> dict[str, dict[str, str]]:
    """Excel number formats per sheet: counts as integers, shares as per cent, money in kronor, dates as dates."""
    return {name: _formats(df) for name, df in tables.items()}


def meta(f: Filters, status: Mapping[str, Any], *, protect: bool | None = None,
         threshold: int = DEFAULT_THRESHOLD, individual: bool = False,
         now: dt.datetime | None = None) -> dict[str, str]:
    """The `Urval` sheet: what the file shows (filters in words), when it was exported and when the data were loaded."""
    now = now or dt.datetime.now()
    out = {
        "Innehåll": ("Deltagarrader (individdata, pseudonymiserade). " + INDIVIDUAL_WARNING) if individual
        else "Sammanställningar per insats, remittent, avslutsorsak, åldersgrupp och kostnad, uppdelat på kön",
        "Urval": describe(f),
        "Period": f"{fmt_date(f.start)} – {fmt_date(f.end)}",
        "Insatser": ", ".join(f.initiatives) if f.initiatives else "Alla insatser",
        "Remittent (myndighet)": ", ".join(f.agencies) if f.agencies else "Alla",
        "Kön": ", ".join(SEX_OPTIONS[s] for s in f.sexes) if f.sexes else "Alla",
    }
    if protect is not None and not individual:
        out["Skydd för små tal"] = (
            f"På: antal 1–{threshold - 1} visas som {label(threshold)}, liksom antal som annars skulle kunna räknas "
            f"fram ur summor; andelar och kostnad per person som bygger på färre än {threshold} personer eller på "
            "ett dolt antal lämnas tomma") if protect else "Av: alla antal visas"
    out["Exporterad"] = fmt_datetime(now)
    out["Data inlästa"] = fmt_datetime(status.get("last_load"))
    out["Datakälla"] = "Exempeldata (genererade, fiktiva uppgifter)" if status.get("source") == "sample" \
        else "Förbundets exporter"
    out["Källa"] = "Insatskollen"
    return out


def excel_bytes(tables: Mapping[str, pd.DataFrame], meta_: Mapping[str, str]) -> bytes:
    """The workbook: the `Urval` sheet, then one sheet per table."""
    return to_excel_bytes(tables, meta=meta_, formats=formats(tables))


def csv_bytes(df: pd.DataFrame) -> bytes:
    """One table as CSV for Swedish Excel (UTF-8 with BOM, `;`, decimal comma)."""
    return to_csv_bytes(df)


def file_stem(f: Filters, what: str) -> str:
    """'insatskollen-sammanstallning-2021' and the like: a file name that says what and which period."""
    period = str(f.start.year) if f.is_calendar_year else f"{f.start.isoformat()}_{f.end.isoformat()}"
    return f"insatskollen-{what}-{period}"


def slug(name: str) -> str:
    """'Per insats och remittent' -> 'per-insats-och-remittent', for file names."""
    s = name.lower().translate(str.maketrans({"å": "a", "ä": "a", "ö": "o", "é": "e"}))
    return "-".join("".join(ch if ch.isalnum() else " " for ch in s).split())


DISPLAY_KINDS = {"int": "int", "pct": "pct", "kr": "kr", "date": "date"}


def display_formats(df: pd.DataFrame) -> dict[str, str]:
    """ui.format.format_table specs for an export table, for an on-screen preview (`<5` passes through)."""
    kinds = _formats(df)
    return {c: DISPLAY_KINDS.get(kinds.get(c, ""), "text") for c in df.columns}
