"""Upload on /data: the same checks as `python -m etl check`, a preview of what will change, then the load.

The uploaded files are written to a temporary directory only for as long as the check or the load
runs, and that directory is removed whatever happens. It lies in `uploads/` beside the database (the
data volume, private to the app, not /tmp) and holds a lock while in use, so a directory left by a
killed server is recognised by its free lock and swept at the next start and the next upload.

The preview builds the database the load would write (etl.load.preview_files, the loader's own
write path) in that directory and compares it with the current one through the metrics layer; the
load is then given the preview's state token, so if anyone changed the database or the mapping in
between, nothing is loaded and a new preview is shown. "Ladda in" is enabled only without errors, and
the loader checks again. A check refused for errors and a load refused or failed go into the audit log.
"""
from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import streamlit as st

from auth import audit
from auth.roles import Viewer
from core.database import connect_read, describe_os_error
from core.vocabulary import counted
from etl import history
from etl.load import load_files, preview_files
from core.problems import ERROR, NOTICE, WARNING, safe_text
from metrics import changes as change_metrics
from render.changes import kinds_text, period_text, preview_table, problems_table
from render.format import fmt_int
from render.text import md

from .data import db_path, run
from .layout import dataframe
from .history import audit_callback, audit_failure, flash, request, requested

ROUND_KEY = "_upload_round"  # a new uploader (empty) after each load
PREVIEW_KEY = "_upload_preview"
TEMP_PREFIX = "insatskollen-upload-"
UPLOAD_DIR = "uploads"  # beside the database
IN_USE = ".in-use"  # the lock a live upload directory holds
HALF_MADE_AGE = 3600  # seconds: a directory without its lock file yet is some other's, being made, before that
INITIATIVES_SHOWN = 8
MAX_NAME_BYTES = 200  # a file name's stem, in UTF-8 (a file system allows 255 bytes per name, not characters)
_swept = False


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


def _cut_bytes(text: str, limit: int) -> str:
    """At most `limit` bytes of UTF-8, cut between characters (100 emoji are 400 bytes in 100 characters)."""
    return text.encode("utf-8")[:limit].decode("utf-8", "ignore")


def safe_file_name(name: str, taken: set[str]) -> str:
    """The uploaded file's own name, as a plain file name that is unique in its directory and fits a file system."""
    base = str(name).replace("\\", "_").replace("/", "_")  # a browser sends no folders; a crafted name gets none
    base = "".join(ch for ch in base if ch.isprintable() and not 0xD800 <= ord(ch) <= 0xDFFF)
    base = base.strip().lstrip(".") or "fil"
    stem, dot, suffix = base.rpartition(".")
    if not dot or len(suffix) > 10:
        stem, suffix = base, ""
    stem = _cut_bytes(stem, MAX_NAME_BYTES).rstrip() or "fil"
    suffix = _cut_bytes(suffix, 40)
    candidate, n = f"{stem}.{suffix}" if suffix else stem, 1
    while candidate.lower() in taken:
        n += 1
        candidate = f"{stem} ({n}).{suffix}" if suffix else f"{stem} ({n})"
    taken.add(candidate.lower())
    return candidate


def upload_root() -> Path:
    return db_path().parent / UPLOAD_DIR


def sweep_leftovers(root: Path | None = None) -> list[str]:
    """Remove the upload directories no live check or load holds (left by a killed server); their names."""
    root = root or upload_root()
    removed = []
    try:
        entries = [e for e in root.iterdir() if e.name.startswith(TEMP_PREFIX) and e.is_dir() and not e.is_symlink()]
    except OSError:
        return removed
    for entry in entries:
        try:
            fd = os.open(entry / IN_USE, os.O_RDONLY)
        except FileNotFoundError:
            try:
                if time.time() - entry.stat().st_mtime < HALF_MADE_AGE:
                    continue  # being made this moment, by this server or another on the same volume
            except OSError:
                continue
            fd = None
        except OSError:
            continue
        try:
            if fd is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    continue  # in use
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry.name)
        finally:
            if fd is not None:
                os.close(fd)
    return removed


def sweep_once() -> None:
    """At the server's first run: what a killed server left in uploads/ goes (the participants' files in it)."""
    global _swept
    if not _swept:
        _swept = True
        sweep_leftovers()


@contextmanager
def upload_directory():
    """A private directory under uploads/ for one check or load, locked while in use and removed afterwards."""
    root = upload_root()
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    if root.stat().st_mode & 0o077 and root.stat().st_uid == os.getuid():
        os.chmod(root, 0o700)  # participants' files: no other local user may list or read them
    sweep_leftovers(root)
    tmp = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=root))  # 0700
    fd = os.open(tmp / IN_USE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        os.close(fd)  # the lock last: a sweep never sees this directory free while it still holds files


def no_room(exc: OSError) -> str:
    """Why the uploads could not be kept for the check or the load, in Swedish and without a server path."""
    return (f"De uppladdade filerna kan inte sparas tillfälligt i datamappen (mappen uploads bredvid databasen): "
            f"{describe_os_error(exc)}. Ingenting har ändrats.")


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
    with upload_directory() as tmp:
        paths = save_uploads(files, tmp / "filer")
        work = tmp / "arbete"
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
            status = f"samma innehåll som {safe_text(f.duplicate_of, 255)}: läses in en gång"
        elif f.skipped:
            status = "redan inläst (samma innehåll): ändrar ingenting"
        elif errors_in.get(f.name):
            status = f"{errors_in[f.name]} fel: läses inte in"
        elif c is not None:
            status = "kan läsas in" + (f" ({counted(f.warnings, 'varning', 'varningar')})" if f.warnings else "")
        else:
            status = "kontrollerad"
        rows.append({"Fil": safe_text(f.name, 255), "Innehåll": kinds_text(f.kinds), "Rader": fmt_int(f.rows_read),
                     "Period": period_text(c["first_date"], c["last_date"]) if c is not None else "–",
                     "Insatser": _initiatives_text(c["initiatives"]) if c is not None else "–",
                     "Status": status})
    count = {s: sum(p.severity == s for p in result.problems) for s in (ERROR, WARNING, NOTICE)}
    if count[ERROR]:  # issue 22: a refused upload (errors, a personnummer) is in the log, as a load would be
        audit_failure(viewer, audit.UPLOAD_REFUSED, _failure_detail([f.name for f in files], result.problems))
    return UploadPreview(
        key=key, token=pv.token, files=pd.DataFrame(rows, columns=["Fil", "Innehåll", "Rader", "Period", "Insatser",
                                                                   "Status"]),
        problems=problems_table(result.problems), errors=count[ERROR], warnings=count[WARNING],
        diff=preview_table(diff) if len(diff) else pd.DataFrame(), unchanged=unchanged,
        replaced_sample=result.replaced_sample, to_load=sum(not f.skipped for f in result.files))


def _failure_detail(names, problems) -> str:
    """'a.xlsx, b.csv: 2 fel; först: a.xlsx, blad X, rad 3, kolumn Y: …', masked like every message."""
    errors = [p for p in problems if p.severity == ERROR]
    text = f"{', '.join(names) or '–'}: {len(errors)} fel"
    if errors:
        first = errors[0]
        where = [first.file, first.sheet and f"blad {first.sheet}", first.row and f"rad {first.row}",
                 first.column and f"kolumn {first.column}"]
        text += f"; först: {', '.join(str(x) for x in where if x)}: {first.message}"
    return safe_text(text, 480)


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
            try:
                preview = build_preview(files, db, viewer, key)
            except OSError as exc:  # uploads/ beside the database cannot be written (a read-only or full volume)
                st.error(no_room(exc), icon=":material/error:")
                return
        st.session_state[PREVIEW_KEY] = preview
    show(preview)
    st.button("Ladda in", type="primary", disabled=not preview.loadable, key="upload_load", icon=":material/upload:",
              on_click=request, args=("load", preview.key))
    if requested("load") == preview.key and preview.loadable:  # the click, for exactly the files and state shown
        load(files, db, viewer, preview)


def show(preview: UploadPreview) -> None:
    st.subheader("Filerna")
    dataframe(preview.files, hide_index=True, width="stretch", key="upload_files_table")
    if preview.errors:
        st.error(f"{preview.errors} fel och {counted(preview.warnings, 'varning', 'varningar')}. "
                 "Ingenting kan läsas in förrän felen är rättade i filerna; ladda sedan upp dem igen.", icon=":material/error:")
    elif preview.warnings:
        st.warning(f"Inga fel, {counted(preview.warnings, 'varning', 'varningar')}. Filerna kan läsas in; läs varningarna först.",
                   icon=":material/warning:")
    if len(preview.problems):
        st.subheader("Problem i filerna")
        dataframe(preview.problems, hide_index=True, width="stretch", key="upload_problems")
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
        dataframe(preview.diff, hide_index=True, width="stretch", key="upload_diff")
    else:
        st.info("Inläsningen ändrar inga siffror per insats och år (till exempel bara insatsregistret eller "
                "samma uppgifter igen).")


def load(files, db: Path, viewer: Viewer, preview: UploadPreview) -> None:
    """Load the uploads (from a temporary directory that is removed afterwards), then rerun with a message."""
    progress = st.progress(0, text="Sparar filerna tillfälligt …")
    with ExitStack() as stack:
        try:
            tmp = stack.enter_context(upload_directory())
            paths = save_uploads(files, tmp / "filer")
        except OSError as exc:  # uploads/ beside the database cannot be written: said, logged, nothing changed
            names = ", ".join(f.name for f in files)
            audit_failure(viewer, audit.LOAD_FAILED, safe_text(f"{names}: {no_room(exc)}", 480))
            st.error(no_room(exc), icon=":material/error:")
            return
        progress.progress(25, text="Kontrollerar och läser in; den gamla databasen sparas som ögonblicksbild …")
        try:
            result = load_files(paths, db, actor=viewer.name, on_change=audit_callback(viewer), expect=preview.token)
        except Exception as exc:  # a bug: logged as a failed load, then shown as Streamlit shows any
            audit_failure(viewer, audit.LOAD_FAILED, safe_text(f"{', '.join(p.name for p in paths)}: ett oväntat fel "
                                                               f"av typen {type(exc).__name__}", 480))
            raise
    if not result.ok:  # refused by the preview's token, or by the loader's own check: who tried, what and why
        audit_failure(viewer, audit.LOAD_FAILED, _failure_detail([f.name for f in files], result.problems))
    progress.progress(100, text="Klart")
    st.session_state.pop(PREVIEW_KEY, None)
    if result.ok and result.changed:
        names = ", ".join(safe_text(f.name, 255) for f in result.files if not f.skipped)  # as history and audit
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
        dataframe(problems_table(result.problems), hide_index=True, width="stretch", key="upload_load_problems")
        st.caption("Förhandsvisningen görs om när sidan laddas igen.")
