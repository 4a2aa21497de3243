"""Editing the referrer mapping (unit → agency) from the data page, and applying it to the stored rows at once.

An edit sets, changes or removes the *exact* rule for a unit; keyword rules stay as they are.
The new file is written atomically (a temporary file beside it, then `os.replace`), and the
stored enrollments' agencies are derived again from their stored unit names through the same
write path as a load (etl.history.commit: a new copy swapped in, a snapshot kept, the change
recorded). Both happen under the loader's lock; if the database cannot be written, the old
mapping file is put back, so the two never disagree.

A unit name comes from an export and may be hostile. The csv module quotes what needs quoting
(`;`, quotes, line breaks), and a name that a spreadsheet program would read as a formula
(`=`, `+`, `-`, `@` first) is refused rather than written: the file is meant to be opened in Excel.
"""
from __future__ import annotations

import csv
import io
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from core.database import DatabaseError, check_database, describe_os_error
from core.paths import default_db_path, default_referrers_path
from core.problems import safe_text
from core.vocabulary import AGENCIES

from . import history
from .history import Change
from .reference import EXACT, MappingError, Rule, fold_unit, mapping_from_rules, read_rules, referrers_path

MAX_UNIT = 1000  # characters, as the loader's longest cell
FORMULA_START = ("=", "+", "-", "@")
HEADER = ["match", "pattern", "agency"]


@dataclass
class MappingResult:
    ok: bool
    message: str  # Swedish
    errors: list[str] = field(default_factory=list)
    change: Change | None = None
    warning: str | None = None


def exact_rules(rules: list[Rule]) -> dict[str, str]:
    """The exact rules as folded unit → agency (a later line wins, as when the mapping is read)."""
    return {fold_unit(r.pattern): r.agency for r in rules if r.match == EXACT}


def _problems(edits: dict[str, str | None]) -> list[str]:
    errors = []
    for unit, agency in edits.items():
        shown = safe_text(unit, 80)
        if not isinstance(unit, str) or not unit.strip():
            errors.append("en enhet utan namn kan inte mappas")
        elif len(unit) > MAX_UNIT:
            errors.append(f"enheten «{shown}» har ett namn längre än {MAX_UNIT} tecken")
        elif any(ord(ch) < 32 or ord(ch) == 127 for ch in unit):
            errors.append(f"enheten «{shown}» innehåller styrtecken (radbrytning, tabb eller liknande)")
        elif unit.strip().startswith(FORMULA_START):
            errors.append(f"enheten «{shown}» börjar med {unit.strip()[0]!r}, som ett kalkylprogram läser som en formel; "
                          "rätta namnet i exporten och läs in den igen")
        if agency is not None and agency not in AGENCIES:
            errors.append(f"«{safe_text(agency, 40)}» för enheten «{shown}» är ingen myndighet; välj en av "
                          f"{', '.join(AGENCIES)}")
    return errors


def new_rules(rules: list[Rule], edits: dict[str, str | None]) -> list[Rule]:
    """`rules` with the exact rule of each edited unit set to its agency (None: removed). A unit's existing
    exact line is changed where it stands; a new one goes after the last exact line."""
    wanted = {fold_unit(u): (u.strip(), a) for u, a in edits.items()}
    out: list[Rule] = []
    done: set[str] = set()
    for r in rules:
        key = fold_unit(r.pattern)
        if r.match == EXACT and key in wanted:
            if key not in done:
                done.add(key)
                _, agency = wanted[key]
                if agency is not None:
                    out.append(Rule(EXACT, r.pattern, agency))
            continue  # a duplicate exact line of an edited unit goes: one unit, one rule
        out.append(r)
    added = [Rule(EXACT, unit, agency) for key, (unit, agency) in wanted.items() if key not in done and agency]
    last_exact = max((i for i, r in enumerate(out) if r.match == EXACT), default=-1)
    return out[:last_exact + 1] + added + out[last_exact + 1:]


def rules_csv(rules: list[Rule]) -> bytes:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, delimiter=";", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(HEADER)
    for r in rules:
        writer.writerow([r.match, r.pattern, r.agency])
    return buf.getvalue().encode("utf-8")


def _write_atomically(path: Path, data: bytes | None) -> None:
    """`data` as the file at `path`, all or nothing; None removes the file."""
    if data is None:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_umask()
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def save_unit_agencies(edits: dict[str, str | None], db: Path | str | None = None, *, actor: str,
                       on_change: Callable[[Change], None] | None = None) -> MappingResult:
    """Set each unit's exact rule (`None` removes it), save the mapping and derive the stored agencies again.

    Never raises for bad input or a file that cannot be written: the result says why in Swedish,
    and then neither the mapping nor the database has changed.
    """
    errors = _problems(edits)
    if errors:
        return MappingResult(False, "Mappningen sparades inte; rätta först:", errors)
    db = history.real_path(db or default_db_path())
    target = default_referrers_path()
    try:
        with history.lock(db):
            history.remove_stale_copies(db)
            return _save_locked(edits, db, target, actor, on_change)
    except DatabaseError as exc:
        return MappingResult(False, f"Mappningen sparades inte: {exc.message}.")


def _save_locked(edits, db: Path, target: Path, actor: str, on_change) -> MappingResult:
    try:
        source = referrers_path()
        rules = read_rules(source)
        old_bytes = target.read_bytes() if target.exists() else None
    except MappingError as exc:
        return MappingResult(False, f"Mappningen sparades inte: {exc}.")
    except OSError as exc:
        return MappingResult(False, f"Mappningen sparades inte: den kan inte läsas ({describe_os_error(exc)}).")
    before = exact_rules(rules)
    changed = {u: a for u, a in edits.items() if before.get(fold_unit(u)) != a}
    if not changed:
        return MappingResult(True, "Inga ändringar att spara.")
    updated = new_rules(rules, changed)
    data = rules_csv(updated)
    try:
        _write_atomically(target, data)
        if read_rules(target) != updated:  # the file must read back as written, whatever the names hold
            raise MappingError("mappningen blev inte som avsett när den lästes tillbaka")
    except (OSError, MappingError) as exc:
        _restore(target, old_bytes)
        reason = describe_os_error(exc) if isinstance(exc, OSError) else str(exc)
        return MappingResult(False, f"Mappningen sparades inte: {reason}.")
    detail = "; ".join(f"{u.strip()} → {a or 'ingen exakt regel (nyckelord gäller)'}" for u, a in sorted(changed.items()))
    change = None
    if db.exists():
        mapping = mapping_from_rules(updated)

        def mutate(con) -> Change:
            n = history.derive_agencies(con, mapping)
            moved = f"{n} inskrivning fick" if n == 1 else f"{n} inskrivningar fick"
            return Change(history.next_id(con), history.MAPPING, actor, history.now(), f"{detail} ({moved} ny myndighet)")

        try:
            check_database(db)
            change = history.commit(db, db, mutate)
        except DatabaseError as exc:
            _restore(target, old_bytes)
            return MappingResult(False, f"Mappningen sparades inte, eftersom databasen inte kunde uppdateras: "
                                        f"{exc.message}.")
    warning = history.notify(on_change, change) if change else None
    where = "" if target == source else " (första gången: den sparas nu i den egna mappningsfilen)"
    return MappingResult(True, f"Mappningen är sparad{where}: {safe_text(detail, 600)}.", change=change, warning=warning)


def _restore(target: Path, old_bytes: bytes | None) -> None:
    try:
        _write_atomically(target, old_bytes)
    except OSError:
        pass
