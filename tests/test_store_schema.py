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
from tests.cli_support import REPO, invoke
from tests.store_support import FIXTURES

VERSIONED = sorted(FIXTURES.glob("schema_v*.duckdb"))


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
    with paysim.store.open(tmp_path / "s.duckdb", write=True) as store:
        for model in TABLES:
            found = store.rows(
                "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
                "WHERE table_name = ? ORDER BY ordinal_position",
                [model.table],
            )
            expected = [
                (c.name, c.sql_type, "YES" if c.nullable else "NO") for c in ddl.columns(model)
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
    expected = json.loads(fixture.with_suffix(".json").read_text(encoding="utf-8"))["runs"]
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
            assert row["summary"] == run["summary"]
            # A run its process left `running` is interrupted, and the writer recorded it.
            want = "interrupted" if run["stored_status"] == "running" else run["stored_status"]
            assert row["status"] == want
            stored = store.rows("SELECT status FROM simulations WHERE simulation_id = ?", [sid])
            assert stored[0]["status"] == want
    assert digest(fixture) == before


def test_migration_adds_tables_and_columns_and_keeps_rows(tmp_path: Path) -> None:
    """A later migration (a new column, a new table, a backfill) on the v1 fixture: the
    mechanism the optimiser's tables (version 2) used, one version further."""

    class SimulationV2(SimulationRow):
        run_label: str | None = col("A label.", since=3, default=None)

    class ReportRow(Table):
        table = "reports"
        key = ("report_id",)
        since = 3
        report_id: str = col("Report id.")
        name: str = col("Name.")

    tables = tuple(SimulationV2 if t is SimulationRow else t for t in TABLES) + (ReportRow,)
    v3 = (*MIGRATIONS, Migration(3, "reports", ("UPDATE simulations SET run_label = 'none'",)))
    db = tmp_path / "v1.duckdb"
    shutil.copy(FIXTURES / "schema_v1.duckdb", db)
    con = duckdb.connect(str(db))
    try:
        runs = con.execute("SELECT simulation_id FROM simulations ORDER BY 1").fetchall()
        assert [m.version for m in migrate(con, migrations=v3, tables=tables)] == [2, 3]
        assert migrate(con, migrations=v3, tables=tables) == []  # idempotent
        assert con.execute("SELECT simulation_id FROM simulations ORDER BY 1").fetchall() == runs
        assert con.execute("SELECT DISTINCT run_label FROM simulations").fetchall() == [("none",)]
        assert con.execute("SELECT count(*) FROM reports").fetchall() == [(0,)]
        assert con.execute("SELECT max(version) FROM schema_version").fetchall() == [(3,)]
    finally:
        con.close()
    # This paysim (schema 2) refuses that file and names the paysim that wrote it.
    before = digest(db)
    with pytest.raises(StoreError, match=r"schema version 3, written by paysim 0\.1\.0"):
        paysim.store.open(db, write=True)
    assert digest(db) == before


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
    db = tmp_path / "damaged.duckdb"
    data = bytearray((VERSIONED[-1]).read_bytes())
    with paysim.store.open(VERSIONED[-1]) as store:
        sid = store.simulations()["simulation_id"][1].as_py()
    middle = len(data) // 2
    data[middle : middle + 4096] = bytes(b ^ 0xFF for b in data[middle : middle + 4096])
    db.write_bytes(bytes(data))
    with pytest.raises(StoreError), paysim.store.open(db) as store:
        for table in ("events", "agent_tick_metrics", "tick_metrics", "payments", "checkpoints"):
            store.sql(f"SELECT * FROM {table} WHERE simulation_id = ?", [sid])
