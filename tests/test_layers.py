"""The layers, read from the imports: each package imports only those below it, and Streamlit stays in ui/.

    core/ → etl/, metrics/, auth/ → render/ → ui/ → pages/, app.py

Read with `ast`, so a violation fails here before anyone has to find it in a traceback.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = {"core", "etl", "metrics", "render", "ui", "pages", "app", "auth"}
ALLOWED = {  # package -> packages of ours it may import
    "core": set(),
    "etl": {"core"},
    "metrics": {"core"},
    "auth": {"core"},  # accounts, roles, audit log: beside etl/ and metrics/
    "render": {"core", "etl", "metrics"},
    "ui": {"core", "etl", "metrics", "auth", "render"},
    "pages": {"core", "etl", "metrics", "auth", "render", "ui"},
    "app": {"core", "etl", "metrics", "auth", "render", "ui"},
}
EXCEPTIONS = {  # module -> extra packages, each with its reason
    "etl/cli.py": {"metrics", "render", "auth"},  # `python -m etl report` prints the metrics layer's report;
    # loads and undos from the command line go into the audit log (auth.audit) as the app's do. The loader itself
    # (etl/load.py, etl/history.py) takes the log as a callback (`on_change`) and imports no auth.
}
STREAMLIT_HOMES = ("ui/", "pages/", "app.py")


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
    return "app" if rel.as_posix() == "app.py" else rel.parts[0]


@pytest.mark.parametrize("path", modules(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_imports_only_lower_layers(path):
    rel = path.relative_to(ROOT).as_posix()
    package = package_of(path)
    ours = (imports(path) & OURS) - {package}
    allowed = ALLOWED[package] | EXCEPTIONS.get(rel, set())
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
