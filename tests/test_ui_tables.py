"""Issue 22 §6: tables in the browser. No table's own toolbar offers a download (or copy) to anyone, and every text
cell of every table the browser shows is neutralised as the exports are, so nothing copied from it or saved by
any other way becomes a live formula (`=HYPERLINK(…)` from an initiative's name)."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from etl.load import load_files
from render.files import neutralise_frame
from render.workbook import _FORMULA_TRIGGERS, neutralise
from tests.conftest import open_tables, write_csv, write_small_association

ROOT = Path(__file__).resolve().parents[1]
EVIL = '=HYPERLINK("http://evil.example","klicka")'
UNITS = ["+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3 enheten"]
PAGES = ["pages/oversikt.py", "pages/inflode.py", "pages/jamstalldhet.py", "pages/avslut.py", "pages/kostnad.py",
         "pages/ekonomi.py", "pages/forbund.py", "pages/export.py", "pages/konton.py"]
DATA_TABS = ["Ladda upp", "Historik och ångra", "Remittenter", "Datakvalitet"]


def test_no_table_offers_its_own_download_or_copy():
    """`client.disableDataExport`: Streamlit 1.67 has the switch only for the whole server, not per table or role."""
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["client"]["disableDataExport"] is True


def test_the_frame_guard_neutralises_text_and_leaves_numbers():
    df = pd.DataFrame({"Insats": [EVIL, "Alfa", None], "Belopp": [-5, 3, 1], "Text": ["-5", "\tx", "\ry"],
                       "S": pd.Series(["@a", "b", None], dtype="string")})
    out = neutralise_frame(df)
    assert out["Insats"].tolist()[:2] == ["'" + EVIL, "Alfa"] and out["Insats"].isna().tolist()[2]
    assert out["Belopp"].tolist() == [-5, 3, 1] and out["Belopp"].dtype == df["Belopp"].dtype
    assert out["Text"].tolist() == ["'-5", "'\tx", "'\ry"]
    assert out["S"].tolist()[:2] == ["'@a", "b"] and str(out["S"].dtype) == "string"
    assert df["Insats"].tolist()[0] == EVIL  # the caller's frame is untouched


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("hostile")
    evil = write_csv(d / "evil.csv", [["Deltagar-ID", "Insats", "Kön", "Startdatum", "Remittent"],
                                      *[[f"E-{i}", EVIL, "Kvinna" if i % 2 else "Man", f"2021-03-{i + 1:02d}", u]
                                        for i, u in enumerate(UNITS * 3)]])
    assert load_files(write_small_association(d / "files") + [evil], d / "f.duckdb", actor="test").ok
    return d / "f.duckdb"


@pytest.fixture()
def app_env(hostile_db, tmp_path, monkeypatch):
    """No sign-in configured: AppTest is this machine, so every page and tab is open (as to an administrator)."""
    for k, v in {"FINSAM_DB": hostile_db, "FINSAM_ACCOUNTS": tmp_path / "accounts.toml",
                 "FINSAM_AUDIT_DB": tmp_path / "audit.sqlite", "FINSAM_AUTH_CONFIG": tmp_path / "auth.toml",
                 "FINSAM_REFERRERS": tmp_path / "referrers.csv"}.items():
        monkeypatch.setenv(k, str(v))
    return tmp_path


def text_cells(at: AppTest) -> list[str]:
    cells = []
    for df in [*at.dataframe, *at.get("arrow_data_frame")]:
        frame = df.value.data if hasattr(df.value, "data") else df.value  # a Styler's frame
        for col in frame.columns:
            cells += [v for v in frame[col].tolist() if isinstance(v, str)]
    return cells


def visit(page: str, tab: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page(page)
    at = at.run()
    if tab:
        at.session_state["data_tab"] = tab
        at = at.run()
    for e in at.selectbox:  # the export page's CSV preview: its individual rows hold the referrer units
        if e.key == "export_csv_table" and "Inskrivningar" in e.options:
            e.set_value("Inskrivningar")
            at = at.run()
    return open_tables(at)


@pytest.mark.parametrize("page, tab", [(p, None) for p in PAGES] + [("pages/data.py", t) for t in DATA_TABS])
def test_no_text_cell_of_any_table_on_any_page_is_a_live_formula(app_env, page, tab):
    at = visit(page, tab)
    assert not at.exception, at.exception
    cells = text_cells(at)
    live = [c for c in cells if c.startswith(_FORMULA_TRIGGERS)]
    assert not live, live


def test_the_hostile_names_are_shown_neutralised_where_they_are_shown(app_env):
    """The guard above is not vacuous: the pages that list initiatives and units show them, with the apostrophe."""
    seen = set()
    for page, tab in [("pages/kostnad.py", None), ("pages/export.py", None), ("pages/data.py", "Remittenter"),
                      ("pages/data.py", "Datakvalitet")]:
        seen |= set(text_cells(visit(page, tab)))
    assert neutralise(EVIL) in seen
    assert {neutralise(u) for u in UNITS} <= seen


def test_every_table_in_the_app_goes_through_the_guard():
    """Read from the source: st.dataframe only in ui/layout.py (its `table` and `dataframe`, both guarded), the one
    st.data_editor in ui/mapping.py (whose rows `table` neutralises), and no st.table anywhere."""
    found = {}
    for path in [ROOT / "app.py", *sorted((ROOT / "ui").rglob("*.py")), *sorted((ROOT / "pages").rglob("*.py"))]:
        text = path.read_text(encoding="utf-8")
        for call in ("st.dataframe(", "st.data_editor(", "st.table("):
            if call in text:
                found.setdefault(call, set()).add(path.relative_to(ROOT).as_posix())
    assert found == {"st.dataframe(": {"ui/layout.py"}, "st.data_editor(": {"ui/mapping.py"}}


def test_a_lasare_in_the_browser_gets_no_download_in_a_tables_toolbar(hostile_db, tmp_path, browser):
    """Chromium, signed in as a läsare: a chart's table shows its toolbar (search, full screen) without the
    download Streamlit otherwise puts there (checked by its label, "Download as CSV")."""
    from auth import accounts
    from tests.e2e_server import streamlit_server, wait_idle

    accounts.upsert("lisa", "läsare", "lisas-lösen-Ö1", tmp_path / "accounts.toml")
    env = {"FINSAM_ACCOUNTS": str(tmp_path / "accounts.toml"), "FINSAM_AUDIT_DB": str(tmp_path / "audit.sqlite"),
           "FINSAM_AUTH_CONFIG": str(tmp_path / "auth.toml")}
    with streamlit_server(hostile_db, env=env, log=tmp_path / "server.log") as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})  # the session's Chromium
        try:
            page.goto(f"{url}/kostnad?year=2021")
            wait_idle(page)
            page.get_by_label("Användarnamn", exact=True).fill("lisa")
            page.get_by_label("Lösenord", exact=True).fill("lisas-lösen-Ö1")
            page.get_by_role("button", name="Logga in").click()
            page.wait_for_selector("[data-testid='stForm']", state="detached", timeout=60_000)
            wait_idle(page)
            page.get_by_text("Visa som tabell").first.click()
            table = page.get_by_test_id("stDataFrame").first
            table.wait_for(timeout=60_000)
            table.hover()
            page.get_by_role("button", name="Search").first.wait_for(timeout=30_000)  # the toolbar is there …
            assert page.get_by_role("button", name="Download as CSV").count() == 0  # … without its download
            assert page.get_by_role("button", name="Ladda ned tabellen (CSV)").count() == 0  # nor the app's own
        finally:
            page.close()
