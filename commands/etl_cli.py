"""`python -m etl load|check|report|history|undo|decide` — the command line the data contract fixes (and decide).

It sits at the top of the layers, beside app.py: its commands use the loader (etl/), the figures (metrics/),
their files (render/) and the audit log (auth/), so no layer below has to import upward for it. etl/__main__.py
only hands over to `run` here, so the command keeps its name.

Everything printed goes through core.problems.safe_text, so no personnummer and no control
character from a file name or a cell reaches the terminal; every fault ends in a Swedish line and
an exit status, never a traceback. Loads and undos are recorded in the database's history with
who ran them (the OS user, "(kommandorad)") and in the audit log (auth.audit), as the app's are.

Each command imports what it uses when it runs: the loader and the history bring pandas, numpy and
pyarrow (about half a second of a process that should answer in one), which `report` does not use; its
JSON and its workbook load no pandas and no openpyxl at all (metrics/report.py, render/annual_report.py).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from core import settings
from core.database import DatabaseError, check_database, connect_read
from core.paths import default_db_path
from core.problems import ERROR, NOTICE, WARNING, safe_text
from core.vocabulary import TABLE_KINDS, counted
from etl.limits import MAX_YEAR, MIN_YEAR

if TYPE_CHECKING:
    from etl.load import LoadResult


def say(text: str, file=None) -> None:
    """Print one line for staff, through the one masking function."""
    print(safe_text(text), file=file or sys.stdout)


def _year(value: str) -> int:
    try:
        year = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{safe_text(value, 40)!r} är inget årtal") from None
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise argparse.ArgumentTypeError(f"{year} är inget rimligt år; ange ett år mellan {MIN_YEAR} och {MAX_YEAR}")
    return year


def _number(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{safe_text(value, 40)!r} är inget nummer i historiken (ett heltal från 1; "
                                         "se python -m etl history)")
    return number


def _seconds(value: str) -> float:
    try:
        seconds = float(value.strip().replace(",", "."))
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"{safe_text(value, 40)!r} är inget antal sekunder (ett tal över 0)")
    return seconds


def cli_actor() -> str:
    """Who ran the command, for the history and the audit log: the OS user, or just "kommandorad"."""
    import getpass

    try:
        user = getpass.getuser()
    except Exception:  # no name for this uid (a container), or no environment to read it from
        user = ""
    return f"{safe_text(user, 64)} (kommandorad)" if user else "kommandorad"


def _audit_path(db: Path) -> Path:
    """$FINSAM_AUDIT_DB, else audit.sqlite beside the database."""
    from etl import history

    return settings.get("FINSAM_AUDIT_DB") or history.real_path(db).parent / "audit.sqlite"


def audit_failure(db: Path, action: str, detail: str) -> None:
    """A load or undo that was refused or failed, into the audit log as the app logs its own (issue 22)."""
    from auth import audit

    try:
        audit.record_failure(audit.FAILED[action], cli_actor(), safe_text(detail, 480), client="kommandorad",
                             path=_audit_path(db))
    except (audit.AuditError, OSError) as exc:
        say(f"VARNING: granskningsloggen kunde inte skrivas: {safe_text(exc, 300)}", sys.stderr)


def audit_log(db: Path):
    """The audit-log callback for a change made here: $FINSAM_AUDIT_DB, else audit.sqlite beside the database."""
    from auth import audit
    from etl import history

    path = _audit_path(db)
    record = {history.LOAD: audit.record_load, history.UNDO: audit.record_undo, history.MAPPING: audit.record_mapping}

    from render.changes import audit_detail

    def on_change(change: history.Change) -> None:
        record[change.action](change.actor, audit_detail(change.describe(), change.effect_rows),
                              client="kommandorad", path=path)

    return on_change


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # Swedish prefix; argparse's own wording stays
        self.print_usage(sys.stderr)
        self.exit(2, safe_text(f"{self.prog}: fel: {message}") + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="python -m etl", description="Läs in exporter till Insatskollens databas.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    p_load = sub.add_parser("load", help="läs in filer (allt eller inget)")
    p_load.add_argument("--db", type=Path, help="databasfil (standard data/finsam.duckdb eller $FINSAM_DB)")
    p_load.add_argument("files", nargs="+", type=Path)
    p_check = sub.add_parser("check", help="kontrollera filer utan att läsa in dem")
    p_check.add_argument("--db", type=Path)
    p_check.add_argument("files", nargs="+", type=Path)
    p_rep = sub.add_parser("report", help="årsrapporten som JSON eller Excel, eller Uppföljning Finsam (uppfoljning)")
    p_rep.add_argument("--db", type=Path)
    p_rep.add_argument("--year", type=_year, required=True)
    p_rep.add_argument("--format", choices=["json", "xlsx", "uppfoljning"], default="json")
    p_rep.add_argument("--out", type=Path)
    p_rep.add_argument("--association", "--forbund", action="append", default=[], metavar="FÖRBUND",
                       help="bara det förbundets siffror (kan anges flera gånger; standard: hela databasen)")
    p_hist = sub.add_parser("history", help="visa historiken: inläsningar, ångringar och mappningsändringar")
    p_hist.add_argument("--db", type=Path)
    p_undo = sub.add_parser("undo", help="ångra en inläsning: återställ databasen till läget före den")
    p_undo.add_argument("--db", type=Path)
    p_undo.add_argument("load_id", nargs="?", type=_number, metavar="LOAD_ID",
                        help="numret i historiken (standard: den senaste inläsningen)")
    p_decide = sub.add_parser("decide", help="besluta skyddet för små tal för de år en inläsning inte hann med")
    p_decide.add_argument("--db", type=Path)
    p_decide.add_argument("--seconds", type=_seconds, help="sluta påbörja nya år efter så många sekunder "
                                                           "(standard: tills alla är beslutade)")
    args = parser.parse_args(argv)
    db = Path(args.db) if getattr(args, "db", None) else default_db_path()

    if args.command in ("load", "undo"):  # a change derives each year's protection decisions (core.derived)
        import metrics.suppress  # noqa: F401
        import metrics.changes  # noqa: F401 - and keeps what it did to the figures (core.effects)
    if args.command in ("check", "load"):
        from etl.load import check_files, load_files
    if args.command in ("history", "undo", "load"):  # a failed load is audited under history.LOAD
        from etl import history
    if args.command == "check":
        result = check_files(args.files, db if db.exists() else None)
        _print_result(result, checking=True)
        return 0 if result.ok else 1
    if args.command == "load":
        result = load_files(args.files, db, actor=cli_actor(), on_change=audit_log(db))
        _print_result(result, checking=False)
        if not result.ok:
            errors = [p for p in result.problems if p.severity == ERROR]
            first = f"; först: {errors[0].file}: {errors[0].message}" if errors else ""
            audit_failure(db, history.LOAD, f"{', '.join(f.name for f in args.files)}: {len(errors)} fel{first}")
        return 0 if result.ok else 1
    if args.command in ("history", "decide") and not db.exists():
        say(f"FEL: {db}: databasen finns inte; kontrollera sökvägen (--db eller FINSAM_DB)", sys.stderr)
        return 1  # a mistyped path is not a reason to build a sample database there (undo says so itself)
    if args.command == "undo":
        undone = history.undo(db, args.load_id, actor=cli_actor(), on_change=audit_log(db))
        say(undone.message, sys.stdout if undone.ok else sys.stderr)
        if not undone.ok:
            audit_failure(db, history.UNDO, f"nr {args.load_id if args.load_id is not None else 'senaste'}: "
                                            f"{undone.message}")
        if undone.warning:
            say(f"VARNING: {undone.warning}", sys.stderr)
        return 0 if undone.ok else 1
    if args.command == "report" and args.format in ("xlsx", "uppfoljning") and not args.out:
        parser.error(f"--format {args.format} kräver --out FIL")
    try:
        if not db.exists() and _ensure_database(db):
            say(f"Databasen {db} fanns inte; den har byggts från exempeldata i data/sample/.", sys.stderr)
        check_database(db)
    except DatabaseError as exc:
        say(f"FEL: {db}: {exc.message}", sys.stderr)
        return 1
    if args.command == "decide":
        return _decide(db, args.seconds)
    with connect_read(db) as con:
        if args.command == "history":
            from metrics.catalog import change_history
            from render.changes import history_table

            kept = history.changes(con)
            table = history_table(change_history(con), {c.change_id: history.undoable(db, c) for c in kept},
                                  {c.change_id: c.effects for c in kept})
            say(table.to_string(index=False) if len(table) else "Ingenting har lästs in ännu.")
            return 0
        associations = tuple(sorted(set(args.association)))
        if associations:
            from metrics.catalog import associations as named

            unknown = [a for a in associations if a not in set(named(con))]
            if unknown:
                known = ", ".join(named(con)) or "inga (databasen har ingen Förbund-kolumn)"
                say(f"FEL: förbundet {', '.join(map(repr, unknown))} finns inte i databasen; förbund i den: {known}",
                    sys.stderr)
                return 1
        if args.format == "uppfoljning":
            return _followup(con, args.year, args.out, associations)
        from metrics.report import build_report

        report = build_report(con, args.year, associations)
        if args.format == "json":
            import json

            text = json.dumps(report, ensure_ascii=False, indent=2) + "\n"
            sys.stdout.write(text)  # one write: json.dump wrote each of a national report's million tokens alone
            return 0
        from render.annual_report import write_report_xlsx

        try:
            write_report_xlsx(report, args.out, con)
        except OSError as exc:
            from core.database import describe_os_error

            say(f"FEL: {args.out}: rapporten kunde inte sparas: {describe_os_error(exc)}", sys.stderr)
            return 1
        say(f"Rapporten för {args.year} är sparad i {args.out}")
        return 0


def _decide(db: Path, seconds: float | None) -> int:
    """`etl decide`: the years a load left undecided (metrics.backlog), each kept as soon as it is decided."""
    from metrics import backlog
    from render.format import fmt_int as _n

    def told(year: int, associations: tuple[str, ...], done: int, total: int) -> None:
        whose = f" för {associations[0]}" if associations else ""
        say(f"{year}{whose}: beslutat ({_n(done)} av {_n(total)})")

    from metrics.beside import FolderProblem

    try:
        result = backlog.decide(db, seconds, say=told)
    except FolderProblem as exc:
        say(f"FEL: {exc.folder}: mappen bredvid databasen kan inte användas ({exc.reason}); inget har beslutats. "
            "Ta bort eller rätta mappen (den ska vara ägarens egen, rättigheter 700) och försök igen", sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - a fault of the engine: one Swedish line, the years decided are kept
        say(f"FEL: skyddet kunde inte beslutas ({type(exc).__name__}); de år som hann beslutas är sparade, "
            "och läsarna beslutar resten själva", sys.stderr)
        return 1
    if result is None:
        say("Skyddet för den här databasen beräknas redan av en annan process; den här gör ingenting.")
        return 0
    unit = "förbundsår" if result.several else "år"
    say(f"Skyddet för små tal är beslutat för {_n(result.done)} av {_n(result.total)} {unit}.")
    if result.done < result.total:
        say("Tiden tog slut; kör python -m etl decide igen för resten.")
    return 0


def _ensure_database(db: Path) -> bool:
    """etl.load.ensure_database, imported only for a database that is not there: the loader is for building it."""
    from etl.load import ensure_database

    return ensure_database(db)


def _followup(con, year: int, out: Path, associations: tuple[str, ...] = ()) -> int:
    """`report --format uppfoljning`: the national follow-up's workbook (render/uppfoljning.py)."""
    from render.uppfoljning import write_followup_xlsx

    try:
        notes = write_followup_xlsx(con, year, out, associations)
    except OSError as exc:
        from core.database import describe_os_error

        say(f"FEL: {out}: uppföljningen kunde inte sparas: {describe_os_error(exc)}", sys.stderr)
        return 1
    for note in notes:
        say(f"OBS: {note}", sys.stderr)
    say(f"Uppföljning Finsam för {year} är sparad i {out}")
    return 0


def run(argv: list[str] | None = None) -> int:
    """`main`, ending quietly when the reader of the output goes away (`… | head`) or on Ctrl-C."""
    try:
        code = main(argv)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        # Python would complain again when it flushes stdout at exit: point stdout at nothing first
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141  # as a command killed by SIGPIPE
    except KeyboardInterrupt:
        print("Avbrutet; ingenting ändrades.", file=sys.stderr)
        return 130


def _print_result(result: LoadResult, *, checking: bool) -> None:
    out = sys.stdout if result.ok else sys.stderr
    for f in result.files:
        kinds = ", ".join(TABLE_KINDS[k] for k in f.kinds) or "ingen känd tabell"
        name = f.name or f.path.name
        if f.duplicate_of:
            say(f"{name}: samma innehåll som {f.duplicate_of} – läses bara in en gång", out)
        elif f.skipped:
            say(f"{name}: redan inläst (samma innehåll) – ingenting ändrat", out)
        else:
            verb = "kontrollerad" if checking or not result.ok else "inläst"
            line = f"{name}: {verb} – {kinds}, {counted(f.rows_read, 'rad', 'rader')}"
            if not checking and result.changed:
                line += f", {f.rows_loaded} inlästa, {counted(f.rows_replaced, 'äldre rad ersatt', 'äldre rader ersatta')}"
            say(line, out)
    order = {ERROR: 0, WARNING: 1, NOTICE: 2}
    for p in sorted(result.problems, key=lambda p: (order[p.severity], p.file, p.sheet or "", p.row or 0)):
        # str(p) is masked by the Problem itself, which knows an amount's cell from an id's (core.problems):
        # masked again as a whole line, a negative amount -301155125 would read as a personnummer
        print(str(p), file=out)
    errors = sum(p.severity == ERROR for p in result.problems)
    warnings = sum(p.severity == WARNING for p in result.problems)
    if errors:
        say(f"{errors} fel, {counted(warnings, 'varning', 'varningar')}. Ingenting har lästs in; rätta felen och "
            "försök igen.", out)
    elif checking:
        say(f"Inga fel, {counted(warnings, 'varning', 'varningar')}. Filerna kan läsas in.", out)
    elif result.replaced_sample:
        say("Databasen innehöll bara exempeldata; den har ersatts av en ny databas med dina filer.", out)
    elif not result.changed:
        say("Ingenting nytt att läsa in.", out)
    else:
        loaded = len([f for f in result.files if not f.skipped])
        say(f"Klart: {counted(loaded, 'fil inläst', 'filer inlästa')}, "
            f"{counted(warnings, 'varning', 'varningar')}.", out)
    if result.changed and result.change is not None:
        say(f"Inläsningen har nr {result.change.change_id} i historiken; ångra den med: "
            f"python -m etl undo {result.change.change_id}", out)
