"""The national follow-up (Uppföljning Finsam) for one year, as one workbook laid out like the national form.

Filling in the form is then copying rows: sheet `Individinriktade insatser` (participants by sex,
budget, outcome and budgeted participants per initiative), `Strukturövergripande insatser` (their
count of participants, budget, outcome) and `Förbundet` (allocated funds per party, administration,
equity), after a first sheet `Urval` saying what the file is. Every figure is a metrics function's:
participants are metrics/facts.py's (participants in the year, anonymous counts included), budget and
outcome metrics/cost.py's year totals over categories and funders, the rest metrics/followup.py's and
metrics/economy.py's. The counts are exact, not protected: the national follow-up needs them as they are.
In a database of several associations, `associations` makes it one association's (or several's) follow-up:
its people, the initiatives it owns (metrics.catalog.owned_by), their money and its own economy lines.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd

from core.vocabulary import DIRECTION_SHEETS, PARTIES, SEX_LABELS
from metrics import Filters
from metrics.catalog import association_name, status
from metrics.cost import cost_by_initiative_year
from metrics.economy import GROUPS, association_year
from metrics.facts import counts
from metrics.followup import INDIVIDUAL, STRUCTURAL, direction_conflicts, directions, register, structural_participants

from .files import to_excel_bytes
from .format import fmt_pct

STOCKHOLM = ZoneInfo("Europe/Stockholm")
INDIVIDUAL_SHEET, STRUCTURAL_SHEET = DIRECTION_SHEETS[INDIVIDUAL], DIRECTION_SHEETS[STRUCTURAL]
ASSOCIATION_SHEET = "Förbundet"
INITIATIVE, BUDGET, ACTUAL = "Insats", "Budget", "Utfall"
TARGET = "Budgeterat antal deltagare"
COUNT = "Antal deltagare"
ITEM, AMOUNT = "Uppgift", "Belopp"


def _money(x) -> float | None:
    return None if x is None or pd.isna(x) else round(float(x), 2)


def followup_tables(con: duckdb.DuckDBPyConnection, year: int, associations=()) -> dict[str, pd.DataFrame]:
    """The three sheets of the year, with the national form's headers; a missing figure stays empty (None)."""
    f = Filters.year(year, associations=tuple(associations))
    direction = directions(con).set_index("initiative").direction
    people = counts(con, f, "participants", ("initiative",)).set_index("initiative")
    cost = cost_by_initiative_year(con, f).set_index("initiative")[["budget", "actual"]]
    target = register(con).set_index("initiative").target_participants
    counted = structural_participants(con, f).set_index("initiative").participants

    def money(name: str) -> dict:
        c = cost.loc[name] if name in cost.index else None
        return {BUDGET: None if c is None else _money(c["budget"]), ACTUAL: None if c is None else _money(c["actual"])}

    def has_money(name: str) -> bool:
        return any(v is not None for v in money(name).values())

    individual = []
    for name in sorted(n for n, d in direction.items() if d == INDIVIDUAL):
        p = people.loc[name] if name in people.index else None
        if (p is None or not p.total) and not has_money(name):
            continue
        t = target.get(name)
        individual.append({INITIATIVE: name, **{SEX_LABELS[s]: 0 if p is None else int(p[s])
                                                for s in ("women", "men", "other", "total")},
                           **money(name), TARGET: None if t is None or pd.isna(t) else int(t)})
    columns = [INITIATIVE, SEX_LABELS["women"], SEX_LABELS["men"], SEX_LABELS["other"], SEX_LABELS["total"],
               BUDGET, ACTUAL, TARGET]
    if not any(r[SEX_LABELS["other"]] for r in individual):
        columns.remove(SEX_LABELS["other"])  # the form's Annat/okänt column only when anyone is in it
    structural = []
    for name in sorted(n for n, d in direction.items() if d == STRUCTURAL):
        n = counted.get(name)
        if n is None and not has_money(name):
            continue
        structural.append({INITIATIVE: name, COUNT: None if n is None else int(n), **money(name)})
    a = association_year(con, year, f.associations)
    rows = [(f"Tilldelade medel, {PARTIES[g][0].lower()}{PARTIES[g][1:]}", a[f"allocated_{g}"]) for g in GROUPS]
    rows += [("Tilldelade medel, totalt", a["allocated"]),
             ("Administrativa kostnader, budget", a["administration_budget"]),
             ("Administrativa kostnader, utfall", a["administration_actual"]),
             ("Eget kapital vid årets början", a["equity_start"]),
             ("Eget kapital vid årets slut", a["equity_end"])]
    return {
        INDIVIDUAL_SHEET: pd.DataFrame(individual, columns=columns),
        STRUCTURAL_SHEET: pd.DataFrame(structural, columns=[INITIATIVE, COUNT, BUDGET, ACTUAL]),
        ASSOCIATION_SHEET: pd.DataFrame([{ITEM: k, AMOUNT: _money(v)} for k, v in rows], columns=[ITEM, AMOUNT]),
    }


FORMATS = {
    INDIVIDUAL_SHEET: {**{SEX_LABELS[s]: "int" for s in ("women", "men", "other", "total")}, BUDGET: "kr",
                       ACTUAL: "kr", TARGET: "int", INITIATIVE: "text"},
    STRUCTURAL_SHEET: {INITIATIVE: "text", COUNT: "int", BUDGET: "kr", ACTUAL: "kr"},
    ASSOCIATION_SHEET: {ITEM: "text", AMOUNT: "kr"},
}


def notes(con: duckdb.DuckDBPyConnection, year: int, associations=()) -> list[str]:
    """What the reader of the file must know before copying it: shares off 50/25/25, initiatives of both kinds."""
    out = []
    a = association_year(con, year, associations)
    if a["shares_deviate"]:
        shares = ", ".join(f"{PARTIES[g]} {fmt_pct(a['shares'][g])}" for g in GROUPS)
        out.append(f"De tilldelade medlen fördelas {shares}, inte 50/25/25 som finsamlagen anger. Kontrollera "
                   "förbundets ekonomifil.")
    both = direction_conflicts(con, Filters.year(year, associations=tuple(associations)))
    if both:
        out.append("Insatser med uppgifter av båda slagen (deltagare med individuppgifter och antal för "
                   "strukturövergripande insatser) redovisas bara under sin inriktning: " + ", ".join(both)
                   + ". Registrera dem som två insatser.")
    return out


def followup_workbook(con: duckdb.DuckDBPyConnection, year: int, associations=()) -> bytes:
    tables = followup_tables(con, year, associations)
    loaded = status(con)["last_load"]
    meta = {
        "Rapport": f"Uppföljning Finsam {year}",
        "Förbund": association_name(con, associations),
        "Period": f"{year}-01-01 – {year}-12-31",
        "Deltagare": "Deltagare under året (inskrivna någon gång under året), anonymt registrerade medräknade; "
                     "exakta antal, utan skydd för små tal",
        "Belopp": "Årets budget och utfall i kronor, över alla kostnadsslag och finansiärer",
        "Data inläst": loaded or "–",
        "Skapad": dt.datetime.now(STOCKHOLM).strftime("%Y-%m-%d %H:%M"),
    }
    for i, text in enumerate(notes(con, year, associations), start=1):
        meta[f"Obs {i}"] = text
    return to_excel_bytes(tables, meta=meta, formats=FORMATS, notes=empty_notes(tables, year))


def empty_notes(tables: dict[str, pd.DataFrame], year: int) -> dict[str, str]:
    """Why a sheet of the follow-up is empty, said in the sheet: the national form wants every sheet, and an empty
    one must not read as "nothing happened" when it is "nothing was loaded"."""
    out = {}
    if tables[INDIVIDUAL_SHEET].empty:
        out[INDIVIDUAL_SHEET] = (f"Tomt: ingen individinriktad insats har deltagare, budget eller utfall för {year} i "
                                 "de inlästa filerna. Läs in deltagarfilerna och budgeten för året på sidan Data.")
    elif tables[INDIVIDUAL_SHEET][[BUDGET, ACTUAL, TARGET]].isna().any().any():
        out[INDIVIDUAL_SHEET] = (f"En tom cell är en uppgift som saknas för {year} i de inlästa filerna (budgeten, "
                                 "utfallet eller insatsregistrets planerade antal), inte 0.")
    if tables[STRUCTURAL_SHEET].empty:
        out[STRUCTURAL_SHEET] = (
            f"Tomt: ingen strukturövergripande insats har antal deltagare, budget eller utfall för {year} i de "
            "inlästa filerna. En insats räknas som strukturövergripande när insatsregistret (kolumnen Inriktning) "
            "säger det eller när en fil med Insats, År och Antal deltagare för den har lästs in.")
    money = tables[ASSOCIATION_SHEET][AMOUNT]
    if tables[ASSOCIATION_SHEET].empty or money.isna().all():
        out[ASSOCIATION_SHEET] = (
            f"Beloppen är tomma: förbundets ekonomi för {year} (tilldelade medel, administration, eget kapital) "
            "finns inte i de inlästa filerna. Läs in filen Förbundets ekonomi (År, Post, Part, Budget, Utfall) på "
            "sidan Data.")
    elif money.isna().any():
        out[ASSOCIATION_SHEET] = (f"En tom cell är en uppgift som saknas i förbundets ekonomifil för {year}, "
                                  "inte 0.")
    return out


def write_followup_xlsx(con: duckdb.DuckDBPyConnection, year: int, out: Path, associations=()) -> list[str]:
    """Write the workbook to `out`; returns the notes, for the command line to print."""
    Path(out).write_bytes(followup_workbook(con, year, associations))
    return notes(con, year, associations)


def file_name(year: int, associations=()) -> str:
    """`uppfoljning-finsam-2021.xlsx`, with the association where one is chosen (`…-2021-forbund-2.xlsx`)."""
    if len(associations) == 1:
        slug = re.sub(r"[^a-z0-9]+", "-", associations[0].lower().translate(str.maketrans("åäö", "aao"))).strip("-")
        if slug:
            return f"uppfoljning-finsam-{year}-{slug[:40]}.xlsx"
    return f"uppfoljning-finsam-{year}.xlsx"
