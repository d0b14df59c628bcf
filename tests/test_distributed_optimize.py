"""Distributed ``paysim optimize`` on the session's PostgreSQL server (loopback): clear errors
for storages that cannot be used, a worker refused when its spec differs from the study's, one
trial budget however many processes work it, a grid sweep shared without duplicates, a
worker stopped with Ctrl-C giving its trial back, and ``paysim optimize status``."""

from __future__ import annotations

import itertools
import json
import signal
import subprocess
from pathlib import Path
from typing import cast

import duckdb

from tests.cli_support import invoke
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
from tests.netns_support import _loopback
from tests.pg_support import PostgresServer, with_database, with_password

LOCAL = _loopback(2, "the session's server")


def optimize(*args: str | Path) -> tuple[int, str, str]:
    result = invoke("optimize", *args)
    return result.exit_code, result.stdout, result.stderr


# -- errors ---------------------------------------------------------------------------------------


def test_unusable_storages_are_one_paragraph_and_exit_2(
    postgres: PostgresServer, pg_url: str, tmp_path: Path
) -> None:
    spec = write_spec(tmp_path, name="errs", trials=2, ticks=60)
    port = postgres.port
    bad = {
        with_password(pg_url, "paysim", "not-it"): "refused the credentials of user `paysim`",
        pg_url.replace(f":{port}/", ":1/"): "nothing accepts connections at 127.0.0.1:1",
        with_database(pg_url, "nowhere"): "there is no database `nowhere`",
    }
    for url, reason in bad.items():
        for args in (
            (spec, "--storage", url, "--no-progress"),
            ("worker", spec, "--storage", url, "--study", "errs", "--no-progress"),
            ("status", "--storage", url, "--study", "errs"),
        ):
            code, out, err = optimize(*args)
            assert code == 2, (args, err)
            assert err.startswith("error: cannot open the study storage postgresql://"), err
            assert reason in err and err.count("\n") == 1, err
            assert "not-it" not in err and "Traceback" not in err and out == ""


def test_worker_needs_an_existing_study_in_a_database(pg_url: str, tmp_path: Path) -> None:
    spec = write_spec(tmp_path, name="lonely", trials=2, ticks=60)
    code, _, err = optimize("worker", spec, "--storage", pg_url, "--study", "lonely")
    assert code == 2
    assert f"{spec}: no study `lonely` in postgresql://paysim:***@" in err
    assert "(studies there: none); start it with `paysim optimize" in err
    code, _, err = optimize("worker", spec, "--storage", pg_url, "--study", "lonely", "--wait", "1")
    assert code == 2 and "no study `lonely` in postgresql://" in err and "after waiting 1 s" in err
    code, _, err = optimize("worker", spec, "--storage", str(tmp_path / "j.journal"),
                            "--study", "lonely")  # fmt: skip
    assert code == 2 and "a worker joins a study in a database" in err
    code, _, err = optimize("status", "--storage", pg_url, "--study", "lonely")
    assert code == 2 and "no study `lonely`" in err


def test_grace_period_must_exceed_the_heartbeat(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, name="g", trials=2, ticks=60, extra="")
    spec.write_text(spec.read_text().replace("grace_period: 3", "grace_period: 1"))
    code, _, err = optimize("validate", spec)
    assert code == 2
    assert f"{spec} at /grace_period: grace_period (1 s) must be longer than" in err


# -- one search space -----------------------------------------------------------------------------


def test_a_worker_whose_spec_differs_is_told_what_differs(pg_url: str, tmp_path: Path) -> None:
    spec = write_spec(tmp_path, name="same", trials=3, ticks=60)
    code, _, err = optimize(spec, "--storage", pg_url, "--no-progress")
    assert code == 0, err

    other = tmp_path / "other"
    other.mkdir()
    changed = write_spec(
        other,
        name="same",
        trials=3,
        ticks=60,
        seeds=5,
        agents="{BANK_A: {search: {initial_liquidity_fraction: {min: 0.0, max: 0.5, step: 0.05}}},"
        " BANK_C: {}}",
    )
    code, _, err = optimize("worker", changed, "--storage", pg_url, "--study", "same")
    assert code == 2, err
    message = err.removeprefix("error: ")
    assert message.startswith(f"{changed}: study `same` in postgresql://paysim:***@127.0.0.1:"), (
        message
    )
    for part in (
        "was created with a different spec, so this process cannot work it: ",
        "dimension BANK_A.initial_liquidity_fraction: float in [0.0, 1.0] step 0.05 in the "
        "study, float in [0.0, 0.5] step 0.05 in this spec",
        "dimension BANK_B.initial_liquidity_fraction is searched in the study, not in this spec",
        "dimension BANK_C.initial_liquidity_fraction is searched in this spec, not in the study",
        "seeds: 4 seeds (11, 12, 13, …) in the study, 5 seeds (11, 12, 13, …) in this spec",
        "Use the spec the study was created with, or another study name",
    ):
        assert part in message, message
    assert "scenario" not in message  # the same scenario (content), another path
    # The same holds for --resume of the creating command.
    code, _, err = optimize(changed, "--storage", pg_url, "--resume", "--no-progress")
    assert code == 2 and "dimension BANK_C.initial_liquidity_fraction is searched" in err

    # The same spec with another trial count joins; the study's budget (3, spent) applies.
    again = write_spec(other, name="again", trials=50, ticks=60)
    again.write_text(again.read_text().replace("study_name: again", "study_name: same"))
    code, out, err = optimize("worker", again, "--storage", pg_url, "--study", "same")
    assert code == 0, err
    assert out.startswith("worker ") and ": 0 trials of study same (0 complete, 0 pruned) · "
    assert "study: 3 of 3 done" in out and "rows in" not in out


# -- one budget, shared sweeps --------------------------------------------------------------------


def test_a_grid_sweep_over_many_seeds_is_shared_without_duplicates(
    pg_url: str, tmp_path: Path
) -> None:
    """Every process draws grid points from the same shuffled grid (one seed for grid and QMC
    samplers, whose processes coordinate through the storage), so each point runs once."""
    grid = "{search: {initial_liquidity_fraction: {min: 0.0, max: 0.3, step: 0.1}}}"
    seeds = 6
    spec = write_spec(
        tmp_path,
        name="sweep",
        trials=16,
        ticks=2_000,
        seeds=seeds,
        sampler="grid",
        agents=f"{{BANK_A: {grid}, BANK_B: {grid}}}",
    )
    creator = start(LOCAL, 0, paysim("optimize", spec, "--storage", pg_url, "--no-progress",
                                     "--format", "json"))  # fmt: skip
    watcher = watch(LOCAL, 1, pg_url, "sweep")
    try:
        assert watcher.stdout is not None
        watcher.stdout.readline()
        joining = ("worker", spec, "--storage", pg_url, "--study", "sweep", "--no-progress")
        worker = start(LOCAL, 1, paysim("optimize", *joining, "-f", "json"))
        code, out, err = finish(worker)
        assert code == 0, err
        done = json.loads(out)
        code, _, err = finish(creator)
        assert code == 0, err
    finally:
        for proc in (creator, watcher):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    rows = trials(LOCAL, 0, pg_url, "sweep")
    assert [r["state"] for r in rows] == ["complete"] * 16
    points = [tuple(sorted(cast(dict[str, float], r["params"]).items())) for r in rows]
    values = [0.0, 0.1, 0.2, 0.3]
    assert {tuple(v for _, v in p) for p in points} == set(itertools.product(values, values))
    workers = {r["worker"] for r in rows}
    assert done["worker"] in workers and len(workers) == 2  # both processes took trials
    assert len(done["trials"]) == done["complete"] > 0
    shard = tmp_path / "out" / "shards" / shard_name(worker.pid)
    con = duckdb.connect(str(shard), read_only=True)
    try:
        counted = con.execute("SELECT count(*), count(DISTINCT number) FROM trial_runs").fetchall()
    finally:
        con.close()
    assert counted == [(seeds * len(done["trials"]), len(done["trials"]))]


def test_local_workers_on_a_database_share_one_exact_budget(pg_url: str, tmp_path: Path) -> None:
    spec = write_spec(tmp_path, name="crowd", trials=16, ticks=60, seeds=2, extra="workers: 3\n")
    code, out, err = optimize(spec, "--storage", pg_url, "--no-progress", "--format", "json")
    assert code == 0, err
    result = json.loads(out)
    assert result["trials"]["total"] == result["trials"]["complete"] == 16
    rows = trials(LOCAL, 0, pg_url, "crowd")
    assert len(rows) == 16 and {r["state"] for r in rows} == {"complete"}
    shards = sorted((tmp_path / "out" / "shards").glob("*.duckdb"))
    assert 1 <= len(shards) <= 3
    merged = tmp_path / "merged.duckdb"
    assert invoke("db", "merge", *shards, "--db", merged).exit_code == 0
    con = duckdb.connect(str(merged), read_only=True)
    try:
        numbers = [n for (n,) in con.execute("SELECT number FROM trials ORDER BY 1").fetchall()]
    finally:
        con.close()
    assert numbers == list(range(16))


# -- Ctrl-C and status ----------------------------------------------------------------------------


TRIALS_STOPPED = 8


def test_ctrl_c_finishes_the_trial_and_twice_gives_it_back(pg_url: str, tmp_path: Path) -> None:
    """One worker gets Ctrl-C once in the middle of a trial: it finishes that trial and stops.
    Another gets it twice: it stops at once, failing its trial and queueing it again."""
    spec = write_spec(tmp_path, name="stopped", trials=TRIALS_STOPPED, seeds=6, batch=1)
    creator = start(LOCAL, 0, paysim("optimize", spec, "--storage", pg_url, "--no-progress",
                                     "--format", "json"))  # fmt: skip
    watcher = watch(LOCAL, 1, pg_url, "stopped")
    workers: list[subprocess.Popen[str]] = []
    try:
        assert watcher.stdout is not None
        watcher.stdout.readline()
        joining = ("worker", spec, "--storage", pg_url, "--study", "stopped", "--no-progress")
        workers = [start(LOCAL, 1, paysim("optimize", *joining)) for _ in range(2)]
        names = [shard_name(w.pid).removesuffix(".duckdb") for w in workers]
        interrupted: dict[int, int] = {}
        for line in watcher.stdout:
            for i, (worker, name) in enumerate(zip(workers, names, strict=True)):
                if i in interrupted:
                    continue
                # A process that ends before its interrupt would leave this loop waiting.
                assert worker.poll() is None and creator.poll() is None, finish(worker)
                running = [
                    t for t in json.loads(line) if t["worker"] == name and t["state"] == "running"
                ]
                # A trial just started (it takes about a second): interrupt it now.
                if running and running[0]["age"] is not None and running[0]["age"] < 0.3:
                    interrupted[i] = running[0]["number"]
                    worker.send_signal(signal.SIGINT)
                    if i == 1:
                        # Signals are handled between engine calls (one seed each here), and
                        # two that arrive during one call count once: the second is sent when
                        # the first has been handled.
                        assert worker.stderr is not None
                        for said in worker.stderr:
                            if said.startswith("interrupt: finishing the running trial"):
                                break
                        worker.send_signal(signal.SIGINT)
            if len(interrupted) == 2:
                break
        for worker in workers:
            code, _, err = finish(worker)
            assert code == 130 and "interrupted" in err, err

        # While the creator finishes, the status names every process.
        seen = status(LOCAL, 1, pg_url, "stopped")
        assert seen is not None
        assert set(names) <= {w["worker"] for w in cast(list[dict[str, object]], seen["workers"])}
        code, _, err = finish(creator)
        assert code == 0, err
    finally:
        for proc in (creator, watcher, *workers):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    rows = trials(LOCAL, 0, pg_url, "stopped")
    by_number = {r["number"]: r for r in rows}
    once = by_number[interrupted[0]]
    assert once["state"] == "complete" and once["worker"] == names[0]
    failed = [r for r in rows if r["state"] == "fail"]
    assert [r["number"] for r in failed] == [interrupted[1]] and failed[0]["worker"] == names[1]
    retry = [r for r in rows if r["retried_from"] == interrupted[1]]
    assert len(retry) == 1 and retry[0]["state"] == "complete"
    assert retry[0]["params"] == failed[0]["params"]
    assert [r["state"] for r in rows].count("complete") == TRIALS_STOPPED
    assert not any(r["worker"] == names[0] and int(str(r["number"])) > interrupted[0] for r in rows)

    text = invoke("optimize", "status", "--storage", pg_url, "--study", "stopped")
    assert text.exit_code == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0] == (
        f"study stopped in {pg_url.split(':')[0]}://paysim:***@{pg_url.split('@')[1]} · "
        f"minimize total_cost (mean) · {TRIALS_STOPPED} of {TRIALS_STOPPED} trials done"
    )
    assert (
        lines[1] == f"trials: {TRIALS_STOPPED} complete, 0 pruned, 1 failed, 0 running, 0 waiting"
    )
    assert lines[2].startswith("best so far: trial ")
    assert lines[3] == "workers seen in the last 10 min: 3"
    assert any(line.startswith(f"  {names[1]}: ") and "1 failed" in line for line in lines[4:])
