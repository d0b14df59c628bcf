"""Opening a store file: checks first, so a file that is not ours is never written to.

The order matters. A path that exists must be a DuckDB file (its header says ``DUCK``) before
DuckDB sees it; a DuckDB file must hold a paysim store (a ``schema_version`` table) or be
empty; its schema version must be one this paysim knows. For a writer, these checks run on a
read-only connection, and only then is the file reopened for writing (and migrated): a
corrupted file, a foreign database or a newer schema is reported as :class:`StoreError` and
left exactly as it was.

DuckDB lets one process write a file (and no other process read it meanwhile). A second writer
gets a :class:`StoreError` naming the process that holds the file, rather than a lock error.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from paysim.exceptions import StoreError, StoreNotFoundError
from paysim.store.migrations import (
    SCHEMA_VERSION,
    Migration,
    check_readable,
    migrate,
    recorded_version,
)

_MAGIC = b"DUCK"
_MAGIC_OFFSET = 8
_PID = re.compile(r"PID (\d+)")


def _check_header(path: Path) -> None:
    if path.is_dir():
        raise StoreError(f"{path} is a directory, not a database file")
    try:
        with path.open("rb") as handle:
            head = handle.read(_MAGIC_OFFSET + len(_MAGIC))
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror or exc}") from None
    if head[_MAGIC_OFFSET:] != _MAGIC:
        raise StoreError(
            f"{path} is not a DuckDB database (paysim stores runs in DuckDB files); "
            "the file was left untouched"
        )


def _describe(exc: duckdb.Error, path: Path) -> StoreError:
    text = str(exc)
    if "Could not set lock" in text or "Conflicting lock" in text:
        pid = _PID.search(text)
        who = f"process {pid.group(1)}" if pid else "another process"
        return StoreError(
            f"{path} is in use by {who}: a database file takes one writer at a time (and no "
            "reader while it is written). Wait for that run to finish, or use another --db."
        )
    if "different configuration" in text:
        return StoreError(
            f"{path} is already open in this process (for writing); use that store instead of "
            "opening it again"
        )
    if "not a valid DuckDB database" in text:
        return StoreError(f"{path} is not a DuckDB database; the file was left untouched")
    if "Corrupt database file" in text or "Could not read enough bytes" in text:
        return StoreError(f"{path} is damaged ({text}); the file was left untouched")
    return StoreError(f"cannot use {path}: {text}")


def _connect(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as exc:
        raise _describe(exc, path) from None


def _table_count(con: duckdb.DuckDBPyConnection) -> int:
    rows = con.execute("SELECT count(*) FROM information_schema.tables").fetchall()
    return int(rows[0][0])


def _inspect(con: duckdb.DuckDBPyConnection, path: Path) -> int | None:
    """The schema version of an open file (``None`` for an empty DuckDB database); refuses a
    foreign database and a newer schema."""
    try:
        found = recorded_version(con)
        if found is None:
            if _table_count(con) == 0:
                return None
            raise StoreError(
                f"{path} is a DuckDB database but not a paysim store (it has no schema_version "
                "table); the file was left untouched"
            )
    except duckdb.Error as exc:
        raise StoreError(
            f"cannot read {path} (damaged database?): {exc}; the file was left untouched"
        ) from None
    version, written_by = found
    check_readable(version, written_by, str(path))
    return version


def connect(path: Path, *, write: bool) -> tuple[duckdb.DuckDBPyConnection, int, list[Migration]]:
    """An open, checked connection, the schema version of the file and the migrations applied
    to it now.

    A reader needs an existing store of the current schema version (an older one must be
    migrated first: ``paysim db migrate``). A writer creates the file when it does not exist
    and migrates an older store.
    """
    exists = path.exists()
    if exists:
        _check_header(path)
    elif not write:
        raise StoreNotFoundError(
            f"no database at {path} (`paysim run --persist` or `paysim db init` creates one)"
        )
    elif not path.parent.is_dir():
        raise StoreError(f"cannot create {path}: directory {path.parent} does not exist")
    if exists:
        # Checked on a read-only connection first: nothing is written before the file is known
        # to be a paysim store of a version this paysim reads.
        con = _connect(path, read_only=True)
        try:
            version = _inspect(con, path)
        except BaseException:
            con.close()
            raise
        if not write:
            if version is None or version < SCHEMA_VERSION:
                con.close()
                have = "no paysim tables" if version is None else f"schema version {version}"
                raise StoreError(
                    f"{path} has {have}; this paysim reads version {SCHEMA_VERSION}. Run "
                    f"`paysim db migrate --db {path}` to bring it up to date (nothing is dropped)"
                )
            return con, version, []
        con.close()
    con = _connect(path, read_only=False)
    try:
        applied = migrate(con)
    except duckdb.Error as exc:
        con.close()
        raise StoreError(f"cannot migrate {path}: {exc}") from None
    return con, SCHEMA_VERSION, applied
