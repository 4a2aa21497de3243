"""The national benchmark at a small N: its generator, and the check that the metrics layer and pandas agree.

No timings here (they belong in bench/RESULTS.md) and no browser: `python bench/national.py` does those.
"""
from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest

from bench import pandas_way as pw
from bench import queries
from bench.generate import PARTICIPANT_HEADER, Spec, generate
from core.database import connect_read
from etl.load import load_files
from metrics import Filters
from metrics.people import headline

SPEC = Spec(n=3000, associations=3, initiatives=8, xlsx_rows=700)
ONE_YEAR = Filters.year(2021)
ALL_YEARS = Filters(dt.date(SPEC.first_year, 1, 1), dt.date(SPEC.last_year, 12, 31))


@pytest.fixture(scope="module")
def national(tmp_path_factory):
    """The generated exports, loaded through the loader's public entry point."""
    directory = tmp_path_factory.mktemp("national")
    g = generate(SPEC, directory / "data")
    result = load_files(g.files, directory / "national.duckdb")
    assert result.ok, "\n".join(map(str, result.problems))
    return g, directory / "national.duckdb"


@pytest.fixture()
def con(national):
    c = connect_read(national[1])
    yield c
    c.close()


def read(path) -> pd.DataFrame:
    return pd.read_csv(path, sep=";", dtype=str, keep_default_na=False)


def test_generator_writes_the_contract_columns_and_n_rows(national):
    g, _ = national
    df = read(g.participants_csv)
    assert list(df.columns) == PARTICIPANT_HEADER
    assert len(df) == 3000
    assert df["Förbund"].nunique() == 3
    assert g.participants_csv.read_bytes().startswith("Förbund;".encode())  # UTF-8, no BOM, `;`
    xlsx = pd.read_excel(g.participants_xlsx, engine="calamine")
    assert list(xlsx.columns) == PARTICIPANT_HEADER and len(xlsx) == 700


def test_initiative_names_carry_their_association_and_are_unique(national):
    g, _ = national
    df = read(g.participants_csv)
    assert df.groupby("Insats")["Förbund"].nunique().max() == 1  # each name belongs to one association
    numbers = {}
    for name, assoc in df[["Insats", "Förbund"]].drop_duplicates().itertuples(index=False):
        m = re.fullmatch(r"Insats (\d+)-(\d+)", name)
        assert m, name
        numbers.setdefault(assoc, set()).add(int(m[1]))
    assert all(len(n) == 1 for n in numbers.values())  # one association number per association …
    assert sorted(n.pop() for n in numbers.values()) == [1, 2, 3]  # … 1 to 3, one each
    register = read(g.register_csv)
    assert register["Insats"].is_unique and set(df["Insats"]) <= set(register["Insats"])


def test_generator_is_deterministic_and_ids_are_pseudonyms(national, tmp_path):
    g, _ = national
    again = generate(SPEC, tmp_path / "again")
    for a, b in [(g.participants_csv, again.participants_csv), (g.budget_csv, again.budget_csv),
                 (g.register_csv, again.register_csv)]:
        assert a.read_bytes() == b.read_bytes(), a.name
    other = generate(Spec(n=3000, associations=3, initiatives=8, xlsx_rows=10, seed=1), tmp_path / "other")
    assert other.participants_csv.read_bytes() != g.participants_csv.read_bytes()
    ids = read(g.participants_csv)["Deltagar-ID"]
    assert ids.str.fullmatch(r"SF\d{2}-\d{7}").all()


def test_generated_values_are_ones_the_contract_accepts(national):
    g, _ = national
    df = read(g.participants_csv)
    assert set(df["Kön"]) <= {"Kvinna", "K", "kvinna", "Man", "M", "Annat", "", "Vill ej uppge"}
    assert set(df["Samtycke"]) <= {"Ja", "ja", "Nej", "nej", ""}
    assert df["Avslutsorsak"].str.fullmatch(r"|[1-6]|[1-6]\.0|[1-6] - .+").all()
    assert (df["Slutdatum"] == "").sum() < len(df) and (df["Avslutsorsak"][df["Slutdatum"] == ""] == "").all()
    started = pd.to_datetime(df["Startdatum"])
    assert started.dt.year.min() >= SPEC.first_year and started.dt.year.max() <= SPEC.last_year
    ended = df["Slutdatum"] != ""
    assert (pd.to_datetime(df["Slutdatum"][ended]) >= started[ended]).all()


def test_metrics_layer_and_pandas_give_identical_figures(national, con):
    g, _ = national
    F = pw.prepare(g.directory)
    for f in (ONE_YEAR, ALL_YEARS):
        assert headline(con, f).loc["participants", "total"] > 100  # the comparison is not of empty tables
        assert queries.check(con, F, f) == []


def test_the_check_sees_one_changed_person_and_one_changed_krona(national, con):
    g, _ = national
    F = pw.prepare(g.directory)
    row = F.enr.index[(F.enr.start.dt.year == 2021) & (F.enr.sex == "women")][0]
    F.enr.loc[row, "sex"] = "men"
    line = F.budget.index[(F.budget.year == 2021) & F.budget.actual.notna()][0]
    F.budget.loc[line, "actual"] += 1
    problems = queries.check(con, F, ONE_YEAR)
    found = {p.split(":")[0] for p in problems}
    assert {"headline", "by_initiative", "per agency", "inflow_by_agency", "cost_by_initiative_year",
            "cost_summary"} <= found
    assert any(p.startswith("headline: participants women: metrics") for p in problems)


def test_the_command_runs_without_the_browser(tmp_path):
    from bench.national import main

    out = tmp_path / "RESULTS.md"
    status = main(["--n", "2000", "--associations", "2", "--initiatives", "6", "--skip-browser", "--only", "queries",
                   "--repeat", "1", "--periods", "year", "--work", str(tmp_path / "work"), "--out", str(out)])
    text = out.read_text(encoding="utf-8")
    assert status == 0
    assert "**identical**" in text and "differences" not in text.split("### Correctness")[1]
    assert "| Översikt | 2021 |" in text and "| Export | 2021 |" in text
    assert "⚠" not in text  # every page query ran both ways (an error is marked ⚠ in its row)


def test_every_year_click_in_the_session_plan_changes_the_year():
    """Choosing the year already shown starts no run, so the bench would wait for one until its limit."""
    from urllib.parse import parse_qs, urlsplit

    from bench.browser import session_plan

    pages = [(f"p{k}", f"Sida {k}") for k in range(10)]
    years = list(range(2025, 2010, -1))
    for i in range(20):
        opening, actions = session_plan(i, pages, 2021, years, 2011, 2025)
        shown = parse_qs(urlsplit(opening).query)["year"][0]
        for kind, target in actions * 3:  # the sessions cycle through the plan
            if kind == "year":
                assert target != shown, (i, kind, target)
                shown = target
            elif kind == "goto":
                shown = parse_qs(urlsplit(target).query).get("year", [None])[0]


def test_cpu_use_puts_this_process_under_the_driver_and_counts_only_from_the_first_look():
    import time

    from bench.browser import CpuUse

    cpu = CpuUse(app_pid=-1)
    cpu.sample()
    assert cpu.seconds.get("driver", 0.0) == 0.0  # what was used before the first look is not the phase's
    t0 = time.process_time()
    while time.process_time() - t0 < 0.3:
        pass
    cpu.sample()
    assert 0.2 <= cpu.seconds["driver"] <= 2.0


def test_a_page_summary_takes_the_median_of_the_warm_visits_and_counts_every_failure():
    """bench/browser._summary: the floor's visits (no first visit) and a page's are summed up alike."""
    from bench.browser import Visit, _summary

    first = Visit(2.0, charts=1)
    warm = [Visit(0.9, 1.5, charts=2), Visit(None, error="TimeoutError: x"), Visit(0.7, 1.1, charts=2),
            Visit(0.8, None, exceptions=1, charts=2)]
    s = _summary("/inflode?year=2021", first, warm)
    assert (s["first"], s["warm"], s["median"], s["drawn"], s["charts"]) == (2.0, [0.9, 0.7, 0.8], 0.8, 1.3, 2)
    assert s["failures"] == ["1 × TimeoutError: x", "1 × 1 exceptions, 0 error boxes"]
    floor = _summary("/", None, [Visit(0.7), Visit(0.75), Visit(0.72)])
    assert (floor["first"], floor["median"], floor["failures"]) == (None, 0.72, [])
