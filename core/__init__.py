"""The bottom layer: words every other layer shares, where files live, how the database is opened, and how a
problem is told and masked (problems.py, privacy.py: every layer prints through them).

Imports nothing of ours, so etl/, metrics/, render/ and ui/ can all stand on it.
"""
