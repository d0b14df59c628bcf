"""``paysim db merge``: shards of real runs combine into one store that reads like the shards;
merging again adds nothing; rows that disagree are refused and nothing is written; runs a killed
process left ``running`` are recorded ``interrupted``; files that are not usable shards are
refused with a message naming them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import paysim.store
from paysim.store.merge import MERGE_KEYS, merge, merge_key
from paysim.store.models import TABLES, SchemaVersionRow
from tests.cli_support import DEMO, invoke
from tests.store_support import FIXTURES, persisted

STORED = [t for t in TABLES if t is not SchemaVersionRow and t.view_since is None]
"""The tables rows are stored in (the views ``events``, ``event_data`` and ``payments`` show
``event_rows`` and ``event_shapes``)."""
DATA_TABLES = [t.table for t in STORED]


def contents(db: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table but schema_version, sorted: what two stores must share."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {}
        for model in STORED:
            rows = con.execute(f"SELECT * FROM {model.table}").fetchall()
            # Lists (event_shapes.parts) as tuples, so rows can be compared as sets.
            rows = [tuple(tuple(v) if isinstance(v, list) else v for v in r) for r in rows]
            out[model.table] = sorted(rows, key=repr)
        return out
    finally:
        con.close()


def union(*dbs: Path) -> dict[str, list[tuple[object, ...]]]:
    out: dict[str, set[tuple[object, ...]]] = {t: set() for t in DATA_TABLES}
    for db in dbs:
        for table, rows in contents(db).items():
            out[table].update(rows)
    return {t: sorted(rows, key=repr) for t, rows in out.items()}


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """A: two runs; B: a copy of A plus a third run (so A and B share two runs); C: a fourth."""
    root = tmp_path_factory.mktemp("shards")
    a, b, c = root / "a.duckdb", root / "b.duckdb", root / "c.duckdb"
    persisted(a, DEMO, "--seed", "1", "-f", "json")
    persisted(a, DEMO, "--seed", "2", "-f", "json", "--days", "2")
    shutil.copy(a, b)
    persisted(b, DEMO, "--seed", "3", "-f", "json")
    persisted(c, DEMO, "--seed", "4", "-f", "json")
    yield {"a": a, "b": b, "c": c}


def test_every_table_has_a_merge_key() -> None:
    for model in TABLES:
        if model.view_since is not None:
            continue  # a view: merged through the table it shows
        key = merge_key(model)
        assert key and set(key) <= set(model.model_fields), model.table
    assert MERGE_KEYS == {
        "event_data": ("simulation_id", "seq"),
        "event_rows": ("run_key", "seq"),
    }


def test_merged_store_holds_every_row_once_and_replays_like_the_shard(
    shards: dict[str, Path], tmp_path: Path
) -> None:
    target = tmp_path / "merged.duckdb"
    first = invoke("db", "merge", shards["a"], shards["b"], shards["c"], "--db", target)
    assert first.exit_code == 0, first.stderr
    lines = first.stdout.splitlines()
    assert lines[0].startswith(f"{shards['a']}: ") and ", 0 already in" in lines[0]
    # B repeats A's two runs: only its third run's rows are new.
    assert lines[1].endswith(f"{sum(len(r) for r in contents(shards['a']).values())} already "
                             f"in {target}")  # fmt: skip
    assert contents(target) == union(shards["a"], shards["b"], shards["c"])
    with paysim.store.open(target) as store:
        runs = store.simulations().to_pylist()
    assert sorted(r["seed"] for r in runs) == [1, 2, 3, 4]
    assert {r["status"] for r in runs} == {"completed"}

    # A merged run replays exactly as it does from its shard.
    sid = next(r["simulation_id"] for r in runs if r["seed"] == 2)
    from_shard = invoke("replay", sid, "--db", shards["a"], "-f", "verbose")
    from_merged = invoke("replay", sid, "--db", target, "-f", "verbose")
    assert from_shard.exit_code == from_merged.exit_code == 0
    assert from_merged.stdout == from_shard.stdout and "End of day 1" in from_merged.stdout

    # Merging again adds nothing.
    again = invoke("db", "merge", shards["c"], shards["b"], "--db", target, "-f", "json")
    assert again.exit_code == 0, again.stderr
    report = json.loads(again.stdout)
    assert [s["added"] for s in report["shards"]] == [{}, {}]
    assert contents(target) == union(shards["a"], shards["b"], shards["c"])


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.lists(st.sampled_from("abc"), min_size=1, max_size=3, unique=True),
        min_size=1,
        max_size=4,
    )
)
def test_any_order_of_merges_gives_the_union(
    shards: dict[str, Path], tmp_path_factory: pytest.TempPathFactory, calls: list[list[str]]
) -> None:
    target = tmp_path_factory.mktemp("prop") / "merged.duckdb"
    merged: list[Path] = []
    for call in calls:
        merge(target, [shards[name] for name in call])
        merged += [shards[name] for name in call]
        assert contents(target) == union(*merged)


def _conflicting_copy(source: Path, dest: Path) -> str:
    shutil.copy(source, dest)
    con = duckdb.connect(str(dest))
    try:
        sid = con.execute("SELECT min(simulation_id) FROM simulations").fetchall()[0][0]
        con.execute(
            "UPDATE daily_agent_metrics SET cost_delay = cost_delay + 1 "
            "WHERE simulation_id = ? AND day = 0 AND agent_id = 'BANK_B'",
            [sid],
        )
    finally:
        con.close()
    return str(sid)


def test_conflicting_rows_are_refused_and_nothing_is_written(
    shards: dict[str, Path], tmp_path: Path
) -> None:
    target = tmp_path / "merged.duckdb"
    assert invoke("db", "merge", shards["c"], "--db", target).exit_code == 0
    before = contents(target)
    bad = tmp_path / "tampered.duckdb"
    sid = _conflicting_copy(shards["a"], bad)
    result = invoke("db", "merge", shards["a"], bad, "--db", target)
    assert result.exit_code == 2, result.stdout
    message = result.stderr
    assert message.startswith(f"error: cannot merge {bad} into {target}: ")
    assert "table daily_agent_metrics" in message and f"simulation_id='{sid}'" in message
    assert "day=0" in message and "agent_id='BANK_B'" in message
    assert "column `cost_delay`" in message and "nothing was merged" in message
    assert "Traceback" not in message
    # All or nothing: A's rows, merged before the conflict in the same call, are not there.
    assert contents(target) == before


def test_two_runs_under_one_run_key_are_refused_and_nothing_is_written(
    shards: dict[str, Path], tmp_path: Path
) -> None:
    """A run's events are stored under a key derived from its id; two different runs with one
    key (planted here: by chance about n² / 2⁶¹) would mix their events, so the merge stops."""
    target = tmp_path / "merged.duckdb"
    assert invoke("db", "merge", shards["c"], "--db", target).exit_code == 0
    before = contents(target)
    planted = tmp_path / "planted.duckdb"
    shutil.copy(shards["c"], planted)
    con = duckdb.connect(str(shards["a"]), read_only=True)
    try:
        key = con.execute("SELECT run_key FROM event_shapes LIMIT 1").fetchall()[0][0]
    finally:
        con.close()
    con = duckdb.connect(str(planted))
    try:
        con.execute("INSERT INTO event_shapes VALUES ('intruder', ?, 0, 'Arrival', ['{}'])", [key])
    finally:
        con.close()
    result = invoke("db", "merge", shards["a"], planted, "--db", target)
    assert result.exit_code == 1, result.stdout
    assert "have the same run key" in result.stderr and "intruder" in result.stderr
    assert "Traceback" not in result.stderr
    assert contents(target) == before


def test_a_run_left_running_by_a_killed_process_merges_as_interrupted(
    shards: dict[str, Path], tmp_path: Path
) -> None:
    killed = tmp_path / "killed.duckdb"
    persisted(killed, DEMO, "--seed", "5", "--days", "3", "-f", "json")
    # What a kill -9 on day 2 leaves: status running, days 0-1 committed (payments is a view).
    con = duckdb.connect(str(killed))
    try:
        sid = con.execute("SELECT simulation_id FROM simulations").fetchall()[0][0]
        for table in ("event_rows", "daily_metrics", "daily_agent_metrics", "tick_metrics",
                      "agent_tick_rows"):  # fmt: skip
            con.execute(f"DELETE FROM {table} WHERE day >= 2")
        con.execute("DELETE FROM checkpoints WHERE tick > 200")
        con.execute(
            "UPDATE simulations SET status = 'running', ended_at = NULL, summary = NULL, "
            "total_cost = NULL, settlement_rate = NULL, days_done = 2, ticks_done = 200, "
            "event_count = (SELECT count(*) FROM events)"
        )
    finally:
        con.close()
    recovered_copy = tmp_path / "recovered.duckdb"
    shutil.copy(killed, recovered_copy)
    paysim.store.open(recovered_copy, write=True).close()  # its own next writer recorded it

    target = tmp_path / "merged.duckdb"
    result = invoke("db", "merge", killed, "--db", target)
    assert result.exit_code == 0, result.stderr
    assert f"{sid}: left running by a killed process; recorded interrupted" in result.stdout
    with paysim.store.open(target) as store:
        run = store.simulation(sid)
        assert run["status"] == "interrupted" and run["days_done"] == 2
        arrivals = sum(store.daily_metrics(sid)["arrivals"].to_pylist())
        assert store.payments(sid).num_rows == arrivals > 0
    # The same run, still `running` in one file and `interrupted` in another, is no conflict.
    again = invoke("db", "merge", killed, recovered_copy, "--db", target, "-f", "json")
    assert again.exit_code == 0, again.stderr
    assert [s["added"] for s in json.loads(again.stdout)["shards"]] == [{}, {}]


def test_older_shards_merge_and_are_left_untouched(tmp_path: Path) -> None:
    fixtures = sorted(FIXTURES.glob("schema_v*.duckdb"))
    assert fixtures
    copies = []
    for fixture in fixtures:
        copy = tmp_path / fixture.name
        shutil.copy(fixture, copy)
        copies.append(copy)
    before = [c.read_bytes() for c in copies]
    target = tmp_path / "merged.duckdb"
    result = invoke("db", "merge", *copies, "--db", target)
    assert result.exit_code == 0, result.stderr
    assert [c.read_bytes() for c in copies] == before
    con = duckdb.connect(str(copies[-1]), read_only=True)
    try:
        runs = {r[0] for r in con.execute("SELECT simulation_id FROM simulations").fetchall()}
    finally:
        con.close()
    with paysim.store.open(target) as store:
        merged_runs = set(store.simulations()["simulation_id"].to_pylist())
    assert runs <= merged_runs


def test_unusable_shards_are_refused_with_their_name(
    shards: dict[str, Path], tmp_path: Path
) -> None:
    target = tmp_path / "merged.duckdb"
    text = tmp_path / "notes.duckdb"
    text.write_text("not a database\n")
    foreign = tmp_path / "foreign.duckdb"
    con = duckdb.connect(str(foreign))
    con.execute("CREATE TABLE t (x INTEGER)")
    con.close()
    newer = tmp_path / "newer.duckdb"
    shutil.copy(shards["c"], newer)
    con = duckdb.connect(str(newer))
    con.execute("INSERT INTO schema_version VALUES (999, now(), '99.0', 'from the future')")
    con.close()
    cases = [
        ([tmp_path / "missing.duckdb"], 2, "no database at"),
        ([text], 1, "is not a DuckDB database"),
        ([tmp_path], 1, "is a directory"),
        ([foreign], 1, "not a paysim store"),
        ([newer], 1, "schema version 999, written by paysim 99.0"),
        ([target], 2, "is the target of the merge"),
        ([shards["c"], shards["c"]], 2, "is given twice"),
    ]
    for args, code, needle in cases:
        result = invoke("db", "merge", *args, "--db", target)
        assert result.exit_code == code, (args, result.stderr)
        assert needle in result.stderr and "Traceback" not in result.stderr, result.stderr
        assert result.stderr.count("\n") == 1, result.stderr  # one paragraph
        assert not target.exists(), args  # a failed merge leaves no empty store behind
    usage = invoke("db", "merge", "--db", target)
    assert usage.exit_code == 2 and "Missing argument 'SHARD...'" in usage.stderr


def test_a_shard_its_process_still_writes_is_refused(
    shards: dict[str, Path], tmp_path: Path
) -> None:
    live = tmp_path / "live.duckdb"
    shutil.copy(shards["c"], live)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, duckdb; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); "
         "sys.stdin.read()", str(live)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        result = invoke("db", "merge", live, "--db", tmp_path / "merged.duckdb")
    finally:
        holder.communicate("", timeout=30)
    assert result.exit_code == 1
    assert f"{live} is in use by process {holder.pid}" in result.stderr
    assert "still writing it" in result.stderr
