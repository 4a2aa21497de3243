"""Jämställdhet: do women and men reach the initiatives, and leave them, on equal terms?"""
import pandas as pd
import streamlit as st

from core.vocabulary import SEXES
from metrics.definitions import describe
from metrics.people import (DEFAULT_WOMEN_TARGET, LARGE_GAP, age_by_sex, by_sex_per_initiative, headline,
                            reason_shares, women_share_vs_target)
from render.charts import grouped_sex_bars, reason_share_by_sex, sex_bars, share_bars, top_n
from render.format import fmt_int, fmt_pct, fmt_pp
from render.protected import hidden_shares
from render.text import md
from render.theme import SEX_COLORS
from ui import protection
from ui.data import run
from ui.layout import SEX_FORMATS, chart, empty, filters_or_stop, kpis, page_header, rename_sex

MEASURES = {"participants": "Deltagare", "started": "Nya", "exited": "Avslutade"}
FLAGS_NAMED = 10

f = filters_or_stop()
page_header("Jämställdhet", "Kvinnor, män och annat/okänt kön bland deltagare, nya och avslutade.", f)
t = protection.threshold()

h = run(headline, f)
if h.loc["participants", "total"] == 0:
    empty()
    st.stop()
fig = protection.shown(f).figures(h)  # the figures as this reader may see them
people = fig.by_sex("participants")
women_share = fig.get("women_share")  # none under a filter on sex
kpis([
    dict(label="Kvinnor", value=protection.fmt_count(people["women"]), by_sex="deltagare under perioden"),
    dict(label="Män", value=protection.fmt_count(people["men"]), by_sex="deltagare under perioden"),
    dict(label="Annat/okänt kön", value=protection.fmt_count(people["other"]), by_sex="deltagare under perioden"),
    dict(label="Andel kvinnor", value=fmt_pct(women_share),
         # the change alone on the card (its width cut "från lika fördelning" to "från lik…" at 1440 px), the
         # reference beneath it, as Översikt's comparisons do
         by_sex="Visas inte när urvalet är ett kön" if f.sexes
         else f"jämfört med {fmt_pct(DEFAULT_WOMEN_TARGET, 0)} (lika fördelning)",
         delta=None if women_share is None else fmt_pp(women_share - DEFAULT_WOMEN_TARGET),
         help=describe("women_share")),
])

st.subheader("Per insats")
per = run(by_sex_per_initiative, f)
measure = st.radio("Visa", list(MEASURES), format_func=MEASURES.get, horizontal=True, key="jam_measure")
rows = per[(per.measure == measure) & (per.total > 0)].drop(columns="measure").reset_index(drop=True)
shown = protection.table(rows, measure, ["initiative"], f)
drawn = top_n(shown, "initiative")
chart(sex_bars(drawn, "initiative", f"{MEASURES[measure]} per insats och kön", axis_title=MEASURES[measure],
               threshold=t),
      rename_sex(shown.rename(columns={"initiative": "Insats"})), key="jam_per_insats", formats=SEX_FORMATS,
      caption="Diagrammet visar de 15 största insatserna; tabellen har alla." if len(drawn) < len(shown) else None)

st.subheader("Andel kvinnor per insats")
w = run(women_share_vs_target, f)
w = w[w.total > 0].reset_index(drop=True)
# per initiative over both sexes, whatever the filter on sex
w["women_share"] = protection.shown(f.with_(sexes=())).wide(
    w.rename(columns={s: f"participants_{s}" for s in (*SEXES, "total")}), ["women_share"]).women_share
registered = ~w.target_is_default
w["flag"] = [bool(r) and s is not None and abs(s - tg) > LARGE_GAP for r, s, tg in zip(registered, w.women_share, w.target)]
w["shown_target"] = [tg if r else None for r, tg in zip(registered, w.target)]
drawn = top_n(w[["initiative", "women_share", "shown_target", "flag", "total"]], "initiative") if len(w) > 16 else w
any_default = bool((~registered).any())
chart(share_bars(drawn, "initiative", "women_share", "Andel kvinnor bland deltagarna", color=SEX_COLORS["women"],
                 name="Andel kvinnor", target="shown_target" if registered.any() else None, flag="flag",
                 reference=DEFAULT_WOMEN_TARGET if any_default else None,
                 reference_name="50 %" if any_default else None),
      w.assign(Jämförelse=[("mål i insatsregistret" if r else "jämfört med 50 %") for r in registered],
               Avvikelse=[None if s is None else s - tg for s, tg in zip(w.women_share, w.target)],
               Flagga=["stor avvikelse" if fl else "" for fl in w.flag])[
          ["initiative", "women_share", "target", "Jämförelse", "Avvikelse", "Flagga"]].rename(
          columns={"initiative": "Insats", "women_share": "Andel kvinnor", "target": "Jämfört med"}),
      key="jam_mal", formats={"Andel kvinnor": "pct", "Jämfört med": "pct", "Avvikelse": "pp"},
      caption=("Svarta streck: insatsregistrets mål för andelen kvinnor. " if registered.any() else "")
      + ("Streckad linje: 50 %, för insatser utan mål i registret. " if any_default else "")
      + (f"Svart ram: mer än {fmt_pp(LARGE_GAP).lstrip('+')} från målet i registret." if w.flag.any() else ""))
flagged = w[w.flag]
gap = (pd.to_numeric(flagged.women_share) - flagged.target).abs()
flagged = flagged.loc[gap.sort_values(ascending=False, kind="stable").index]  # the furthest from its target first
if len(flagged):  # named up to FLAGS_NAMED; a national selection can flag hundreds, and the table has them all
    more = len(flagged) - FLAGS_NAMED
    st.warning("Stor avvikelse från målet i insatsregistret: " + ", ".join(
        f"{md(r.initiative)} ({fmt_pct(r.women_share)} mot målet {fmt_pct(r.target)})"
        for r in flagged.head(FLAGS_NAMED).itertuples())
        + (f" och {fmt_int(more)} till (kolumnen Flagga i tabellen *Visa som tabell*)." if more > 0 else ""))

st.subheader("Avslutsorsak per kön")
r = run(reason_shares, f)
if r.total.sum() == 0:
    empty("Inga avslut ännu under perioden.")
else:
    counts = protection.table(r[["reason", "label", *SEXES, "total"]], "exited", ["reason"], f)
    for s in (*SEXES, "total"):
        r[f"{s}_share"] = [protection.ratio(v, protection.count("exited", {}, s, f, d), n)
                           for v, d, n in zip(r[f"{s}_share"], r[f"{s}_exits"], counts[s])]
    table_df = counts.drop(columns="reason").copy()
    for s in (*SEXES, "total"):
        table_df[f"Andel {s}"] = r[f"{s}_share"]
    hidden = None
    if protection.enabled():  # a hidden count's share drawn hatched to the largest it can be, as in the board pack
        exits = {s: protection.count("exited", {}, s, f, r[f"{s}_exits"].iloc[0]) for s in SEXES}
        hidden = hidden_shares({s: list(counts[s]) for s in SEXES}, list(counts["total"]), exits, t)
    chart(reason_share_by_sex(r, "Andel av de avslutade per orsak, inom varje kön", hidden=hidden),
          table_df.rename(columns={"label": "Avslutsorsak", "women": "Kvinnor", "men": "Män", "other": "Annat/okänt",
                                   "total": "Totalt", "Andel women": "Andel kvinnor", "Andel men": "Andel män",
                                   "Andel other": "Andel annat/okänt", "Andel total": "Andel totalt"}),
          key="jam_orsak", formats=SEX_FORMATS | {c: "pct" for c in ("Andel kvinnor", "Andel män", "Andel annat/okänt",
                                                                      "Andel totalt")},
          caption="Andelen räknas inom varje kön: av alla avslutade kvinnor, hur stor del avslutades av en viss orsak?")

st.subheader("Ålder och kön")
a = run(age_by_sex, f)
a_shown = protection.table(a, "participants", ["age_group"], f)
chart(grouped_sex_bars(a_shown, "age_group", "Deltagare per åldersgrupp (ålder vid start) och kön",
                       axis_title="Deltagare", threshold=t, whole=people),
      rename_sex(a_shown.rename(columns={"age_group": "Åldersgrupp"})), key="jam_alder", formats=SEX_FORMATS)
