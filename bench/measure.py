"""Run a command and report its wall time, CPU time and peak memory as JSON: a small launcher.

    python bench/measure.py OUT.json -- COMMAND ...

Why a launcher: a child's ru_maxrss counts the memory of the process it was forked from (Linux
records the old address space's high-water mark at exec), so a command started straight from a
benchmark that holds a million rows would be charged for them. This process is small; the
figures it writes are those of COMMAND alone.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time


def main(argv: list[str]) -> int:
    out, sep, cmd = argv[0], argv[1], argv[2:]
    if sep != "--" or not cmd:
        raise SystemExit(__doc__)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    rc = os.waitstatus_to_exitcode(status)
    with open(out, "w", encoding="utf-8") as fh:
        json.dump({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "peak_mb": usage.ru_maxrss / 1024, "rc": rc},
                  fh)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
