"""Översikt: how many did the initiatives reach, how did it go, and what did it cost — against last period?"""
import streamlit as st

from core.vocabulary import SEXES
from metrics.catalog import coverage, covers
from metrics.compare import key_figures
from metrics.cost import cost_by_initiative_year, cost_per_initiative, cost_summary
from metrics.definitions import describe
from metrics.people import by_initiative, headline
from render.charts import sex_bars, top_n
from render.protected import compared
from render.targets import below_targets, none_below_text, not_compared
from render.format import fmt_date_long, fmt_delta_int, fmt_int, fmt_kr, fmt_kr_kpi, fmt_pct, fmt_pp
from render.text import md, period_label
from ui import protection
from ui.data import run
from ui.layout import chart, empty, filters_or_stop, kpis, page_header, present, sex_line, table

f = filters_or_stop()
prev = f.previous()
previous_covered = covers(run(coverage), prev.start, prev.end)  # the same test as metrics.compare's
page_header("Översikt", "Deltagare, resultat och kostnad" + (f" – jämfört med {period_label(prev)}." if previous_covered
                                                             else "."), f)

now = run(headline, f)
if now.loc["participants", "total"] == 0:
    empty()
    st.stop()
before = run(headline, prev)
key = run(key_figures, f)  # now, the previous period and the targets, per key figure
cost_now = run(cost_summary, f)
years = run(cost_by_initiative_year, f)
# every figure below as this reader may see it: now, and the previous period under its own protection
fig_now = protection.shown(f).figures(now, cost_now, years)
fig_before = protection.shown_previous(prev).figures(before, run(cost_summary, prev), run(cost_by_initiative_year, prev))
# the change alone on the card (a longer wording is cut on a laptop); the previous value in the line below it
before_label = period_label(prev).capitalize()


def before_line(value) -> str:
    """'2024: 1 323' under a card, where the previous period is covered and its figure may be shown."""
    return f"  \n{before_label}: {value}" if previous_covered and value is not None else ""


def count_change(measure: str) -> str | None:
    """The change of a count, where both periods' counts may be shown."""
    change = compared(key, measure, fig_now, fig_before)[2]
    return None if change is None else fmt_delta_int(change)


def count_before(measure: str) -> str:
    earlier = compared(key, measure, fig_now, fig_before)[1]
    return "" if earlier is None else before_line(protection.fmt_count(earlier))


def share_change(measure: str) -> str | None:
    """Against the target where there is one, else against the previous period where both shares may be shown
    (each under its own period's protection: a change and one share give the other)."""
    value, _, change = compared(key, measure, fig_now, fig_before)
    if value is None:
        return None
    if key.loc[measure, "gap"] is not None:
        return f"{fmt_pp(key.loc[measure, 'gap'])} mot målet"
    return None if change is None else fmt_pp(change)


def share_before(measure: str) -> str:
    value, earlier, _ = compared(key, measure, fig_now, fig_before)
    return before_line(fmt_pct(earlier)) if value is not None and earlier is not None else ""


participants, started, exited, no_consent = (fig_now.by_sex(m) for m in ("participants", "started", "exited",
                                                                           "no_consent"))
positive = fig_now.by_sex("positive_share", (*SEXES, "total"))
wide = fig_now.by_sex("positive_wide_share", (*SEXES, "total"))
women = fig_now.get("women_share")
no_exits = now.loc["exited", "total"] == 0

# cost per participant rests on the participants of the initiative-years that have a cost
per_participant, per_participant_before, per_participant_change = compared(key, "cost_per_participant", fig_now,
                                                                           fig_before)
target = key.loc["participants", "target"]
line = sex_line(participants, protection.fmt_count, f.sexes)
if target is not None and not protection.is_hidden(participants["total"]):
    line += f"  \nMål {fmt_int(target)} per år ({fmt_delta_int(key.loc['participants', 'gap'])})"
cost_help = describe("cost_per_participant")
if f.sexes or f.agencies:
    cost_help += " Filtren på kön och remittent påverkar inte kostnaden."
if cost_now["budget_only"]:
    cost_help += " Endast budget finns för: " + ", ".join(map(md, cost_now["budget_only"])) + "."

kpis([
    dict(label="Deltagare", value=protection.fmt_count(participants["total"]), by_sex=line + count_before("participants"),
         delta=count_change("participants"), help=describe("participants")),
    dict(label="Nya deltagare", value=protection.fmt_count(started["total"]),
         by_sex=sex_line(started, protection.fmt_count, f.sexes) + count_before("started"), delta=count_change("started"),
         help=describe("started")),
    dict(label="Avslutade", value=protection.fmt_count(exited["total"]),
         by_sex=sex_line(exited, protection.fmt_count, f.sexes) + count_before("exited"), delta=count_change("exited"),
         help=describe("exited")),
    dict(label="Andel kvinnor", value=fmt_pct(women), by_sex="Bland periodens deltagare" + share_before("women_share"),
         delta=share_change("women_share"), help=describe("women_share")),
])
kpis([
    dict(label="Till arbete eller studier", value="–" if no_exits else fmt_pct(positive["total"]),
         by_sex="Inga avslut ännu under perioden." if no_exits else
         "Orsak 1, även aktivt arbetssökande.  \n" + sex_line(positive, fmt_pct, f.sexes)
         + share_before("positive_share"),
         delta=share_change("positive_share"), help=describe("positive_share")),
    dict(label="Arbete, studier eller rehab.", value="–" if no_exits else fmt_pct(wide["total"]),
         by_sex="Inga avslut ännu under perioden." if no_exits else
         "Orsak 1 eller 2 (fortsatt rehabilitering).  \n" + sex_line(wide, fmt_pct, f.sexes)
         + share_before("positive_wide_share"),
         delta=share_change("positive_wide_share"), help=describe("positive_wide_share")),
    dict(label="Kostnad per deltagare", value=fmt_kr_kpi(per_participant),
         by_sex="Utfall, annars budget, delat med deltagarna"
         # costs are kept per year: a delår or a tertial shows its year's figure, and says so
         + ("" if f.is_calendar_year else f" (hela {'åren' if f.end.year > f.start.year else 'året'} "
            f"{f.start.year}{'–' + str(f.end.year) if f.end.year > f.start.year else ''})")
         + (before_line(fmt_kr(per_participant_before)) if per_participant is not None
            and per_participant_before is not None else ""),
         delta=None if per_participant_change is None else fmt_kr(per_participant_change, signed=True),
         delta_color="inverse", help=cost_help),
    dict(label="Utan samtycke", value=protection.fmt_count(no_consent["total"]),
         by_sex=sex_line(no_consent, protection.fmt_count, f.sexes), help=describe("no_consent")),
])

if not previous_covered:
    st.caption(f"Ingen jämförelse med {period_label(prev)}: uppgifterna täcker den perioden bara delvis "
               f"(de börjar {fmt_date_long(run(coverage)['first'])}, så de som avslutades före dess saknas).")
else:
    st.caption(f"Förändringen på korten är mot {period_label(prev)}.")

st.subheader("Per insats")
ini = run(by_initiative, f)
ini = ini[ini.participants_total > 0].reset_index(drop=True)
ini = ini.join(run(cost_per_initiative, f).drop(columns="participants").set_index("initiative"), on="initiative")
ini = protection.shown(f).wide(ini, ["participants", "started", "exited", "positive_share", "positive_wide_share",
                                      "women_share", "cost_per_participant"], years)

people = ini.rename(columns=lambda c: c.replace("participants_", "") if c.startswith("participants_") else c)
calendar_targets = f.is_calendar_year and not (f.sexes or f.agencies) and people.target_participants.notna().any()
drawn = top_n(people[["initiative", *SEXES, "total", "target_participants"]], "initiative")
chart(sex_bars(drawn, "initiative", "Deltagare per insats och kön",
               targets=drawn.target_participants if calendar_targets else None,
               target_name="Mål (planerat antal per år)", axis_title="Deltagare", threshold=protection.threshold()),
      None, key="oversikt_insatser",
      caption=("Svarta streck: insatsregistrets planerade antal deltagare per år. " if calendar_targets else "")
      + ("Diagrammet visar de 15 största insatserna; tabellen nedan har alla." if len(drawn) < len(people) else ""))

FORMATS = {"Kvinnor": "int", "Män": "int", "Annat/okänt": "int", "Deltagare": "int", "Mål deltagare/år": "int",
           "Nya": "int", "Avslutade": "int", "Till arbete/studier": "pct", "Mål arbete/studier": "pct",
           "Arbete, studier eller rehab.": "pct", "Andel kvinnor": "pct", "Mål andel kvinnor": "pct",
           "Kostnad per deltagare": "kr"}
if not present():
    table(ini[["initiative", "participants_women", "participants_men", "participants_other", "participants_total",
               "target_participants", "women_share", "target_women_share"]].rename(columns={
        "initiative": "Insats", "participants_women": "Kvinnor", "participants_men": "Män",
        "participants_other": "Annat/okänt", "participants_total": "Deltagare", "target_participants": "Mål deltagare/år",
        "women_share": "Andel kvinnor", "target_women_share": "Mål andel kvinnor"}), FORMATS, key="oversikt_deltagare")
    table(ini[["initiative", "started_total", "exited_total", "positive_share_total", "target_positive_share",
               "positive_wide_share_total", "per_participant", "basis"]].rename(columns={
        "initiative": "Insats", "started_total": "Nya", "exited_total": "Avslutade",
        "positive_share_total": "Till arbete/studier", "target_positive_share": "Mål arbete/studier",
        "positive_wide_share_total": "Arbete, studier eller rehab.", "per_participant": "Kostnad per deltagare",
        "basis": "Kostnad enligt"}), FORMATS, key="oversikt_resultat")

st.subheader("Under målen")
short = below_targets(ini, calendar_year=f.is_calendar_year and not (f.sexes or f.agencies))
if f.sexes or f.agencies:
    st.caption("Målen gäller hela insatser: de jämförs inte när urvalet är begränsat till kön eller remittent.")
elif short.empty:
    st.caption(none_below_text(not_compared(ini, calendar_year=f.is_calendar_year)).removesuffix(".")
               + ("." if f.is_calendar_year else " (målet för antal deltagare gäller per år och jämförs bara för helår)."))
else:
    st.caption("Insatser under insatsregistrets mål, störst avvikelse först. Målet för antal deltagare gäller per år "
               "och jämförs bara för helår; dolda tal (skydd för små tal) jämförs inte.")
    table(short, key="oversikt_under_mal")
