"""Raw rows → typed records: find the header, recognise the table, parse every cell.

Each parser raises `ValueError` with a Swedish message; `normalise_table` turns those into
problems with the cell's coordinates, so one bad cell never hides the next.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from .aliases import KINDS, display_name, match_header
from .problems import ERROR, NOTICE, Problem
from .read import Table
from .reference import exit_reasons

HEADER_SCAN_ROWS = 30
SUMMARY_WORDS = {"summa", "totalt", "total"}
EXCEL_EPOCH = dt.date(1899, 12, 30)
MIN_YEAR, MAX_YEAR = 1990, 2100

# ---------------------------------------------------------------- parsers


def is_blank(v: object) -> bool:
    return v is None or (isinstance(v, str) and not v.strip()) or (isinstance(v, float) and v != v)


def text(v: object) -> str | None:
    if is_blank(v):
        return None
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return re.sub(r"\s+", " ", str(v).replace("\u00a0", " ")).strip()


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
        s = str(v).strip().replace("\u00a0", " ")
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
    if n != int(n) or n < 1:
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


_REASON_NUM = re.compile(r"^(\d+)(?:[.,]0+)?(?:\s*[-–:.]\s*.*)?$")


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
        if not re.fullmatch(r"-?\d+(?:[.,]0+)?", s):
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
    return (amount * multiplier).quantize(Decimal("0.01"))


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

    def problem(self, severity: str, row: int | None, column: str | None, value: object, message: str) -> None:
        self.problems.append(Problem(severity, self.file, self.sheet, row, column, value, message))


def find_header(rows: list[list[object]]) -> tuple[int, dict[str, Column]] | None:
    """The first row (of the top ones) whose cells name the most known fields, at least two."""
    best: tuple[int, dict[str, Column]] | None = None
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        cols: dict[str, Column] = {}
        for j, cell in enumerate(row):
            fld, mult = match_header(cell)
            if fld and fld not in cols:
                cols[fld] = Column(j, fld, text(cell) or "", mult)
        if len(cols) >= 2 and (best is None or len(cols) > len(best[1])):
            best = (i, cols)
    return best


def detect_kind(fields: set[str]) -> str | None:
    for kind in ("participants", "anonymous", "budget", "initiatives"):
        if fields & KINDS[kind]["signature"]:  # type: ignore[operator]
            return kind
    if {"initiative", "start_date"} <= fields:
        return "participants"
    return None


# field -> (parser, keyword arguments) per kind
def _field_parsers(kind: str):
    common = {"initiative": text, "association": text}
    if kind == "participants":
        return common | {
            "participant_id": text, "sex": parse_sex, "start_date": parse_date, "end_date": parse_date,
            "exit_reason": parse_exit_reason,
            "birth_year": lambda v: parse_int(v, what="årtal", lo=1900, hi=dt.date.today().year),
            "age": lambda v: parse_int(v, what="heltal (ålder)", lo=0, hi=120),
            "referrer": text, "income_at_start": text, "income_at_exit": text, "education": text,
            "consent": parse_consent,
        }
    if kind == "anonymous":
        return common | {
            "year": lambda v: parse_int(v, what="årtal", lo=MIN_YEAR, hi=MAX_YEAR),
            "women": lambda v: parse_int(v, what="icke-negativt heltal", lo=0, hi=100000),
            "men": lambda v: parse_int(v, what="icke-negativt heltal", lo=0, hi=100000),
            "other": lambda v: parse_int(v, what="icke-negativt heltal", lo=0, hi=100000),
        }
    if kind == "budget":
        return common | {
            "year": lambda v: parse_int(v, what="årtal", lo=MIN_YEAR, hi=MAX_YEAR),
            "category": text, "funder": text, "budget": parse_amount, "actual": parse_amount,
        }
    return common | {
        "owner": text, "partners": text, "start_date": parse_date, "end_date": parse_date,
        "target_participants": lambda v: parse_int(v, what="heltal", lo=0, hi=100000),
        "target_women_share": parse_share, "target_positive_share": parse_share,
    }


def normalise_table(table: Table) -> ParsedTable:
    found = find_header(table.rows)
    kind = detect_kind(set(found[1])) if found else None
    parsed = ParsedTable(table.file, table.sheet, kind)
    if not found or not kind:
        if any(not is_blank(c) for r in table.rows for c in r):
            parsed.problem(NOTICE, None, None, None,
                           "bladet känns inte igen som deltagare, anonyma deltagare, budget eller insatsregister och hoppas över")
        return parsed
    header_idx, columns = found
    parsed.header_row, parsed.columns = header_idx + 1, columns
    for req in KINDS[kind]["required"]:  # type: ignore[union-attr]
        if req not in columns:
            parsed.problem(ERROR, parsed.header_row, display_name(req), None,
                           f"obligatorisk kolumn saknas för {KINDS[kind]['label']}: {display_name(req)}")
    if kind == "budget" and not ({"budget", "actual"} & set(columns)):
        parsed.problem(ERROR, parsed.header_row, "Budget", None,
                       "obligatorisk kolumn saknas: Budget eller Utfall (minst en av dem)")
    parsers = _field_parsers(kind)
    for i in range(header_idx + 1, len(table.rows)):
        row = table.rows[i]
        if all(is_blank(c) for c in row):
            continue
        first = next((c for c in row if not is_blank(c)), None)
        if isinstance(first, str) and first.strip().casefold().rstrip(":") in SUMMARY_WORDS:
            continue
        record: dict = {"_row": i + 1, "_raw": {}}
        for fld, col in columns.items():
            raw = row[col.index] if col.index < len(row) else None
            record["_raw"][fld] = raw
            parser = parsers.get(fld, text)
            try:
                record[fld] = parse_amount(raw, col.multiplier) if parser is parse_amount else parser(raw)
            except ValueError as exc:
                record[fld] = None
                record.setdefault("_bad", set()).add(fld)
                parsed.problem(ERROR, i + 1, col.header, _shown(raw), str(exc))
        parsed.records.append(record)
    return parsed


def _shown(raw: object) -> object:
    if isinstance(raw, dt.datetime):
        return raw.date().isoformat()
    return text(raw)
