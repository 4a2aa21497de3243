"""Takes the association's exports (Excel/CSV) into DuckDB: read → normalise → validate → load.

The command line (`python -m etl`) is part of the data contract in ../shared/data-contract.md.
"""
