"""Where the project's files live: the reference tables, the bundled sample and the database."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
SAMPLE_DIR = DATA_DIR / "sample"
DEFAULT_DB = DATA_DIR / "finsam.duckdb"
REFERRERS_CSV = DATA_DIR / "referrers.csv"
EXIT_REASONS_CSV = DATA_DIR / "exit_reasons.csv"


def default_db_path() -> Path:
    """`$FINSAM_DB` if set, else data/finsam.duckdb."""
    return Path(os.environ.get("FINSAM_DB") or DEFAULT_DB)
