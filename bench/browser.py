"""Page ready times in headless Chromium, one fresh tab at a time and many sessions at once.

"Ready" is what Streamlit's own browser tests wait for: the app's script has run to the end
(`[data-testid='stApp'][data-test-script-state='notRunning']`, which starts as `initial`
before the first run). The moment is taken in the page, by an observer of that attribute
(`READY_AT`), in ms since the navigation began: Playwright's own wait polls ever more slowly
(0, 20, 50, 100, 100, then every 500 ms) and on a busy main thread later still, so timing
its return added up to half a second to a page that needs a few hundred ms more than the
floor, and nothing to the floor itself. The server is started as tests/e2e_server.py starts it, with
`streamlit run`, so a trivial page served the same way gives the floor to compare with.
"""
from __future__ import annotations

import ast
import asyncio
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
READY = "[data-testid='stApp'][data-test-script-state='notRunning']"
VIEWPORT = {"width": 1400, "height": 1000}
# Installed before the page's own scripts: notes when stApp's run state first turns notRunning (READY).
READY_AT = """window.__readyAt = null;
new MutationObserver((records, observer) => {
  for (const r of records) if (r.target.getAttribute('data-testid') === 'stApp'
      && r.target.getAttribute('data-test-script-state') === 'notRunning') {
    window.__readyAt = performance.now(); observer.disconnect(); return; }
}).observe(document, {attributes: true, subtree: true, attributeFilter: ['data-test-script-state']});"""

FLOOR_PAGE = '''"""The floor: a trivial Streamlit page with one metric and one small Plotly chart."""
import plotly.graph_objects as go
import streamlit as st

st.metric("Deltagare", "1 234")
st.plotly_chart(go.Figure(go.Bar(x=["Kvinnor", "Män", "Annat/okänt"], y=[612, 598, 24])))
'''

# True once every Plotly chart on the page has drawn its SVG and the count has held still (300 ms; 1,5 s
# while no chart is there, as the chart component is loaded lazily). window.__drawSince is then the moment,
# in ms since the navigation began, when the last chart was drawn.
CHARTS_DRAWN = """() => { const charts = [...document.querySelectorAll("[data-testid='stPlotlyChart']")];
  const drawn = charts.filter(c => c.querySelector('.main-svg')).length;
  const key = charts.length + ':' + drawn, now = performance.now();
  if (window.__drawKey !== key) { window.__drawKey = key; window.__drawSince = now; return false; }
  return drawn === charts.length && now - window.__drawSince >= (charts.length ? 300 : 1500); }"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_status_mb(pid: int, key: str) -> float | None:
    """VmRSS (now) or VmHWM (peak) of a process, in MB, from /proc."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


@dataclass
class Server:
    url: str
    proc: subprocess.Popen
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def rss_mb(self) -> float | None:
        return proc_status_mb(self.pid, "VmRSS")

    def peak_mb(self) -> float | None:
        return proc_status_mb(self.pid, "VmHWM")


@contextlib.contextmanager
def streamlit_server(script: Path, cwd: Path, log: Path, db: Path | None = None, run_log: Path | None = None):
    """`streamlit run script` on a free port, as tests/e2e_server.py does; yields a Server once healthy.

    With run_log, each script run's time on the server is noted there (bench/timed_streamlit.py)."""
    port = free_port()
    env = os.environ | {"STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    if db is not None:
        env["FINSAM_DB"] = str(db)
    streamlit = ["-m", "streamlit"]
    if run_log is not None:
        run_log.unlink(missing_ok=True)
        env["FINSAM_BENCH_RUNLOG"] = str(run_log)
        streamlit = [str(Path(__file__).with_name("timed_streamlit.py"))]
    fh = open(log, "wb")
    proc = subprocess.Popen(
        [sys.executable, *streamlit, "run", str(script), "--server.headless", "true", "--server.port", str(port),
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=cwd, env=env, stdout=fh, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).status == 200:
                    break
            except OSError:
                if proc.poll() is not None:
                    break
                time.sleep(0.5)
        else:
            raise RuntimeError(f"streamlit did not start; see {log}")
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited; see {log}")
        yield Server(url, proc, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        fh.close()


def floor_app(directory: Path) -> Path:
    """The trivial page, with the app's .streamlit/config.toml beside it so both are served alike."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / ".streamlit").mkdir(exist_ok=True)
    config = ROOT / ".streamlit" / "config.toml"
    if config.exists():
        (directory / ".streamlit" / "config.toml").write_text(config.read_text(encoding="utf-8"), encoding="utf-8")
    script = directory / "floor.py"
    script.write_text(FLOOR_PAGE, encoding="utf-8")
    return script


def app_pages() -> list[tuple[str, str]]:
    """(url path, title) of every page in app.py's navigation, read from its st.Page(...) calls."""
    tree = ast.parse((ROOT / "app.py").read_text(encoding="utf-8"))
    pages = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "Page":
            kw = {k.arg: k.value.value for k in node.keywords if isinstance(k.value, ast.Constant)}
            if "url_path" in kw and node.args and isinstance(node.args[0], ast.Constant):
                pages.append((kw["url_path"], kw.get("title", kw["url_path"])))
    return pages


# ---------------------------------------------------------------- one fresh tab at a time


@dataclass
class Visit:
    seconds: float | None
    drawn: float | None = None  # until every Plotly chart has drawn (not part of "ready"; for the chart cost)
    exceptions: int = 0  # st.exception boxes (an uncaught error in the page)
    error_alerts: int = 0  # st.error boxes
    charts: int = 0
    error: str | None = None  # the tab did not get ready (timeout, crash), or came up without the app's navigation

    @property
    def ok(self) -> bool:
        return self.error is None and self.exceptions == 0 and self.error_alerts == 0


WRONG_PAGE = ("the page came up without app.py's navigation (Streamlit's pages/ auto-discovery): "
              "no filters, file names in the menu")


def visit(browser, url: str, timeout_s: float = 180, nav_title: str | None = None) -> Visit:
    """Open `url` in a fresh tab (its own browser context: no cache, no session) and time it to ready.

    `nav_title`: a page title app.py's navigation shows; a page whose menu lacks it is a failure.
    """
    page = browser.new_page(viewport=VIEWPORT)
    page.add_init_script(READY_AT)
    try:
        t0 = time.perf_counter()
        page.goto(url, timeout=timeout_s * 1000)
        page.wait_for_selector(READY, timeout=timeout_s * 1000)
        ready_at = page.evaluate("window.__readyAt")  # None only if stApp was created already notRunning
        seconds = ready_at / 1000 if ready_at is not None else time.perf_counter() - t0
        try:
            page.wait_for_function(CHARTS_DRAWN, timeout=timeout_s * 1000, polling=50)
            drawn = max(seconds, page.evaluate("window.__drawSince") / 1000)
        except Exception:
            drawn = None
        v = Visit(seconds, drawn, page.get_by_test_id("stException").count(),
                  page.locator("[data-testid='stAlertContentError']").count(),
                  page.get_by_test_id("stPlotlyChart").count())
        if v.exceptions:
            text = " ".join(page.get_by_test_id("stException").first.inner_text().split())
            v.error = f"exception on the page: {text[:160]}"
        if nav_title and page.get_by_test_id("stSidebarNav").get_by_text(nav_title, exact=True).count() == 0:
            v.error = WRONG_PAGE
        return v
    except Exception as exc:  # a page that never gets ready is a result, not a crash of the benchmark
        return Visit(None, error=f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
    finally:
        page.context.close()


def measure_pages(base: str, targets: dict[str, str], reps: int, timeout_s: float = 180, warmup: str | None = None,
                  nav_title: str | None = None, floor: str | None = None) -> dict[str, dict]:
    """For each label → URL: the first (cold-cache) visit, then `reps` warm visits, each in a fresh tab.

    `floor`: the trivial page's URL (its own server). One floor visit goes before each warm visit, and all of them
    make the entry FLOOR: the floor is then measured over the same minutes as the pages, and a drift of the
    machine (another process, the CPU's clock) moves both alike instead of only one side of the ratio.
    """
    from playwright.sync_api import sync_playwright

    out: dict[str, dict] = {}
    floor_visits: list[Visit] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            if warmup:  # the server's first request runs in pages/ auto-discovery mode: not a page to time
                visit(browser, base + warmup, timeout_s)
            if floor:
                visit(browser, floor, timeout_s)  # its server's first request too

            def warm_visit(url: str) -> Visit:
                if floor:
                    floor_visits.append(visit(browser, floor, timeout_s))
                return visit(browser, url, timeout_s, nav_title)

            for label, path in targets.items():
                first = visit(browser, base + path, timeout_s, nav_title)
                warm = [warm_visit(base + path) for _ in range(reps)]
                out[label] = _summary(path, first, warm)
                print(f"    {label:<40} first {_s(first.seconds)}  warm median {_s(out[label]['median'])}"
                      f"  charts drawn {_s(out[label]['drawn'])}"
                      + (f"  FAILURES {out[label]['failures']}" if out[label]["failures"] else ""), flush=True)
        finally:
            browser.close()
    if floor:
        out[FLOOR] = _summary("/", None, floor_visits)
    return out


FLOOR = "(floor)"


def _summary(path: str, first: Visit | None, warm: list[Visit]) -> dict:
    times = [v.seconds for v in warm if v.seconds is not None]
    drawn = [v.drawn for v in warm if v.drawn is not None]
    visits = [v for v in [first, *warm] if v is not None]
    return {
        "path": path,
        "first": first.seconds if first else None,
        "warm": times,
        "median": statistics.median(times) if times else None,
        "drawn": statistics.median(drawn) if drawn else None,
        "charts": max([v.charts for v in visits] or [0]),
        "failures": _counted([v.error or f"{v.exceptions} exceptions, {v.error_alerts} error boxes"
                              for v in visits if not v.ok]),
    }


def _counted(messages: list[str]) -> list[str]:
    """Each distinct message once, with how many visits it happened in."""
    return [f"{messages.count(m)} × {m}" for m in dict.fromkeys(messages)]


def _s(x: float | None) -> str:
    return "   –  " if x is None else f"{x:6.2f} s"


# ---------------------------------------------------------------- many sessions at once


@dataclass
class Step:
    session: int
    number: int
    kind: str  # open, nav, year, goto
    target: str
    seconds: float | None
    started: float  # since the phase began
    error: str | None = None
    exceptions: int = 0
    error_alerts: int = 0
    after_swap: bool = False  # began after the concurrent load had swapped in the new database

    @property
    def ok(self) -> bool:
        return self.error is None and self.exceptions == 0 and self.error_alerts == 0

    @property
    def failure(self) -> str | None:
        """What went wrong, in one of a few kinds (None when the step went well)."""
        if self.ok:
            return None
        if self.exceptions or self.error_alerts:
            return "exception or error box on the page"
        if self.error.startswith("connection"):
            return "lost connection to the server"
        if self.error == WRONG_PAGE:
            return "page without the app's navigation"
        if "click" in self.error and "Timeout" in self.error:
            return "a link or widget could not be clicked within the time limit (the tab was busy)"
        if "Timeout" in self.error:
            return "the page was not ready within the time limit"
        return "other: " + self.error[:80]


class CpuUse:
    """CPU seconds used during a phase, by whom: the app, Chromium, the load, the bench's own driver.

    The sessions' Chromium stands in for twenty people's own computers but runs on the server's two CPUs; this
    says how much of the machine the app itself had to have."""

    def __init__(self, app_pid: int) -> None:
        self.app_pid = app_pid
        self.load_pid: int | None = None
        self.seconds: dict[str, float] = {}
        self._seen: dict[tuple[int, str], tuple[str, float]] = {}  # (pid, start time) -> (who, CPU seconds so far)
        self._tick = os.sysconf("SC_CLK_TCK")
        self._first = True  # the first look only notes what each process had used before

    def _who(self, pid: int) -> str:
        if pid == self.app_pid:
            return "app"
        if pid == self.load_pid:
            return "load"
        try:
            argv0 = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0", 1)[0].decode(errors="replace")
        except OSError:
            return "other"
        if "chrom" in argv0:
            return "Chromium"
        if pid == os.getpid() or "playwright" in argv0 or argv0.endswith("node"):
            return "driver"
        return "other"

    def sample(self) -> None:
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                fields = Path(f"/proc/{entry.name}/stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            pid, used = int(entry.name), (int(fields[11]) + int(fields[12])) / self._tick
            key = (pid, fields[19])
            who, before = self._seen.get(key) or (self._who(pid), used if self._first else 0.0)
            self.seconds[who] = self.seconds.get(who, 0.0) + used - before
            self._seen[key] = (who, used)
        self._first = False


@contextlib.contextmanager
def idle_chromium():
    """The path of a Chromium that gets only the CPU the server leaves unused (Linux's SCHED_IDLE; nice 19 where
    chrt is missing). The sessions' tabs stand in for twenty people's own computers; on the server's two CPUs at
    normal priority they took 80 % of the machine, and the app's runs waited for a CPU (median 5 s, at most
    95 s, for 0,15 s of work). Idle, they still get every cycle the app and the load do not use."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="finsam-chromium-") as d:
        wrapper = Path(d) / "chromium"
        wrapper.write_text("#!/bin/sh\n"
                           f'command -v chrt >/dev/null && exec chrt --idle 0 {CHROMIUM} "$@"\n'
                           f'exec nice -n 19 {CHROMIUM} "$@"\n')
        wrapper.chmod(0o755)
        yield str(wrapper)


@dataclass
class LoadUnderSessions:
    sessions: int
    steps: list[Step] = field(default_factory=list)
    load_seconds: float | None = None
    load_rc: int | None = None
    load_output: str = ""
    rss_before_mb: float | None = None
    rss_max_mb: float | None = None
    rss_open_mb: float | None = None  # with every session still open, after the last step
    wall: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds by whom (CpuUse)
    load_started: float | None = None  # Unix time; it ended load_seconds later


def session_plan(i: int, pages: list[tuple[str, str]], year: int, years: list[int], first_year: int,
                 last_year: int) -> tuple[str, list[tuple[str, str]]]:
    """Where session i opens, and the filter and page switches it then makes, in order (cycled)."""
    n = len(pages)
    other = [y for y in years if y != year] or [year]
    path = lambda k: pages[(i + k) % n][0]  # noqa: E731
    title = lambda k: pages[(i + k) % n][1]  # noqa: E731
    opening = f"/{path(0)}?year={year}"
    actions = [  # the first four already switch page, year, period and an agency filter
        ("nav", title(1)),
        ("year", str(other[i % len(other)])),
        ("goto", f"/{path(2)}?from={first_year}-01-01&to={last_year}-12-31"),
        ("goto", f"/{path(3)}?year={year}&agency=Försäkringskassan"),
        ("nav", title(4)),
        ("year", str(other[(i + 2) % len(other)])),  # not `year`, which the link before chose: no run would follow
        ("nav", title(5)),
        ("goto", f"/{path(0)}?year={other[(i + 1) % len(other)]}&sex=women"),
    ]
    return opening, actions


async def _errors(page, nav_title: str) -> tuple[int, int, str | None]:
    exc = await page.get_by_test_id("stException").count()
    alerts = await page.locator("[data-testid='stAlertContentError']").count()
    state = await page.get_attribute("[data-testid='stApp']", "data-test-connection-state")
    if state not in (None, "CONNECTED"):
        return exc, alerts, f"connection {state}"
    if await page.get_by_test_id("stSidebarNav").get_by_text(nav_title, exact=True).count() == 0:
        return exc, alerts, WRONG_PAGE
    return exc, alerts, None


class Runs:
    """The app's script runs that reached their end, counted from the session's websocket.

    A click that starts a rerun is timed to the end of that run. The page's run-state attribute cannot tell:
    under load the browser gets "running" and "finished" together, React draws only the last state, and a
    watcher of the attribute never sees the run (the 20-session run of 2026-11-23 counted ten page switches as
    hung that had finished). Streamlit's own message for the end of a run (ForwardMsg script_finished) can.
    A run cut short by a rerun it asked for is not an end.
    """

    def __init__(self, page) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        self._msg = ForwardMsg
        self.ended = 0
        page.on("websocket", lambda ws: ws.on("framereceived", self._frame))

    def _frame(self, payload) -> None:
        if not isinstance(payload, (bytes, bytearray)):
            return
        try:
            msg = self._msg.FromString(bytes(payload))
        except Exception:  # noqa: BLE001 - not a message of ours
            return
        if msg.WhichOneof("type") == "script_finished" and msg.script_finished != self._msg.FINISHED_EARLY_FOR_RERUN:
            self.ended += 1

    async def after(self, before: int, timeout_ms: float) -> None:
        """Wait until a run has ended since the count was `before`."""
        t_end = time.perf_counter() + timeout_ms / 1000
        while self.ended <= before:
            if time.perf_counter() > t_end:
                raise TimeoutError(f"no script run ended within {timeout_ms / 1000:.0f} s")
            await asyncio.sleep(0.02)


async def _act(page, runs: Runs, base: str, kind: str, target: str, timeout_ms: float) -> None:
    """One step, timed to the end of the run it starts and the page drawn (the app's run state notRunning).

    A click has the limit a page has: it waits for the tab to draw the widget, which is Chromium's work, not the
    app's (twenty tabs on two CPUs at idle priority have taken up to a minute to open the year box after a page
    switch while the app's run took a second). A widget never drawn within the limit is still a failure."""
    if kind not in ("open", "goto"):
        await page.wait_for_selector(READY, timeout=timeout_ms)
    before = runs.ended
    if kind in ("open", "goto"):
        await page.goto(base + target, timeout=timeout_ms)
    elif kind == "nav":
        await page.get_by_test_id("stSidebarNav").get_by_text(target, exact=True).click(timeout=timeout_ms)
    elif kind == "year":
        box = page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").filter(has_text="År")
        await box.click(timeout=timeout_ms)
        await page.get_by_role("option", name=target, exact=True).click(timeout=timeout_ms)
    else:
        raise ValueError(kind)
    await runs.after(before, timeout_ms)
    await page.wait_for_selector(READY, timeout=timeout_ms)


async def _sessions(server: Server, pages, year: int, years: list[int], first_year: int, last_year: int,
                    sessions: int, steps: int, max_steps: int, load_cmd: list[str] | None, load_cwd: Path,
                    timeout_s: float, wall_cap_s: float, shots: Path | None = None,
                    chromium: str = CHROMIUM) -> LoadUnderSessions:
    from playwright.async_api import async_playwright

    if shots is not None:  # this run's pictures of failed steps only
        shots.mkdir(parents=True, exist_ok=True)
        for old in shots.glob("*.png"):
            old.unlink()

    res = LoadUnderSessions(sessions, rss_before_mb=server.rss_mb())
    t_phase = time.perf_counter()  # reset once the warm-up visit is done
    opened = 0
    all_open = asyncio.Event()
    load_done = asyncio.Event()
    swapped_at: list[float] = []
    finished = asyncio.Event()
    done_count = 0
    timeout_ms = timeout_s * 1000

    stop_sampler = threading.Event()
    peak = [server.rss_mb() or 0.0]
    cpu = CpuUse(server.pid)
    measuring = threading.Event()

    def sample() -> None:
        while not stop_sampler.is_set():
            peak[0] = max(peak[0], server.rss_mb() or 0.0)
            if measuring.is_set():  # from the phase's start, not the warm-up
                cpu.sample()
            stop_sampler.wait(0.25)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()

    async def run_load() -> None:
        await all_open.wait()
        if load_cmd is None:
            load_done.set()
            return
        t0, res.load_started = time.perf_counter(), time.time()
        proc = await asyncio.create_subprocess_exec(*load_cmd, cwd=load_cwd, stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.STDOUT)
        cpu.load_pid = proc.pid
        out, _ = await proc.communicate()
        res.load_seconds = time.perf_counter() - t0
        res.load_rc = proc.returncode
        res.load_output = out.decode(errors="replace")[-1500:]
        swapped_at.append(time.perf_counter() - t_phase)
        load_done.set()

    async def one(i: int, browser) -> None:
        nonlocal opened, done_count
        opening, actions = session_plan(i, pages, year, years, first_year, last_year)
        ctx = await browser.new_context(viewport=VIEWPORT)
        page = await ctx.new_page()
        runs = Runs(page)
        plan = [("open", opening)] + [actions[k % len(actions)] for k in range(max_steps)]
        after_load_steps = 0
        try:
            for k, (kind, target) in enumerate(plan):
                if k > steps and load_done.is_set() and after_load_steps >= 1:
                    break
                if time.perf_counter() - t_phase > wall_cap_s:
                    break
                began = time.perf_counter() - t_phase
                after = bool(swapped_at) and began >= swapped_at[0]
                step = Step(i, k, kind, target, None, began, after_swap=after)
                t0 = time.perf_counter()
                try:
                    await _act(page, runs, server.url, kind, target, timeout_ms)
                    step.seconds = time.perf_counter() - t0
                except Exception as exc:
                    step.error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
                try:
                    step.exceptions, step.error_alerts, conn = await _errors(page, pages[0][1])
                    step.error = step.error or conn
                except Exception as exc:
                    step.error = step.error or f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
                res.steps.append(step)
                if not step.ok and shots is not None and len(list(shots.glob("*.png"))) < 6:
                    with contextlib.suppress(Exception):
                        await page.screenshot(path=str(shots / f"session{i}-step{k}-{kind}.png"))
                after_load_steps += after
                if kind == "open":
                    opened += 1
                    if opened == sessions:
                        all_open.set()
                if step.error and "Timeout" in step.error:  # the tab may be stuck: start it afresh
                    with contextlib.suppress(Exception):
                        await page.goto(server.url + opening, timeout=timeout_ms)
                        await page.wait_for_selector(READY, timeout=timeout_ms)
        finally:
            if not all_open.is_set():
                opened += 1
                if opened >= sessions:
                    all_open.set()
            done_count += 1
            if done_count == sessions:  # every session is still open: the app's memory with all of them
                res.rss_open_mb = server.rss_mb()
                finished.set()
            await finished.wait()  # every session stays open until the last one is done
            await ctx.close()

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        try:
            # the server's very first request runs in pages/ auto-discovery mode (see fresh_server_deep_links)
            warm = await browser.new_page(viewport=VIEWPORT)
            await warm.goto(server.url + f"/?year={first_year}", timeout=timeout_ms)
            await warm.wait_for_selector(READY, timeout=timeout_ms)
            await warm.context.close()
            res.rss_before_mb = server.rss_mb()
            t_phase = time.perf_counter()
            measuring.set()
            await asyncio.gather(run_load(), *(one(i, browser) for i in range(sessions)))
        finally:
            await browser.close()
    stop_sampler.set()
    sampler.join()
    cpu.sample()
    res.cpu = cpu.seconds
    res.rss_max_mb = peak[0]
    res.wall = time.perf_counter() - t_phase
    return res


def load_under_sessions(server: Server, **kw) -> LoadUnderSessions:
    with idle_chromium() as chromium:
        return asyncio.run(_sessions(server, chromium=chromium, **kw))


def percentile(values: list[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100), as numpy's default."""
    if not values:
        return None
    v = sorted(values)
    pos = (len(v) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


# ---------------------------------------------------------------- a freshly started server


async def _deep_links(url: str, pages: list[tuple[str, str]], year: int, timeout_s: float) -> list[dict]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)

        async def one(path: str) -> dict:
            page = await browser.new_page(viewport=VIEWPORT)
            try:
                await page.goto(f"{url}/{path}?year={year}", timeout=timeout_s * 1000)
                await page.wait_for_selector(READY, timeout=timeout_s * 1000)
                await page.wait_for_timeout(3000)  # a rerun the page asks for itself starts within this
                await page.wait_for_selector(READY, timeout=timeout_s * 1000)
                ok = await page.get_by_test_id("stSidebarNav").get_by_text(pages[0][1], exact=True).count() > 0
                return {"path": path, "ok": ok, "detail": "" if ok else WRONG_PAGE}
            except Exception as exc:
                return {"path": path, "ok": False, "detail": f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"}
            finally:
                await page.context.close()

        try:
            return await asyncio.gather(*(one(path) for path, _ in pages))
        finally:
            await browser.close()


def fresh_server_deep_links(db: Path, log: Path, pages: list[tuple[str, str]], year: int,
                            timeout_s: float = 180) -> list[dict]:
    """Every page's link opened at once as the first requests to a freshly started app (after a restart)."""
    with streamlit_server(ROOT / "app.py", ROOT, log, db) as server:
        return asyncio.run(_deep_links(server.url, pages, year, timeout_s))
