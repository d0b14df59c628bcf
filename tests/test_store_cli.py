"""``paysim db``, ``paysim checkpoint`` and ``paysim run --resume`` as a user calls them."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

import paysim
import paysim.store
from paysim.simulation import Simulation
from tests.cli_support import REPO, SCENARIOS, invoke
from tests.store_support import persisted, without_metadata

CRISIS = SCENARIOS / "crisis.yaml"
# pyarrow ships no type information for these submodules.
pq = importlib.import_module("pyarrow.parquet")
pa_csv = importlib.import_module("pyarrow.csv")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "runs.duckdb"


def test_commands_do_not_import_duckdb_at_startup() -> None:
    code = "import sys, paysim.cli.main; print('duckdb' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_db_init_list_show(db: Path) -> None:
    assert "created" in invoke("db", "init", "--db", db).stdout
    assert "up to date" in invoke("db", "init", "--db", db).stdout
    assert json.loads(invoke("db", "list", "--db", db, "-f", "json").stdout) == []
    a, _ = persisted(db, CRISIS, "-q", "-f", "json")
    b, _ = persisted(db, SCENARIOS / "demo.yaml", "-q", "-f", "json", "--seed", "3")
    rows = json.loads(invoke("db", "list", "--db", db, "-f", "json").stdout)
    assert [r["simulation_id"] for r in rows] == [a, b]  # oldest first: ids sort by time
    assert [(r["seed"], r["status"], r["days"], r["days_done"]) for r in rows] == [
        (2008, "completed", 3, 3),
        (3, "completed", 1, 1),
    ]
    text = invoke("db", "list", "--db", db).stdout
    assert a in text and b in text and "completed" in text
    assert (
        json.loads(invoke("db", "list", "--db", db, "--status", "failed", "-f", "json").stdout)
        == []
    )
    shown = json.loads(invoke("db", "show", a[:20], "--db", db, "-f", "json").stdout)
    assert shown["simulation_id"] == a and shown["checkpoints"] == 3
    assert shown["summary"]["simulation_id"] == a
    assert without_metadata(shown["summary"]) == without_metadata(
        json.loads(invoke("run", CRISIS, "-f", "json").stdout)
    )
    human = invoke("db", "show", a, "--db", db).stdout
    assert "status                completed" in human and "Run summary" in human


def test_db_costs_add_up_to_the_summary(db: Path) -> None:
    sid, out = persisted(db, CRISIS, "-f", "json")
    summary = json.loads(out)
    rows = json.loads(invoke("db", "costs", sid, "--db", db, "-f", "json").stdout)
    assert len(rows) == 3 * 6
    for agent_id, agent in summary["agents"].items():
        mine = [r for r in rows if r["agent_id"] == agent_id]
        assert [r["day"] for r in mine] == [0, 1, 2]
        for key, value in agent["costs"].items():
            assert sum(r[key] for r in mine) == value
    only = json.loads(
        invoke("db", "costs", sid, "--db", db, "--agent", "BANK_B", "-f", "json").stdout
    )
    assert {r["agent_id"] for r in only} == {"BANK_B"}
    text = invoke("db", "costs", sid, "--db", db).stdout
    assert "CENTRAL_BANK" in text and "deadline" in text and "250.00" in text


def test_db_export_parquet_and_csv(db: Path, tmp_path: Path) -> None:
    a, _ = persisted(db, CRISIS, "-q", "-f", "json")
    persisted(db, SCENARIOS / "demo.yaml", "-q", "-f", "json")
    one = tmp_path / "events.parquet"
    result = invoke("db", "export", "events", "--simulation", a, "--output", one, "--db", db)
    assert result.exit_code == 0, result.stderr
    table = pq.read_table(one)
    assert table.num_rows == 3204 and set(table["simulation_id"].to_pylist()) == {a}
    assert table["seq"].to_pylist() == list(range(3204))
    # never over an existing file unless asked
    again = invoke("db", "export", "events", "--output", one, "--db", db)
    assert again.exit_code == 2 and "already exists" in again.stderr
    assert pq.read_table(one).num_rows == 3204
    assert invoke("db", "export", "events", "-o", one, "--overwrite", "--db", db).exit_code == 0
    assert pq.read_table(one).num_rows > 3204
    # one run, every table, as CSV, into a directory
    out = tmp_path / "crisis"
    result = invoke("db", "export", "-s", a, "-o", out, "-f", "csv", "--db", db)
    assert result.exit_code == 0, result.stderr
    names = sorted(p.name for p in out.iterdir())
    assert "events.csv" in names and "daily_agent_metrics.csv" in names
    assert "schema_version.csv" not in names and not any(n.startswith(".") for n in names)
    metrics = pa_csv.read_csv(out / "daily_agent_metrics.csv")
    assert metrics.num_rows == 18
    # a refused target leaves nothing behind, not even the other tables
    result = invoke("db", "export", "-s", a, "-o", out, "-f", "csv", "--db", db)
    assert result.exit_code == 2 and sorted(p.name for p in out.iterdir()) == names
    # the database itself is never an export target
    result = invoke("db", "export", "events", "-o", db, "--overwrite", "--db", db)
    assert result.exit_code == 2 and "input" in result.stderr
    assert invoke("db", "export", "nope", "-o", tmp_path / "x.csv", "--db", db).exit_code == 2


def test_checkpoint_save_list_load_delete(db: Path, tmp_path: Path) -> None:
    sid, _ = persisted(db, CRISIS, "-q", "-f", "json")
    listed = json.loads(invoke("checkpoint", "list", sid, "--db", db, "-f", "json").stdout)
    assert [(c["kind"], c["tick"], c["day"]) for c in listed] == [
        ("start", 0, 0),
        ("end_of_day", 60, 1),
        ("end_of_day", 120, 2),
    ]
    saved = invoke("checkpoint", "save", sid, "--tick", "100", "--db", db)
    assert saved.exit_code == 0, saved.stderr
    ck_id = saved.stdout.strip()
    assert "from the checkpoint at tick 60" in saved.stderr
    # The re-simulated state is the state the run had: same bytes as a live checkpoint.
    live = Simulation(CRISIS)
    live.run_until(100)
    out = tmp_path / "ck.bin"
    assert invoke("checkpoint", "load", ck_id[:20], "--output", out, "--db", db).exit_code == 0
    assert out.read_bytes() == live.checkpoint()
    restored = paysim.Simulation.restore(CRISIS, out.read_bytes())
    restored.run()
    full = Simulation(CRISIS)
    full.run()
    assert without_metadata(restored.summary()) == without_metadata(full.summary())
    refused = invoke("checkpoint", "load", ck_id, "--output", out, "--db", db)
    assert refused.exit_code == 2 and "already exists" in refused.stderr
    assert invoke("checkpoint", "save", sid, "--tick", "999", "--db", db).exit_code == 2
    assert invoke("checkpoint", "delete", ck_id, "--db", db).exit_code == 0
    assert invoke("checkpoint", "delete", ck_id, "--db", db).exit_code == 2
    remaining = json.loads(invoke("checkpoint", "list", "--db", db, "-f", "json").stdout)
    assert len(remaining) == 3


def test_resume_continues_to_the_uninterrupted_summary(db: Path) -> None:
    sid, out = persisted(db, CRISIS, "-f", "json", "--seed", "11", "--days", "2")
    first = json.loads(out)
    with paysim.store.open(db) as store:
        ck = store.checkpoints(sid).to_pylist()[1]
    # The stored options (seed 11, 2 days) are used; without --persist nothing is written.
    result = invoke("run", CRISIS, "--resume", ck["checkpoint_id"], "--db", db, "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert without_metadata(json.loads(result.stdout)) == without_metadata(first)
    with paysim.store.open(db) as store:
        assert store.simulations().num_rows == 1
    # Other options give another engine config: refused before running.
    other = invoke("run", CRISIS, "--resume", ck["checkpoint_id"], "--db", db, "--seed", "12")
    assert other.exit_code == 2 and "does not give the engine config" in other.stderr
    elsewhere = invoke("run", SCENARIOS / "demo.yaml", "--resume", ck["checkpoint_id"], "--db", db)
    assert elsewhere.exit_code == 2 and "seed 11" in elsewhere.stderr
    missing = invoke("run", CRISIS, "--resume", "ffff", "--db", db)
    assert missing.exit_code == 2 and "no checkpoint `ffff`" in missing.stderr
    nowhere = invoke("run", CRISIS, "--resume", "ffff", "--db", db.with_name("none.duckdb"))
    assert nowhere.exit_code == 2 and "no database at" in nowhere.stderr


def test_db_migrate_needs_an_existing_file(db: Path) -> None:
    result = invoke("db", "migrate", "--db", db)
    assert result.exit_code == 2 and "paysim db init" in result.stderr and not db.exists()
    for command in (["db", "list"], ["db", "show", "x"], ["replay", "x"], ["checkpoint", "list"]):
        result = invoke(*command, "--db", db)
        assert result.exit_code == 2 and "no database at" in result.stderr, command
        assert "Traceback" not in result.stderr and not db.exists()


def test_readme_documents_the_store() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for command in (
        "--persist",
        "paysim replay",
        "paysim checkpoint",
        "paysim db",
        "docs/store.md",
    ):
        assert command in readme
