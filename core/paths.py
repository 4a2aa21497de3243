"""Where the project's files live: the reference tables, the bundled sample and the database."""
from __future__ import annotations

from pathlib import Path

from core import settings

ROOT = settings.ROOT
DATA_DIR = settings.DATA_DIR
SAMPLE_DIR = DATA_DIR / "sample"
# the bundled sample's protection decisions, by their fingerprints (metrics.decisions): a fresh machine builds the
# sample in seconds instead of deciding its four years (half a minute to a minute); a build of the sample with a
# changed engine decides anew and keeps its own here (the tests build it in every run: commit them)
SAMPLE_DECISIONS = SAMPLE_DIR / "decisions"
DEFAULT_DB = settings.BY_NAME["FINSAM_DB"].default
REFERRERS_CSV = settings.BY_NAME["FINSAM_REFERRERS"].default
EXIT_REASONS_CSV = DATA_DIR / "exit_reasons.csv"


def default_db_path() -> Path:
    """`$FINSAM_DB` if set, else data/finsam.duckdb."""
    return settings.get("FINSAM_DB")


def default_referrers_path() -> Path:
    """`$FINSAM_REFERRERS` if set, else data/referrers.csv: where the data page saves the referrer mapping.

    The Docker image keeps /app/data read-only, so there it names a file on the volume; until that
    file is first saved, the mapping shipped in data/ is read (etl.reference.referrers_path).
    """
    return settings.get("FINSAM_REFERRERS")


# --- sign-in and audit (issue 11); read by auth/ ---------------------------------------------
ACCOUNTS_TOML = settings.BY_NAME["FINSAM_ACCOUNTS"].default
AUTH_TOML = settings.BY_NAME["FINSAM_AUTH_CONFIG"].default


def default_accounts_path() -> Path:
    """`$FINSAM_ACCOUNTS` if set, else data/accounts.toml: the local accounts (`python -m auth`)."""
    return settings.get("FINSAM_ACCOUNTS")


def default_auth_config_path() -> Path:
    """`$FINSAM_AUTH_CONFIG` if set, else data/auth.toml: idle time and the OIDC e-mail/group → role map."""
    return settings.get("FINSAM_AUTH_CONFIG")


def default_audit_path() -> Path:
    """`$FINSAM_AUDIT_DB` if set, else audit.sqlite beside the database, so it lives on the same volume."""
    return settings.get("FINSAM_AUDIT_DB") or default_db_path().parent / "audit.sqlite"
