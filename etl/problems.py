"""Every problem found in a file, with the coordinates staff need to fix it in Excel."""
from __future__ import annotations

from dataclasses import dataclass

ERROR = "fel"
WARNING = "varning"
NOTICE = "notis"


@dataclass(frozen=True)
class Problem:
    severity: str
    file: str
    sheet: str | None
    row: int | None
    column: str | None
    value: object
    message: str

    def __str__(self) -> str:
        value = "" if self.value is None or self.value == "" else f'"{self.value}"'
        where = ", ".join(
            [
                self.file,
                self.sheet or "–",
                f"rad {self.row}" if self.row else "–",
                self.column or "–",
                value or "–",
            ]
        )
        return f"{self.severity.upper()}: {where}: {self.message}"


def has_errors(problems: list[Problem]) -> bool:
    return any(p.severity == ERROR for p in problems)
