"""A column as its distinct values and one code per row, so that every check and parser runs once per value.

An export of a million enrollments has a few thousand distinct initiatives, dates and referrer
units; only the id is (nearly) unique per row. So etl.normalise parses and checks each distinct
value once, with the same Python functions as always, and spreads the result over the rows with
numpy. For a CSV the distinct values are also an Arrow array, and the checks that would still run
a million times (the ids: is it blank, is it clean text, may it hold a personnummer or a control
character) first run as one Arrow pass (RE2) that keeps only the values that *may* need Python:
every value that is not ASCII, and every ASCII value that an ASCII translation of the Python
pattern matches (`\\w` as `[A-Za-z0-9_]`, `\\s` as `[\\t-\\r\\x1c-\\x1f ]`, which is what Python's
Unicode classes are on ASCII; lookarounds left out, so the translation matches at least as much).
Python then decides those values exactly: the answers are the ones Python gives for every value.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import limits

# Python's \s and \w on ASCII, for RE2 (whose classes are ASCII-only)
_S = r"[\t-\r\x1c-\x1f ]"
_NOT_WS = r"[^A-Za-z0-9_\t-\r\x1c-\x1f ]"  # [^\w\s]
_NOT_W = r"[^A-Za-z0-9_]"  # \W
_PREFIX = (rf"(?:p{_NOT_W}{{0,2}}nr|pers(?:on)?{_NOT_W}{{0,2}}nr|personnummer|samordningsnr|samordningsnummer|"
           rf"s{_NOT_W}?nr)")
# core.privacy's _FULL and _NINE, and _WHOLE_SHORT_LINES for text columns (see there)
PNR_SUPERSET = rf"\d{{6}}(?:{_S}+|{_NOT_WS}){{0,3}}\d{{4}}|\d{{9}}"
PNR_WHOLE_SUPERSET = (PNR_SUPERSET + rf"|(?im:^[^A-Za-z0-9_\n]*(?:{_PREFIX}[^A-Za-z0-9_\n]*)?\d{{7,9}}(?:[.,]0+)?"
                      r"[^A-Za-z0-9_\n]*$)")
# etl.cells' control characters (exact), and the ASCII values str.split() would change or text() empty
CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x{7f}-\x{9f}]"
NOT_CLEAN = rf"^$|^{_S}|{_S}$|{_S}{_S}|[\t\n\x0b\x0c\r\x1c-\x1f]"
ALL_SPACE = rf"^{_S}*$"  # an ASCII value that str.strip() empties


# A value none of these matches (and ASCII, and not long) is plain: not blank, its own text(), no control
# character, no personnummer, no summary word. Most values of a column with many (the ids) are plain, so one
# RE2 pass over them settles them, and the patterns above run only on the rest.
ODD = "|".join([CONTROL, NOT_CLEAN, PNR_WHOLE_SUPERSET, r"(?i:sum|tot)"])


@dataclass
class Factorised:
    """`codes[i]` is row i's value in `values`; the last value is always None (a row without the field)."""
    codes: np.ndarray  # int32, one per row
    values: list  # the distinct values (Python objects), then None
    arrow: pa.Array | None = None  # values[:-1] as Arrow strings (a CSV's column), for the vectorised checks
    _odd: np.ndarray | None = field(default=None, repr=False)

    def padded(self, rows: int) -> Factorised:
        """The same column over `rows` rows, the rows past its end without a value."""
        if rows <= len(self.codes):
            return self
        codes = np.concatenate([self.codes, np.full(rows - len(self.codes), len(self.values) - 1, np.int32)])
        return Factorised(codes, self.values, self.arrow, self.odd())

    def odd(self) -> np.ndarray:
        """Positions (in `values`, the final None left out) of the values that are not plain (see ODD)."""
        if self._odd is None:
            if self.arrow is None:
                self._odd = np.arange(len(self.values) - 1)
            else:
                a = self.arrow
                hit = pc.or_(pc.or_(pc.invert(pc.string_is_ascii(a)), pc.match_substring_regex(a, ODD)),
                             pc.greater(pc.utf8_length(a), limits.MAX_CELL_CHARS))
                self._odd = np.flatnonzero(hit.to_numpy(zero_copy_only=False))
        return self._odd

    def maybe(self, pattern: str | None = None, *, substrings: tuple[str, ...] = (), long: int | None = None
              ) -> np.ndarray:
        """Positions of the values Python must look at: not ASCII, or matching `pattern` (RE2) or a substring
        (any case), or longer than `long`. All positions when the column is not Arrow's."""
        odd = self.odd()
        if self.arrow is None or not len(odd):
            return odd
        a = self.arrow.take(pa.array(odd))
        hit = pc.invert(pc.string_is_ascii(a))
        if pattern is not None:
            hit = pc.or_(hit, pc.match_substring_regex(a, pattern))
        for sub in substrings:
            hit = pc.or_(hit, pc.match_substring(a, sub, ignore_case=True))
        if long is not None:
            hit = pc.or_(hit, pc.greater(pc.utf8_length(a), long))
        return odd[hit.to_numpy(zero_copy_only=False)]


def factorise(column: pa.Array | pa.ChunkedArray | list) -> Factorised:
    """Codes and distinct values of an Arrow string column (a CSV's) or a list of cells (Excel's).

    Excel cells are told apart by type as well as value: True, 1 and 1.0 are three values.
    """
    if isinstance(column, (pa.Array, pa.ChunkedArray)):
        if isinstance(column, pa.ChunkedArray):  # one column at a time: chunk-wise encoding repeats the dictionary
            column = column.combine_chunks()
        encoded = column if isinstance(column, pa.DictionaryArray) else pc.dictionary_encode(column)
        dictionary = encoded.dictionary
        missing = len(dictionary)
        codes = pc.fill_null(encoded.indices, missing).to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
        return Factorised(codes, [*dictionary.to_pylist(), None], dictionary)
    index: dict[object, int] = {}  # text by itself, anything else with its type
    codes = np.fromiter((-1 if v is None else index.setdefault(v if v.__class__ is str else (v.__class__, v),
                                                               len(index)) for v in column),
                        dtype=np.int32, count=len(column))
    codes[codes < 0] = len(index)
    return Factorised(codes, [k if k.__class__ is str else k[1] for k in index] + [None])


def per_value(f: Factorised, fn: Callable, default, positions: np.ndarray) -> list:
    """fn(value) at `positions` (and for the final None), `default` elsewhere."""
    out = [default] * len(f.values)
    for k in positions.tolist():
        out[k] = fn(f.values[k])
    out[-1] = fn(None)
    return out


def candidates(f: Factorised, positions: np.ndarray) -> tuple[list, list[int]]:
    """The values at `positions`, and the final None, with their positions in `values`."""
    where = [*positions.tolist(), len(f.values) - 1]
    return [f.values[k] for k in where], where


def blank(f: Factorised, is_blank: Callable) -> np.ndarray:
    """Per value: is it blank. A plain value is not; an ASCII one is when RE2 finds only whitespace."""
    out = np.zeros(len(f.values), bool)
    out[-1] = True
    if f.arrow is None:
        out[:-1] = [is_blank(v) for v in f.values[:-1]]
        return out
    odd = f.odd()
    a = f.arrow.take(pa.array(odd))
    ascii_ = pc.string_is_ascii(a).to_numpy(zero_copy_only=False)
    out[odd] = pc.match_substring_regex(a, ALL_SPACE).to_numpy(zero_copy_only=False) & ascii_
    for k in odd[~ascii_].tolist():
        out[k] = is_blank(f.values[k])
    return out
