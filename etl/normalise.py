"""Raw rows → typed columns: find the header, recognise the table, check and parse every column.

The cells themselves are read by etl.cells: each parser raises `ValueError` with a Swedish
message, and `normalise_table` turns those into problems with the cell's coordinates, so one bad cell
never hides the next. The work is column-wise: each column is factorised into its distinct values (etl.columns), every distinct
value is checked and parsed once, and the results are spread over the rows with numpy. The
checks that guard what is stored (personnummer, control characters, cells Excel could not give
us) come first, for every cell. A column with many faults lists the first `SHOWN_PER_COLUMN`
and counts the rest.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.problems import ERROR, NOTICE, WARNING, Problem

from . import columns as fc
from .aliases import KIND_DETECTION, KINDS, display_name, match_header
from .cells import (PNR_CELL, PNR_ID, PNR_LOST_ZEROS, STRUCTURAL_MAX, TEXT_FIELDS, clean_text, field_parsers, is_blank,
                    parse_amount, pnr_values, shown_value, text, texts, unsafe_values)
from .read import Table
from .xlsx import column_letters

HEADER_SCAN_ROWS = 30
# A summary row: its first filled cell starts with one of these words ("Summa", "Summa Steget före", "Totalt:").
SUMMARY = re.compile(r"(?i)^(?:(?:del|total)?summa|totalt?|sum)\b")


# ---------------------------------------------------------------- tables


@dataclass
class Column:
    index: int
    field: str
    header: str
    multiplier: int = 1


# How a field is held in ParsedTable.frame: dates as datetime64, whole numbers Int64, consent boolean, text as
# a pandas Categorical (one code per row, each distinct name once), amounts and shares as Python objects
DATE_FIELDS = {"start_date", "end_date"}
INT_FIELDS = {"birth_year", "age", "age_at_start", "exit_reason", "year", "women", "men", "other",
              "target_participants", "participant_count"}
BOOL_FIELDS = {"consent"}
TEXT_VALUED = {"participant_id", "initiative", "association", "referrer", "income_at_start", "income_at_exit",
               "education", "category", "funder", "owner", "partners", "sex", "agency", "target_group", "party"}


@dataclass
class ParsedTable:
    file: str
    sheet: str | None
    kind: str | None
    header_row: int | None = None  # as Excel shows it
    columns: dict[str, Column] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    source: int = 0  # which file of the call (etl.load numbers them)
    # One row per data row, column-wise: "_row" (the row as Excel shows it) and one column per field (see
    # DATE_FIELDS …), a refused cell as missing
    frame: pd.DataFrame = field(default_factory=lambda: pd.DataFrame({"_row": np.zeros(0, np.int64)}))
    bad: dict[str, np.ndarray] = field(default_factory=dict)  # field -> the rows whose cell was refused

    def problem(self, severity: str, *, row: int | None = None, column: str | None = None, value: object = None,
                message: str) -> None:
        """A problem in this table; a place or value it does not have is left out, not passed as None."""
        self.problems.append(Problem(severity, self.file, self.sheet, row, column, value, message))

    @property
    def place(self) -> str:
        """How another message names this table: the file, and the sheet if there is one."""
        return f"{self.file}, blad {self.sheet}" if self.sheet else self.file

    @property
    def size(self) -> int:
        return len(self.frame)

    def get(self, fld: str) -> pd.Series:
        """The field's column, or one without any value when the table has no such column."""
        if fld in self.frame.columns:
            return self.frame[fld]
        return as_series(_missing(fld, self.size), index=self.frame.index)

    def is_bad(self, fld: str) -> np.ndarray:
        return self.bad.get(fld, np.zeros(self.size, bool))

    @property
    def records(self) -> list[dict]:
        """The rows as dicts (dates as datetime.date, numbers as int, missing as None), as the tests read them.

        "_bad" holds the fields whose cell was refused and "_skip" marks a row etl.validate leaves out,
        where there are any. Built anew on each call: the frame is what etl.validate and etl.load use.
        """
        names = [c for c in self.frame.columns if c != "_skip"]
        columns = [python_values(self.frame[c]) for c in names]
        out = [dict(zip(names, row)) for row in zip(*columns)]
        for fld, mask in self.bad.items():
            for k in np.flatnonzero(mask):
                out[k].setdefault("_bad", set()).add(fld)
        if "_skip" in self.frame.columns:
            for k in np.flatnonzero(self.frame["_skip"].to_numpy(dtype=bool)):
                out[k]["_skip"] = True
        return out


def as_series(values, index=None) -> pd.Series:
    """A column for a frame; Python objects stay objects (pandas would make text its own string type, None NaN)."""
    if isinstance(values, np.ndarray) and values.dtype == object:
        return pd.Series(values, dtype=object, index=index, copy=False)
    return pd.Series(values, index=index, copy=False)


def _missing(fld: str, n: int):
    if fld in DATE_FIELDS:
        return np.full(n, np.datetime64("NaT"), "datetime64[s]")
    if fld in INT_FIELDS:
        return pd.array([None] * n, dtype="Int64")
    if fld in BOOL_FIELDS:
        return pd.array([None] * n, dtype="boolean")
    if fld in TEXT_VALUED:
        return categorical(np.full(n, -1, np.int64), [])
    return np.full(n, None, object)


def categorical(codes: np.ndarray, names: list[str]) -> pd.Categorical:
    """Codes into `names` (distinct strings; -1 for missing) as a pandas Categorical that keeps them as objects."""
    return pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(pd.Index(names, dtype=object)))


def python_values(series: pd.Series) -> list:
    """A frame column as Python values: datetime.date, int, bool, str, Decimal, float; None where missing."""
    if series.dtype.kind == "M":
        return series.to_numpy().astype("datetime64[D]").astype(object).tolist()
    if isinstance(series.dtype, pd.api.extensions.ExtensionDtype) and series.dtype != object:
        return series.to_numpy(dtype=object, na_value=None).tolist()
    return series.to_numpy(dtype=object).tolist()


def typed(fld: str, values: list, codes: np.ndarray):
    """Values of `fld` (one per distinct cell, None where missing or refused) spread over the rows by `codes`."""
    if fld in DATE_FIELDS:
        return np.array(values, dtype="datetime64[D]")[codes].astype("datetime64[s]")
    if fld in INT_FIELDS or fld in BOOL_FIELDS:
        missing = np.array([v is None for v in values], bool)
        if fld in BOOL_FIELDS:
            data = np.array([bool(v) if v is not None else False for v in values], bool)
            return pd.arrays.BooleanArray(data[codes], missing[codes])
        data = np.array([int(v) if v is not None else 0 for v in values], np.int64)
        return pd.arrays.IntegerArray(data[codes], missing[codes])
    if fld in TEXT_VALUED:
        present = np.fromiter((v is not None for v in values), bool, len(values))
        names = list(itertools.compress(values, present))
        if len(set(names)) == len(names):  # each parsed value once (the ids, mostly)
            remap = np.cumsum(present) - 1
            remap[~present] = -1
        else:  # two cells that parse alike ("K", "Kvinna") become one name
            index: dict[str, int] = {}
            remap = np.array([-1 if v is None else index.setdefault(v, len(index)) for v in values], np.int64)
            names = list(index)
        return categorical(remap[codes], names)
    out = np.empty(len(values), object)
    out[:] = values
    return out[codes]


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




HIDDEN = {"hidden": "dolt", "veryHidden": "mycket dolt (kan bara visas med VBA)"}


SHOWN_PER_COLUMN = 100  # messages about one column (or one rule) of a table; the rest are counted
# Fields held as dates, numbers or booleans: a column of one that its table's kind does not read is left out
# (with a notice), not read as text that cannot be held so
TYPED_FIELDS = DATE_FIELDS | INT_FIELDS | BOOL_FIELDS


def normalise_table(table: Table) -> ParsedTable:
    head = table.head(HEADER_SCAN_ROWS)
    found = find_header(head)
    fields = {fld for _, fld, _ in found[1]} if found else set()
    kind = detect_kind(fields) if found else None
    parsed = ParsedTable(table.file, table.sheet, kind)
    parsed.problems.extend(table.problems)
    cols = _Columns(table)
    if not found or not kind:
        if cols.any_value():
            what = f"bladet är {HIDDEN[table.hidden]} och " if table.hidden in HIDDEN else "bladet "
            parsed.problem(NOTICE, message=(
                what + "känns inte igen som deltagare, anonyma deltagare, budget, insatsregister, "
                "strukturövergripande insatser eller förbundets ekonomi och hoppas över"))
        return parsed
    label = KINDS[kind]["label"]
    header_idx, matched = found
    header = head[header_idx]
    parsed.header_row = header_row = header_idx + 1
    for j, fld, mult in matched:
        if fld not in parsed.columns:
            parsed.columns[fld] = Column(j, fld, text(header[j]) or "", mult)
    columns = parsed.columns
    if table.hidden in HIDDEN:
        parsed.problem(ERROR, message=(
            f"bladet är {HIDDEN[table.hidden]} i Excel men innehåller en tabell med {label}; det läses inte "
            "in utan att du har sett det. Visa bladet om det ska läsas in (högerklicka på en bladflik → "
            "Visa), eller ta bort det"))
    _header_shape(parsed, header, matched)
    for req in KINDS[kind]["required"]:  # type: ignore[union-attr]
        if req not in columns:
            parsed.problem(ERROR, row=header_row, column=display_name(req), message=(
                f"obligatorisk kolumn saknas för {label}: {display_name(req)}"))
    if kind == "budget" and not ({"budget", "actual"} & set(columns)):
        parsed.problem(ERROR, row=header_row, column="Budget", message=(
            "obligatorisk kolumn saknas: Budget eller Utfall (minst en av dem)"))
    if kind == "anonymous" and "participant_count" in columns:
        _count_beside_sexes(parsed)
    _unread_columns(parsed, label)
    data = _data_rows(parsed, table, header_idx, header, cols)
    _read_columns(parsed, table, data, cols)
    if kind == "anonymous" and "direction" in columns:
        _counts_by_sex(parsed)
    elif kind == "structural" and "direction" in columns:
        _structural_rows_individual(parsed)
    return parsed


def _unread_columns(parsed: ParsedTable, label: str) -> None:
    """A date, number or yes/no column its table's kind does not read (År in a participants file, Startdatum in
    a budget) is left out with a notice: it is not stored, and as text it could not be held in its field."""
    parsers = field_parsers(parsed.kind)  # type: ignore[arg-type]
    for fld, col in list(parsed.columns.items()):
        if fld in TYPED_FIELDS and fld not in parsers:
            del parsed.columns[fld]
            parsed.problem(NOTICE, row=parsed.header_row, column=col.header, message=(
                f"kolumnen {col.header} hör inte till en tabell med {label} och läses inte in"))


def _sex_headers(parsed: ParsedTable) -> list[str]:
    return [parsed.columns[f].header for f in ("women", "men", "other") if f in parsed.columns]


def _and(names: list[str]) -> str:
    return " och ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else "".join(names)


def _count_beside_sexes(parsed: ParsedTable) -> None:
    """Antal deltagare (a structural initiative's count, without sex) beside Kvinnor/Män (anonymous participants by
    sex): which kind of table it is, and which count holds, would be a guess. An error; the column is not read."""
    col = parsed.columns.pop("participant_count")
    sexes = _and(_sex_headers(parsed))
    parsed.problem(ERROR, row=parsed.header_row, column=col.header, message=(
        f"tabellen har både kolumnen {col.header} (antal deltagare i en strukturövergripande insats, utan "
        f"kön) och {sexes} (anonyma deltagare per kön), så det går inte att veta vilken sorts tabell det är "
        f"eller vilket antal som gäller. Anonyma deltagare i individinriktade insatser: ta bort kolumnen "
        f"{col.header}. Strukturövergripande insatser: ta bort {sexes} (de redovisas utan kön), eller "
        "ersätt kolumnen med Inriktning = Strukturövergripande, så läses summan av Kvinnor, Män och Annat "
        "som antal deltagare"))


def _counts_by_sex(parsed: ParsedTable) -> None:
    """Counts by sex with an Inriktning column. Strukturövergripande on every row: a structural initiative's counts,
    read as such (participants = Kvinnor + Män + Annat per initiative and year; structural counts carry no sex),
    with a warning, never as anonymous individuals. Individinriktad or empty on every row: anonymous counts as
    before. Both in one table: the rows that are not strukturövergripande are errors."""
    direction = parsed.get("direction").to_numpy(dtype=object)
    structural = direction == "structural"
    if not structural.any():
        return
    header = parsed.columns["direction"].header
    rows = parsed.get("_row").to_numpy()
    first = int(rows[np.flatnonzero(structural)[0]])
    other = ~structural & ~parsed.is_bad("direction")
    if other.any():
        at = np.flatnonzero(other)
        for i in at[:SHOWN_PER_COLUMN]:
            value = "Individinriktad" if direction[i] == "individual" else None
            what = "är individinriktad" if value else "saknar inriktning"
            parsed.problem(ERROR, row=int(rows[i]), column=header, value=value, message=(
                f"raden {what}, men rad {first} är strukturövergripande. En tabell med Kvinnor och Män "
                "läses antingen som anonyma deltagare i individinriktade insatser eller som antal deltagare "
                "i strukturövergripande insatser, inte båda; lägg de strukturövergripande insatserna på ett "
                "eget blad eller i en egen fil (och ange inriktning på varje rad)"))
        if len(at) > SHOWN_PER_COLUMN:
            parsed.problem(ERROR, row=int(rows[at[SHOWN_PER_COLUMN]]), column=header, message=(
                f"ytterligare {len(at) - SHOWN_PER_COLUMN} rader är inte strukturövergripande"))
        return
    sexes = _sex_headers(parsed)
    frame, cols = parsed.frame, parsed.columns
    women, men = parsed.get("women"), parsed.get("men")
    missing = np.zeros(parsed.size, bool)
    bad = np.zeros(parsed.size, bool)
    for fld in ("women", "men", "other"):
        bad |= parsed.is_bad(fld)
    for fld, values in (("women", women), ("men", men)):
        if fld in cols:
            gone = values.isna().to_numpy() & ~bad
            for i in np.flatnonzero(gone)[:SHOWN_PER_COLUMN]:
                parsed.problem(ERROR, row=int(rows[i]), column=cols[fld].header, message=(
                    f"värde saknas i obligatorisk kolumn {cols[fld].header}"))
            missing |= gone
    count = women.astype("Int64") + men.astype("Int64") + parsed.get("other").astype("Int64").fillna(0)
    too_many = (count > STRUCTURAL_MAX).fillna(False).to_numpy(dtype=bool) & ~bad
    for i in np.flatnonzero(too_many)[:SHOWN_PER_COLUMN]:
        parsed.problem(ERROR, row=int(rows[i]), column=cols["women"].header if "women" in cols else header,
                       value=str(count.iloc[i]), message=(
                       f"summan av {_and(sexes)} ska vara ett icke-negativt heltal mellan 0 och {STRUCTURAL_MAX}"))
    bad |= missing | too_many
    count = count.mask(bad)
    anchor = cols.get("women") or cols.get("men") or cols["direction"]
    for fld in ("women", "men", "other", "direction"):
        cols.pop(fld, None)
        parsed.bad.pop(fld, None)
        if fld in frame.columns:
            del frame[fld]
    frame["participant_count"] = count.astype("Int64")
    cols["participant_count"] = Column(anchor.index, "participant_count", " + ".join(sexes), 1)
    if bad.any():
        parsed.bad["participant_count"] = bad
    parsed.kind = "structural"
    parsed.problem(WARNING, row=parsed.header_row, column=header, message=(
        f"tabellen har {_and(sexes)}, men Inriktning är Strukturövergripande på varje rad, så den läses "
        f"som antal deltagare i strukturövergripande insatser, inte som anonyma deltagare: antalet per insats "
        f"och år är summan av {_and(sexes)}, uppdelningen på kön sparas inte (strukturövergripande insatser "
        "redovisas utan kön), och antalen räknas inte in bland deltagarna, de nya eller andelen kvinnor utan "
        "visas bara i Uppföljning Finsam. Är det anonyma deltagare i individinriktade insatser: ändra "
        "Inriktning till Individinriktad eller ta bort kolumnen"))


def _structural_rows_individual(parsed: ParsedTable) -> None:
    """A row of structural counts (no sex) that Inriktning calls individinriktad: it is not a structural count."""
    direction = parsed.get("direction").to_numpy(dtype=object)
    rows = parsed.get("_row").to_numpy()
    header = parsed.columns["direction"].header
    at = np.flatnonzero(direction == "individual")
    for i in at[:SHOWN_PER_COLUMN]:
        parsed.problem(ERROR, row=int(rows[i]), column=header, value="Individinriktad", message=(
            "raden är individinriktad, men en tabell med Antal deltagare (utan kön) läses som "
            "strukturövergripande insatser. Individinriktade insatsers deltagare läses in per deltagare, "
            "eller som anonyma deltagare med kolumnerna Kvinnor och Män"))
    if len(at) > SHOWN_PER_COLUMN:
        parsed.problem(ERROR, row=int(rows[at[SHOWN_PER_COLUMN]]), column=header, message=(
            f"ytterligare {len(at) - SHOWN_PER_COLUMN} rader är individinriktade"))


class _Columns:
    """The table's columns, each factorised once (etl.columns) when first asked for, over `rows` rows."""

    def __init__(self, table: Table):
        self.table = table
        self.rows = table.n_rows
        self._done: dict[int, fc.Factorised] = {}
        self._blank: dict[int, np.ndarray] = {}

    def __getitem__(self, j: int) -> fc.Factorised:
        if j not in self._done:
            self._done[j] = fc.factorise(self.table.column(j))
        return self._done[j].padded(self.rows)

    def blank(self, j: int) -> np.ndarray:
        """Per distinct value of column j: is it blank."""
        if j not in self._blank:
            self._blank[j] = fc.blank(self[j], is_blank)
        return self._blank[j]

    def any_value(self) -> bool:
        return any(not self.blank(j)[self[j].codes].all() for j in range(self.table.width))


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
        parsed.problem(ERROR, row=parsed.header_row, message=(
            f"rubrikraden har två grupper av kända rubriker med tom kolumn emellan (kolumn {spans}): två "
            "tabeller bredvid varandra läses inte, eftersom den ena annars skulle tappas. Lägg varje tabell "
            "på ett eget blad, eller ta bort den tomma kolumnen om det är en och samma tabell"))
        return
    first: dict[str, int] = {}
    for j, fld, _ in matched:
        if fld in first:
            a, b = first[fld], j
            parsed.problem(ERROR, row=parsed.header_row, column=text(header[b]), message=(
                f"kolumn {column_letters(b)} («{text(header[b])}») betyder samma sak som kolumn "
                f"{column_letters(a)} («{text(header[a])}»), {display_name(fld)}; ta bort eller byt namn på "
                "den ena, så att det är klart vilken som gäller"))
        else:
            first[fld] = j


def _is_summary(v: object) -> bool:
    return isinstance(v, str) and bool(SUMMARY.match(clean_text(v)))


def _data_rows(parsed: ParsedTable, table: Table, header_idx: int, header: list[object], cols: _Columns) -> np.ndarray:
    """The indexes of the data rows (row number - 1); summary rows and cells without a header are settled here.

    Column-wise: a row is blank when every column is blank there, a summary row when its first
    non-blank cell is a summary word (not in Kostnadsslag or Finansiär, where "Totalt" is data).
    """
    mapped = {c.index for c in parsed.columns.values()}
    bad_rows = {r for (r, j) in table.bad_cells if j in mapped}
    # "Totalt" is an ordinary value of Kostnadsslag and Finansiär, not a summary
    exempt = {c.index for f, c in parsed.columns.items() if f in {"category", "funder"}}
    width = max((j + 1 for j, c in enumerate(header) if not is_blank(c)), default=0)
    unnamed = {j for j in range(width) if is_blank(header[j])}
    # calamine ends a sheet at its last cell with a value: rows of uncached formulas may lie beyond it
    cols.rows = total = max(table.n_rows, max(bad_rows, default=0))
    start = header_idx + 1
    n = max(total - start, 0)
    is_bad = np.zeros(n, bool)
    is_bad[[r - 1 - start for r in bad_rows if r - 1 >= start]] = True
    row_blank = np.ones(n, bool)
    first = np.full(n, -1, np.int64)  # the first non-blank column of each row
    length = np.zeros(n, np.int64)  # fields in the row (a CSV row may be shorter than the header)
    filled: dict[int, np.ndarray] = {}
    for j in range(table.width):
        f = cols[j]
        codes = f.codes[start:]
        present = codes < len(f.values) - 1
        nonblank = ~cols.blank(j)[codes]
        row_blank &= ~nonblank
        first[nonblank & (first < 0)] = j
        length[present] = j + 1
        filled[j] = nonblank
    summary = np.zeros(n, bool)
    for j in range(table.width):
        sel = first == j
        if j not in exempt and sel.any():
            f = cols[j]
            per = np.asarray(fc.per_value(f, _is_summary, False, f.maybe(substrings=("sum", "tot"))), bool)
            summary[sel] = per[f.codes[start:][sel]]
    keep = is_bad | (~row_blank & ~summary)
    data = np.flatnonzero(keep)
    last = data[-1] + start + 1 if len(data) else 0
    for i in np.flatnonzero(~is_bad & ~row_blank & summary):
        r = i + start + 1
        if r < last:
            word = clean_text(cols[first[i]].values[cols[first[i]].codes[i + start]])
            parsed.problem(ERROR, row=r, value=word, message=(
                "raden ser ut som en summeringsrad men står mitt i tabellen, så det går inte att veta om "
                "den är en delsumma (som skulle räknas dubbelt) eller data. Ta bort raden, eller flytta "
                "summeringen under tabellen"))
    unnamed_used: dict[int, int] = {}
    beyond = np.zeros(n, bool)
    for j in range(width, table.width):
        beyond |= filled[j]
    if table.source == "csv":
        overflow = np.flatnonzero(keep & beyond & (length > width))
        for i in overflow[:5]:
            parsed.problem(ERROR, row=int(i) + start + 1, message=(
                f"raden har {length[i]} fält men rubrikraden bara {width}, så värdena hamnar under fel "
                "rubrik. Troligen står avgränsningstecknet i ett värde utan citattecken (t.ex. 1,5 i en "
                "kommaseparerad fil); sätt värdet inom citattecken eller ta bort det extra fältet"))
        if len(overflow) > 5:
            parsed.problem(ERROR, row=int(overflow[5]) + start + 1, message=(
                f"ytterligare {len(overflow) - 5} rader har fler fält än rubrikraden"))
    else:
        unnamed = unnamed | set(range(width, table.width))
    for j in sorted(unnamed):
        used = np.flatnonzero(keep & filled[j]) if j in filled else []
        if len(used):
            unnamed_used[j] = int(used[0]) + start + 1
    for j, r in sorted(unnamed_used.items()):
        parsed.problem(NOTICE, row=r, column=column_letters(j), message=(
            f"kolumn {column_letters(j)} har värden men ingen rubrik och läses inte in"))
    for message in table.unplaced:
        parsed.problem(ERROR, message=message)
    return data + start


def _read_columns(parsed: ParsedTable, table: Table, data: np.ndarray, cols: _Columns) -> None:
    """Check and parse the table column by column, each distinct value once; fills `parsed.frame` and `.bad`."""
    found: list[tuple[int, int, Problem]] = []
    parsers = field_parsers(parsed.kind)  # type: ignore[arg-type]
    rows = data + 1
    frame: dict[str, object] = {"_row": rows.astype(np.int64)}
    bad_cells_of: dict[int, dict[int, str]] = {}
    for (r, j), message in table.bad_cells.items():
        bad_cells_of.setdefault(j, {})[r] = message
    for fld, col in parsed.columns.items():
        j = col.index
        f = cols[j]
        values = f.values
        parser = parsers.get(fld, text)
        amount = parser is parse_amount  # its values are amounts, not ids (core.privacy: the 7–9-digit rule)
        if parser is parse_amount:
            parser = (lambda mult: lambda v: parse_amount(v, mult))(col.multiplier)
        # what is wrong with each distinct value: control characters or length, personnummer, or the parse
        why: dict[int, str] = {}
        shown: dict[int, object] = {}
        for k, message in unsafe_values(f).items():
            why[k], shown[k] = message, values[k]
        for k, lost_zeros in pnr_values(f, whole_number=fld in TEXT_FIELDS, amount=amount).items():
            if k not in why:
                why[k] = (PNR_ID if fld == "participant_id" else PNR_CELL) + (PNR_LOST_ZEROS if lost_zeros else "")
                shown[k] = "(visas inte)"
        if parser is text:
            parsed_values = texts(f)
            for k in why:
                parsed_values[k] = None
        else:
            parsed_values = [None] * len(values)
            for k, v in enumerate(values):
                if k not in why:
                    try:
                        parsed_values[k] = parser(v)
                    except (ValueError, ArithmeticError, TypeError) as exc:
                        why[k] = str(exc) if isinstance(exc, ValueError) else "värdet går inte att tolka"
                        shown[k] = shown_value(v)
        codes = f.codes[data]
        wrong_value = np.zeros(len(values), bool)
        wrong_value[list(why)] = True
        wrong = wrong_value[codes]
        cell_faults = bad_cells_of.get(j, {})
        faulty = np.array([r in cell_faults for r in rows.tolist()], bool) if cell_faults else np.zeros(len(rows), bool)
        wrong |= faulty
        if wrong.any():
            parsed.bad[fld] = wrong
            at = np.flatnonzero(wrong)
            for i in at[:SHOWN_PER_COLUMN]:
                r = int(rows[i])
                if faulty[i]:
                    value, message = None, f"cell {column_letters(j)}{r}: {cell_faults[r]}"
                else:
                    value, message = shown[codes[i]], why[codes[i]]
                found.append((r, j, Problem(ERROR, parsed.file, parsed.sheet, r, col.header, value, message,
                                            amount=amount)))
            if len(at) > SHOWN_PER_COLUMN:
                r = int(rows[at[SHOWN_PER_COLUMN]])
                found.append((r, j, Problem(ERROR, parsed.file, parsed.sheet, r, col.header, None,
                                            f"ytterligare {len(at) - SHOWN_PER_COLUMN} rader har fel i kolumnen "
                                            f"(de första {SHOWN_PER_COLUMN} visas ovan)")))
            if faulty.any():  # a cell Excel could not give: no value at all (not even what a blank cell parses to)
                parsed_values = [*parsed_values, None]
                codes = np.where(faulty, len(parsed_values) - 1, codes)
        frame[fld] = typed(fld, parsed_values, codes)
    found.sort(key=lambda item: (item[0], item[1]))
    parsed.problems.extend(p for _, _, p in found)
    parsed.frame = pd.DataFrame({k: as_series(v) for k, v in frame.items()})


