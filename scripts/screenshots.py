"""Screenshot every page in headless Chromium, to look at what users see.

    python scripts/screenshots.py [OUT_DIR] [QUERY] [PATHS]   e.g. python scripts/screenshots.py /tmp/shots "year=2024"

SHOT_DB=path uses that database (read only) instead of a fresh one built from the sample; SHOT_HEIGHT sets
the window's height.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import sync_playwright  # noqa: E402

from etl.load import ensure_database  # noqa: E402
from tests.e2e_server import CHROMIUM, CHROMIUM_ARGS, streamlit_server, wait_idle  # noqa: E402

PATHS = ["", "inflode", "jamstalldhet", "avslut", "kostnad", "ekonomi"]


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "screenshots")
    query = sys.argv[2] if len(sys.argv) > 2 else ""
    paths = sys.argv[3].split(",") if len(sys.argv) > 3 else PATHS
    out.mkdir(parents=True, exist_ok=True)
    if os.environ.get("SHOT_DB"):
        db = Path(os.environ["SHOT_DB"])
    else:
        db = Path(tempfile.mkdtemp()) / "finsam.duckdb"
        ensure_database(db)
    with streamlit_server(db) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": int(os.environ.get("SHOT_HEIGHT", "2600"))})
        for path in paths:
            page.goto(f"{url}/{path}?{query}")
            wait_idle(page)
            page.wait_for_timeout(1500)
            wait_idle(page)
            name = out / f"{path or 'oversikt'}.png"
            page.screenshot(path=str(name), full_page=True)
            print(name)
        browser.close()


if __name__ == "__main__":
    main()
