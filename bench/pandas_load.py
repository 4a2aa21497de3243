"""The plain pandas load the benchmark compares `etl load` with: read the file, insert it into DuckDB.

    python bench/pandas_load.py csv|xlsx|xlsx-calamine FILE DB

No validation, no normalisation, no snapshot logic: the usual way of getting an export into a
dashboard, and the lower bound of what reading and inserting the rows costs. Run in its own
process so that its wall time and peak memory can be measured (bench/national.py).
"""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.database import connect_write  # noqa: E402


def main(kind: str, path: str, db: str) -> None:
    if kind == "csv":
        df = pd.read_csv(path, sep=";")
    elif kind == "xlsx":
        df = pd.read_excel(path, engine="openpyxl")  # pandas 3.1's default engine for .xlsx
    elif kind == "xlsx-calamine":
        df = pd.read_excel(path, engine="calamine")  # noqa: F841 - DuckDB reads `df` by name below
    else:
        raise SystemExit(f"unknown kind {kind}")
    con = connect_write(db)
    try:
        con.execute("CREATE OR REPLACE TABLE enrollments AS SELECT * FROM df")
        n = con.execute("SELECT count(*) FROM enrollments").fetchone()[0]
        con.execute("CHECKPOINT")
    finally:
        con.close()
    print(f"{n} rader")


if __name__ == "__main__":
    main(*sys.argv[1:4])
