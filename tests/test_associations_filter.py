"""Issue 21: the association filter reaches every figure, and the Förbund page under small-count protection.

Four associations in one database, 2025, every number counted by hand from the rows below:

| association | initiative | women (exits to work, other exits) | men (…) | other (…) | money 2025 |
|---|---|---|---|---|---|
| Norr | Norr Arbete | 10 (5, 5) | 10 (5, 5) | 0 | actual 400 000 |
| Norr | Norr Hälsa | 8 | 7 | 0 | budget 300 000, no actual |
| Syd | Syd Steget | 15 (5, 5) | 14 (5, 5) | 1 | actual 600 000 |
| Öst | Öst Vägen | 3 (1, 2) | 9 (1, 6) | 0 | actual 240 000 |
| Väst | Väst Bron | 4 (0, 1) + 2 anonymous | 4 (1, 1) + 1 anonymous | 0 | actual 330 000 |
| Väst | Väst Nätverk (structural, 50) | – | – | – | actual 100 000 |
| (none) | Ingen Ägare (budget only) | – | – | – | budget 50 000 |

Everyone started on 3 February 2025 (aged 35, referred by Kommun) and every exit was on 20 June 2025, so Norr
has no count between 1 and 4 anywhere and its own pages show all of it.

Economy lines per association (allocated state/region/municipalities, administration, equity):
Norr 1 000 000/500 000/500 000, administration 100 000, equity 200 000 → 250 000; Syd 800 000/400 000/400 000,
administration 80 000; Öst 400 000/200 000/200 000, administration 40 000; Väst 300 000/150 000/150 000,
administration budget 70 000 and actual 60 000, equity 90 000 → 80 000.

Öst is the issue's example: 3 women of 12 (25,0 %), 2 of 10 exits to work: its own pages hide the 3 and the 2,
so the Förbund page must not give them away as a share times its denominator.
"""
from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from pptx import Presentation
from streamlit.testing.v1 import AppTest

from core.database import connect_read, connect_write
from metrics import Filters
from metrics.associations import TOTAL_ROW
from metrics.cost import (cost_by_association_initiative_year, cost_by_dimension, cost_by_initiative_year,
                          cost_per_initiative, cost_summary)
from metrics.economy import by_year, cost_with_administration, pooled, summary
from metrics.report import build_report
from metrics.suppress import HIDDEN_PRIMARY, VISIBLE, hidden_code, is_hidden, protect_period
from render.format import fmt_int, fmt_kr, fmt_kr_kpi, fmt_pct
from render.uppfoljning import ASSOCIATION_SHEET, INDIVIDUAL_SHEET, STRUCTURAL_SHEET, followup_tables
from tests.conftest import open_tables, run_cli
from tests.protection_audit import write_db

ROOT = Path(__file__).resolve().parents[1]
Y = 2025
T = 5  # the default threshold

# association -> initiative -> sex -> (people, exits to work, other exits)
PEOPLE = {
    "Norr": {"Norr Arbete": {"woman": (10, 5, 5), "man": (10, 5, 5)}, "Norr Hälsa": {"woman": (8, 0, 0),
                                                                                     "man": (7, 0, 0)}},
    "Syd": {"Syd Steget": {"woman": (15, 5, 5), "man": (14, 5, 5), "other": (1, 0, 0)}},
    "Öst": {"Öst Vägen": {"woman": (3, 1, 2), "man": (9, 1, 6)}},
    "Väst": {"Väst Bron": {"woman": (4, 0, 1), "man": (4, 1, 1)}},
}
ANONYMOUS = {"Väst": ("Väst Bron", 2, 1)}  # women, men
STRUCTURAL = {"Väst": ("Väst Nätverk", 50)}
BUDGET = [  # initiative, budget, actual
    ("Norr Arbete", 380_000, 400_000), ("Norr Hälsa", 300_000, None), ("Syd Steget", None, 600_000),
    ("Öst Vägen", None, 240_000), ("Väst Bron", None, 330_000), ("Väst Nätverk", None, 100_000),
    ("Ingen Ägare", 50_000, None),
]
ECONOMY = {  # allocated state, region, municipalities; administration (budget, actual); equity start, end
    "Norr": ((1_000_000, 500_000, 500_000), (None, 100_000), (200_000, 250_000)),
    "Syd": ((800_000, 400_000, 400_000), (None, 80_000), (None, None)),
    "Öst": ((400_000, 200_000, 200_000), (None, 40_000), (None, None)),
    "Väst": ((300_000, 150_000, 150_000), (70_000, 60_000), (90_000, 80_000)),
}
ALL_INITIATIVES = {i for a in PEOPLE.values() for i in a} | {"Väst Nätverk", "Ingen Ägare"}
OWN = {a: set(PEOPLE[a]) | ({STRUCTURAL[a][0]} if a in STRUCTURAL else set()) for a in PEOPLE}


def rows() -> list[dict]:
    out = []
    for association, initiatives in PEOPLE.items():
        for name, by_sex in initiatives.items():
            for sex, (n, positive, exits) in by_sex.items():
                for i in range(n):
                    ends = i < positive + exits
                    out.append({
                        "association": association, "initiative": name, "sex": sex, "id": f"{name}-{sex}-{i}",
                        "start": dt.date(Y, 2, 3), "end": dt.date(Y, 6, 20) if ends else None,
                        "reason": (1 if i < positive else 2) if ends else None, "age": 35, "agency": "Kommun",
                        "consent": True,
                    })
    return out


def _sum(association: str, sex: str | None, k: int) -> int:
    return sum(v[k] for by_sex in PEOPLE[association].values() for s, v in by_sex.items() if sex in (None, s))


def hand(association: str) -> dict:
    """The association's figures of 2025, counted from the tables above."""
    anonymous = ANONYMOUS.get(association)
    women = _sum(association, "woman", 0) + (anonymous[1] if anonymous else 0)
    men = _sum(association, "man", 0) + (anonymous[2] if anonymous else 0)
    other = _sum(association, "other", 0)
    per_ini = {n: sum(v[0] for v in by_sex.values()) + (anonymous[1] + anonymous[2]
                                                         if anonymous and anonymous[0] == n else 0)
               for n, by_sex in PEOPLE[association].items()}
    money = {n: (a if a is not None else b) for n, b, a in BUDGET}
    cost_people = {n: p for n, p in per_ini.items() if money.get(n) is not None}
    pooled_cost = sum(money[n] for n in cost_people)
    (state, region, municipalities), (admin_budget, admin_actual), (eq0, eq1) = ECONOMY[association]
    individual = sum(money[n] for n in PEOPLE[association])
    structural = money[STRUCTURAL[association][0]] if association in STRUCTURAL else None
    admin = admin_actual if admin_actual is not None else admin_budget
    used = individual + (structural or 0) + admin
    return {"women": women, "men": men, "other": other, "total": women + men + other,
            "exited": _sum(association, None, 1) + _sum(association, None, 2), "positive": _sum(association, None, 1),
            "per_initiative": per_ini, "cost": pooled_cost,
            "cost_participants": sum(cost_people.values()), "per_participant": pooled_cost / sum(cost_people.values()),
            "allocated": state + region + municipalities, "allocated_state": state, "individual": individual,
            "structural": structural, "administration": admin, "used": used, "administration_share": admin / used,
            "equity_start": eq0, "equity_end": eq1, "money": {n: money[n] for n in OWN[association]}}


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    path = write_db(tmp_path_factory.mktemp("four") / "four.duckdb", rows())
    with connect_write(path) as con:
        for association, (name, women, men) in ANONYMOUS.items():
            con.execute("INSERT INTO anonymous_counts VALUES (?, ?, ?, ?, ?, 0, 1)", [association, name, Y, women, men])
        for association, (name, n) in STRUCTURAL.items():
            con.execute("INSERT INTO structural_counts VALUES (?, ?, ?, ?, 1)", [association, name, Y, n])
        con.executemany("INSERT INTO budget_lines VALUES (?, ?, 'Personal', 'Förbundet', ?, ?, 1)",
                        [(n, Y, b, a) for n, b, a in BUDGET])
        for association, ((s, r, m), (ab, aa), (e0, e1)) in ECONOMY.items():
            lines = [("allocated", "FK", "state", None, s), ("allocated", "Regionen", "region", None, r),
                     ("allocated", "Kommunerna", "municipalities", None, m), ("administration", None, None, ab, aa)]
            if e0 is not None:
                lines += [("equity_start", None, None, None, e0), ("equity_end", None, None, None, e1)]
            con.executemany("INSERT INTO economy_lines VALUES (?, ?, ?, ?, ?, ?, ?, 1)",
                            [(association, Y, *line) for line in lines])
    return path


@pytest.fixture()
def con(db):
    c = connect_read(db)
    yield c
    c.close()


def chosen(association: str) -> Filters:
    return Filters.year(Y, associations=(association,))


# ---------------------------------------------------------------- the metrics

@pytest.mark.parametrize("association", list(PEOPLE))
def test_cost_holds_only_the_associations_own_initiatives_and_totals(con, association):
    h, f = hand(association), chosen(association)
    c = cost_by_initiative_year(con, f)
    assert set(c.initiative) == OWN[association]
    assert dict(zip(c.initiative, c.cost)) == pytest.approx(h["money"])
    assert dict(zip(c.initiative, c.participants)) == {n: h["per_initiative"].get(n, 0) for n in OWN[association]}
    s = cost_summary(con, f)
    assert (s["cost"], s["participants"]) == (pytest.approx(h["cost"]), h["cost_participants"])
    assert s["per_participant"] == pytest.approx(h["per_participant"])
    assert set(cost_per_initiative(con, f).initiative) == OWN[association]
    assert set(cost_by_dimension(con, f, "category").initiative) == OWN[association]
    both = cost_by_association_initiative_year(con, Filters.year(Y))  # the Förbund page's one query for all
    mine = both[both.association == association].drop(columns="association").reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, c)


def test_norr_by_hand_and_the_whole(con):
    assert cost_summary(con, chosen("Norr"))["per_participant"] == pytest.approx(700_000 / 35)  # not the whole's
    whole = cost_summary(con, Filters.year(Y))
    assert whole["per_participant"] == pytest.approx((400_000 + 300_000 + 600_000 + 240_000 + 330_000) / 88)
    assert set(cost_by_initiative_year(con, Filters.year(Y)).initiative) == ALL_INITIATIVES
    assert cost_summary(con, chosen("Norr"))["budget_only"] == ["Norr Hälsa"]
    two = Filters.year(Y, associations=("Norr", "Öst"))
    assert set(cost_by_initiative_year(con, two).initiative) == OWN["Norr"] | OWN["Öst"]


@pytest.mark.parametrize("association", list(PEOPLE))
def test_economy_is_the_associations_own(con, association):
    h, f = hand(association), chosen(association)
    s = summary(con, f)
    for k in ("allocated", "allocated_state", "individual", "structural", "administration", "used",
              "administration_share", "equity_start", "equity_end"):
        assert s[k] == pytest.approx(h[k]) if h[k] is not None else s[k] is None, k
    y = by_year(con, f)
    assert list(y.year) == [Y]
    c = cost_with_administration(con, f)
    assert set(c.initiative) == OWN[association]
    assert sum(x for x in c.administration_share if x is not None) == pytest.approx(h["administration"])
    with_admin = pooled(c[c.cost.notna()], administration=True)
    # the administration shared over the association's own initiatives only (the structural one carries its part)
    people_share = h["administration"] * h["cost"] / (h["individual"] + (h["structural"] or 0))
    assert with_admin["per_participant"] == pytest.approx((h["cost"] + people_share) / h["cost_participants"])


def test_economy_without_a_choice_is_the_sum(con):
    s = summary(con, Filters.year(Y))
    assert s["allocated"] == sum(hand(a)["allocated"] for a in PEOPLE)
    assert s["initiatives"] == pytest.approx(400_000 + 300_000 + 600_000 + 240_000 + 330_000 + 100_000 + 50_000)


@pytest.mark.parametrize("association", list(PEOPLE))
def test_followup_is_the_associations_own(con, association):
    h = hand(association)
    t = followup_tables(con, Y, (association,))
    ind = t[INDIVIDUAL_SHEET].set_index("Insats")
    assert set(ind.index) == set(PEOPLE[association])
    assert int(ind["Totalt"].sum()) == h["total"] and int(ind["Kvinnor"].sum()) == h["women"]
    assert {n: (r["Utfall"] if pd.notna(r["Utfall"]) else r["Budget"]) for n, r in ind.iterrows()} == \
        pytest.approx({n: h["money"][n] for n in PEOPLE[association]})
    assert set(t[STRUCTURAL_SHEET].Insats) == ({STRUCTURAL[association][0]} if association in STRUCTURAL else set())
    items = dict(zip(t[ASSOCIATION_SHEET].Uppgift, t[ASSOCIATION_SHEET].Belopp))
    assert items["Tilldelade medel, totalt"] == h["allocated"]
    assert items["Administrativa kostnader, utfall"] == ECONOMY[association][1][1]


def test_the_reports_take_an_association(con, db, tmp_path):
    r = build_report(con, Y, ("Väst",))
    assert set(r["initiatives"]) == OWN["Väst"] and r["participants"]["total"] == hand("Väst")["total"]
    assert r["initiatives"]["Väst Bron"]["cost"]["per_participant"] == pytest.approx(330_000 / 11)
    done = run_cli("report", "--db", db, "--year", Y, "--format", "json", "--association", "Öst")
    assert done.returncode == 0, done.stderr
    assert set(json.loads(done.stdout)["initiatives"]) == {"Öst Vägen"}
    out = tmp_path / "u.xlsx"
    done = run_cli("report", "--db", db, "--year", Y, "--format", "uppfoljning", "--out", out, "--forbund", "Syd")
    assert done.returncode == 0, done.stderr
    sheet = pd.read_excel(out, sheet_name=INDIVIDUAL_SHEET, engine="openpyxl")
    names = list(sheet.Insats)  # the table, then an empty row and the sheet's note on what an empty cell means
    assert names[:next((i for i, v in enumerate(names) if pd.isna(v)), len(names))] == ["Syd Steget"]
    done = run_cli("report", "--db", db, "--year", Y, "--association", "Mitt")
    assert done.returncode == 1 and "Mitt" in done.stderr and "Norr" in done.stderr


# ---------------------------------------------------------------- the pages, the export and the deck

OTHERS = {a: ALL_INITIATIVES - OWN[a] for a in PEOPLE}
PAGES = ["pages/oversikt.py", "pages/kostnad.py", "pages/ekonomi.py", "pages/inflode.py", "pages/avslut.py",
         "pages/jamstalldhet.py", "pages/export.py"]


def app(db, monkeypatch, page, **query) -> AppTest:
    monkeypatch.setenv("FINSAM_DB", str(db))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    at.switch_page(page)
    at.run()
    if query.get("suppress") == "1":
        at.session_state["suppress"] = True  # the sidebar toggle (AppTest drops sidebar widgets after switch_page)
        at.run()
    return open_tables(at)


def texts(at: AppTest) -> str:
    """Everything the page's main area shows as text: tables' cells, key figures, captions, charts' data."""
    main = at.main
    out = [m.label + " " + str(m.value) + " " + str(m.proto.body) for m in main.metric]
    for kind in ("caption", "markdown", "info", "warning", "title", "subheader"):
        out += [str(e.value) for e in main.get(kind)]
    for d in main.dataframe:
        out += [d.value.to_csv()]
    out += [c.proto.spec for c in main.get("plotly_chart")]
    return "\n".join(out)


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.main.metric if m.label == label)


def frame(at: AppTest, column: str) -> pd.DataFrame:
    """The first table with `column`, read back as numbers: a column with a missing cell is drawn as text
    (ui.layout.table), "–" for the missing one, "20 000 kr" and "25,0 %" for the others."""
    df = next(d.value for d in at.main.dataframe if column in d.value.columns)
    return df.map(number)


def number(x):
    if not isinstance(x, str):
        return None if x is None or pd.isna(x) else x
    t = x.replace("\xa0", "").replace(" ", "")
    if t == "–":
        return None
    for suffix, scale in (("%", 0.01), ("kr", 1)):
        if t.endswith(suffix):
            return float(t[:-len(suffix)].replace(",", ".")) * scale
    return x


@pytest.mark.parametrize("suppress", ["0", "1"])
@pytest.mark.parametrize("page", PAGES)
def test_every_page_shows_only_the_chosen_associations_initiatives(db, monkeypatch, page, suppress):
    at = app(db, monkeypatch, page, year=str(Y), association="Norr", suppress=suppress)
    assert not at.exception, at.exception
    assert "Norr" in at.caption[0].value  # the selection in words
    shown = texts(at)
    assert not [n for n in OTHERS["Norr"] if n in shown], page
    if page != "pages/ekonomi.py" and page != "pages/export.py":
        assert "Norr Arbete" in shown, page
    h = hand("Norr")
    if page == "pages/oversikt.py":
        assert metric(at, "Deltagare") == fmt_int(h["total"])
        assert metric(at, "Kostnad per deltagare") == fmt_kr_kpi(h["per_participant"])  # 20 000, not the whole's
    if page == "pages/kostnad.py":
        assert metric(at, "Kostnad") == fmt_kr_kpi(h["cost"])
        assert metric(at, "Kostnad per deltagare") == fmt_kr_kpi(h["per_participant"])
        assert set(frame(at, "Budget").Insats) == OWN["Norr"]
    if page == "pages/ekonomi.py":
        assert [metric(at, k) for k in ("Tilldelade medel", "Använda medel", "Eget kapital vid årets slut",
                                        "Administrationens andel")] == [
            fmt_kr(h["allocated"]), fmt_kr(h["used"]), fmt_kr(h["equity_end"]), fmt_pct(h["administration_share"])]
        assert set(at.main.dataframe[-1].value.Insats) == OWN["Norr"]
    if page == "pages/inflode.py":
        table = next(d.value for d in at.main.dataframe if "Remittent" in d.value.columns
                     and "Totalt" in set(d.value.Remittent)).set_index("Remittent")
        assert table.loc["Totalt", "Totalt"] == h["total"]  # every Norr enrollment started in 2025
    if page == "pages/avslut.py":
        assert metric(at, "Avslutade") == fmt_int(h["exited"])
    if page == "pages/jamstalldhet.py":
        assert fmt_pct(h["women"] / h["total"]) in shown


@pytest.mark.parametrize("association", ["Norr", "Väst"])
def test_export_and_deck_name_only_the_chosen_association(con, association):
    import openpyxl

    from metrics.catalog import association_name, status
    from render.deck import build_board_pack
    from render.tables import COST, PER_INITIATIVE, excel_bytes, export_tables, meta

    h, f = hand(association), chosen(association)
    p = protect_period(con, f, T)
    for protect in (False, True):
        def shown(measure, dims, value):
            kind, _ = p.cell(measure, dims, "total")
            return value if not protect or kind == VISIBLE else hidden_code(kind)

        tables = export_tables(con, f, protect=protect)
        cells = "\n".join(t.to_csv() for t in tables.values())
        assert not [n for n in OTHERS[association] if n in cells]
        per = tables[PER_INITIATIVE].set_index("Insats")
        assert per.loc["Totalt", "Deltagare totalt"] == shown("participants", {}, h["total"])
        assert set(per.index) == set(PEOPLE[association]) | {"Totalt"}
        cost = tables[COST]
        assert set(cost.Insats) == OWN[association] | {"Totalt"}
        total = cost[cost.Insats == "Totalt"].iloc[0]
        assert total["Kostnad (kr)"] == pytest.approx(h["cost"])
        if not is_hidden(total["Deltagare"]):
            assert total["Deltagare"] == h["cost_participants"]
            assert total["Kostnad per deltagare (kr)"] == pytest.approx(h["per_participant"])
        book = excel_bytes(tables, meta(f, status(con), protect=protect, threshold=T), T)
        wb = openpyxl.load_workbook(io.BytesIO(book))
        text = "\n".join(str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value)
        assert not [n for n in OTHERS[association] if n in text] and PEOPLE[association].keys() <= set(text.split("\n"))
    assert association_name(con, f.associations) == association
    deck = Presentation(io.BytesIO(build_board_pack(con, f, association=association_name(con, f.associations))))
    said = []
    for slide in deck.slides:
        for shape in slide.shapes:
            if shape.has_text_frame:
                said.append(shape.text_frame.text)
            if shape.has_table:
                said += [c.text for row in shape.table.rows for c in row.cells]
            if shape.has_chart:
                said += [str(c) for plot in shape.chart.plots for c in plot.categories]
    said = "\n".join(said)
    assert not [n for n in OTHERS[association] if n in said]
    assert not [a for a in PEOPLE if a != association and a in said]  # not even another association's name
    assert fmt_kr(cost_summary(con, Filters.year(Y))["per_participant"]) not in said  # not the whole's figure
    if association == "Norr":  # its counts are all at least the threshold: its own figures, visible
        assert "Norr Arbete" in said and "Norr Hälsa" in said
        assert fmt_kr(h["per_participant"]) in said
        assert fmt_int(h["total"]) in said


# ---------------------------------------------------------------- the Förbund page under protection

def engine_of(con, association):
    return protect_period(con, chosen(association), T)


def test_forbund_without_protection_by_hand(db, monkeypatch):
    at = app(db, monkeypatch, "pages/forbund.py", year=str(Y))
    assert not at.exception, at.exception
    t = frame(at, "Deltagare med kostnad").set_index("Förbund")
    for a in PEOPLE:
        h = hand(a)
        assert t.loc[a, "Deltagare"] == h["total"] and t.loc[a, "Kvinnor"] == h["women"]
        assert t.loc[a, "Deltagare med kostnad"] == h["cost_participants"]
        assert t.loc[a, "Kostnad per deltagare"] == pytest.approx(h["per_participant"])
    assert t.loc["Öst", "Andel kvinnor"] == pytest.approx(0.25)
    assert t.loc[TOTAL_ROW, "Deltagare"] == 88


def test_forbund_under_protection_shows_each_association_as_its_own_pages_do(db, con, monkeypatch):
    at = app(db, monkeypatch, "pages/forbund.py", year=str(Y), suppress="1")
    assert not at.exception, at.exception
    t = frame(at, "Deltagare med kostnad").set_index("Förbund")
    assert set(t.index) == {*PEOPLE, TOTAL_ROW}
    cells = {"Kvinnor": ("participants", {}, "women"), "Män": ("participants", {}, "men"),
             "Annat/okänt": ("participants", {}, "other"), "Deltagare": ("participants", {}, "total"),
             "Avslutade": ("exited", {}, "total")}
    positive = ("exited", {"reason": "positive"}, "total")
    hidden_somewhere = {c: False for c in cells}
    for a in PEOPLE:
        p, h = engine_of(con, a), hand(a)
        for col, (measure, dims, sex) in cells.items():
            kind, value = p.cell(measure, dims, sex)
            # the same value or mark as the association's own pages
            assert t.loc[a, col] == (value if kind == VISIBLE else hidden_code(kind)), (a, col)
            hidden_somewhere[col] |= kind != VISIBLE
        # a share is shown only where its numerator and denominator are visible there and at least the threshold,
        # so no share × denominator gives back a count the association's pages hide
        for share, num, den in (("Andel kvinnor", cells["Kvinnor"], cells["Deltagare"]),
                                ("Till arbete/studier", positive, cells["Avslutade"])):
            if pd.notna(t.loc[a, share]):
                for measure, dims, sex in (num, den):
                    kind, value = p.cell(measure, dims, sex)
                    assert kind == VISIBLE and value >= T, (a, share)
        people = t.loc[a, "Deltagare med kostnad"]
        if pd.notna(t.loc[a, "Kostnad per deltagare"]):
            assert not is_hidden(people) and people >= T
            assert t.loc[a, "Kostnad per deltagare"] == pytest.approx(h["per_participant"])
    # Öst: 3 women and 2 exits to work, hidden on its own pages: neither share is shown
    ost = engine_of(con, "Öst")
    assert ost.cell("participants", {}, "women")[0] != VISIBLE and ost.cell(*positive)[0] != VISIBLE
    assert pd.isna(t.loc["Öst", "Andel kvinnor"]) and pd.isna(t.loc["Öst", "Till arbete/studier"])
    assert t.loc["Öst", "Kvinnor"] == HIDDEN_PRIMARY
    # the whole less every visible association pins nothing: a figure of the whole is shown only where no
    # association's is hidden
    for col, hidden in hidden_somewhere.items():
        whole = t.loc[TOTAL_ROW, col]
        if hidden:
            assert is_hidden(whole), col
        else:
            assert whole == sum(t.loc[a, col] for a in PEOPLE), col
    assert pd.isna(t.loc[TOTAL_ROW, "Andel kvinnor"])  # its women are hidden: Öst's are
    assert any("Summan för alla förbund visas inte" in c.value for c in at.main.caption)
    assert "Uppdelat på kön per förbund" in " ".join(c.value for c in at.main.caption)


def test_forbund_compares_the_chosen_associations(db, monkeypatch):
    from metrics.associations import SELECTED_ROW

    for suppress in ("0", "1"):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        monkeypatch.setenv("FINSAM_DB", str(db))
        at.query_params["year"] = str(Y)
        at.query_params["association"] = ["Norr", "Syd"]
        at.query_params["suppress"] = suppress
        at.run()
        at.switch_page("pages/forbund.py")
        at.run()
        if suppress == "1":
            at.session_state["suppress"] = True
            at.run()
            assert any("Skydd för små tal" in c.value for c in at.main.caption)
        assert not at.exception, at.exception
        t = frame(at, "Deltagare med kostnad").set_index("Förbund")
        assert list(t.index) == ["Norr", "Syd", SELECTED_ROW]
        assert t.loc["Norr", "Deltagare"] == 35 and t.loc["Norr", "Kostnad per deltagare"] == pytest.approx(20_000)
        if suppress == "0":
            assert t.loc[SELECTED_ROW, "Deltagare"] == 65
            assert t.loc[SELECTED_ROW, "Kostnad per deltagare"] == pytest.approx(1_300_000 / 65)
