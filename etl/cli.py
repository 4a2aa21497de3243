"""`python -m etl load|check|report|history` — the command line the data contract fixes."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core.database import connect_read
from core.paths import default_db_path
from core.vocabulary import TABLE_KINDS

from .load import LoadResult, check_files, ensure_database, load_files
from .problems import ERROR, NOTICE, WARNING



def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m etl", description="Läs in exporter till Insatskollens databas.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_load = sub.add_parser("load", help="läs in filer (allt eller inget)")
    p_load.add_argument("--db", type=Path, help="databasfil (standard data/finsam.duckdb eller $FINSAM_DB)")
    p_load.add_argument("files", nargs="+", type=Path)
    p_check = sub.add_parser("check", help="kontrollera filer utan att läsa in dem")
    p_check.add_argument("--db", type=Path)
    p_check.add_argument("files", nargs="+", type=Path)
    p_rep = sub.add_parser("report", help="årsrapporten som JSON eller Excel")
    p_rep.add_argument("--db", type=Path)
    p_rep.add_argument("--year", type=int, required=True)
    p_rep.add_argument("--format", choices=["json", "xlsx"], default="json")
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
    if ensure_database(db):
        print(f"Databasen {db} fanns inte; den har byggts från exempeldata i data/sample/.", file=sys.stderr)
    with connect_read(db) as con:
        if args.command == "history":
            from metrics.catalog import load_history

            print(load_history(con).to_string(index=False))
            return 0
        from metrics.report import build_report

        report = build_report(con, args.year)
        if args.format == "json":
            json.dump(report, sys.stdout, ensure_ascii=False, indent=2)
            sys.stdout.write("\n")
            return 0
        if not args.out:
            parser.error("--format xlsx kräver --out FIL")
        from render.annual_report import write_report_xlsx

        write_report_xlsx(report, args.out, con)
        print(f"Rapporten för {args.year} är sparad i {args.out}")
        return 0


def _print_result(result: LoadResult, *, checking: bool) -> None:
    out = sys.stdout if result.ok else sys.stderr
    for f in result.files:
        kinds = ", ".join(TABLE_KINDS[k] for k in f.kinds) or "ingen känd tabell"
        if f.skipped:
            print(f"{f.path.name}: redan inläst (samma innehåll) – ingenting ändrat", file=out)
        else:
            verb = "kontrollerad" if checking or not result.ok else "inläst"
            line = f"{f.path.name}: {verb} – {kinds}, {f.rows_read} rader"
            if not checking and result.changed:
                line += f", {f.rows_loaded} inlästa, {f.rows_replaced} äldre rader ersatta"
            print(line, file=out)
    order = {ERROR: 0, WARNING: 1, NOTICE: 2}
    for p in sorted(result.problems, key=lambda p: (order[p.severity], p.file, p.sheet or "", p.row or 0)):
        print(str(p), file=out)
    errors = sum(p.severity == ERROR for p in result.problems)
    warnings = sum(p.severity == WARNING for p in result.problems)
    if errors:
        print(f"{errors} fel, {warnings} varningar. Ingenting har lästs in; rätta felen och försök igen.", file=out)
    elif checking:
        print(f"Inga fel, {warnings} varningar. Filerna kan läsas in.", file=out)
    elif result.replaced_sample:
        print("Databasen innehöll bara exempeldata; den har ersatts av en ny databas med dina filer.", file=out)
    elif not result.changed:
        print("Ingenting nytt att läsa in.", file=out)
    else:
        print(f"Klart: {len([f for f in result.files if not f.skipped])} filer inlästa, {warnings} varningar.", file=out)
