"""Raw rows → typed records: find the header, recognise the table, check and parse every column.

Each parser raises `ValueError` with a Swedish message; `normalise_table` turns those into
problems with the cell's coordinates, so one bad cell never hides the next. The checks that
guard what is stored (personnummer, control characters, cells Excel could not give us) run over
a whole column at a time, before any cell is parsed.
"""
from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from operator import itemgetter
from zoneinfo import ZoneInfo

from . import limits
from .aliases import KIND_DETECTION, KINDS, display_name, match_header
from .privacy import INVISIBLE, personnummer_cells
from .problems import ERROR, NOTICE, Problem
from .read import Table
from .reference import exit_reasons
from .xlsx import column_letters

HEADER_SCAN_ROWS = 30
# A summary row: its first filled cell starts with one of these words ("Summa", "Summa Steget före", "Totalt:").
SUMMARY = re.compile(r"(?i)^(?:(?:del|total)?summa|totalt?|sum)\b")
EXCEL_EPOCH = dt.date(1899, 12, 30)
MAX_SERIAL = 2958465  # 9999-12-31
MIN_YEAR, MAX_YEAR = 1990, 2100
STOCKHOLM = ZoneInfo("Europe/Stockholm")
# How far ahead a date may lie (see README, "Datum"): a planned start, an end that is only just coming.
START_AHEAD = dt.timedelta(days=366)
END_AHEAD = dt.timedelta(days=31)
PLAN_AHEAD = dt.timedelta(days=3653)  # the register's planned start and end
BUDGET_YEARS_AHEAD = 5


def today() -> dt.date:
    """The association's date (Stockholm), which the bounds on dates count from."""
    return dt.datetime.now(STOCKHOLM).date()

# ---------------------------------------------------------------- parsers




def clean_text(s: str) -> str:
    """NFC, no zero-width or other invisible characters, runs of whitespace as one space, trimmed.

    "Rätt stöd" typed on a Mac (NFD), pasted with a zero-width space or with a non-breaking
    space is then one initiative, not three.
    """
    if not s.isascii():
        s = INVISIBLE.sub("", unicodedata.normalize("NFC", s))
    return " ".join(s.split())  # str.split() splits on exactly what the regex \s matches, and faster


@lru_cache(maxsize=65536)  # names repeat on every row: fold each once
def fold(s: str) -> str:
    """The key two spellings of one name share: cleaned and case-folded."""
    return unicodedata.normalize("NFC", clean_text(s).casefold())


def is_blank(v: object) -> bool:
    if v is None:
        return True
    if isinstance(v, str):
        return not v.strip() if v.isascii() else not clean_text(v)
    return isinstance(v, float) and v != v


def text(v: object) -> str | None:
    if type(v) is str:
        return clean_text(v) or None
    if is_blank(v):
        return None
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return clean_text(str(v)) or None


_ISO = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[ T]00:00(?::00)?(?:\.0+)?)?$")
_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_SERIAL = re.compile(r"^\d{1,6}(?:[.,]0+)?$")


def parse_date(v: object) -> dt.date | None:
    """Excel date cells, `YYYY-MM-DD`, `YYYY/MM/DD`, `DD/MM/YYYY` and Excel serial numbers."""
    if is_blank(v):
        return None
    if isinstance(v, dt.datetime):
        d = v.date()
    elif isinstance(v, dt.date):
        d = v
    elif isinstance(v, (int, float)) and not isinstance(v, bool):
        d = _from_serial(float(v))
    else:
        s = clean_text(str(v))
        if m := _ISO.match(s):
            d = _make_date(int(m[1]), int(m[2]), int(m[3]), s)
        elif m := _DMY.match(s):
            d = _make_date(int(m[3]), int(m[2]), int(m[1]), s)
        elif _SERIAL.match(s):
            d = _from_serial(float(s.replace(",", ".")))
        else:
            raise ValueError("datumet går inte att tolka; skriv ÅÅÅÅ-MM-DD")
    if not MIN_YEAR <= d.year <= MAX_YEAR:
        raise ValueError(f"orimligt datum ({d.isoformat()}); året ska ligga mellan {MIN_YEAR} och {MAX_YEAR}")
    return d


def _make_date(y: int, m: int, d: int, raw: str) -> dt.date:
    try:
        return dt.date(y, m, d)
    except ValueError:
        raise ValueError("datumet finns inte i kalendern") from None


def _from_serial(n: float) -> dt.date:
    if not math.isfinite(n) or n != int(n) or not 1 <= n <= MAX_SERIAL:
        raise ValueError("datumet går inte att tolka; skriv ÅÅÅÅ-MM-DD")
    return EXCEL_EPOCH + dt.timedelta(days=int(n))


SEX_VALUES = {
    "kvinna": "woman", "k": "woman", "f": "woman",
    "man": "man", "m": "man",
    "annat": "other", "ickebinär": "other",
    "okänt": "unknown", "vill ej uppge": "unknown",
}


def parse_sex(v: object) -> str:
    if is_blank(v):
        return "unknown"
    key = text(v).casefold()
    if key not in SEX_VALUES:
        raise ValueError("okänt värde för kön; använd Kvinna, Man, Annat eller lämna tomt")
    return SEX_VALUES[key]


def parse_consent(v: object) -> bool | None:
    if is_blank(v):
        return None
    key = text(v).casefold()
    if key in {"ja", "j", "yes"}:
        return True
    if key in {"nej", "n", "no"}:
        return False
    raise ValueError("samtycke ska vara Ja eller Nej")


_REASON_NUM = re.compile(r"^(\d{1,6})(?:[.,]0+)?(?:\s*[-–:.]\s*.*)?$")


def parse_exit_reason(v: object) -> int | None:
    """`2`, `2.0`, `2 - Fortsatt rehabilitering` or the wording in data/exit_reasons.csv."""
    if is_blank(v):
        return None
    known = {r.code for r in exit_reasons()}
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        code = int(v) if float(v).is_integer() else None
    else:
        s = text(v)
        m = _REASON_NUM.match(s)
        if m:
            code = int(m[1])
        else:
            folded = s.casefold()
            code = next(
                (r.code for r in exit_reasons() if folded in {r.label.casefold(), r.short_label.casefold()}), None
            )
            if code is None:
                raise ValueError("okänd avslutsorsak; ange kod 1–6 eller orsakens namn")
    if code not in known:
        raise ValueError(f"okänd avslutsorsak; giltiga koder är {', '.join(str(c) for c in sorted(known))}")
    return code


def parse_int(v: object, *, what: str = "heltal", lo: int | None = None, hi: int | None = None) -> int | None:
    if is_blank(v):
        return None
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if not float(v).is_integer():
            raise ValueError(f"ska vara ett {what}")
        n = int(v)
    else:
        s = text(v).replace(" ", "")
        if not re.fullmatch(r"-?\d{1,18}(?:[.,]0+)?", s):
            raise ValueError(f"ska vara ett {what}")
        n = int(re.split(r"[.,]", s)[0])
    if (lo is not None and n < lo) or (hi is not None and n > hi):
        raise ValueError(f"ska vara ett {what} mellan {lo} och {hi}")
    return n


_AMOUNT_JUNK = re.compile(r"(?i)\s*(kr|sek|:-)\.?\s*$")


def parse_amount(v: object, multiplier: int = 1) -> Decimal | None:
    """Numbers or Swedish text amounts (`2 410 500 kr`, `1.277.950`, `2 410 500,50`), in kronor."""
    if is_blank(v):
        return None
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if not math.isfinite(v):
            raise ValueError("beloppet går inte att tolka som kronor")
        amount = Decimal(str(v))
    else:
        s = str(v).strip()
        s = _AMOUNT_JUNK.sub("", s)
        s = re.sub(r"[\s\u00a0\u202f\u2009']", "", s).replace("\u2212", "-")
        negative = s.startswith("-") or (s.startswith("(") and s.endswith(")"))
        s = s.strip("()-")
        if negative:
            raise ValueError("beloppet är negativt")
        if "," in s and "." in s:  # the last separator is the decimal one
            dec, thou = (",", ".") if s.rfind(",") > s.rfind(".") else (".", ",")
            s = s.replace(thou, "").replace(dec, ".")
        elif "," in s:
            s = s.replace(",", "") if re.fullmatch(r"\d{1,3}(,\d{3}){2,}", s) else s.replace(",", ".")
        elif "." in s and re.fullmatch(r"\d{1,3}(\.\d{3})+", s):
            s = s.replace(".", "")  # dot as thousands separator
        if not re.fullmatch(r"\d+(\.\d+)?", s):
            raise ValueError("beloppet går inte att tolka som kronor")
        try:
            amount = Decimal(s)
        except InvalidOperation:
            raise ValueError("beloppet går inte att tolka som kronor") from None
    if amount < 0:
        raise ValueError("beloppet är negativt")
    amount *= multiplier
    if amount > limits.MAX_AMOUNT:
        raise ValueError(f"beloppet är orimligt stort (mer än {limits.MAX_AMOUNT:,} kr på en rad); kontrollera "
                         "beloppet och enheten (kr eller tkr)".replace(",", " "))
    return amount.quantize(Decimal("0.01"))


def parse_share(v: object) -> float | None:
    """`50 %`, `0,5`, `50` and a percent-formatted cell (0.5) all mean one half."""
    if is_blank(v):
        return None
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        x = float(v)
        percent = False
    else:
        s = text(v).replace(" ", "")
        percent = s.endswith("%")
        s = s.rstrip("%").replace(",", ".")
        try:
            x = float(s)
        except ValueError:
            raise ValueError("andelen går inte att tolka; skriv t.ex. 50 %") from None
    if percent or x > 1:
        x = x / 100
    if not 0 <= x <= 1:
        raise ValueError("andelen ska ligga mellan 0 och 100 %")
    return round(x, 6)


# The national follow-up's values (issue 13): an initiative's direction, ESF funding, the economy's posts.
DIRECTION_VALUES = {
    "individinriktad": "individual", "individinriktade": "individual", "individ": "individual",
    "individuell": "individual", "individnivå": "individual", "i": "individual",
    "strukturövergripande": "structural", "strukturöverskridande": "structural", "struktur": "structural",
    "strukturinriktad": "structural", "strukturell": "structural", "strukturnivå": "structural", "s": "structural",
}
DIRECTION_BOTH = ("en insats som är både individinriktad och strukturövergripande registreras som två insatser, med "
                  "var sin rad och var sitt namn (till exempel «Namn – individ» och «Namn – struktur»)")


def parse_direction(v: object) -> str | None:
    """`Individinriktad`, `Strukturövergripande` (any case, with or without "insats"); empty is not stated."""
    if is_blank(v):
        return None
    key = re.sub(r"[\s_-]+", "", text(v).casefold()).removesuffix("insatser").removesuffix("insats")
    if key in DIRECTION_VALUES:
        return DIRECTION_VALUES[key]
    if ("individ" in key and "struktur" in key) or key in {"båda", "bägge", "bådaoch", "bådedelarna", "blandad"}:
        raise ValueError(DIRECTION_BOTH)
    raise ValueError("okänd inriktning; skriv Individinriktad eller Strukturövergripande")


def parse_esf(v: object) -> bool | None:
    """Ja/Nej (any case, also 1/0); empty is not known."""
    if is_blank(v):
        return None
    key = text(v).casefold()
    if key in {"ja", "j", "yes", "1"}:
        return True
    if key in {"nej", "n", "no", "0"}:
        return False
    raise ValueError("ESF-finansiering ska vara Ja eller Nej (eller lämnas tom om den inte är känd)")


ECONOMY_POSTS = {
    "tilldelade medel": "allocated", "tilldelat": "allocated", "tilldelning": "allocated",
    "medlemsbidrag": "allocated", "medlemsavgift": "allocated", "bidrag från medlemmarna": "allocated",
    "eget kapital vid årets början": "equity_start", "ingående eget kapital": "equity_start",
    "eget kapital ib": "equity_start", "eget kapital vid årets ingång": "equity_start",
    "eget kapital vid årets slut": "equity_end", "utgående eget kapital": "equity_end",
    "eget kapital ub": "equity_end", "eget kapital vid årets utgång": "equity_end",
    "administration": "administration", "administrativa kostnader": "administration",
    "administrationskostnader": "administration", "kansli": "administration", "kanslikostnader": "administration",
}


def parse_post(v: object) -> str | None:
    """A post of the association's economy: Tilldelade medel, Eget kapital vid årets början/slut, Administration."""
    if is_blank(v):
        return None
    key = fold(text(v)).rstrip(":. ")
    if key in ECONOMY_POSTS:
        return ECONOMY_POSTS[key]
    if key == "eget kapital":
        raise ValueError("ange om eget kapital gäller årets början eller slut: Eget kapital vid årets början, "
                         "Eget kapital vid årets slut")
    raise ValueError("okänd post; förbundets ekonomi har posterna Tilldelade medel, Eget kapital vid årets början, "
                     "Eget kapital vid årets slut och Administration (en budget för insatser behöver kolumnen Insats)")


# ---------------------------------------------------------------- tables


@dataclass
class Column:
    index: int
    field: str
    header: str
    multiplier: int = 1


@dataclass
class ParsedTable:
    file: str
    sheet: str | None
    kind: str | None
    header_row: int | None = None  # as Excel shows it
    columns: dict[str, Column] = field(default_factory=dict)
    records: list[dict] = field(default_factory=list)  # each has "_row" (Excel row number)
    problems: list[Problem] = field(default_factory=list)
    source: int = 0  # which file of the call (etl.load numbers them)

    def problem(self, severity: str, row: int | None, column: str | None, value: object, message: str) -> None:
        self.problems.append(Problem(severity, self.file, self.sheet, row, column, value, message))

    @property
    def place(self) -> str:
        """How another message names this table: the file, and the sheet if there is one."""
        return f"{self.file}, blad {self.sheet}" if self.sheet else self.file


def find_header(rows: list[list[object]]) -> tuple[int, list[tuple[int, str, int]]] | None:
    """The first row (of the top ones) whose cells name the most known fields, at least two.

    Returns the row's index and every recognised cell as (column index, field, multiplier), in
    order, duplicates included: the caller decides what a repeated field means.
    """
    best: tuple[int, list[tuple[int, str, int]]] | None = None
    best_n = 1
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        matched = []
        for j, cell in enumerate(row):
            if isinstance(cell, str) and cell.strip():
                fld, mult = match_header(clean_text(cell))
                if fld:
                    matched.append((j, fld, mult))
        n = len({fld for _, fld, _ in matched})
        if n > best_n:
            best, best_n = (i, matched), n
    return best


def detect_kind(fields: set[str]) -> str | None:
    for kind in KIND_DETECTION:
        if fields & KINDS[kind]["signature"] and not fields & KINDS[kind].get("without", set()):  # type: ignore
            return kind
    if {"initiative", "start_date"} <= fields:
        return "participants"
    return None


def _not_after(parser, latest, message: str):
    def parse(v):
        d = parser(v)
        if d is not None and d > latest():
            raise ValueError(message)
        return d
    return parse


# Columns stored as free text: a number in them that lost its leading zeros (501155125) still counts
# as a personnummer. Amounts, counts and years are numbers, where such digits are ordinary.
TEXT_FIELDS = {"participant_id", "initiative", "association", "referrer", "income_at_start", "income_at_exit",
               "education", "category", "funder", "owner", "partners", "sex", "consent", "exit_reason"}
TEXT_FIELDS |= {"direction", "target_group", "esf", "party"}  # the national follow-up's text fields (issue 13)


# field -> parser per kind
def _field_parsers(kind: str):
    common = {"initiative": text, "association": text}
    if kind == "participants":
        return common | {
            "participant_id": text, "sex": parse_sex,
            "start_date": _not_after(parse_date, lambda: today() + START_AHEAD,
                                     "startdatumet ligger mer än ett år fram i tiden; kontrollera årtalet"),
            "end_date": _not_after(parse_date, lambda: today() + END_AHEAD,
                                   "slutdatumet ligger i framtiden (mer än 31 dagar efter i dag); lämna Slutdatum tomt "
                                   "för den som fortfarande är inskriven"),
            "exit_reason": parse_exit_reason,
            "birth_year": lambda v: parse_int(v, what="årtal", lo=1900, hi=today().year),
            "age": lambda v: parse_int(v, what="heltal (ålder)", lo=0, hi=120),
            "referrer": text, "income_at_start": text, "income_at_exit": text, "education": text,
            "consent": parse_consent,
        }
    if kind == "anonymous":
        return common | {
            "year": lambda v: parse_int(v, what="årtal", lo=MIN_YEAR, hi=today().year),
            "women": lambda v: parse_int(v, what="icke-negativt heltal", lo=0, hi=100000),
            "men": lambda v: parse_int(v, what="icke-negativt heltal", lo=0, hi=100000),
            "other": lambda v: parse_int(v, what="icke-negativt heltal", lo=0, hi=100000),
        }
    if kind == "budget":
        return common | {
            "year": lambda v: parse_int(v, what="årtal", lo=MIN_YEAR, hi=today().year + BUDGET_YEARS_AHEAD),
            "category": text, "funder": text, "budget": parse_amount, "actual": parse_amount,
        }
    if kind == "structural":
        return common | {
            "year": lambda v: parse_int(v, what="årtal", lo=MIN_YEAR, hi=today().year),
            "participant_count": lambda v: parse_int(v, what="icke-negativt heltal", lo=0, hi=100000),
        }
    if kind == "economy":
        return common | {
            "year": lambda v: parse_int(v, what="årtal", lo=MIN_YEAR, hi=today().year + BUDGET_YEARS_AHEAD),
            "category": parse_post, "party": text, "funder": text,
            "budget": parse_amount, "actual": parse_amount, "amount": parse_amount,
        }
    planned = "datumet ligger mer än tio år fram i tiden; kontrollera årtalet"
    return common | {
        "owner": text, "partners": text,
        "start_date": _not_after(parse_date, lambda: today() + PLAN_AHEAD, planned),
        "end_date": _not_after(parse_date, lambda: today() + PLAN_AHEAD, planned),
        "target_participants": lambda v: parse_int(v, what="heltal", lo=0, hi=100000),
        "target_women_share": parse_share, "target_positive_share": parse_share,
        "direction": parse_direction, "target_group": text, "esf": parse_esf,
    }


PNR_ID = ("id:t ser ut som ett personnummer; personuppgifter får inte föras in i databasen, så filen avvisas. "
          "Använd ett pseudonymt löpnummer")
PNR_CELL = ("cellen innehåller något som ser ut som ett personnummer eller samordningsnummer; personuppgifter får inte "
            "föras in i databasen, så filen avvisas. Ta bort numret ur cellen (även ett telefonnummer eller annat "
            "nummer som har samma form)")
PNR_LOST_ZEROS = (". Ett tal med 7–9 siffror kan vara ett personnummer från 2000-talet vars inledande nollor Excel "
                  "har tagit bort; är det ett löpnummer, låt det börja med en bokstav")
HIDDEN = {"hidden": "dolt", "veryHidden": "mycket dolt (kan bara visas med VBA)"}
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def normalise_table(table: Table) -> ParsedTable:
    found = find_header(table.rows)
    fields = {fld for _, fld, _ in found[1]} if found else set()
    kind = detect_kind(fields) if found else None
    parsed = ParsedTable(table.file, table.sheet, kind)
    parsed.problems.extend(table.problems)
    if not found or not kind:
        if any(not is_blank(c) for r in table.rows for c in r):
            what = f"bladet är {HIDDEN[table.hidden]} och " if table.hidden in HIDDEN else "bladet "
            parsed.problem(NOTICE, None, None, None,
                           what + "känns inte igen som deltagare, anonyma deltagare, budget, insatsregister, "
                                  "strukturövergripande insatser eller förbundets ekonomi och hoppas över")
        return parsed
    label = KINDS[kind]["label"]
    header_idx, matched = found
    header = table.rows[header_idx]
    parsed.header_row = header_row = header_idx + 1
    for j, fld, mult in matched:
        if fld not in parsed.columns:
            parsed.columns[fld] = Column(j, fld, text(header[j]) or "", mult)
    columns = parsed.columns
    if table.hidden in HIDDEN:
        parsed.problem(ERROR, None, None, None,
                       f"bladet är {HIDDEN[table.hidden]} i Excel men innehåller en tabell med {label}; det läses inte "
                       "in utan att du har sett det. Visa bladet om det ska läsas in (högerklicka på en bladflik → "
                       "Visa), eller ta bort det")
    _header_shape(parsed, header, matched)
    for req in KINDS[kind]["required"]:  # type: ignore[union-attr]
        if req not in columns:
            parsed.problem(ERROR, header_row, display_name(req), None,
                           f"obligatorisk kolumn saknas för {label}: {display_name(req)}")
    if kind == "budget" and not ({"budget", "actual"} & set(columns)):
        parsed.problem(ERROR, header_row, "Budget", None,
                       "obligatorisk kolumn saknas: Budget eller Utfall (minst en av dem)")
    data = _data_rows(parsed, table, header_idx, header)
    cells = _read_columns(parsed, table, data)
    parsed.records = cells
    return parsed


def _header_shape(parsed: ParsedTable, header: list[object], matched: list[tuple[int, str, int]]) -> None:
    """Two tables side by side, or one field under two headers: which column wins would be a guess."""
    groups: list[list[tuple[int, str]]] = [[]]
    where = {j: fld for j, fld, _ in matched}
    for j, cell in enumerate(header):
        if is_blank(cell):
            if groups[-1]:
                groups.append([])
        elif j in where:
            groups[-1].append((j, where[j]))
    known = [g for g in groups if len({f for _, f in g}) >= 2]
    if len(known) >= 2:
        spans = " och ".join(f"{column_letters(g[0][0])}–{column_letters(g[-1][0])}" for g in known)
        parsed.problem(ERROR, parsed.header_row, None, None,
                       f"rubrikraden har två grupper av kända rubriker med tom kolumn emellan (kolumn {spans}): två "
                       "tabeller bredvid varandra läses inte, eftersom den ena annars skulle tappas. Lägg varje tabell "
                       "på ett eget blad, eller ta bort den tomma kolumnen om det är en och samma tabell")
        return
    first: dict[str, int] = {}
    for j, fld, _ in matched:
        if fld in first:
            a, b = first[fld], j
            parsed.problem(ERROR, parsed.header_row, text(header[b]), None,
                           f"kolumn {column_letters(b)} («{text(header[b])}») betyder samma sak som kolumn "
                           f"{column_letters(a)} («{text(header[a])}»), {display_name(fld)}; ta bort eller byt namn på "
                           "den ena, så att det är klart vilken som gäller")
        else:
            first[fld] = j


def _blank_row(row: list[object]) -> bool:
    try:
        joined = "".join(row)  # type: ignore[arg-type]
    except TypeError:  # not all text (an Excel row)
        return all(is_blank(c) for c in row)
    return not joined.strip() if joined.isascii() else not clean_text(joined)


def _summary_row(row: list[object], exempt: set[int]) -> bool:
    for j, c in enumerate(row):
        if not is_blank(c):
            return isinstance(c, str) and j not in exempt and bool(SUMMARY.match(clean_text(c)))
    return False


def _data_rows(parsed: ParsedTable, table: Table, header_idx: int, header: list[object]) -> list[tuple[int, list]]:
    """(row number, cells) of every data row; summary rows and cells without a header are settled here."""
    mapped = {c.index for c in parsed.columns.values()}
    bad_rows = {r for (r, j) in table.bad_cells if j in mapped}
    # "Totalt" is an ordinary value of Kostnadsslag and Finansiär, not a summary
    exempt = {c.index for f, c in parsed.columns.items() if f in {"category", "funder"}}
    width = max((j + 1 for j, c in enumerate(header) if not is_blank(c)), default=0)
    unnamed = {j for j in range(width) if is_blank(header[j])}
    data: list[tuple[int, list]] = []
    summaries: list[tuple[int, str]] = []
    overflow: list[tuple[int, int]] = []
    unnamed_used: dict[int, int] = {}
    # calamine ends a sheet at its last cell with a value: rows of uncached formulas may lie beyond it
    for i in range(header_idx + 1, max(len(table.rows), max(bad_rows, default=0))):
        row, r = (table.rows[i] if i < len(table.rows) else []), i + 1
        if r not in bad_rows and _blank_row(row):
            continue
        if r not in bad_rows and _summary_row(row, exempt):
            summaries.append((r, next(clean_text(c) for c in row if not is_blank(c))))
            continue
        data.append((r, row))
        if len(row) > width:
            extra = [j for j in range(width, len(row)) if not is_blank(row[j])]
            if extra:
                if table.source == "csv":
                    overflow.append((r, len(row)))
                else:
                    for j in extra:
                        unnamed_used.setdefault(j, r)
        for j in unnamed:
            if j < len(row) and not is_blank(row[j]):
                unnamed_used.setdefault(j, r)
    last = data[-1][0] if data else 0
    for r, word in summaries:
        if r < last:
            parsed.problem(ERROR, r, None, word,
                           "raden ser ut som en summeringsrad men står mitt i tabellen, så det går inte att veta om "
                           "den är en delsumma (som skulle räknas dubbelt) eller data. Ta bort raden, eller flytta "
                           "summeringen under tabellen")
    for r, n in overflow[:5]:
        parsed.problem(ERROR, r, None, None,
                       f"raden har {n} fält men rubrikraden bara {width}, så värdena hamnar under fel rubrik. Troligen "
                       "står avgränsningstecknet i ett värde utan citattecken (t.ex. 1,5 i en kommaseparerad fil); sätt "
                       "värdet inom citattecken eller ta bort det extra fältet")
    if len(overflow) > 5:
        parsed.problem(ERROR, overflow[5][0], None, None,
                       f"ytterligare {len(overflow) - 5} rader har fler fält än rubrikraden")
    for j, r in sorted(unnamed_used.items()):
        parsed.problem(NOTICE, r, column_letters(j), None,
                       f"kolumn {column_letters(j)} har värden men ingen rubrik och läses inte in")
    for message in table.unplaced:
        parsed.problem(ERROR, None, None, None, message)
    return data


def _read_columns(parsed: ParsedTable, table: Table, data: list[tuple[int, list]]) -> list[dict]:
    """Check and parse the table column by column; one record per data row."""
    records: list[dict] = [{"_row": r} for r, _ in data]
    found: list[tuple[int, int, Problem]] = []
    parsers = _field_parsers(parsed.kind)  # type: ignore[arg-type]

    def bad(pos: int, col: Column, value: object, message: str) -> None:
        r = data[pos][0]
        records[pos].setdefault("_bad", set()).add(col.field)
        found.append((r, col.index, Problem(ERROR, parsed.file, parsed.sheet, r, col.header, value, message)))

    rows = [row for _, row in data]
    shortest = min(map(len, rows), default=0)
    for fld, col in parsed.columns.items():
        j = col.index
        raw = list(map(itemgetter(j), rows)) if j < shortest else [row[j] if j < len(row) else None for row in rows]
        skip: set[int] = set()
        if table.bad_cells:
            for pos, (r, _) in enumerate(data):
                if (r, j) in table.bad_cells:
                    bad(pos, col, None, f"cell {column_letters(j)}{r}: {table.bad_cells[(r, j)]}")
                    skip.add(pos)
        for pos, message in _unsafe_text(raw).items():
            if pos not in skip:
                bad(pos, col, raw[pos], message)
                skip.add(pos)
        for pos, lost_zeros in personnummer_cells(raw, whole_number=fld in TEXT_FIELDS).items():
            if pos not in skip:
                message = PNR_ID if fld == "participant_id" else PNR_CELL
                bad(pos, col, "(visas inte)", message + (PNR_LOST_ZEROS if lost_zeros else ""))
                skip.add(pos)
        parser = parsers.get(fld, text)
        amount = parser is parse_amount
        for pos, value in enumerate(raw):
            if pos in skip:
                records[pos][fld] = None
                continue
            try:
                records[pos][fld] = parse_amount(value, col.multiplier) if amount else parser(value)
            except (ValueError, ArithmeticError, TypeError) as exc:
                records[pos][fld] = None
                message = str(exc) if isinstance(exc, ValueError) else "värdet går inte att tolka"
                bad(pos, col, _shown(value), message)
    found.sort(key=lambda item: (item[0], item[1]))
    parsed.problems.extend(p for _, _, p in found)
    return records


def _unsafe_text(values: list[object]) -> dict[int, str]:
    """Cells whose text must not be stored or echoed: control characters, or far too long for a name."""
    out: dict[int, str] = {}
    types = set(map(type, values))
    if str not in types:
        return out
    texts = values if types == {str} else [v if type(v) is str else "" for v in values]
    if max(map(len, texts)) > limits.MAX_CELL_CHARS:
        for i, v in enumerate(texts):
            if len(v) > limits.MAX_CELL_CHARS:
                out[i] = (f"cellen är {len(v):,} tecken lång; högst {limits.MAX_CELL_CHARS:,} tecken läses in i en "
                          "cell. Kontrollera att rätt kolumn har hamnat under rubriken").replace(",", " ")
    if _CONTROL.search("\n".join(texts)):
        for i, v in enumerate(texts):
            if i not in out and _CONTROL.search(v):
                out[i] = ("cellen innehåller osynliga styrtecken (till exempel ␀ eller ␛), som inte får lagras; de "
                          "kommer ofta från en trasig export eller ett annat program. Skriv om cellen")
    return out


def _shown(raw: object) -> object:
    if isinstance(raw, dt.datetime):
        return raw.date().isoformat()
    return text(raw)
