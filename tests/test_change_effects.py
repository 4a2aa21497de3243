"""Issue 23 §2: every change keeps what it did to the figures, before → after per initiative and year, with the
history entry (in the database, written in the same transaction as the data); the history on /data shows it
afterwards and the audit log's line carries it."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from auth import audit
from commands.etl_cli import audit_log
from core import effects
from core.database import connect_read, connect_write
from etl import history
from etl.load import load_files, preview_files
from metrics.changes import compare, figures, recorded
from render.changes import audit_detail, effects_text, history_table, preview_table
from tests.conftest import write_xlsx
from tests.test_etl_history import db, delta_budget, newer_alfa  # noqa: F401 - the fixture too


def figures_of(db: Path) -> pd.DataFrame:
    with connect_read(db) as con:
        return figures(con)


def recorded_of(db: Path, change_id: int) -> pd.DataFrame:
    with connect_read(db) as con:
        return recorded(con, change_id)


def same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Two before → after tables are the same rows (amounts: None for no budget line, on both sides)."""
    assert list(a.columns) == list(b.columns)
    norm = lambda df: [tuple(None if (not isinstance(v, str) and pd.isna(v)) else v for v in row)  # noqa: E731
                       for row in df.itertuples(index=False)]
    assert norm(a) == norm(b)


def test_a_first_load_keeps_every_initiative_year_from_nothing(db):
    after = figures_of(db)
    with connect_read(db) as con:
        (change,) = history.changes(con)
    assert change.effects == len(after) > 0
    rec = recorded_of(db, change.change_id)
    assert len(rec) == len(after)
    assert (rec.participants_before == 0).all() and (rec.started_before == 0).all()
    assert rec.participants_after.tolist() == after.participants.tolist()


def test_a_load_keeps_exactly_what_it_changed_and_what_the_preview_showed(db, tmp_path):
    before = figures_of(db)
    files = [newer_alfa(tmp_path / "newer.xlsx"), delta_budget(tmp_path / "budget.xlsx")]
    work = tmp_path / "work"
    work.mkdir()
    pv = preview_files(files, db, work, actor="anna")
    assert pv.after is not None
    with connect_read(pv.after) as con:
        shown = compare(before, figures(con))  # what the page's preview table is made of (ui/upload.py)
    result = load_files(files, db, actor="anna", expect=pv.token)
    assert result.ok and result.changed
    cid = result.change.change_id
    expected = compare(before, figures_of(db))
    assert len(expected) >= 2  # Alfa 2021 loses people; Alfa 2022 gains a budget
    kept = recorded_of(db, cid)
    same(kept, expected)
    same(kept, shown)
    assert result.change.effects == len(expected)
    alfa21 = kept[(kept.initiative == "Alfa") & (kept.year == 2021)].iloc[0]
    assert alfa21.participants_before != alfa21.participants_after
    alfa22 = kept[(kept.initiative == "Alfa") & (kept.year == 2022)].iloc[0]
    assert alfa22.budget_after == 123456.0 and alfa22.budget_before != 123456.0
    # the earlier change's record stays as it was
    with connect_read(db) as con:
        first = history.changes(con)[0]
    assert len(recorded_of(db, first.change_id)) == first.effects


def test_an_undo_keeps_the_reverse_of_what_the_load_did(db, tmp_path):
    load = load_files([newer_alfa(tmp_path / "newer.xlsx")], db, actor="anna")
    undone = history.undo(db, load.change.change_id, actor="bo")
    assert undone.ok, undone.message
    did, reverse = recorded_of(db, load.change.change_id), recorded_of(db, undone.change.change_id)
    # the undo restored the snapshot from before the load, whose history holds no later change: the load's own
    # record went with it, and the undo's record says what the undo did, before → after
    assert did.empty
    with connect_read(db) as con:
        kept = {c.change_id: c.effects for c in history.changes(con)}
    assert kept[undone.change.change_id] == len(reverse) > 0
    assert load.change.change_id not in kept
    swapped = load.change.effect_rows.rename(columns=lambda c: c.replace("_before", "_x").replace("_after", "_before")
                                             .replace("_x", "_after"))[list(effects.COLUMNS)]
    same(reverse, swapped.sort_values(["initiative", "year"]).reset_index(drop=True))


def test_a_change_that_alters_no_figure_says_so(db, tmp_path):
    register = write_xlsx(tmp_path / "register.xlsx",
                          {"Insatser": [["Insats", "Insatsägare", "Planerat antal deltagare"], ["Alfa", "Kommunen", 40]]})
    result = load_files([register], db, actor="anna")
    assert result.ok and result.changed, result.problems
    assert result.change.effects == 0
    assert recorded_of(db, result.change.change_id).empty
    assert effects_text(result.change.effect_rows) == "ändrade inga siffror per insats och år"


def test_a_failed_load_keeps_no_record(db, tmp_path, monkeypatch):
    before_bytes = db.read_bytes()

    def broken(con, change_id, rows):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(effects, "write", broken)
    result = load_files([newer_alfa(tmp_path / "newer.xlsx")], db, actor="anna")
    assert not result.ok and not result.changed
    assert db.read_bytes() == before_bytes
    with connect_read(db) as con:
        assert [c.change_id for c in history.changes(con)] == [1]


def test_the_history_shows_how_many_and_the_table_reads_as_the_preview(db, tmp_path):
    load = load_files([newer_alfa(tmp_path / "newer.xlsx")], db, actor="anna")
    from metrics.catalog import change_history

    with connect_read(db) as con:
        kept = history.changes(con)
        table = history_table(change_history(con), {c.change_id: None for c in kept},
                              {c.change_id: c.effects for c in kept})
    row = table[table.Nr == str(load.change.change_id)].iloc[0]
    assert row["Ändrade insatsår"] == str(load.change.effects)
    shown = preview_table(recorded_of(db, load.change.change_id))
    assert "→" in shown[shown.Insats == "Alfa"].iloc[0]["Deltagare"]


def test_the_audit_log_carries_what_the_load_changed(db, tmp_path, monkeypatch):
    path = tmp_path / "audit.sqlite"
    monkeypatch.setenv("FINSAM_AUDIT_DB", str(path))
    result = load_files([newer_alfa(tmp_path / "newer.xlsx")], db, actor="anna", on_change=audit_log(db))
    assert result.ok and result.changed
    (entry,) = audit.recent(path=path)
    rows = result.change.effect_rows
    alfa = rows[(rows.initiative == "Alfa") & (rows.year == 2021)].iloc[0]
    assert entry["event"] == audit.LOAD
    assert f"deltagare {alfa.participants_before} → {alfa.participants_after}" in entry["detail"]
    assert f"ändrade {len(rows)} insatsår (före → efter)" in entry["detail"]


def test_a_long_record_is_cut_in_the_audit_line_and_says_how_many_more():
    rows = pd.DataFrame([{"initiative": f"Insats {i}", "year": 2021, "participants_before": i, "participants_after": i + 1,
                          "started_before": 0, "started_after": 0, "exited_before": 0, "exited_after": 0,
                          "budget_before": None, "budget_after": None, "actual_before": None, "actual_after": None}
                         for i in range(400)])
    text = audit_detail("Inläsning nr 7: x.xlsx", rows)
    assert len(text) <= audit.MAX_DETAIL
    assert "ändrade 400 insatsår" in text and "insatsår till (hela tabellen i historiken" in text
    assert audit_detail("Inläsning nr 7", None).endswith("registrerades inte")


def test_a_database_from_before_the_record_still_reads(db):
    with connect_write(db) as con:
        con.execute("ALTER TABLE changes DROP COLUMN effects")
        con.execute("DROP TABLE change_effects")
    with connect_read(db) as con:
        (change,) = history.changes(con)
        assert change.effects is None
        assert recorded(con, change.change_id).empty
