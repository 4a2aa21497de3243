"""One declaration per figure: its Swedish name, what it means, what it divides by, how it is compared.

Modelled on dbt's metric blocks. Pages take their help texts from here, the board deck its
footnotes, the README its table of definitions (`python -m metrics.definitions` prints it;
a test keeps the README in step). The SQL that computes a figure lives in metrics/facts.py
(who counts in a period), metrics/people.py, metrics/cost.py, metrics/followup.py and
metrics/economy.py; the names here are the names those functions use for their rows and columns.
"""
from __future__ import annotations

from dataclasses import dataclass

COUNT, SHARE, KRONOR = "antal", "andel", "kr"
PREVIOUS_PERIOD = "previous_period"  # compared with the period of equal length just before


@dataclass(frozen=True)
class Figure:
    name: str  # the code name, as metrics functions name the row or column
    label: str  # what a page, the deck and an export call it
    description: str  # one or two Swedish sentences: help text, footnote, README
    unit: str  # COUNT, SHARE or KRONOR
    numerator: str | None = None  # a share or an amount per person: what is divided …
    denominator: str | None = None  # … by what
    by_sex: bool = True  # every figure about people is split by sex; money is not
    compare: str | None = PREVIOUS_PERIOD  # Översikt shows the change against the previous period

    @property
    def change_unit(self) -> str:
        """A change of a share is in percentage points, of a count in people, of money in kronor."""
        return {SHARE: "procentenheter", COUNT: "antal", KRONOR: "kr"}[self.unit]


_FIGURES = [
    Figure("participants", "Deltagare",
           "Inskrivna någon gång under perioden: start senast periodens sista dag och inget slut, eller slut "
           "tidigast periodens första dag. En person i två insatser räknas en gång i varje. Anonymt registrerade "
           "räknas det år de gäller.", COUNT),
    Figure("started", "Nya deltagare",
           "Start inom perioden; anonymt registrerade räknas som nya det år de gäller.",
           COUNT),
    Figure("exited", "Avslutade", "Slut inom perioden, oavsett avslutsorsak.", COUNT),
    Figure("no_consent", "Utan samtycke",
           "Periodens deltagare utan samtycke, anonymt registrerade medräknade. De räknas bara efter kön, ålder "
           "och datum; deras avslut har okänd orsak.", COUNT),
    Figure("exited_positive", "Avslut till arbete/studier",
           "Avslutade med avslutsorsak 1: till arbete, studier eller aktivt arbetssökande.", COUNT,
           compare=None),
    Figure("exited_positive_wide", "Avslut till arbete, studier eller rehabilitering",
           "Avslutade med avslutsorsak 1 (arbete, studier, arbetssökande) eller 2 (fortsatt rehabilitering).",
           COUNT, compare=None),
    Figure("positive_share", "Andel till arbete/studier",
           "Avslutade med orsak 1 (arbete, studier eller aktivt arbetssökande) delat med alla avslutade under "
           "perioden, även de med okänd orsak.", SHARE, "exited_positive", "exited"),
    Figure("positive_wide_share", "Andel till arbete, studier eller rehabilitering",
           "Avslutade med orsak 1 eller 2 (fortsatt rehabilitering) delat med alla avslutade under perioden.",
           SHARE, "exited_positive_wide", "exited"),
    Figure("women_share", "Andel kvinnor",
           "Kvinnor delat med alla deltagare under perioden. Visas inte när urvalet är begränsat till ett kön.",
           SHARE,
           "participants (kvinnor)", "participants", by_sex=False),
    Figure("budget", "Budget", "Insatsens budget för året, alla kostnadsslag och finansiärer, i kronor.", KRONOR,
           by_sex=False, compare=None),
    Figure("actual", "Utfall", "Insatsens faktiska kostnad för året, alla kostnadsslag och finansiärer, i kronor.",
           KRONOR, by_sex=False, compare=None),
    Figure("cost", "Kostnad",
           "Utfallet för insatsen och året; där året saknar utfall, budgeten (och det anges).", KRONOR,
           by_sex=False, compare=None),
    Figure("cost_per_participant", "Kostnad per deltagare",
           "Kostnad (utfall, annars budget) delat med insatsens alla deltagare samma kalenderår. Över flera "
           "insatser eller år: summerad kostnad delat med summerade deltagare, över de insatser och år som har "
           "både kostnad och deltagare. Kostnaden delas inte upp på kön eller remittent.", KRONOR,
           "cost", "participants", by_sex=False),
    Figure("cost_per_started", "Kostnad per ny deltagare",
           "Kostnad (utfall, annars budget) delat med insatsens nya deltagare samma kalenderår.", KRONOR,
           "cost", "started", by_sex=False, compare=None),
    Figure("cost_per_positive_exit", "Kostnad per avslut till arbete/studier",
           "Kostnad (utfall, annars budget) delat med insatsens avslut till arbete eller studier samma kalenderår.",
           KRONOR, "cost", "exited_positive", by_sex=False, compare=None),
    # the national follow-up and the association's economy (metrics/followup.py, metrics/economy.py)
    Figure("structural_participants", "Deltagare i strukturövergripande insatser",
           "Det antal deltagare en strukturövergripande insats rapporterar för året, utan kön och utan "
           "uppgifter om enskilda. Räknas aldrig in i deltagare, nya eller avslutade ovan.", COUNT,
           by_sex=False, compare=None),
    Figure("target_participants", "Budgeterat antal deltagare",
           "Insatsregistrets planerade antal deltagare per år.", COUNT, by_sex=False, compare=None),
    Figure("allocated", "Tilldelade medel",
           "Vad förbundets parter tilldelat förbundet för året (utfall, annars budget): staten genom "
           "Försäkringskassan hälften, regionen en fjärdedel och kommunerna tillsammans en fjärdedel. Avviker "
           "fördelningen från 50/25/25 med mer än 0,1 procentenhet flaggas det.", KRONOR,
           by_sex=False, compare=None),
    Figure("administration", "Administration",
           "Förbundets administrativa kostnader för året: utfallet, annars budgeten.", KRONOR,
           by_sex=False, compare=None),
    Figure("used", "Använda medel",
           "Insatsernas kostnad (utfall, annars budget) och administrationen samma år.", KRONOR,
           by_sex=False, compare=None),
    Figure("administration_share", "Administrationens andel",
           "Administrationen delat med använda medel samma år, över de år som har uppgift både om "
           "administrationen och om insatsernas kostnad.",
           SHARE, "administration", "used", by_sex=False, compare=None),
    Figure("equity_start", "Eget kapital vid årets början",
           "Förbundets eget kapital vid årets (periodens första års) början, enligt förbundets ekonomifil.", KRONOR,
           by_sex=False, compare=None),
    Figure("equity_end", "Eget kapital vid årets slut",
           "Förbundets eget kapital vid årets (periodens sista års) slut, enligt förbundets ekonomifil.", KRONOR,
           by_sex=False, compare=None),
    Figure("cost_per_participant_with_administration", "Kostnad per deltagare inklusive administration",
           "Som kostnad per deltagare, med insatsens del av administrationen lagd till kostnaden. Årets "
           "administration fördelas på årets insatser i proportion till deras kostnad (utfall, annars budget); "
           "även strukturövergripande insatser bär sin del.", KRONOR,
           "cost + andel av administrationen", "participants", by_sex=False, compare=None),
]

FIGURES: dict[str, Figure] = {f.name: f for f in _FIGURES}


def figure(name: str) -> Figure:
    return FIGURES[name]


def describe(name: str) -> str:
    """The help text of a figure: its description."""
    return FIGURES[name].description


def note(*names: str) -> str:
    """'Deltagare: inskrivna …  Avslutade: slut …': the definitions behind a slide or a table, in one text."""
    return " ".join(f"{FIGURES[n].label}: {FIGURES[n].description[0].lower()}{FIGURES[n].description[1:]}"
                    for n in names)


def markdown_table() -> str:
    """The README's table of definitions, generated so that it cannot drift from the code."""
    lines = ["| Mått | Definition | Enhet |", "|---|---|---|"]
    for f in _FIGURES:
        unit = f.unit + ("" if f.by_sex or f.unit == KRONOR else ", ej per kön")
        if f.unit != KRONOR and f.by_sex:
            unit += ", per kön"
        lines.append(f"| {f.label} | {f.description} | {unit} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
