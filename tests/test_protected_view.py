"""Protection by construction (issue 24): surfaces read their figures through render.protected, never by hand.

A page, slide or export gets its counts, shares and costs per person from `Shown` (`figures`,
`wide`, `frame`); a share is derived there from the numerator and the denominator
metrics/definitions.py declares, through the one rule `protected_share`. The first tests read the
code (with `ast`), so a new page that divides or protects by hand fails here; the others check
the view against the rule it stands for.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from core.database import connect_read
from core.vocabulary import SEX_COLUMNS
from metrics import Filters
from metrics.cost import cost_by_initiative_year, cost_per_initiative, cost_summary
from metrics.definitions import FIGURES
from metrics.people import by_initiative, headline
from metrics.suppress import HIDDEN_PRIMARY, HIDDEN_SECONDARY, is_hidden
from render.protected import COUNTS, SHARES, Shown, protected_share

ROOT = Path(__file__).resolve().parents[1]
# The helpers that protect one share or one cost per person at a time (ui/protection.py). A page listed here still
# uses them, for a figure of its own that the view does not declare yet; no other page may.
BY_HAND = {"ratio", "ratios", "prefixed", "cost_people", "cost_per_initiative"}
STILL_BY_HAND = {
    "pages/inflode.py": "the largest agency's share of all new participants (not a declared figure)",
    "pages/jamstalldhet.py": "each exit reason's share within a sex (not a declared figure)",
    "pages/kostnad.py": "cost per participant per initiative and year, over the years' own engines",
    "pages/ekonomi.py": "cost per participant with administration, over the years' own engines",
    "pages/forbund.py": "each association's own engine (render/associations.py)",
}
# The one rule for a derived figure lives in metrics/suppress.py (share_visible) and render/protected.py
# (protected_share); ui/protection.py re-exports it for the helpers above.
RULE_HOMES = {"metrics/suppress.py", "render/protected.py", "ui/protection.py"}


def _calls(path: Path) -> list[tuple[str, str, int]]:
    """(object, attribute or name, line) of every call in the module: `protection.ratio(…)` → ('protection',
    'ratio', n); `share_visible(…)` → ('', 'share_visible', n)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            fn = node.func
            if isinstance(fn, ast.Attribute) and isinstance(fn.value, ast.Name):
                out.append((fn.value.id, fn.attr, node.lineno))
            elif isinstance(fn, ast.Name):
                out.append(("", fn.id, node.lineno))
    return out


def _surfaces() -> list[Path]:
    return [*sorted((ROOT / "pages").glob("*.py")), ROOT / "app.py", *sorted((ROOT / "ui").glob("*.py")),
            *sorted((ROOT / "render").glob("*.py"))]


@pytest.mark.parametrize("path", _surfaces(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_surface_applies_the_share_rule_itself(path):
    rel = path.relative_to(ROOT).as_posix()
    if rel in RULE_HOMES:
        return
    hits = [(n, line) for obj, n, line in _calls(path) if n in ("share_visible", "protected_share")
            or (obj == "suppress" and n == "share_visible")]
    assert not hits, f"{rel} applies the protected-share rule by hand: read the figure through render.protected"


@pytest.mark.parametrize("path", sorted((ROOT / "pages").glob("*.py")) + [ROOT / "ui" / "presentation.py"],
                         ids=lambda p: p.relative_to(ROOT).as_posix())
def test_a_page_gets_its_shares_from_the_protected_view(path):
    rel = path.relative_to(ROOT).as_posix()
    hits = [f"protection.{n} (line {line})" for obj, n, line in _calls(path) if obj == "protection" and n in BY_HAND]
    if rel in STILL_BY_HAND:
        assert hits, f"{rel} no longer protects by hand: take it off STILL_BY_HAND"
        return
    assert not hits, (f"{rel} computes a share or a cost per person by hand ({', '.join(hits)}): read it through "
                      "protection.shown(f).figures(...) / .wide(...)")


def test_every_declared_share_of_people_is_in_the_view():
    """A share metrics/definitions.py declares over counts about people is one the view derives."""
    people = {n for n, fig in FIGURES.items() if fig.unit == "andel" and fig.numerator in COUNTS
              and fig.denominator in COUNTS}
    assert people == set(SHARES) == {"positive_share", "positive_wide_share", "women_share"}


# ---------------------------------------------------------------- the view against the rule

@pytest.fixture(scope="module")
def small(small_db):
    con = connect_read(small_db)
    yield con
    con.close()


@pytest.mark.parametrize("threshold", [5, None])
def test_headline_shares_are_the_rule_over_the_declared_counts(small, threshold):
    f = Filters.year(2021)
    h = headline(small, f)
    fig = Shown(small, f, threshold).figures(h, cost_summary(small, f), cost_by_initiative_year(small, f))
    for name in SHARES:
        decl = FIGURES[name]
        for s in (SEX_COLUMNS if decl.by_sex else ("total",)):
            expected = protected_share(h.loc[name, s], fig.count(decl.denominator, s), fig.count(decl.numerator, s),
                                       threshold=threshold)
            assert fig.get(name, s) == (None if expected is None else float(expected)), (name, s)
    counts = [fig.count(n, s) for n in ("participants", "started", "exited") for s in SEX_COLUMNS]
    if threshold is None:
        assert not any(is_hidden(c) for c in counts)
        assert fig.get("participants") == h.loc["participants", "total"]


def test_the_small_association_hides_a_count_and_the_share_resting_on_it(small):
    f = Filters.year(2021)
    fig = Shown(small, f, 5).figures(headline(small, f))
    counts = {s: fig.count("exited_positive", s) for s in SEX_COLUMNS}
    assert any(v in (HIDDEN_PRIMARY, HIDDEN_SECONDARY) for v in counts.values())  # the case protection is for
    for s, v in counts.items():
        if is_hidden(v):
            assert fig.get("positive_share", s) is None


def test_the_per_initiative_view_hands_out_only_what_was_asked(small):
    f = Filters.year(2021)
    ini = by_initiative(small, f)
    shown = Shown(small, f, 5).wide(ini, ["exited"])
    assert not [c for c in shown.columns if c.startswith(("participants_", "positive_share", "started_", "no_consent_"))]
    assert "women_share" not in shown.columns and {"initiative", "target_participants"} <= set(shown.columns)
    with_share = Shown(small, f, 5).wide(ini, ["positive_share"])
    for r in with_share.itertuples():  # the share's counts come with it, as shown, and the share follows them
        assert r.positive_share_total == protected_share(ini.set_index("initiative").positive_share_total[r.initiative],
                                                         r.exited_total, r.exited_positive_total, threshold=5)
    with pytest.raises(ValueError):  # a cost per participant cannot be handed out without what it divides
        Shown(small, f, 5).wide(cost_per_initiative(small, f), ["cost_per_participant"])
    assert "per_participant" not in Shown(small, f, 5).wide(cost_per_initiative(small, f), []).columns


def test_women_share_is_withheld_under_a_filter_on_sex(small):
    f = Filters.year(2021).with_(sexes=("women",))
    show = Shown(small, f, 5)
    assert show.figures(headline(small, f)).get("women_share") is None
    assert all(v is None for v in show.wide(by_initiative(small, f), ["women_share"]).women_share)


def test_protected_share_is_the_one_rule():
    assert protected_share(0.25, 12, 3, threshold=None) == 0.25  # protection off
    assert protected_share(0.25, 12, 3, threshold=5) == 0.25
    assert protected_share(0.25, 4, 1, threshold=5) is None  # too few behind it
    assert protected_share(0.25, 12, HIDDEN_PRIMARY, threshold=5) is None  # a hidden count under it
    assert protected_share(0.25, HIDDEN_SECONDARY, threshold=5) is None
    assert protected_share(None, 12, threshold=5) is None and protected_share(float("nan"), 12, threshold=None) is None


def test_a_previous_period_whose_year_shows_the_year_alone_is_withheld(small):
    """Issue 21: a comparison with a delår that its year's grid does not show gets every count withheld (`..`) and
    no share, so the deck and Översikt leave the comparison out instead of failing."""
    from metrics.suppress import YearOnly

    with pytest.raises(YearOnly):
        Shown(small, Filters.interim(2021), 5)
    prev = Shown.previous(small, Filters.interim(2021), 5)
    fig = prev.figures(headline(small, Filters.interim(2021)))
    assert all(fig.count(n, s) == HIDDEN_SECONDARY for n in ("participants", "started", "exited") for s in SEX_COLUMNS)
    assert fig.get("positive_share") is None
    assert Shown.previous(small, Filters.interim(2022), 5).p.shorter  # a year that shows its delår: its own engine
