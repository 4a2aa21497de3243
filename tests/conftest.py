"""Shared helpers: build messy export files in tmp_path, run the CLI, and the small hand-made association."""
from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from core.database import connect_read, connect_write
from pathlib import Path

import openpyxl
import pytest

ROOT = Path(__file__).resolve().parents[1]
# The example exports staff shape (title lines, tkr, Windows-1252 …; see its README.md), copied from the shared
# examples into the repository so that no test depends on a folder beside it
EXAMPLES = Path(__file__).resolve().parent / "fixtures" / "examples"
EXAMPLE_EXPORTS = ("budget_sater_tkr.xlsx", "deltagare_export_rar.xlsx", "insatser.xlsx", "anonyma_deltagare.csv",
                   "budget_ansokningar.csv")


def example_exports() -> list[Path]:
    """Every example export, .xlsx first then .csv, each by name: a missing file fails the test, never a shorter
    list loaded in silence."""
    files = [EXAMPLES / name for name in EXAMPLE_EXPORTS]
    missing = [f.name for f in files if not f.is_file()]
    assert not missing, f"example exports missing from {EXAMPLES}: {', '.join(missing)}"
    on_disk = sorted(f.name for f in EXAMPLES.iterdir() if f.suffix in (".xlsx", ".csv"))
    assert on_disk == sorted(EXAMPLE_EXPORTS), f"{EXAMPLES} holds {on_disk}; name each in EXAMPLE_EXPORTS"
    return files


@pytest.fixture(autouse=True, scope="session")
def _sign_in_settings_of_the_tests(tmp_path_factory):
    """No test reads a developer's data/accounts.toml or data/auth.toml, or writes data/audit.sqlite or
    data/referrers.csv: sign-in is off unless a test sets it up (issue 11)."""
    d = tmp_path_factory.mktemp("signin")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FINSAM_ACCOUNTS", str(d / "accounts.toml"))
        mp.setenv("FINSAM_AUTH_CONFIG", str(d / "auth.toml"))
        mp.setenv("FINSAM_AUDIT_DB", str(d / "audit.sqlite"))
        # nor writes the referrer mapping shipped in data/: a test that saves one saves it here (it does not exist
        # until then, so data/referrers.csv is read)
        mp.setenv("FINSAM_REFERRERS", str(d / "referrers.csv"))
        # loads decide no protection ahead (seconds per year): the tests that need it turn it on, and
        # tests/test_metrics_decisions.py shows a stored decision is the one a reader would compute
        mp.setenv("FINSAM_PROTECT_SECONDS", "0")
        # nor leave the rest to a process in the background: a reader decides its own year, as the tests check;
        # tests/test_metrics_backlog.py turns it on
        mp.setenv("FINSAM_DECIDE_BACKGROUND", "0")
        # the protection decisions of the tests' generated years, kept by everything they are made over and the
        # engine's source (metrics.decisions.fingerprint): a run reads those an earlier run made with the same
        # engine instead of deciding them again (most of a run's time), the workers and their servers share
        # them, and a run with a changed engine decides anew and keeps its own; commit tests/decisions/ with the
        # change. test_the_protection_pattern_is_the_same_in_every_process decides without them.
        mp.setenv("FINSAM_DECISION_CACHE", str(DECISIONS))
        yield


DECISIONS = ROOT / "tests" / "decisions"


def pytest_sessionstart(session):
    """The decisions of an engine no longer in use are let go (each run keeps those of the engine it ran)."""
    if not hasattr(session.config, "workerinput"):  # once, in the process that starts the workers
        from core.paths import SAMPLE_DECISIONS  # the bundled sample's own, shipped with it
        from metrics.decisions import stale

        for folder in (DECISIONS, SAMPLE_DECISIONS):
            for path in stale(folder) if folder.is_dir() else []:
                path.unlink(missing_ok=True)


@pytest.fixture(autouse=True, scope="session")
def _one_component_scan():
    """Every new AppTest scans the metadata of every installed package for Streamlit components (0,5–2 s each,
    hundreds of AppTests in a run); the installed packages do not change during a run, so scan once."""
    from streamlit.components.v2 import manifest_scanner

    found = manifest_scanner.scan_component_manifests()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(manifest_scanner, "scan_component_manifests", lambda max_workers=None: list(found))
        yield


def write_xlsx(path: Path, sheets: dict[str, list[list]]) -> Path:
    """An .xlsx with one sheet per key; rows are written from A1 down, None leaves a cell empty."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is not None:
                    ws.cell(r, c, value)
    wb.save(path)
    return path


def write_csv(path: Path, rows: list[list], delimiter: str = ";", encoding: str = "utf-8-sig") -> Path:
    """A CSV as Swedish Excel writes it: CRLF line ends, the given delimiter and encoding."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def open_tables(at):
    """Open every lazy expander (ui.layout.lazy_expander: a chart's "Visa som tabell", a data-quality check) and
    run again, as a reader clicking them."""
    keys = [e.key for e in at.expander if e.key and str(e.key).endswith("_open")]
    for key in keys:
        at.session_state[key] = True
    if keys:
        at.run()
    return at


def run_cli(*args, env_db: Path | None = None, fresh_process: bool = False) -> subprocess.CompletedProcess:
    """`python -m etl ...` from the repository root, without $FINSAM_DB unless `env_db` sets it.

    In this process by default: `commands.etl_cli.run(argv)` with stdout and stderr captured, SystemExit
    (argparse) read as the exit status and any other exception printed as the traceback Python would print,
    status 1 — what `python -m etl` (etl/__main__.py: `raise SystemExit(run())`) does, without starting Python
    and importing pandas for every call. `fresh_process=True` runs the real command in a new process (the smoke tests)."""
    argv = [str(a) for a in args]
    if fresh_process:
        env = {k: v for k, v in os.environ.items() if k != "FINSAM_DB"}
        if env_db is not None:
            env["FINSAM_DB"] = str(env_db)
        return subprocess.run([sys.executable, "-m", "etl", *argv], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300)
    import contextlib
    import traceback

    from commands.etl_cli import run

    out, err = io.StringIO(), io.StringIO()
    saved = os.environ.pop("FINSAM_DB", None)
    if env_db is not None:
        os.environ["FINSAM_DB"] = str(env_db)
    try:
        with contextlib.chdir(ROOT), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = run(argv)
            except SystemExit as exc:  # argparse's usage errors (2) and --help (0)
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
                if exc.code is not None and not isinstance(exc.code, int):
                    print(exc.code, file=sys.stderr)
            except Exception:
                traceback.print_exc()
                code = 1
    finally:
        os.environ.pop("FINSAM_DB", None)
        if saved is not None:
            os.environ["FINSAM_DB"] = saved
    return subprocess.CompletedProcess(["python", "-m", "etl", *argv], code, out.getvalue(), err.getvalue())


def write_small_association(directory: Path) -> list[Path]:
    """The hand-made association of tests/fixtures/small_association.py as export files."""
    from tests.fixtures import small_association as s

    directory.mkdir(parents=True, exist_ok=True)
    return [
        write_xlsx(directory / "insatser.xlsx", {"Insatser": [s.REGISTER_HEADER, *s.REGISTER]}),
        write_xlsx(directory / "deltagare.xlsx", {"Deltagare": [s.PARTICIPANT_HEADER, *s.PARTICIPANTS.values()]}),
        write_csv(directory / "anonyma.csv", [s.ANONYMOUS_HEADER, *s.ANONYMOUS]),
        write_xlsx(directory / "budget.xlsx", {"Budget": [s.BUDGET_HEADER, *s.BUDGET]}),
    ]


def write_small_association_one_2021_exit_undone(directory: Path) -> list[Path]:
    """`write_small_association`'s files with one participant who left in 2021 still taking part: a new export
    that changes 2021 and the years after it, nothing before."""
    from tests.fixtures import small_association as s

    files = write_small_association(directory)
    rows = [list(r) for r in s.PARTICIPANTS.values()]
    end, reason = s.PARTICIPANT_HEADER.index("Slutdatum"), s.PARTICIPANT_HEADER.index("Avslutsorsak")
    changed = next(i for i, r in enumerate(rows) if r[end] and r[end].year == 2021)
    rows[changed][end] = rows[changed][reason] = None  # still taking part
    write_xlsx(files[1], {"Deltagare": [s.PARTICIPANT_HEADER, *rows]})
    return files


@pytest.fixture(scope="session")
def small_db(tmp_path_factory) -> Path:
    """A database loaded from the small hand-made association (read it only; it is shared)."""
    from etl.load import load_files

    directory = tmp_path_factory.mktemp("small")
    result = load_files(write_small_association(directory / "files"), directory / "small.duckdb")
    assert result.ok, "\n".join(map(str, result.problems))
    return directory / "small.duckdb"


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory) -> Path:
    """The database ensure_database builds from data/sample/, built once for the whole run — one file for every
    xdist worker, with each year's protection decided and stored as a load decides it ahead (so the pages and the
    browser tests' servers read the decisions instead of each solving them). Read it only: a test that writes
    copies it first (`shutil.copyfile(sample_db, tmp_path / "finsam.duckdb")`); a test of the solver on the sample
    uses `sample_db_undecided`."""
    import metrics.suppress  # noqa: F401 - registers the decisions a load derives (core.derived)
    from etl.load import ensure_database

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the run's own directory, shared by its workers (ensure_database locks the build)
    db = root / "sample-decided" / "finsam.duckdb"
    db.parent.mkdir(exist_ok=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FINSAM_PROTECT_SECONDS", "600")
        ensure_database(db)
    with connect_read(db) as con:
        assert con.execute("SELECT count(DISTINCT year) FROM protection_decisions").fetchone()[0] == 4
    return db


@pytest.fixture(scope="session")
def sample_db_undecided(tmp_path_factory, sample_db) -> Path:
    """The sample with no protection stored: whoever asks solves it (the solver's own tests)."""
    from metrics import decisions

    db = tmp_path_factory.mktemp("sample_undecided") / "finsam.duckdb"
    db.write_bytes(sample_db.read_bytes())
    with connect_write(db) as con:
        con.execute(f"DROP TABLE {decisions.TABLE}")
    return db


@pytest.fixture(scope="session")
def issue_association(tmp_path_factory):
    """The protection issue's association (Beta with 3 participants, Gamma with 7, two Försäkringskassan referrals
    to Alfa) in 2025, written once for the LP audits of the engine and of the surfaces: (rows, db, the year's
    protection at threshold 5, open on a read connection for the rest of the run). Read it only."""
    from core.database import connect_read
    from metrics import Filters
    from metrics.suppress import protect_period
    from tests.protection_audit import generate, write_db

    rows = generate(11, {"Alfa": 160, "Beta": 3, "Gamma": 7}, small_agency=("Alfa", "Försäkringskassan", 2))
    db = write_db(tmp_path_factory.mktemp("issue") / "f.duckdb", rows)
    with connect_read(db) as con:
        yield rows, db, protect_period(con, Filters.year(2025), 5)


REBOUND_NAME = "evil.example"


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for every browser test; each test opens its own page or context in it."""
    from playwright.sync_api import sync_playwright

    from tests.e2e_server import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as p:
        # a name of another site that resolves to this machine: the DNS-rebinding tests (test_e2e_rebinding.py)
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=[*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {REBOUND_NAME} 127.0.0.1"])
        yield b
        b.close()


@pytest.fixture(scope="session")
def app_server(sample_db):
    """One `streamlit run app.py` on the sample for every browser test that only reads it (tests that need a
    fresh server, sign-in or other data start their own)."""
    from tests.e2e_server import streamlit_server

    with streamlit_server(sample_db) as url:
        yield url


@pytest.fixture()
def small_con(small_db):

    con = connect_read(small_db)
    yield con
    con.close()


def made_before_issue_13(src: Path, dst: Path) -> Path:
    """A copy of `src` as a database written before issue 13 looks: no structural_counts or economy_lines, no
    direction, target group or ESF in the register. Copied table by table into a new file, as DuckDB would
    have written it (a DROP leaves free blocks that a size check can take for truncation)."""
    import duckdb

    tmp = dst.with_suffix(".tmp")
    tmp.write_bytes(src.read_bytes())
    with connect_write(tmp) as con:
        con.execute("DROP TABLE structural_counts; DROP TABLE economy_lines")
        for column in ("direction", "target_group", "esf"):
            con.execute(f"ALTER TABLE initiatives DROP COLUMN {column}")
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{tmp}' AS src (READ_ONLY)")
        con.execute(f"ATTACH '{dst}' AS dst")
        con.execute("COPY FROM DATABASE src TO dst")
    finally:
        con.close()
    tmp.unlink()
    return dst
