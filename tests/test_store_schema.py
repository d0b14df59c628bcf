"""The store's schema: ids, DDL generated from the models, migrations (with a fixture database
of every released schema version), and files that must be refused and left untouched."""

from __future__ import annotations

import hashlib
import json
import shutil
import uuid
from pathlib import Path

import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st

import paysim.store
from paysim.exceptions import StoreError
from paysim.store import ddl
from paysim.store.ids import id_time_ms, new_id
from paysim.store.migrations import MIGRATIONS, SCHEMA_VERSION, Migration, migrate
from paysim.store.models import TABLES, SimulationRow, Table, col
from paysim.store.views import RowStep
from tests.cli_support import REPO, invoke
from tests.store_support import FIXTURES

VERSIONED = sorted(
    FIXTURES.glob("schema_v*.duckdb"), key=lambda p: int(p.stem.removeprefix("schema_v"))
)
NEWEST = VERSIONED[-1]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- ids ---------------------------------------------------------------------------------------


@given(st.lists(st.integers(min_value=0, max_value=2**40), min_size=2, max_size=50))
def test_ids_are_uuid7_and_sort_by_creation_time(steps: list[int]) -> None:
    now = 1_700_000_000_000
    ids = []
    for step in sorted(steps):
        ids.append(new_id(now_ms=now + step))
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    for text in ids:
        value = uuid.UUID(text)
        assert value.version == 7 and value.variant == uuid.RFC_4122
    assert id_time_ms(ids[-1]) >= now + max(steps)


def test_ids_in_one_millisecond_stay_ordered_past_the_counter() -> None:
    ids = [new_id(now_ms=5_000_000_000_000) for _ in range(6000)]
    assert ids == sorted(ids) and len(set(ids)) == 6000
    # 12 bits of counter: the timestamp moves on by a millisecond instead of wrapping.
    assert 5_000_000_000_000 <= id_time_ms(ids[-1]) <= 5_000_000_000_003


# -- DDL from the models -----------------------------------------------------------------------


def test_tables_are_created_from_the_models(tmp_path: Path) -> None:
    """Tables have the models' columns, types and nullability; views (which DuckDB reports as
    nullable throughout) the models' columns and types."""
    with paysim.store.open(tmp_path / "s.duckdb", write=True) as store:
        for model in TABLES:
            view = ddl.is_view(model, SCHEMA_VERSION)
            found = store.rows(
                "SELECT c.column_name, c.data_type, c.is_nullable, t.table_type "
                "FROM information_schema.columns c JOIN information_schema.tables t "
                "ON t.table_name = c.table_name WHERE c.table_name = ? "
                "ORDER BY c.ordinal_position",
                [model.table],
            )
            assert {r["table_type"] for r in found} == {"VIEW" if view else "BASE TABLE"}
            expected = [
                (c.name, c.sql_type, "YES" if c.nullable or view else "NO")
                for c in ddl.columns(model)
            ]
            got = [(r["column_name"], r["data_type"], r["is_nullable"]) for r in found]
            assert got == expected, model.table
    money = {c.name: c.sql_type for c in ddl.columns(SimulationRow)}
    assert money["total_cost"] == "BIGINT" and money["seed"] == "UBIGINT"
    assert money["summary"] == "JSON"


def test_docs_describe_every_table_and_column() -> None:
    text = (REPO / "docs" / "store.md").read_text(encoding="utf-8")
    assert ddl.markdown(TABLES) in text, "regenerate the table layouts in docs/store.md"


def test_a_column_added_later_must_be_nullable_or_have_a_default() -> None:
    class Bad(Table):
        table = "bad"
        since = 1
        a: int = col("a")
        b: int = col("b", since=2)

    with pytest.raises(TypeError, match=r"bad\.b"):
        ddl.add_columns(Bad, 2)


# -- migrations ----------------------------------------------------------------------------------


def test_every_released_schema_version_has_a_fixture() -> None:
    versions = [int(p.stem.removeprefix("schema_v")) for p in VERSIONED]
    assert versions == [m.version for m in MIGRATIONS]


@pytest.mark.parametrize("fixture", VERSIONED, ids=lambda p: p.stem)
def test_fixture_database_migrates_and_keeps_its_runs(fixture: Path, tmp_path: Path) -> None:
    recorded = json.loads(fixture.with_suffix(".json").read_text(encoding="utf-8"))
    expected = recorded["runs"]
    before = digest(fixture)
    db = tmp_path / fixture.name
    shutil.copy(fixture, db)
    result = invoke("db", "migrate", "--db", db)
    assert result.exit_code == 0, result.stderr
    assert f"schema version {SCHEMA_VERSION}" in result.stdout
    with paysim.store.open(db) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert [r["version"] for r in store.rows("SELECT version FROM schema_version")] == [
            m.version for m in MIGRATIONS
        ]
        runs = {r["simulation_id"]: r for r in store.simulations().to_pylist()}
        assert sorted(runs) == sorted(r["simulation_id"] for r in expected)
        for run in expected:
            sid = run["simulation_id"]
            row = store.simulation(sid)
            assert row["event_count"] == run["event_count"] == store.events(sid).num_rows
            per_day = store.rows(
                "SELECT count(*) AS n FROM events WHERE simulation_id = ? GROUP BY day "
                "ORDER BY day",
                [sid],
            )
            assert [r["n"] for r in per_day] == run["events_per_day"]
            assert store.checkpoints(sid).num_rows == run["checkpoints"]
            if "payments" in run:  # recorded since version 2
                assert store.payments(sid).num_rows == run["payments"]
            assert row["summary"] == run["summary"]
            # A run its process left `running` is interrupted, and the writer recorded it.
            want = "interrupted" if run["stored_status"] == "running" else run["stored_status"]
            assert row["status"] == want
            stored = store.rows("SELECT status FROM simulations WHERE simulation_id = ?", [sid])
            assert stored[0]["status"] == want
        if "studies" in recorded:  # recorded since version 2
            studies = store.rows("SELECT study_id, study_name, mode, status FROM studies")
            assert studies == recorded["studies"]
            for table in ("trials", "trial_runs"):
                count = store.rows(f"SELECT count(*) AS n FROM {table}")[0]["n"]
                assert count == recorded[table] > 0, table
    assert digest(fixture) == before


def _catalog(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[object, ...]]]:
    """Everything a schema is made of: tables, views, columns, constraints, macros."""
    queries = {
        "tables": "SELECT table_name, sql FROM duckdb_tables() ORDER BY 1",
        "views": "SELECT view_name, sql FROM duckdb_views() WHERE NOT internal ORDER BY 1",
        "columns": "SELECT table_name, column_name, column_index, data_type, is_nullable, "
        "column_default FROM duckdb_columns() WHERE NOT internal ORDER BY 1, 3",
        "constraints": "SELECT table_name, constraint_type, constraint_text "
        "FROM duckdb_constraints() ORDER BY ALL",
        "macros": "SELECT function_name, macro_definition FROM duckdb_functions() "
        "WHERE function_type = 'macro' AND NOT internal ORDER BY 1",
    }
    return {k: con.execute(q).fetchall() for k, q in queries.items()}


def test_a_new_file_has_the_schema_of_an_upgraded_one(tmp_path: Path) -> None:
    """A new file skips the migration steps that move or check rows (there are none); it must
    still end with exactly the schema the oldest released file gets by upgrading."""
    assert any(isinstance(s, RowStep) for m in MIGRATIONS for s in m.sql)
    with paysim.store.open(tmp_path / "new.duckdb", write=True) as store:
        fresh = _catalog(store.connection)
    db = tmp_path / VERSIONED[0].name
    shutil.copy(VERSIONED[0], db)
    with paysim.store.open(db, write=True) as store:
        upgraded = _catalog(store.connection)
    assert fresh["tables"] and fresh["views"] and fresh["macros"]
    assert fresh == upgraded


def test_migration_adds_tables_and_columns_and_keeps_rows(tmp_path: Path) -> None:
    """A later migration (a new column, a new table, a backfill) on the v1 fixture, which goes
    through every released migration first: the mechanism the optimiser's tables (version 2)
    and the coded events (version 3) used, one version further."""
    nxt = SCHEMA_VERSION + 1

    class SimulationNext(SimulationRow):
        run_label: str | None = col("A label.", since=nxt, default=None)

    class ReportRow(Table):
        table = "reports"
        key = ("report_id",)
        since = nxt
        report_id: str = col("Report id.")
        name: str = col("Name.")

    tables = tuple(SimulationNext if t is SimulationRow else t for t in TABLES) + (ReportRow,)
    extended = (
        *MIGRATIONS,
        Migration(nxt, "reports", ("UPDATE simulations SET run_label = 'none'",)),
    )
    db = tmp_path / "v1.duckdb"
    shutil.copy(FIXTURES / "schema_v1.duckdb", db)
    con = duckdb.connect(str(db))
    try:
        runs = con.execute("SELECT simulation_id FROM simulations ORDER BY 1").fetchall()
        applied = migrate(con, migrations=extended, tables=tables)
        assert [m.version for m in applied] == list(range(2, nxt + 1))
        assert migrate(con, migrations=extended, tables=tables) == []  # idempotent
        assert con.execute("SELECT simulation_id FROM simulations ORDER BY 1").fetchall() == runs
        assert con.execute("SELECT DISTINCT run_label FROM simulations").fetchall() == [("none",)]
        assert con.execute("SELECT count(*) FROM reports").fetchall() == [(0,)]
        assert con.execute("SELECT max(version) FROM schema_version").fetchall() == [(nxt,)]
    finally:
        con.close()
    # This paysim refuses that file and names the paysim that wrote it.
    before = digest(db)
    with pytest.raises(StoreError, match=rf"schema version {nxt}, written by paysim 0\.1\.0"):
        paysim.store.open(db, write=True)
    assert digest(db) == before


@pytest.mark.parametrize("version", [1, 2])
def test_migration_3_refuses_events_it_cannot_store_exactly(version: int, tmp_path: Path) -> None:
    """An event whose payment id the engine cannot have written (no number to store) stops
    migration 3: nothing is dropped, and the file stays at the version it had (the migrations
    of one open are one transaction)."""
    db = tmp_path / f"v{version}.duckdb"
    shutil.copy(FIXTURES / f"schema_v{version}.duckdb", db)
    con = duckdb.connect(str(db))
    con.execute(
        "UPDATE events SET tx_id = 'wire-7' WHERE (simulation_id, seq) IN "
        "(SELECT (simulation_id, seq) FROM events WHERE tx_id IS NOT NULL LIMIT 1)"
    )
    events = con.execute("SELECT count(*) FROM events").fetchall()
    tables_before = con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    con.close()
    result = invoke("db", "migrate", "--db", db)
    assert result.exit_code == 1, result.stderr
    assert "cannot store exactly" in result.stderr and "Traceback" not in result.stderr
    con = duckdb.connect(str(db), read_only=True)
    try:
        got = con.execute("SELECT max(version) FROM schema_version").fetchall()
        assert got == [(version,)]
        assert con.execute("SELECT count(*) FROM events").fetchall() == events
        found = con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        assert sorted(found) == sorted(tables_before)
        assert "event_data" not in {r[0] for r in found}
    finally:
        con.close()


def _table_rows(
    con: duckdb.DuckDBPyConnection, table: str, columns: list[str]
) -> list[tuple[object, ...]]:
    names = ", ".join(columns)
    return sorted(con.execute(f"SELECT {names} FROM {table}").fetchall(), key=repr)


@pytest.mark.parametrize("fixture", VERSIONED[:-1], ids=lambda p: p.stem)
def test_migration_keeps_every_row_of_every_table(fixture: Path, tmp_path: Path) -> None:
    """Every row of every table of an older file is still there after migrating to the current
    version, column for column (``events`` and ``payments`` through their views); the only
    change is the status of a run its process left ``running``, now ``interrupted``, and the
    payments of that run, which the view now gives."""
    con = duckdb.connect(str(fixture), read_only=True)
    try:
        tables = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
            ).fetchall()
            if r[0] != "schema_version"
        ]
        layout = {
            t: [
                r[0]
                for r in con.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                    "ORDER BY ordinal_position",
                    [t],
                ).fetchall()
            ]
            for t in tables
        }
        before = {t: _table_rows(con, t, cols) for t, cols in layout.items()}
        stale = {
            r[0]
            for r in con.execute(
                "SELECT simulation_id FROM simulations WHERE status = 'running'"
            ).fetchall()
        }
    finally:
        con.close()
    stored_events = ("events", "event_data", "event_rows")  # the table of versions 1-2, 3, 4
    assert any(before.get(t) for t in stored_events)
    assert ("studies" in before) == (fixture.stem != "schema_v1")
    db = tmp_path / fixture.name
    shutil.copy(fixture, db)
    assert invoke("db", "migrate", "--db", db).exit_code == 0
    with paysim.store.open(db) as store:
        con = store.connection
        for table, cols in layout.items():
            after = _table_rows(con, table, cols)
            if table == "simulations":
                assert cols[0] == "simulation_id"
                want = [r for r in before[table] if r[0] not in stale]
                assert [r for r in after if r[0] not in stale] == want
                status = {r[0]: r[cols.index("status")] for r in after if r[0] in stale}
                assert status == dict.fromkeys(stale, "interrupted")
            elif table == "payments":
                assert [r for r in after if r[0] not in stale] == before[table], table
            else:
                assert after == before[table], table


def test_newer_schema_is_refused_naming_the_paysim_that_reads_it(tmp_path: Path) -> None:
    db = tmp_path / "newer.duckdb"
    shutil.copy(FIXTURES / "schema_v1.duckdb", db)
    con = duckdb.connect(str(db))
    con.execute("INSERT INTO schema_version VALUES (99, now()::TIMESTAMP, '9.9.0', 'future')")
    con.close()
    before = digest(db)
    for args in (
        ["db", "list"],
        ["db", "migrate"],
        ["run", REPO / "scenarios/demo.yaml", "--persist"],
    ):
        result = invoke(*args, "--db", db)
        assert result.exit_code == 1, result.stderr
        assert "schema version 99, written by paysim 9.9.0" in result.stderr
        assert f"reads schema versions up to {SCHEMA_VERSION}" in result.stderr
        assert "Traceback" not in result.stderr
    assert digest(db) == before


def test_older_store_must_be_migrated_before_reading(tmp_path: Path) -> None:
    db = tmp_path / "empty.duckdb"
    duckdb.connect(str(db)).close()  # a DuckDB file with no tables
    result = invoke("db", "list", "--db", db)
    assert result.exit_code == 1 and "paysim db migrate" in result.stderr
    assert invoke("db", "init", "--db", db).exit_code == 0
    assert invoke("db", "list", "--db", db).exit_code == 0


# -- files that are not ours ---------------------------------------------------------------------


def _corrupt(name: str, data: bytes) -> bytes:
    half = len(data) // 2
    return {
        "text": b"agents:\n  - id: BANK_A\n" * 50,
        "empty": b"",
        "truncated": data[:half],
        "header_checksum": data[:100] + bytes([data[100] ^ 0xFF]) + data[101:],
        "garbage_after_magic": data[:12] + bytes((i * 7919) % 251 for i in range(len(data) - 12)),
    }[name]


@pytest.mark.parametrize(
    "case", ["text", "empty", "truncated", "header_checksum", "garbage_after_magic"]
)
def test_non_duckdb_and_damaged_files_are_refused_and_untouched(case: str, tmp_path: Path) -> None:
    db = tmp_path / "bad.duckdb"
    db.write_bytes(_corrupt(case, (FIXTURES / "schema_v1.duckdb").read_bytes()))
    before = digest(db)
    for args in (
        ["db", "list"],
        ["db", "migrate"],
        ["db", "init"],
        ["replay", "0190"],
        ["run", REPO / "scenarios/demo.yaml", "--persist"],
    ):
        result = invoke(*args, "--db", db)
        assert result.exit_code == 1, (args, result.stderr)
        assert result.stderr.startswith("error: database: ") and "untouched" in result.stderr
    assert digest(db) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.duckdb"]


def test_a_foreign_duckdb_database_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "other.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE prices (day INTEGER, price DOUBLE)")
    con.close()
    before = digest(db)
    result = invoke("run", REPO / "scenarios/demo.yaml", "--persist", "--db", db)
    assert result.exit_code == 1 and "not a paysim store" in result.stderr
    assert digest(db) == before


def test_damaged_blocks_are_a_store_error_when_read(tmp_path: Path) -> None:
    """Flipped bytes in the middle quarter of a store: reading every table gives a StoreError."""
    db = tmp_path / "damaged.duckdb"
    data = bytearray(NEWEST.read_bytes())
    start, end = len(data) * 3 // 8, len(data) * 5 // 8  # free blocks alone would be unread
    data[start:end] = bytes(b ^ 0xFF for b in data[start:end])
    db.write_bytes(bytes(data))
    with pytest.raises(StoreError), paysim.store.open(db) as store:
        for model in TABLES:
            store.sql(f"SELECT * FROM {model.table}")


def test_migration_4_check_finds_any_changed_missing_or_extra_row() -> None:
    """Migration 4 compares old and new rows by count and sum of row hashes per run (little
    memory on large files): one changed value, a missing row or an extra row stops it."""
    from paysim.store.views import _same_rows

    con = duckdb.connect()
    base = "SELECT 'r' || (i % 3) AS simulation_id, i AS a, 'x' || i AS b FROM range(1000) t(i)"
    con.execute(f"CREATE TABLE old AS {base}")
    check = _same_rows("old", "new", "a, b", "rows")
    variants = {
        "same": "SELECT * FROM old",
        "changed": "SELECT simulation_id, a, CASE WHEN a = 500 THEN 'y' ELSE b END AS b FROM old",
        "missing": "SELECT * FROM old WHERE a <> 7",
        "extra": "SELECT * FROM old UNION ALL SELECT 'r1', 7, 'x7'",
        "moved": "SELECT CASE WHEN a = 9 THEN 'r1' ELSE simulation_id END AS simulation_id, a, b "
        "FROM old",
    }
    for name, sql in variants.items():
        con.execute(f"CREATE OR REPLACE TABLE new AS {sql}")
        if name == "same":
            con.execute(check)
            continue
        with pytest.raises(duckdb.Error, match="cannot store exactly"):
            con.execute(check).fetchall()
