"""The app's connection sees a newly swapped-in database on the next query, while the old one lives."""
from __future__ import annotations

import shutil
import time

import duckdb
import pytest

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


SLOW_SQL = "SELECT count(*) FROM range(3000000000) r WHERE hash(r.range) % 7 = 1"  # a minute or more unbounded


def test_a_query_past_the_time_limit_is_interrupted(tmp_path, monkeypatch):
    from core.database import attach_read, connect_write, timed_out

    connect_write(tmp_path / "x.duckdb").close()
    monkeypatch.setenv("FINSAM_QUERY_SECONDS", "0,05")
    cur = attach_read(tmp_path / "x.duckdb").cursor()  # a cursor, as the app reads, inherits the limit
    started = time.monotonic()
    with pytest.raises(duckdb.Error) as caught:
        cur.execute(SLOW_SQL).fetchall()
    assert timed_out(caught.value) and time.monotonic() - started < 5
    assert cur.execute("SELECT 1").fetchall() == [(1,)]  # the connection goes on answering
    monkeypatch.setenv("FINSAM_QUERY_SECONDS", "0")
    assert attach_read(tmp_path / "x.duckdb").execute("SELECT current_setting('max_execution_time')").fetchone() == (0,)
    monkeypatch.delenv("FINSAM_QUERY_SECONDS")
    assert attach_read(tmp_path / "x.duckdb").execute(
        "SELECT current_setting('max_execution_time')").fetchone() == (30_000,)  # the default, 30 s


def _slow_page():
    import streamlit as st

    from tests.test_ui_data import SLOW_SQL
    from ui.data import run

    def slow(con):
        return con.execute(SLOW_SQL).fetchall()

    st.write(run(slow))
    st.write("efter frågan")


def test_a_page_past_the_time_limit_says_so_in_swedish(tmp_path, monkeypatch, sample_db):
    from streamlit.testing.v1 import AppTest

    db = tmp_path / "finsam.duckdb"  # a path of its own: the app's cached connection is keyed on it
    shutil.copyfile(sample_db, db)
    monkeypatch.setenv("FINSAM_DB", str(db))
    monkeypatch.setenv("FINSAM_QUERY_SECONDS", "0,05")
    at = AppTest.from_function(_slow_page, default_timeout=30).run()
    assert not at.exception
    assert [e.value for e in at.error] == [data.TOO_SLOW]
    assert not any("efter frågan" in m.value for m in at.markdown)  # the page stopped there
