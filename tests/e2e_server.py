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
        for _ in range(120):
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).status == 200:
                    break
            except OSError:
                time.sleep(0.5)
        else:
            output = log.read_bytes() if log else proc.stderr.read()
            raise RuntimeError("streamlit did not start: " + output.decode()[-2000:])
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        if log:
            err.close()


def wait_idle(page, timeout: int = 60_000) -> None:
    """Wait until the script has run to the end (Streamlit's own browser tests do the same)."""
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout)
    page.wait_for_timeout(300)
