"""Issue 23: axe-core's WCAG 2.1 A and AA rules on every page and on the presentation find no violation.

axe-core comes pinned inside axe-playwright-python (requirements-dev.txt); only its script is used, injected into
the page after Streamlit has drawn it, in the session's Chromium against the session's app server.
"""
from __future__ import annotations

from importlib.resources import files

import pytest

from tests.e2e_server import wait_idle

AXE = (files("axe_playwright_python") / "axe.min.js").read_text(encoding="utf-8")
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
RUN = """async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}})).violations.map(
  v => ({id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map(
    n => [n.target.join(" "), n.html.slice(0, 160), (n.failureSummary || "").slice(0, 200)])}))"""
PATHS = ["", "inflode", "jamstalldhet", "avslut", "kostnad", "ekonomi", "export", "data", "konton",
         "?present=1", "?present=1&slide=4", "?suppress=1"]


def violations(page) -> list[dict]:
    page.add_script_tag(content=AXE)
    return page.evaluate(RUN, TAGS)


def test_the_audit_finds_a_violation_where_there_is_one(browser):
    """The check itself: an image without a text alternative and grey on grey are reported."""
    page = browser.new_page()
    try:
        page.set_content('<html lang="sv"><title>t</title><main><img src="x.png">'
                         '<p style="color:#bbb;background:#ccc">grått</p></main></html>')
        assert {"image-alt", "color-contrast"} <= {v["id"] for v in violations(page)}
    finally:
        page.close()


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p or "oversikt")
def test_every_page_and_the_presentation_pass_wcag_2_1_aa(app_server, browser, path):
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    try:
        page.goto(f"{app_server}/{path}{'&' if '?' in path else '?'}year=2024")
        wait_idle(page)
        assert page.get_by_test_id("stException").count() == 0
        found = violations(page)
        assert found == [], found
    finally:
        page.close()
