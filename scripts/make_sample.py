"""Generate the bundled sample exports in data/sample/ (python scripts/make_sample.py).

Why: the app must open on real-looking numbers before an association has loaded anything, and
the tests need files with every quirk real exports have (title lines above the header, `Summa`
rows, dates as text or Excel serials, Windows-1252 CSV, amounts as `2 410 500 kr` or in tkr).
Everything here is GENERATED for the fictional "Samordningsförbundet Mälardalen Syd": no real
persons, and ids are pseudonyms like MS-004711, never anything shaped like a personnummer.

Deterministic: a fixed seed, and the xlsx files are re-zipped with fixed timestamps, so a rerun
writes byte-identical files. Only the files named in OWNED are deleted and rewritten.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import random
import re
import zipfile
from pathlib import Path

from openpyxl import Workbook

OUT = Path(__file__).resolve().parent.parent / "data" / "sample"
OWNED = ["deltagare_2023-2025.xlsx", "deltagare_jobbstegen.csv", "anonyma_deltagare.csv",
         "budget_2023-2025.xlsx", "insatser.xlsx", "strukturovergripande_deltagare.csv", "forbundets_ekonomi.xlsx",
         "README.md"]
SEED = 20260115
EXPORT = dt.date(2026, 1, 15)
FIXED_TS = dt.datetime(2026, 1, 15, 8, 0, 0)
FORBUND = "Samordningsförbundet Mälardalen Syd"
rng = random.Random(SEED)
# The association's economy (added for the national follow-up) draws from a stream of its own, so that every
# figure of the files that came before it stays what it was.
follow_rng = random.Random(SEED + 13)

# Referring units per agency; an initiative's `town` makes local units three times as likely.
UNITS = {
    "FK": ["Försäkringskassan LFC Eskilstuna", "FK Katrineholm", "Försäkringskassan Nyköping", "Försäkringskassan"],
    "Af": ["Arbetsförmedlingen Eskilstuna", "Af Flen", "Arbetsförmedlingen Katrineholm", "Arbetsförmedlingen Nyköping"],
    "Kommun": ["Socialtjänsten Eskilstuna kommun", "Stadsdelsförvaltning Väster", "Ekonomiskt bistånd Flens kommun",
               "Jobbtorg Katrineholm", "Arbetsmarknadsenheten Nyköpings kommun"],
    "Region": ["Vårdcentralen Fröslunda", "Psykiatriska mottagningen Nyköping", "Habiliteringen Region Sörmland",
               "Vårdcentralen Katrineholm", "Vårdcentralen Flen"],
}
ODD_UNITS = ["Frivården Eskilstuna", "Studieförbundet Vuxenskolan", "Fontänhuset Eskilstuna"]  # map to no agency
INCOME_BY_AGENCY = {  # income at start, weighted by who referred
    "FK": {"Sjukpenning": 35, "Rehabiliteringspenning": 20, "Aktivitetsersättning": 20, "Sjukersättning": 15,
           "Ingen offentlig försörjning": 10},
    "Af": {"A-kassa/Aktivitetsstöd": 70, "Försörjningsstöd": 15, "Ingen offentlig försörjning": 15},
    "Kommun": {"Försörjningsstöd": 70, "A-kassa/Aktivitetsstöd": 10, "Ingen offentlig försörjning": 15,
               "Aktivitetsersättning": 5},
    "Region": {"Sjukpenning": 35, "Ingen offentlig försörjning": 25, "Sjukersättning": 15,
               "Aktivitetsersättning": 10, "Försörjningsstöd": 15},
}
EDUCATION = ["Förgymnasial", "Gymnasial", "Eftergymnasial kortare än 3 år", "Eftergymnasial 3 år eller längre", "Okänd"]
REASON_TEXT = {1: "Arbete/studier", 2: "Fortsatt rehabilitering", 3: "Sjukdom", 4: "Flyttat/ej aktuell",
               5: "Avbrutit/annan orsak", 6: "Avliden/övrigt"}

# name: size, window, women share, age (lo, hi, mode), referrer mix, exit weights for codes 1..6,
# extra weight on code 3 for women, education weights, home town, output file/sheet.
INITIATIVES = {
    "Steg till arbete": dict(n=480, start=dt.date(2023, 1, 1), end=None, women=0.58, age=(22, 64, 45),
                             ref={"FK": 70, "Af": 10, "Kommun": 8, "Region": 12}, exit=[40, 32, 14, 7, 9, 2],
                             ill_w=1.0, edu=[25, 45, 12, 10, 8], town="Eskilstuna", out="Rehab och hälsa"),
    "Hälsokraft": dict(n=400, start=dt.date(2023, 1, 1), end=None, women=0.74, age=(25, 66, 47),
                       ref={"FK": 15, "Af": 5, "Kommun": 15, "Region": 65}, exit=[30, 32, 19, 7, 12, 2],
                       ill_w=1.9, edu=[22, 45, 13, 12, 8], town="Eskilstuna", out="Rehab och hälsa"),
    "Spira": dict(n=200, start=dt.date(2023, 1, 1), end=dt.date(2024, 9, 30), women=0.64, age=(19, 55, 31),
                  ref={"FK": 20, "Af": 5, "Kommun": 15, "Region": 60}, exit=[25, 38, 19, 8, 10, 2],
                  ill_w=1.6, edu=[28, 42, 12, 10, 8], town="Nyköping", out="Rehab och hälsa"),
    "MIA Vidare": dict(n=420, start=dt.date(2023, 1, 1), end=None, women=0.50, age=(20, 62, 38),
                       ref={"FK": 15, "Af": 40, "Kommun": 35, "Region": 10}, exit=[52, 17, 7, 11, 14, 2],
                       ill_w=1.0, edu=[35, 38, 10, 9, 8], town="Eskilstuna", out="Arbete och unga"),
    "Unga Vägar": dict(n=320, start=dt.date(2024, 3, 1), end=None, women=0.41, age=(16, 29, 21),
                       ref={"FK": 15, "Af": 35, "Kommun": 40, "Region": 10}, exit=[58, 18, 5, 10, 12, 1],
                       ill_w=1.0, edu=[45, 40, 6, 2, 7], town="Nyköping", out="Arbete och unga"),
    "Kvinnokraft": dict(n=180, start=dt.date(2023, 2, 1), end=None, women=0.97, age=(20, 60, 37),
                        ref={"FK": 10, "Af": 25, "Kommun": 60, "Region": 5}, exit=[44, 24, 11, 9, 14, 1],
                        ill_w=1.0, edu=[42, 25, 8, 8, 17], town="Flen", out="Arbete och unga"),
    "Jobbstegen": dict(n=500, start=dt.date(2023, 1, 1), end=None, women=0.30, age=(18, 64, 34),
                       ref={"FK": 5, "Af": 20, "Kommun": 72, "Region": 3}, exit=[54, 14, 5, 13, 15, 2],
                       ill_w=1.0, edu=[38, 42, 8, 5, 7], town="Katrineholm", out="csv"),
}


def pick(weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def random_start(spec: dict) -> dt.date:
    first = max(spec["start"], dt.date(2023, 1, 1))
    last = min(dt.date(2025, 12, 31), (spec["end"] - dt.timedelta(days=105)) if spec["end"] else dt.date(2025, 12, 31))
    while True:  # fewer starts in July and around Christmas
        d = first + dt.timedelta(days=rng.randrange((last - first).days + 1))
        if not ((d.month == 7 or (d.month == 12 and d.day > 18)) and rng.random() < 0.65):
            return d


def make_enrollment(name: str, spec: dict) -> dict:
    start = random_start(spec)
    sex = "K" if rng.random() < spec["women"] else "M"
    if rng.random() < 0.012:
        sex = "A"
    elif rng.random() < 0.02:
        sex = "?"
    lo, hi, mode = spec["age"]
    age = int(rng.triangular(lo, hi + 0.99, mode))
    agency = "Odd" if rng.random() < 0.01 else pick(spec["ref"])
    unit = rng.choice(ODD_UNITS) if agency == "Odd" else \
        rng.choices(UNITS[agency], [3 if spec["town"][:4] in u else 1 for u in UNITS[agency]])[0]
    income = pick(INCOME_BY_AGENCY.get(agency, INCOME_BY_AGENCY["Region"]))
    if age < 30 and agency in ("FK", "Region") and rng.random() < 0.5:
        income = "Aktivitetsersättning"  # the young sick get aktivitetsersättning (19-29 years) ...
    elif income == "Aktivitetsersättning" and age >= 30:
        income = rng.choice(["Sjukersättning", "Sjukpenning"])  # ... and from 30 sjukersättning
    edu = rng.choices(EDUCATION, spec["edu"])[0]
    r = rng.random()  # stay length: mostly 3-14 months, some early drop-outs, some long stays
    months = rng.uniform(0.4, 3) if r < 0.12 else rng.uniform(14, 22) if r > 0.95 else rng.triangular(3, 14, 7)
    end = start + dt.timedelta(days=round(months * 30.44))
    forced = spec["end"] is not None and end > spec["end"]
    end = spec["end"] if forced else end
    row = dict(insats=name, sex=sex, birth=start.year - age, age=age, start=start, end=None, reason=None,
               unit=None if rng.random() < 0.015 else unit, income=income, income_exit=None, edu=edu,
               consent=rng.random() >= 0.08)
    if end <= EXPORT:
        w = list(spec["exit"])
        w[0] *= {"Förgymnasial": 0.8, "Eftergymnasial 3 år eller längre": 1.3}.get(edu, 1.0)
        w[2] *= spec["ill_w"] if sex == "K" else 1.0
        w[4] *= 3 if months < 3 else 1  # early leavers mostly drop out
        w[1] *= 2.5 if forced else 1    # initiative closed: moved on to other rehabilitation
        code = rng.choices(range(1, 7), w)[0]
        row.update(end=end, reason=None if rng.random() < 0.03 else code, income_exit=exit_income(code, income))
    return row


def exit_income(code: int, start_income: str) -> str | None:
    if rng.random() < 0.05:
        return None
    if code == 1:
        return rng.choices(["Arbete", "Studier", "A-kassa/Aktivitetsstöd"], [55, 25, 20])[0]
    if code == 3:
        return rng.choices(["Sjukpenning", "Sjukersättning", start_income], [50, 30, 20])[0]
    if code == 2 and rng.random() < 0.4:
        return rng.choice(["Sjukpenning", "Rehabiliteringspenning", "A-kassa/Aktivitetsstöd", "Försörjningsstöd"])
    return start_income


def build_enrollments() -> list[dict]:
    rows = [make_enrollment(name, spec) for name, spec in INITIATIVES.items() for _ in range(spec["n"])]
    rows.sort(key=lambda r: (r["start"], r["insats"]))
    number = 4000  # running numbers in order of enrollment, with gaps (deleted drafts)
    for r in rows:
        number += rng.choice([1, 1, 1, 2, 3])
        r["id"] = f"MS-{number:06d}"
    ended = [r for r in rows if r["end"]]
    reused, ids_in = set(), {}
    for r in rows:
        ids_in.setdefault(r["insats"], set()).add(r["id"])
    for r in rng.sample(rows, len(rows)):  # ~70 people come back in another initiative
        if len(reused) >= 70:
            break
        prior = [p for p in ended if p["insats"] != r["insats"] and p["end"] < r["start"] - dt.timedelta(days=20)
                 and p["id"] not in reused and p["id"] not in ids_in[r["insats"]]]
        if prior and rng.random() < 0.5:
            p = rng.choice(prior[-200:])
            r.update(id=p["id"], sex=p["sex"], birth=p["birth"], edu=p["edu"], age=r["start"].year - p["birth"])
            reused.add(p["id"])
            ids_in[r["insats"]].add(p["id"])
    return sorted(rows, key=lambda r: (list(INITIATIVES).index(r["insats"]), r["start"], r["id"]))


# ------------------------------------------------------------------ cell styles of each export

def sex_cell(sex: str, short_share: float) -> str:
    if sex == "A":
        return "Annat"
    if sex == "?":
        return rng.choice(["", "Vill ej uppge"])
    short = rng.random() < short_share
    return ("K" if short else "Kvinna") if sex == "K" else ("M" if short else "Man")


def reason_cell(code: int | None, as_text: bool):
    if code is None:
        return ""
    r = rng.random()
    if r < 0.25:
        return f"{code} - {REASON_TEXT[code]}"
    if r < 0.35:
        return f"{code}.0" if as_text else float(code)
    return str(code) if as_text else code


def consent_cell(ok: bool) -> str:
    return ("ja" if rng.random() < 0.1 else "Ja") if ok else ("nej" if rng.random() < 0.1 else "Nej")


def xlsx_date(d: dt.date | None):
    if d is None:
        return None
    r = rng.random()
    if r < 0.03:
        return (d - dt.date(1899, 12, 30)).days  # Excel serial as a plain number
    if r < 0.08:
        return d.isoformat() if rng.random() < 0.5 else d.strftime("%d/%m/%Y")
    return d


def save_xlsx(wb: Workbook, path: Path) -> None:
    """Save, then re-zip with fixed timestamps so that reruns are byte-identical."""
    wb.properties.creator = FORBUND
    wb.properties.created = FIXED_TS
    buf = io.BytesIO()
    wb.save(buf)
    out = io.BytesIO()
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + FIXED_TS.isoformat().encode() + b"Z", data)
            dst.writestr(zipfile.ZipInfo(info.filename, FIXED_TS.timetuple()[:6]), data, zipfile.ZIP_DEFLATED)
    path.write_bytes(out.getvalue())


def write_rows(ws, rows: list[list], date_cols: set[int] = frozenset(), first_width: int = 14) -> None:
    for row in rows:
        ws.append(row)
        for c in date_cols:
            cell = ws.cell(ws.max_row, c + 1)
            if isinstance(cell.value, dt.date):
                cell.number_format = "yyyy-mm-dd"
    for col, width in zip("ABCDEFGHIJKL", [first_width, 18, 8, 10, 12, 12, 26, 34, 28, 26, 30, 10]):
        ws.column_dimensions[col].width = width


def write_participants_xlsx(rows: list[dict]) -> None:
    headers = {  # the two sheets come from different templates, hence different aliases
        "Rehab och hälsa": ["Deltagar-ID", "Insats", "Kön", "Födelseår", "Startdatum", "Slutdatum", "Avslutsorsak",
                            "Remittent", "Försörjning vid start", "Försörjning vid avslut", "Utbildning", "Samtycke"],
        "Arbete och unga": ["DeltagarID", "Insatsnamn", "Kön", "Ålder vid start", "Inskrivningsdatum",
                            "Avslutsdatum", "Avslutsorsak", "Remitterande aktör", "Ersättning vid start",
                            "Försörjning efter", "Utbildningsnivå", "Samtycke"],
    }
    wb = Workbook()
    wb.remove(wb.active)
    for sheet, header in headers.items():
        ws = wb.create_sheet(sheet)
        mine = [r for r in rows if INITIATIVES[r["insats"]]["out"] == sheet]
        young = sheet == "Arbete och unga"
        body = [[r["id"], r["insats"], sex_cell(r["sex"], 0.7 if young else 0.15), r["age"] if young else r["birth"],
                 xlsx_date(r["start"]), xlsx_date(r["end"]), reason_cell(r["reason"], as_text=False),
                 r["unit"], r["income"], r["income_exit"], r["edu"], consent_cell(r["consent"])] for r in mine]
        body = [[None if v == "" else v for v in row] for row in body]
        write_rows(ws, [[f"{FORBUND} – deltagarförteckning"], [f"Uttag {EXPORT.isoformat()}"], [], header,
                        *body, [], ["Summa", len(body)]], date_cols={4, 5})
    save_xlsx(wb, OUT / "deltagare_2023-2025.xlsx")


def write_csv(path: Path, rows: list[list], encoding: str) -> None:
    buf = io.StringIO()
    csv.writer(buf, delimiter=";", lineterminator="\r\n").writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))


def write_jobbstegen_csv(rows: list[dict]) -> None:
    def d(x):
        return "" if x is None else x.isoformat() if rng.random() < 0.8 else x.strftime("%Y/%m/%d")
    header = ["Löpnummer", "Insats", "Kön", "Födelseår", "Startdatum", "Slutdatum", "Avslutsorsak", "Anmälare",
              "Försörjning vid start", "Försörjning vid avslut", "Utbildning", "Samtycke"]
    body = [[r["id"], r["insats"], sex_cell(r["sex"], 0.1).replace("Kvinna", rng.choice(["Kvinna", "Kvinna", "kvinna"])),
             r["birth"], d(r["start"]), d(r["end"]), reason_cell(r["reason"], as_text=True), r["unit"] or "",
             r["income"], r["income_exit"] or "", r["edu"], consent_cell(r["consent"])]
            for r in rows if INITIATIVES[r["insats"]]["out"] == "csv"]
    write_csv(OUT / "deltagare_jobbstegen.csv", [header, *body, [""] * 12, ["Summa", len(body)] + [""] * 10], "cp1252")


def write_anonymous_csv() -> None:
    rows = [["Insats", "Inregistreringsår", "Kvinnor", "Män", "Annat/Okänt"]]
    for name, year in [("Steg till arbete", 2023), ("Steg till arbete", 2024), ("Steg till arbete", 2025),
                       ("Hälsokraft", 2023), ("Hälsokraft", 2025), ("Spira", 2024), ("Unga Vägar", 2025),
                       ("Jobbstegen", 2024), ("Kvinnokraft", 2025)]:
        w = INITIATIVES[name]["women"]
        rows.append([name, year, min(6, rng.randint(0, 7) if w > .5 else rng.randint(0, 3)),
                     0 if w > .9 else min(6, rng.randint(0, 6) if w <= .5 else rng.randint(0, 3)),
                     rng.choice([0, 0, 0, 1])])
    write_csv(OUT / "anonyma_deltagare.csv", rows, "utf-8-sig")


def active_months(spec: dict, year: int) -> int:
    first = max(spec["start"], dt.date(year, 1, 1))
    last = min(spec["end"] or dt.date(year, 12, 31), dt.date(year, 12, 31))
    return max(0, (last.year - first.year) * 12 + last.month - first.month + 1)


# A structural initiative: competence and collaboration for the parties' staff; counts of participants only. It
# has no budget lines here, so that the budget file, and every figure of the pages from before it, stay as they were.
STRUCTURAL = "Samverkan Sörmland"
STRUCTURAL_COUNTS = {2023: 142, 2024: 186, 2025: 211}


def write_budget_xlsx() -> dict[int, list[list]]:
    yearly = {"Steg till arbete": 2_800_000, "Hälsokraft": 2_700_000, "Spira": 2_200_000, "MIA Vidare": 2_600_000,
              "Unga Vägar": 2_500_000, "Kvinnokraft": 2_300_000, "Jobbstegen": 2_450_000}  # full-year budget
    wb = Workbook()
    wb.remove(wb.active)
    lines_by_year: dict[int, list[list]] = {}
    for year in (2023, 2024, 2025):
        lines = []
        for name, spec in INITIATIVES.items():
            months = active_months(spec, year)
            if not months:
                continue
            total = yearly[name] * months / 12 * rng.uniform(0.94, 1.08)
            split = {("Personal", "Förbundet"): 0.76, ("Lokaler", "Förbundet"): 0.1, ("Övrigt", "Förbundet"): 0.14}
            if name == "Unga Vägar":  # ESF co-financing of the staff
                split = {("Personal", "Förbundet"): 0.46, ("Personal", "ESF"): 0.3, **dict(list(split.items())[1:])}
            if name == "Jobbstegen":  # the municipality contributes staff time in kind
                split[("Personal", "Medfinansiering")] = 0.12
            for (cat, funder), share in split.items():
                budget = int(round(total * share, -2))
                no_actual = year == 2025 and name in ("MIA Vidare", "Unga Vägar")
                actual = None if no_actual else int(round(budget * rng.uniform(0.82, 1.05), -2 if year == 2025 else 0))
                lines.append([name, year, cat, funder, budget, actual])
        lines_by_year[year] = lines
        tot_b, tot_a = sum(ln[4] for ln in lines), sum(ln[5] or 0 for ln in lines)
        ws = wb.create_sheet(f"Budget {year}")
        if year == 2023:  # plain numbers in kronor
            write_rows(ws, [["Insats", "År", "Kostnadsslag", "Finansiär", "Budget", "Utfall"], *lines,
                            ["Totalt", None, None, None, tot_b, tot_a]], first_width=18)
        elif year == 2024:  # amounts typed as Swedish text, under a title line
            def fmt(v):
                return None if v is None else swedish_amount(v)
            write_rows(ws, [[f"Budget och utfall {year}"], [], ["Insats", "År", "Kostnadsslag", "Finansiär", "Budget",
                            "Utfall"], *[ln[:4] + [fmt(ln[4]), fmt(ln[5])] for ln in lines],
                            ["Totalt", None, None, None, fmt(tot_b), fmt(tot_a)]], first_width=18)
        else:  # thousands of kronor
            def tkr(v):
                return None if v is None else round(v / 1000, 1)
            write_rows(ws, [["Insats", "År", "Kostnadsslag", "Finansiär", "Budget (tkr)", "Utfall (tkr)"],
                            *[ln[:4] + [tkr(ln[4]), tkr(ln[5])] for ln in lines],
                            ["Totalt", None, None, None, tkr(tot_b), tkr(tot_a)]], first_width=18)
    save_xlsx(wb, OUT / "budget_2023-2025.xlsx")
    return lines_by_year


def swedish_amount(v: float) -> str:
    digits = f"{int(v):,}"
    style = rng.choice(["space", "nbsp", "kr", "nbsp kr", "dot"])
    if style == "dot":
        return digits.replace(",", ".")
    sep = "\u00a0" if "nbsp" in style else " "
    return digits.replace(",", sep) + (sep + "kr" if "kr" in style else "")


def write_register_xlsx() -> None:
    meta = {  # owner, partners, planned end, target share women, target share to work/studies
        "Steg till arbete": ("Eskilstuna kommun", "Försäkringskassan, Region Sörmland", dt.date(2026, 12, 31), "50 %", "35 %"),
        "Hälsokraft": ("Region Sörmland", "Eskilstuna kommun, Försäkringskassan", None, "0,6", "25 %"),
        "Spira": ("Region Sörmland", "Nyköpings kommun, Försäkringskassan", dt.date(2024, 9, 30), None, "0,2"),
        "MIA Vidare": ("Eskilstuna kommun", "Arbetsförmedlingen, Försäkringskassan, Region Sörmland",
                       dt.date(2026, 6, 30), "50 %", "40 %"),
        "Unga Vägar": ("Nyköpings kommun", "Arbetsförmedlingen, Region Sörmland", dt.date(2026, 12, 31), "45 %", "45 %"),
        "Kvinnokraft": ("Flens kommun", "Arbetsförmedlingen", dt.date(2026, 12, 31), "100 %", None),
        "Jobbstegen": ("Katrineholms kommun", "Arbetsförmedlingen, Försäkringskassan, Vingåkers kommun",
                       dt.date(2026, 12, 31), "40 %", "0,45"),
    }
    body = []
    for name, spec in INITIATIVES.items():
        owner, partners, end, women, positive = meta[name]
        years = ((spec["end"] or dt.date(2025, 12, 31)) - spec["start"]).days / 365.25
        planned = 5 * round(spec["n"] / years * rng.uniform(0.9, 1.25) / 5)
        body.append([name, owner, partners, spec["start"], end, planned, women, positive, "Individinriktad",
                     TARGET_GROUPS[name], "Ja" if name == "Unga Vägar" else "Nej"])
    body.append([STRUCTURAL, "Samordningsförbundet Mälardalen Syd", "Försäkringskassan, Arbetsförmedlingen, "
                 "Region Sörmland, kommunerna", dt.date(2023, 1, 1), dt.date(2026, 12, 31), 180, None, None,
                 "Strukturövergripande", TARGET_GROUPS[STRUCTURAL], "Nej"])
    wb = Workbook()
    ws = wb.active
    ws.title = "Insatser"
    write_rows(ws, [["Insats", "Insatsägare", "Samverkansparter", "Startdatum", "Slutdatum",
                     "Planerat antal deltagare", "Mål andel kvinnor", "Mål andel till arbete/studier", "Inriktning",
                     "Målgrupp", "ESF-finansierad"], *body],
               date_cols={3, 4}, first_width=18)
    save_xlsx(wb, OUT / "insatser.xlsx")


TARGET_GROUPS = {
    "Steg till arbete": "Sjukskrivna 20–64 år som behöver samordnat stöd för att närma sig arbete",
    "Hälsokraft": "Personer med långvarig psykisk ohälsa eller smärta",
    "Spira": "Unga vuxna med aktivitetsersättning",
    "MIA Vidare": "Arbetslösa med försörjningsstöd, långt från arbetsmarknaden",
    "Unga Vägar": "Unga 16–29 år som varken arbetar eller studerar",
    "Kvinnokraft": "Utrikesfödda kvinnor långt från arbetsmarknaden",
    "Jobbstegen": "Personer med försörjningsstöd som behöver arbetslivsinriktad rehabilitering",
    STRUCTURAL: "Personal hos Försäkringskassan, Arbetsförmedlingen, regionen och kommunerna",
}


def write_structural_csv() -> None:
    rows = [["Insats", "År", "Antal deltagare"], *[[STRUCTURAL, y, n] for y, n in STRUCTURAL_COUNTS.items()]]
    write_csv(OUT / "strukturovergripande_deltagare.csv", rows, "utf-8-sig")


# The association's economy: what the parties allocate (50/25/25, the municipalities' quarter split between them),
# the administration, and the equity that follows from what was used.
ALLOCATED = {2023: 18_000_000, 2024: 19_000_000, 2025: 19_600_000}
MUNICIPALITIES = {"Eskilstuna kommun": 0.45, "Nyköpings kommun": 0.25, "Katrineholms kommun": 0.18,
                  "Flens kommun": 0.12}
ADMINISTRATION = {2023: 2_100_000, 2024: 2_150_000, 2025: 2_200_000}
EQUITY_2023 = 4_200_000


def write_economy_xlsx(lines_by_year: dict[int, list[list]]) -> None:
    rows, equity = [], EQUITY_2023
    for year, allocated in ALLOCATED.items():
        parts = {"Försäkringskassan": allocated // 2, "Region Sörmland": allocated // 4}
        quarter = allocated - sum(parts.values())
        towns = {k: int(round(quarter * v)) for k, v in MUNICIPALITIES.items()}
        towns["Flens kommun"] += quarter - sum(towns.values())
        parts |= towns
        rows += [[year, "Tilldelade medel", party, amount, amount] for party, amount in parts.items()]
        admin = int(round(ADMINISTRATION[year] * follow_rng.uniform(0.92, 1.04), -2))
        rows.append([year, "Administration", None, ADMINISTRATION[year], admin])
        cost: dict[str, list] = {}
        for line in lines_by_year[year]:
            cost.setdefault(line[0], []).append(line)
        used = admin
        for ls in cost.values():  # an initiative's cost is its actual, else its budget (as metrics/cost.py counts)
            actual = [ln[5] for ln in ls if ln[5] is not None]
            used += sum(actual) if actual else sum(ln[4] for ln in ls)
        rows.append([year, "Eget kapital vid årets början", None, None, equity])
        equity += allocated - used
        rows.append([year, "Eget kapital vid årets slut", None, None, equity])
    wb = Workbook()
    ws = wb.active
    ws.title = "Ekonomi"
    write_rows(ws, [[f"{FORBUND} – ekonomi 2023–2025"], [], ["År", "Post", "Part", "Budget", "Utfall"], *rows],
               first_width=8)
    for col, width in zip("BCDE", [30, 24, 14, 14]):
        ws.column_dimensions[col].width = width
    save_xlsx(wb, OUT / "forbundets_ekonomi.xlsx")


README = """# Exempeldata / Sample data

**Svenska:** Filerna i den här mappen är genererade med `python scripts/make_sample.py` (fast slumpfrö,
samma filer varje gång). Förbundet "Samordningsförbundet Mälardalen Syd", insatserna och alla deltagare är
påhittade; inga uppgifter rör verkliga personer. Filerna har medvetet samma brister som riktiga exporter.

**English:** The files in this folder are generated by `python scripts/make_sample.py` (fixed seed, same
files every run). The association, its initiatives and all participants are fictional; no data concern
real persons. The files deliberately carry the quirks of real exports described in the data contract.
"""


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name in OWNED:
        (OUT / name).unlink(missing_ok=True)
    rows = build_enrollments()
    write_participants_xlsx(rows)
    write_jobbstegen_csv(rows)
    write_anonymous_csv()
    lines_by_year = write_budget_xlsx()
    write_register_xlsx()
    write_structural_csv()
    write_economy_xlsx(lines_by_year)
    (OUT / "README.md").write_text(README, encoding="utf-8", newline="\n")
    print(f"{len(rows)} inskrivningar skrivna till {OUT}")


if __name__ == "__main__":
    main()
