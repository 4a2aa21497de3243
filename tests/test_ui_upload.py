"""/data in the app (AppTest): upload with the loader's checks and a preview that equals the load, undo from
the page, the mapping and data-quality tabs, the temporary files, hostile names, and the roles that are refused."""
from __future__ import annotations

import shutil
import sqlite3
import tempfile
import tomllib
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from auth import accounts
from auth.throttle import THROTTLE
from core.database import connect_read
from etl.load import load_files
from metrics.changes import compare, figures
from metrics.report import build_report
from render.changes import audit_detail, preview_table
from render.format import fmt_kr
from render.text import md
from tests.conftest import open_tables, write_csv, write_small_association
from tests.test_etl_history import delta_budget, newer_alfa

ROOT = Path(__file__).resolve().parents[1]
PASSWORDS = {"lisa": ("läsare", "lisas-lösen-Ö1"), "hanna": ("handläggare", "hannas-lösen-Ö2"),
             "adam": ("administratör", "adams-lösen-Ö3")}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    d = tmp_path_factory.mktemp("upload_template")
    assert load_files(write_small_association(d / "files"), d / "f.duckdb", actor="test").ok
    for name, (role, password) in PASSWORDS.items():
        accounts.upsert(name, role, password, d / "accounts.toml")
    return d


@pytest.fixture()
def env(tmp_path, template, monkeypatch):
    """A fresh copy of the small association, three accounts, and a temporary directory of the test's own."""
    d = tmp_path / "data"
    d.mkdir()
    shutil.copy(template / "f.duckdb", d / "f.duckdb")
    shutil.copy(template / "accounts.toml", tmp_path / "accounts.toml")
    for k, v in {"FINSAM_DB": d / "f.duckdb", "FINSAM_ACCOUNTS": tmp_path / "accounts.toml",
                 "FINSAM_AUDIT_DB": tmp_path / "audit.sqlite", "FINSAM_AUTH_CONFIG": tmp_path / "auth.toml",
                 "FINSAM_REFERRERS": tmp_path / "referrers.csv"}.items():
        monkeypatch.setenv(k, str(v))
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    THROTTLE.reset()
    yield tmp_path
    THROTTLE.reset()


def db(env: Path) -> Path:
    return env / "data" / "f.duckdb"


def on_tab(at: AppTest, label: str) -> AppTest:
    """Choose one of /data's tabs, as a click on it does: only the chosen tab is built (lazy tabs)."""
    at.session_state["data_tab"] = label
    return open_tables(at.run())


def data_page(env: Path, name: str = "adam", opened: bool = True, tab: str | None = None, **query) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    at.text_input(key="signin_name").input(name)
    at.text_input(key="signin_password").input(PASSWORDS[name][1])
    next(b for b in at.button if b.label == "Logga in").click().run()
    at.switch_page("pages/data.py")
    at = at.run()
    if tab:
        at.session_state["data_tab"] = tab
        at = at.run()
    return open_tables(at) if opened else at


def upload(at: AppTest, *paths: Path) -> AppTest:
    at.file_uploader[0].set_value([(p.name, p.read_bytes(), XLSX) for p in paths])
    return at.run()


def frame(at: AppTest, first_column: str, second: str | None = None):
    found = [df.value for df in at.dataframe
             if list(df.value.columns)[:1] == [first_column] and (second is None or second in df.value.columns)]
    return found[0] if found else None


def events(env: Path) -> list[tuple]:
    if not (env / "audit.sqlite").exists():
        return []
    return sqlite3.connect(env / "audit.sqlite").execute("SELECT event, actor, role, detail FROM audit_log "
                                                         "ORDER BY id").fetchall()


def figures_of(path: Path):
    with connect_read(path) as con:
        return figures(con)


def report_of(path: Path, year: int = 2021) -> dict:
    with connect_read(path) as con:
        return build_report(con, year)


def leftovers(env: Path) -> list[str]:
    """What uploads left: in uploads/ beside the database (issue 22), and nothing in the system's temporary folder."""
    uploads = env / "data" / "uploads"
    kept = sorted(p.name for p in uploads.iterdir()) if uploads.exists() else []
    return sorted(p.name for p in (env / "tmp").iterdir()) + kept


# --------------------------------------------------------------------------- upload, preview, load


def test_a_valid_upload_shows_what_will_change_and_the_load_does_exactly_that(env, tmp_path):
    files = [newer_alfa(tmp_path / "alfa_2021.xlsx"), delta_budget(tmp_path / "budget_2022.xlsx")]
    before = figures_of(db(env))
    at = upload(data_page(env), *files)
    assert not at.exception, at.exception
    assert leftovers(env) == []  # the check is done and its files are gone
    shown_files = frame(at, "Fil", "Insatser")
    assert shown_files.to_dict("records") == [
        {"Fil": "alfa_2021.xlsx", "Innehåll": "deltagare", "Rader": "3", "Period": "2021-02-01 – 2021-06-30",
         "Insatser": "Alfa", "Status": "kan läsas in"},
        {"Fil": "budget_2022.xlsx", "Innehåll": "budget", "Rader": "1", "Period": "2022-01-01 – 2022-12-31",
         "Insatser": "Alfa", "Status": "kan läsas in"}]
    preview = frame(at, "Insats", "Avslutade")
    # by hand: Alfa 2021 had A1 A2 A3 A5 A6 A7 (6; started A2 A3 A6 A7; exited A1 A2 A6); now N-1…N-3
    alfa = preview[(preview["Insats"] == "Alfa") & (preview["År"] == "2021")].iloc[0]
    assert (alfa["Deltagare"], alfa["Nya"], alfa["Avslutade"], alfa["Budget"]) == ("6 → 3", "4 → 3", "3 → 1",
                                                                                  fmt_kr(650000))
    load = at.button(key="upload_load")
    assert not load.disabled
    at = load.click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == [
        "Inläst: alfa\\_2021\\.xlsx, budget\\_2022\\.xlsx (nr 5 i historiken). Alla som har Insatskollen öppen ser de "
        "nya siffrorna vid nästa klick. Ångra under *Historik och ångra* om något blev fel."]
    assert leftovers(env) == []
    # the preview shown equals the change the load made
    done = preview_table(compare(before, figures_of(db(env))))
    assert list(preview.columns) == list(done.columns)
    assert preview.to_dict("records") == done.to_dict("records") and len(done) == 3  # Alfa 2021, 2022 and 2020
    with connect_read(db(env)) as con:
        assert con.execute("SELECT change_id, actor FROM changes WHERE change_id = 5").fetchall() == [(5, "adam")]
    # the audit line says what the load changed, as the preview showed it (issue 23 §2)
    assert ("load", "adam", "administratör", audit_detail("Inläsning nr 5: alfa_2021.xlsx, budget_2022.xlsx",
                                                          compare(before, figures_of(db(env))))) in events(env)
    assert not at.file_uploader[0].value  # a new, empty uploader for the next files


def test_a_bad_file_shows_every_problem_and_nothing_is_stored(env, tmp_path):
    bad = write_csv(tmp_path / "bad.csv", [["Deltagar-ID", "Insats", "Kön", "Startdatum"],
                                          ["B-1", "Beta", "Man", "2021-02-01"],
                                          ["B-2", "Beta", "Man", "2021-02-30"]])
    before = db(env).read_bytes()
    at = upload(data_page(env), newer_alfa(tmp_path / "good.xlsx"), bad)
    assert not at.exception, at.exception
    problems = frame(at, "Allvar")
    assert problems.to_dict("records") == [{"Allvar": "Fel", "Fil": "bad.csv", "Blad": "–", "Rad": "3",
                                            "Kolumn": "Startdatum", "Värde": "2021-02-30",
                                            "Vad är fel": "datumet finns inte i kalendern"}]
    assert at.error[0].value.startswith("1 fel och 0 varningar. Ingenting kan läsas in")
    assert frame(at, "Insats", "Avslutade") is None  # no preview of changes for files that cannot be loaded
    assert frame(at, "Fil", "Insatser")["Status"].tolist() == ["kontrollerad", "1 fel: läses inte in"]
    assert at.button(key="upload_load").disabled
    # a crafted request for exactly these files (what a click on the disabled button would send): refused all the same
    at.session_state["_request_load"] = at.session_state["_upload_preview"].key
    at = at.run()
    assert db(env).read_bytes() == before
    assert not (db(env).parent / "snapshots").exists()
    assert leftovers(env) == [] and not [e for e in events(env) if e[0] == "load"]


def test_the_temporary_files_are_gone_even_when_the_load_fails(env, tmp_path, monkeypatch):
    at = upload(data_page(env), newer_alfa(tmp_path / "n.xlsx"))
    seen = []

    def crash(paths, *args, **kwargs):
        seen.extend((p.exists(), p.is_relative_to(env / "data" / "uploads")) for p in paths)
        raise RuntimeError("oväntat")
    monkeypatch.setattr("ui.upload.load_files", crash)
    at = at.button(key="upload_load").click().run()
    assert seen == [(True, True)] and at.exception  # the files were there during the load, under the data directory …
    assert leftovers(env) == []  # … and are gone after it, whatever happened


def test_names_from_files_are_escaped_on_the_page(env, tmp_path):
    hostile = "[a](http://evil.example) **fet**"
    f = write_csv(tmp_path / "x.csv", [["Deltagar-ID", "Insats", "Kön", "Startdatum", "Remittent"],
                                       ["H-1", hostile, "Man", "2021-03-01", ":red[röd] <b>x</b>"]])
    at = data_page(env)
    at.file_uploader[0].set_value([("**x**[l](e).csv", f.read_bytes(), "text/csv")])
    at = at.run()
    assert frame(at, "Fil", "Insatser")["Insatser"].tolist() == [hostile]  # a table shows text as text
    at = at.button(key="upload_load").click().run()
    assert not at.exception, at.exception
    texts = [e.value for kind in ("success", "warning", "error", "info", "caption", "markdown") for e in at.get(kind)]
    assert any(md("**x**[l](e).csv") in t for t in texts), texts
    for t in texts:
        assert "**x**" not in t and "](" not in t and ":red[" not in t, t


# --------------------------------------------------------------------------- roles


@pytest.mark.parametrize("name", ["lisa", "hanna"])
def test_other_roles_get_no_upload(env, tmp_path, name):
    before = db(env).read_bytes()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.text_input(key="signin_name").input(name)
    at.text_input(key="signin_password").input(PASSWORDS[name][1])
    next(b for b in at.button if b.label == "Logga in").click().run()
    at.session_state["_request_load"] = ("crafted",)  # as if a load had been asked for
    at.session_state["_request_undo"] = 1
    at.switch_page("pages/data.py")
    at = at.run()
    assert [t.value for t in at.title] == ["Ingen behörighet"]
    assert not at.file_uploader and not at.dataframe and not at.tabs
    assert db(env).read_bytes() == before
    assert [e[:2] for e in events(env) if e[0] == "access_refused"] == [("access_refused", name)]


# --------------------------------------------------------------------------- history and undo


def test_undo_on_the_page_restores_the_figures_exactly(env, tmp_path):
    before = {y: report_of(db(env), y) for y in (2021, 2022)}
    start = figures_of(db(env))
    at = upload(data_page(env), newer_alfa(tmp_path / "n.xlsx"), delta_budget(tmp_path / "b.xlsx"))
    at = at.button(key="upload_load").click().run()
    assert report_of(db(env)) != before[2021]
    assert frame(at, "Nr", "Kan ångras") is None  # the history tab is built when chosen
    at = on_tab(at, "Historik och ångra")
    history = frame(at, "Nr", "Kan ångras")
    # what the load changed stays viewable: its count in the history, its before → after table below (issue 23 §2)
    changed = preview_table(compare(start, figures_of(db(env))))
    assert history["Ändrade insatsår"].tolist()[:2] == [str(len(changed))] * 2
    kept = frame(at, "Insats", "Deltagare")
    assert kept.to_dict("records") == changed.to_dict("records") and len(changed) >= 2
    assert history["Nr"].tolist()[:2] == ["6", "5"] and history["Vem"].tolist()[:2] == ["adam", "adam"]
    assert history["Fil"].tolist()[:2] == ["b.xlsx", "n.xlsx"] and history["Ersatte"].tolist()[1] == \
        "7 äldre rader från nr 2"
    choice = next(s for s in at.selectbox if s.label == "Återställ databasen till läget före")
    assert choice.value == 5 and choice.options[0].startswith("nr 5 · Inläsning · ")  # the newest load, first
    assert choice.options[0].endswith(" · adam · n.xlsx, b.xlsx")
    assert at.button(key="undo_button").disabled  # not before it is confirmed
    next(c for c in at.checkbox if c.label == "Ja, återställ databasen").check()
    at = at.run()
    at = at.button(key="undo_button").click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == [md(
        "Klart: återställde läget före inläsning nr 5 (n.xlsx, b.xlsx). Ångringen har nr 7 och kan själv ångras.")]
    assert {y: report_of(db(env), y) for y in (2021, 2022)} == before
    undo_lines = [e for e in events(env) if e[0] == "undo"]
    assert [e[:3] for e in undo_lines] == [("undo", "adam", "administratör")]
    assert undo_lines[0][3].startswith("Ångring nr 7: återställde läget före inläsning nr 5 (n.xlsx, b.xlsx) · "
                                       "ändrade ")
    assert "insatsår (före → efter): " in undo_lines[0][3] and "; Alfa 2021: deltagare " in undo_lines[0][3]
    assert frame(at, "Nr", "Kan ångras")["Händelse"].tolist()[0] == "Ångring"


def test_another_open_session_sees_the_new_data_at_its_next_rerun(env, tmp_path):
    reader = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    reader.query_params["year"] = "2021"
    reader.run()
    # a handläggare (protection off): the small association's 15 participants of 2021 are `..` to a läsare, whose
    # protection is always on and now decided with the year's delår and tertials (metrics/suppress.py)
    reader.text_input(key="signin_name").input("hanna")
    reader.text_input(key="signin_password").input(PASSWORDS["hanna"][1])
    reader = next(b for b in reader.button if b.label == "Logga in").click().run()
    assert [(m.label, m.value) for m in reader.metric][:1] == [("Deltagare", "15")]  # Alfa 6 + Beta 9
    admin = upload(data_page(env), newer_alfa(tmp_path / "n.xlsx"))
    admin.button(key="upload_load").click().run()
    reader = reader.run()  # no restart: the next rerun reads the new file
    assert [(m.label, m.value) for m in reader.metric][:1] == [("Deltagare", "12")]  # Alfa 3 + Beta 9


# --------------------------------------------------------------------------- limits, mapping, quality


def test_the_upload_limit_is_set_and_said(env):
    limit = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))["server"]["maxUploadSize"]
    at = data_page(env)
    assert at.file_uploader[0].label == f"Exportfiler (högst {limit} MB per fil)"
    assert any(f"högst {limit} MB per fil" in c.value for c in at.caption)


def test_the_mapping_tab_lists_unmapped_units_first(env):
    at = data_page(env, tab="Remittenter")
    units = frame(at, "Enhet", "Exakt regel")
    first = units.iloc[0]
    assert (first["Enhet"], first["Inskrivningar"], first["Räknas nu som"], first["Matchas av"]) == (
        "Frivilligcentralen", 1, "Annan", "ingenting: räknas som Annan")
    assert first["Exakt regel"] == "(ingen: nyckelorden gäller)"
    rows = units.set_index("Enhet")
    assert rows.loc["FK", "Exakt regel"] == "Försäkringskassan" and rows.loc["FK", "Matchas av"] == "exakt namn"
    assert rows.loc["Vårdcentralen Norr", "Matchas av"] == "nyckelordet «vårdcentral»"
    assert at.button(key="mapping_save").disabled  # nothing edited yet


def test_edits_in_the_mapping_editor(env):
    from ui.mapping import NO_RULE, RULE, edits_between

    original = frame(data_page(env, tab="Remittenter"), "Enhet", "Exakt regel")
    edited = original.copy()
    edited.loc[edited["Enhet"] == "Frivilligcentralen", RULE] = "Kommun"
    edited.loc[edited["Enhet"] == "FK", RULE] = NO_RULE
    edited.loc[edited["Enhet"] == "Jobbtorg Väst", RULE] = None  # a cell emptied: no rule, as before
    assert edits_between(original, edited) == {"Frivilligcentralen": "Kommun", "FK": None}


def test_the_quality_tab_counts_and_rows(env):
    at = data_page(env, tab="Datakvalitet")
    labels = [e.label for e in at.expander if ":" in e.label][:7]
    assert labels[:2] == ["Avslutade utan avslutsorsak: 1 inskrivning", "Utan samtycke: 1 inskrivning"]
    assert labels[4] == "Remittenter utan mappning: 1 inskrivning"
    assert labels[5] == "Insatser som saknas i insatsregistret: 0 insatser"
    unmapped = [df.value for df in at.dataframe if "Remittent" in df.value.columns
                and set(df.value["Remittent"]) == {"Frivilligcentralen"}]
    assert unmapped and unmapped[0]["Deltagar-ID"].tolist() == ["RAR-A07"]


def test_only_the_chosen_tab_is_built(env):
    at = data_page(env)  # Ladda upp, the first
    assert at.file_uploader and frame(at, "Enhet", "Exakt regel") is None and frame(at, "Nr", "Kan ångras") is None
    assert not [e for e in at.expander if e.label.startswith("Utan samtycke")]
    at = on_tab(at, "Remittenter")
    assert not at.file_uploader and frame(at, "Enhet", "Exakt regel") is not None
    at = on_tab(at, "Datakvalitet")
    assert [e for e in at.expander if e.label.startswith("Utan samtycke")] and frame(at, "Enhet", "Exakt regel") is None


def test_a_quality_check_draws_its_rows_only_when_opened(env):
    at = data_page(env, opened=False, tab="Datakvalitet")
    assert "Utan samtycke: 1 inskrivning" in [e.label for e in at.expander]  # the count is in the label
    assert not [df for df in at.dataframe if "Deltagar-ID" in df.value.columns]
    assert [df for df in open_tables(at).dataframe if "Deltagar-ID" in df.value.columns]


def test_the_quality_tab_shows_the_first_rows_of_a_long_check_and_says_so(env, monkeypatch):
    from ui import quality

    monkeypatch.setattr(quality, "SHOWN_ROWS", 1)  # a national database has tens of thousands behind a check
    at = data_page(env, tab="Datakvalitet")
    assert not at.exception, at.exception
    shown = [c.value for c in at.caption if c.value.startswith("Visar de 1 första av")]
    assert shown, [c.value for c in at.caption]
    assert all(len(df.value) <= 1 for df in at.dataframe if "Insats" in df.value.columns and "År" in df.value.columns)


def test_an_uploaded_file_name_cannot_leave_the_temporary_directory():
    from ui.upload import safe_file_name

    taken: set[str] = set()
    names = [safe_file_name(n, taken) for n in ("../../etc/passwd", "..\\x.csv", "a.csv", "A.csv", ".hidden", "", "\x00")]
    assert names == ["_.._etc_passwd", "_x.csv", "a.csv", "A (2).csv", "hidden", "fil", "fil (2)"]
    assert all("/" not in n and not n.startswith(".") for n in names)


def test_without_the_individual_rows_permission_the_quality_tab_shows_counts_only(env, monkeypatch):
    from auth.roles import INDIVIDUAL_ROWS
    from ui import access

    real = access.may
    monkeypatch.setattr(access, "may", lambda permission: permission != INDIVIDUAL_ROWS and real(permission))
    at = data_page(env, tab="Datakvalitet")
    assert not at.exception, at.exception
    assert "Avslutade utan avslutsorsak: 1 inskrivning" in [e.label for e in at.expander]
    assert not [df for df in at.dataframe if "Deltagar-ID" in df.value.columns]  # no enrollment rows at all
    assert [i.value for i in at.info].count("Raderna bakom visas för roller som får se deltagarrader.") == 4
    assert frame(at, "Insats", "Budgetrader") is not None  # aggregates (initiative-years) are still listed


def test_a_mapping_change_goes_into_the_audit_log_as_the_page_records_it(env):
    from etl.mapping import save_unit_agencies
    from ui.history import _RECORD

    def record(change):  # what ui.history.audit_callback does, without a browser session to ask for the address
        _RECORD[change.action]("adam", change.describe(), role="administratör", client="lokal")
    assert save_unit_agencies({"Frivilligcentralen": "Kommun"}, db(env), actor="adam", on_change=record).ok
    assert events(env) == [("mapping", "adam", "administratör",
                            "Ändrad remittentmappning nr 5: Frivilligcentralen → Kommun (1 inskrivning fick ny "
                            "myndighet)")]


# --------------------------------------------------------------------------- issue 22 §7 and §9


def _leftover(root: Path, name: str) -> Path:
    d = root / f"insatskollen-upload-{name}"
    (d / "filer").mkdir(parents=True)
    (d / "filer" / "deltagare.xlsx").write_bytes(b"participants")
    (d / ".in-use").touch()
    return d


def test_uploads_left_by_a_killed_server_are_swept_at_its_start(env, monkeypatch):
    """A kill -9 during a load leaves its directory; the next start removes it, but not one a live load holds."""
    import fcntl
    import os

    from ui import upload as upload_module

    root = env / "data" / "uploads"
    dead = _leftover(root, "dead")
    live = _leftover(root, "live")
    half = root / "insatskollen-upload-being-made"  # no lock file yet: some other server's, being made
    half.mkdir()
    other = root / "not-ours"
    other.mkdir()
    held = os.open(live / ".in-use", os.O_RDONLY)
    fcntl.flock(held, fcntl.LOCK_EX)  # as the live upload's own process holds it
    monkeypatch.setattr(upload_module, "_swept", False)  # a fresh server process
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
        assert not at.exception, at.exception
        assert not dead.exists()
        assert live.exists() and half.exists() and other.exists()
    finally:
        os.close(held)
    old = 2 * upload_module.HALF_MADE_AGE
    os.utime(half, (half.stat().st_atime - old, half.stat().st_mtime - old))
    assert sorted(upload_module.sweep_leftovers(root)) == sorted([half.name, live.name])
    assert not half.exists() and not live.exists() and other.exists()  # the next sweep: the load is over too


def test_an_upload_sweeps_what_a_killed_server_left_and_leaves_nothing_itself(env, tmp_path):
    dead = _leftover(env / "data" / "uploads", "dead")
    at = upload(data_page(env), newer_alfa(tmp_path / "n.xlsx"))
    assert not at.exception, at.exception
    assert not dead.exists() and leftovers(env) == []
    assert (env / "data" / "uploads").stat().st_mode & 0o777 == 0o700


def test_a_file_name_of_100_emoji_is_cut_by_bytes_and_loads(env, tmp_path):
    from ui.upload import safe_file_name

    name = "😀" * 100 + ".xlsx"
    saved = safe_file_name(name, set())
    assert saved.endswith(".xlsx") and len(saved.encode()) <= 255 and saved.startswith("😀" * 50)
    assert len(safe_file_name("å" * 300, set()).encode()) <= 255
    at = data_page(env)
    at.file_uploader[0].set_value([(name, newer_alfa(tmp_path / "n.xlsx").read_bytes(), XLSX)])
    at = at.run()
    assert not at.exception, at.exception
    assert frame(at, "Fil", "Status")["Status"].tolist() == ["kan läsas in"]
    at = at.button(key="upload_load").click().run()
    assert not at.exception, at.exception
    assert [s.value.startswith("Inläst: " + "😀" * 50) for s in at.success] == [True]


def test_a_personnummer_in_a_file_name_is_masked_on_the_page_as_in_history_and_audit(env, tmp_path):
    name = "deltagare 19850101-1234.xlsx"
    at = data_page(env)
    at.file_uploader[0].set_value([(name, newer_alfa(tmp_path / "n.xlsx").read_bytes(), XLSX)])
    at = at.run()
    assert frame(at, "Fil", "Status")["Fil"].tolist() == ["deltagare [personnummer dolt].xlsx"]
    at = at.button(key="upload_load").click().run()
    assert not at.exception, at.exception
    texts = [e.value for kind in ("success", "warning", "error", "info", "caption", "markdown") for e in at.get(kind)]
    texts += [str(v) for df in at.dataframe for v in df.value.astype(str).to_numpy().ravel()]
    assert [s.value.startswith("Inläst: " + md("deltagare [personnummer dolt].xlsx")) for s in at.success] == [True]
    assert not [t for t in texts if "1234" in t and "0101" in t]
    assert [e for e in events(env) if e[0] == "load" and "[personnummer dolt]" in e[3]]



# --------------------------------------------------------------------------- issue 22 §8: failed changes are audited


def failures(env: Path) -> list[tuple]:
    return [e for e in events(env) if e[0] in ("upload_refused", "load_failed", "undo_failed", "mapping_failed")]


def test_an_upload_refused_for_a_personnummer_is_audited_without_the_number(env, tmp_path):
    bad = write_csv(tmp_path / "pnr.csv", [["Deltagar-ID", "Insats", "Kön", "Startdatum"],
                                          ["19850101-1234", "Beta", "Man", "2021-02-01"]])
    before = db(env).read_bytes()
    at = upload(data_page(env), bad)
    assert not at.exception, at.exception
    assert at.button(key="upload_load").disabled
    at = at.run()  # the same files again: one check, one entry
    [(event, actor, role, detail)] = failures(env)
    assert (event, actor, role) == ("upload_refused", "adam", "administratör")
    assert detail.startswith("pnr.csv: 1 fel; först: pnr.csv, rad 2, kolumn Deltagar-ID: ") and "personnummer" in detail
    assert "1234" not in detail and "850101" not in detail
    assert db(env).read_bytes() == before


def test_a_load_refused_by_the_preview_token_is_audited(env, tmp_path):
    """Someone else loads between this preview and its load (a race): nothing is loaded, and the log says who tried."""
    import ui.upload as upload_module

    real = upload_module.load_files

    def meanwhile(paths, db_, **kwargs):
        assert real([delta_budget(tmp_path / "other.xlsx")], db_, actor="bertil").ok  # the other's load
        return real(paths, db_, **kwargs)

    at = upload(data_page(env), newer_alfa(tmp_path / "n.xlsx"))
    upload_module.load_files = meanwhile
    try:
        at = at.button(key="upload_load").click().run()
    finally:
        upload_module.load_files = real
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == ["Ingenting lästes in:"]
    [(event, actor, role, detail)] = failures(env)
    assert (event, actor, role) == ("load_failed", "adam", "administratör")
    assert detail.startswith("n.xlsx: 1 fel; först: f.duckdb: databasen eller remittentmappningen har ändrats sedan "
                             "förhandsvisningen")


def test_a_failed_undo_is_audited(env, tmp_path):
    at = upload(data_page(env), newer_alfa(tmp_path / "n.xlsx"))
    at = on_tab(at.button(key="upload_load").click().run(), "Historik och ångra")
    next(c for c in at.checkbox if c.label == "Ja, återställ databasen").check()
    at = at.run()
    [snapshot] = (db(env).parent / "snapshots").iterdir()
    snapshot.unlink()
    snapshot.write_bytes(b"not a database")  # damaged after the page was drawn
    before = db(env).read_bytes()
    at = at.button(key="undo_button").click().run()
    assert not at.exception, at.exception
    assert [e.value.startswith("Ögonblicksbilden från före inläsning nr 5") for e in at.error] == [True]
    assert db(env).read_bytes() == before
    [(event, actor, role, detail)] = failures(env)
    assert (event, actor, role) == ("undo_failed", "adam", "administratör")
    assert detail.startswith("nr 5: Ögonblicksbilden från före inläsning nr 5 (n.xlsx) kan inte användas")


def test_a_refused_mapping_save_is_audited(env, monkeypatch):
    """An edit the loader refuses (a unit Excel would read as a formula) is in the log, masked and cleaned."""
    monkeypatch.setattr("ui.mapping.edits_between",
                        lambda original, edited, units=None: {"=HYPERLINK(\"x\") 19850101-1234": "Kommun"})
    before = db(env).read_bytes()
    at = data_page(env, tab="Remittenter")
    at = at.button(key="mapping_save").click().run()
    assert not at.exception, at.exception
    assert [e.value.startswith("Mappningen sparades inte") for e in at.error] == [True]
    assert db(env).read_bytes() == before
    [(event, actor, role, detail)] = failures(env)
    assert (event, actor, role) == ("mapping_failed", "adam", "administratör")
    assert detail.startswith('=HYPERLINK("x") [personnummer dolt] → Kommun; Mappningen sparades inte; rätta först:; ')
    assert "formel" in detail and "1234" not in detail


def test_an_uploads_folder_that_cannot_be_written_is_said_in_swedish_and_changes_nothing(env, tmp_path):
    """uploads/ beside the database is a file here (a volume gone wrong): a Swedish message, no traceback, no path."""
    (env / "data" / "uploads").write_bytes(b"not a folder")
    before = db(env).read_bytes()
    at = upload(data_page(env), newer_alfa(tmp_path / "n.xlsx"))
    assert not at.exception, at.exception
    [error] = [e.value for e in at.error]
    assert error.startswith("De uppladdade filerna kan inte sparas tillfälligt i datamappen (mappen uploads bredvid "
                            "databasen): ") and error.endswith(". Ingenting har ändrats.")
    assert str(env) not in error
    assert db(env).read_bytes() == before
