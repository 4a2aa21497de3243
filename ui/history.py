"""History and undo on /data, and what the data page's sections share: the audit log and messages kept
across the rerun that follows a change.

Every change goes through the loader (etl.history): a new database file swapped in, the old one
kept as a snapshot. Other open sessions key their caches on the file's mtime (ui/data.py), so they
show the new state at their next rerun.
"""
from __future__ import annotations

import logging
from typing import Callable

import streamlit as st

from auth import audit
from auth.roles import Viewer
from etl import history
from etl.history import Change
from metrics.catalog import change_history
from metrics.changes import recorded
from render.changes import audit_detail, effects_count_text, history_table, preview_table
from render.format import fmt_datetime
from render.text import md

from . import access
from .data import db_path, run
from .layout import dataframe

_LOG = logging.getLogger(__name__)
FLASH_KEY = "_data_flash"
_RECORD = {history.LOAD: audit.record_load, history.UNDO: audit.record_undo, history.MAPPING: audit.record_mapping}


def audit_callback(viewer: Viewer) -> Callable[[Change], None]:
    """For etl's `on_change`: the change into the audit log, with who and from where (taken now, in the session)."""
    client = access.client_address() or "lokal"

    def record(change: Change) -> None:
        _RECORD[change.action](viewer.name, audit_detail(change.describe(), change.effect_rows), role=viewer.role,
                               client=client)

    return record


def audit_failure(viewer: Viewer, event: str, detail: str) -> None:
    """A change that was refused or failed, into the audit log (issue 22): who, from where, what and why not.

    The page has already said what went wrong; a log that cannot be written is only logged for the operator."""
    try:
        audit.record_failure(event, viewer.name, detail, role=viewer.role, client=access.client_address() or "lokal")
    except (audit.AuditError, OSError) as exc:
        _LOG.warning("granskningsloggen kunde inte skrivas: %s", exc)


def flash(kind: str, text: str) -> None:
    """A message for the run after st.rerun() (kind: success, info, warning, error); `text` is Markdown."""
    st.session_state.setdefault(FLASH_KEY, []).append((kind, text))


def show_flash() -> None:
    for kind, text in st.session_state.pop(FLASH_KEY, []):
        getattr(st, kind)(text)


def request(action: str, value: object) -> None:
    """A button's on_click: remember what was asked for. The work is done in the page body, after the gate and
    the page's permission check, by whoever finds it with `requested` (so a rerun in between cannot lose it)."""
    st.session_state[f"_request_{action}"] = value


def requested(action: str) -> object:
    return st.session_state.pop(f"_request_{action}", None)


def _label(c: Change, files: dict[int, str]) -> str:
    what = files.get(c.change_id) or c.detail
    return f"nr {c.change_id} · {c.label} · {fmt_datetime(c.changed_at)} · {c.actor} · {what}"[:300]


def effects_section(changes: list[Change]) -> None:
    """What a chosen change did per initiative and year, before → after: the table the upload showed before
    "Ladda in", as the change kept it (core.effects)."""
    kept = [c for c in reversed(changes) if c.effects is not None]
    st.subheader("Vad ändrades")
    if not kept:
        st.caption("Ingen ändring i historiken har sparat vad den ändrade i siffrorna (de gjordes innan det sparades).")
        return
    by_id = {c.change_id: c for c in kept}
    newest = changes[-1].change_id
    chosen = st.selectbox("Ändring", list(by_id), key=f"effects_choice_{newest}",
                          format_func=lambda cid: (f"nr {cid} · {by_id[cid].label} · {fmt_datetime(by_id[cid].changed_at)}"
                                                   f" · {by_id[cid].actor} · {effects_count_text(by_id[cid].effects)} "
                                                   "ändrade insatsår")[:300])
    diff = run(recorded, chosen)
    if not len(diff):
        st.info(f"Nr {chosen} ändrade inga siffror per insats och år (till exempel bara insatsregistret, "
                "remittentmappningen eller samma uppgifter igen).")
        return
    st.caption(f"Per insats och år: deltagare, nya, avslutade, budget och utfall, före → efter, så som nr {chosen} "
               "ändrade dem (samma tabell som visades innan den lästes in). Bara de insatsår som ändrades visas.")
    dataframe(preview_table(diff), hide_index=True, width="stretch", key=f"effects_table_{chosen}")


def section(viewer: Viewer) -> None:
    db = db_path()
    st.caption(f"Varje inläsning, ångring och ändring av remittentmappningen sparar en ögonblicksbild av databasen "
               f"från före den (de {history.snapshots_kept()} senaste sparas). Samma historik visar "
               "`python -m etl history`; en inläsning ångras också med `python -m etl undo NR`.")
    df = run(change_history)
    changes = run(history.changes)
    if not len(df):
        st.info("Ingenting har lästs in ännu.")
        return
    why_not = {c.change_id: history.undoable(db, c) for c in changes}
    dataframe(history_table(df, why_not, {c.change_id: c.effects for c in changes}), hide_index=True,
              width="stretch", key="history_table")
    effects_section(changes)
    candidates = [c for c in reversed(changes) if why_not.get(c.change_id) is None]
    if not candidates:
        st.caption("Ingen ändring i historiken kan ångras (ögonblicksbilderna saknas).")
        return
    files: dict[int, str] = {}
    for r in reversed(df.to_dict("records")):  # oldest first: the files of a call in the order they were given
        if r.get("action") == "load" and isinstance(r.get("file_name"), str):
            files[int(r["change_id"])] = ", ".join(filter(None, [files.get(int(r["change_id"])), r["file_name"]]))
    st.subheader("Ångra")
    by_id = {c.change_id: c for c in candidates}
    newest = changes[-1].change_id  # a new change starts the choice afresh (at the newest), unconfirmed
    chosen = st.selectbox("Återställ databasen till läget före", list(by_id), key=f"undo_choice_{newest}",
                          format_func=lambda cid: _label(by_id[cid], files))
    later = [c.change_id for c in changes if c.change_id > chosen]
    text = (f"Databasen blir tom: före nr {chosen} fanns ingen databas." if by_id[chosen].no_database
            else f"Databasen blir som den var före nr {chosen}.")
    if later:
        text += f" Även de senare ändringarna (nr {', '.join(map(str, later))}) försvinner."
    text += " Ångringen sparas i historiken och kan själv ångras."
    st.warning(text, icon=":material/undo:")
    sure = st.checkbox("Ja, återställ databasen", key=f"undo_sure_{newest}")
    st.button("Ångra", key="undo_button", disabled=not sure, icon=":material/undo:", on_click=request,
              args=("undo", chosen))
    if requested("undo") == chosen and sure:
        result = history.undo(db, chosen, actor=viewer.name, on_change=audit_callback(viewer))
        if result.ok:
            flash("success", md(result.message))
            if result.warning:
                flash("warning", md(result.warning))
        else:
            audit_failure(viewer, audit.UNDO_FAILED, f"nr {chosen}: {result.message}")
            flash("error", md(result.message))
        st.rerun()
