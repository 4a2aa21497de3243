"""A page's first visit under protection, the way the director meets it (issue 21: under 3 s).

Each page is opened once, as the first request of a freshly started `streamlit run app.py` (nothing cached in
the process), in a fresh headless Chromium tab, with protection on (`suppress=1`) and the link's year; the same
page unprotected, on its own fresh server, beside it. The database is the bundled sample as the app builds it
(`etl.load.ensure_database`: the loader decides each year's protection inside the load). Times are Streamlit's
own "ready" (the script has run to the end; bench/browser.py) and "drawn" (every Plotly chart has drawn).

    python bench/first_visit.py [--db PATH] [--year 2025] [--pages oversikt,avslut] [--association NAME]
        [--protected-only]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.browser import CHROMIUM, CHROMIUM_ARGS, app_pages, streamlit_server, visit  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, help="a database to read (default: the sample, built in a temporary folder)")
    ap.add_argument("--year", type=int, default=None, help="the link's year (default: the one the app opens on)")
    ap.add_argument("--pages", default="", help="url paths, comma-separated (default: every page with figures)")
    ap.add_argument("--association", help="one association of several (the link's association=)")
    ap.add_argument("--protected-only", action="store_true", help="leave out the unprotected visits")
    args = ap.parse_args(argv)
    from urllib.parse import quote

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        db = args.db
        if db is None:
            from etl.load import ensure_database
            from metrics import changes, suppress  # noqa: F401 - the load derives protection and effects
            db = Path(tmp) / "finsam.duckdb"
            ensure_database(db)
        year = args.year
        if year is None:
            import datetime as dt

            from core.database import connect_read
            from metrics.catalog import default_year
            with connect_read(db) as con:
                year = default_year(con, dt.date.today().year)
        wanted = [p for p in args.pages.split(",") if p] or ["", "inflode", "jamstalldhet", "avslut", "kostnad"]
        titles = dict(app_pages())
        print("| Sida | År | Skyddad: klar | Skyddad: diagram ritade | Utan skydd: klar | Utan skydd: ritade |")
        print("|---|---|---|---|---|---|")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            for path in wanted:
                row = []
                extra = f"&association={quote(args.association)}" if args.association else ""
                queries = [f"?year={year}&suppress=1{extra}"] + ([] if args.protected_only else [f"?year={year}{extra}"])
                for query in queries:
                    with streamlit_server(ROOT / "app.py", ROOT, Path(tmp) / "app.log", db) as server:
                        v = visit(browser, f"{server.url}/{path}{query}", nav_title=titles.get(path))
                    row += [f"{v.seconds:.2f} s" if v.seconds else (v.error or "–"),
                            f"{v.drawn:.2f} s" if v.drawn else "–"]
                print(f"| {titles.get(path, path or 'Översikt')} | {year} | " + " | ".join(row) + " |", flush=True)
            browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
