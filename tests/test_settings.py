"""Settings in one place: every environment variable is declared in core/settings.py and read only there."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from core import paths, settings

ROOT = Path(__file__).resolve().parents[1]
READERS = ("core", "etl", "metrics", "render", "ui", "pages", "auth", "commands")


def sources() -> list[Path]:
    return [ROOT / "app.py"] + [p for d in READERS for p in sorted((ROOT / d).rglob("*.py"))]


def test_only_core_settings_reads_the_environment():
    readers = [p.relative_to(ROOT).as_posix() for p in sources()
               if re.search(r"os\.environ|getenv\(", p.read_text(encoding="utf-8"))]
    assert readers == ["core/settings.py"], "read environment variables through core.settings.get"


def test_every_variable_the_code_names_is_declared():
    named = {m for p in sources() for m in re.findall(r"\bFINSAM_[A-Z_]+\b", p.read_text(encoding="utf-8"))}
    assert named <= set(settings.BY_NAME), sorted(named - set(settings.BY_NAME))
    for s in settings.SETTINGS:
        assert s.help.endswith(".") and s.name.startswith("FINSAM_"), s.name


@pytest.mark.parametrize(("raw", "seconds", "kept"), [
    ("1,5", 1.5, 10), (" 2 ", 2.0, 2), ("-3", 0.0, 0), ("", 120.0, 10), ("   ", 120.0, 10), ("abc", 120.0, 10),
])
def test_numbers_read_as_before(monkeypatch, raw, seconds, kept):
    monkeypatch.setenv("FINSAM_PROTECT_SECONDS", raw)
    monkeypatch.setenv("FINSAM_SNAPSHOTS", raw)
    assert settings.get("FINSAM_PROTECT_SECONDS") == seconds
    assert settings.get("FINSAM_SNAPSHOTS") == kept


def test_paths_default_and_follow_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("FINSAM_DB", raising=False)
    monkeypatch.delenv("FINSAM_AUDIT_DB", raising=False)
    assert paths.default_db_path() == ROOT / "data" / "finsam.duckdb"
    assert paths.default_audit_path() == ROOT / "data" / "audit.sqlite"
    monkeypatch.setenv("FINSAM_DB", str(tmp_path / "x.duckdb"))
    assert paths.default_audit_path() == tmp_path / "audit.sqlite"  # beside the database
    monkeypatch.setenv("FINSAM_DB", "")
    assert paths.default_db_path() == ROOT / "data" / "finsam.duckdb"


def test_a_process_started_inside_an_override_reads_the_same_settings(monkeypatch, tmp_path):
    """settings.environment: what `overridden` sets reaches a process this one starts (the loader's deciding
    processes, metrics.ahead), a setting overridden as unset is passed as empty (its default there too)."""
    monkeypatch.setenv("FINSAM_DECISION_CACHE", "/elsewhere")
    monkeypatch.setenv("FINSAM_SNAPSHOTS", "3")
    assert settings.environment()["FINSAM_DECISION_CACHE"] == "/elsewhere"
    with settings.overridden(FINSAM_DECISION_CACHE=tmp_path, FINSAM_DB=None):
        env = settings.environment(PYTHONPATH="x")
        assert env["FINSAM_DECISION_CACHE"] == str(tmp_path) and env["FINSAM_DB"] == "" and env["PYTHONPATH"] == "x"
        assert env["FINSAM_SNAPSHOTS"] == "3"
    assert settings.environment()["FINSAM_DECISION_CACHE"] == "/elsewhere"
