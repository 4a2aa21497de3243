"""`python -m etl load|check|report|history` — the command line the data contract fixes.

Everything printed goes through etl.problems.safe_text, so no personnummer and no control
character from a file name or a cell reaches the terminal; every fault ends in a Swedish line and
an exit status, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from core.database import DatabaseError, check_database, connect_read
from core.paths import default_db_path
from core.vocabulary import TABLE_KINDS

from .load import LoadResult, check_files, ensure_database, load_files
from .normalise import MAX_YEAR, MIN_YEAR
from .problems import ERROR, NOTICE, WARNING, safe_text


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
    p_hist = sub.add_parser("history", help="visa inläsningshistoriken")
    p_hist.add_argument("--db", type=Path)
    args = parser.parse_args(argv)
    db = Path(args.db) if getattr(args, "db", None) else default_db_path()

    if args.command == "check":
        result = check_files(args.files, db if db.exists() else None)
        _print_result(result, checking=True)
        return 0 if result.ok else 1
    if args.command == "load":
        result = load_files(args.files, db)
        _print_result(result, checking=False)
        return 0 if result.ok else 1
    if args.command == "report" and args.format in ("xlsx", "uppfoljning") and not args.out:
        parser.error(f"--format {args.format} kräver --out FIL")
    try:
        if ensure_database(db):
            say(f"Databasen {db} fanns inte; den har byggts från exempeldata i data/sample/.", sys.stderr)
        check_database(db)
    except DatabaseError as exc:
        say(f"FEL: {db}: {exc.message}", sys.stderr)
        return 1
    with connect_read(db) as con:
        if args.command == "history":
            from metrics.catalog import load_history

            say(load_history(con).to_string(index=False))
            return 0
        if args.format == "uppfoljning":
            return _followup(con, args.year, args.out)
        from metrics.report import build_report

        report = build_report(con, args.year)
        if args.format == "json":
            json.dump(report, sys.stdout, ensure_ascii=False, indent=2)
            sys.stdout.write("\n")
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


def _followup(con, year: int, out: Path) -> int:
    """`report --format uppfoljning`: the national follow-up's workbook (render/uppfoljning.py)."""
    from render.uppfoljning import write_followup_xlsx

    try:
        notes = write_followup_xlsx(con, year, out)
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
            line = f"{name}: {verb} – {kinds}, {f.rows_read} rader"
            if not checking and result.changed:
                line += f", {f.rows_loaded} inlästa, {f.rows_replaced} äldre rader ersatta"
            say(line, out)
    order = {ERROR: 0, WARNING: 1, NOTICE: 2}
    for p in sorted(result.problems, key=lambda p: (order[p.severity], p.file, p.sheet or "", p.row or 0)):
        say(str(p), out)
    errors = sum(p.severity == ERROR for p in result.problems)
    warnings = sum(p.severity == WARNING for p in result.problems)
    if errors:
        say(f"{errors} fel, {warnings} varningar. Ingenting har lästs in; rätta felen och försök igen.", out)
    elif checking:
        say(f"Inga fel, {warnings} varningar. Filerna kan läsas in.", out)
    elif result.replaced_sample:
        say("Databasen innehöll bara exempeldata; den har ersatts av en ny databas med dina filer.", out)
    elif not result.changed:
        say("Ingenting nytt att läsa in.", out)
    else:
        say(f"Klart: {len([f for f in result.files if not f.skipped])} filer inlästa, {warnings} varningar.", out)
