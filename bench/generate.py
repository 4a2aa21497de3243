"""Generate a national network's exports: N enrollments over 80 associations × about 40 initiatives, 15 years.

    python bench/generate.py [--n 1000000] [--out DIR] [--seed S]

Why: the dashboard must serve a region or the whole country (about a million enrollments) on
one 2-core machine, and the benchmark needs such data: deterministic, with the distributions
and the cell styles of real exports (`K`/`Kvinna`, `2 - Fortsatt rehabilitering`, `ja`/`Ja`,
referrer units that data/referrers.csv maps to an agency). Column-wise with numpy, so a
million rows take seconds. The profiles of the initiatives follow scripts/make_sample.py.

Everything is fictional. Ids look like `SF17-0001234`, never like a personnummer. Initiative
names carry their association's number (`Insats 17-3` is association 17's third), so they are
unique across associations.

Files written to DIR:
    deltagare.csv     participants (enrollments), `;`, UTF-8, all N rows
    deltagare.xlsx    participants, an evenly spread subset of `xlsx_rows` rows (openpyxl write-only)
    budget.csv        budget and actual per initiative, year, cost category and funder
    insatser.csv      the initiatives register (targets)
    enheter.csv       referrer unit → agency, as a hand-written pandas app would hard-code it
    manifest.json     what was generated
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

DEFAULT_SEED = 20261112
EPOCH = dt.date(1970, 1, 1)

PARTICIPANT_HEADER = ["Förbund", "Deltagar-ID", "Insats", "Kön", "Födelseår", "Startdatum", "Slutdatum",
                      "Avslutsorsak", "Remittent", "Försörjning vid start", "Försörjning vid avslut", "Utbildning",
                      "Samtycke"]
BUDGET_HEADER = ["Insats", "År", "Kostnadsslag", "Finansiär", "Budget", "Utfall"]
REGISTER_HEADER = ["Insats", "Insatsägare", "Samverkansparter", "Startdatum", "Slutdatum", "Planerat antal deltagare",
                   "Mål andel kvinnor", "Mål andel till arbete/studier"]

AGENCIES = ["Försäkringskassan", "Arbetsförmedlingen", "Kommun", "Region"]  # the four a profile refers from
OTHER, MISSING = "Annan", "Uppgift saknas"
REASON_TEXT = {1: "Arbete/studier", 2: "Fortsatt rehabilitering", 3: "Sjukdom", 4: "Flyttat/ej aktuell",
               5: "Avbrutit/annan orsak", 6: "Avliden/övrigt"}
EDUCATION = ["Förgymnasial", "Gymnasial", "Eftergymnasial kortare än 3 år", "Eftergymnasial 3 år eller längre", "Okänd"]
INCOMES = ["Sjukpenning", "Rehabiliteringspenning", "Aktivitetsersättning", "Sjukersättning", "Försörjningsstöd",
           "A-kassa/Aktivitetsstöd", "Ingen offentlig försörjning"]
# income at start by referring agency (rows follow AGENCIES, then units that match no agency)
INCOME_WEIGHTS = np.array([
    [35, 20, 20, 15, 0, 0, 10],   # Försäkringskassan
    [0, 0, 0, 0, 15, 70, 15],     # Arbetsförmedlingen
    [0, 0, 5, 0, 70, 10, 15],     # Kommun
    [35, 0, 10, 15, 15, 0, 25],   # Region
    [35, 0, 10, 15, 15, 0, 25],   # Annan
], dtype=float)

# Profiles, as in scripts/make_sample.py: women share, age (lo, hi, mode), referrals (FK, Af, Kommun, Region),
# exit weights for codes 1..6, extra weight on code 3 (illness) for women, education weights; weight of the profile.
PROFILES = [
    dict(women=0.58, age=(22, 64, 45), ref=[70, 10, 8, 12], exit=[40, 32, 14, 7, 9, 2], ill_w=1.0, edu=[25, 45, 12, 10, 8], w=3),
    dict(women=0.74, age=(25, 66, 47), ref=[15, 5, 15, 65], exit=[30, 32, 19, 7, 12, 2], ill_w=1.9, edu=[22, 45, 13, 12, 8], w=3),
    dict(women=0.64, age=(19, 55, 31), ref=[20, 5, 15, 60], exit=[25, 38, 19, 8, 10, 2], ill_w=1.6, edu=[28, 42, 12, 10, 8], w=2),
    dict(women=0.50, age=(20, 62, 38), ref=[15, 40, 35, 10], exit=[52, 17, 7, 11, 14, 2], ill_w=1.0, edu=[35, 38, 10, 9, 8], w=3),
    dict(women=0.41, age=(16, 29, 21), ref=[15, 35, 40, 10], exit=[58, 18, 5, 10, 12, 1], ill_w=1.0, edu=[45, 40, 6, 2, 7], w=3),
    dict(women=0.97, age=(20, 60, 37), ref=[10, 25, 60, 5], exit=[44, 24, 11, 9, 14, 1], ill_w=1.0, edu=[42, 25, 8, 8, 17], w=1),
    dict(women=0.30, age=(18, 64, 34), ref=[5, 20, 72, 3], exit=[54, 14, 5, 13, 15, 2], ill_w=1.0, edu=[38, 42, 8, 5, 7], w=2),
]

# Town names: fictional, and free of the words data/referrers.csv matches on (vård, region, kommun, af, fk, …).
_PREFIXES = ["Al", "Berg", "Ek", "Fal", "Gran", "Hag", "Lind", "Mal", "Norr", "Sand", "Sjö", "Strand", "Sunds", "Tall",
             "Ul", "Väst", "Ös", "Ås", "Björk", "Kvarn"]
_SUFFIXES = ["by", "köping", "hamn", "holm", "sund", "torp", "stad", "vik", "dal", "berga"]


@dataclass(frozen=True)
class Spec:
    n: int = 1_000_000
    associations: int = 80
    initiatives: int = 40  # per association, on average (±6)
    first_year: int = 2011
    last_year: int = 2025  # 15 years; the export is taken at the end of it
    seed: int = DEFAULT_SEED
    xlsx_rows: int = 100_000


@dataclass
class Generated:
    spec: Spec
    directory: Path
    participants_csv: Path
    participants_xlsx: Path
    budget_csv: Path
    register_csv: Path
    units_csv: Path
    rows: int
    xlsx_rows: int
    associations: int
    initiatives: int
    sizes: dict = field(default_factory=dict)

    @property
    def files(self) -> list[Path]:
        """The national exports to load together (the xlsx holds a subset of the same rows)."""
        return [self.register_csv, self.participants_csv, self.budget_csv]


def towns(count: int, rng: np.random.Generator) -> list[str]:
    combos = [p + s for p in _PREFIXES for s in _SUFFIXES]
    order = rng.permutation(len(combos))
    return [combos[i] for i in order[:count]]


def unit_table(association_towns: list[tuple[str, str]]) -> pd.DataFrame:
    """Every association's referring units, with the agency data/referrers.csv should give each."""
    rows = []
    for a, (t, t2) in enumerate(association_towns, start=1):
        units = {
            "Försäkringskassan": [f"Försäkringskassan LFC {t}", f"FK {t}", f"Försäkringskassan {t2}"],
            "Arbetsförmedlingen": [f"Arbetsförmedlingen {t}", f"Af {t2}", f"Arbetsförmedlingen Rusta och matcha {t}"],
            "Kommun": [f"Socialtjänsten {t} kommun", f"Ekonomiskt bistånd {t2}", f"Jobbtorg {t}",
                       f"Arbetsmarknadsenheten {t} kommun", f"Stadsdelsförvaltning {t} norr"],
            "Region": [f"Vårdcentralen {t}", f"Psykiatriska mottagningen {t}", f"Habiliteringen Region {t}",
                       f"Hälsocentralen {t2}", f"Vårdcentralen {t2}"],
            OTHER: [f"Frivården {t}", f"Studieförbundet Vuxenskolan {t}", f"Fontänhuset {t}"],  # map to no agency
        }
        for agency, names in units.items():
            rows += [(a, agency, name) for name in names]
    return pd.DataFrame(rows, columns=["association", "agency", "unit"])


def _choose(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """One category index per row of `weights` (rows need not sum to 1)."""
    cum = np.cumsum(weights, axis=1)
    u = rng.random(len(weights)) * cum[:, -1]
    return np.minimum((cum <= u[:, None]).sum(axis=1), weights.shape[1] - 1)


def _ordinal(d: dt.date) -> int:
    return (d - EPOCH).days


def _iso(days: np.ndarray) -> np.ndarray:
    """Days since 1970 → 'YYYY-MM-DD' strings."""
    return days.astype("datetime64[D]").astype(str)


def generate(spec: Spec, out: Path) -> Generated:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(spec.seed)
    last = dt.date(spec.last_year, 12, 31)
    last_o = _ordinal(last)

    # ------------------------------------------------------------ associations and initiatives
    names = towns(2 * spec.associations, rng)
    a_towns = [(names[2 * i], names[2 * i + 1]) for i in range(spec.associations)]
    a_names = np.array([f"Samordningsförbundet {t}" for t, _ in a_towns], dtype=object)
    a_weight = rng.lognormal(0, 0.6, spec.associations)  # a few big cities, many small associations
    per_assoc = np.clip(rng.integers(spec.initiatives - 6, spec.initiatives + 7, spec.associations), 1, None)
    i_assoc = np.repeat(np.arange(spec.associations), per_assoc)  # 0-based association of each initiative
    i_k = np.concatenate([np.arange(1, k + 1) for k in per_assoc])
    n_ini = len(i_assoc)
    i_name = np.array([f"Insats {a + 1}-{k}" for a, k in zip(i_assoc, i_k)], dtype=object)

    profile = rng.choice(len(PROFILES), n_ini, p=np.array([p["w"] for p in PROFILES]) / sum(p["w"] for p in PROFILES))
    women = np.clip(np.array([PROFILES[p]["women"] for p in profile]) + rng.normal(0, 0.05, n_ini), 0.05, 0.99)
    age_lo, age_hi, age_mode = (np.array([PROFILES[p]["age"][j] for p in profile], dtype=float) for j in range(3))
    ref = np.array([PROFILES[p]["ref"] for p in profile], dtype=float) * rng.uniform(0.7, 1.3, (n_ini, 4))
    exitw = np.array([PROFILES[p]["exit"] for p in profile], dtype=float) * rng.uniform(0.8, 1.2, (n_ini, 6))
    ill_w = np.array([PROFILES[p]["ill_w"] for p in profile])
    edu_w = np.array([PROFILES[p]["edu"] for p in profile], dtype=float)

    # when each initiative runs: some from the first year, most started later; some have closed
    start_year = np.where(rng.random(n_ini) < 0.3, spec.first_year,
                          rng.integers(spec.first_year, spec.last_year, n_ini))
    i_start = np.array([_ordinal(dt.date(int(y), 1, 1)) for y in start_year]) + rng.integers(0, 300, n_ini)
    closes = rng.random(n_ini) < 0.45
    i_end = i_start + (rng.uniform(1.5, 8, n_ini) * 365.25).astype(int)
    closes &= i_end < last_o
    i_end = np.where(closes, i_end, -1)  # -1: still running at the export
    window = np.where(closes, i_end - 90, last_o) - i_start + 1  # days in which someone can start
    i_weight = a_weight[i_assoc] * rng.lognormal(0, 0.5, n_ini) * window
    counts = rng.multinomial(spec.n, i_weight / i_weight.sum())

    # ------------------------------------------------------------ enrollments, column-wise
    n = spec.n
    ini = np.repeat(np.arange(n_ini), counts)
    start = i_start[ini] + (rng.random(n) * window[ini]).astype(np.int64)
    sex = np.where(rng.random(n) < women[ini], 0, 1)  # 0 woman, 1 man, 2 other, 3 unknown
    r = rng.random(n)
    sex = np.where(r < 0.012, 2, np.where(r < 0.032, 3, sex))
    age = np.floor(rng.triangular(age_lo[ini], age_mode[ini], age_hi[ini] + 0.99)).astype(int)
    r = rng.random(n)
    months = np.where(r < 0.12, rng.uniform(0.4, 3, n),
                      np.where(r > 0.95, rng.uniform(14, 22, n), rng.triangular(3, 7, 14, n)))
    end = start + np.round(months * 30.44).astype(np.int64)
    forced = (i_end[ini] >= 0) & (end > i_end[ini])
    end = np.where(forced, i_end[ini], end)
    ended = end <= last_o
    edu = _choose(rng, edu_w[ini])

    w = exitw[ini].copy()
    w[:, 0] *= np.where(edu == 0, 0.8, np.where(edu == 3, 1.3, 1.0))
    w[:, 2] *= np.where(sex == 0, ill_w[ini], 1.0)
    w[:, 4] *= np.where(months < 3, 3.0, 1.0)  # early leavers mostly drop out
    w[:, 1] *= np.where(forced, 2.5, 1.0)  # initiative closed: moved on to other rehabilitation
    code = _choose(rng, w) + 1
    code = np.where(ended & (rng.random(n) >= 0.03), code, 0)  # 0: no code (still enrolled, or not given)

    agency = _choose(rng, ref[ini])  # 0..3 as AGENCIES
    agency = np.where(rng.random(n) < 0.01, 4, agency)  # 4: a unit that maps to no agency
    units = unit_table(a_towns)
    unit_groups = units.groupby(["association", "agency"], sort=False).indices
    unit_offset = np.zeros((spec.associations, 5), dtype=np.int64)
    unit_count = np.zeros((spec.associations, 5), dtype=np.int64)
    for (a, ag), idx in unit_groups.items():
        j = (AGENCIES + [OTHER]).index(ag)
        unit_offset[a - 1, j], unit_count[a - 1, j] = idx.min(), len(idx)
    a_of = i_assoc[ini]
    unit_idx = unit_offset[a_of, agency] + (rng.random(n) * unit_count[a_of, agency]).astype(np.int64)
    unit = units.unit.to_numpy()[unit_idx]
    unit = np.where(rng.random(n) < 0.015, "", unit)

    income = _choose(rng, INCOME_WEIGHTS[agency])
    young = (age < 30) & ((agency == 0) | (agency == 3)) & (rng.random(n) < 0.5)
    income = np.where(young, 2, income)  # the young sick get aktivitetsersättning (19–29) …
    income = np.where((income == 2) & (age >= 30), np.where(rng.random(n) < 0.5, 3, 0), income)  # … from 30 not
    income_s = np.array(INCOMES, dtype=object)[income]
    r = rng.random(n)
    exit_income = np.where(code == 1, np.where(r < 0.55, "Arbete", np.where(r < 0.8, "Studier", INCOMES[5])),
                           np.where(code == 3, np.where(r < 0.5, INCOMES[0], np.where(r < 0.8, INCOMES[3], income_s)),
                                    income_s)).astype(object)
    exit_income = np.where(ended & (rng.random(n) >= 0.05), exit_income, "")

    r = rng.random(n)
    consent = np.where(r < 0.075, 0, np.where(r < 0.08, 2, 1))  # 0 no, 1 yes, 2 left empty (= no)
    birth = (np.array(start).astype("datetime64[D]").astype("datetime64[Y]").astype(int) + 1970) - age

    # order as a national export: by association, initiative, start; ids are running numbers per association
    order = np.lexsort((start, ini))
    ini, start, end, ended, sex, birth, code, unit, income_s, exit_income, edu, consent = (
        x[order] for x in (ini, start, end, ended, sex, birth, code, unit, income_s, exit_income, edu, consent))
    a_of = i_assoc[ini]
    seq = np.arange(n) - np.searchsorted(a_of, a_of) + 1  # rows are grouped by association
    # about 6 % come back in another initiative of the same association: pair rows at random within it
    shuffled = np.lexsort((rng.random(n), a_of))
    p0, p1 = shuffled[0:n - 1:2], shuffled[1:n:2]
    again = (a_of[p0] == a_of[p1]) & (ini[p0] != ini[p1]) & (rng.random(len(p0)) < 0.12)
    p0, p1 = p0[again], p1[again]
    seq[p1], sex[p1], birth[p1] = seq[p0], sex[p0], birth[p0]

    # ------------------------------------------------------------ cells as the systems export them
    r = rng.random(n)
    sex_cell = np.select(
        [sex == 0, sex == 1, sex == 2, sex == 3],
        [np.where(r < 0.75, "Kvinna", np.where(r < 0.95, "K", "kvinna")), np.where(r < 0.78, "Man", "M"),
         np.full(n, "Annat"), np.where(r < 0.6, "", "Vill ej uppge")], "").astype(object)
    r = rng.random(n)
    reason_text = np.array([""] + [f"{c} - {REASON_TEXT[c]}" for c in range(1, 7)], dtype=object)[code]
    code_s = np.array([""] + [str(c) for c in range(1, 7)], dtype=object)[code]
    reason_cell = np.where(code == 0, "", np.where(r < 0.25, reason_text, np.where(r < 0.35, code_s + ".0", code_s)))
    r = rng.random(n)
    consent_cell = np.select([consent == 1, consent == 0], [np.where(r < 0.9, "Ja", "ja"), np.where(r < 0.9, "Nej", "nej")],
                             "").astype(object)
    ids = (pd.Series(a_of + 1).map(lambda a: f"SF{a:02d}-") + pd.Series(seq).astype(str).str.zfill(7)).to_numpy()
    end_cell = np.where(ended, _iso(end), "")
    table = pd.DataFrame({
        "Förbund": a_names[a_of], "Deltagar-ID": ids, "Insats": i_name[ini], "Kön": sex_cell,
        "Födelseår": birth.astype(str), "Startdatum": _iso(start), "Slutdatum": end_cell, "Avslutsorsak": reason_cell,
        "Remittent": unit, "Försörjning vid start": income_s, "Försörjning vid avslut": exit_income,
        "Utbildning": np.array(EDUCATION, dtype=object)[edu], "Samtycke": consent_cell,
    })[PARTICIPANT_HEADER]
    participants_csv = out / "deltagare.csv"
    table.to_csv(participants_csv, sep=";", index=False, encoding="utf-8", lineterminator="\r\n")

    step = max(1, n // spec.xlsx_rows) if spec.xlsx_rows else 1
    subset = np.arange(0, n, step)[: spec.xlsx_rows]
    participants_xlsx = out / "deltagare.xlsx"
    _write_xlsx(participants_xlsx, table.iloc[subset], start[subset], end[subset], ended[subset], code[subset],
                birth[subset], rng)

    # ------------------------------------------------------------ budget, register, unit mapping
    budget_csv = out / "budget.csv"
    _budget(rng, spec, i_name, i_start, i_end, counts, window).to_csv(
        budget_csv, sep=";", index=False, encoding="utf-8", lineterminator="\r\n")
    register_csv = out / "insatser.csv"
    _register(rng, spec, i_name, i_assoc, a_towns, i_start, i_end, counts, window).to_csv(
        register_csv, sep=";", index=False, encoding="utf-8", lineterminator="\r\n")
    units_csv = out / "enheter.csv"
    units[["unit", "agency"]].to_csv(units_csv, sep=";", index=False, encoding="utf-8")

    g = Generated(spec, out, participants_csv, participants_xlsx, budget_csv, register_csv, units_csv,
                  rows=n, xlsx_rows=len(subset), associations=spec.associations, initiatives=n_ini)
    g.sizes = {p.name: p.stat().st_size for p in (participants_csv, participants_xlsx, budget_csv, register_csv)}
    (out / "manifest.json").write_text(json.dumps(
        {"spec": asdict(spec), "rows": n, "xlsx_rows": len(subset), "associations": spec.associations,
         "initiatives": n_ini, "sizes": g.sizes}, ensure_ascii=False, indent=2), encoding="utf-8")
    return g


def _write_xlsx(path: Path, table: pd.DataFrame, start, end, ended, code, birth, rng) -> None:
    """The same rows as in the CSV, with Excel's own types: date cells, numbers, and codes as numbers or text."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Deltagare")
    ws.append(PARTICIPANT_HEADER)
    starts = [EPOCH + dt.timedelta(days=int(d)) for d in start]
    ends = [EPOCH + dt.timedelta(days=int(d)) if e else None for d, e in zip(end, ended)]
    as_number = rng.random(len(table)) < 0.65  # most codes typed as numbers, the rest as '2 - …' or '2.0' text
    reasons = [int(c) if c and num else (cell or None) for c, num, cell in zip(code, as_number, table["Avslutsorsak"])]
    columns = [table[c].tolist() for c in PARTICIPANT_HEADER]
    columns[4] = [int(b) for b in birth]
    columns[5], columns[6], columns[7] = starts, ends, reasons
    for row in zip(*columns):
        ws.append([None if v == "" else v for v in row])
    wb.save(path)


def _budget(rng, spec: Spec, i_name, i_start, i_end, counts, window) -> pd.DataFrame:
    rows = []
    per_start = rng.uniform(20_000, 45_000, len(i_name))  # kronor per new participant and year
    no_actual_last = rng.random(len(i_name)) < 0.25  # last year's actual not yet booked: budget only
    esf = rng.random(len(i_name)) < 0.1
    for i, name in enumerate(i_name):
        y0 = (EPOCH + dt.timedelta(days=int(i_start[i]))).year
        y1 = spec.last_year if i_end[i] < 0 else (EPOCH + dt.timedelta(days=int(i_end[i]))).year
        # a Finsam initiative costs from a few hundred thousand to some millions of kronor a year
        yearly = min(max(300_000, counts[i] * 365 / max(window[i], 1) * per_start[i]), 9_000_000)
        split = [("Personal", "Förbundet", 0.76), ("Lokaler", "Förbundet", 0.10), ("Övrigt", "Förbundet", 0.14)]
        if esf[i]:
            split = [("Personal", "Förbundet", 0.46), ("Personal", "ESF", 0.30), *split[1:]]
        for y in range(y0, y1 + 1):
            total = yearly * rng.uniform(0.94, 1.08)
            missing = (y == spec.last_year and no_actual_last[i]) or rng.random() < 0.01
            for cat, funder, share in split:
                budget = int(round(total * share, -2))
                actual = "" if missing else str(int(round(budget * rng.uniform(0.82, 1.05))))
                rows.append((name, y, cat, funder, budget, actual))
    return pd.DataFrame(rows, columns=BUDGET_HEADER)


def _register(rng, spec: Spec, i_name, i_assoc, a_towns, i_start, i_end, counts, window) -> pd.DataFrame:
    rows = []
    for i, name in enumerate(i_name):
        t = a_towns[i_assoc[i]][0]
        owner = f"{t} kommun" if rng.random() < 0.6 else f"Region {t}"
        planned_end = "" if i_end[i] < 0 else (EPOCH + dt.timedelta(days=int(i_end[i]))).isoformat()
        per_year = counts[i] * 365 / max(window[i], 1)
        planned = int(5 * round(per_year * rng.uniform(0.9, 1.25) / 5))
        women = "" if rng.random() < 0.3 else f"{rng.choice([40, 50, 50, 60, 70])} %"
        positive = "" if rng.random() < 0.4 else f"{rng.choice([25, 30, 35, 40])} %"
        rows.append((name, owner, "Försäkringskassan, Arbetsförmedlingen",
                     (EPOCH + dt.timedelta(days=int(i_start[i]))).isoformat(), planned_end, planned, women, positive))
    return pd.DataFrame(rows, columns=REGISTER_HEADER)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=Spec.n)
    p.add_argument("--associations", type=int, default=Spec.associations)
    p.add_argument("--initiatives", type=int, default=Spec.initiatives)
    p.add_argument("--xlsx-rows", type=int, default=Spec.xlsx_rows)
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--out", type=Path, default=Path("/tmp/finsam-bench"))
    a = p.parse_args(argv)
    g = generate(Spec(n=a.n, associations=a.associations, initiatives=a.initiatives, xlsx_rows=a.xlsx_rows,
                      seed=a.seed), a.out)
    print(f"{g.rows} inskrivningar, {g.associations} förbund, {g.initiatives} insatser → {g.directory}")
    for name, size in g.sizes.items():
        print(f"  {name:<16} {size / 1e6:8.1f} MB")


if __name__ == "__main__":
    main()
