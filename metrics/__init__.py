"""The metrics layer: one function per question the pages ask, each a DataFrame from DuckDB SQL.

Pages, exports, the deck and `python -m etl report` all read their figures from here, so a
number has exactly one definition (declared in metrics/definitions.py). No Streamlit here.
"""
from .filters import Filters

__all__ = ["Filters"]
