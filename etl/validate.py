"""Rules across cells, rows and files. Every problem is collected (never stop at the first) so staff
can fix a file in one go; a participants table then goes on to etl.derive.

Across the files of one call: a file is a snapshot that replaces what it covers (etl.load), so
the same initiative (participants), initiative and year (budget, anonymous counts) or register
entry may come from one file only. Two files covering it would either count it twice or let one
silently overwrite the other; the call is refused, naming both places. Within one file (over its
sheets) the same enrollment, budget line or count twice is an error for the same reason.
"""
from __future__ import annotations

from collections import defaultdict

from core.vocabulary import ECONOMY_ITEMS, PARTIES, PARTY_SHARES, SHARE_TOLERANCE

from .derive import derive_participants
from .normalise import DIRECTION_BOTH, ParsedTable, fold
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
            known |= {fold(r["initiative"]) for r in t.records if r.get("initiative")}
    known |= {fold(r["initiative"]) for t in tables if t.kind == "structural" for r in t.records if r.get("initiative")}
    seen: dict[str, dict] = defaultdict(dict)  # per kind: key -> (table, row), over the tables of one file
    for t in tables:
        if t.kind == "participants":
            _participants(t, seen["participants"])
        elif t.kind == "anonymous":
            _anonymous(t, seen["anonymous"])
        elif t.kind == "budget":
            _budget(t, known, seen["budget"])
        elif t.kind == "initiatives":
            _register(t, seen["initiatives"])
        elif t.kind == "structural":
            _structural(t, seen["structural"])
        elif t.kind == "economy":
            _economy(t, seen["economy"])
    _totals_beside_categories([t for t in tables if t.kind == "budget"])
    _allocation_shares([t for t in tables if t.kind == "economy"])
    _directions(tables)
    _snapshots([t for t in tables if t.source not in skipped])
    for t in tables:
        problems.extend(t.problems)
    return problems


def _col(t: ParsedTable, fld: str, fallback: str) -> str:
    return t.columns[fld].header if fld in t.columns else fallback


def _required_values(t: ParsedTable, fields: dict[str, str]) -> None:
    for r in t.records:
        for fld, name in fields.items():
            if fld in t.columns and r.get(fld) is None and fld not in r.get("_bad", ()):
                t.problem(ERROR, r["_row"], _col(t, fld, name), None, f"värde saknas i obligatorisk kolumn {name}")


def _where(t: ParsedTable, first: tuple[ParsedTable, int]) -> str:
    """Row N, or sheet X, row N when the first occurrence is on another sheet of the file."""
    other, row = first
    return f"rad {row}" if other is t else f"blad {other.sheet}, rad {row}"


def _duplicate(t: ParsedTable, seen: dict, key: tuple, r: dict, column: str, value: object, what: str) -> None:
    key = (t.source, *key)
    if key in seen:
        t.problem(ERROR, r["_row"], column, value, f"{what} finns redan på {_where(t, seen[key])}")
    else:
        seen[key] = (t, r["_row"])


def _participants(t: ParsedTable, seen: dict) -> None:
    _required_values(t, {"participant_id": "Deltagar-ID", "initiative": "Insats", "start_date": "Startdatum"})
    for r in t.records:
        start, end, bad = r.get("start_date"), r.get("end_date"), r.get("_bad", ())
        if start and end and end < start:
            t.problem(ERROR, r["_row"], _col(t, "end_date", "Slutdatum"), end.isoformat(),
                      f"slutdatum ligger före startdatum ({start.isoformat()})")
        if r.get("exit_reason") is not None and end is None and "end_date" not in bad:
            t.problem(ERROR, r["_row"], _col(t, "exit_reason", "Avslutsorsak"), str(r["exit_reason"]),
                      "avslutsorsak utan slutdatum; fyll i slutdatum, eller ta bort avslutsorsaken om deltagaren "
                      "fortfarande är inskriven")
        if start and r.get("birth_year") and r["birth_year"] > start.year:
            t.problem(ERROR, r["_row"], _col(t, "birth_year", "Födelseår"), str(r["birth_year"]),
                      f"födelseåret ligger efter startdatumet ({start.isoformat()})")
        if r.get("participant_id") and r.get("initiative") and start:
            key = (fold(r.get("association") or ""), r["participant_id"], fold(r["initiative"]), start)
            _duplicate(t, seen, key, r, _col(t, "participant_id", "Deltagar-ID"), r["participant_id"],
                       "samma deltagare, insats och startdatum")
    derive_participants(t)


def _anonymous(t: ParsedTable, seen: dict) -> None:
    _required_values(t, {"initiative": "Insats", "year": "År", "women": "Kvinnor", "men": "Män"})
    for r in t.records:
        if r.get("initiative") and r.get("year"):
            key = (fold(r.get("association") or ""), fold(r["initiative"]), r["year"])
            _duplicate(t, seen, key, r, _col(t, "initiative", "Insats"), r["initiative"],
                       "samma insats och år (anonyma deltagare räknas annars två gånger)")


def _budget(t: ParsedTable, known: set[str], seen: dict) -> None:
    _required_values(t, {"initiative": "Insats", "year": "År"})
    unknown: dict[str, int] = {}
    for r in t.records:
        if r.get("budget") is None and r.get("actual") is None and not ({"budget", "actual"} & r.get("_bad", set())):
            t.problem(WARNING, r["_row"], _col(t, "budget", "Budget"), None,
                      "raden har varken budget eller utfall och hoppas över")
            r["_skip"] = True
        name = r.get("initiative")
        if name and fold(name) not in known and fold(name) not in unknown:
            unknown[fold(name)] = r["_row"]
            t.problem(WARNING, r["_row"], _col(t, "initiative", "Insats"), name,
                      "budgetraden gäller en insats som inte finns bland deltagare eller i insatsregistret; "
                      "kontrollera stavningen")
        if name and r.get("year") and not r.get("_skip"):
            key = (fold(name), r["year"], fold(r.get("category") or "Totalt"), fold(r.get("funder") or "Förbundet"))
            _duplicate(t, seen, key, r, _col(t, "initiative", "Insats"), name,
                       "samma budgetrad (insats, år, kostnadsslag och finansiär), som annars skulle räknas två gånger,")


def _totals_beside_categories(tables: list[ParsedTable]) -> None:
    """A `Totalt` line next to other categories of the same initiative, year and funder is a sum: it would double."""
    groups: dict[tuple, list[tuple[ParsedTable, dict]]] = defaultdict(list)
    for t in tables:
        for r in t.records:
            if r.get("initiative") and r.get("year") and not r.get("_skip"):
                groups[(t.source, fold(r["initiative"]), r["year"], fold(r.get("funder") or "Förbundet"))].append((t, r))
    for lines in groups.values():
        totals = [(t, r) for t, r in lines if fold(r.get("category") or "Totalt") == "totalt"]
        if totals and len(totals) < len(lines):
            for t, r in totals:
                t.problem(ERROR, r["_row"], _col(t, "category", "Kostnadsslag"), r.get("category") or "Totalt",
                          "raden med kostnadsslag Totalt står bredvid rader med andra kostnadsslag för samma insats, "
                          "år och finansiär, så summan skulle räknas två gånger; ta bort Totalt-raden eller de andra")


def _register(t: ParsedTable, seen: dict) -> None:
    _required_values(t, {"initiative": "Insats"})
    for r in t.records:
        name = r.get("initiative")
        if name:
            _duplicate(t, seen, (fold(name),), r, _col(t, "initiative", "Insats"), name,
                       "insatsen (i registret)")
        s, e = r.get("start_date"), r.get("end_date")
        if s and e and e < s:
            t.problem(ERROR, r["_row"], _col(t, "end_date", "Slutdatum"), e.isoformat(),
                      f"slutdatum ligger före startdatum ({s.isoformat()})")


def _unit(kind: str, r: dict) -> tuple | None:
    """What one file's rows replace in the database (etl.load): the unit two files of a call may not share."""
    if kind == "economy":  # one file's economy replaces the association's year
        return (fold(r.get("association") or ""), r["year"]) if r.get("year") and not r.get("_skip") else None
    name = r.get("initiative")
    if not name:
        return None
    if kind == "structural":
        return (fold(r.get("association") or ""), fold(name), r["year"]) if r.get("year") else None
    if kind == "participants":
        return fold(r.get("association") or ""), fold(name)
    if kind == "anonymous":
        return (fold(r.get("association") or ""), fold(name), r["year"]) if r.get("year") else None
    if kind == "budget":
        return (fold(name), r["year"]) if r.get("year") and not r.get("_skip") else None
    return (fold(name),)


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
    first: dict[tuple, tuple[ParsedTable, dict]] = {}
    clashes: dict[tuple, list[tuple[dict, ParsedTable, dict]]] = defaultdict(list)
    for t in tables:
        mine: set[tuple] = set()
        for r in t.records:
            unit = _unit(t.kind, r)  # type: ignore[arg-type]
            if unit is None:
                continue
            key = (t.kind, unit)
            if key not in first:
                first[key] = (t, r)
            elif first[key][0].source != t.source and key not in mine:
                other_t, other_r = first[key]
                clashes[(id(t), id(other_t))].append((r, other_t, other_r))
            mine.add(key)
    by_id = {id(t): t for t in tables}
    for (tid, _), items in clashes.items():
        t = by_id[tid]
        what, why = _SNAPSHOT_TEXT[t.kind]  # type: ignore[index]
        for r, other_t, other_r in items[:CONFLICTS_SHOWN]:
            name = what.format(name=r.get("initiative"), year=r.get("year"))
            fld, header = _UNIT_CELL.get(t.kind, ("initiative", "Insats"))  # type: ignore[arg-type]
            t.problem(ERROR, r["_row"], _col(t, fld, header), r.get(fld),
                      f"{name} finns också i {other_t.place}, rad {other_r['_row']}. {why}, så två filer med samma "
                      "uppgifter kan inte läsas in samtidigt (den ena skulle räknas dubbelt eller skriva över den "
                      "andra). Är den ena en nyare export: läs in filerna en i taget, den äldre först (den senare "
                      "ersätter den tidigare). Är de delar av samma export: slå ihop dem till en fil")
        if len(items) > CONFLICTS_SHOWN:
            r = items[CONFLICTS_SHOWN][0]
            fld, header = _UNIT_CELL.get(t.kind, ("initiative", "Insats"))  # type: ignore[arg-type]
            t.problem(ERROR, r["_row"], _col(t, fld, header), None,
                      f"ytterligare {len(items) - CONFLICTS_SHOWN} sådana krockar med {items[0][1].place}")


# ------------------------------------------------------------------ the national follow-up (issue 13)

def _structural(t: ParsedTable, seen: dict) -> None:
    _required_values(t, {"initiative": "Insats", "year": "År", "participant_count": "Antal deltagare"})
    money = [c for fld, c in t.columns.items() if fld in {"budget", "actual", "amount"}]
    if money:
        t.problem(ERROR, t.header_row, money[0].header, None,
                  "en tabell med antal deltagare i strukturövergripande insatser läser inga belopp; lägg budget och "
                  "utfall i budgetfilen (Insats, År, Budget, Utfall) och ta bort kolumnen här, så att inget belopp "
                  "tappas")
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
        t.problem(ERROR, t.header_row, "Post", None, f"obligatorisk kolumn saknas för {ECONOMY_LABEL}: Post")
    if not {"amount", "actual", "budget"} & set(cols):
        t.problem(ERROR, t.header_row, "Belopp", None,
                  "obligatorisk kolumn saknas: Belopp, Utfall eller Budget (minst en av dem)")
    for a, b, why in (("amount", "actual", "årets faktiska belopp"), ("party", "funder", "vilken part beloppet gäller")):
        if a in cols and b in cols:
            t.problem(ERROR, t.header_row, cols[b].header, None,
                      f"kolumnerna {cols[a].header} och {cols[b].header} betyder samma sak i {ECONOMY_LABEL} ({why}); "
                      "ta bort den ena, så att det är klart vilken som gäller")
    party_field = "party" if "party" in cols or "funder" not in cols else "funder"
    _required_values(t, {"year": "År", "category": "Post"})
    for r in t.records:
        bad = r.get("_bad", set())
        if r.get("actual") is None and r.get("amount") is not None:
            r["actual"] = r["amount"]  # Belopp is the year's actual figure
        if r.get("budget") is None and r.get("actual") is None and not ({"budget", "actual", "amount"} & bad):
            t.problem(WARNING, r["_row"], _col(t, "amount", _col(t, "actual", "Belopp")), None,
                      "raden har inget belopp och hoppas över")
            r["_skip"] = True
        item, party = r.get("category"), r.get(party_field)
        r["party"] = None
        if item == "allocated":
            if party:
                r["party_group"] = party_group(party)
                r["party"] = party
                if r["party_group"] is None:
                    t.problem(ERROR, r["_row"], _col(t, party_field, "Part"), party, "okänd part; " + PARTY_HELP)
            elif party_field not in bad:
                t.problem(ERROR, r["_row"], _col(t, party_field, "Part"), None,
                          "Tilldelade medel behöver en part: " + PARTY_HELP)
        elif item and party:
            t.problem(WARNING, r["_row"], _col(t, party_field, "Part"), party,
                      f"part anges bara för Tilldelade medel och läses inte för posten {ECONOMY_ITEMS[item]}")
        if item and r.get("year") and not r.get("_skip"):
            key = (fold(r.get("association") or ""), r["year"], item, fold(r["party"] or ""))
            _duplicate(t, seen, key, r, _col(t, "category", "Post"), ECONOMY_ITEMS[item],
                       "samma post (år, post och part), som annars skulle räknas två gånger,")


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
            amount = r["actual"] if r.get("actual") is not None else r["budget"]
            sums[r["party_group"]] += float(amount)
        total = sum(sums.values())
        if not total or all(abs(sums[g] / total - share) <= SHARE_TOLERANCE for g, share in PARTY_SHARES.items()):
            continue
        t, r = rows[0]
        shares = ", ".join(f"{PARTIES[g]} {_percent(sums[g] / total)}" for g in PARTY_SHARES)
        t.problem(WARNING, r["_row"], _col(t, "category", "Post"), ECONOMY_ITEMS["allocated"],
                  f"tilldelade medel för {year} fördelas {shares}; enligt finsamlagen bidrar staten genom "
                  "Försäkringskassan med hälften och regionen och kommunerna med en fjärdedel var (50/25/25). "
                  "Kontrollera beloppen (filen läses in ändå)")


def _directions(tables: list[ParsedTable]) -> None:
    """Within one call: an initiative is individual (participants, anonymous counts) or structural (counts), not both."""
    register: dict[str, tuple[ParsedTable, dict]] = {}
    individual: dict[str, tuple[ParsedTable, dict]] = {}
    for t in tables:
        for r in t.records:
            name = r.get("initiative")
            if not name:
                continue
            if t.kind == "initiatives" and r.get("direction"):
                register.setdefault(fold(name), (t, r))
            elif t.kind in {"participants", "anonymous"}:
                individual.setdefault(fold(name), (t, r))
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
            t.problem(ERROR, r["_row"], _col(t, "initiative", "Insats"), r["initiative"],
                      f"insatsen {why} och kan inte också räknas som strukturövergripande; {DIRECTION_BOTH}")
    for key, (t, r) in register.items():
        if r["direction"] == "structural" and key in individual and key not in reported:
            t.problem(ERROR, r["_row"], _col(t, "direction", "Inriktning"), r["initiative"],
                      f"insatsen anges som strukturövergripande men har deltagare med individuppgifter "
                      f"({_place(t, individual[key])}); {DIRECTION_BOTH}")


def _place(t: ParsedTable, other: tuple[ParsedTable, dict]) -> str:
    """Where another table's row is, as a message names it: the row, or the file (and sheet) and row."""
    o, r = other
    if o.source == t.source:
        return _where(t, (o, r["_row"]))
    return f"{o.place}, rad {r['_row']}"
