"""Start the app with `streamlit run` on a free port, for browser tests and screenshots."""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def streamlit_server(db: Path, env: dict[str, str] | None = None, log: Path | None = None, port: int | None = None):
    """`env` adds variables (sign-in settings); `log` keeps the server's output in a file to read afterwards;
    `port` when the test must know it beforehand (an OIDC redirect address)."""
    port = port or free_port()
    env = os.environ | {"FINSAM_DB": str(db), "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"} | (env or {})
    err = open(log, "wb") if log else subprocess.PIPE
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=err if log else subprocess.DEVNULL, stderr=err,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).status == 200:
                    break
            except OSError:
                time.sleep(0.1)  # polling for the port, not waiting out a guess
        else:
            output = log.read_bytes() if log else proc.stderr.read()
            raise RuntimeError("streamlit did not start: " + output.decode()[-2000:])
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:  # still busy with a request (a deck being built): it is done with anyway
            proc.kill()
            proc.wait(timeout=20)
        if log:
            err.close()


IDLE = """() => {
    const app = document.querySelector("[data-testid='stApp']");
    return !!app && app.dataset.testScriptState === 'notRunning' && app.dataset.testConnectionState === 'CONNECTED'
        && !document.querySelector("[data-stale='true']");
}"""


def wait_idle(page, timeout: int = 60_000) -> None:
    """Wait until the script has run to the end and every element it drew is fresh: Streamlit's run state
    (`data-test-script-state`, as its own browser tests wait for it), connected, no element left stale by the run.
    No fixed sleep: a test then waits for the element it looks at."""
    page.wait_for_function(IDLE, timeout=timeout, polling=100)
