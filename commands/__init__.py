"""The command lines at the top of the layers, beside app.py: each may use every layer below it.

`python -m etl …` (commands/etl_cli.py) loads with etl/, counts with metrics/, writes with render/ and
logs with auth/; etl/__main__.py only hands over to it, so that the command keeps the name the data
contract gives it and no module inside a layer imports upward.
"""
