"""Upload on /data: the same checks as `python -m etl check`, a preview of what will change, then the load.

The uploaded files are written to a temporary directory only for as long as the check or the load
runs, and that directory is removed whatever happens. The preview builds the database the load
would write (etl.load.preview_files, the loader's own write path) in that directory and compares
it with the current one through the metrics layer; the load is then given the preview's state
token, so if anyone changed the database or the mapping in between, nothing is loaded and a
new preview is shown. "Ladda in" is enabled only without errors, and the loader checks again.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import streamlit as st

from auth.roles import Viewer
from core.database import connect_read
from etl import history
from etl.load import load_files, preview_files
from etl.problems import ERROR, NOTICE, WARNING
from metrics import changes as change_metrics
from render.changes import kinds_text, period_text, preview_table, problems_table
from render.format import fmt_int
from render.text import md

from .data import db_path, run
from .history import audit_callback, flash, request, requested

ROUND_KEY = "_upload_round"  # a new uploader (empty) after each load
PREVIEW_KEY = "_upload_preview"
TEMP_PREFIX = "insatskollen-upload-"
INITIATIVES_SHOWN = 8


@dataclass
class UploadPreview:
    key: tuple
    token: str
    files: pd.DataFrame
    problems: pd.DataFrame
    errors: int
    warnings: int
    diff: pd.DataFrame = field(default_factory=pd.DataFrame)
    unchanged: int = 0
    replaced_sample: bool = False
    to_load: int = 0  # files that are not already loaded

    @property
    def loadable(self) -> bool:
        return self.errors == 0 and self.to_load > 0


def upload_limit_mb() -> int:
    return int(st.get_option("server.maxUploadSize"))


def safe_file_name(name: str, taken: set[str]) -> str:
    """The uploaded file's own name, as a plain file name that is unique in its directory."""
    base = str(name).replace("\\", "_").replace("/", "_")  # a browser sends no folders; a crafted name gets none
    base = "".join(ch for ch in base if ch.isprintable()).strip().lstrip(".") or "fil"
    stem, dot, suffix = base.rpartition(".")
    if not dot or len(suffix) > 10:
        stem, suffix = base, ""
    stem = stem[:150] or "fil"
    candidate, n = f"{stem}.{suffix}" if suffix else stem, 1
    while candidate.lower() in taken:
        n += 1
        candidate = f"{stem} ({n}).{suffix}" if suffix else f"{stem} ({n})"
    taken.add(candidate.lower())
    return candidate


def save_uploads(files, directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    taken: set[str] = set()
    paths = []
    for f in files:
        p = directory / safe_file_name(f.name, taken)
        p.write_bytes(f.getvalue())
        paths.append(p)
    return paths


def _initiatives_text(names) -> str:
    names = list(names) if names is not None else []
    if not names:
        return "–"
    shown = ", ".join(names[:INITIATIVES_SHOWN])
    return shown + (f" … och {len(names) - INITIATIVES_SHOWN} till" if len(names) > INITIATIVES_SHOWN else "")


def build_preview(files, db: Path, viewer: Viewer, key: tuple) -> UploadPreview:
    """Check the uploads and compute what loading them would change; the temporary files are gone on return."""
    with tempfile.TemporaryDirectory(prefix=TEMP_PREFIX) as tmp:
        paths = save_uploads(files, Path(tmp) / "filer")
        work = Path(tmp) / "arbete"
        work.mkdir()
        pv = preview_files(paths, db, work, actor=viewer.name)
        result = pv.result
        contents = pd.DataFrame()
        diff = pd.DataFrame()
        unchanged = 0
        if pv.after is not None:
            with connect_read(pv.after) as con:
                after = change_metrics.figures(con)
                contents = change_metrics.load_contents(con, [f.load_id for f in result.files if f.load_id])
            before = run(change_metrics.figures) if db.exists() else after.iloc[0:0]
            diff = change_metrics.compare(before, after)
            changed = set(zip(diff.initiative, diff.year))
            unchanged = sum((i, y) not in changed for i, y in zip(after.initiative, after.year))
    by_load = {int(r["load_id"]): r for r in contents.to_dict("records")} if len(contents) else {}
    errors_in = {}
    for p in result.problems:
        if p.severity == ERROR:
            errors_in[p.file] = errors_in.get(p.file, 0) + 1
    rows = []
    for f in result.files:
        c = by_load.get(f.load_id)
        if f.duplicate_of:
            status = f"samma innehåll som {f.duplicate_of}: läses in en gång"
        elif f.skipped:
            status = "redan inläst (samma innehåll): ändrar ingenting"
        elif errors_in.get(f.name):
            status = f"{errors_in[f.name]} fel: läses inte in"
        elif c is not None:
            status = "kan läsas in" + (f" ({f.warnings} varningar)" if f.warnings else "")
        else:
            status = "kontrollerad"
        rows.append({"Fil": f.name, "Innehåll": kinds_text(f.kinds), "Rader": fmt_int(f.rows_read),
                     "Period": period_text(c["first_date"], c["last_date"]) if c is not None else "–",
                     "Insatser": _initiatives_text(c["initiatives"]) if c is not None else "–",
                     "Status": status})
    count = {s: sum(p.severity == s for p in result.problems) for s in (ERROR, WARNING, NOTICE)}
    return UploadPreview(
        key=key, token=pv.token, files=pd.DataFrame(rows, columns=["Fil", "Innehåll", "Rader", "Period", "Insatser",
                                                                   "Status"]),
        problems=problems_table(result.problems), errors=count[ERROR], warnings=count[WARNING],
        diff=preview_table(diff) if len(diff) else pd.DataFrame(), unchanged=unchanged,
        replaced_sample=result.replaced_sample, to_load=sum(not f.skipped for f in result.files))


def section(viewer: Viewer) -> None:
    limit = upload_limit_mb()
    st.caption(f"Excel (.xlsx) eller CSV/text, en eller flera filer, högst {limit} MB per fil. Filerna kontrolleras "
               "med samma regler som `python -m etl check`, och innan något sparas visas vad som ändras. En nyare "
               "export ersätter det den täcker (insatsens deltagare, insatsårets budget).")
    round_ = st.session_state.get(ROUND_KEY, 0)
    files = st.file_uploader(f"Exportfiler (högst {limit} MB per fil)", accept_multiple_files=True,
                             key=f"upload_files_{round_}")
    if not files:
        st.session_state.pop(PREVIEW_KEY, None)
        return
    db = db_path()
    key = (tuple((f.file_id, f.name, f.size) for f in files), history.state_token(db))
    preview = st.session_state.get(PREVIEW_KEY)
    if not isinstance(preview, UploadPreview) or preview.key != key:
        with st.spinner("Kontrollerar filerna och räknar fram vad som ändras …"):
            preview = build_preview(files, db, viewer, key)
        st.session_state[PREVIEW_KEY] = preview
    show(preview)
    st.button("Ladda in", type="primary", disabled=not preview.loadable, key="upload_load", icon=":material/upload:",
              on_click=request, args=("load", preview.key))
    if requested("load") == preview.key and preview.loadable:  # the click, for exactly the files and state shown
        load(files, db, viewer, preview)


def show(preview: UploadPreview) -> None:
    st.subheader("Filerna")
    st.dataframe(preview.files, hide_index=True, width="stretch", key="upload_files_table")
    if preview.errors:
        st.error(f"{preview.errors} fel och {preview.warnings} varningar. Ingenting kan läsas in förrän felen är "
                 "rättade i filerna; ladda sedan upp dem igen.", icon=":material/error:")
    elif preview.warnings:
        st.warning(f"Inga fel, {preview.warnings} varningar. Filerna kan läsas in; läs varningarna först.",
                   icon=":material/warning:")
    if len(preview.problems):
        st.subheader("Problem i filerna")
        st.dataframe(preview.problems, hide_index=True, width="stretch", key="upload_problems")
    if preview.errors:
        return
    if not preview.to_load:
        st.info("Filerna är redan inlästa (samma innehåll): en inläsning ändrar ingenting.")
        return
    st.subheader("Det här ändras")
    if preview.replaced_sample:
        st.warning("Databasen innehåller bara exempeldata. Den ersätts helt av en ny databas med dina filer; "
                   "exempeldatans siffror försvinner nedan.", icon=":material/science:")
    if len(preview.diff):
        st.caption("Per insats och år: deltagare, nya, avslutade, budget och utfall, före → efter. Bara de insatsår "
                   "som ändras visas" + (f"; {preview.unchanged} andra är oförändrade." if preview.unchanged else "."))
        st.dataframe(preview.diff, hide_index=True, width="stretch", key="upload_diff")
    else:
        st.info("Inläsningen ändrar inga siffror per insats och år (till exempel bara insatsregistret eller "
                "samma uppgifter igen).")


def load(files, db: Path, viewer: Viewer, preview: UploadPreview) -> None:
    """Load the uploads (from a temporary directory that is removed afterwards), then rerun with a message."""
    progress = st.progress(0, text="Sparar filerna tillfälligt …")
    with tempfile.TemporaryDirectory(prefix=TEMP_PREFIX) as tmp:
        paths = save_uploads(files, Path(tmp))
        progress.progress(25, text="Kontrollerar och läser in; den gamla databasen sparas som ögonblicksbild …")
        result = load_files(paths, db, actor=viewer.name, on_change=audit_callback(viewer), expect=preview.token)
    progress.progress(100, text="Klart")
    st.session_state.pop(PREVIEW_KEY, None)
    if result.ok and result.changed:
        names = ", ".join(f.name for f in result.files if not f.skipped)
        number = result.change.change_id if result.change else "?"
        flash("success", f"Inläst: {md(names)} (nr {number} i historiken). Alla som har Insatskollen öppen ser de nya "
                         "siffrorna vid nästa klick. Ångra under *Historik och ångra* om något blev fel.")
        for p in result.problems:
            if p.severity == WARNING and p.file == db.name:
                flash("warning", md(p.message))
        st.session_state[ROUND_KEY] = st.session_state.get(ROUND_KEY, 0) + 1
        st.rerun()
    elif result.ok:
        flash("info", "Ingenting nytt att läsa in: filerna var redan inlästa.")
        st.session_state[ROUND_KEY] = st.session_state.get(ROUND_KEY, 0) + 1
        st.rerun()
    else:
        st.error("Ingenting lästes in:", icon=":material/error:")
        st.dataframe(problems_table(result.problems), hide_index=True, width="stretch", key="upload_load_problems")
        st.caption("Förhandsvisningen görs om när sidan laddas igen.")
