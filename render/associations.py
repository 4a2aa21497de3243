"""The Förbund page's comparison as a protected surface shows it: each association as its own pages show it.

Small-count protection is decided one association at a time (metrics/suppress.py). So under
protection every count of an association's row is the one that association's own engine shows
(its Översikt, Inflöde, Avslut …): the same value, or the same mark. A share or an amount per person
is shown only where its numerator and its denominator are both visible there and each is at least the
threshold, so that no share times its denominator gives back a count the association's pages hide.
Cost per participant divides by the association's participants of the initiative-years that have a
cost (render.protected.pooled_people, as its Översikt does); that denominator is a column of its own.

The whole (the last row) is the sum of the associations: a figure of it is shown only where no
association's corresponding figure is hidden, since the whole less the visible associations would
otherwise give the hidden one.
"""
from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from core.vocabulary import SEX_COLUMNS
from metrics.suppress import VISIBLE, hidden_code, is_hidden

COUNT_CELLS = {  # column -> (measure, dims, sex) of the association's engine
    **{f"participants_{s}": ("participants", {}, s) for s in SEX_COLUMNS},
    "exited": ("exited", {}, "total"),
    "exited_positive": ("exited", {"reason": "positive"}, "total"),
}
SHARES = {"women_share": ("participants_women", "participants_total"),
          "positive_share": ("exited_positive", "exited")}
PER_PERSON = {"per_participant": "cost_participants"}
WHOLE_HIDDEN = ("Summan för alla förbund visas inte där något förbunds motsvarande tal är dolt (markerat ..): "
                "summan minus de förbund som visas skulle annars ge det dolda talet.")


def at_least(value, threshold: int) -> bool:
    """A count that is visible and at least the threshold: what a share may rest on."""
    return value is not None and not is_hidden(value) and not pd.isna(value) and value >= threshold


def _derived(row: dict, threshold: int) -> dict:
    """The row's shares and amounts per person where both sides may be shown, else None."""
    out = {}
    for name, (num, den) in SHARES.items():
        out[name] = row[name] if at_least(row[num], threshold) and at_least(row[den], threshold) else None
    for name, den in PER_PERSON.items():
        out[name] = row[name] if at_least(row[den], threshold) else None
    return out


def protected_comparison(df: pd.DataFrame, total: str, engine_of: Callable, pooled_people_of: Callable[[str], object],
                         selection_of: Callable, threshold: int) -> tuple[pd.DataFrame, list[str]]:
    """`metrics.associations.by_association`'s table (its whole last, named `total`) as protection shows it.

    `engine_of(a)`: association `a`'s protection engine (`.cell(measure, dims, sex, f) -> (kind, value)`);
    `selection_of(a)`: the selection its cells are asked for (the page's filters, narrowed to `a`);
    `pooled_people_of(a)`: `a`'s participants behind its cost per participant, or their hidden code.
    Returns the table (hidden counts as their codes, withheld shares and amounts as None) and the notes a
    reader needs (why a figure of the whole is not shown).
    """
    rows = []
    for r in df[df.association != total].to_dict("records"):
        p, sel = engine_of(r["association"]), selection_of(r["association"])
        for col, (measure, dims, sex) in COUNT_CELLS.items():
            kind, _ = p.cell(measure, dims, sex, sel)
            r[col] = r[col] if kind == VISIBLE else hidden_code(kind)
        r["cost_participants"] = pooled_people_of(r["association"])
        rows.append(r | _derived(r, threshold))
    whole = df[df.association == total].to_dict("records")[0]
    notes = []
    for col in [*COUNT_CELLS, "cost_participants"]:
        if any(is_hidden(r[col]) for r in rows):
            whole[col] = hidden_code("secondary")
    whole |= _derived(whole, threshold)
    if any(is_hidden(whole[c]) for c in [*COUNT_CELLS, "cost_participants"]):
        notes.append(WHOLE_HIDDEN)
    out = pd.DataFrame([*rows, whole], columns=df.columns)
    for col in ("women_share", "positive_share", "per_participant", "cost"):
        out[col] = out[col].astype(object).where(out[col].notna(), None)
    return out, notes
