"""Takes the association's exports (Excel/CSV) into DuckDB: read → normalise → validate → load.

The command line (`python -m etl`) is part of the data contract in ../shared/data-contract.md; it lives in
commands/etl_cli.py, above the layers it uses, and etl/__main__.py hands over to it.
"""
