"""Export: the filtered tables as Excel and CSV, for the association's staff."""
import streamlit as st

from metrics.catalog import status
from metrics.suppress import label, legend
from auth.roles import INDIVIDUAL_ROWS, PROTECTION_OFF, TABLE_DOWNLOADS
from render.text import describe, md
from ui import access, protection
from ui.data import cursor, run
from render.tables import (ENROLLMENTS, INDIVIDUAL_WARNING, csv_bytes, display_formats, enrollment_table, excel_bytes,
                        export_tables, file_stem, meta, slug)
from render.format import fmt_int, format_table
from render.uppfoljning import file_name as followup_file_name
from render.uppfoljning import followup_workbook
from ui.layout import dataframe, filters_or_stop, page_header

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv"

f = filters_or_stop()
access.require(TABLE_DOWNLOADS)  # issue 11: the page is for handläggare and up (app.py checks too)
page_header("Export", "Tabellerna för urvalet i sidopanelen som Excel eller CSV, för förbundets personal.", f,
            own_protection=True)  # the switch below decides: the rows and the follow-up are never protected
loaded = run(status)
t = protection.threshold()

st.subheader("Sammanställningar")
st.caption("Deltagare, nya, avslutade och utan samtycke per insats, remittent, avslutsorsak och åldersgrupp – "
           "uppdelat på kvinnor, män och annat/okänt kön – samt kostnad per insats och år. Samma siffror som "
           "sidorna visar, för samma urval.")
protect = st.checkbox(f"Skydda små tal ({label(t)})", value=True, key="export_protect",
                      disabled=access.protection_forced(), help=legend(t))
protect = protect or access.protection_forced()
if not protect:
    st.warning("Utan skydd för små tal kan enskilda personer gå att känna igen. Använd filen internt och "
               "skicka den inte vidare.", icon=":material/warning:")
# protected tables: one association at a time, and only for the year, its delår or a tertial
refused = protection.refusal(f) if protect else None
if refused is not None:
    st.info(refused, icon=":material/shield:")  # a constant: no data in it
    if not access.protection_forced():
        st.caption("Utan skydd för små tal (rutan ovan) kan tabellerna laddas ned för urvalet.")
else:
    tables = run(export_tables, f, protect=protect, threshold=t)

    def workbook() -> bytes:
        return excel_bytes(tables, meta(f, loaded, protect=protect, threshold=t), t)

    left, right = st.columns(2)
    with left:
        st.download_button("Ladda ned alla tabeller (Excel)",  # issue 22: the role is checked again when clicked
                           data=access.guarded(workbook, TABLE_DOWNLOADS, ""),
                           file_name=f"{file_stem(f, 'sammanstallning')}.xlsx", mime=XLSX, on_click="ignore",
                           key="export_xlsx", type="primary", icon=":material/download:", width="stretch")
        st.caption("Ett blad per tabell och först bladet Urval med filtren, exporttid och när data lästes in.")
    with right:
        choice = st.selectbox("Tabell som CSV", list(tables), key="export_csv_table")
        chosen = tables[choice]
        st.download_button("Ladda ned tabellen (CSV)",  # issue 22: the role is checked again when clicked
                           data=access.guarded(lambda: csv_bytes(chosen, t), TABLE_DOWNLOADS, ""),
                           file_name=f"{file_stem(f, slug(choice))}.csv", mime=CSV, on_click="ignore",
                           key="export_csv", icon=":material/download:", width="stretch")
        st.caption("Semikolonseparerad med decimalkomma: öppnas i kolumner i svenska Excel.")
    with st.expander(f"Förhandsvisa: {choice}"):
        spec = {c: (protection.fmt_count if k == "int" else k) for c, k in display_formats(chosen).items()}
        dataframe(chosen, display=lambda d: format_table(d, spec), hide_index=True, width="stretch")

st.divider()
st.subheader("Uppföljning Finsam")
year = f.end.year
st.caption(f"Den nationella uppföljningen för {year} i en arbetsbok med samma upplägg som formuläret: bladen "
           "Individinriktade insatser (deltagare per kön, budget, utfall, budgeterat antal deltagare), "
           "Strukturövergripande insatser och Förbundet (tilldelade medel per part, administration, eget kapital). "
           + ("" if f.is_calendar_year else "Den gäller hela kalenderåret. ")
           + (f"Förbundets alla insatser ({md(', '.join(f.associations))}), oavsett övriga val i sidopanelen. "
              if f.associations else "Alla insatser, oavsett urvalet i sidopanelen. ")
           + "Antalen är exakta, utan skydd för små tal, eftersom "
             "uppföljningen kräver dem: filen är för inrapportering, inte för publicering.")


def followup() -> bytes:
    cur = cursor()
    try:
        return followup_workbook(cur, year, f.associations)
    finally:
        cur.close()


if not access.protection_forced():
    st.download_button("Ladda ned Uppföljning Finsam (Excel)", data=access.guarded(followup, PROTECTION_OFF, ""),
                       file_name=followup_file_name(year, f.associations), mime=XLSX, on_click="ignore",
                       key="export_uppfoljning", icon=":material/download:")

if not access.may(INDIVIDUAL_ROWS):  # issue 11: the rows below are for handläggare and up
    st.stop()
st.divider()
st.subheader("Deltagarrader (individdata)")
st.warning(f"{INDIVIDUAL_WARNING} Inga personnummer finns i databasen. Skyddet för små tal gäller inte här: "
           "filen är individdata till sin natur.", icon=":material/lock:")
rows = run(enrollment_table, f)
st.caption(f"{fmt_int(len(rows))} inskrivningar bakom periodens deltagare (anonymt registrerade deltagare har "
           "inga rader; utan samtycke finns bara kön, ålder och datum).")


def enrollment_workbook() -> bytes:
    return excel_bytes({ENROLLMENTS: rows}, meta(f, loaded, individual=True))


left, right = st.columns(2)
with left:
    st.download_button("Ladda ned deltagarrader (Excel)", data=access.guarded(  # issue 11: checked and logged
                           enrollment_workbook, INDIVIDUAL_ROWS, f"Excel, {len(rows)} rader, {describe(f)}"),
                       file_name=f"{file_stem(f, 'deltagarrader')}.xlsx", mime=XLSX, on_click="ignore",
                       key="export_rows_xlsx", icon=":material/download:", width="stretch")
with right:
    st.download_button("Ladda ned deltagarrader (CSV)", data=access.guarded(  # issue 11: checked and logged
                           lambda: csv_bytes(rows), INDIVIDUAL_ROWS, f"CSV, {len(rows)} rader, {describe(f)}"),
                       file_name=f"{file_stem(f, 'deltagarrader')}.csv", mime=CSV, on_click="ignore",
                       key="export_rows_csv", icon=":material/download:", width="stretch")
