"""The shared vocabulary: the categories every table is split by, in code (English) and on screen (Swedish).

One place for each word, so that a page, an export, the deck and the report cannot
drift apart ("Annat/okänt" in one, "Annat" in another).
"""
from __future__ import annotations

# Sex as the figures are split: the stored woman/man/other/unknown become women/men/other
# (`other` counts both other and unknown sex, as the data contract's report does).
SEXES = ("women", "men", "other")
SEX_COLUMNS = (*SEXES, "total")
SEX_LABELS = {"women": "Kvinnor", "men": "Män", "other": "Annat/okänt", "total": "Totalt"}
SEX_WORDS = {"women": "kvinnor", "men": "män", "other": "annat/okänt", "total": "totalt"}  # inside a sentence
SEX_SINGULAR = {"women": "Kvinna", "men": "Man", "other": "Annat/okänt"}  # one person's sex, in row exports

TOTAL = "Totalt"  # the label of a total row or column
MISSING = "Uppgift saknas"  # a category with no information: no referrer, no consent, an anonymous count

AGENCIES = ("Försäkringskassan", "Arbetsförmedlingen", "Kommun", "Region", "Annan")
OTHER_AGENCY = "Annan"  # where a referrer that matches nothing in data/referrers.csv goes
AGENCY_ORDER = (*AGENCIES, MISSING)  # the order every table, chart and filter lists agencies in

# Age at start; the order tables and charts show them in.
AGE_GROUPS = ("16–29", "30–49", "50–64", "65+", "Under 16", "Okänd")
AGE_UNKNOWN = "Okänd"

UNKNOWN_REASON = "unknown"  # exit-reason key for an exit without consent or without a code
WIDE_POSITIVE_EXTRA = "2"  # the wider positive figure adds code 2 (further rehabilitation) to the positive codes

# The kinds of table the loader recognises, with the Swedish word staff see in messages.
TABLE_KINDS = {
    "participants": "deltagare",
    "anonymous": "anonyma deltagare",
    "budget": "budget",
    "initiatives": "insatsregister",
    "structural": "strukturövergripande insatser",  # counts of participants only: no sex, no individual data
    "economy": "förbundets ekonomi",
}

# What changed the database (etl/history.py), as the history and the audit log name it.
CHANGE_ACTIONS = {
    "load": "Inläsning",
    "undo": "Ångring",
    "mapping": "Ändrad remittentmappning",
}

# The national follow-up (Uppföljning Finsam): every initiative is one or the other. An initiative with both
# parts is registered as two initiatives.
DIRECTIONS = {"individual": "Individinriktad", "structural": "Strukturövergripande"}
DIRECTION_SHEETS = {"individual": "Individinriktade insatser", "structural": "Strukturövergripande insatser"}

# Who finances a samordningsförbund, and the shares the Finsam act (2003:1210) sets: the state through
# Försäkringskassan half, the region a quarter, the municipalities together a quarter.
PARTIES = {"state": "Staten (Försäkringskassan)", "region": "Regionen", "municipalities": "Kommunerna"}
PARTY_SHARES = {"state": 0.5, "region": 0.25, "municipalities": 0.25}
SHARE_TOLERANCE = 0.001  # a tenth of a percentage point: a year's shares further off are flagged

# The posts of the association's own economy (one file kind), as staff see them.
ECONOMY_ITEMS = {"allocated": "Tilldelade medel", "equity_start": "Eget kapital vid årets början",
                 "equity_end": "Eget kapital vid årets slut", "administration": "Administration"}

# Words the metrics layer puts into its results, and messages it raises, that pages show as they are.
UNKNOWN_REASON_LABEL = "Okänd orsak (ej samtycke/ej angiven)"  # the exits of reason UNKNOWN_REASON
TOTAL_ROW = "Alla förbund"  # the whole's row in the Förbund page's table
SELECTED_ROW = "Valda förbund"  # … when the filter chose some associations
# Under protection (metrics.suppress): a period off the year's grid, a year whose shorter periods could not be
# protected, a whole over several associations. Constants, with no data in them.
OFF_GRID = ("Med skydd för små tal visas styrelsens perioder, ett år i taget: helår, delår (januari–augusti) och "
            "tertial. Ett eget datumintervall kunde ställas mot dem och ge bort dolda tal; välj en av dem under "
            "Period i sidopanelen.")
YEAR_ONLY_MESSAGE = ("Med skydd för små tal visas bara helåret för det här urvalet: förbundets delår och tertial "
                     "är för många små tal för att skyddas tillsammans med helåret utan att ge bort dolda tal. "
                     "Välj Helår under Period i sidopanelen.")
SEVERAL_ASSOCIATIONS = ("Skyddet för små tal gäller ett förbund i taget. Välj ett förbund i sidopanelen; förbunden "
                        "jämförs sida vid sida på sidan Förbund.")

def counted(n: int, singular: str, plural: str) -> str:
    """`n` with its noun in Swedish number: "1 varning", "2 varningar", "0 varningar" (never "1 varningar")."""
    return f"{n} {singular if n == 1 else plural}"
