"""Swedish display formatting for every page, table and export.

Rules kept in one place so the whole app reads alike: decimal comma, a no-break
space between thousands (so `1 234 567` never wraps mid-number in a narrow
column), ISO dates, and `–` for anything missing. Missing is never shown as 0:
a share without a denominator or a cost without a figure is unknown, not zero.

Rounding is half away from zero on the number as written (2,675 → 2,68), which
is what readers check by hand; Python's own float formatting would give 2,67.

"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from typing import Any

import numpy as np
import pandas as pd

from metrics.suppress import is_hidden, kind_of, mark

NBSP = "\u00a0"
DASH = "–"  # en dash: the agreed mark for "no figure"


def is_missing(x: Any) -> bool:
    """True for None, NaN, pd.NA, NaT and blank strings: all of them mean "no figure"."""
    if x is None or x is pd.NA or x is pd.NaT:
        return True
    if isinstance(x, str):
        return not x.strip()
    try:
        return bool(pd.api.types.is_scalar(x) and pd.isna(x))
    except (TypeError, ValueError):
        return False


def _to_decimal(x: Any) -> Decimal | None:
    """Exact decimal of what the number looks like, so rounding matches a reader's expectation.

    None means "not a number we can show" (missing, infinite, or text that is not a number).
    """
    if is_missing(x):
        return None
    if isinstance(x, (bool, np.bool_)):
        return Decimal(int(x))
    if isinstance(x, Decimal):
        d = x
    elif isinstance(x, (int, np.integer)):
        d = Decimal(int(x))
    elif isinstance(x, (float, np.floating)):
        d = Decimal(repr(float(x)))  # repr: shortest decimal that round-trips, i.e. what was meant
    elif isinstance(x, str):
        try:
            d = Decimal(x.strip())
        except InvalidOperation:
            return None
    else:
        try:
            d = Decimal(repr(float(x)))
        except (TypeError, ValueError, InvalidOperation):
            return None
    return d if d.is_finite() else None  # x/0 gives inf: as unknown as a missing value


def _number(d: Decimal, decimals: int) -> str:
    with localcontext() as ctx:
        ctx.prec = 60
        q = d.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
        if q.is_zero():
            q = abs(q)  # never "-0"
        text = f"{q:,.{decimals}f}"
    return text.replace(",", NBSP).replace(".", ",")


def _signed(d: Decimal, decimals: int) -> str:
    """'+3,2', '-1,0' and '±0,0': a change must show its direction, and no change must look like none."""
    text = _number(d, decimals)
    if text.startswith("-"):
        return text
    return ("±" if text.strip("0,") == "" else "+") + text


def _fallback(x: Any) -> str:
    return DASH if is_missing(x) else str(x)


def _is_nonfinite(x: Any) -> bool:
    return isinstance(x, (float, np.floating, Decimal)) and not is_missing(x) and not math.isfinite(float(x))


def _fmt(x: Any, decimals: int, suffix: str = "", *, signed: bool = False, scale: Decimal | None = None) -> str:
    d = _to_decimal(x)
    if d is None:  # text that is not a number is shown as it is rather than hidden or crashing a table
        return DASH if is_missing(x) or _is_nonfinite(x) else str(x)
    if scale is not None:
        d = d * scale
    text = _signed(d, decimals) if signed else _number(d, decimals)
    return f"{text}{NBSP}{suffix}" if suffix else text


def fmt_number(x: Any, decimals: int = 0) -> str:
    return _fmt(x, decimals)


def fmt_int(x: Any) -> str:
    return _fmt(x, 0)


def fmt_delta_int(x: Any) -> str:
    return _fmt(x, 0, signed=True)


def fmt_kr(x: Any, decimals: int = 0, *, signed: bool = False) -> str:
    return _fmt(x, decimals, "kr", signed=signed)


def fmt_kr_kpi(x: Any) -> str:
    """A key figure in kronor that fits its box: exact up to 999 999 999 kr, then '33,65 mdkr' (a region's or
    the nation's costs over many years); the tables below it keep the exact amount."""
    try:
        big = x is not None and not pd.isna(x) and abs(float(x)) >= 1_000_000_000
    except (TypeError, ValueError):
        big = False
    return _fmt(x, 2, "mdkr", scale=Decimal("0.000000001")) if big else fmt_kr(x)


def fmt_tkr(x: Any, decimals: int = 0, *, signed: bool = False) -> str:
    """Kronor shown in thousands: budgets read better as '2 411 tkr' than as seven digits."""
    return _fmt(x, decimals, "tkr", signed=signed, scale=Decimal("0.001"))


def fmt_pct(share: Any, decimals: int = 1) -> str:
    """A share 0..1 as per cent: metrics keep shares, only the display multiplies by 100."""
    return _fmt(share, decimals, "%", scale=Decimal(100))


def fmt_pp(delta_share: Any, decimals: int = 1) -> str:
    """A difference of two shares in percentage points, so '+3,2 procentenheter' is not misread as +3,2 %."""
    return _fmt(delta_share, decimals, "procentenheter", signed=True, scale=Decimal(100))


def _as_datetime(d: Any) -> dt.date | None:
    if isinstance(d, np.datetime64):
        d = pd.Timestamp(d)
    if isinstance(d, dt.date):  # also datetime and pd.Timestamp
        return d
    if isinstance(d, str):
        s = d.strip()
        try:
            return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
        except ValueError:
            try:
                return pd.Timestamp(s).to_pydatetime()
            except (ValueError, TypeError, OverflowError):
                return None
    return None


def _date_text(d: Any, fmt: Callable[[dt.date], str]) -> str:
    """A date as `fmt` writes it; missing as the dash, and what is not a date as it is."""
    if is_missing(d):
        return DASH
    v = _as_datetime(d)
    return str(d) if v is None else fmt(v)


def fmt_date(d: Any) -> str:
    """ISO dates (2021-03-05): the Swedish standard, and they sort as text."""
    return _date_text(d, lambda v: f"{v.year:04d}-{v.month:02d}-{v.day:02d}")


MONTHS = ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september", "oktober",
          "november", "december")


def fmt_date_long(d: Any) -> str:
    """'30 mars 2022': a date in a sentence a reader reads aloud (tables keep ISO, `fmt_date`)."""
    return _date_text(d, lambda v: f"{v.day} {MONTHS[v.month - 1]} {v.year}")


def fmt_datetime(d: Any) -> str:
    """'2021-03-05 14:30', e.g. when data were loaded; a plain date gets no invented time."""
    if is_missing(d):
        return DASH
    v = _as_datetime(d)
    if v is None:
        return str(d)
    if not isinstance(v, dt.datetime):
        return fmt_date(v)
    return f"{fmt_date(v)} {v.hour:02d}:{v.minute:02d}"


def fmt_text(x: Any) -> str:
    return _fallback(x)


FORMATTERS: dict[str, Callable[[Any], str]] = {
    "int": fmt_int,
    "kr": fmt_kr,
    "tkr": fmt_tkr,
    "pct": fmt_pct,
    "pp": fmt_pp,
    "delta": fmt_delta_int,
    "date": fmt_date,
    "datetime": fmt_datetime,
    "number": lambda x: fmt_number(x, 1),
    "months": lambda x: fmt_number(x, 1),
    "text": fmt_text,
}


def format_table(df: pd.DataFrame, spec: Mapping[str, str | Callable[[Any], str]]) -> pd.DataFrame:
    """Display strings for a table, leaving the caller's frame (and its numbers for sorting/export) intact.

    `spec` maps column -> a FORMATTERS key or a function. Columns not in `df` are
    skipped so one spec can serve tables that show a subset of columns.
    """
    fns: dict[str, Callable[[Any], str]] = {}
    for col, kind in spec.items():
        if callable(kind):
            fns[col] = kind
        elif kind in FORMATTERS:
            fns[col] = FORMATTERS[kind]
        else:
            raise ValueError(f"Okänt format {kind!r} för kolumnen {col!r}; välj bland {sorted(FORMATTERS)}")
    out = df.copy()
    for i, col in enumerate(out.columns):
        fn = fns.get(col)
        if fn is not None:
            out.isetitem(i, pd.Series([fn(v) for v in out.iloc[:, i].tolist()], index=out.index, dtype=object))
    return out


def fmt_count(x: Any, threshold: int) -> str:
    """A count from a protected table: `<5` or `..` where metrics.suppress hid it, else the number."""
    return mark(kind_of(x), threshold) if is_hidden(x) else fmt_int(x)
