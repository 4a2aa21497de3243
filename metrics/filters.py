"""What a view is narrowed to. One immutable value, so it can key caches and URLs alike."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from core.vocabulary import SEXES


@dataclass(frozen=True)
class Filters:
    start: dt.date
    end: dt.date
    initiatives: tuple[str, ...] = ()  # empty = all
    agencies: tuple[str, ...] = ()
    sexes: tuple[str, ...] = ()  # subset of SEXES

    @classmethod
    def year(cls, year: int, **kw) -> "Filters":
        return cls(dt.date(year, 1, 1), dt.date(year, 12, 31), **kw)

    @property
    def is_calendar_year(self) -> bool:
        return (self.start.month, self.start.day, self.end.month, self.end.day) == (1, 1, 12, 31) and (
            self.start.year == self.end.year
        )

    @property
    def years(self) -> list[int]:
        return list(range(self.start.year, self.end.year + 1))

    def previous(self) -> "Filters":
        """The period of equal length just before: the previous year for a calendar year."""
        if self.is_calendar_year:
            return replace(self, start=self.start.replace(year=self.start.year - 1),
                           end=self.end.replace(year=self.end.year - 1))
        length = self.end - self.start
        end = self.start - dt.timedelta(days=1)
        return replace(self, start=end - length, end=end)

    def with_(self, **kw) -> "Filters":
        return replace(self, **kw)

    def params(self) -> dict:
        return {
            "start": self.start,
            "end": self.end,
            "initiatives": list(self.initiatives),
            "agencies": list(self.agencies),
            "sexes": list(self.sexes),
        }
