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

from core.privacy import contains_personnummer
from core.problems import ERROR, WARNING, Problem
from core.vocabulary import ECONOMY_ITEMS, PARTIES, PARTY_SHARES, SHARE_TOLERANCE

from .derive import derive_participants
from .cells import DIRECTION_BOTH, fold
from .normalise import SHOWN_PER_COLUMN, ParsedTable, categorical, python_values

CONFLICTS_SHOWN = 5  # per pair of files and kind; the rest are counted


def looks_like_personnummer(value: str | None) -> bool:
    """Anything shaped like a personnummer or samordningsnummer (see core.privacy)."""
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
    known |= {fold(n) for t in tables if t.kind == "structural" for n in distinct(t.get("initiative"))}
    few: dict[str, dict] = defaultdict(dict)  # per kind: key -> (table, row), for the small kinds read row by row
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
        elif t.kind == "structural":
            _structural(t, few["structural"])
        elif t.kind == "economy":
            _economy(t, few["economy"])
    _totals_beside_categories([t for t in tables if t.kind == "budget"])
    _allocation_shares([t for t in tables if t.kind == "economy"])
    _directions(tables)
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


def _duplicate(t: ParsedTable, seen: dict, key: tuple, r: dict, column: str, value: object, what: str) -> None:
    """Row by row, for the small kinds (a structural initiative's counts, the association's economy)."""
    key = (t.source, *key)
    if key in seen:
        t.problem(ERROR, row=r["_row"], column=column, value=value, message=(
            f"{what} finns redan på {_where(t, seen[key])}"))
    else:
        seen[key] = (t, r["_row"])


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
        t.problem(ERROR, row=int(t.get("_row").iloc[i]), column=_col(t, "category", "Kostnadsslag"),
                  value="Totalt" if pd.isna(category) else category, message=(
                  "raden med kostnadsslag Totalt står bredvid rader med andra kostnadsslag för samma insats, "
                  "år och finansiär, så summan skulle räknas två gånger; ta bort Totalt-raden eller de andra"))


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
    valid = name.notna().to_numpy() if t.kind != "economy" else np.ones(t.size, bool)  # the association's own
    parts: dict[str, object] = {}
    if t.kind in {"participants", "anonymous", "structural", "economy"}:
        parts["association"] = folded(t.get("association"), "")
    if t.kind != "economy":
        parts["initiative"] = folded(name)
    if t.kind in {"anonymous", "budget", "structural", "economy"}:
        year = t.get("year")
        valid = valid & year.notna().to_numpy()
        parts["year"] = year.fillna(0).to_numpy(dtype=np.int64)
    if t.kind in {"budget", "economy"} and "_skip" in t.frame.columns:
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
    "structural": ("antal deltagare för «{name}» {year}", "En fil med strukturövergripande insatser ersätter "
                                                          "insatsens tidigare antal för året"),
    "economy": ("förbundets ekonomi för {year}", "En fil med förbundets ekonomi ersätter årets tidigare uppgifter"),
}
_UNIT_CELL = {"economy": ("year", "År")}  # the cell a clash is reported at, where it is not the initiative


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
        fld, header = _UNIT_CELL.get(t.kind, ("initiative", "Insats"))  # type: ignore[arg-type]
        cell = t.get(fld)
        for pos, other_t, other_pos in items[:CONFLICTS_SHOWN]:
            text = what.format(name=name.iloc[pos], year=year.iloc[pos])
            t.problem(ERROR, row=int(rows.iloc[pos]), column=_col(t, fld, header),
                      value=python_values(cell.iloc[[pos]])[0], message=(
                      f"{text} finns också i {other_t.place}, rad {int(other_t.get('_row').iloc[other_pos])}. {why}, så "
                      "två filer med samma uppgifter kan inte läsas in samtidigt (den ena skulle räknas dubbelt eller "
                      "skriva över den andra). Är den ena en nyare export: läs in filerna en i taget, den äldre först "
                      "(den senare ersätter den tidigare). Är de delar av samma export: slå ihop dem till en fil"))
        if len(items) > CONFLICTS_SHOWN:
            pos = items[CONFLICTS_SHOWN][0]
            t.problem(ERROR, row=int(rows.iloc[pos]), column=_col(t, fld, header), message=(
                f"ytterligare {len(items) - CONFLICTS_SHOWN} sådana krockar med {items[0][1].place}"))


# ------------------------------------------------------------------ the national follow-up (issue 13)

def _structural(t: ParsedTable, seen: dict) -> None:
    _required_values(t, {"initiative": "Insats", "year": "År", "participant_count": "Antal deltagare"})
    money = [c for fld, c in t.columns.items() if fld in {"budget", "actual", "amount"}]
    if money:
        t.problem(ERROR, row=t.header_row, column=money[0].header, message=(
            "en tabell med antal deltagare i strukturövergripande insatser läser inga belopp; lägg budget och "
            "utfall i budgetfilen (Insats, År, Budget, Utfall) och ta bort kolumnen här, så att inget belopp "
            "tappas"))
    for r in t.records:
        if r.get("initiative") and r.get("year"):
            key = (fold(r.get("association") or ""), fold(r["initiative"]), r["year"])
            _duplicate(t, seen, key, r, _col(t, "initiative", "Insats"), r["initiative"],
                       "samma insats och år (antalet skulle annars räknas två gånger)")


# A financing party's group, from words in its name: the first group any of whose words the name contains.
PARTY_WORDS = {
    "state": ("försäkringskassan", "staten", "statlig", "fk"),
    "region": ("region", "landsting"),
    "municipalities": ("kommun",),
}
PARTY_HELP = (f"ange {PARTIES['state']}, {PARTIES['region']} eller {PARTIES['municipalities']} (eller en kommuns namn "
              "med ordet kommun, till exempel Flens kommun)")


def party_group(name: str) -> str | None:
    """'state', 'region' or 'municipalities' for a party's name; None when it names none or more than one."""
    words = fold(name).replace("-", " ").split()
    found = {group for group, keys in PARTY_WORDS.items()
             if any(w == k or (len(k) > 3 and k in w) for w in words for k in keys)}
    return found.pop() if len(found) == 1 else None


def _economy(t: ParsedTable, seen: dict) -> None:
    """Posts, parties and amounts of the association's economy; the 50/25/25 check is `_allocation_shares`."""
    cols = t.columns
    if "category" not in cols:
        t.problem(ERROR, row=t.header_row, column="Post", message=(
            f"obligatorisk kolumn saknas för {ECONOMY_LABEL}: Post"))
    if not {"amount", "actual", "budget"} & set(cols):
        t.problem(ERROR, row=t.header_row, column="Belopp", message=(
            "obligatorisk kolumn saknas: Belopp, Utfall eller Budget (minst en av dem)"))
    for a, b, why in (("amount", "actual", "årets faktiska belopp"), ("party", "funder", "vilken part beloppet gäller")):
        if a in cols and b in cols:
            t.problem(ERROR, row=t.header_row, column=cols[b].header, message=(
                f"kolumnerna {cols[a].header} och {cols[b].header} betyder samma sak i {ECONOMY_LABEL} ({why}); "
                "ta bort den ena, så att det är klart vilken som gäller"))
    party_field = "party" if "party" in cols or "funder" not in cols else "funder"
    _required_values(t, {"year": "År", "category": "Post"})
    records = t.records  # a few rows: read row by row, and what is decided here written back to the frame
    for r in records:
        bad = r.get("_bad", set())
        if r.get("actual") is None and r.get("amount") is not None:
            r["actual"] = r["amount"]  # Belopp is the year's actual figure
        if r.get("budget") is None and r.get("actual") is None and not ({"budget", "actual", "amount"} & bad):
            t.problem(WARNING, row=r["_row"], column=_col(t, "amount", _col(t, "actual", "Belopp")), message=(
                "raden har inget belopp och hoppas över"))
            r["_skip"] = True
        item, party = r.get("category"), r.get(party_field)
        r["party"] = None
        if item == "allocated":
            if party:
                r["party_group"] = party_group(party)
                r["party"] = party
                if r["party_group"] is None:
                    t.problem(ERROR, row=r["_row"], column=_col(t, party_field, "Part"), value=party, message=(
                        "okänd part; " + PARTY_HELP))
            elif party_field not in bad:
                t.problem(ERROR, row=r["_row"], column=_col(t, party_field, "Part"), message=(
                    "Tilldelade medel behöver en part: " + PARTY_HELP))
        elif item and party:
            t.problem(WARNING, row=r["_row"], column=_col(t, party_field, "Part"), value=party, message=(
                f"part anges bara för Tilldelade medel och läses inte för posten {ECONOMY_ITEMS[item]}"))
        if item and r.get("year") and not r.get("_skip"):
            key = (fold(r.get("association") or ""), r["year"], item, fold(r["party"] or ""))
            _duplicate(t, seen, key, r, _col(t, "category", "Post"), ECONOMY_ITEMS[item],
                       "samma post (år, post och part), som annars skulle räknas två gånger,")
    _write_back(t, records)


def _write_back(t: ParsedTable, records: list[dict]) -> None:
    """The economy's decided fields into the frame, which etl.load writes from."""
    t.frame["actual"] = _objects([r.get("actual") for r in records])
    t.frame["party_group"] = _objects([r.get("party_group") for r in records])
    parties = [r.get("party") for r in records]
    index: dict[str, int] = {}
    codes = np.array([-1 if p is None else index.setdefault(p, len(index)) for p in parties], np.int64)
    t.frame["party"] = categorical(codes, list(index))
    t.frame["_skip"] = np.array([bool(r.get("_skip")) for r in records], bool)


def _objects(values: list) -> np.ndarray:
    out = np.empty(len(values), object)
    out[:] = values
    return out


ECONOMY_LABEL = "förbundets ekonomi"


def _percent(x: float) -> str:
    return f"{x * 100:.1f}".replace(".", ",") + " %"


def _allocation_shares(tables: list[ParsedTable]) -> None:
    """A warning where a year's allocated funds are not shared 50/25/25 between state, region and municipalities."""
    years: dict[tuple, list[tuple[ParsedTable, dict]]] = defaultdict(list)
    for t in tables:
        for r in t.records:
            if r.get("category") == "allocated" and r.get("party_group") and r.get("year") and not r.get("_skip"):
                years[(t.source, fold(r.get("association") or ""), r["year"])].append((t, r))
    for (_, _, year), rows in years.items():
        sums = dict.fromkeys(PARTY_SHARES, 0.0)
        for _, r in rows:
            amount = r.get("actual") if r.get("actual") is not None else r.get("budget")
            if amount is None:
                continue  # a refused amount: its own error names the cell
            sums[r["party_group"]] += float(amount)
        total = sum(sums.values())
        if not total or all(abs(sums[g] / total - share) <= SHARE_TOLERANCE for g, share in PARTY_SHARES.items()):
            continue
        t, r = rows[0]
        shares = ", ".join(f"{PARTIES[g]} {_percent(sums[g] / total)}" for g in PARTY_SHARES)
        t.problem(WARNING, row=r["_row"], column=_col(t, "category", "Post"), value=ECONOMY_ITEMS["allocated"],
                  message=(
                  f"tilldelade medel för {year} fördelas {shares}; enligt finsamlagen bidrar staten genom "
                  "Försäkringskassan med hälften och regionen och kommunerna med en fjärdedel var (50/25/25). "
                  "Kontrollera beloppen (filen läses in ändå)"))


def _directions(tables: list[ParsedTable]) -> None:
    """Within one call: an initiative is individual (participants, anonymous counts) or structural (counts), not both."""
    register: dict[str, tuple[ParsedTable, dict]] = {}
    individual: dict[str, tuple[ParsedTable, dict]] = {}
    for t in tables:
        if t.kind == "initiatives" and "direction" in t.frame.columns:  # a register: a few rows
            for r in t.records:
                if r.get("initiative") and r.get("direction"):
                    register.setdefault(fold(r["initiative"]), (t, r))
        elif t.kind in {"participants", "anonymous"} and t.size:  # maybe a million rows: each initiative's first
            key = folded(t.get("initiative"))
            codes, first = np.unique(np.asarray(key.codes), return_index=True)
            rows = t.get("_row").to_numpy()
            for c, i in zip(codes.tolist(), first.tolist()):
                if c >= 0:
                    individual.setdefault(key.categories[c], (t, {"_row": int(rows[i])}))
    reported: set[str] = set()
    for t in tables:
        if t.kind != "structural":
            continue
        for r in t.records:
            key = fold(r.get("initiative") or "")
            if not key or key in reported:
                continue
            reg = register.get(key)
            if reg and reg[1]["direction"] == "individual":
                why = f"är individinriktad enligt insatsregistret ({_place(t, reg)})"
            elif key in individual:
                why = f"har deltagare med individuppgifter ({_place(t, individual[key])})"
            else:
                continue
            reported.add(key)
            t.problem(ERROR, row=r["_row"], column=_col(t, "initiative", "Insats"), value=r["initiative"], message=(
                f"insatsen {why} och kan inte också räknas som strukturövergripande; {DIRECTION_BOTH}"))
    for key, (t, r) in register.items():
        if r["direction"] == "structural" and key in individual and key not in reported:
            t.problem(ERROR, row=r["_row"], column=_col(t, "direction", "Inriktning"), value=r["initiative"], message=(
                f"insatsen anges som strukturövergripande men har deltagare med individuppgifter "
                f"({_place(t, individual[key])}); {DIRECTION_BOTH}"))


def _place(t: ParsedTable, other: tuple[ParsedTable, dict]) -> str:
    """Where another table's row is, as a message names it: the row, or the file (and sheet) and row."""
    o, r = other
    if o.source == t.source:
        return _where(t, (o, r["_row"]))
    return f"{o.place}, rad {r['_row']}"
