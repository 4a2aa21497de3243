"""The data page's tables in Swedish: problems found in uploaded files, what a load will change, the
history of changes and the rows behind the data-quality checks. No Streamlit, so the command line
(`python -m etl history`) prints the same history table.

Everything here is shown with st.dataframe or printed as plain text, never as Markdown; names
from files stay as typed (they are already masked by the loader: core.problems.safe_text).
"""
from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from core.vocabulary import CHANGE_ACTIONS, SEX_SINGULAR, TABLE_KINDS
from core.problems import ERROR, NOTICE, WARNING, Problem
from metrics.changes import FIGURES

from .format import DASH, fmt_date, fmt_datetime, fmt_int, fmt_kr, fmt_number, is_missing

SEVERITY = {ERROR: "Fel", WARNING: "Varning", NOTICE: "Notis"}
SEVERITY_ORDER = {ERROR: 0, WARNING: 1, NOTICE: 2}
PROBLEM_COLUMNS = ["Allvar", "Fil", "Blad", "Rad", "Kolumn", "Värde", "Vad är fel"]
FIGURE_LABELS = {"participants": "Deltagare", "started": "Nya", "exited": "Avslutade", "budget": "Budget",
                 "actual": "Utfall"}
SEX_OF_ROW = {"woman": SEX_SINGULAR["women"], "man": SEX_SINGULAR["men"], "other": SEX_SINGULAR["other"],
              "unknown": SEX_SINGULAR["other"]}


def problems_table(problems: list[Problem]) -> pd.DataFrame:
    """Every problem as a row, errors first, in the order staff fix them: file, sheet, row."""
    ordered = sorted(problems, key=lambda p: (SEVERITY_ORDER.get(p.severity, 9), p.file, p.sheet or "", p.row or 0))
    return pd.DataFrame([[SEVERITY.get(p.severity, p.severity), p.file, p.sheet or DASH,
                          str(p.row) if p.row else DASH, p.column or DASH,
                          DASH if p.value is None or p.value == "" else str(p.value), p.message] for p in ordered],
                        columns=PROBLEM_COLUMNS)


def kinds_text(kinds: list[str]) -> str:
    return ", ".join(TABLE_KINDS.get(k, k) for k in kinds) or "ingen känd tabell"


def period_text(first, last) -> str:
    if is_missing(first) and is_missing(last):
        return DASH
    return f"{fmt_date(first)} – {fmt_date(last)}"


def _change_cell(before, after, fmt) -> str:
    if before == after or (is_missing(before) and is_missing(after)):
        return fmt(after)
    return f"{fmt(before)} → {fmt(after)}"


def preview_table(diff: pd.DataFrame) -> pd.DataFrame:
    """metrics.changes.compare as text: 'före → efter' where a figure changes, the figure alone where it does not."""
    out = pd.DataFrame({"Insats": diff.initiative.astype(object), "År": [str(int(y)) for y in diff.year]})
    for m in FIGURES:
        fmt = fmt_int if m in ("participants", "started", "exited") else fmt_kr
        out[FIGURE_LABELS[m]] = [_change_cell(b, a, fmt) for b, a in zip(diff[f"{m}_before"], diff[f"{m}_after"])]
    return out


FIGURE_WORDS = {"participants": "deltagare", "started": "nya", "exited": "avslutade", "budget": "budget",
                "actual": "utfall"}
AUDIT_EFFECTS_CHARS = 3000


def effects_text(diff: pd.DataFrame, limit: int = AUDIT_EFFECTS_CHARS) -> str:
    """What a change did as one line of plain text (the audit log): each changed initiative-year with the figures
    that changed, före → efter, as many as fit in `limit` characters and then how many more there are."""
    if not len(diff):
        return "ändrade inga siffror per insats och år"
    parts = []
    for r in diff.to_dict("records"):
        figures = []
        for m in FIGURES:
            b, a = r[f"{m}_before"], r[f"{m}_after"]
            if b == a or (is_missing(b) and is_missing(a)):
                continue
            fmt = fmt_int if m in ("participants", "started", "exited") else fmt_kr
            figures.append(f"{FIGURE_WORDS[m]} {fmt(b)} → {fmt(a)}")
        parts.append(f"{r['initiative']} {int(r['year'])}: {', '.join(figures)}")
    n = len(parts)
    head = f"ändrade {fmt_int(n)} insatsår (före → efter): "
    text, shown = head, 0
    for part in parts:
        rest = n - shown - 1
        tail = f" … och {fmt_int(rest)} insatsår till" if rest else ""
        candidate = text + ("; " if shown else "") + part
        if len(candidate) + len(tail) > limit and shown:
            break
        text, shown = candidate, shown + 1
    if shown < n:
        text += f" … och {fmt_int(n - shown)} insatsår till (hela tabellen i historiken på sidan Data)"
    return text


def audit_detail(description: str, diff: pd.DataFrame | None) -> str:
    """A change's line in the audit log: what it was (etl.history.Change.describe) and what it did to the
    figures, or that this was not recorded."""
    if diff is None:
        text = f"{description} · vad den ändrade i siffrorna registrerades inte"
    else:
        text = f"{description} · {effects_text(diff)}"
    return "".join(ch if ch.isprintable() else " " for ch in text)  # the log keeps one line of printable text


def effects_count_text(n) -> str:
    """The history's column: how many initiative-years a change altered."""
    if n is None or is_missing(n):
        return "ej registrerat"
    return "inga" if int(n) == 0 else fmt_int(n)


# --------------------------------------------------------------------------- history

HISTORY_COLUMNS = ["Nr", "Tid", "Händelse", "Vem", "Fil", "Typ", "Kontrollsumma", "Rader", "Ersatte", "Detaljer",
                   "Ändrade insatsår", "Kan ångras"]


def _replaced_text(row) -> str:
    if row.get("replaced_sample") is True:
        return "hela exempeldatabasen"
    n = row.get("rows_replaced")
    if is_missing(n) or not int(n):
        return DASH
    # which earlier loads the rows came from is known per call; a call of one file is the usual case
    loads = [s.split(":")[0] for s in str(row.get("replaced") or "").split(",") if ":" in s]
    return f"{fmt_int(n)} äldre rader" + (f" från nr {', '.join(loads)}" if loads else "")


def history_table(df: pd.DataFrame, why_not: Mapping[int, str | None],
                  effects: Mapping[int, int | None] | None = None) -> pd.DataFrame:
    """metrics.catalog.change_history in Swedish. `why_not`: per change id, why it cannot be undone (None: it can);
    a change missing from it was made before snapshots were kept. `effects`: per change id, how many
    initiative-years it altered (etl.history.Change.effects; None or missing: not recorded)."""
    effects = effects or {}
    rows = []
    for r in df.to_dict("records"):
        cid, is_load = int(r["change_id"]), r.get("action") == "load"
        reason = why_not.get(cid, "gjord innan ögonblicksbilder sparades")
        read, loaded = r.get("rows_read"), r.get("rows_loaded")
        first, last = r.get("first_load_id"), r.get("last_load_id")
        if is_load:
            together = (not is_missing(first) and not is_missing(last) and int(first) != int(last))
            detail = f"inläst med nr {int(first)}–{int(last)} i ett svep; ångras tillsammans" if together else DASH
        else:
            detail = DASH if is_missing(r.get("detail")) else str(r["detail"])
        rows.append([
            str(int(r["load_id"])) if is_load and not is_missing(r.get("load_id")) else str(cid),
            fmt_datetime(r.get("changed_at")),
            CHANGE_ACTIONS.get(r.get("action"), str(r.get("action"))),
            DASH if is_missing(r.get("actor")) else str(r["actor"]),
            DASH if is_missing(r.get("file_name")) else str(r["file_name"]),
            DASH if is_missing(r.get("kind")) else kinds_text(str(r["kind"]).split(",")),
            DASH if is_missing(r.get("checksum")) else str(r["checksum"])[:12],
            DASH if is_missing(read) else f"{fmt_int(read)} lästa, {fmt_int(loaded)} inlästa",
            _replaced_text(r) if is_load else DASH,
            detail,
            effects_count_text(effects.get(cid)),
            "ja" if reason is None else f"nej: {reason}",
        ])
    return pd.DataFrame(rows, columns=HISTORY_COLUMNS)


# --------------------------------------------------------------------------- data quality

QUALITY_COLUMNS = {
    "participant_id": "Deltagar-ID", "initiative": "Insats", "sex": "Kön", "start_date": "Startdatum",
    "end_date": "Slutdatum", "exit_reason": "Avslutsorsak", "referrer_unit": "Remittent", "agency": "Myndighet",
    "consent": "Samtycke", "load_id": "Inläsning nr", "years": "År i insatsen", "year": "År",
    "participants": "Deltagare", "lines": "Budgetrader", "budget": "Budget", "actual": "Utfall", "found_in": "Finns i",
}


def quality_rows(df: pd.DataFrame) -> pd.DataFrame:
    """The rows behind a data-quality check, with Swedish headers and values."""
    out = pd.DataFrame(index=df.index)
    for col in df.columns:
        values = df[col]
        if col == "sex":
            shown = [SEX_OF_ROW.get(v, DASH) for v in values]
        elif col == "consent":
            shown = ["Ja" if v is True else "Nej" if v is False else DASH for v in values]
        elif col in ("start_date", "end_date"):
            shown = [fmt_date(v) for v in values]
        elif col in ("budget", "actual"):
            shown = [fmt_kr(v) for v in values]
        elif col == "years":
            shown = [fmt_number(v, 1) for v in values]
        elif col in ("exit_reason", "load_id", "year", "participants", "lines"):
            shown = [DASH if is_missing(v) else str(int(v)) for v in values]
        else:
            shown = [DASH if is_missing(v) else str(v) for v in values]
        out[QUALITY_COLUMNS.get(col, col)] = pd.Series(shown, index=df.index, dtype=object)
    return out.reset_index(drop=True)
