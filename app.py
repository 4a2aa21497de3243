"""Insatskollen: what the association's money does. `streamlit run app.py`."""
from __future__ import annotations

import streamlit as st

from etl.load import ensure_database
from ui import filters
from ui.layout import data_status

st.set_page_config(page_title="Insatskollen", page_icon=":material/insights:", layout="wide")

with st.spinner("Databasen saknas – bygger den från exempeldata …"):
    ensure_database()

PAGES = [
    st.Page("pages/oversikt.py", title="Översikt", url_path="", default=True, icon=":material/dashboard:"),
    st.Page("pages/inflode.py", title="Inflöde per remittent", url_path="inflode", icon=":material/login:"),
    st.Page("pages/jamstalldhet.py", title="Jämställdhet", url_path="jamstalldhet", icon=":material/wc:"),
    st.Page("pages/avslut.py", title="Avslut och resultat", url_path="avslut", icon=":material/logout:"),
    st.Page("pages/kostnad.py", title="Kostnad per deltagare", url_path="kostnad", icon=":material/payments:"),
]

page = st.navigation(PAGES)
st.session_state["_filters"] = filters.sidebar()
data_status()
page.run()
