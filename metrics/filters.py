"""What a view is narrowed to. One immutable value, so it can key caches and URLs alike.

A period is two dates; the board's periods are recognised from them: a calendar year (helår), a
tertial (January–April, May–August, September–December) and the interim report's delår
(January–August).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace



@dataclass(frozen=True)
class Filters:
    start: dt.date
    end: dt.date
    initiatives: tuple[str, ...] = ()  # empty = all
    agencies: tuple[str, ...] = ()
    sexes: tuple[str, ...] = ()  # subset of SEXES
    associations: tuple[str, ...] = ()  # empty = all (a database may hold several associations)

    @classmethod
    def year(cls, year: int, **kw) -> "Filters":
        return cls(dt.date(year, 1, 1), dt.date(year, 12, 31), **kw)

    @classmethod
    def tertial(cls, year: int, n: int, **kw) -> "Filters":
        """Tertial 1 (January–April), 2 (May–August) or 3 (September–December) of `year`."""
        if n not in (1, 2, 3):
            raise ValueError(n)
        first = dt.date(year, 4 * n - 3, 1)
        last = dt.date(year, 4 * n + 1, 1) - dt.timedelta(days=1) if n < 3 else dt.date(year, 12, 31)
        return cls(first, last, **kw)

    @classmethod
    def interim(cls, year: int, **kw) -> "Filters":
        """The interim report's delår: January–August."""
        return cls(dt.date(year, 1, 1), dt.date(year, 8, 31), **kw)

    @property
    def tertial_number(self) -> int | None:
        """1, 2 or 3 where the period is exactly a tertial, else None."""
        for n in (1, 2, 3):
            t = Filters.tertial(self.start.year, n)
            if (self.start, self.end) == (t.start, t.end):
                return n
        return None

    @property
    def is_interim(self) -> bool:
        return (self.start, self.end) == (dt.date(self.start.year, 1, 1), dt.date(self.start.year, 8, 31))

    @property
    def is_calendar_year(self) -> bool:
        return (self.start.month, self.start.day, self.end.month, self.end.day) == (1, 1, 12, 31) and (
            self.start.year == self.end.year
        )

    @property
    def years(self) -> list[int]:
        return list(range(self.start.year, self.end.year + 1))

    def previous(self) -> "Filters":
        """What a period is compared with: the same board period a year earlier for a year, a tertial or
        the delår (as board reports do); otherwise the period of equal length just before."""
        if self.is_calendar_year or self.tertial_number or self.is_interim:
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
            "associations": list(self.associations),
        }
