"""Data (administrators): upload, history and undo, referrer mapping, data quality — issue 11 §1–4.

A placeholder until those are built on the new loader; the address and its permission exist now,
so the menu, the role checks and the tests are already in place.
"""
import streamlit as st

from auth.roles import DATA_ADMIN
from ui import access

access.require(DATA_ADMIN)
st.title("Data")
st.info("Här kommer uppladdning av exporter med förhandsvisning, historik och ångra, remittentmappning och "
        "datakvalitet. Tills vidare läses exporter in på servern med `python -m etl load FIL …` (se README).",
        icon=":material/construction:")
