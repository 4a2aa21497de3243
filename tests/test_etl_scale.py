"""Issue 12: a national export is read column-wise, with exactly the checks and messages of a small one.

A large CSV is read by Arrow (etl.read) and every column is checked once per distinct value
(etl.columns, etl.normalise). These tests hold that to the Python reading and the per-cell checks:
the same rows, problems and records whichever way a file is read; faults far down a large file
named as in a small one; a column full of faults listed in part and counted; and the one-query
report equal to the report built figure by figure from the metrics functions.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.database import connect_read
from core.vocabulary import SEXES, UNKNOWN_REASON
from etl import read
from etl.load import check_files, load_files
from etl.normalise import SHOWN_PER_COLUMN
from metrics.cost import cost_by_initiative_year
from metrics.facts import counts
from metrics.filters import Filters
from metrics.people import exits_by_reason
from metrics.report import build_report
from tests.conftest import write_xlsx

HEADER = ["Förbund", "Deltagar-ID", "Insats", "Kön", "Födelseår", "Startdatum", "Slutdatum", "Avslutsorsak",
          "Remittent", "Samtycke"]


def person(i: int, **change) -> list[str]:
    start = dt.date(2020, 1, 1) + dt.timedelta(days=i % 700)
    row = {"Förbund": f"Förbund {i % 3}", "Deltagar-ID": f"P-{i:05d}", "Insats": f"Insats {i % 7}",
           "Kön": ["Kvinna", "Man", "Annat", ""][i % 4], "Födelseår": str(1960 + i % 40),
           "Startdatum": start.isoformat(), "Slutdatum": (start + dt.timedelta(days=90)).isoformat() if i % 3 else "",
           "Avslutsorsak": str(i % 6 + 1) if i % 3 else "", "Remittent": ["Försäkringskassan", "Af Eskilstuna",
                                                                          "Vårdcentralen Norr", ""][i % 4],
           "Samtycke": "Nej" if i % 10 == 0 else "Ja"} | change
    return [row[h] for h in HEADER]


def csv_bytes(rows: list[list[str]], delimiter: str = ";", encoding: str = "utf-8-sig") -> bytes:
    buf = io.StringIO(newline="")
    csv.writer(buf, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buf.getvalue().encode(encoding)


def outcome(path: Path) -> tuple[list[str], list[list[dict]]]:
    result = check_files([path])
    return [str(p) for p in result.problems], [t.records for f in result.files for t in f.tables]


def read_by_python(monkeypatch, path: Path):
    """What check_files gives when Python's csv module reads the whole file (as for any small file)."""
    with monkeypatch.context() as m:
        m.setattr(read, "HEAD_RECORDS", 10**9)
        assert read.read_file(path)[0].columns is None
        return outcome(path)


# ---------------------------------------------------------------- reading


def _blank_as_none(rows: list[list]) -> list[list]:
    """An empty line is [] to Python and a row of empty fields to Arrow: blank either way."""
    return [[] if all(c in ("", None) for c in row) else row for row in rows]


CELLS = st.sampled_from(["a", "b", "Åsa", "", " ", "\"", "\"\"", ";", ",", "\r", "\n", "\r\n", "x\"y", "\"q\"", "é",
                         "\u00a0", "\x00", "\ufeff", "1,5", "  z  "])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(tail=st.lists(st.lists(CELLS, min_size=0, max_size=5).map("".join), min_size=1, max_size=40),
       delimiter=st.sampled_from([";", ",", "\t"]), newline=st.sampled_from(["\r\n", "\n", "\r"]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]))
def test_arrow_reads_what_python_reads(tail, delimiter, newline, encoding):
    head = newline.join(delimiter.join(["Insats", "År", "Kvinnor", "Män"] if i == 0 else ["Noll", str(i), "1", "2"])
                        for i in range(read.HEAD_RECORDS + 5))
    text = head + newline + newline.join(tail)
    data = text.encode(encoding, errors="replace") if encoding != "utf-8-sig" else text.encode(encoding)
    python_refused = None
    try:
        [by_python] = read._read_rows(read.decode_text(data), "x.csv", read.sniff_delimiter(read.decode_text(data)))[:1]
    except read.FileRefused as exc:
        by_python, python_refused = None, exc.message
    # as any file, and as a large UTF-8 one: the first rows decoded on their own, Arrow checking the rest
    for prefix in (read.PREFIX_BYTES, len(head) + 100):
        with pytest.MonkeyPatch.context() as m:
            m.setattr(read, "PREFIX_BYTES", prefix)
            try:
                [table] = read.read_text(data, "x.csv")
            except read.FileRefused as exc:
                table, refused = None, exc.message
        if by_python is None or table is None:
            assert by_python is None and table is None
            assert refused == python_refused
            continue
        assert table.problems == by_python.problems
        assert _blank_as_none(table.head(table.n_rows)) == _blank_as_none(by_python.rows)


def test_a_large_plain_csv_is_read_by_arrow(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes(csv_bytes([HEADER, *(person(i) for i in range(1, 400))]))
    [table] = read.read_file(path)
    assert table.columns is not None and table.n_rows == 400
    assert table.head(2) == [HEADER, person(1)]


@pytest.mark.parametrize("tail, by_arrow", [
    (b"Summa;399\r\n", True),  # a row of another width: Python reads it, Arrow the rest
    (b'"P-9\r\nP-10";Insats 1;Kvinna;1970;2021-01-01;;;;;Ja\r\n', True),  # a line break inside quotes
    (b'"P-9;Alfa\r\nP-10";Insats 1;Kvinna;1970;2021-01-01;;;;;Ja\r\n', False),  # … with the delimiter: a quote
    #                                                                        that may swallow rows, named by Python
    (b'"P-9;Insats 1;Kvinna;1970;2021-01-01;;;;;Ja\r\n', False),  # a quote never closed
    (b"".join(b"Summa;%d\r\n" % i for i in range(1001)), False),  # more rows of another width than Arrow hands back
])
def test_what_arrow_might_read_otherwise_is_read_by_python(tmp_path, monkeypatch, tail, by_arrow):
    path = tmp_path / "d.csv"
    path.write_bytes(csv_bytes([HEADER, *(person(i) for i in range(1, 400))], encoding="utf-8") + tail)
    assert (read.read_file(path)[0].columns is not None) == by_arrow
    assert outcome(path) == read_by_python(monkeypatch, path)


@pytest.mark.parametrize("tail, encoding, words", [
    ("Förbund X;P-1;Insats 1;Kvinna;1980;2021-01-01;;;;Ja\r\n", "cp1252",
     "filen är sparad som UTF-8, men rad 402 innehåller ett tecken som inte är giltig UTF-8 (byte 0xF6"),
    ("Förbund X;P-1;Insats 1;Kvinna;1980;2021-01-01;;;;Ja\r\n", "utf-8", None),
])
def test_a_large_file_is_utf8_only_if_all_of_it_is(tmp_path, monkeypatch, tail, encoding, words):
    """The first rows alone are decoded in Python; a Windows-1252 byte further down is still found, and named."""
    monkeypatch.setattr(read, "PREFIX_BYTES", 20_000)  # 200 rows and a few more; the file is 30 kB
    path = tmp_path / "d.csv"
    path.write_bytes(csv_bytes([HEADER, *(person(i) for i in range(1, 401))], encoding="utf-8")
                     + tail.encode(encoding))
    if words:
        [problem] = check_files([path]).problems
        assert (problem.row, problem.message[:len(words)]) == (402, words)
    else:
        assert read._read_large_utf8(path.read_bytes(), "d.csv") is not None  # without decoding the whole file
        assert check_files([path]).ok
    # a file all in Windows-1252 whose first rows are plain ASCII is read as Windows-1252
    path.write_bytes(csv_bytes([HEADER, *(person(i, Förbund="F") for i in range(1, 401))], encoding="cp1252")
                     + "Förbund X;P-1;Insats 1;Kvinna;1980;2021-01-01;;;;Ja\r\n".encode("cp1252"))
    result = check_files([path])
    assert result.ok and result.files[0].tables[0].records[-1]["association"] == "Förbund X"


# ---------------------------------------------------------------- the same checks, far down a large file


def test_faults_far_down_a_large_csv_are_named_as_in_a_small_one(tmp_path, monkeypatch):
    rows = [HEADER, *(person(i) for i in range(1, 1500))]
    rows[900] = person(900, **{"Deltagar-ID": "19850101-1234"})  # a personnummer as id
    rows[950] = person(950, Remittent="Ring 850101-1234")  # … and in a referrer
    rows[1000] = person(1000, Insats="Alfa\x1b[31m")  # a control character
    rows[1100] = person(1100, Startdatum="2021-02-30")  # no such date
    rows[1200] = person(1200, Slutdatum="", Avslutsorsak="2")  # an exit reason without an end
    rows[1300] = person(10)  # the same enrollment as row 11
    rows[1350] = person(1350, Kön="Kanske")
    rows[1400] = ["Summa", "", "", "", "", "", "", "", "", ""]  # a summary row inside the table
    rows[1451] = person(1451, Remittent="Frivilligcentralen")  # matches no agency: a warning
    path = tmp_path / "stor.csv"
    path.write_bytes(csv_bytes(rows))
    assert read.read_file(path)[0].columns is not None  # read by Arrow
    problems, records = outcome(path)
    assert (problems, records) == read_by_python(monkeypatch, path)
    assert [p for p in problems if p.startswith("FEL")] == [
        # the rows first, then each column's cells, then the rules over rows
        "FEL: stor.csv, –, rad 1401, –, \"Summa\": raden ser ut som en summeringsrad men står mitt i tabellen, så "
        "det går inte att veta om den är en delsumma (som skulle räknas dubbelt) eller data. Ta bort raden, eller "
        "flytta summeringen under tabellen",
        "FEL: stor.csv, –, rad 901, Deltagar-ID, \"(visas inte)\": id:t ser ut som ett personnummer; "
        "personuppgifter får inte föras in i databasen, så filen avvisas. Använd ett pseudonymt löpnummer",
        "FEL: stor.csv, –, rad 951, Remittent, \"(visas inte)\": cellen innehåller något som ser ut som ett "
        "personnummer eller samordningsnummer; personuppgifter får inte föras in i databasen, så filen avvisas. Ta "
        "bort numret ur cellen (även ett telefonnummer eller annat nummer som har samma form)",
        "FEL: stor.csv, –, rad 1001, Insats, \"Alfa␛[31m\": cellen innehåller osynliga styrtecken (till exempel ␀ "
        "eller ␛), som inte får lagras; de kommer ofta från en trasig export eller ett annat program. Skriv om cellen",
        "FEL: stor.csv, –, rad 1101, Startdatum, \"2021-02-30\": datumet finns inte i kalendern",
        "FEL: stor.csv, –, rad 1351, Kön, \"Kanske\": okänt värde för kön; använd Kvinna, Man, Annat eller lämna "
        "tomt",
        "FEL: stor.csv, –, rad 1201, Avslutsorsak, \"2\": avslutsorsak utan slutdatum; fyll i slutdatum, eller ta "
        "bort avslutsorsaken om deltagaren fortfarande är inskriven",
        "FEL: stor.csv, –, rad 1301, Deltagar-ID, \"P-00010\": samma deltagare, insats och startdatum finns redan "
        "på rad 11",
    ]
    assert ("VARNING: stor.csv, –, rad 1452, Remittent, \"Frivilligcentralen\": remittenten matchar ingen myndighet i "
            "data/referrers.csv och räknas som Annan (1 rad); lägg till den i mappningen") in problems


def test_a_large_clean_csv_loads_the_same_rows_as_python_reads(tmp_path, monkeypatch):
    rows = [["Export 2021-12-31"], [], HEADER, *(person(i) for i in range(1, 800))]
    path = tmp_path / "stor.csv"
    path.write_bytes(csv_bytes(rows, encoding="cp1252"))
    [table] = read.read_file(path)  # read column-wise (the large-file path), every line and field of it
    assert table.rows is None and table.n_rows == len(rows)
    assert [column[2].as_py() for column in table.columns] == HEADER
    problems, records = outcome(path)
    assert (problems, records) == read_by_python(monkeypatch, path)
    assert records[0][0]["_row"] == 4 and len(records[0]) == 799
    result = load_files([path], tmp_path / "f.duckdb")
    assert result.ok and result.files[0].rows_loaded == 799
    with connect_read(tmp_path / "f.duckdb") as con:
        assert con.execute("SELECT count(*), count(participant_id), count(DISTINCT initiative), "
                           "count(DISTINCT association) FROM enrollments").fetchall() == [(799, 720, 7, 3)]
        # no consent (every tenth, 79 of 799): no id, referrer or exit reason is stored
        assert con.execute("SELECT count(*) FROM enrollments WHERE NOT consent AND (participant_id IS NOT NULL "
                           "OR referrer_unit IS NOT NULL OR exit_reason IS NOT NULL)").fetchall() == [(0,)]


# ---------------------------------------------------------------- a column full of faults


def test_a_column_full_of_faults_lists_the_first_and_counts_the_rest(tmp_path):
    bad = 250
    rows = [HEADER, *(person(i, Startdatum=f"x{i}") for i in range(1, bad + 1)),
            *(person(i) for i in range(bad + 1, 400))]
    path = tmp_path / "d.csv"
    path.write_bytes(csv_bytes(rows))
    result = check_files([path])
    dates = [p for p in result.problems if p.column == "Startdatum" and "tolka" in p.message]
    assert len(dates) == SHOWN_PER_COLUMN == 100
    assert [p.row for p in dates] == list(range(2, 102))
    [rest] = [p for p in result.problems if p.message.startswith("ytterligare")]
    assert (rest.row, rest.column, rest.value, rest.message) == (
        102, "Startdatum", None, "ytterligare 150 rader har fel i kolumnen (de första 100 visas ovan)")
    # the rows whose date was refused are not also missing a required value: they are refused once
    assert not [p for p in result.problems if "värde saknas" in p.message]


def test_a_rule_broken_by_many_rows_lists_the_first_and_counts_the_rest(tmp_path):
    rows = [HEADER, *(person(i, Slutdatum="", Avslutsorsak="1") for i in range(1, 131))]
    path = write_xlsx(tmp_path / "d.xlsx", {"D": rows})
    result = check_files([path])
    found = [p for p in result.problems if p.column == "Avslutsorsak"]
    assert len(found) == 101
    assert found[-1].row == 102 and found[-1].message.startswith(
        "ytterligare 30 rader har samma fel, till exempel den här: avslutsorsak utan slutdatum")


# ---------------------------------------------------------------- the report


def report_figure_by_figure(con, year: int) -> dict:
    """The report as metrics/report.py built it before issue 12: a metrics query per figure."""
    keys = ["total", *SEXES]

    def split(row) -> dict:
        return {k: int(row[k]) for k in keys}

    def by(df, key) -> dict:
        return {str(r[key]): split(r) for _, r in df.iterrows()}

    def reasons(df) -> dict:
        return {str(r.reason): split(r) for _, r in df.iterrows() if r.total > 0}

    def money(x):
        return None if x is None or x != x else round(float(x), 2)

    f = Filters.year(year)
    out = {"year": year, "participants": split(counts(con, f, "participants").iloc[0]),
           "started": split(counts(con, f, "started").iloc[0]),
           "exited": split(counts(con, f, "exited").iloc[0]) | {"by_reason": reasons(exits_by_reason(con, f))},
           "no_consent": int(counts(con, f, "no_consent").total.iloc[0])}
    per = {m: by(counts(con, f, m, ("initiative",)), "initiative") for m in ("participants", "started", "exited")}
    no_consent = by(counts(con, f, "no_consent", ("initiative",)), "initiative")
    by_reason = exits_by_reason(con, f, ("initiative",))
    referrers = counts(con, f, "started", ("initiative", "agency"))
    cost = cost_by_initiative_year(con, f).set_index("initiative")
    zero = {k: 0 for k in keys}
    out["initiatives"] = {
        name: {
            "participants": per["participants"].get(name, zero), "started": per["started"].get(name, zero),
            "exited": per["exited"].get(name, zero) | {"by_reason": reasons(by_reason[by_reason.initiative == name])},
            "no_consent": no_consent.get(name, {"total": 0})["total"],
            "referrers": by(referrers[referrers.initiative == name], "agency"),
            "cost": {k: money(cost.loc[name][k]) if name in cost.index else None
                     for k in ("budget", "actual", "per_participant")},
        }
        for name in sorted(set(per["participants"]) | set(cost.index))
    }
    return out


def test_the_one_query_report_equals_the_report_figure_by_figure(tmp_path):
    rnd = random.Random(7)
    rows = [HEADER, *(person(i, Insats=f"Insats {rnd.randrange(25)}", Slutdatum="", Avslutsorsak="") if i % 11 == 0 else
                      person(i, Insats=f"Insats {rnd.randrange(25)}") for i in range(1, 900))]
    budget = [["Insats", "År", "Kostnadsslag", "Budget", "Utfall"],
              *([f"Insats {k}", str(y), "Personal", str(1000 * (k + 1)), str(900 * k) if k % 3 else ""]
                for k in range(0, 30, 2) for y in (2020, 2021))]
    anonymous = [["Insats", "År", "Kvinnor", "Män", "Annat/Okänt"], ["Insats 3", "2021", "2", "1", "0"],
                 ["Insats 99", "2020", "0", "1", "1"]]
    files = [tmp_path / "d.csv", tmp_path / "b.csv", tmp_path / "a.csv"]
    for path, table in zip(files, (rows, budget, anonymous)):
        path.write_bytes(csv_bytes(table))
    assert load_files(files, tmp_path / "f.duckdb").ok
    with connect_read(tmp_path / "f.duckdb") as con:
        for year in (2019, 2020, 2021, 2022):
            assert build_report(con, year) == report_figure_by_figure(con, year), year
        assert len(build_report(con, 2021)["initiatives"]) > 20
        assert UNKNOWN_REASON in build_report(con, 2021)["exited"]["by_reason"]
