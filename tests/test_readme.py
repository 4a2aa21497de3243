"""The README says what the code does: its definitions and settings tables are generated, its layout names every
package."""
from __future__ import annotations

import re
from pathlib import Path

from core import settings
from metrics.definitions import FIGURES, markdown_table, note

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_definitions_table_is_the_registry():
    block = re.search(r"<!-- definitions:start -->\n(.*?)\n<!-- definitions:end -->", README, re.S)
    assert block, "README has no generated definitions block"
    assert block[1] == markdown_table(), "README is out of step: paste `python -m metrics.definitions`"


def test_settings_table_is_core_settings():
    block = re.search(r"<!-- settings:start -->\n(.*?)\n<!-- settings:end -->", README, re.S)
    assert block, "README has no generated settings block"
    assert block[1] == settings.markdown_table(), "README is out of step: paste `python -m core.settings`"


def test_layout_names_every_package_and_module():
    layout = README[README.index("## Layout"):]
    for package in ("core", "etl", "metrics", "auth", "render", "ui", "pages"):
        assert f"\n{package}/" in layout, package
        for module in sorted((ROOT / package).glob("*.py")):
            if not module.name.startswith("__") and package != "pages":
                assert module.name in layout, f"{package}/{module.name} is missing from the README's layout"


def test_every_figure_has_a_swedish_definition():
    for f in FIGURES.values():
        assert f.label and f.description.endswith("."), f.name
        if f.unit != "antal":
            assert f.denominator or f.unit == "kr", f.name
    assert note("started").startswith("Nya deltagare: start inom perioden")
