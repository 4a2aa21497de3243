"""ui/runtime.py: the imports' objects are frozen once per process, not at every run."""
import gc

from ui import runtime


def test_freeze_imports_freezes_once(monkeypatch):
    was_frozen = gc.get_freeze_count()
    monkeypatch.setattr(runtime, "_frozen", False)
    try:
        runtime.freeze_imports()
        frozen = gc.get_freeze_count()
        assert frozen > was_frozen
        later = [{"run": i} for i in range(1000)]  # what a later run creates stays collectable
        runtime.freeze_imports()
        assert gc.get_freeze_count() == frozen
        assert len(later) == 1000
    finally:
        if was_frozen == 0:
            gc.unfreeze()


# ------------------------------------------------------------------ issue 22 §5: uploads before sign-in

import asyncio  # noqa: E402
import re  # noqa: E402
import tomllib  # noqa: E402
from pathlib import Path  # noqa: E402

import httpx  # noqa: E402
import websockets  # noqa: E402

from auth import accounts  # noqa: E402
from auth.roles import ADMIN, READER, STAFF, Viewer  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def upload_limit() -> int:
    return tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))["server"]["maxUploadSize"]


def test_the_upload_limit_is_small_and_the_readme_and_the_caddyfile_say_the_same():
    limit = upload_limit()
    assert limit == 50
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"`.streamlit/config.toml` to {limit} and said on the page" in readme
    caddy = (ROOT / "Caddyfile").read_text(encoding="utf-8")
    body = re.search(r"@upload path /_stcore/upload_file/\*\s+request_body @upload \{\s+max_size (\d+)MiB", caddy)
    assert body and int(body[1]) == limit + 1  # the file and Streamlit's 1 MB of multipart framing, no more


def test_only_a_viewer_who_may_load_data_may_have_uploads_kept():
    from ui.access import VIEWER_KEY

    assert runtime.may_upload({VIEWER_KEY: Viewer("adam", ADMIN, "konto")})
    assert not runtime.may_upload({VIEWER_KEY: Viewer("hanna", STAFF, "konto")})
    assert not runtime.may_upload({VIEWER_KEY: Viewer("lisa", READER, "konto")})
    assert not runtime.may_upload({VIEWER_KEY: None})  # signed out
    assert not runtime.may_upload({})  # never signed in


async def _anonymous_session(url: str) -> tuple:
    """A raw websocket client, as an attacker's: it opens a session and waits for its first run to end."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    ws = await websockets.connect(url.replace("http", "ws") + "/_stcore/stream", subprotocols=["streamlit"],
                                  origin=url)
    rerun = BackMsg()
    rerun.rerun_script.query_string = ""
    await ws.send(rerun.SerializeToString())
    session_id = None
    for _ in range(1000):
        msg = ForwardMsg()
        msg.ParseFromString(await asyncio.wait_for(ws.recv(), 60))
        if msg.WhichOneof("type") == "new_session":
            session_id = msg.new_session.initialize.session_id
        elif msg.WhichOneof("type") == "script_finished" and session_id:
            return ws, session_id
    raise AssertionError("the session's first run did not finish")


def _in_a_thread(coroutine):
    """asyncio.run in a thread of its own: the session's Chromium (Playwright's sync API) holds this thread's loop."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def test_a_session_that_has_not_signed_in_gets_no_upload_kept_and_an_oversize_one_is_refused(tmp_path):
    """PUTs to /_stcore/upload_file/<own session>/… before sign-in: refused (403) whatever their size, and one over
    the limit is refused before it is read (413), so nobody fills the server's memory without an account."""
    from streamlit.web.server.starlette.starlette_app_utils import generate_xsrf_token_string

    from tests.e2e_server import streamlit_server
    from tests.conftest import write_small_association
    from etl.load import load_files

    db = tmp_path / "f.duckdb"
    assert load_files(write_small_association(tmp_path / "files"), db, actor="test").ok
    accounts.upsert("adam", ADMIN, "adams-lösen-Ö3", tmp_path / "accounts.toml")  # sign-in is required
    env = {"FINSAM_ACCOUNTS": str(tmp_path / "accounts.toml"), "FINSAM_AUDIT_DB": str(tmp_path / "audit.sqlite"),
           "FINSAM_AUTH_CONFIG": str(tmp_path / "auth.toml")}

    async def attack(url: str) -> list[int]:
        ws, session_id = await _anonymous_session(url)
        token = generate_xsrf_token_string()  # the double-submit token anyone can make for themselves
        headers = {"X-Xsrftoken": token, "Cookie": f"_streamlit_xsrf={token}"}
        statuses = []
        async with httpx.AsyncClient(timeout=120) as client:
            for i, size in enumerate([1000, 10 * 1024 * 1024, (upload_limit() + 2) * 1024 * 1024]):
                r = await client.put(f"{url}/_stcore/upload_file/{session_id}/f{i}", headers=headers,
                                     files={"file": (f"f{i}.csv", b"x" * size, "text/csv")})
                statuses.append(r.status_code)
        await ws.close()
        return statuses

    with streamlit_server(db, env=env, log=tmp_path / "server.log") as url:
        assert _in_a_thread(attack(url)) == [403, 403, 413]


def test_a_first_visit_to_oversikt_imports_neither_python_pptx_nor_openpyxl(sample_db):
    """They cost a server's first visit about 0,2 s (issue 21: under 3 s) and are needed only when a board pack or a
    workbook is asked for: the sidebar names the pack without building it, and workbooks import openpyxl when
    written. Checked in a fresh process that runs Översikt, protected, as a first visit does."""
    import subprocess
    import sys
    from pathlib import Path

    script = ("import sys\nfrom streamlit.testing.v1 import AppTest\n"
              "at = AppTest.from_file('app.py', default_timeout=90)\nat.query_params['suppress'] = '1'\nat.run()\n"
              "assert not at.exception, at.exception\nassert at.metric, 'Översikt showed no key figures'\n"
              "print(sorted(m for m in ('pptx', 'openpyxl') if m in sys.modules))\n")
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=120,
                         env={**__import__("os").environ, "FINSAM_DB": str(sample_db)})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"
