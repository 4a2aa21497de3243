"""`streamlit run …` that also notes how long each script run took on the server, for the sessions phase.

Under twenty sessions the browser's view of a step mixes the app's time with Chromium's, which shares the
server's two CPUs. Each run's wall time and the CPU its thread used are appended, one line per run, to the
file named by FINSAM_BENCH_RUNLOG: start (Unix time), wall seconds, CPU seconds, the page's hash and name and
the query string, tab-separated. Used only by bench/national.py's sessions phase.
"""
from __future__ import annotations

import os
import sys
import threading
import time

from streamlit.runtime.scriptrunner import script_runner
from streamlit.web import cli

_log_path = os.environ["FINSAM_BENCH_RUNLOG"]
_write = threading.Lock()
_plain = script_runner.ScriptRunner._run_script


def _timed(self, rerun_data) -> None:
    start, t0, c0 = time.time(), time.perf_counter(), time.thread_time()
    try:
        _plain(self, rerun_data)
    finally:
        line = (f"{start:.3f}\t{time.perf_counter() - t0:.4f}\t{time.thread_time() - c0:.4f}\t"
                f"{rerun_data.page_script_hash}\t{rerun_data.page_name}\t{rerun_data.query_string}\n")
        with _write, open(_log_path, "a") as fh:
            fh.write(line)


script_runner.ScriptRunner._run_script = _timed

if __name__ == "__main__":
    sys.argv[0] = "streamlit"
    sys.exit(cli.main())
