"""Numbered, idempotent schema migrations, recorded in ``schema_version``.

Migration N runs the DDL the table models generate for version N (new tables, new columns;
:func:`paysim.store.ddl.schema_statements`), then its own extra statements (backfills, views),
then records itself in ``schema_version``. The migrations an open applies run in one
transaction: one that fails leaves the file as it was, whatever version it started from. A
fresh database is built by running every migration from 1, exactly as an old one is upgraded,
so the two cannot drift; only the statements that move or check the rows of an earlier
version (:class:`~paysim.store.views.RowStep`: conversions and their checks, which change no
table, view or macro) are skipped there, having no rows to work on (they cost a new file about
50 ms, a third of its creation).

A database is never dropped or rebuilt: an older one is migrated in place; a newer one (a
version this paysim does not know) is refused with the paysim version that wrote it.

Every released schema version has a fixture database under ``tests/fixtures/store/``
(``schema_v<N>.duckdb``) that the tests migrate to the current version.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

from paysim.exceptions import StoreError
from paysim.store.ddl import schema_statements
from paysim.store.models import TABLES, SchemaVersionRow, Table
from paysim.store.views import MIGRATION_3, MIGRATION_4, RowStep


@dataclass(frozen=True)
class Migration:
    """Schema version ``version``: the generated DDL of that version, then ``sql``."""

    version: int
    description: str
    sql: tuple[str, ...] = ()


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "first schema: simulations, agents, events, daily_metrics, daily_agent_metrics, "
        "tick_metrics, agent_tick_metrics, payments, checkpoints",
    ),
    Migration(2, "optimisation studies: studies, trials, trial_runs"),
    Migration(
        3,
        "events stored with their ids as numbers (event_data) behind an events view that "
        "renders them; payments a view; macros paysim_tx_id and paysim_tx_key",
        MIGRATION_3,
    ),
    Migration(
        4,
        "events stored as details shapes (event_shapes) and rows with the details' integers "
        "(event_rows); event_data a view with the columns of version 3; macro paysim_details",
        MIGRATION_4,
    ),
)
SCHEMA_VERSION = MIGRATIONS[-1].version
"""The schema version this paysim writes and reads."""


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def recorded_version(con: duckdb.DuckDBPyConnection) -> tuple[int, str] | None:
    """The schema version of a database and the paysim that wrote it, or ``None`` when it has
    no ``schema_version`` table."""
    found = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
        [SchemaVersionRow.table],
    ).fetchall()
    if found[0][0] == 0:
        return None
    rows = con.execute(
        f"SELECT version, paysim_version FROM {SchemaVersionRow.table} "
        "ORDER BY version DESC LIMIT 1"
    ).fetchall()
    if not rows:
        return 0, ""
    return int(rows[0][0]), str(rows[0][1])


def check_readable(version: int, written_by: str, path: str, known: int = SCHEMA_VERSION) -> None:
    """Refuses a database newer than this paysim, naming the paysim that reads it."""
    from paysim import __version__

    if version > known:
        raise StoreError(
            f"{path} has schema version {version}, written by paysim {written_by}; this paysim "
            f"({__version__}) reads schema versions up to {known}. Open it with paysim "
            f"{written_by} or later; the file was left untouched."
        )


def migrate(
    con: duckdb.DuckDBPyConnection,
    *,
    migrations: tuple[Migration, ...] = MIGRATIONS,
    tables: tuple[type[Table], ...] = TABLES,
) -> list[Migration]:
    """Brings a database up to the last of ``migrations``; returns the migrations applied."""
    from paysim import __version__

    _check_sequence(migrations)
    found = recorded_version(con)
    current = 0 if found is None else found[0]
    applied = [m for m in migrations if m.version > current]
    if not applied:
        return []
    # A file with no schema_version table is empty (``connect`` refuses any other): no rows.
    fresh = found is None
    con.begin()
    try:
        for m in applied:
            for statement in [*schema_statements(tables, m.version), *m.sql]:
                if fresh and isinstance(statement, RowStep):
                    continue
                con.execute(statement)
            con.execute(
                f"INSERT INTO {SchemaVersionRow.table} "
                "(version, applied_at, paysim_version, description) VALUES (?, ?, ?, ?)",
                [m.version, _utcnow(), __version__, m.description],
            )
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return applied


def _check_sequence(migrations: tuple[Migration, ...]) -> None:
    versions = [m.version for m in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise ValueError(f"migrations must be numbered 1, 2, 3, ...; found {versions}")
