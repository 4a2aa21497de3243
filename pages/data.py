"""Data (administrators): upload with a preview of what changes, history and undo, referrer mapping and
data quality (issue 11 §1–4). The work is done by ui/upload.py, ui/history.py, ui/mapping.py and ui/quality.py."""
import streamlit as st

from auth.roles import DATA_ADMIN
from ui import access, history, mapping, quality, upload

viewer = access.require(DATA_ADMIN)  # the gate has checked the address too; this page never runs for other roles
st.title("Data")
st.caption("Läs in förbundets exporter och se först vad som ändras, ångra en inläsning, mappa remittenter till "
           "myndigheter och se vad i datan som behöver en titt.")
history.show_flash()
# Only the chosen tab is built and sent (Streamlit's lazy tabs): all four at once made this the slowest page to open
tab_upload, tab_history, tab_mapping, tab_quality = st.tabs(
    ["Ladda upp", "Historik och ångra", "Remittenter", "Datakvalitet"], key="data_tab", on_change="rerun")
if tab_upload.open:
    with tab_upload:
        upload.section(viewer)
if tab_history.open:
    with tab_history:
        history.section(viewer)
if tab_mapping.open:
    with tab_mapping:
        mapping.section(viewer)
if tab_quality.open:
    with tab_quality:
        quality.section()
