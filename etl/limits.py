"""The limits a file must stay within before it is read: one place, so they can be tuned and documented.

Checked before the reader allocates anything, so that a few kilobytes cannot make the loader
ask for gigabytes (an xlsx whose one cell sits at XFD1048576, a zip that expands a thousandfold).
"""
from __future__ import annotations

MB = 1024 * 1024

MAX_FILE_BYTES = 512 * MB  # any file on disk; a CSV export of 1 million enrollments is about 100 MB

# xlsx (a zip of XML parts)
MAX_XLSX_UNCOMPRESSED = 768 * MB  # all parts together, as declared in the zip and as actually read
MAX_XLSX_PART = 512 * MB  # one part (a sheet or the shared strings)
MAX_XLSX_RATIO = 200  # uncompressed ÷ compressed size of a part, for parts over RATIO_FLOOR
RATIO_FLOOR = 8 * MB
MAX_SHEET_CELLS = 6_000_000  # rows × columns of a sheet, declared (<dimension>) and real; calamine
#                              fills the whole rectangle, about 45 bytes a cell
MAX_ROW_XML = 64 * MB  # one row's XML; Excel's own rows are far smaller

# cells
MAX_CELL_CHARS = 1000  # a stored text cell (a name, a referrer unit); longer is not a name
MAX_AMOUNT = 1_000_000_000  # kronor on one budget line; the whole Finsam budget of Sweden is about 1,5 billion
MIN_YEAR, MAX_YEAR = 1990, 2100  # a date's year, and `etl report --year` (here, so the CLI need not load the parser)
