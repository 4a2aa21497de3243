"""The national-scale benchmark: one command, everything side by side, written to bench/RESULTS.md.

    python bench/national.py [--n 1000000] [--out bench/RESULTS.md] [--skip-browser] [--sessions 20]

Generates N enrollments over 80 associations (bench/generate.py) and measures, in one run:
  load     `python -m etl load` of the CSV and of a 100 000-row xlsx against plain pandas
           (read_csv / read_excel, then insert into DuckDB): wall time and peak memory, each in
           its own process (peak RSS from os.wait4);
  report   `python -m etl report --year Y` as a whole process in each format (default, json, xlsx), and
           the same steps in one process: build_report's own work, its JSON text and its workbook;
  queries  every page's queries, the metrics layer on DuckDB against the same figures with pandas
           on DataFrames held in memory, for one year and for all years, and the check that both
           give identical figures (bench/queries.py);
  browser  every page's ready time in a fresh headless-Chromium tab, one year and all years,
           against a trivial Streamlit page (one metric, one small Plotly chart) served the same way,
           a visit to it before each warm page visit;
  sessions N simultaneous browser sessions switching pages and filters while `etl load` swaps in
           a new database: median and 95th-percentile step time, failures, the app's memory, each
           script run's time on the server and the CPU split (Chromium at idle priority).

Only public entry points are used (the etl command line, the metrics functions, `streamlit run`
app.py), so the benchmark keeps measuring while the loader and the pages change. Timings are
never asserted; tests/test_bench.py runs the generator and the correctness check at a small N.
Exit status 1 when the metrics layer and pandas disagree or a page fails.
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import importlib.metadata
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.generate import Generated, Spec, generate  # noqa: E402

PACKAGES = ["streamlit", "duckdb", "pandas", "numpy", "pyarrow", "plotly", "openpyxl", "python-calamine", "playwright"]
TARGETS = {"page_ratio": 1.5, "load_s": 10.0, "load_mb": 1024.0, "report_work_s": 1.0, "report_process_s": 1.5,
           "app_mb": 1024.0}


class LoadAverage:
    """The machine's 1-minute load average, sampled every 2 s, so a phase can say how busy the machine was.

    It counts this benchmark's own processes too: on 2 CPUs, a phase that runs one process and
    shows a load of 4 shared the machine with other work.
    """

    def __init__(self):
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            with open("/proc/loadavg") as fh:
                self.samples.append((time.monotonic(), float(fh.read().split()[0])))
            self._stop.wait(2)

    def between(self, t0: float, t1: float) -> dict:
        xs = [v for t, v in self.samples if t0 <= t <= t1] or [v for _, v in self.samples[-1:]]
        return {"mean": sum(xs) / len(xs) if xs else None, "max": max(xs) if xs else None}

    def stop(self) -> None:
        self._stop.set()


def log(msg: str) -> None:
    print(msg, flush=True)


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


# ---------------------------------------------------------------- processes


@dataclass
class Proc:
    wall: float
    cpu: float  # user + system seconds of the process (less sensitive than wall time to other work on the machine)
    peak_mb: float
    rc: int
    output: str


def measure_process(cmd: list[str], cwd: Path = ROOT, timeout: float = 3600) -> Proc:
    """Run `cmd` through bench/measure.py: its wall time, CPU time and peak resident memory, its alone."""
    stem = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-proc-{os.getpid()}-{time.monotonic_ns()}"
    out_path, figures = stem.with_suffix(".log"), stem.with_suffix(".json")
    env = {k: v for k, v in os.environ.items() if k != "FINSAM_DB"}
    with open(out_path, "wb") as out:
        proc = subprocess.Popen([sys.executable, str(ROOT / "bench" / "measure.py"), str(figures), "--", *cmd],
                                cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()  # the launcher; its child is left to finish on its own and is reported as failed
            proc.wait()
    text = out_path.read_text(encoding="utf-8", errors="replace")
    out_path.unlink(missing_ok=True)
    try:
        f = json.loads(figures.read_text(encoding="utf-8"))
        figures.unlink()
    except (OSError, ValueError):
        f = {"wall": timeout, "cpu": 0.0, "peak_mb": 0.0, "rc": proc.returncode or -1}
        text += "\n(timed out or the launcher failed)"
    return Proc(f["wall"], f["cpu"], f["peak_mb"], f["rc"], text)


def repeated(label: str, make_cmd, repeat: int, before=None) -> dict:
    """Run a command `repeat` times (fresh state each time via `before`); medians of wall and peak memory."""
    runs = []
    for _ in range(repeat):
        if before:
            before()
        p = measure_process(make_cmd())
        runs.append(p)
        log(f"    {label:<44} {p.wall:7.2f} s (CPU {p.cpu:6.2f} s) {p.peak_mb:7.0f} MB  rc {p.rc}")
        if p.rc != 0:
            break
    failed = [p for p in runs if p.rc != 0]
    return {
        "label": label, "runs": [p.wall for p in runs], "wall": median(p.wall for p in runs),
        "cpu": median(p.cpu for p in runs),
        "peak_mb": median(p.peak_mb for p in runs), "max_peak_mb": max(p.peak_mb for p in runs),
        "rc": failed[0].rc if failed else 0, "output": (failed[0] if failed else runs[-1]).output[-3000:],
    }


# ---------------------------------------------------------------- phases


def phase_generate(spec: Spec, work: Path, regenerate: bool) -> tuple[Generated, float | None]:
    data = work / "data"
    source = hashlib.sha256((ROOT / "bench" / "generate.py").read_bytes()).hexdigest()[:16]
    stamp = data / "generator.json"
    wanted = {"spec": asdict(spec), "source": source}
    if not regenerate and stamp.exists() and json.loads(stamp.read_text()) == wanted:
        manifest = json.loads((data / "manifest.json").read_text())
        g = Generated(spec, data, data / "deltagare.csv", data / "deltagare.xlsx", data / "budget.csv",
                      data / "insatser.csv", data / "enheter.csv", manifest["rows"], manifest["xlsx_rows"],
                      manifest["associations"], manifest["initiatives"], manifest["sizes"])
        log(f"  reusing generated data in {data} (same spec and generator)")
        return g, None
    shutil.rmtree(data, ignore_errors=True)
    t0 = time.perf_counter()
    g = generate(spec, data)
    seconds = time.perf_counter() - t0
    stamp.write_text(json.dumps(wanted))
    log(f"  generated {g.rows} enrollments, {g.initiatives} initiatives in {seconds:.1f} s")
    return g, seconds


def phase_load(g: Generated, work: Path, repeat: int) -> dict:
    py = sys.executable
    db = work / "load-test.duckdb"

    def fresh():
        for p in (db, Path(str(db) + ".wal"), Path(str(db) + ".lock")):
            p.unlink(missing_ok=True)

    etl = lambda *files: lambda: [py, "-m", "etl", "load", "--db", str(db), *map(str, files)]  # noqa: E731
    pandas = lambda kind, file: lambda: [py, str(ROOT / "bench" / "pandas_load.py"), kind, str(file), str(db)]  # noqa: E731
    out = {
        "etl_csv": repeated(f"etl load CSV ({g.rows} rows)", etl(g.participants_csv), repeat, fresh),
        "pandas_csv": repeated("pandas read_csv + insert", pandas("csv", g.participants_csv), repeat, fresh),
        "etl_xlsx": repeated(f"etl load xlsx ({g.xlsx_rows} rows)", etl(g.participants_xlsx), repeat, fresh),
        "pandas_xlsx": repeated("pandas read_excel (openpyxl) + insert", pandas("xlsx", g.participants_xlsx), repeat,
                                fresh),
        "pandas_xlsx_calamine": repeated("pandas read_excel (calamine) + insert",
                                         pandas("xlsx-calamine", g.participants_xlsx), repeat, fresh),
    }
    out["large_amount"] = large_amount_probe(g, work, etl_db=db, fresh=fresh)
    fresh()
    return out


def large_amount_probe(g: Generated, work: Path, etl_db: Path, fresh) -> dict:
    """The national budget with one line of 12 000 000 kr (a large initiative's investment) as its second line.

    Amounts above 9 999 999,99 kr are valid (the schema stores DECIMAL(18,2)); the probe shows whether a
    load of many budget lines takes one that is not among the first rows.
    """
    lines = g.budget_csv.read_text(encoding="utf-8").splitlines()
    first = lines[1].split(";")[0]
    big = f"{first};{g.spec.last_year};Investering;Förbundet;12000000;11800000"
    path = work / "budget_stor_rad.csv"
    path.write_text("\r\n".join([lines[0], lines[1], big, *lines[2:]]) + "\r\n", encoding="utf-8")
    fresh()
    r = repeated(f"etl load register + budget with a 12 MSEK line ({len(lines)} lines)",
                 lambda: [sys.executable, "-m", "etl", "load", "--db", str(etl_db), str(g.register_csv), str(path)], 1)
    path.unlink(missing_ok=True)
    errors = [ln for ln in r["output"].splitlines() if ln.startswith("FEL")]
    return {"rc": r["rc"], "wall": r["wall"], "error": errors[0][:400] if errors else None}


def phase_build(g: Generated, work: Path) -> tuple[Path, dict]:
    """The database every later phase reads: register, participants and budget in one load."""
    db = work / "national.duckdb"
    for p in (db, Path(str(db) + ".wal")):
        p.unlink(missing_ok=True)
    r = repeated("etl load register + CSV + budget", lambda: [sys.executable, "-m", "etl", "load", "--db", str(db),
                                                              *map(str, g.files)], 1)
    if r["rc"] != 0:
        raise RuntimeError("the national database could not be built:\n" + r["output"])
    r["db_mb"] = db.stat().st_size / 1e6
    return db, r


REPORT_FORMATS = {  # label -> the arguments after --year; the default is JSON to stdout, as the contract's example
    "default": [], "json": ["--format", "json"], "xlsx": ["--format", "xlsx", "--out", "{out}"]}


def phase_report(db: Path, year: int, repeat: int, work: Path) -> dict:
    """`etl report` as a user runs it, each format a whole process (start, imports, query, writing the output),
    next to the same steps timed inside one process: the report's work, its JSON text and its workbook."""
    import json as json_module

    from core.database import connect_read
    from metrics.report import build_report
    from render.annual_report import write_report_xlsx

    out = work / "report.xlsx"
    processes = {}
    for label, extra in REPORT_FORMATS.items():
        args = [a.format(out=out) for a in extra]
        processes[label] = repeated(
            f"etl report --year {year} {' '.join(extra[:2]) or '(default)'}",
            lambda args=args: [sys.executable, "-m", "etl", "report", "--db", str(db), "--year", str(year), *args],
            repeat)
    steps = {"work": [], "json": [], "xlsx": []}
    with connect_read(db) as con:
        for _ in range(repeat):
            t0 = time.perf_counter()
            report = build_report(con, year)
            t1 = time.perf_counter()
            json_module.dumps(report, ensure_ascii=False, indent=2)
            t2 = time.perf_counter()
            write_report_xlsx(report, out, con)
            t3 = time.perf_counter()
            for key, seconds in (("work", t1 - t0), ("json", t2 - t1), ("xlsx", t3 - t2)):
                steps[key].append(seconds)
    out.unlink(missing_ok=True)
    log(f"    in process: build_report({year}) {median(steps['work']):5.2f} s, its JSON text "
        f"{median(steps['json']):5.2f} s, its workbook {median(steps['xlsx']):5.2f} s")
    return {"process": processes["default"], "processes": processes, "work": median(steps["work"]),
            "work_runs": steps["work"], "json_text": median(steps["json"]), "xlsx_file": median(steps["xlsx"])}


def _time(fn, repeat: int) -> tuple[float | None, float | None, str | None]:
    """Median wall and CPU seconds (all threads of this process) of `repeat` calls, after one untimed call
    when repeating; or the error the call raised."""
    try:
        if repeat > 1:
            fn()
        runs, cpus = [], []
        for _ in range(repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            runs.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
        return median(runs), median(cpus), None
    except Exception as exc:
        return None, None, f"{type(exc).__name__}: {str(exc)[:200]}"


def phase_queries(db: Path, g: Generated, periods: dict, repeat: int) -> dict:
    from bench import pandas_way as pw
    from bench import queries as q
    from core.database import connect_read

    t0 = time.perf_counter()
    F = pw.prepare(g.directory)
    prepare_s = time.perf_counter() - t0
    log(f"    pandas: read and tidy the CSVs {prepare_s:.1f} s, DataFrames {F.memory_mb():.0f} MB in memory")
    result = {"prepare_s": prepare_s, "frames_mb": F.memory_mb(), "pages": {}, "check": {},
              "unmeasured": q.unmeasured_calls()}
    pages = {"(sidopanelen)": ("Sidopanelen (på varje sida)", q.SIDEBAR), **q.PAGES}
    with connect_read(db) as con:
        for plabel, f in periods.items():
            t0 = time.perf_counter()
            try:
                problems = q.check(con, F, f)
            except Exception as exc:
                problems = [f"the check itself failed: {type(exc).__name__}: {exc}"]
            result["check"][plabel] = problems
            log(f"    correctness {plabel}: " + ("identical" if not problems else f"{len(problems)} DIFFERENCES")
                + f" ({time.perf_counter() - t0:.1f} s)")
            for p in problems[:20]:
                log(f"      {p}")
            for path, (title, queries) in pages.items():
                rows = []
                for query in queries:
                    m, m_cpu, m_err = _time(lambda: query.metrics(con, f), repeat)
                    p_, p_cpu, p_err = _time(lambda: query.pandas(F, f), repeat)
                    rows.append({"query": query.name, "metrics": m, "pandas": p_, "metrics_cpu": m_cpu,
                                 "pandas_cpu": p_cpu, "error": (m_err and f"metrics: {m_err}")
                                 or (p_err and f"pandas: {p_err}")})
                page = result["pages"].setdefault(path, {"title": title, "periods": {}})
                total_m = sum(r["metrics"] or 0 for r in rows)
                total_p = sum(r["pandas"] or 0 for r in rows)
                page["periods"][plabel] = {"queries": rows, "metrics": total_m, "pandas": total_p,
                                           "metrics_cpu": sum(r["metrics_cpu"] or 0 for r in rows),
                                           "pandas_cpu": sum(r["pandas_cpu"] or 0 for r in rows)}
                log(f"    {title[:28]:<28} {plabel:<9} metrics {total_m * 1000:8.0f} ms   pandas {total_p * 1000:8.0f} ms"
                    + "".join(f"   ERROR {r['query']}: {r['error']}" for r in rows if r["error"]))
    return result


def _spread(xs: list[float]) -> str:
    """'0.68–0.75 s, middle half 0.70–0.72 s' for a list of visit times."""
    if not xs:
        return "–"
    q = statistics.quantiles(xs, n=4) if len(xs) > 1 else [xs[0]] * 3
    return f"{min(xs):.2f}–{max(xs):.2f} s, middle half {q[0]:.2f}–{q[2]:.2f} s"


def phase_browser(db: Path, work: Path, year: int, first_year: int, last_year: int, reps: int) -> dict:
    from bench import browser as b

    pages = b.app_pages()
    all_years = f"from={first_year}-01-01&to={last_year}-12-31"
    targets = {}
    for path, title in pages:
        targets[f"{title}|{year}"] = f"/{path}?year={year}"
        targets[f"{title}|alla år"] = f"/{path}?{all_years}"
    log("    floor: a trivial page with one metric and one small Plotly chart, a visit before each warm page visit")
    with b.streamlit_server(b.floor_app(work / "floor"), work / "floor", work / "floor.log") as floor_server, \
            b.streamlit_server(ROOT / "app.py", ROOT, work / "app.log", db) as server:
        rss_start = server.rss_mb()
        measured = b.measure_pages(server.url, targets, reps, warmup=f"/?year={first_year}", nav_title=pages[0][1],
                                   floor=floor_server.url + "/")
        rss_after = server.rss_mb()
    floor = measured.pop(b.FLOOR)
    return {"floor": floor, "pages": measured, "rss_start_mb": rss_start, "rss_after_mb": rss_after,
            "page_list": pages}


def phase_sessions(db: Path, g: Generated, work: Path, year: int, first_year: int, last_year: int, sessions: int,
                   steps: int) -> dict:
    from bench import browser as b

    # the national export taken again a month later: same rows under a title line, so a real, full load
    again = work / "deltagare_nytt_uttag.csv"
    with open(again, "wb") as out, open(g.participants_csv, "rb") as src:
        out.write(f"Uttag {last_year + 1}-01-15\r\n".encode())
        shutil.copyfileobj(src, out)
    load_cmd = [sys.executable, "-m", "etl", "load", "--db", str(db), str(again)]
    years = list(range(last_year, first_year - 1, -1))
    pages = b.app_pages()
    fresh = b.fresh_server_deep_links(db, work / "app-fresh.log", pages, year)
    log(f"    fresh server, {len(fresh)} links at once: {sum(not x['ok'] for x in fresh)} came up wrong")
    run_log = work / "app-sessions-runs.tsv"
    with b.streamlit_server(ROOT / "app.py", ROOT, work / "app-sessions.log", db, run_log=run_log) as server:
        res = b.load_under_sessions(server, pages=pages, year=year, years=years, first_year=first_year,
                                    last_year=last_year, sessions=sessions, steps=steps, max_steps=max(steps * 5, 40),
                                    load_cmd=load_cmd, load_cwd=ROOT, timeout_s=300, wall_cap_s=3600,
                                    shots=work / "screenshots")
    again.unlink(missing_ok=True)
    runs = [tuple(map(float, line.split("\t")[:3])) for line in run_log.read_text().splitlines() if line] \
        if run_log.exists() else []
    run_wall, run_cpu = [w for _, w, _ in runs], [c for _, _, c in runs]
    a, took = res.load_started, res.load_seconds
    during = [w for t, w, _ in runs if a is not None and took is not None and t + w >= a and t <= a + took]
    times = [s.seconds for s in res.steps if s.seconds is not None]
    switch = [s.seconds for s in res.steps if s.seconds is not None and s.kind != "open"]
    failures = [s for s in res.steps if not s.ok]
    out = {
        "sessions": sessions, "steps": len(res.steps), "wall": res.wall,
        "median": median(times), "p95": b.percentile(times, 95), "max": max(times) if times else None,
        "switch_median": median(switch), "switch_p95": b.percentile(switch, 95),
        "open_median": median([s.seconds for s in res.steps if s.kind == "open" and s.seconds is not None]),
        "by_kind": {k: {"n": len(v), "median": median(v), "p95": b.percentile(v, 95)}
                    for k in ("open", "nav", "year", "goto")
                    for v in [[s.seconds for s in res.steps if s.kind == k and s.seconds is not None]]},
        "during_load": {"n": 0}, "after_swap": {"n": 0},
        "failures": len(failures), "exceptions": sum(s.exceptions for s in res.steps),
        "failure_kinds": {k: sum(s.failure == k for s in failures) for k in sorted({s.failure for s in failures})},
        "timeout_s": 300,
        "error_alerts": sum(s.error_alerts for s in res.steps),
        "failure_examples": [f"session {s.session} step {s.number} {s.kind} {s.target}: "
                             f"{s.error or f'{s.exceptions} exceptions, {s.error_alerts} error boxes'}"
                             for s in failures[:10]],
        "load_seconds": res.load_seconds, "load_rc": res.load_rc, "load_output": res.load_output,
        "rss_before_mb": res.rss_before_mb, "rss_max_mb": res.rss_max_mb, "rss_open_mb": res.rss_open_mb,
        "fresh": fresh,
        "runs": {"n": len(runs), "median": median(run_wall), "p95": b.percentile(run_wall, 95),
                 "max": max(run_wall) if runs else None, "cpu_median": median(run_cpu)},
        "runs_during_load": {"n": len(during), "median": median(during), "p95": b.percentile(during, 95)},
        "cpu": res.cpu, "cpus": os.cpu_count(),
        "slowest": {k: max([s.seconds for s in res.steps if s.kind == k and s.seconds is not None], default=None)
                    for k in ("open", "nav", "year", "goto")},
    }
    after = [s.seconds for s in res.steps if s.after_swap and s.seconds is not None]
    out["after_swap"] = {"n": len([s for s in res.steps if s.after_swap]), "median": median(after),
                         "p95": b.percentile(after, 95)}
    log(f"    {len(res.steps)} steps in {res.wall:.0f} s: median {out['median']:.2f} s, p95 {out['p95']:.2f} s; "
        f"{len(failures)} failed; load {res.load_seconds and round(res.load_seconds, 1)} s rc {res.load_rc}; "
        f"app RSS max {res.rss_max_mb:.0f} MB, with all sessions open {res.rss_open_mb or 0:.0f} MB")
    return out


# ---------------------------------------------------------------- the machine and the report


def machine() -> dict:
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor() or "?")
    mem = next((int(ln.split()[1]) for ln in Path("/proc/meminfo").read_text().splitlines()
                if ln.startswith("MemTotal")), 0)
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "–"
    try:
        chromium = subprocess.run(["/usr/bin/chromium", "--version"], capture_output=True, text=True,
                                  timeout=30).stdout.strip()
    except OSError:
        chromium = "–"
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                                timeout=30).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", ".", ":!bench"], cwd=ROOT,
                               capture_output=True, text=True, timeout=30).stdout.strip()
    except OSError:
        commit, dirty = "?", ""
    return {"cpus": os.cpu_count(), "cpu": cpu, "ram_gb": mem / 1024 / 1024, "os": platform.platform(),
            "python": platform.python_version(), "versions": versions, "chromium": chromium,
            "commit": commit + (" (with uncommitted changes outside bench/)" if dirty else "")}


def ms(x):
    return "–" if x is None else f"{x * 1000:,.0f} ms".replace(",", " ")


def sec(x, digits=2):
    return "–" if x is None else f"{x:.{digits}f} s"


def mb(x):
    return "–" if x is None else f"{x:,.0f} MB".replace(",", " ")


def ratio(a, b, digits=1):
    return "–" if not a or not b else f"{a / b:.{digits}f}×"


def verdict(ok: bool | None) -> str:
    return "–" if ok is None else ("ja" if ok else "**nej**")


def render(r: dict) -> str:
    """RESULTS.md: every measurement of the run, with the machine, in tables."""
    m, g, a = r["machine"], r["data"], r["args"]
    lines = [
        "# Benchmark at national scale",
        "",
        f"Measured {r['date']} with `{r['command']}` (commit {m['commit']}); the whole run took "
        f"{r['total_s'] / 60:.0f} min. Regenerate this file with the same command. Timings are medians; "
        "they are never asserted in tests (`tests/test_bench.py` runs the generator and the correctness check "
        "at a small N).",
        "",
        "## Machine",
        "",
        f"- {m['cpus']} CPUs: {m['cpu']}; {m['ram_gb']:.1f} GB RAM; {m['os']}",
        f"- Python {m['python']}; " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()),
        f"- {m['chromium']} (headless, via Playwright)",
        "- How busy the machine was, as the 1-minute load average during each phase (mean / max; it counts this "
        "benchmark's own processes, and other work shares the 2 CPUs): "
        + "; ".join(f"{k} {v['mean']:.1f} / {v['max']:.1f}" for k, v in r.get("load_average", {}).items()
                    if v.get("mean") is not None) + ".",
        "",
        "## Data",
        "",
        f"Generated by `bench/generate.py` (seed {g['seed']}): **{g['rows']:,} enrollments** over {g['associations']} "
        f"associations and {g['initiatives']:,} initiatives (`Insats 17-3` is association 17's third), "
        f"{g['first_year']}–{g['last_year']}; the xlsx holds an evenly spread {g['xlsx_rows']:,} of the same rows."
        .replace(",", " "),
        "",
        "| File | Size |",
        "|---|---|",
        *[f"| {name} | {size / 1e6:.1f} MB |" for name, size in g["sizes"].items()],
    ]
    if g.get("generate_s"):
        lines += ["", f"Generating took {g['generate_s']:.0f} s."]
    if "load" in r:
        L = r["load"]
        lines += ["", "## Load: `python -m etl load` against plain pandas", "",
                  "Each run in its own process into a fresh database file; peak memory is the process's maximum "
                  "resident set (`os.wait4`). pandas reads the file and inserts the DataFrame into DuckDB, with no "
                  "validation and no normalisation (`bench/pandas_load.py`).", "",
                  "| What | Wall time | CPU time | Peak memory | etl ÷ pandas (time) | etl ÷ pandas (memory) "
                  "| Target (issue 12) |",
                  "|---|---|---|---|---|---|---|"]

        def row(key, base=None, target=None):
            x = L[key]
            b_ = L.get(base) if base else None
            fail = f" (exit {x['rc']})" if x["rc"] else ""
            return (f"| {x['label']}{fail} | {sec(x['wall'], 1)} | {sec(x.get('cpu'), 1)} | {mb(x['peak_mb'])} | "
                    f"{ratio(x['wall'], b_['wall']) if b_ else ''} | {ratio(x['peak_mb'], b_['peak_mb']) if b_ else ''} | "
                    f"{target or ''} |")

        ok = lambda x: x["rc"] == 0 and x["wall"] < TARGETS["load_s"] and x["peak_mb"] < TARGETS["load_mb"]  # noqa
        lines += [row("etl_csv", "pandas_csv", f"< 10 s, < 1 GB: {verdict(ok(L['etl_csv']))}"),
                  row("pandas_csv"),
                  row("etl_xlsx", "pandas_xlsx", f"< 10 s, < 1 GB: {verdict(ok(L['etl_xlsx']))}"),
                  row("pandas_xlsx"), row("pandas_xlsx_calamine")]
        big = L.get("large_amount")
        if big:
            lines += ["", "A budget line above 9 999 999,99 kr (the national budget with one line of 12 000 000 kr as "
                      "its second line, `large_amount_probe`): "
                      + ("loads." if big["rc"] == 0 else f"**the load fails** (exit {big['rc']}): `{big['error']}`")]
        lines += ["", f"Runs per row: {a['repeat']}. etl ÷ pandas (calamine) for the xlsx: "
                  f"{ratio(L['etl_xlsx']['wall'], L['pandas_xlsx_calamine']['wall'])} time, "
                  f"{ratio(L['etl_xlsx']['peak_mb'], L['pandas_xlsx_calamine']['peak_mb'])} memory."]
        for key in ("etl_csv", "etl_xlsx"):
            if L[key]["rc"]:
                lines += ["", f"`{L[key]['label']}` failed:", "", "```", L[key]["output"][-1500:], "```"]
    if "build" in r:
        b_ = r["build"]
        lines += ["", f"The database the rest of the run reads was built with one `etl load` of the register, the "
                  f"participants CSV and the budget: {sec(b_['wall'], 1)}, peak {mb(b_['peak_mb'])}; the file is "
                  f"{b_['db_mb']:.0f} MB."]
    if "report" in r:
        R = r["report"]
        processes = R.get("processes") or {"default": R["process"]}
        names = {"default": "", "json": " --format json", "xlsx": " --format xlsx --out FIL"}
        lines += ["", "## Report", "",
                  "Each format as a user runs it, a whole process (start, imports, query, writing the output; "
                  f"stdout to a file), the median of {a['repeat']} runs and the fastest; below it the same steps timed "
                  "inside one process (medians).", "",
                  "| What | Wall time | CPU time | Peak memory | Target |", "|---|---|---|---|---|"]
        for label, p in processes.items():
            fail = f" (exit {p['rc']})" if p["rc"] else ""
            ok = p["rc"] == 0 and p["wall"] is not None and p["wall"] < TARGETS["report_process_s"]
            lines.append(f"| `python -m etl report --year {a['year']}{names.get(label, label)}` (whole process){fail} | "
                         f"{sec(p['wall'])} (min {sec(min(p['runs']))}) | {sec(p.get('cpu'))} | {mb(p['peak_mb'])} | "
                         f"< 1,5 s: {verdict(ok)} |")
        lines.append(f"| `metrics.report.build_report` in process (the work) | {sec(R['work'])} | | | < 1 s: "
                     f"{verdict(R['work'] is not None and R['work'] < TARGETS['report_work_s'])} |")
        if R.get("json_text") is not None:
            lines += [f"| its JSON text in process (`json.dumps`, indent 2) | {sec(R['json_text'])} | | | |",
                      f"| its workbook in process (`render.annual_report.write_report_xlsx`) | {sec(R['xlsx_file'])} "
                      "| | | |"]
    if "queries" in r:
        Q = r["queries"]
        lines += ["", "## Page queries: metrics layer (DuckDB) against pandas on DataFrames in memory", "",
                  "The queries each page runs (through `ui.data.run`, here uncached), timed in one process: the "
                  "metrics functions on a read-only DuckDB connection, and the same figures computed with pandas on "
                  "the exports held in memory, the usual Streamlit way (`bench/pandas_way.py`). Median of "
                  f"{a['repeat']} runs after one warm-up run; a page's time is the sum of its queries.", "",
                  f"The pandas way first reads and tidies the CSVs: {sec(Q['prepare_s'], 1)}, and then holds "
                  f"{mb(Q['frames_mb'])} of DataFrames per process (st.cache_data hands each session a copy); "
                  f"the DuckDB file is {r['build']['db_mb']:.0f} MB on disk." if "build" in r else "", "",
                  "| Page | Period | Metrics layer | (CPU) | pandas | (CPU) | pandas ÷ metrics |",
                  "|---|---|---|---|---|---|---|"]
        for path, page in Q["pages"].items():
            for plabel, per in page["periods"].items():
                err = " ⚠ " + "; ".join(f"{x['query']}: {x['error']}" for x in per["queries"] if x["error"]) \
                    if any(x["error"] for x in per["queries"]) else ""
                lines.append(f"| {page['title']}{err} | {plabel} | {ms(per['metrics'])} | {ms(per.get('metrics_cpu'))} | "
                             f"{ms(per['pandas'])} | {ms(per.get('pandas_cpu'))} | {ratio(per['pandas'], per['metrics'])} |")
        lines += ["", "<details><summary>Per query</summary>", "",
                  "| Page | Query | Period | Metrics | pandas |", "|---|---|---|---|---|"]
        for path, page in Q["pages"].items():
            for plabel, per in page["periods"].items():
                for x in per["queries"]:
                    lines.append(f"| {page['title']} | `{x['query']}` | {plabel} | {ms(x['metrics'])} | {ms(x['pandas'])} |")
        lines += ["", "</details>", "", "### Correctness", "",
                  "Participants, started, exited, without consent and to work/studies by sex — in total, per "
                  "initiative and per agency —, inflow per agency, initiative, quarter and unit, exits by reason "
                  "(in total and per initiative), age groups, income before and after, time in initiative, the share "
                  "of women against target, and budget, actual, cost and cost per participant/new/positive exit per "
                  "initiative and year, per initiative and in all: metrics layer against pandas, cell by cell "
                  "(counts exactly, amounts and shares to 1e-9)."]
        for plabel, problems in Q["check"].items():
            lines.append(f"- {plabel}: " + ("**identical**" if not problems else f"**{len(problems)} differences**"))
            lines += [f"  - {p}" for p in problems[:20]]
        if Q["unmeasured"]:
            lines += ["", "Pages call functions this benchmark does not measure yet (add them to bench/queries.py): "
                      + "; ".join(f"{k}: {', '.join(v)}" for k, v in Q["unmeasured"].items())]
    if "browser" in r:
        B = r["browser"]
        floor = B["floor"]["median"]
        lines += ["", "## Pages in the browser", "",
                  "Time from navigation until Streamlit's running indicator is gone "
                  "(`[data-testid='stApp'][data-test-script-state='notRunning']`, noted in the page by an observer of "
                  "that attribute, as Playwright's own wait polls every 500 ms after the first few), each visit in a "
                  "fresh headless "
                  "Chromium tab (its own browser context) against `streamlit run app.py` on this machine. *First* is "
                  f"the first visit with that filter (the page's queries not yet in st.cache_data); *warm* the median "
                  f"of the {a['reps']} visits after it. The floor is a trivial Streamlit page (one `st.metric`, one "
                  "small Plotly bar chart) served and measured the same way, by its own server, one visit before "
                  "each warm page visit, so that it is measured over the same minutes as the pages: "
                  f"**{sec(floor)}**, the median of {len(B['floor']['warm'])} visits ({_spread(B['floor']['warm'])}). "
                  "*Charts drawn* "
                  "goes on until every Plotly chart on the page has drawn its SVG (the floor's: "
                  f"{sec(B['floor'].get('drawn'))}); Streamlit marks a page ready when its script has run, and the "
                  "browser draws the charts after that. *Drawn ÷ floor drawn* compares the two pages fully drawn "
                  "(the issue's floor of about 1,8 s is close to the trivial page fully drawn here).", "",
                  "| Page | Period | First | Warm | Warm ÷ floor | ≤ 1,5 × floor | Charts drawn (warm) | "
                  "Drawn ÷ floor drawn | Charts | Problems |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        floor_drawn = B["floor"].get("drawn")
        for label, v in B["pages"].items():
            title, plabel = label.split("|")
            ok = None if v["median"] is None or not floor else v["median"] <= TARGETS["page_ratio"] * floor
            lines.append(f"| {title} | {plabel} | {sec(v['first'])} | {sec(v['median'])} | {ratio(v['median'], floor)} | "
                         f"{verdict(ok)} | {sec(v.get('drawn'))} | {ratio(v.get('drawn'), floor_drawn)} | {v['charts']} | "
                         f"{'; '.join(v['failures']) or ''} |")
        lines += ["", f"The app's memory (RSS of the streamlit process): {mb(B['rss_start_mb'])} when started, "
                  f"{mb(B['rss_after_mb'])} after these visits."]
    if "sessions" in r:
        S = r["sessions"]
        lines += ["", f"## Under load: {S['sessions']} sessions at once, and a load", "",
                  f"{S['sessions']} browser sessions (one Chromium, one context each) open a page at the same time and "
                  "then switch pages (sidebar links), the year (sidebar), and follow links with all years, an agency or "
                  "a sex filter (`bench/browser.py`, `session_plan`); each step is timed to the end of its script run. "
                  "Once every session is open, `python -m etl load` loads the national CSV again (a new export of the "
                  "same rows: a full load that replaces every initiative) into the database the app is reading; the "
                  "sessions keep going until it has finished and each has made a step on the new database.", "",
                  "The twenty tabs stand in for twenty people's own computers but run on the server's CPUs, so "
                  "Chromium runs at idle priority (SCHED_IDLE): it gets every cycle the app and the load leave, and "
                  "no more. A step in the browser is therefore mostly Chromium's time; the app's own part is each "
                  "script run's time on the server, noted by `bench/timed_streamlit.py`.", "",
                  "| | Steps | Median | 95th percentile |", "|---|---|---|---|",
                  f"| All steps | {S['steps']} | {sec(S['median'])} | {sec(S['p95'])} |",
                  f"| Opening the first page | {S['by_kind']['open']['n']} | {sec(S['by_kind']['open']['median'])} | "
                  f"{sec(S['by_kind']['open']['p95'])} |",
                  f"| Switching (page, year, link) | {S['steps'] - S['by_kind']['open']['n']} | {sec(S['switch_median'])} | "
                  f"{sec(S['switch_p95'])} |",
                  *[f"| – {name} | {S['by_kind'][k]['n']} | {sec(S['by_kind'][k]['median'])} | {sec(S['by_kind'][k]['p95'])} |"
                    for k, name in (("nav", "page link"), ("year", "year in the sidebar"), ("goto", "a link with filters"))],
                  f"| Steps begun after the new database was swapped in | {S['after_swap']['n']} | "
                  f"{sec(S['after_swap'].get('median'))} | {sec(S['after_swap'].get('p95'))} |",
                  f"| **The app's script runs, on the server** | {S.get('runs', {}).get('n', '–')} | "
                  f"**{sec(S.get('runs', {}).get('median'))}** | **{sec(S.get('runs', {}).get('p95'))}** |",
                  f"| – runs while the load ran | {S.get('runs_during_load', {}).get('n', '–')} | "
                  f"{sec(S.get('runs_during_load', {}).get('median'))} | {sec(S.get('runs_during_load', {}).get('p95'))} |",
                  "",
                  f"- Failed steps: **{S['failures']}** of {S['steps']}"
                  + ("" if not S["failures"] else ": " + "; ".join(
                      f"{n} × {k}" for k, n in S.get("failure_kinds", {}).items()))
                  + f". Slowest step {sec(S['max'])} (limit {S.get('timeout_s', 300)} s for a page or a click"
                  + (f"; slowest year click {sec(S['slowest']['year'])}" if S.get("slowest", {}).get("year") else "")
                  + f"); slowest script run on the server {sec(S.get('runs', {}).get('max'))}, its median CPU time "
                  f"{sec(S.get('runs', {}).get('cpu_median'))}. The phase took {S['wall'] / 60:.1f} min.",
                  *([f"- CPU used during the phase, of {S['wall'] * S['cpus']:.0f} CPU-seconds the machine had: "
                     + ", ".join(f"{who} {v:.0f} s" for who, v in sorted(S["cpu"].items(), key=lambda x: -x[1])
                                 if v >= 0.5) + "."] if S.get("cpu") else []),
                  f"- The load under the sessions: {sec(S['load_seconds'], 1)}, exit status {S['load_rc']}.",
                  f"- The app's memory (RSS of the streamlit process): {mb(S['rss_before_mb'])} before, at most "
                  f"{mb(S['rss_max_mb'])} during, {mb(S['rss_open_mb'])} with all {S['sessions']} sessions open at the "
                  f"end (target < 1 GB: {verdict(S['rss_max_mb'] is not None and S['rss_max_mb'] < TARGETS['app_mb'])})."]
        lines += [f"  - {x}" for x in S["failure_examples"]]
        wrong = [x for x in S.get("fresh", []) if not x["ok"]]
        lines += [f"- A freshly started app (after a restart), every page's link opened at once as its first "
                  f"requests: {len(S.get('fresh', [])) - len(wrong)} of {len(S.get('fresh', []))} came up right"
                  + ("." if not wrong else "; wrong: " + "; ".join(f"`/{x['path']}` ({x['detail']})" for x in wrong)
                     + ". The sessions above start after one warm-up visit, so they measure the running app.")]
        if S["load_rc"]:
            lines += ["", "```", S["load_output"], "```"]
    if r.get("errors"):
        lines += ["", "## Phases that failed", ""] + [f"- {k}: `{v}`" for k, v in r["errors"].items()]
    if r.get("notes"):
        lines += ["", "## Notes", "", *r["notes"]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Benchmark Insatskollen at national scale (see the module docstring).")
    p.add_argument("--n", type=int, default=1_000_000, help="enrollments to generate (default 1 000 000)")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md")
    p.add_argument("--skip-browser", action="store_true", help="no Chromium: skip page times and sessions")
    p.add_argument("--sessions", type=int, default=20)
    p.add_argument("--steps", type=int, default=4,
                   help="page and filter switches per session at least (they go on until the load is done)")
    p.add_argument("--year", type=int, default=2021)
    p.add_argument("--repeat", type=int, default=3, help="runs per load, report and query measurement")
    p.add_argument("--reps", type=int, default=3, help="warm visits per page in the browser")
    p.add_argument("--associations", type=int, default=Spec.associations)
    p.add_argument("--initiatives", type=int, default=Spec.initiatives)
    p.add_argument("--xlsx-rows", type=int, default=Spec.xlsx_rows)
    p.add_argument("--seed", type=int, default=Spec.seed)
    p.add_argument("--work", type=Path, help="scratch directory (default /tmp/finsam-bench-N)")
    p.add_argument("--regenerate", action="store_true", help="generate the data even if the scratch directory has it")
    p.add_argument("--only", default="load,report,queries,browser,sessions",
                   help="comma-separated phases to run (the database is always built)")
    p.add_argument("--periods", default="year,all", help="periods for the queries: year (--year), all (every year)")
    p.add_argument("--notes", type=Path, help="a Markdown file whose lines are added under Notes")
    a = p.parse_args(argv)
    only = set(a.only.split(","))
    if a.skip_browser:
        only -= {"browser", "sessions"}
    spec = Spec(n=a.n, associations=a.associations, initiatives=a.initiatives, xlsx_rows=a.xlsx_rows, seed=a.seed)
    work = a.work or Path(f"/tmp/finsam-bench-{a.n}")
    work.mkdir(parents=True, exist_ok=True)
    from metrics import Filters

    periods = {str(a.year): Filters.year(a.year),
               "alla år": Filters(dt.date(spec.first_year, 1, 1), dt.date(spec.last_year, 12, 31))}
    periods = {k: v for k, v in periods.items() if ("all" if k == "alla år" else "year") in a.periods.split(",")}
    t_start = time.perf_counter()
    loadavg = LoadAverage()
    r: dict = {"date": dt.date.today().isoformat(), "machine": machine(), "errors": {}, "load_average": {},
               "args": vars(a) | {"work": str(work)},
               "command": "python bench/national.py " + " ".join(argv if argv is not None else sys.argv[1:])}
    log(f"Machine: {r['machine']['cpus']} × {r['machine']['cpu']}, {r['machine']['ram_gb']:.0f} GB; work dir {work}")
    log("Generate")
    g, gen_s = phase_generate(spec, work, a.regenerate)
    r["data"] = {"rows": g.rows, "xlsx_rows": g.xlsx_rows, "associations": g.associations, "initiatives": g.initiatives,
                 "first_year": spec.first_year, "last_year": spec.last_year, "seed": spec.seed, "sizes": g.sizes,
                 "generate_s": gen_s}

    def phase(name: str, fn):
        if name not in only:
            return
        log(name.capitalize())
        t0 = time.monotonic()
        try:
            r[name] = fn()
        except Exception as exc:
            r["errors"][name] = f"{type(exc).__name__}: {exc}"
            log(traceback.format_exc())
        r["load_average"][name] = loadavg.between(t0, time.monotonic()) | {"minutes": (time.monotonic() - t0) / 60}

    phase("load", lambda: phase_load(g, work, a.repeat))
    log("Build the national database")
    db, r["build"] = phase_build(g, work)
    phase("report", lambda: phase_report(db, a.year, a.repeat, work))
    phase("queries", lambda: phase_queries(db, g, periods, a.repeat))
    phase("browser", lambda: phase_browser(db, work, a.year, spec.first_year, spec.last_year, a.reps))
    phase("sessions", lambda: phase_sessions(db, g, work, a.year, spec.first_year, spec.last_year, a.sessions, a.steps))
    r["total_s"] = time.perf_counter() - t_start
    loadavg.stop()
    if a.notes and a.notes.exists():
        r["notes"] = a.notes.read_text(encoding="utf-8").splitlines()
    (work / "results.json").write_text(json.dumps(r, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    a.out.write_text(render(r), encoding="utf-8")
    log(f"Written to {a.out} (raw figures in {work / 'results.json'})")
    summary(r)
    bad = any(r.get("queries", {}).get("check", {}).values()) or bool(r["errors"])
    bad |= bool(r.get("load", {}).get("large_amount", {}).get("rc"))
    bad |= any(v["failures"] for v in r.get("browser", {}).get("pages", {}).values())
    bad |= bool(r.get("sessions", {}).get("failures"))
    bad |= any(not x["ok"] for x in r.get("sessions", {}).get("fresh", []))
    return 1 if bad else 0


def summary(r: dict) -> None:
    log("\nSummary")
    if "load" in r:
        L = r["load"]
        log(f"  etl load CSV {sec(L['etl_csv']['wall'], 1)} / {mb(L['etl_csv']['peak_mb'])}; pandas "
            f"{sec(L['pandas_csv']['wall'], 1)} / {mb(L['pandas_csv']['peak_mb'])} "
            f"(etl {ratio(L['etl_csv']['wall'], L['pandas_csv']['wall'])} the time)")
        log(f"  etl load xlsx {sec(L['etl_xlsx']['wall'], 1)} / {mb(L['etl_xlsx']['peak_mb'])}; pandas openpyxl "
            f"{sec(L['pandas_xlsx']['wall'], 1)}, calamine {sec(L['pandas_xlsx_calamine']['wall'], 1)}")
    if "report" in r:
        R = r["report"]
        log("  etl report " + ", ".join(f"{k} {sec(p['wall'])}" for k, p in R.get("processes", {}).items())
            + f" (whole process); build_report {sec(R['work'])}")
    if "queries" in r:
        for path, page in r["queries"]["pages"].items():
            log(f"  {page['title'][:30]:<30} " + "  ".join(
                f"{pl}: {ms(v['metrics'])} vs pandas {ms(v['pandas'])} ({ratio(v['pandas'], v['metrics'])})"
                for pl, v in page["periods"].items()))
        log("  correctness: " + ", ".join(f"{k} {'identical' if not v else f'{len(v)} differences'}"
                                          for k, v in r["queries"]["check"].items()))
    if "browser" in r:
        floor = r["browser"]["floor"]["median"]
        log(f"  floor {sec(floor)}")
        for label, v in r["browser"]["pages"].items():
            log(f"  {label:<40} warm {sec(v['median'])} ({ratio(v['median'], floor)} floor), first {sec(v['first'])}")
    if "sessions" in r:
        S = r["sessions"]
        log(f"  {S['sessions']} sessions: median {sec(S['median'])}, p95 {sec(S['p95'])}, failures {S['failures']}, "
            f"app RSS max {mb(S['rss_max_mb'])}; the app's runs on the server: median "
            f"{sec(S.get('runs', {}).get('median'))}, p95 {sec(S.get('runs', {}).get('p95'))}")


if __name__ == "__main__":
    sys.exit(main())
