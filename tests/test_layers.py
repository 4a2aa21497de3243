"""The layers, read from the imports: each package imports only those below it, and Streamlit stays in ui/.

    core/ → etl/, metrics/, auth/ → render/ → ui/ → pages/ → the top: app.py, commands/, bench/, scripts/

The top is what is run by name (the app, `python -m etl`, the benchmarks, the scripts): it may use every
layer and nothing imports it. No module inside a layer has an exception. Read with `ast`, so a violation
fails here before anyone has to find it in a traceback.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BELOW_THE_TOP = {"core", "etl", "metrics", "auth", "render", "ui"}
ALLOWED = {  # package -> packages of ours it may import
    "core": set(),
    "etl": {"core"},
    "metrics": {"core"},
    "auth": {"core"},  # accounts, roles, audit log: beside etl/ and metrics/
    "render": {"core", "etl", "metrics"},
    "ui": {"core", "etl", "metrics", "auth", "render"},
    "pages": {"core", "etl", "metrics", "auth", "render", "ui"},
    # the top (streamlit runs pages/ by file, so nothing imports pages either)
    "app": BELOW_THE_TOP,
    "commands": BELOW_THE_TOP - {"ui"},  # a command prints or writes files: no Streamlit
    "bench": BELOW_THE_TOP,
    "scripts": BELOW_THE_TOP,
}
TOP = {"app", "commands", "bench", "scripts"}
OURS = set(ALLOWED)
ENTRY_POINTS = {  # module inside a layer's folder -> the top package it belongs to, with its reason
    "etl/__main__.py": "commands",  # `python -m etl` is the data contract's name; it only calls commands/etl_cli.py
}
STREAMLIT_HOMES = ("ui/", "pages/", "app.py",
                   "bench/timed_streamlit.py",  # `streamlit run` with a timer around each script run
                   "bench/browser.py")  # reads Streamlit's own end-of-run message off the browser's websocket


def modules() -> list[Path]:
    files = [ROOT / "app.py"]
    for package in ALLOWED:
        if (ROOT / package).is_dir():
            files += sorted((ROOT / package).rglob("*.py"))
    return files


def imports(path: Path) -> set[str]:
    """Top-level names this module imports (`from metrics.people import x` → 'metrics'); relative ones are its own."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def package_of(path: Path) -> str:
    rel = path.relative_to(ROOT)
    if rel.as_posix() in ENTRY_POINTS:
        return ENTRY_POINTS[rel.as_posix()]
    return "app" if rel.as_posix() == "app.py" else rel.parts[0]


@pytest.mark.parametrize("path", modules(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_imports_only_lower_layers(path):
    rel = path.relative_to(ROOT).as_posix()
    package = package_of(path)
    ours = (imports(path) & OURS) - {package}
    allowed = ALLOWED[package]
    assert ours <= allowed, f"{rel} imports {sorted(ours - allowed)}, which is not below {package}/"


@pytest.mark.parametrize("path", modules(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_streamlit_only_in_the_app_layers(path):
    rel = path.relative_to(ROOT).as_posix()
    uses = "streamlit" in imports(path)
    if rel.startswith(STREAMLIT_HOMES):
        if rel.startswith("ui/") and path.name != "__init__.py":
            assert uses, f"{rel} does not use Streamlit: it belongs in render/ (or lower), not ui/"
    else:
        assert not uses, f"{rel} imports Streamlit outside ui/, pages/ and app.py"


def test_the_rule_catches_a_violation(tmp_path):
    """The checker itself: a metrics module importing ui is reported."""
    bad = tmp_path / "bad.py"
    bad.write_text("from ui.data import run\nimport streamlit as st\n", encoding="utf-8")
    assert imports(bad) == {"ui", "streamlit"}
    assert not imports(bad) & OURS <= ALLOWED["metrics"]


def test_the_top_is_imported_by_nothing_below_it():
    """app.py, commands/, bench/ and scripts/ sit at the top: no layer may import them, and they not each other."""
    for package, allowed in ALLOWED.items():
        assert not allowed & TOP, f"{package}/ may import {sorted(allowed & TOP)}, which is at the top"
    assert {package_of(p) for p in modules()} == OURS


def test_an_entry_point_only_hands_over():
    """A declared entry point inside a layer's folder is one import and one call, so nothing can grow there."""
    for rel, package in ENTRY_POINTS.items():
        tree = ast.parse((ROOT / rel).read_text(encoding="utf-8"))
        assert imports(ROOT / rel) == {package}, rel
        assert len(tree.body) == 2, f"{rel} does more than hand over to {package}/"
