"""Time and peak memory of checking and loading a large participants CSV, and of refusing hostile xlsx.

    python bench/bench_load.py 1000000      # rows of the CSV (default 200 000)

Each measurement runs in a fresh process so that its peak resident memory (ru_maxrss) is its own.
Never asserted in tests (see the brief): the figures go to the terminal.
"""
from __future__ import annotations

import datetime as dt
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADER = ("Deltagar-ID;Insats;Kön;Födelseår;Startdatum;Slutdatum;Avslutsorsak;Remittent;Försörjning vid start;"
          "Försörjning vid avslut;Utbildning;Samtycke")


def write_csv(path: Path, rows: int) -> None:
    initiatives = [f"Insats {i}" for i in range(20)]
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(HEADER + "\r\n")
        for i in range(rows):
            start = dt.date(2021, 1, 1) + dt.timedelta(days=i % 900)
            end = start + dt.timedelta(days=100) if i % 3 else None
            fh.write(f"P-{i:07d};{initiatives[i % 20]};{'Kvinna' if i % 2 else 'Man'};{1960 + i % 40};{start};"
                     f"{end or ''};{(i % 6 + 1) if end else ''};Försäkringskassan;Sjukpenning;"
                     f"{'Sjukpenning' if end else ''};Gymnasial;Ja\r\n")


def measure(code: str, *args: str) -> tuple[float, float, str]:
    """(seconds, peak MB, last output line) of `code` run in a fresh interpreter."""
    code += "; import resource; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    lines = done.stdout.strip().splitlines()
    if len(lines) < 2:
        return seconds, float("nan"), done.stderr.strip()[-200:]
    return seconds, int(lines[-1]) / 1024, lines[-2]


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "deltagare.csv"
        write_csv(path, rows)
        print(f"{rows:,} rader".replace(",", " ") + f", {path.stat().st_size / 1e6:.0f} MB")
        check = "import sys; from etl.load import check_files; r = check_files([sys.argv[1]]); print(r.ok)"
        load = ("import sys; from etl.load import load_files; r = load_files([sys.argv[1]], sys.argv[2]); "
                "print(r.ok, r.files[0].rows_loaded if r.files else 0)")
        for name, code, args in (("check", check, [str(path)]), ("load", load, [str(path), str(Path(tmp) / "f.duckdb")])):
            seconds, peak, out = measure(code, *args)
            print(f"{name:6} {seconds:6.1f} s   peak {peak:7.0f} MB   {out}")


if __name__ == "__main__":
    main()
