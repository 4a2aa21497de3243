"""DNS rebinding against the open local mode (issue 22 §1), on a running server with no sign-in configured.

A web page the server's own user opens can point its own name (evil.example) at 127.0.0.1 and then talk to
the app from this very machine, with `Host: evil.example:PORT` and a matching Origin. Chromium's
--host-resolver-rules does exactly that resolution here, so the browser sends the headers an attack would.
Two layers are checked: Streamlit's `server.allowedHosts` (.streamlit/config.toml) refuses the websocket, and
with that list opened to every name (`*`, as a misconfigured proxy setup might), the app's own check still
gives nothing but the Swedish page. The same server asked for by `localhost` serves everything, so each check
can fail."""
from __future__ import annotations

import base64
import os
import shutil
import socket
import time

import pytest

from tests.conftest import REBOUND_NAME
from tests.e2e_server import streamlit_server, wait_idle

EVIL = REBOUND_NAME  # the session's Chromium resolves it to this machine (tests/conftest.py)
REFUSED = "Insatskollen visas bara på serverns egen dator"
ROWS = "Ladda ned deltagarrader (Excel)"


def _server(tmp_path_factory, sample_db, name: str, env: dict | None = None):
    d = tmp_path_factory.mktemp(name)
    shutil.copyfile(sample_db, d / "finsam.duckdb")  # the session's sample, a copy: the server writes beside it
    env = {"FINSAM_ACCOUNTS": str(d / "accounts.toml"), "FINSAM_AUTH_CONFIG": str(d / "auth.toml"),  # neither exists
           "FINSAM_AUDIT_DB": str(d / "audit.sqlite")} | (env or {})
    return streamlit_server(d / "finsam.duckdb", env=env, log=d / "server.log")


@pytest.fixture(scope="module")
def default_server(tmp_path_factory, sample_db):
    with _server(tmp_path_factory, sample_db, "rebind_default") as url:
        yield url


@pytest.fixture(scope="module")
def any_host_server(tmp_path_factory, sample_db):
    with _server(tmp_path_factory, sample_db, "rebind_any", {"STREAMLIT_SERVER_ALLOWED_HOSTS": "*"}) as url:
        yield url


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def _handshake(port: int, host: str, origin: str | None) -> int:
    """The HTTP status of a websocket handshake to the app, written by hand so that Host and Origin are exactly
    these (a client library sets its own Host)."""
    key = base64.b64encode(os.urandom(16)).decode()
    lines = ["GET /_stcore/stream HTTP/1.1", f"Host: {host}", "Upgrade: websocket", "Connection: Upgrade",
             f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13", "Sec-WebSocket-Protocol: streamlit"]
    lines += [f"Origin: {origin}"] if origin else []
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        status_line = sock.makefile("rb").readline().decode()
    return int(status_line.split()[1])


@pytest.mark.parametrize("host, origin, opened", [
    ("{evil}:{port}", "http://{evil}:{port}", False),
    ("{evil}:{port}", None, False),
    ("localhost.evil.com:{port}", "http://localhost.evil.com:{port}", False),
    ("localhost:{port}", "http://localhost:{port}", True),
    ("127.0.0.1:{port}", None, True),
])
def test_the_websocket_answers_to_this_machines_names_only(default_server, host, origin, opened):
    port = _port(default_server)
    fill = {"evil": EVIL, "port": port}
    status = _handshake(port, host.format(**fill), origin.format(**fill) if origin else None)
    assert status == (101 if opened else 403), status


def test_a_rebound_name_gets_no_connection(default_server, browser):
    port = _port(default_server)
    page = browser.new_page()
    page.goto(f"http://localhost:{port}/export")  # the control: this machine by its own name
    wait_idle(page)
    page.get_by_role("button", name=ROWS).wait_for(timeout=60_000)
    page.close()

    page = browser.new_page()
    refused, closed = [], []
    page.on("websocket", lambda ws: (refused.append(ws.url), ws.on("close", lambda _: closed.append(ws.url))))
    page.goto(f"http://{EVIL}:{port}/export")
    # until the server has turned the websocket away (the page would draw only through it), then a moment more
    deadline = time.monotonic() + 30
    while not closed and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    page.wait_for_timeout(1_000)
    assert refused, "the page never tried the websocket, so the check below would prove nothing"
    assert closed, "the websocket was not turned away within 30 s"
    assert page.locator("h1").count() == 0
    assert page.get_by_test_id("stDownloadButton").count() == 0 and page.get_by_test_id("stDataFrame").count() == 0
    page.close()


@pytest.mark.parametrize("path", ["export", "data", "konton", ""])
def test_with_every_name_allowed_the_app_still_refuses_a_rebound_name(any_host_server, browser, path):
    port = _port(any_host_server)
    page = browser.new_page()
    page.goto(f"http://{EVIL}:{port}/{path}")
    wait_idle(page)
    page.get_by_text(REFUSED).first.wait_for(timeout=60_000)
    assert page.locator("h1").first.inner_text().startswith(REFUSED)
    body = page.get_by_test_id("stMain").inner_text()
    assert "localhost eller 127.0.0.1" in body
    assert page.get_by_test_id("stDownloadButton").count() == 0 and page.get_by_test_id("stDataFrame").count() == 0
    assert page.get_by_test_id("stFileUploader").count() == 0 and page.get_by_test_id("stMetric").count() == 0
    assert page.get_by_test_id("stSidebarNav").count() == 0
    page.close()


def test_with_every_name_allowed_this_machine_is_served(any_host_server, browser):
    """The control for the test above: the same server, asked for by localhost, opens /export with its rows."""
    port = _port(any_host_server)
    page = browser.new_page()
    page.goto(f"http://localhost:{port}/export")
    wait_idle(page)
    page.get_by_role("button", name=ROWS).wait_for(timeout=60_000)
    assert page.get_by_text(REFUSED).count() == 0
    page.close()
