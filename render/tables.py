"""The staff export: the filtered tables as Excel and CSV, built from the metrics layer.

Every figure comes from a metrics function (metrics.people, metrics.cost); this module only
picks, renames and, with small-count protection on, asks the protection engine
(metrics.suppress) which counts to hide — the same decision pages, presentation and deck get.
Hidden counts keep their place in numeric columns: in Excel as marked error cells (`#N/A`
with a note saying `<5` or `..`, so a SUM over them fails loudly instead of undercounting), in
CSV as the text `<5` or `..`. A share or cost per person resting on a hidden count or on fewer
than the threshold is left empty.

The enrollment-level table (one row per enrollment, pseudonymised) is for staff follow-up only
and is never protected: it is individual data by nature.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from zoneinfo import ZoneInfo

import duckdb
import pandas as pd

from core.vocabulary import SEX_COLUMNS, SEX_LABELS, SEX_SINGULAR, SEX_WORDS, TOTAL, UNKNOWN_REASON
from metrics import Filters
from metrics.catalog import reason_labels
from metrics.cost import cost_by_initiative_year, cost_summary
from metrics.people import (age_by_sex, by_initiative, enrollment_rows, exits_by_reason, headline, inflow_by_agency,
                            inflow_by_initiative)
from metrics.suppress import DEFAULT_THRESHOLD, SECONDARY_MARK, hidden_code, is_hidden, label, legend

from .files import as_percent, to_csv_bytes, to_excel_bytes
from .protected import Shown
from .format import fmt_date, fmt_datetime
from .text import SEX_OPTIONS, describe

SEX_HEADERS = [SEX_LABELS[s] for s in SEX_COLUMNS]  # Kvinnor, Män, Annat/okänt, Totalt
STOCKHOLM = ZoneInfo("Europe/Stockholm")

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


# ----------------------------------------------------------------------------- the aggregate tables

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
    """Rows as an object table, so a column of counts can hold hidden codes and a missing cell stays empty.

    A column that is empty for the whole selection is left out.
    """
    df = pd.DataFrame([[_plain(r.get(c)) for c in columns] for r in rows], columns=columns, dtype=object)
    return df[[c for c in df.columns if df[c].notna().any()]]


def export_tables(con: duckdb.DuckDBPyConnection, f: Filters, *, protect: bool,
                  threshold: int = DEFAULT_THRESHOLD) -> dict[str, pd.DataFrame]:
    """The aggregate tables for the filters `f`, sheet name -> table with Swedish headers.

    With `protect`, every count is as the protection engine shows it for this selection: hidden
    counts hold their codes (written as `<5`/`..` in CSV and as marked error cells in Excel), and
    shares or costs per person resting on fewer than `threshold` people or on a hidden count are
    empty (None). Every sheet ends with a `Totalt` row.
    """
    show = Shown(con, f, threshold if protect else None)
    h = headline(con, f)
    ini = by_initiative(con, f)
    agencies = inflow_by_agency(con, f)
    ini_agencies = inflow_by_initiative(con, f)
    reasons = exits_by_reason(con, f)
    ini_reasons = exits_by_reason(con, f, ("initiative",))
    ages = age_by_sex(con, f)
    cost = cost_by_initiative_year(con, f)
    cost_all = cost_summary(con, f)
    numerators = {"positive_share": "positive", "positive_wide_share": "positive_wide"}

    def per_initiative_row(name: str, dims: dict, source: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
        row: dict[str, Any] = {"Insats": name}
        shown = {}
        for m, title in MEASURES.items():
            for s in SEX_COLUMNS:
                shown[(m, s)] = row[sex_header(title, s)] = show.count(m, dims, s, source[m][s])
        for share, title in SHARES.items():
            for s in SEX_COLUMNS:
                num = show.count("exited", {**dims, "reason": numerators[share]}, s, source[f"n_{share}"][s])
                row[sex_header(title, s)] = show.ratio(source[share][s], shown[("exited", s)], num)
        return row

    def ini_source(r) -> dict:
        out = {m: {s: r[f"{m}_{s}"] for s in SEX_COLUMNS} for m in MEASURES}
        out |= {sh: {s: r[f"{sh}_{s}"] for s in SEX_COLUMNS} for sh in SHARES}
        out |= {f"n_{sh}": {s: r[f"exited_{numerators[sh]}_{s}"] for s in SEX_COLUMNS} for sh in SHARES}
        return out

    rows = [per_initiative_row(r["initiative"], {"initiative": r["initiative"]}, ini_source(r))
            for _, r in ini.iterrows()]
    head = {m: h.loc[m] for m in MEASURES} | {sh: h.loc[sh] for sh in SHARES}
    head |= {"n_positive_share": h.loc["exited_positive"], "n_positive_wide_share": h.loc["exited_positive_wide"]}
    rows.append(per_initiative_row(TOTAL, {}, head))
    per_initiative = _table(rows, ["Insats", *[sex_header(t, s) for t in [*MEASURES.values(), *SHARES.values()]
                                               for s in SEX_COLUMNS]])

    per_agency = _table(
        [{"Remittent": r.agency, **show.row("started", {"agency": r.agency}, r._asdict())}
         for r in agencies.itertuples(index=False)]
        + [{"Remittent": TOTAL, **show.row("started", {}, h.loc["started"])}], ["Remittent", *SEX_HEADERS])

    per_initiative_agency = _table(
        [{"Insats": r.initiative, "Remittent": r.agency,
          **show.row("started", {"initiative": r.initiative, "agency": r.agency}, r._asdict())}
         for r in ini_agencies.itertuples(index=False)]
        + [{"Insats": TOTAL, "Remittent": None, **show.row("started", {}, h.loc["started"])}],
        ["Insats", "Remittent", *SEX_HEADERS])

    def code(reason: str):
        return None if reason == UNKNOWN_REASON else reason

    per_reason = _table(
        [{"Kod": code(r.reason), "Avslutsorsak": r.label, **show.row("exited", {"reason": r.reason}, r._asdict())}
         for r in reasons.itertuples(index=False)]
        + [{"Kod": None, "Avslutsorsak": TOTAL, **show.row("exited", {}, h.loc["exited"])}],
        ["Kod", "Avslutsorsak", *SEX_HEADERS])

    per_initiative_reason = _table(
        [{"Insats": r.initiative, "Kod": code(r.reason), "Avslutsorsak": r.label,
          **show.row("exited", {"initiative": r.initiative, "reason": r.reason}, r._asdict())}
         for r in ini_reasons.itertuples(index=False)]
        + [{"Insats": TOTAL, "Kod": None, "Avslutsorsak": None, **show.row("exited", {}, h.loc["exited"])}],
        ["Insats", "Kod", "Avslutsorsak", *SEX_HEADERS])

    per_age = _table(
        [{"Åldersgrupp": r.age_group, **show.row("participants", {"age_group": r.age_group}, r._asdict())}
         for r in ages.itertuples(index=False)]
        + [{"Åldersgrupp": TOTAL, **show.row("participants", {}, h.loc["participants"])}],
        ["Åldersgrupp", *SEX_HEADERS])

    cost_rows = []
    pooled = 0
    pooled_hidden = False
    for r in cost.itertuples(index=False):
        row = {COST_COLUMNS[k]: getattr(r, k) for k in ("initiative", "year", "budget", "actual", "cost", "basis")}
        row[COST_COLUMNS["year"]] = int(r.year)
        y = show.year(r.year)
        counts = {}
        for col, measure, extra in (("participants", "participants", {}), ("started", "started", {}),
                                    ("positive_exits", "exited", {"reason": "positive"})):
            counts[col] = show.count(measure, {"initiative": r.initiative, **extra}, "total", getattr(r, col),
                                     p=y, f=None) if y is not None else getattr(r, col)
            row[COST_COLUMNS[col]] = counts[col]
        for k, den in COST_COUNTS.items():
            row[COST_COLUMNS[k]] = show.ratio(getattr(r, k), counts[den])
        if r.cost is not None and not pd.isna(r.cost) and r.participants > 0:
            pooled += r.participants
            pooled_hidden |= is_hidden(counts["participants"])
        cost_rows.append(row)
    if pooled:
        people = hidden_code("secondary") if pooled_hidden else pooled
        cost_rows.append({"Insats": TOTAL, "Kostnad (kr)": cost_all["cost"],
                          "Kostnad enligt": "insatser och år med både kostnad och deltagare",
                          "Deltagare": people,
                          "Kostnad per deltagare (kr)": show.ratio(cost_all["per_participant"], people)})
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
    now = now or dt.datetime.now(STOCKHOLM)  # the same clock as the load time: the association's own
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
            "På. " + legend(threshold) + " I Excel är ett dolt antal en cell med #SAKNAS!/#N/A och en kommentar "
            f"({label(threshold)} eller ..), så att en summa över den inte blir för liten utan att det märks."
        ) if protect else "Av: alla antal visas"
    out["Exporterad"] = fmt_datetime(now)
    out["Data inlästa"] = fmt_datetime(status.get("last_load"))
    out["Datakälla"] = "Exempeldata (genererade, fiktiva uppgifter)" if status.get("source") == "sample" \
        else "Förbundets exporter"
    out["Källa"] = "Insatskollen"
    return out


def _marks(threshold: int) -> dict[int, str]:
    return {hidden_code("primary"): label(threshold), hidden_code("secondary"): SECONDARY_MARK}


def excel_bytes(tables: Mapping[str, pd.DataFrame], meta_: Mapping[str, str], threshold: int = DEFAULT_THRESHOLD
                ) -> bytes:
    """The workbook: the `Urval` sheet, then one sheet per table, set up to print (landscape, fit to width)."""
    return to_excel_bytes(tables, meta=meta_, formats=formats(tables), hidden_marks=_marks(threshold))


def csv_bytes(df: pd.DataFrame, threshold: int = DEFAULT_THRESHOLD) -> bytes:
    """One table as CSV for Swedish Excel (UTF-8 with BOM, `;`, decimal comma), shares as per cent rounded as on
    screen with `(%)` in their header."""
    out = df.copy()
    kinds = _formats(out)
    for col in out.columns:
        if kinds.get(col) == "int":
            out[col] = [_marks(threshold).get(v, v) if is_hidden(v) else v for v in out[col]]
        elif kinds.get(col) == "kr":
            out[col] = [None if v is None or pd.isna(v) else round(float(v), 2) for v in out[col]]
    # 25,6 % on screen: `Andel … (%)` 25,6 here, not 0,256 (nor 0,2564102564102564)
    return to_csv_bytes(as_percent(out, [c for c in out.columns if kinds.get(c) == "pct"]))


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
