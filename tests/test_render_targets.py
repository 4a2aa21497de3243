"""render/targets.py: the initiatives below their targets, with the gap, from the rows a page shows."""
from __future__ import annotations

import pandas as pd

from metrics.suppress import HIDDEN_PRIMARY, HIDDEN_SECONDARY
from render.format import fmt_delta_int, fmt_pct, fmt_pp
from render.targets import below_targets


def minus(text: str) -> str:
    assert text.startswith("-")
    return "\u2212" + text[1:]

ROWS = pd.DataFrame([
    # initiative, participants, planned, women share, its target, to work, its target
    ("Alfa", 12, 20, 0.40, 0.50, 0.30, 0.25),
    ("Beta", 45, 50, 0.55, 0.50, None, 0.30),     # to-work share withheld: no gap
    ("Gamma", HIDDEN_PRIMARY, 10, None, 0.50, 0.10, 0.20),  # a hidden count gives no gap
    ("Delta", 30, None, 0.20, None, 0.50, 0.40),  # no targets in the register
    ("Epsilon", HIDDEN_SECONDARY, 40, 0.45, 0.50, 0.20, None),
], columns=["initiative", "participants_total", "target_participants", "women_share", "target_women_share",
            "positive_share_total", "target_positive_share"])


def test_each_shortfall_once_with_its_gap_the_largest_first():
    df = below_targets(ROWS, calendar_year=True)
    assert [tuple(r) for r in df.itertuples(index=False)] == [
        # 12 of 20 planned is further off than 45 of 50
        ("Alfa", "Deltagare per år", "12", "20", minus(fmt_delta_int(-8))),
        ("Beta", "Deltagare per år", "45", "50", minus(fmt_delta_int(-5))),
        ("Alfa", "Andel kvinnor", fmt_pct(0.40), fmt_pct(0.50), minus(fmt_pp(-0.10))),
        ("Epsilon", "Andel kvinnor", fmt_pct(0.45), fmt_pct(0.50), minus(fmt_pp(-0.05))),
        ("Gamma", "Till arbete/studier", fmt_pct(0.10), fmt_pct(0.20), minus(fmt_pp(-0.10))),
    ]
    assert fmt_pp(-0.10).endswith("procentenheter") and fmt_pct(0.4).startswith("40,0")
    assert not any(str(v).startswith(("-", "+", "=", "@")) for v in df.to_numpy().ravel())  # no apostrophe on screen


def test_the_yearly_participant_target_is_compared_only_for_a_year():
    df = below_targets(ROWS, calendar_year=False)
    assert "Deltagare per år" not in set(df["Mål för"]) and len(df) == 3


def test_nothing_below_gives_an_empty_list_with_its_columns():
    df = below_targets(ROWS.assign(target_participants=1, target_women_share=0.1, target_positive_share=0.05),
                       calendar_year=True)
    assert df.empty and list(df.columns) == ["Insats", "Mål för", "Utfall", "Mål", "Avvikelse"]


def test_none_below_is_not_said_of_what_protection_hides():
    """Seen in the deck of tertial 3 for one initiative, every count `..`: "Ingen insats ... ligger under sitt mål",
    a claim about figures nobody can see. The initiatives with a target and no figure shown are counted instead."""
    from render.targets import none_below_text, not_compared
    # hidden participants against a target (Gamma, Epsilon), a withheld share against one (Gamma, Beta)
    assert not_compared(ROWS, calendar_year=True) == ["Gamma", "Epsilon", "Beta"]
    assert not_compared(ROWS, calendar_year=False) == ["Gamma", "Beta"]  # no participant target for a tertial
    hidden = pd.DataFrame([("Alfa", HIDDEN_SECONDARY, 20, None, 0.5, None, 0.4)], columns=ROWS.columns)
    assert below_targets(hidden, calendar_year=True).empty
    assert not_compared(hidden, calendar_year=True) == ["Alfa"]
    assert none_below_text(["Alfa"]) == ("Ingen av de insatser som kan jämföras ligger under sitt mål; 1 insats med "
                                         "mål jämförs inte (dolt tal eller för få personer).")
    assert none_below_text([]).startswith("Ingen insats med mål i insatsregistret ligger under")
