"""The protection decisions the loader stores (metrics.decisions, core.derived): the same as a reader's own,
used only for exactly the data they were made on, renewed by every change, and never needed."""
from __future__ import annotations

import pytest

import metrics.suppress as S
from core.database import connect_read, connect_write
from etl import history
from etl.load import load_files, preview_files
from metrics import ahead, decisions
from tests.conftest import DECISIONS, write_small_association


def _rows(db):
    with connect_read(db) as con:
        return con.execute("SELECT year, associations, threshold, engine FROM protection_decisions "
                           "ORDER BY year").fetchall()


def _same(a: S.Protection, b: S.Protection) -> bool:
    return (a.status == b.status and a.published == b.published and a.withdrawn == b.withdrawn
            and a.withdrawn_cells == b.withdrawn_cells and a.shorter == b.shorter and a.values == b.values)


@pytest.fixture(autouse=True)
def _nothing_remembered():
    """Each test here starts with a process that has decided nothing yet (S._DECIDED): what it checks is the store
    and the solver, not the memory of an earlier test."""
    S._DECIDED.clear()
    yield
    S._DECIDED.clear()


def test_a_process_decides_the_same_cells_once(small_db, tmp_path, monkeypatch):
    """The board pack and the export ask for the year several times: the second ask is answered from memory, but
    only for the same cells — a changed count is decided anew."""
    with connect_read(small_db) as con:
        year = max(S.catalog.years(con))
        first = S.protect_year(con, year)

        def no_solving(self, threshold):
            raise AssertionError("solved again")
        with monkeypatch.context() as m:
            m.setattr(S._Grid, "decide", no_solving)
            assert S.protect_year(con, year) is first
            with pytest.raises(AssertionError, match="solved again"):  # another threshold is other cells' decision
                S.protect_year(con, year, threshold=S.DEFAULT_THRESHOLD + 1)
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(small_db.read_bytes())
    with connect_write(copy) as con:
        con.execute("DELETE FROM enrollments WHERE rowid = (SELECT min(rowid) FROM enrollments "
                    "WHERE year(start_date) = ?)", [year])
    monkeypatch.setattr(S._Grid, "decide", no_solving)
    with connect_read(copy) as con, pytest.raises(AssertionError, match="solved again"):
        S.protect_year(con, year)


@pytest.fixture(scope="module")
def decided(tmp_path_factory):
    """The small association loaded with protection decided at load (read it only; copy it to change it)."""
    d = tmp_path_factory.mktemp("decided")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FINSAM_PROTECT_SECONDS", "60")
        result = load_files(write_small_association(d / "files"), d / "db.duckdb")
    assert result.ok, result.problems
    return d / "db.duckdb"


def test_a_load_decides_every_year_and_the_reader_reads_what_it_would_compute(decided, monkeypatch):
    with connect_read(decided) as con:
        years = S.catalog.years(con)
        assert [y for y, *_ in _rows(decided)] == sorted(years)
        assert {(a, t, e) for _, a, t, e in _rows(decided)} == {("[]", S.DEFAULT_THRESHOLD, decisions.ENGINE)}
        live = {}
        for year in years:
            grid = S.year_grid(con, year)
            live[year] = grid.protection(grid.decide(S.DEFAULT_THRESHOLD), S.DEFAULT_THRESHOLD)

        def no_solving(self, threshold):
            raise AssertionError("solved although the load stored the decision")
        monkeypatch.setattr(S._Grid, "decide", no_solving)
        for year in years:
            stored = S.protect_year(con, year)
            assert _same(stored, live[year]), year
            assert stored.shorter == live[year].shorter, year
            if live[year].shorter:  # a year whose shorter periods cannot be protected shows the year alone
                assert stored.view("T2").cell("started", {}, "total") == live[year].view("T2").cell("started", {},
                                                                                                  "total")
        # another threshold was not decided ahead: the reader solves it
        with pytest.raises(AssertionError, match="solved"):
            S.protect_year(con, years[0], threshold=S.DEFAULT_THRESHOLD + 1)


def test_a_decision_is_used_only_for_the_cells_it_was_made_on(decided, tmp_path):
    """A stored row whose digest or engine is another's (other data, another version of the engine) is not read."""
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(decided.read_bytes())
    with connect_write(copy) as con:
        year = con.execute("SELECT max(year) FROM protection_decisions").fetchone()[0]
        # a decision that hides nothing, stored under this data's digest but by another engine, and one under
        # this engine for other cells: neither may be read
        grid = S.year_grid(con, year)
        empty = decisions.encode({}, set(), set(), grid.published, True)
        con.execute("DELETE FROM protection_decisions")
        insert = ("INSERT INTO protection_decisions (year, associations, threshold, engine, digest, decision) "
                  "VALUES (?, '[]', ?, ?, ?, ?)")
        con.execute(insert, [year, S.DEFAULT_THRESHOLD, "another-engine", grid.digest(), empty])
        con.execute(insert, [year, S.DEFAULT_THRESHOLD, decisions.ENGINE, "other-cells", empty])
    with connect_read(copy) as con:
        p = S.protect_year(con, year)
        assert p.status, "a decision that hides nothing was read instead of solved"
    with connect_read(decided) as con:
        assert _same(p, S.protect_year(con, year))


def test_a_first_visit_reads_the_stored_cells_and_only_on_the_data_they_were_counted_from(decided, tmp_path,
                                                                                         monkeypatch):
    """The loader stores each year's cells beside its decision: a reader on the same data builds the same protection
    from them without counting the year (issue 21: a first visit under 3 s); on any other data it counts."""
    with connect_read(decided) as con:
        years = S.catalog.years(con)
        live = {}
        for year in years:
            grid = S.year_grid(con, year)
            live[year] = grid.protection(decisions.decode(decisions.stored(con, year, (), S.DEFAULT_THRESHOLD,
                                                                           grid.digest())), S.DEFAULT_THRESHOLD)
        S._DECIDED.clear()

        def no_counting(*a, **k):
            raise AssertionError("counted the year's cells although the load stored them")
        with monkeypatch.context() as m:
            m.setattr(S, "_grid", no_counting)
            for year in years:
                stored = S.protect_year(con, year)
                assert _same(stored, live[year]) and stored.relations == live[year].relations \
                    and stored.dim_sets == live[year].dim_sets and stored.ctx == live[year].ctx, year
                for span in ("Y", "T2") if stored.shorter else ("Y",):
                    assert stored.view(span).cell("exited", {}, "women") == live[year].view(span).cell(
                        "exited", {}, "women"), (year, span)
    # one enrollment changed outside the loader (as an older loader, which knows no derived tables, would): the
    # stored cells are not of this data, so the reader counts the year and decides it for itself
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(decided.read_bytes())
    year = max(years)
    with connect_write(copy) as con:
        con.execute("UPDATE enrollments SET end_date = NULL, exit_reason = NULL WHERE rowid = (SELECT min(rowid) "
                    "FROM enrollments WHERE year(end_date) = ?)", [year])
    S._DECIDED.clear()
    counted = []
    plain = S._grid
    monkeypatch.setattr(S, "_grid", lambda *a: counted.append(a[1]) or plain(*a))
    with connect_read(copy) as con:
        assert S.protect_year(con, year).values != live[year].values
    assert counted == years  # the year, and each year before it that it is decided beside (suppress._given)


def test_every_change_renews_the_decisions_and_a_preview_derives_none(decided, tmp_path, monkeypatch):
    monkeypatch.setenv("FINSAM_PROTECT_SECONDS", "60")
    db = tmp_path / "db.duckdb"
    db.write_bytes(decided.read_bytes())
    decided = db
    before = {y: d for y, d in _decisions(decided)}
    # a load that changes one participant's exit: the decision of its year is made on the new data
    from tests.conftest import write_small_association_one_2021_exit_undone
    files = write_small_association_one_2021_exit_undone(tmp_path / "files2")
    (tmp_path / "work").mkdir()
    preview = preview_files([files[1]], decided, tmp_path / "work")
    assert preview.after is not None, preview.result.problems
    with connect_read(preview.after) as con:
        assert not con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'protection_decisions'"
                               ).fetchone()[0]
    solved = []
    plain = S._Grid.decide
    monkeypatch.setattr(S._Grid, "decide", lambda self, t: solved.append(self.year) or plain(self, t))
    result = load_files([files[1]], decided)
    assert result.ok and result.changed, result.problems
    # the years before the change keep what they had (decisions.kept); 2021 and each year after it, decided beside
    # it, are decided again
    assert solved == [y for y in sorted(before) if y >= 2021], solved
    with connect_read(decided) as con:  # the old rows were read while deriving, and are not kept in the new file
        assert [t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
                if t.startswith("previous_")] == []
    after = dict(_decisions(decided))
    assert set(after) == set(before)
    assert any(after[y] != before[y] for y in after)
    assert after[2021] != before[2021]
    with connect_read(decided) as con:  # the changed year's stored decision is the one of its new data
        grid = S.year_grid(con, 2021)
        assert _same(S.protect_year(con, 2021), grid.protection(grid.decide(5), 5))
    # undo: the restored data's decisions are back
    solved.clear()
    undone = history.undo(decided, None, actor="test")
    assert undone.ok, undone.message
    assert dict(_decisions(decided)) == before
    assert solved == []  # the restored copy's own decisions are of its data: none is solved again


def _decisions(db):
    with connect_read(db) as con:
        return con.execute("SELECT year, digest || decision FROM protection_decisions").fetchall()


def test_nothing_decided_ahead_or_a_failure_deciding_leaves_the_load_whole(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("FINSAM_PROTECT_SECONDS", "0")
    files = write_small_association(tmp_path / "files")
    result = load_files(files, tmp_path / "none.duckdb")
    assert result.ok and _rows(tmp_path / "none.duckdb") == []

    monkeypatch.setenv("FINSAM_PROTECT_SECONDS", "60")

    def broken(*args, **kwargs):
        raise RuntimeError("a bug in deciding ahead")
    monkeypatch.setattr(ahead, "_grid", broken)
    with caplog.at_level("ERROR", logger="metrics.ahead"):
        result = load_files(files, tmp_path / "broken.duckdb")
    assert result.ok and result.changed and _rows(tmp_path / "broken.duckdb") == []
    # the load goes on, but the server's log tells the fault (it was swallowed in silence before)
    assert "could not be decided ahead" in caplog.text and "a bug in deciding ahead" in caplog.text
    monkeypatch.undo()
    with connect_read(tmp_path / "broken.duckdb") as con, connect_read(tmp_path / "none.duckdb") as other:
        year = S.catalog.years(con)[0]
        assert _same(S.protect_year(con, year), S.protect_year(other, year))


@pytest.mark.parametrize("raw, seconds", [("", 120.0), ("0", 0.0), ("2,5", 2.5), ("-3", 0.0), ("många", 120.0)])
def test_the_time_a_load_may_spend_deciding_ahead(raw, seconds, monkeypatch):
    monkeypatch.setenv("FINSAM_PROTECT_SECONDS", raw)
    assert ahead.precompute_seconds() == seconds


def test_several_associations_are_decided_one_by_one(tmp_path, monkeypatch):
    """Each association on its own (the whole of several is never protected); the derivation as a load runs it,
    the associations side by side in two processes — the same decisions as one after the other in this one."""
    monkeypatch.setenv("FINSAM_PROTECT_SECONDS", "120")
    from tests.test_associations_filter import rows as four_rows, write_db
    db = write_db(tmp_path / "four.duckdb", four_rows())
    alone = tmp_path / "alone.duckdb"
    alone.write_bytes(db.read_bytes())
    monkeypatch.setattr(ahead, "_workers", lambda n: 2)
    with connect_write(db) as con:
        ahead.precompute(con)
    monkeypatch.setattr(ahead, "_workers", lambda n: 1)
    with connect_write(alone) as con:
        ahead.precompute(con)

    def stored(path):  # the cells as a set (DuckDB counts them in no fixed order): what a reader reads back
        with connect_read(path) as con:
            found = con.execute("SELECT year, associations, digest, decision, grid FROM protection_decisions "
                                "ORDER BY year, associations").fetchall()
        cells = [decisions.decode_grid(row[4]) for row in found]
        return [(*row[:4], values, sorted(relations)) for row, (values, relations, *_) in zip(found, cells)]
    assert stored(db) == stored(alone)
    rows = _rows(db)
    with connect_read(db) as con:
        names = S.catalog.associations(con)
        assert len(names) == 4
        assert {a for _, a, _, _ in rows} == {decisions._assoc((n,)) for n in names}
        assert len(rows) == 4 * len(S.catalog.years(con))
        year = max(y for y, *_ in rows)
        for n in names:
            grid = S.year_grid(con, year, (n,))
            assert _same(S.protect_year(con, year, (n,)), grid.protection(grid.decide(5), 5))


FINGERPRINT_SCRIPT = """
import sys
from core.database import connect_read
import metrics.suppress as S
from metrics import ahead, decisions
with connect_read(sys.argv[1]) as con:
    print(decisions.fingerprint(5, S.year_grid(con, int(sys.argv[2]), threshold=5)))
"""


def test_a_decision_kept_in_a_folder_is_read_back_only_for_the_same_grid(small_db, tmp_path, monkeypatch):
    """`$FINSAM_DECISION_CACHE` (the tests' tests/decisions/): a decision is read back for a grid with the same
    fingerprint — every cell, value, relation and mark, the year before's part, the threshold, the engine — and
    decided anew for any other, for a torn file, or where the setting names no folder; the fingerprint is the
    same in a process with another hash seed (else the folder would only grow)."""
    import os
    import subprocess
    import sys
    from dataclasses import replace
    from pathlib import Path

    folder = tmp_path / "kept"
    with connect_read(small_db) as con:
        year = max(S.catalog.years(con))
        grid = S.year_grid(con, year, threshold=5)
    monkeypatch.setenv("FINSAM_DECISION_CACHE", str(folder))
    first = grid.decide(5)  # solved (the one solve here; after it `_decide` only says it was asked)
    key = decisions.fingerprint(5, grid)
    kept = folder / f"{decisions.ENGINE}-{key[:32]}.json.gz"
    assert kept.is_file() and decisions.encode(*decisions.cached(key)) == decisions.encode(*first)

    calls: list[int] = []
    monkeypatch.setattr(S._Grid, "_decide", lambda self, t: calls.append(t) or first)
    assert decisions.encode(*grid.decide(5)) == decisions.encode(*first) and calls == []
    grid.decide(6)  # another threshold
    cell = next(k for k, v in grid.values.items() if v > 0)
    changed = replace(grid, values={**grid.values, cell: grid.values[cell] + 1})  # one count more
    assert decisions.fingerprint(5, changed) != key
    relations = replace(grid, relations=grid.relations[:-1])  # one relation less
    assert decisions.fingerprint(5, relations) != key
    fewer = replace(grid, published=set(grid.published) - {cell})  # one cell less shown
    assert decisions.fingerprint(5, fewer) != key
    fewer.decide(5)
    assert calls == [6, 5]

    import gzip
    whole = kept.read_bytes()
    for bad in (whole[:20], gzip.compress(b"not json"), gzip.compress(b'{"status": 1}'), gzip.compress(b"\xff\xfe")):
        kept.write_bytes(bad)  # torn, or not a decision: decided again, and kept whole again
        assert decisions.cached(key) is None
        assert decisions.encode(*grid.decide(5)) == decisions.encode(*first) and calls[-1] == 5
        assert decisions.encode(*decisions.cached(key)) == decisions.encode(*first)
    assert calls == [6, 5, 5, 5, 5, 5]

    other = folder / ("0" * 16 + "-" + key[:32] + ".json.gz")  # kept by another engine
    other.write_bytes(kept.read_bytes())
    assert decisions.stale(folder) == [other]

    monkeypatch.delenv("FINSAM_DECISION_CACHE")
    before = sorted(folder.iterdir())
    grid.decide(5)
    assert calls == [6, 5, 5, 5, 5, 5, 5] and sorted(folder.iterdir()) == before  # no folder: decided, nothing kept

    root = Path(__file__).resolve().parents[1]
    r = subprocess.run([sys.executable, "-c", FINGERPRINT_SCRIPT, str(small_db), str(year)], cwd=root, text=True,
                       capture_output=True, env=os.environ | {"PYTHONHASHSEED": "7", "PYTHONPATH": str(root),
                                                             "FINSAM_DECISION_CACHE": str(DECISIONS)}, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip() == key


def test_a_year_that_fails_in_another_process_ends_the_deciding_ahead_and_its_processes(monkeypatch):
    """metrics.ahead's processes: a year that fails there is raised here with the other process's traceback (the
    load logs it and loads; test_nothing_decided_ahead_… shows that), and none of the processes is left."""
    import subprocess

    started = []

    class Popen(subprocess.Popen):
        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            started.append(self)
    monkeypatch.setattr(subprocess, "Popen", Popen)

    class Chains:
        sent = 0

        def next(self):
            if self.sent == 2:
                return None
            self.sent += 1
            return ahead.Step(0, self.sent, (None, None, 5, {}))  # no grid: fails in `_ahead`

        def done(self, step, result):
            raise AssertionError("a failed year was taken as decided")

    with pytest.raises(RuntimeError, match="AttributeError"):
        ahead.in_parallel(Chains(), 2)
    assert len(started) == 2 and all(proc.poll() is not None for proc in started)
