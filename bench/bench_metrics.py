"""Timings of the ETL and the metrics on a larger association (never asserted in tests).

    python bench/bench_metrics.py [SCALE]

Builds SCALE copies of the generated sample's participants (ids made unique per copy)
into a scratch database and times a load, the report and the start page's queries.
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.database import connect_read, connect_write  # noqa: E402
from etl.load import load_files, sample_files  # noqa: E402
from metrics import Filters  # noqa: E402
from metrics.people import by_initiative, headline  # noqa: E402
from metrics.report import build_report  # noqa: E402


def timed(label: str, fn):
    t0 = time.perf_counter()
    out = fn()
    print(f"{label:<40} {time.perf_counter() - t0:8.3f} s")
    return out


def main(scale: int = 20) -> None:
    tmp = Path(tempfile.mkdtemp())
    db = tmp / "bench.duckdb"
    timed("load sample (6 files)", lambda: load_files(sample_files(), db))
    with connect_write(db) as con:  # scale up inside DuckDB: the app's queries are what we time
        con.execute(f"""
            INSERT INTO enrollments
            SELECT e.* REPLACE (participant_id || '-' || CAST(k AS VARCHAR) AS participant_id)
            FROM enrollments e, range(1, {scale}) t(k)
        """)
        n = con.execute("SELECT count(*) FROM enrollments").fetchone()[0]
    print(f"enrollments: {n}")
    with connect_read(db) as con:
        f = Filters.year(2025)
        timed("headline 2025", lambda: headline(con, f))
        timed("by_initiative 2025", lambda: by_initiative(con, f))
        timed("report 2025", lambda: build_report(con, 2025))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
