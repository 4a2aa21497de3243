"""The app's connection sees a newly swapped-in database on the next query, while the old one lives."""
from __future__ import annotations

import duckdb

from etl.load import load_files
from tests.conftest import write_csv
from ui import data


def test_app_cursor_sees_new_file_after_swap(tmp_path, monkeypatch):
    db = tmp_path / "finsam.duckdb"
    monkeypatch.setenv("FINSAM_DB", str(db))
    first = tmp_path / "a.csv"
    write_csv(first, [["Insats", "År", "Kvinnor", "Män"], ["Alfa", "2021", "1", "2"]])
    assert load_files([first], db).ok
    old = data.cursor()
    assert old.execute("SELECT count(*) FROM anonymous_counts").fetchone()[0] == 1
    second = tmp_path / "b.csv"
    write_csv(second, [["Insats", "År", "Kvinnor", "Män"], ["Beta", "2021", "3", "4"]])
    assert load_files([second], db).ok
    new = data.cursor()
    assert new.execute("SELECT count(*) FROM anonymous_counts").fetchone()[0] == 2
    # the old cursor still reads its snapshot
    assert old.execute("SELECT count(*) FROM anonymous_counts").fetchone()[0] == 1
    assert isinstance(new, duckdb.DuckDBPyConnection)
