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


def default_referrers_path() -> Path:
    """`$FINSAM_REFERRERS` if set, else data/referrers.csv: where the data page saves the referrer mapping.

    The Docker image keeps /app/data read-only, so there it names a file on the volume; until that
    file is first saved, the mapping shipped in data/ is read (etl.reference.referrers_path).
    """
    return Path(os.environ.get("FINSAM_REFERRERS") or REFERRERS_CSV)


# --- sign-in and audit (issue 11); read by auth/ ---------------------------------------------
ACCOUNTS_TOML = DATA_DIR / "accounts.toml"
AUTH_TOML = DATA_DIR / "auth.toml"


def default_accounts_path() -> Path:
    """`$FINSAM_ACCOUNTS` if set, else data/accounts.toml: the local accounts (`python -m auth`)."""
    return Path(os.environ.get("FINSAM_ACCOUNTS") or ACCOUNTS_TOML)


def default_auth_config_path() -> Path:
    """`$FINSAM_AUTH_CONFIG` if set, else data/auth.toml: idle time and the OIDC e-mail/group → role map."""
    return Path(os.environ.get("FINSAM_AUTH_CONFIG") or AUTH_TOML)


def default_audit_path() -> Path:
    """`$FINSAM_AUDIT_DB` if set, else audit.sqlite beside the database, so it lives on the same volume."""
    return Path(os.environ.get("FINSAM_AUDIT_DB") or default_db_path().parent / "audit.sqlite")
