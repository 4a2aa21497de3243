"""The one place that opens DuckDB: every reader and the loader go through here.

Modelled on datasette's database.py: no page, command or test opens the file by itself, so
the rules for opening live in one place. The rules: extensions are never installed or
loaded on the fly (a foreign file, such as SQLite, would otherwise make DuckDB try to
download one), readers open read-only, and the app reads through an in-memory instance
that ATTACHes the file, so that a file swapped in by the loader is opened anew, with a time
limit on each query (`$FINSAM_QUERY_SECONDS`) so that one slow query cannot hold a page.
"""
from __future__ import annotations

import errno
import stat
from pathlib import Path

import duckdb

from core import settings

CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
ALIAS = "finsam"


def connect_read(path: Path | str) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the database file."""
    return duckdb.connect(str(path), read_only=True, config=dict(CONFIG))


def connect_write(path: Path | str) -> duckdb.DuckDBPyConnection:
    """A read-write connection: only the loader uses it, and only on its private copy."""
    return duckdb.connect(str(path), config=dict(CONFIG))


def attach_read(path: Path | str) -> duckdb.DuckDBPyConnection:
    """An in-memory instance with the file ATTACHed read-only and in use, each query limited in time.

    `duckdb.connect(path)` hands back the instance already open for that path, so after
    the loader swaps the file a new connection would still see the old data while an old
    one lives. An attachment in a fresh in-memory instance opens the file anew.
    The limit is DuckDB's own `max_execution_time` (per query, in ms; its cursors inherit it): a query past
    it raises `duckdb.InterruptException` ("Query exceeded maximum execution time"), see `timed_out`.
    """
    con = duckdb.connect(config=dict(CONFIG, max_execution_time=query_limit_ms()))
    quoted = str(path).replace("'", "''")
    con.execute(f"ATTACH '{quoted}' AS {ALIAS} (READ_ONLY)")
    con.execute(f"USE {ALIAS}")
    return con


def query_limit_ms() -> int:
    """`$FINSAM_QUERY_SECONDS` as DuckDB takes it: whole milliseconds, 0 for no limit (a tiny limit is 1 ms;
    one beyond a year, or infinite, is none, and DuckDB's unsigned 64-bit setting cannot overflow)."""
    seconds = settings.get("FINSAM_QUERY_SECONDS")
    if not 0 < seconds <= 366 * 24 * 3600:
        return 0
    return max(1, round(seconds * 1000))


def timed_out(exc: BaseException) -> bool:
    """Whether DuckDB stopped a query at the time limit (the app's readers never interrupt one otherwise)."""
    return isinstance(exc, duckdb.InterruptException)


# ---------------------------------------------------------------- faults, in Swedish

# The tables every Insatskollen database has (etl/schema.sql); a DuckDB file without them is another program's.
TABLES = ("load_history", "enrollments", "anonymous_counts", "budget_lines", "initiatives", "exit_reasons", "meta")
SQLITE_MAGIC = b"SQLite format 3\x00"
HEADER_BYTES = 3 * 4096  # DuckDB's file header blocks, before the first data block


class DatabaseError(Exception):
    """A database that cannot be used, with a Swedish reason that names no path (the app shows it as is)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def check_database(path: Path | str) -> None:
    """Raise DatabaseError unless `path` is missing (nothing loaded yet) or an Insatskollen database that opens.

    Catches, in Swedish: a directory, an unreadable file, an empty, truncated or corrupt file, a
    SQLite file (DuckDB would otherwise try to download an extension), a DuckDB file of another
    program or of a DuckDB version that cannot read it.
    """
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        return
    except OSError as exc:
        raise DatabaseError(f"databasfilen kan inte nås: {describe_os_error(exc)}") from None
    if stat.S_ISDIR(st.st_mode):
        raise DatabaseError("databasens sökväg pekar på en mapp, inte på en databasfil; ange en fil, till exempel "
                            "finsam.duckdb i den mappen")
    if not stat.S_ISREG(st.st_mode):
        raise DatabaseError("databasens sökväg pekar inte på en vanlig fil")
    try:
        with path.open("rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise DatabaseError(f"databasfilen kan inte läsas: {describe_os_error(exc)}") from None
    if st.st_size == 0:
        raise DatabaseError("databasfilen är tom (0 byte); ta bort den, så byggs en ny vid nästa inläsning")
    if head.startswith(SQLITE_MAGIC):
        raise DatabaseError("databasfilen är en SQLite-databas, inte en DuckDB-databas från Insatskollen")
    if head[8:12] != b"DUCK":
        raise DatabaseError("filen är ingen DuckDB-databas: den är skadad, avkortad eller en helt annan sorts fil")
    broken = ("databasfilen är skadad eller avkortad, eller skriven av en DuckDB-version som inte kan läsas här; "
              "läs in exporterna på nytt till en ny databasfil")
    try:
        with connect_read(path) as con:
            tables = {name for (name,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()").fetchall()}
            # used, not total: DuckDB cuts free blocks off the end of the file at a checkpoint but still counts
            # them in total_blocks, so a sound file written by a load or an undo may be shorter than the total
            block_size, blocks = con.execute(
                "SELECT block_size, used_blocks FROM pragma_database_size()").fetchall()[0]
    except duckdb.Error:
        raise DatabaseError(broken) from None
    if st.st_size < HEADER_BYTES + block_size * blocks:
        raise DatabaseError(broken)
    missing = [t for t in TABLES if t not in tables]
    if missing:
        raise DatabaseError("filen är en DuckDB-databas men inte Insatskollens (tabellerna "
                            f"{', '.join(missing)} saknas); ange rätt databasfil")


def describe_os_error(exc: OSError) -> str:
    """What a file-system error means for staff, in Swedish and without the path."""
    return {
        errno.ENOSPC: "disken är full",
        errno.EDQUOT: "diskkvoten är slut",
        errno.EROFS: "disken är skrivskyddad",
        errno.EACCES: "behörighet saknas",
        errno.EPERM: "behörighet saknas",
        errno.EFBIG: "filen blev större än systemet tillåter",
        errno.ENOENT: "mappen eller filen finns inte",
        errno.EISDIR: "sökvägen är en mapp",
        errno.ENOTDIR: "en del av sökvägen är inte en mapp",
        errno.EIO: "läs- eller skrivfel på disken",
    }.get(exc.errno, f"fel i filsystemet (felkod {exc.errno})")


def describe_duckdb_error(exc: Exception) -> str:
    """The same for an error DuckDB raised while writing (its text is English and may hold a path)."""
    text = str(exc).lower()
    for needle, meaning in (("no space left", "disken är full"), ("disk quota", "diskkvoten är slut"),
                            ("read-only file system", "disken är skrivskyddad"), ("permission denied", "behörighet saknas"),
                            ("file too large", "filen blev större än systemet tillåter"),
                            ("could not set lock", "databasen används av ett annat program som skriver i den")):
        if needle in text:
            return meaning
    return "databasen kunde inte skrivas"
