"""The bottom layer: words every other layer shares, where files live, and how the database is opened.

Imports nothing of ours, so etl/, metrics/, render/ and ui/ can all stand on it.
"""
