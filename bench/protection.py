"""Time the small-count protection of one year's grid: solved anew, and read as the loader stored it.

    python bench/protection.py --db PATH [--year Y] [--association NAME]

Without --association: the association with the most participants in the year (at national scale, the
largest of the 80, about 40 initiatives). Prints, for that year: the cells, building them from the data,
solving the grid (what a first visit paid before decisions were stored at load), and what a first visit pays
now (building the cells, checking the digest, reading the stored decision). Timings are wall-clock medians
of --repeat runs; nothing here is asserted in tests.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.database import connect_read  # noqa: E402
from metrics import catalog, decisions  # noqa: E402
from metrics import suppress as S  # noqa: E402


def timed(fn, repeat: int):
    out, times = None, []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return out, statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", type=Path, required=True)
    p.add_argument("--year", type=int)
    p.add_argument("--association")
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args(argv)
    con = connect_read(a.db)
    year = a.year or catalog.default_year(con, time.localtime().tm_year)
    names = catalog.associations(con)
    if a.association:
        whole = (a.association,)
    elif len(names) > 1:
        (top,) = con.execute("SELECT association FROM enrollments WHERE year(start_date) <= ? AND "
                             "(end_date IS NULL OR year(end_date) >= ?) GROUP BY 1 ORDER BY count(*) DESC LIMIT 1",
                             [year, year]).fetchone()
        whole = (top,)
    else:
        whole = ()
    (initiatives,) = con.execute("SELECT count(DISTINCT initiative) FROM enrollments WHERE "
                                 "(association = ? OR ? = '') AND year(start_date) <= ? AND "
                                 "(end_date IS NULL OR year(end_date) >= ?)",
                                 [whole[0] if whole else "", whole[0] if whole else "", year, year]).fetchone()
    grid, t_grid = timed(lambda: S._grid(con, year, whole, S.PUBLICATION), a.repeat)
    # the year is decided beside what the year before published (read where the load stored it, else decided)
    given, t_given = timed(lambda: S._given(con, year, whole, S.DEFAULT_THRESHOLD), 1)
    grid = grid.beside(given)
    decision, t_decide = timed(lambda: grid.decide(S.DEFAULT_THRESHOLD), 1)
    text = decisions.encode(*decision)
    _, t_read = timed(lambda: decisions.decode(text) and grid.digest(), a.repeat)
    people = grid.values.get(S.span_key("Y", "participants", {}, "total"), 0)
    print(f"{a.db.name}, {year}, {whole[0] if whole else 'hela databasen'}: {people} deltagare, {initiatives} insatser, "
          f"{len(grid.values)} celler; delår och tertial visas: {'ja' if decision[4] else 'nej (bara helår)'}")
    print(f"  bygga cellerna ur datat      {t_grid:6.2f} s")
    print(f"  året före, som året beslutas bredvid ({len(given.values) if given else 0} celler) {t_given:6.2f} s")
    print(f"  lösa årets rutnät            {t_decide:6.2f} s   (första besöket förut)")
    print(f"  läsa det lagrade beslutet     {t_read:6.2f} s   (+ bygga cellerna = första besöket nu: "
          f"{t_grid + t_read:.2f} s)")


if __name__ == "__main__":
    main()
