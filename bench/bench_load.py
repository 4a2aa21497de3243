"""Time and peak memory of checking and loading a national participants export, and of the report.

    python bench/bench_load.py                      # 1 000 000 CSV rows, 100 000 xlsx rows, report
    python bench/bench_load.py 200000 --xlsx 20000  # smaller
    python bench/bench_load.py --only csv           # csv, xlsx or report
    python bench/bench_load.py --code /tmp/base     # time another checkout on the same files

The export is national scale (issue 12): 80 associations × 40 initiatives over 15 years, with a
Förbund column, the referrer units, income and education of real exports and one in ten rows
without consent. The CSV is Swedish Excel's (`;`, CRLF, UTF-8 with BOM); the xlsx is written with
openpyxl's write_only mode, dates as date cells. Each measurement runs in a fresh process so that
its peak resident memory (ru_maxrss) is its own; `report` is timed both as a whole process and as
the work inside it (`build_report`, after the interpreter, imports and the connection).
Never asserted in tests (see the brief): the figures go to the terminal.

The figures of a national run are in bench/RESULTS.md (`python bench/national.py`).
"""
from __future__ import annotations

import argparse
import os
import datetime as dt
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADER = ["Förbund", "Deltagar-ID", "Insats", "Kön", "Födelseår", "Startdatum", "Slutdatum", "Avslutsorsak",
          "Remittent", "Försörjning vid start", "Försörjning vid avslut", "Utbildning", "Samtycke"]
ASSOCIATIONS = 80
INITIATIVES = 40  # per association
FIRST_DAY, DAYS = dt.date(2011, 1, 1), 15 * 365
UNITS = ["Försäkringskassan", "FK Nyköping", "Af Eskilstuna", "Arbetsförmedlingen", "Socialtjänsten Öst",
         "Ekonomiskt bistånd", "Jobbtorg Väst", "Vårdcentralen Norr", "Psykiatriska mottagningen",
         "Habiliteringen Region Sörmland", "Stadsdelsförvaltning Norr", "Hälsocentralen Söder", ""]
INCOME = ["Sjukpenning", "Rehabiliteringspenning", "Aktivitetsersättning", "Sjukersättning", "Försörjningsstöd",
          "A-kassa/Aktivitetsstöd", "Ingen offentlig försörjning", ""]
EDUCATION = ["Förgymnasial", "Gymnasial", "Eftergymnasial kortare än 3 år", "Eftergymnasial 3 år eller längre",
             "Okänd", ""]
SEXES = ["Kvinna", "Man", "Kvinna", "Man", "Annat", ""]


def rows(n: int):
    """n enrollments, the same for a given n: one tuple of cells (str, int or date) per row."""
    rnd = random.Random(12)
    today = dt.date.today()
    for i in range(n):
        a = rnd.randrange(ASSOCIATIONS)
        start = FIRST_DAY + dt.timedelta(days=rnd.randrange(DAYS))
        end = start + dt.timedelta(days=rnd.randrange(30, 700))
        if end > today or rnd.random() < 0.15:
            end = None
        consent = "Nej" if rnd.random() < 0.1 else "Ja"
        yield (f"Samordningsförbundet {a + 1}", f"P-{i:07d}", f"Insats {a + 1}-{rnd.randrange(INITIATIVES) + 1}",
               rnd.choice(SEXES), 1950 + rnd.randrange(50), start, end, rnd.randrange(1, 7) if end else None,
               rnd.choice(UNITS), rnd.choice(INCOME), rnd.choice(INCOME) if end else "", rnd.choice(EDUCATION),
               consent)


def write_csv(path: Path, n: int) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        fh.write(";".join(HEADER) + "\r\n")
        for r in rows(n):
            fh.write(";".join("" if v is None else str(v) for v in r) + "\r\n")


def write_xlsx(path: Path, n: int) -> None:
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Deltagare")
    ws.append(HEADER)
    for r in rows(n):
        ws.append(r)
    wb.save(path)


def measure(argv: list[str], cwd: Path = ROOT) -> tuple[float, float, float, str]:
    """(wall seconds, CPU seconds, peak MB, output) of a fresh process; its own figures from wait4's rusage.

    CPU is user + system time of all its threads: on a machine other work keeps busy the wall time
    grows, the CPU time much less.
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=err, text=True)
        _, _, usage = os.wait4(proc.pid, 0)  # reaps the child itself, with its own rusage
        seconds = time.perf_counter() - started
        proc.returncode = 0  # reaped above; keeps Popen from waiting for it again
        out.seek(0), err.seek(0)
        text = out.read().strip() or err.read().strip()[-300:]
        return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, text


CHECK = "import sys; from etl.load import check_files; r = check_files([sys.argv[1]]); print(r.ok, len(r.problems))"
LOAD = ("import sys; from etl.load import load_files; r = load_files([sys.argv[1]], sys.argv[2]); "
        "print(r.ok, r.files[0].rows_loaded if r.files else 0, [str(p) for p in r.problems][:2])")
REPORT_WORK = ("import sys, time; from core.database import connect_read; from metrics.report import build_report; "
               "con = connect_read(sys.argv[1]); t = time.perf_counter(); r = build_report(con, int(sys.argv[2])); "
               "print(f'build_report {time.perf_counter() - t:.3f} s, {len(r[\"initiatives\"])} insatser')")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("rows", nargs="?", type=int, default=1_000_000, help="rows of the CSV")
    ap.add_argument("--xlsx", type=int, default=100_000, help="rows of the xlsx")
    ap.add_argument("--only", choices=["csv", "xlsx", "report"])
    ap.add_argument("--year", type=int, default=2021)
    ap.add_argument("--code", type=Path, default=ROOT, help="the checkout whose etl is timed")
    ap.add_argument("--keep", type=Path, help="a folder to keep the files and databases in")
    args = ap.parse_args()
    tmp_obj = None if args.keep else tempfile.TemporaryDirectory()
    tmp = args.keep or Path(tmp_obj.name)
    tmp.mkdir(parents=True, exist_ok=True)
    cwd = args.code.resolve()

    def run(name: str, code: str, *a: str) -> None:
        argv = [sys.executable, "-c", code, *a] if code != "-m" else [sys.executable, "-m", *a]
        seconds, cpu, peak, out = measure(argv, cwd=cwd)
        shown = f"{len(out)} tecken JSON" if out.startswith("{") else out.splitlines()[-1][:150] if out else ""
        print(f"  {name:14} {seconds:6.1f} s   cpu {cpu:6.1f} s   peak {peak:6.0f} MB   {shown}", flush=True)

    try:
        csv_db = tmp / "csv.duckdb"
        if args.only in (None, "csv", "report"):
            path = tmp / f"deltagare-{args.rows}.csv"
            if not path.exists():
                write_csv(path, args.rows)
            print(f"CSV: {args.rows:,}".replace(",", " ") + f" rader, {path.stat().st_size / 1e6:.0f} MB", flush=True)
            if args.only != "report":
                run("check", CHECK, str(path))
            csv_db.unlink(missing_ok=True)
            run("load", LOAD, str(path), str(csv_db))
        if args.only in (None, "xlsx"):
            path = tmp / f"deltagare-{args.xlsx}.xlsx"
            if not path.exists():
                write_xlsx(path, args.xlsx)
            print(f"xlsx: {args.xlsx:,}".replace(",", " ") + f" rader, {path.stat().st_size / 1e6:.0f} MB", flush=True)
            run("check", CHECK, str(path))
            db = tmp / "xlsx.duckdb"
            db.unlink(missing_ok=True)
            run("load", LOAD, str(path), str(db))
        if args.only in (None, "report") and csv_db.exists():
            print(f"report --year {args.year} on the CSV's database", flush=True)
            run("process", "-m", "etl", "report", "--db", str(csv_db), "--year", str(args.year))
            run("start-up only", "import sys; import commands.etl_cli, metrics.report, core.database; print('imports')")
            run("work", REPORT_WORK, str(csv_db), str(args.year))
    finally:
        if tmp_obj is not None:
            tmp_obj.cleanup()


if __name__ == "__main__":
    main()
