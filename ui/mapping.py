"""The referrer mapping on /data: each stored unit, what it counts as, and its exact rule, editable.

Units that matched nothing (and so count as Annan) come first, then the most used. Saving goes
through etl.mapping: the mapping file is written atomically and the stored agencies are derived
again at once through the loader's write path (a snapshot is kept; the change is in the history
and the audit log).
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from auth import audit
from auth.roles import Viewer
from core.vocabulary import AGENCIES, OTHER_AGENCY
from etl.mapping import exact_rules, save_unit_agencies
from core.problems import safe_text
from etl.reference import EXACT, MappingError, fold_unit, read_rules, referrers_path
from metrics.quality import referrer_units
from render.files import neutralise_frame
from render.text import md

from .data import db_path, run
from .history import audit_callback, audit_failure, flash, request, requested

ROUND_KEY = "_mapping_round"
RULE = "Exakt regel"
NO_RULE = "(ingen: nyckelorden gäller)"  # the choice that removes a unit's exact rule
COLUMNS = ["Enhet", "Inskrivningar", "Räknas nu som", "Matchas av", RULE]


def _how(rule) -> str:
    if not isinstance(rule, str) or not rule:
        return f"ingenting: räknas som {OTHER_AGENCY}"
    return "exakt namn" if rule == EXACT else f"nyckelordet «{rule}»"


def table(units: pd.DataFrame, exact: dict[str, str]) -> pd.DataFrame:
    """The editor's rows; a unit's name neutralised like every table's text (issue 22), the real names kept apart."""
    return neutralise_frame(pd.DataFrame({
        "Enhet": units.unit.astype(object),
        "Inskrivningar": units.enrollments.astype("int64"),
        "Räknas nu som": units.agency.astype(object),
        "Matchas av": [_how(r) for r in units.rule],
        RULE: pd.Series([exact.get(fold_unit(u), NO_RULE) for u in units.unit], dtype=object),
    }, columns=COLUMNS))


def edits_between(original: pd.DataFrame, edited: pd.DataFrame, units=None) -> dict[str, str | None]:
    """Unit → its new exact rule (None: removed), for the rows whose rule the user changed; `units`: the stored
    names of the rows, where the table shows them neutralised."""
    out = {}
    for unit, old, new in zip(original["Enhet"] if units is None else units, original[RULE], edited[RULE]):
        old = old if isinstance(old, str) and old and old != NO_RULE else None
        new = new if isinstance(new, str) and new and new != NO_RULE else None
        if old != new:
            out[unit] = new
    return out


def section(viewer: Viewer) -> None:
    st.caption("Remittenterna i databasen och vilken myndighet de räknas till. Enheter som inte matchar någon regel "
               f"räknas som {OTHER_AGENCY} och står först. Välj en myndighet under *{RULE}* för att mappa en enhet "
               f"med exakt namn, eller *{NO_RULE}* för att ta bort regeln. När du sparar räknas alla lagrade "
               "inskrivningar om direkt.")
    try:
        rules = read_rules()
    except MappingError as exc:
        st.error(f"Remittentmappningen kan inte läsas: {md(exc)}. Rätta filen innan den kan ändras här.")
        return
    units = run(referrer_units)
    if not len(units):
        st.info("Databasen har inga remittenter ännu (eller bara inskrivningar utan samtycke, som saknar remittent).")
        return
    unmapped = int(units.rule.isna().sum())
    if unmapped:
        st.warning(f"{unmapped} {'enhet' if unmapped == 1 else 'enheter'} matchar ingen regel och räknas som "
                   f"{OTHER_AGENCY}.", icon=":material/help:")
    original = table(units, exact_rules(rules))
    round_ = st.session_state.get(ROUND_KEY, 0)
    edited = st.data_editor(
        original, hide_index=True, width="stretch", num_rows="fixed", key=f"mapping_editor_{round_}",
        disabled=[c for c in COLUMNS if c != RULE],
        column_config={RULE: st.column_config.SelectboxColumn(RULE, options=[NO_RULE, *AGENCIES], required=True,
                                                              help="Myndigheten för just det här enhetsnamnet")})
    edits = edits_between(original, edited, list(units.unit))
    st.caption(f"Mappningsfilen: {md(referrers_path().name)}. Nyckelordsregler (till exempel «vård» → Region) "
               "ändras i filen; de gäller enheter utan exakt regel.")
    st.button("Spara mappningen", type="primary", key="mapping_save", disabled=not edits, icon=":material/save:",
              on_click=request, args=("mapping", edits))
    if edits and requested("mapping") == edits:
        result = save_unit_agencies(edits, db_path(), actor=viewer.name, on_change=audit_callback(viewer))
        if result.ok:
            flash("success", md(result.message))
            if result.warning:
                flash("warning", md(result.warning))
            st.session_state[ROUND_KEY] = round_ + 1
            st.rerun()
        asked = [f"{safe_text(u, 80)} → {a or 'ingen regel'}" for u, a in edits.items()]
        audit_failure(viewer, audit.MAPPING_FAILED, "; ".join([*asked, result.message, *result.errors]))
        st.error(md(result.message) + "".join(f"\n- {md(e)}" for e in result.errors))
