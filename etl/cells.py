"""One cell's value → its typed value; and the checks every distinct value of a column passes first.

Each parser takes a value as read (text, number, date, None) and returns it typed, or raises
`ValueError` with a Swedish message that etl.normalise turns into a problem at the cell. Nothing
here knows of rows or tables: etl.normalise calls these once per distinct value of a column.
`field_parsers` says which parser reads which field in each kind of table, with the bounds on
dates and numbers. The checks below them (personnummer, control characters, far too long cells)
decide what must never be stored or echoed, before any parsing.
"""
from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from zoneinfo import ZoneInfo

from core.privacy import INVISIBLE, personnummer_cells

from . import columns as fc
from . import limits
from .reference import exit_reasons

EXCEL_EPOCH = dt.date(1899, 12, 30)
MAX_SERIAL = 2958465  # 9999-12-31
MIN_YEAR, MAX_YEAR = limits.MIN_YEAR, limits.MAX_YEAR
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



# ---------------------------------------------------------------- which parser reads which field

STRUCTURAL_MAX = 100000  # participants of a structural initiative in a year


def _not_after(parser, latest, message: str):
    """`parser`, refusing a date after `latest()`: asked at each parse, so a long-running server's today moves."""
    def parse(v):
        d = parser(v)
        if d is not None and d > latest():
            raise ValueError(message)
        return d
    return parse


def field_parsers(kind: str) -> dict:
    """field -> parser for a table of `kind`, each with the bounds its field has there."""
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
            # Inriktning = Strukturövergripande makes the counts a structural initiative's (etl.normalise)
            "direction": parse_direction,
        }
    if kind == "budget":
        return common | {
            "year": lambda v: parse_int(v, what="årtal", lo=MIN_YEAR, hi=today().year + BUDGET_YEARS_AHEAD),
            "category": text, "funder": text, "budget": parse_amount, "actual": parse_amount,
        }
    if kind == "structural":
        return common | {
            "year": lambda v: parse_int(v, what="årtal", lo=MIN_YEAR, hi=today().year),
            "participant_count": lambda v: parse_int(v, what="icke-negativt heltal", lo=0, hi=STRUCTURAL_MAX),
            "direction": parse_direction,
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


# ---------------------------------------------------------------- what must not be stored or echoed

# Columns stored as free text: a number in them that lost its leading zeros (501155125) still counts
# as a personnummer. Amounts, counts and years are numbers, where such digits are ordinary.
TEXT_FIELDS = {"participant_id", "initiative", "association", "referrer", "income_at_start", "income_at_exit",
               "education", "category", "funder", "owner", "partners", "sex", "consent", "exit_reason"}
TEXT_FIELDS |= {"direction", "target_group", "esf", "party"}  # the national follow-up's text fields (issue 13)

PNR_ID = ("id:t ser ut som ett personnummer; personuppgifter får inte föras in i databasen, så filen avvisas. "
          "Använd ett pseudonymt löpnummer")
PNR_CELL = ("cellen innehåller något som ser ut som ett personnummer eller samordningsnummer; personuppgifter får inte "
            "föras in i databasen, så filen avvisas. Ta bort numret ur cellen (även ett telefonnummer eller annat "
            "nummer som har samma form)")
PNR_LOST_ZEROS = (". Ett tal med 7–9 siffror kan vara ett personnummer från 2000-talet vars inledande nollor Excel "
                  "har tagit bort; är det ett löpnummer, låt det börja med en bokstav")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def texts(f: fc.Factorised) -> list[str | None]:
    """text() of every value; an ASCII value that is already clean (most ids) is its own text."""
    if f.arrow is None:
        return [text(v) for v in f.values]
    out = list(f.values)
    for k in f.maybe(fc.NOT_CLEAN).tolist():
        out[k] = text(out[k])
    out[-1] = None
    return out


def unsafe_values(f: fc.Factorised) -> dict[int, str]:
    """Positions (in f.values) of values that must not be stored or echoed; see `unsafe_text`."""
    values, positions = fc.candidates(f, f.maybe(fc.CONTROL, long=limits.MAX_CELL_CHARS))
    return {positions[i]: message for i, message in unsafe_text(values).items()}


def pnr_values(f: fc.Factorised, *, whole_number: bool, amount: bool = False) -> dict[int, bool]:
    """Positions (in f.values) of values shaped like a personnummer, with `lost_zeros` (core.privacy)."""
    values, positions = fc.candidates(f, f.maybe(fc.PNR_WHOLE_SUPERSET if whole_number else fc.PNR_SUPERSET))
    return {positions[i]: lost
            for i, lost in personnummer_cells(values, whole_number=whole_number, amount=amount).items()}


def unsafe_text(values: list[object]) -> dict[int, str]:
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


def shown_value(raw: object) -> object:
    """A refused value as its problem shows it: a date as ISO, anything else as its text."""
    if isinstance(raw, dt.datetime):
        return raw.date().isoformat()
    return text(raw)
