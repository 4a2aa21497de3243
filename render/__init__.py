"""Metrics frames → Swedish text, numbers, charts, files and the board deck. No Streamlit here."""
