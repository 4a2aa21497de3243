"""Rules across cells, rows and files. Every problem is collected (never stop at the first) so staff
can fix a file in one go; a participants table then goes on to etl.derive.

Across the files of one call: a file is a snapshot that replaces what it covers (etl.load), so
the same initiative (participants), initiative and year (budget, anonymous counts) or register
entry may come from one file only. Two files covering it would either count it twice or let one
silently overwrite the other; the call is refused, naming both places. Within one file (over its
sheets) the same enrollment, budget line or count twice is an error for the same reason.

Every rule runs column-wise over a table's frame (etl.normalise); messages are made only for
the rows that break a rule, the first `SHOWN_PER_COLUMN` of each rule, and the rest counted.
Messages come in the order of the rows, as staff read the file.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import numpy as np
import pandas as pd

from .derive import derive_participants
from .normalise import SHOWN_PER_COLUMN, ParsedTable, categorical, fold
from .privacy import contains_personnummer
from .problems import ERROR, WARNING, Problem

CONFLICTS_SHOWN = 5  # per pair of files and kind; the rest are counted


def looks_like_personnummer(value: str | None) -> bool:
    """Anything shaped like a personnummer or samordningsnummer (see etl.privacy)."""
    return bool(value) and contains_personnummer(value)


def validate(tables: list[ParsedTable], known_initiatives: set[str], skipped: set[int] = frozenset()) -> list[Problem]:
    """Row, file and cross-file rules; `known_initiatives` are folded names already in the database.

    `skipped`: the sources (files) that will not be written (already loaded), left out of the
    cross-file rule.
    """
    problems: list[Problem] = []
    known = set(known_initiatives)
    for t in tables:
        if t.kind in {"participants", "anonymous", "initiatives"}:
            known |= {fold(n) for n in distinct(t.get("initiative"))}
    seen: dict[tuple, list] = defaultdict(list)  # per kind and file: (table, keys) of the tables so far
    for t in tables:
        if t.kind == "participants":
            _participants(t, seen)
        elif t.kind == "anonymous":
            _anonymous(t, seen)
        elif t.kind == "budget":
            _budget(t, known, seen)
        elif t.kind == "initiatives":
            _register(t, seen)
    _totals_beside_categories([t for t in tables if t.kind == "budget"])
    _snapshots([t for t in tables if t.source not in skipped])
    for t in tables:
        problems.extend(t.problems)
    return problems


def _col(t: ParsedTable, fld: str, fallback: str) -> str:
    return t.columns[fld].header if fld in t.columns else fallback


def distinct(values: pd.Series) -> list[str]:
    """The names a text column (a Categorical) holds, in the order they first occur."""
    codes = values.cat.codes.to_numpy()
    names = values.cat.categories
    return [names[k] for k in pd.unique(codes[codes >= 0])]


def folded(values: pd.Series, default: str | None = None) -> pd.Categorical:
    """fold() of each value of a text column, once per distinct name; fold(default) (or missing) where it has none."""
    names = [fold(n) for n in values.cat.categories] + [None if default is None else fold(default)]
    index: dict[str, int] = {}
    remap = np.array([-1 if n is None else index.setdefault(n, len(index)) for n in names], np.int64)
    codes = values.cat.codes.to_numpy().astype(np.int64)
    return categorical(remap[np.where(codes < 0, len(names) - 1, codes)], list(index))


class _Found:
    """Problems of one table: collected per rule, then added in the order of the rows (and rules)."""

    def __init__(self, t: ParsedTable):
        self.t = t
        self.items: list[tuple[int, int, Problem]] = []
        self.rows = t.get("_row").to_numpy()

    def rule(self, order: int, mask: np.ndarray, severity: str, column: str,
             value: Callable[[int], object], message: Callable[[int], str]) -> None:
        """A problem for each row of `mask` (the first SHOWN_PER_COLUMN of them, then one that counts the rest)."""
        at = np.flatnonzero(mask)
        for i in at[:SHOWN_PER_COLUMN]:
            self.add(i, order, severity, column, value(i), message(i))
        if len(at) > SHOWN_PER_COLUMN:
            i = at[SHOWN_PER_COLUMN]
            self.add(i, order, severity, column, None,
                     f"ytterligare {len(at) - SHOWN_PER_COLUMN} rader har samma fel, till exempel den här: {message(i)}")

    def add(self, i: int, order: int, severity: str, column: str | None, value: object, message: str) -> None:
        r = int(self.rows[i])
        self.items.append((int(i), order, Problem(severity, self.t.file, self.t.sheet, r, column, value, message)))

    def flush(self) -> None:
        self.items.sort(key=lambda item: (item[0], item[1]))
        self.t.problems.extend(p for _, _, p in self.items)
        self.items = []


def _required_values(t: ParsedTable, fields: dict[str, str]) -> None:
    found = _Found(t)
    for order, (fld, name) in enumerate(fields.items()):
        if fld in t.columns:
            found.rule(order, t.get(fld).isna().to_numpy() & ~t.is_bad(fld), ERROR, _col(t, fld, name),
                       lambda i: None, lambda i, name=name: f"värde saknas i obligatorisk kolumn {name}")
    found.flush()


def _where(t: ParsedTable, first: tuple[ParsedTable, int]) -> str:
    """Row N, or sheet X, row N when the first occurrence is on another sheet of the file."""
    other, row = first
    return f"rad {row}" if other is t else f"blad {other.sheet}, rad {row}"


def _duplicates(t: ParsedTable, seen: dict, kind: str, keys: dict[str, np.ndarray], valid: np.ndarray
                ) -> tuple[np.ndarray, dict[int, tuple[ParsedTable, int]]]:
    """Rows of `t` whose key (over `valid` rows) an earlier row of this table or file already had.

    Returns the mask and, for each such row, where the key came first (table, row).
    """
    mine = pd.DataFrame(keys)
    mine["_pos"] = np.arange(t.size)
    mine["_table"] = len(seen[(kind, t.source)])
    mine = mine[valid]
    earlier = seen[(kind, t.source)]
    tables = [other for other, _ in earlier] + [t]
    everything = pd.concat([frame for _, frame in earlier] + [mine], ignore_index=True) if earlier else mine
    seen[(kind, t.source)].append((t, mine))
    names = list(keys)
    again = everything.duplicated(subset=names, keep="first").to_numpy() & (everything["_table"] == len(tables) - 1).to_numpy()
    mask = np.zeros(t.size, bool)
    firsts: dict[int, tuple[ParsedTable, int]] = {}
    if again.any():
        repeated = everything[again]
        first = everything.drop_duplicates(subset=names, keep="first")
        matched = repeated.merge(first, on=names, how="left", suffixes=("", "_first"))
        for pos, table_no, first_pos in zip(matched["_pos"], matched["_table_first"], matched["_pos_first"]):
            other = tables[int(table_no)]
            firsts[int(pos)] = (other, int(other.get("_row").iloc[int(first_pos)]))
        mask[repeated["_pos"].to_numpy()] = True
    return mask, firsts


def _duplicate_rule(found: _Found, order: int, mask: np.ndarray, firsts: dict, column: str,
                    values: pd.Series, what: str) -> None:
    t = found.t
    found.rule(order, mask, ERROR, column, lambda i: values.iloc[i],
               lambda i: f"{what} finns redan på {_where(t, firsts[int(i)])}")


def _participants(t: ParsedTable, seen: dict) -> None:
    _required_values(t, {"participant_id": "Deltagar-ID", "initiative": "Insats", "start_date": "Startdatum"})
    found = _Found(t)
    start, end = t.get("start_date"), t.get("end_date")
    s, e = start.to_numpy(), end.to_numpy()
    has_start, has_end = ~np.isnat(s), ~np.isnat(e)
    iso = lambda d: str(np.datetime64(d, "D"))  # noqa: E731 - dates in messages as 2021-01-10
    found.rule(0, has_start & has_end & (e < s), ERROR, _col(t, "end_date", "Slutdatum"),
               lambda i: iso(e[i]), lambda i: f"slutdatum ligger före startdatum ({iso(s[i])})")
    reason = t.get("exit_reason")
    found.rule(1, reason.notna().to_numpy() & ~has_end & ~t.is_bad("end_date"), ERROR,
               _col(t, "exit_reason", "Avslutsorsak"), lambda i: str(reason.iloc[i]),
               lambda i: "avslutsorsak utan slutdatum; fyll i slutdatum, eller ta bort avslutsorsaken om deltagaren "
                         "fortfarande är inskriven")
    birth = t.get("birth_year")
    born = birth.fillna(0).to_numpy(dtype=np.int64)
    start_year = s.astype("datetime64[Y]").astype(np.int64) + 1970
    found.rule(2, has_start & (born > 0) & (born > start_year), ERROR, _col(t, "birth_year", "Födelseår"),
               lambda i: str(born[i]), lambda i: f"födelseåret ligger efter startdatumet ({iso(s[i])})")
    pid, name = t.get("participant_id"), t.get("initiative")
    valid = pid.notna().to_numpy() & name.notna().to_numpy() & has_start
    if valid.any():
        keys = {"association": folded(t.get("association"), ""), "participant_id": pid.array,
                "initiative": folded(name), "start_date": s}
        mask, firsts = _duplicates(t, seen, "participants", keys, valid)
        _duplicate_rule(found, 3, mask, firsts, _col(t, "participant_id", "Deltagar-ID"), pid,
                        "samma deltagare, insats och startdatum")
    found.flush()
    derive_participants(t)


def _anonymous(t: ParsedTable, seen: dict) -> None:
    _required_values(t, {"initiative": "Insats", "year": "År", "women": "Kvinnor", "men": "Män"})
    found = _Found(t)
    name, year = t.get("initiative"), t.get("year")
    valid = name.notna().to_numpy() & year.notna().to_numpy()
    if valid.any():
        keys = {"association": folded(t.get("association"), ""), "initiative": folded(name),
                "year": year.fillna(0).to_numpy(dtype=np.int64)}
        mask, firsts = _duplicates(t, seen, "anonymous", keys, valid)
        _duplicate_rule(found, 0, mask, firsts, _col(t, "initiative", "Insats"), name,
                        "samma insats och år (anonyma deltagare räknas annars två gånger)")
    found.flush()


def _budget(t: ParsedTable, known: set[str], seen: dict) -> None:
    _required_values(t, {"initiative": "Insats", "year": "År"})
    found = _Found(t)
    nothing = (t.get("budget").isna().to_numpy() & t.get("actual").isna().to_numpy()
               & ~t.is_bad("budget") & ~t.is_bad("actual"))
    found.rule(0, nothing, WARNING, _col(t, "budget", "Budget"), lambda i: None,
               lambda i: "raden har varken budget eller utfall och hoppas över")
    t.frame["_skip"] = nothing
    name, year = t.get("initiative"), t.get("year")
    key = folded(name)
    has_name = name.notna().to_numpy()
    # the first row of each unknown initiative
    codes = np.asarray(key.codes)
    names, first = np.unique(codes, return_index=True)
    unknown = np.zeros(t.size, bool)
    unknown[[i for c, i in zip(names.tolist(), first.tolist()) if c >= 0 and key.categories[c] not in known]] = True
    found.rule(1, unknown, WARNING, _col(t, "initiative", "Insats"), lambda i: name.iloc[i],
               lambda i: "budgetraden gäller en insats som inte finns bland deltagare eller i insatsregistret; "
                         "kontrollera stavningen")
    valid = has_name & year.notna().to_numpy() & ~nothing
    if valid.any():
        keys = {"initiative": key, "year": year.fillna(0).to_numpy(dtype=np.int64),
                "category": folded(t.get("category"), "Totalt"), "funder": folded(t.get("funder"), "Förbundet")}
        mask, firsts = _duplicates(t, seen, "budget", keys, valid)
        _duplicate_rule(found, 2, mask, firsts, _col(t, "initiative", "Insats"), name,
                        "samma budgetrad (insats, år, kostnadsslag och finansiär), som annars skulle räknas två "
                        "gånger,")
    found.flush()


def _totals_beside_categories(tables: list[ParsedTable]) -> None:
    """A `Totalt` line next to other categories of the same initiative, year and funder is a sum: it would double."""
    parts = []
    for n, t in enumerate(tables):
        name, year = t.get("initiative"), t.get("year")
        valid = name.notna().to_numpy() & year.notna().to_numpy() & ~t.frame["_skip"].to_numpy(dtype=bool)
        if not valid.any():
            continue
        parts.append(pd.DataFrame({
            "source": t.source, "initiative": np.asarray(folded(name), object),
            "year": year.fillna(0).to_numpy(dtype=np.int64),
            "funder": np.asarray(folded(t.get("funder"), "Förbundet"), object),
            "total": np.asarray(folded(t.get("category"), "Totalt"), object) == "totalt", "table": n,
            "pos": np.arange(t.size),
        })[valid])
    if not parts:
        return
    lines = pd.concat(parts, ignore_index=True)
    lines["group"] = lines.groupby(["source", "initiative", "year", "funder"], sort=False).ngroup()
    totals = lines.groupby("group")["total"].agg(["any", "all"])
    mixed = totals.index[totals["any"] & ~totals["all"]]
    for _, line in lines[lines["group"].isin(mixed) & lines["total"]].sort_values(["group"], kind="stable").iterrows():
        t = tables[int(line["table"])]
        i = int(line["pos"])
        category = t.get("category").iloc[i]
        t.problem(ERROR, int(t.get("_row").iloc[i]), _col(t, "category", "Kostnadsslag"),
                  "Totalt" if pd.isna(category) else category,
                  "raden med kostnadsslag Totalt står bredvid rader med andra kostnadsslag för samma insats, "
                  "år och finansiär, så summan skulle räknas två gånger; ta bort Totalt-raden eller de andra")


def _register(t: ParsedTable, seen: dict) -> None:
    _required_values(t, {"initiative": "Insats"})
    found = _Found(t)
    name = t.get("initiative")
    valid = name.notna().to_numpy()
    if valid.any():
        mask, firsts = _duplicates(t, seen, "initiatives", {"initiative": folded(name)}, valid)
        _duplicate_rule(found, 0, mask, firsts, _col(t, "initiative", "Insats"), name, "insatsen (i registret)")
    s, e = t.get("start_date").to_numpy(), t.get("end_date").to_numpy()
    iso = lambda d: str(np.datetime64(d, "D"))  # noqa: E731
    found.rule(1, ~np.isnat(s) & ~np.isnat(e) & (e < s), ERROR, _col(t, "end_date", "Slutdatum"),
               lambda i: iso(e[i]), lambda i: f"slutdatum ligger före startdatum ({iso(s[i])})")
    found.flush()


def _units(t: ParsedTable) -> pd.DataFrame:
    """What each row of `t` replaces in the database (etl.load): the unit two files of a call may not share.

    One row per distinct unit, at its first row: columns `unit` (a tuple) and `pos`.
    """
    name = t.get("initiative")
    valid = name.notna().to_numpy()
    parts: dict[str, object] = {}
    if t.kind in {"participants", "anonymous"}:
        parts["association"] = folded(t.get("association"), "")
    parts["initiative"] = folded(name)
    if t.kind in {"anonymous", "budget"}:
        year = t.get("year")
        valid = valid & year.notna().to_numpy()
        parts["year"] = year.fillna(0).to_numpy(dtype=np.int64)
    if t.kind == "budget":
        valid = valid & ~t.frame["_skip"].to_numpy(dtype=bool)
    frame = pd.DataFrame(parts)
    frame["pos"] = np.arange(t.size)
    frame = frame[valid].drop_duplicates(subset=list(parts), keep="first")
    return pd.DataFrame({"unit": list(zip(*(frame[k].tolist() for k in parts))), "pos": frame["pos"].to_numpy()})


_SNAPSHOT_TEXT = {
    "participants": ("deltagare i insatsen «{name}»", "En deltagarexport ersätter allt som finns för insatsen"),
    "anonymous": ("anonyma deltagare för «{name}» {year}", "En fil med anonyma deltagare ersätter insatsens tidigare "
                                                           "antal för året"),
    "budget": ("budget för «{name}» {year}", "En budgetfil ersätter insatsens tidigare budgetrader för året"),
    "initiatives": ("insatsen «{name}» i insatsregistret", "Ett insatsregister ersätter insatsens tidigare uppgifter"),
}


def _snapshots(tables: list[ParsedTable]) -> None:
    first: dict[tuple, tuple[ParsedTable, int]] = {}
    clashes: dict[tuple, list[tuple[int, ParsedTable, int]]] = defaultdict(list)
    for t in tables:
        # a unit's first row in each table is the only one that can be first anywhere or clash
        for unit, pos in zip(*_units(t).to_dict("list").values()):
            key = (t.kind, unit)
            if key not in first:
                first[key] = (t, pos)
            elif first[key][0].source != t.source:
                other_t, other_pos = first[key]
                clashes[(id(t), id(other_t))].append((pos, other_t, other_pos))
    by_id = {id(t): t for t in tables}
    for (tid, _), items in clashes.items():
        t = by_id[tid]
        what, why = _SNAPSHOT_TEXT[t.kind]  # type: ignore[index]
        name, year, rows = t.get("initiative"), t.get("year"), t.get("_row")
        for pos, other_t, other_pos in items[:CONFLICTS_SHOWN]:
            text = what.format(name=name.iloc[pos], year=year.iloc[pos])
            t.problem(ERROR, int(rows.iloc[pos]), _col(t, "initiative", "Insats"), name.iloc[pos],
                      f"{text} finns också i {other_t.place}, rad {int(other_t.get('_row').iloc[other_pos])}. {why}, så "
                      "två filer med samma uppgifter kan inte läsas in samtidigt (den ena skulle räknas dubbelt eller "
                      "skriva över den andra). Är den ena en nyare export: läs in filerna en i taget, den äldre först "
                      "(den senare ersätter den tidigare). Är de delar av samma export: slå ihop dem till en fil")
        if len(items) > CONFLICTS_SHOWN:
            pos = items[CONFLICTS_SHOWN][0]
            t.problem(ERROR, int(rows.iloc[pos]), _col(t, "initiative", "Insats"), None,
                      f"ytterligare {len(items) - CONFLICTS_SHOWN} sådana krockar med {items[0][1].place}")
