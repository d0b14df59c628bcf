"""kill -9 of a worker in the middle of a trial, with PostgreSQL and the two workers each on
their own machine (network namespace; loopback only where namespaces cannot be made — the
session's summary says which ran).

Machine 1 runs ``paysim optimize SPEC --storage URL`` (it creates the study and works it),
machine 2 joins with ``paysim optimize worker``. Once machine 2 has finished a trial and is in
the middle of its next one, it is killed with SIGKILL. Machine 1 must still bring the study to
its trial count: the killed trial's heartbeat goes stale, it is failed and queued again, and
machine 1 runs it; no trial is lost or counted twice, and both machines' DuckDB shards merge
into one store that agrees with machine 1's own record of the study.
"""

from __future__ import annotations

import json
import shutil
import signal
from pathlib import Path

import duckdb

from tests.cli_support import invoke
from tests.conftest import Cluster
from tests.distributed_support import (
    finish,
    paysim,
    shard_name,
    start,
    status,
    trials,
    watch,
    write_spec,
)

TRIALS = 10
SEEDS = 4


def test_kill_9_mid_trial_loses_no_trial_and_the_shards_merge(
    cluster: Cluster, tmp_path: Path
) -> None:
    topo = cluster.topology
    spec = write_spec(tmp_path, name="killed", trials=TRIALS, seeds=SEEDS)
    url = [cluster.url(0), cluster.url(1)]
    creator = start(topo, 0, paysim("optimize", spec, "--storage", url[0], "--no-progress",
                                     "--format", "json"))  # fmt: skip
    watcher = watch(topo, 1, url[1], "killed")
    victim = None
    try:
        assert watcher.stdout is not None
        watcher.stdout.readline()  # the study exists
        victim = start(topo, 1, paysim("optimize", "worker", spec, "--storage", url[1],
                                       "--study", "killed", "--no-progress"))  # fmt: skip
        name = shard_name(victim.pid).removesuffix(".duckdb")
        killed_trial = None
        for line in watcher.stdout:
            assert creator.poll() is None and victim.poll() is None, finish(victim)
            mine = [t for t in json.loads(line) if t["worker"] == name]
            running = [t for t in mine if t["state"] == "running"]
            # Its second trial, just started (a trial takes about a second): kill it now.
            if any(t["state"] == "complete" for t in mine) and running:
                if running[0]["age"] is not None and running[0]["age"] < 0.3:
                    killed_trial = running[0]["number"]
                    victim.send_signal(signal.SIGKILL)
                    break
        assert killed_trial is not None
        code, _, _ = finish(victim)
        assert code == -signal.SIGKILL

        code, out, err = finish(creator)
        assert code == 0, err
    finally:
        for proc in (creator, victim, watcher):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
    result = json.loads(out)
    assert result["trials"]["complete"] == TRIALS and result["trials"]["fail"] == 1

    # The study: the trial count reached, the killed trial failed and run again by machine 1
    # with the same parameters, nothing left running or queued.
    rows = trials(topo, 0, url[0], "killed")
    states = [r["state"] for r in rows]
    assert states.count("complete") == TRIALS and states.count("fail") == 1
    assert set(states) == {"complete", "fail"}
    failed = next(r for r in rows if r["state"] == "fail")
    assert failed["number"] == killed_trial and failed["worker"] == name
    retries = [r for r in rows if r["retried_from"] is not None]
    assert len(retries) == 1
    retry = retries[0]
    assert retry["retried_from"] == killed_trial and retry["state"] == "complete"
    assert retry["params"] == failed["params"]
    assert retry["worker"] == shard_name(creator.pid).removesuffix(".duckdb")
    done_by = {r["worker"] for r in rows if r["state"] == "complete"}
    assert done_by == {name, retry["worker"]}  # both machines completed trials

    final = status(topo, 1, url[1], "killed")
    assert final is not None
    assert final["trials"] == {
        "total": TRIALS + 1, "running": 0, "waiting": 0, "complete": TRIALS, "pruned": 0,
        "fail": 1,
    }  # fmt: skip
    assert final["budget"] == TRIALS

    # Each process wrote its own shard, named by host and process; they merge.
    shards = sorted((tmp_path / "out" / "shards").glob("*.duckdb"))
    assert [s.name for s in shards] == sorted([shard_name(creator.pid), shard_name(victim.pid)])
    merged = tmp_path / "merged.duckdb"
    merging = invoke("db", "merge", *shards, "--db", merged)
    assert merging.exit_code == 0, merging.stderr
    con = duckdb.connect(str(merged), read_only=True)
    try:
        numbers = con.execute(
            "SELECT number FROM trials WHERE state = 'complete' ORDER BY number"
        ).fetchall()
        runs = con.execute(
            "SELECT number, count(*), count(DISTINCT seed_index) FROM trial_runs "
            "GROUP BY number ORDER BY number"
        ).fetchall()
        states_in_shards = con.execute("SELECT DISTINCT state FROM trials").fetchall()
    finally:
        con.close()
    complete = sorted(int(str(r["number"])) for r in rows if r["state"] == "complete")
    assert [n for (n,) in numbers] == complete
    assert runs == [(n, SEEDS, SEEDS) for n in complete]
    assert states_in_shards == [("complete",)]  # the killed trial never finished anywhere

    # Machine 1's own record of the study (every trial, the failed one too) agrees with the
    # shards: merging them into a copy of it adds nothing and conflicts with nothing.
    record = tmp_path / "record.duckdb"
    shutil.copy(tmp_path / "out" / "paysim.duckdb", record)
    again = invoke("db", "merge", *shards, "--db", record, "-f", "json")
    assert again.exit_code == 0, again.stderr
    assert [s["added"] for s in json.loads(again.stdout)["shards"]] == [{}, {}]
