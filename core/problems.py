"""Every problem found in a file, with the coordinates staff need to fix it in Excel.

Whatever a message carries from a file (a value, a sheet or file name, a header) passes through
`safe_text`: personnummer-shaped numbers are masked, control characters shown as visible symbols
(an ANSI escape or a NUL never reaches a terminal raw) and very long values cut short. A `Problem`
applies it when it is made and again when it is printed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .privacy import INVISIBLE, mask

ERROR = "fel"
WARNING = "varning"
NOTICE = "notis"

VALUE_LIMIT = 80  # characters of a cell value shown in a message
NAME_LIMIT = 120  # file, sheet and column names
MESSAGE_LIMIT = 2000

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # tab, and line ends of our own messages, stay


def _visible(m: re.Match) -> str:
    code = ord(m[0])
    if code < 0x20:
        return chr(0x2400 + code)  # ␀, ␛, … (Unicode's control pictures)
    return "\u2421" if code == 0x7F else "\ufffd"


def safe_text(value: object, limit: int | None = None, *, whole_number: bool = False, amount: bool = False) -> str:
    """`value` as text fit for a message: no personnummer, no control characters, at most `limit` characters.

    `amount`: `value` is an amount column's cell; one written as an amount (`-1234567`, `−1 234 567 kr`)
    is shown as written, since only the full personnummer shapes are masked in it (core.privacy.mask).
    """
    s = INVISIBLE.sub("", str(value)).replace("\r\n", "\n").replace("\r", "\n")
    if limit is not None:  # a value or a name stays on one line
        s = s.replace("\n", " ").replace("\t", " ")
    s = mask(_CONTROL.sub(_visible, s), whole_number=whole_number, amount=amount)
    if limit is not None and len(s) > limit:
        s = s[: limit - 1].rstrip() + "…"
    return s


@dataclass(frozen=True)
class Problem:
    severity: str
    file: str
    sheet: str | None
    row: int | None
    column: str | None
    value: object
    message: str
    # `value` is an amount column's cell (see safe_text): how it is masked, not what the problem says
    amount: bool = field(default=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        for name, limit in (("file", NAME_LIMIT), ("sheet", NAME_LIMIT), ("column", NAME_LIMIT)):
            v = getattr(self, name)
            if v is not None:
                object.__setattr__(self, name, safe_text(v, limit))
        if self.value is not None and self.value != "":
            object.__setattr__(self, "value", safe_text(self.value, VALUE_LIMIT, whole_number=True, amount=self.amount))
        object.__setattr__(self, "message", safe_text(self.message, MESSAGE_LIMIT))

    def __str__(self) -> str:
        value = "" if self.value is None or self.value == "" else f'"{self.value}"'
        where = ", ".join([self.file, self.sheet or "–", f"rad {self.row}" if self.row else "–", self.column or "–"])
        if self.amount and value:
            # The line is masked as a whole (a number could span two of its parts) but for the amount, which is
            # masked as one: a letter in its place keeps anything on either side from joining through it.
            left = safe_text(f"{self.severity.upper()}: {where}, Z")[:-1]
            right = safe_text(f"Z: {self.message}")[1:]
            return f'{left}"{safe_text(self.value, whole_number=True, amount=True)}"{right}'
        return safe_text(f"{self.severity.upper()}: {where}, {value or '–'}: {self.message}")


def has_errors(problems: list[Problem]) -> bool:
    return any(p.severity == ERROR for p in problems)


class FileRefused(Exception):
    """A file the loader will not read, with the Swedish reason and, where known, the sheet and row."""

    def __init__(self, message: str, *, sheet: str | None = None, row: int | None = None,
                 column: str | None = None):
        super().__init__(message)
        self.message, self.sheet, self.row, self.column = message, sheet, row, column

    def problem(self, file: str) -> Problem:
        return Problem(ERROR, file, self.sheet, self.row, self.column, None, self.message)
