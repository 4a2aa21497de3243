"""The bundled sample (data/sample/) loads cleanly, and its report adds up for every year."""
from __future__ import annotations

import pytest

from core.database import connect_read
from etl.load import ensure_database, load_files, sample_files
from metrics.catalog import years
from metrics.report import build_report

SEX_PARTS = ("women", "men", "other")
MEASURES = ("participants", "started", "exited")


@pytest.fixture(scope="module")
def sample_reports(sample_db):
    """The report of every year of the session's sample (tests/conftest.py; ensure_database built it)."""
    con = connect_read(sample_db)
    try:
        found = years(con)
        assert found, "the sample has no years"
        yield {y: build_report(con, y) for y in found}
    finally:
        con.close()


def test_sample_loads_without_errors(tmp_path):
    result = load_files(sample_files(), tmp_path / "s.duckdb", sample=True)
    assert result.ok
    assert [str(p) for p in result.problems if p.severity == "fel"] == []
    # issue 13 added a structural initiative's counts and the association's economy to the sample
    assert {k for f in result.files for k in f.kinds} == {"participants", "anonymous", "budget", "initiatives",
                                                           "structural", "economy"}
    con = connect_read(tmp_path / "s.duckdb")
    try:
        assert con.execute("SELECT value FROM meta WHERE key = 'source'").fetchall() == [("sample",)]
        assert con.execute("SELECT count(*) > 0 FROM enrollments").fetchall() == [(True,)]
    finally:
        con.close()


def test_ensure_database_builds_once(tmp_path):
    db = tmp_path / "s.duckdb"
    assert ensure_database(db) is True
    before = db.read_bytes()
    assert ensure_database(db) is False
    assert db.read_bytes() == before


def _sexes_add_up(split: dict, where: str) -> None:
    assert sum(split[s] for s in SEX_PARTS) == split["total"], where


def test_sexes_add_up_to_the_total(sample_reports):
    for year, report in sample_reports.items():
        for m in MEASURES:
            _sexes_add_up(report[m], f"{year} {m}")
            for name, ini in report["initiatives"].items():
                _sexes_add_up(ini[m], f"{year} {name} {m}")


def test_exit_reasons_add_up_to_exits(sample_reports):
    for year, report in sample_reports.items():
        for label, exited in [("all", report["exited"])] + [(n, i["exited"]) for n, i in report["initiatives"].items()]:
            for part in ("total", *SEX_PARTS):
                assert sum(r[part] for r in exited["by_reason"].values()) == exited[part], (year, label, part)
            assert all(r["total"] > 0 for r in exited["by_reason"].values()), (year, label)  # only codes that occur
            for reason in exited["by_reason"].values():
                _sexes_add_up(reason, f"{year} {label} by_reason")


def test_referrers_add_up_to_started_per_initiative(sample_reports):
    for year, report in sample_reports.items():
        for name, ini in report["initiatives"].items():
            for part in ("total", *SEX_PARTS):
                assert sum(a[part] for a in ini["referrers"].values()) == ini["started"][part], (year, name, part)


def test_initiatives_add_up_to_the_association(sample_reports):
    # an enrollment belongs to one initiative, so the association's figures are the initiatives' sums
    for year, report in sample_reports.items():
        for m in MEASURES:
            for part in ("total", *SEX_PARTS):
                assert sum(i[m][part] for i in report["initiatives"].values()) == report[m][part], (year, m, part)
        assert sum(i["no_consent"] for i in report["initiatives"].values()) == report["no_consent"], year
        assert report["no_consent"] <= report["participants"]["total"], year


def test_costs_are_null_or_non_negative(sample_reports):
    for year, report in sample_reports.items():
        for name, ini in report["initiatives"].items():
            cost = ini["cost"]
            assert all(v is None or v >= 0 for v in cost.values()), (year, name, cost)
            if ini["participants"]["total"] == 0:
                assert cost["per_participant"] is None, (year, name)
            if cost["budget"] is None and cost["actual"] is None:
                assert cost["per_participant"] is None, (year, name)


def test_a_fresh_machine_builds_the_sample_with_the_decisions_shipped_beside_it(sample_db, tmp_path, monkeypatch):
    """The app on a fresh machine builds the sample with each year's protection decided ahead: the decisions are
    shipped in data/sample/decisions/ (core.paths.SAMPLE_DECISIONS) and read by their fingerprints, so the build
    solves nothing, whatever folder the environment names; the override ends with the build. (The session's
    sample, `sample_db`, was built the same way first: with a changed engine it decided and kept them.)"""
    import metrics.suppress as S
    from core import settings
    from core.paths import SAMPLE_DECISIONS
    from metrics import decisions

    assert any(p.name.startswith(f"{decisions.ENGINE}-") for p in SAMPLE_DECISIONS.glob("*.json.gz"))

    def no_solving(self, threshold):
        raise AssertionError("solved")
    monkeypatch.setattr(S._Grid, "_decide", no_solving)
    monkeypatch.setenv("FINSAM_PROTECT_SECONDS", "600")
    monkeypatch.setenv("FINSAM_DECISION_CACHE", str(tmp_path / "elsewhere"))
    S._DECIDED.clear()
    assert ensure_database(tmp_path / "fresh.duckdb")
    with connect_read(tmp_path / "fresh.duckdb") as con:
        assert con.execute("SELECT count(DISTINCT year) FROM protection_decisions").fetchone()[0] == len(years(con))
    assert settings.get("FINSAM_DECISION_CACHE") == tmp_path / "elsewhere"
    assert not (tmp_path / "elsewhere").exists()
