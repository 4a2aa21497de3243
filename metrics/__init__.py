"""The metrics layer: one function per question the pages ask, each a DataFrame from DuckDB SQL.

Pages, exports and `python -m etl report` all read their figures from here, so a number
has exactly one definition. No Streamlit in this package.
"""
from .filters import SEXES, Filters

__all__ = ["Filters", "SEXES"]
