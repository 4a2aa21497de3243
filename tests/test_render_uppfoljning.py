"""Issue 13: the national follow-up's workbook equals the metrics layer's figures, cell by cell, and the truth.

A generated association (participants, anonymous counts, a register with directions, structural counts,
budget and economy) goes through the loader; the workbook is read back with openpyxl and every cell is
checked against what the generator put in (counted by hand here) and against the metrics functions.
"""
from __future__ import annotations

import datetime as dt
import io
import random
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from core.database import connect_read
from etl.load import load_files
from metrics import Filters
from metrics.cost import cost_by_initiative_year
from metrics.economy import summary
from metrics.facts import counts
from render.uppfoljning import followup_workbook
from tests.conftest import run_cli, write_csv, write_xlsx

D = dt.date
Y = 2024
SHEETS = ["Urval", "Individinriktade insatser", "Strukturövergripande insatser", "Förbundet"]
SEX_CELL = {"Kvinna": "women", "Man": "men", "Annat": "other", "": "other", "Vill ej uppge": "other"}


def generate(seed: int, directory: Path, *, shares=(0.5, 0.25, 0.25)) -> tuple[list[Path], dict]:
    """Export files of a random association, and the figures of year Y they should give."""
    rng = random.Random(seed)
    individual = [f"Insats {c}" for c in "ABCD"]
    structural_registered, structural_counted_only = "Nätverk Syd", "Kompetenslyftet"
    truth: dict = {"people": defaultdict(Counter), "budget": defaultdict(Decimal), "actual": defaultdict(Decimal),
                   "has_actual": set(), "counts": {}, "target": {}}
    people = [["Deltagar-ID", "Insats", "Kön", "Startdatum", "Slutdatum"]]
    n = 0
    for name in individual[:3]:  # Insats D has money but nobody
        for _ in range(rng.randint(3, 30)):
            n += 1
            sex = rng.choice(list(SEX_CELL))
            start = D(2023, 1, 1) + dt.timedelta(days=rng.randrange(730))
            end = None if rng.random() < 0.4 else min(start + dt.timedelta(days=rng.randrange(20, 400)), D(2025, 11, 30))
            people.append([f"G{seed}-{n:04d}", name, sex, start, end])
            if start <= D(Y, 12, 31) and (end is None or end >= D(Y, 1, 1)):
                truth["people"][name][SEX_CELL[sex]] += 1
    anonymous = [["Insats", "År", "Kvinnor", "Män", "Annat/Okänt"]]
    for name in individual[:2]:
        w, m, o = rng.randint(0, 4), rng.randint(0, 4), rng.randint(0, 1)
        anonymous.append([name, Y, w, m, o])
        truth["people"][name].update(women=w, men=m, other=o)
    register = [["Insats", "Inriktning", "Målgrupp", "Budgeterat antal deltagare", "ESF"]]
    for name in individual:
        t = rng.choice([None, rng.randint(5, 60)])
        truth["target"][name] = t
        register.append([name, rng.choice(["Individinriktad", "individ", None]), "Unga", t, rng.choice(["Ja", "Nej"])])
    register.append([structural_registered, "Strukturövergripande", "Personal hos parterna", 200, "Nej"])
    structural = [["Insats", "År", "Antal deltagare"]]
    for name in (structural_registered, structural_counted_only):
        for year in (Y - 1, Y):
            k = rng.randint(10, 300)
            structural.append([name, year, k])
            if year == Y:
                truth["counts"][name] = k
    budget = [["Insats", "År", "Kostnadsslag", "Finansiär", "Budget", "Utfall"]]
    for name in [*individual, structural_registered]:
        for year in (Y - 1, Y):
            no_actual = rng.random() < 0.3
            for category, funder in rng.sample([("Personal", "Förbundet"), ("Lokaler", "Förbundet"),
                                                ("Personal", "ESF"), ("Övrigt", "Medfinansiering")], 2):
                b = Decimal(rng.randrange(10_000, 900_000))
                a = None if no_actual else Decimal(rng.randrange(10_000, 900_000)) + Decimal("0.5")
                budget.append([name, year, category, funder, b, None if a is None else str(a).replace(".", ",")])
                if year == Y:
                    truth["budget"][name] += b
                    if a is not None:
                        truth["actual"][name] += a
                        truth["has_actual"].add(name)
    total = Decimal(rng.randrange(5_000_000, 20_000_000))
    state, region = (total * Decimal(str(shares[0]))).quantize(Decimal("1")), \
        (total * Decimal(str(shares[1]))).quantize(Decimal("1"))
    towns = total - state - region
    admin_b, admin_a = Decimal(rng.randrange(500_000, 900_000)), Decimal(rng.randrange(500_000, 900_000))
    eq0, eq1 = Decimal(rng.randrange(1_000_000, 3_000_000)), Decimal(rng.randrange(1_000_000, 3_000_000))
    economy = [["År", "Post", "Part", "Budget", "Utfall"],
               [Y, "Tilldelade medel", "Försäkringskassan", None, state],
               [Y, "Tilldelade medel", "Region Test", None, region],
               [Y, "Tilldelade medel", "Östra kommun", None, towns - 1000],
               [Y, "Tilldelade medel", "Västra kommun", None, 1000],
               [Y, "Administration", None, admin_b, admin_a],
               [Y, "Eget kapital vid årets början", None, None, eq0],
               [Y, "Eget kapital vid årets slut", None, None, eq1],
               [Y - 1, "Administration", None, 1, 1]]
    truth["association"] = [float(state), float(region), float(towns), float(total), float(admin_b), float(admin_a),
                            float(eq0), float(eq1)]
    truth["individual"] = sorted(individual)  # Insats D: money, no participants
    truth["structural"] = sorted([structural_registered, structural_counted_only])
    directory.mkdir(parents=True, exist_ok=True)
    files = [write_xlsx(directory / "deltagare.xlsx", {"Deltagare": people}),
             write_csv(directory / "anonyma.csv", anonymous), write_xlsx(directory / "insatser.xlsx", {"R": register}),
             write_csv(directory / "struktur.csv", structural), write_xlsx(directory / "budget.xlsx", {"B": budget}),
             write_xlsx(directory / "ekonomi.xlsx", {"E": economy})]
    return files, truth


@pytest.fixture(scope="module", params=[1, 2, 3])
def association(request, tmp_path_factory):
    directory = tmp_path_factory.mktemp(f"gen{request.param}")
    files, truth = generate(request.param, directory / "files")
    result = load_files(files, directory / "g.duckdb")
    assert result.ok, "\n".join(map(str, result.problems))
    truth["seed"] = request.param
    return directory / "g.duckdb", truth


def sheets(data: bytes) -> dict[str, list[tuple]]:
    """Each sheet's table: its rows down to the blank row before a note (see `sheet_notes`)."""
    wb = openpyxl.load_workbook(io.BytesIO(data))
    out = {}
    for ws in wb:
        rows = [tuple(r) for r in ws.iter_rows(values_only=True)]
        blank = [i for i, r in enumerate(rows) if all(v is None for v in r)]
        out[ws.title] = rows[:blank[0]] if blank else rows
    return out


def sheet_notes(data: bytes) -> dict[str, str]:
    """The sentence below a sheet's table (after one blank row), where it has one."""
    wb = openpyxl.load_workbook(io.BytesIO(data))
    out = {}
    for ws in wb:
        rows = [tuple(r) for r in ws.iter_rows(values_only=True)]
        blank = [i for i, r in enumerate(rows) if all(v is None for v in r)]
        if blank and blank[0] + 1 < len(rows):
            out[ws.title] = rows[blank[0] + 1][0]
    return out


def money(x):
    return None if x is None else float(x)


def test_the_workbook_equals_the_generated_truth_and_the_metrics(association):
    db, truth = association
    with connect_read(db) as con:
        book = sheets(followup_workbook(con, Y))
        people = counts(con, Filters.year(Y), "participants", ("initiative",)).set_index("initiative")
        cost = cost_by_initiative_year(con, Filters.year(Y)).set_index("initiative")
        economy = summary(con, Filters.year(Y))
    assert list(book) == SHEETS
    other = any(truth["people"][n]["other"] for n in truth["individual"])
    header = ["Insats", "Kvinnor", "Män", *(["Annat/okänt"] if other else []), "Totalt", "Budget", "Utfall",
              "Budgeterat antal deltagare"]
    rows = book["Individinriktade insatser"]
    assert list(rows[0]) == header
    assert [r[0] for r in rows[1:]] == truth["individual"]
    for r in rows[1:]:
        cells, name = dict(zip(header, r)), r[0]
        sexes = truth["people"][name]
        by_hand = {"Kvinnor": sexes["women"], "Män": sexes["men"], "Totalt": sum(sexes.values()),
                   "Budget": money(truth["budget"][name]),
                   "Utfall": money(truth["actual"][name]) if name in truth["has_actual"] else None,
                   "Budgeterat antal deltagare": truth["target"][name]}
        if other:
            by_hand["Annat/okänt"] = sexes["other"]
        assert {k: cells[k] for k in by_hand} == by_hand, name
        p = people.loc[name] if name in people.index else None
        from_metrics = {"Kvinnor": 0 if p is None else p.women, "Män": 0 if p is None else p.men,
                        "Totalt": 0 if p is None else p.total, "Budget": cost.loc[name, "budget"],
                        "Utfall": cost.loc[name, "actual"]}
        assert {k: cells[k] for k in from_metrics} == from_metrics, name
    rows = book["Strukturövergripande insatser"]
    assert rows[0] == ("Insats", "Antal deltagare", "Budget", "Utfall")
    assert [r[0] for r in rows[1:]] == truth["structural"]
    for name, count, budget, actual in rows[1:]:
        assert count == truth["counts"][name]
        assert budget == (money(truth["budget"][name]) if truth["budget"][name] else None)
        assert actual == (money(truth["actual"][name]) if name in truth["has_actual"] else None)
    rows = book["Förbundet"]
    assert rows[0] == ("Uppgift", "Belopp")
    assert [r[0] for r in rows[1:]] == [
        "Tilldelade medel, staten (Försäkringskassan)", "Tilldelade medel, regionen", "Tilldelade medel, kommunerna",
        "Tilldelade medel, totalt", "Administrativa kostnader, budget", "Administrativa kostnader, utfall",
        "Eget kapital vid årets början", "Eget kapital vid årets slut"]
    assert [r[1] for r in rows[1:]] == truth["association"]
    assert [r[1] for r in rows[1:]] == [economy[k] for k in (
        "allocated_state", "allocated_region", "allocated_municipalities", "allocated", "administration_budget",
        "administration_actual", "equity_start", "equity_end")]


def test_structural_participants_never_reach_the_individual_figures(association, tmp_path):
    """The same association loaded without its structural counts gives every individual figure unchanged."""
    from metrics.cost import cost_summary
    from metrics.people import by_initiative, headline
    from metrics.report import build_report

    db, truth = association
    files, _ = generate(truth["seed"], tmp_path / "files")
    without = tmp_path / "without.duckdb"
    assert load_files([f for f in files if f.name != "struktur.csv"], without).ok
    with connect_read(db) as a, connect_read(without) as b:
        assert a.execute("SELECT count(*) FROM structural_counts").fetchall()[0][0] > 0
        for year in (Y - 1, Y):
            f = Filters.year(year)
            assert headline(a, f).equals(headline(b, f))
            assert by_initiative(a, f).equals(by_initiative(b, f))
            assert build_report(a, year) == build_report(b, year)
            assert cost_summary(a, f) == cost_summary(b, f)
            for measure in ("participants", "started", "exited", "no_consent"):
                assert counts(a, f, measure, ("initiative", "agency")).equals(counts(b, f, measure, ("initiative", "agency")))
        names = {n for (n,) in a.execute("SELECT DISTINCT initiative FROM structural_counts").fetchall()}
        in_facts = counts(a, Filters.year(Y), "participants", ("initiative",))
        assert not names & set(in_facts[in_facts.total > 0].initiative)


def test_hand_counted_small_association(small_db):
    """tests/fixtures/small_association.py for 2021, counted by hand (see its docstring)."""
    with connect_read(small_db) as con:
        book = sheets(followup_workbook(con, 2021))
    assert book["Individinriktade insatser"] == [
        ("Insats", "Kvinnor", "Män", "Annat/okänt", "Totalt", "Budget", "Utfall", "Budgeterat antal deltagare"),
        # A1 A3 A5 women, A2 A6 men, A7 unknown; budget 500 000 + 100 000 + 50 000, actual 380 000,50 + 100 000,50
        ("Alfa", 3, 2, 1, 6, 650000, 480001, 20),
        # B1 B5 B6 + 2 anonymous women, B2 + 1 anonymous man, B3 + 1 anonymous other; budget only
        ("Beta", 5, 2, 2, 9, 300000, None, 10),
        ("Gamma", 0, 0, 0, 0, 200000, 150000, None),  # money, nobody
    ]
    assert book["Strukturövergripande insatser"] == [("Insats", "Antal deltagare", "Budget", "Utfall")]
    assert [r[1] for r in book["Förbundet"][1:]] == [None] * 8  # no economy file: empty, never 0


def test_empty_sheets_say_why_they_are_empty(small_db, tmp_path):
    """Issue 23: an empty sheet of the national form read as "nothing happened"; it now says what was not loaded
    and how to load it, and a sheet with missing figures says an empty cell is not 0."""
    with connect_read(small_db) as con:
        data = followup_workbook(con, 2021)
    said = sheet_notes(data)
    assert said["Strukturövergripande insatser"].startswith("Tomt: ingen strukturövergripande insats")
    assert "2021" in said["Strukturövergripande insatser"] and "Antal deltagare" in said["Strukturövergripande insatser"]
    assert said["Förbundet"].startswith("Beloppen är tomma") and "Förbundets ekonomi" in said["Förbundet"]
    assert said["Individinriktade insatser"].startswith("En tom cell är en uppgift som saknas")  # Beta has no actual
    ws = openpyxl.load_workbook(io.BytesIO(data))["Strukturövergripande insatser"]
    assert ws["A3"].font.i and ws["A3"].alignment.wrap_text  # below the header, in italics, wrapped
    # and a year with nothing loaded at all says so on the first sheet of the form
    with connect_read(small_db) as con:
        said = sheet_notes(followup_workbook(con, 2015))
    assert said["Individinriktade insatser"].startswith("Tomt: ingen individinriktad insats") and "2015" in \
        said["Individinriktade insatser"]


def test_other_and_unknown_sex_column_only_when_anyone_is_in_it(tmp_path):
    path = write_csv(tmp_path / "d.csv", [["Deltagar-ID", "Insats", "Kön", "Startdatum"],
                                          ["A-1", "Alfa", "K", "2024-02-01"], ["A-2", "Alfa", "M", "2024-03-01"]])
    assert load_files([path], tmp_path / "d.duckdb").ok
    with connect_read(tmp_path / "d.duckdb") as con:
        rows = sheets(followup_workbook(con, 2024))["Individinriktade insatser"]
    assert rows == [("Insats", "Kvinnor", "Män", "Totalt", "Budget", "Utfall", "Budgeterat antal deltagare"),
                    ("Alfa", 1, 1, 2, None, None, None)]


def test_shares_off_50_25_25_are_noted_in_the_workbook(tmp_path):
    files, _ = generate(7, tmp_path / "files", shares=(0.4, 0.35, 0.25))
    result = load_files(files, tmp_path / "g.duckdb")
    assert result.ok and any("50/25/25" in p.message for p in result.problems if p.severity == "varning")
    with connect_read(tmp_path / "g.duckdb") as con:
        meta = dict(sheets(followup_workbook(con, Y))["Urval"][1:])
    assert meta["Obs 1"].startswith("De tilldelade medlen fördelas Staten (Försäkringskassan) 40,0\u00a0%, "
                                    "Regionen 35,0\u00a0%, Kommunerna 25,0\u00a0%, inte 50/25/25")


def test_a_name_from_a_file_cannot_become_a_formula(tmp_path):
    path = write_csv(tmp_path / "s.csv", [["Insats", "År", "Antal deltagare"], ["=HYPERLINK(\"x\")", "2024", "3"]])
    assert load_files([path], tmp_path / "s.duckdb").ok
    with connect_read(tmp_path / "s.duckdb") as con:
        wb = openpyxl.load_workbook(io.BytesIO(followup_workbook(con, 2024)))
    cell = wb["Strukturövergripande insatser"]["A2"]
    assert cell.value == "'=HYPERLINK(\"x\")" and cell.data_type == "s"


def test_the_command_line_writes_the_workbook(association, tmp_path):
    db, truth = association
    out = tmp_path / "uppfoljning.xlsx"
    done = run_cli("report", "--db", db, "--year", str(Y), "--format", "uppfoljning", "--out", out)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"Uppföljning Finsam för {Y} är sparad i {out}"
    book = sheets(out.read_bytes())
    assert list(book) == SHEETS
    assert [r[0] for r in book["Strukturövergripande insatser"][1:]] == truth["structural"]


def test_the_command_line_wants_a_file_for_the_workbook(small_db):
    done = run_cli("report", "--db", small_db, "--year", "2021", "--format", "uppfoljning")
    assert done.returncode == 2 and "--format uppfoljning kräver --out FIL" in done.stderr


def test_the_command_line_says_why_the_file_could_not_be_written(small_db, tmp_path):
    done = run_cli("report", "--db", small_db, "--year", "2021", "--format", "uppfoljning", "--out", tmp_path / "no" / "u.xlsx")
    assert done.returncode == 1
    assert done.stderr.startswith("FEL: ") and "uppföljningen kunde inte sparas: mappen eller filen finns inte" in done.stderr
    assert "Traceback" not in done.stderr
