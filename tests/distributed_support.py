"""Helpers of the distributed ``paysim optimize`` tests: specs whose trials take about a second,
``paysim`` processes started on a worker machine (its network namespace), and what the study
holds, read from that machine (the test's own namespace may not reach the server)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from tests.cli_support import REPO
from tests.netns_support import Topology

FOUR_BANKS = REPO / "scenarios" / "optimize" / "four_banks.scenario.yaml"
HOST = socket.gethostname()


def write_spec(
    directory: Path,
    *,
    name: str,
    trials: int,
    ticks: int = 20_000,
    seeds: int = 4,
    sampler: str = "random",
    agents: str = "{BANK_A: {}, BANK_B: {}}",
    extra: str = "",
    batch: int | None = None,
) -> Path:
    """A joint search on the four-bank scenario made ``ticks`` ticks long (20,000 ticks and 4
    seeds on one engine thread: about a second a trial). ``batch``: seeds per engine call (a
    signal is handled between two calls)."""
    scenario = directory / f"{name}.scenario.yaml"
    scenario.write_text(
        FOUR_BANKS.read_text().replace("ticks_per_day: 60", f"ticks_per_day: {ticks}")
    )
    spec = directory / f"{name}.yaml"
    batched = "" if batch is None else f", batch: {batch}"
    spec.write_text(
        f"scenario: {scenario.name}\nmode: joint\nagents: {agents}\nobjective: total_cost\n"
        f"evaluation: {{seeds: {seeds}, threads: 1{batched}}}\n"
        f"sampler: {sampler}\npruner: none\n"
        f"trials: {trials}\nseed: 3\nheartbeat_interval: 1\ngrace_period: 3\n"
        f"study_name: {name}\noutput: {directory / 'out'}\n{extra}"
    )
    return spec


def paysim(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "paysim", *map(str, args)]


def start(topology: Topology, machine: int, argv: Sequence[str]) -> subprocess.Popen[str]:
    """``argv`` started on worker machine ``machine`` (``ip netns exec`` execs, so the
    process's id is the paysim process's own)."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        topology.command(machine, list(argv)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=env,
    )


def run_on(
    topology: Topology, machine: int, argv: Sequence[str]
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        topology.command(machine, list(argv)),
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
        timeout=120,
    )


def status(topology: Topology, machine: int, url: str, study: str) -> dict[str, object] | None:
    """``paysim optimize status --format json`` from a machine (``None`` before the study
    exists)."""
    done = run_on(
        topology,
        machine,
        paysim("optimize", "status", "--storage", url, "--study", study, "-f", "json"),
    )
    if done.returncode != 0:
        assert "no study" in done.stderr or "relation" in done.stderr, done.stderr
        return None
    found = json.loads(done.stdout)
    assert isinstance(found, dict)
    return found


_TRIALS = """
import json, sys
import optuna
url = sys.argv[1].replace("postgresql://", "postgresql+psycopg2://", 1)
study = optuna.load_study(study_name=sys.argv[2], storage=url)
print(json.dumps([
    {"number": t.number, "state": t.state.name.lower(), "params": t.params,
     "worker": t.user_attrs.get("paysim_worker"),
     "retried_from": t.system_attrs.get("failed_trial")}
    for t in study.get_trials(deepcopy=False)
]))
"""


def trials(topology: Topology, machine: int, url: str, study: str) -> list[dict[str, object]]:
    """Every trial of the study: number, state, params, worker, the trial it retries."""
    done = run_on(topology, machine, [sys.executable, "-c", _TRIALS, url, study])
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert isinstance(rows, list)
    return rows


_WATCH = """
import datetime, json, sys, time
import optuna
url = sys.argv[1].replace("postgresql://", "postgresql+psycopg2://", 1)
storage = optuna.storages.RDBStorage(url)
while True:
    try:
        study = optuna.load_study(study_name=sys.argv[2], storage=storage)
    except KeyError:
        time.sleep(0.05)
        continue
    now = datetime.datetime.now()
    print(json.dumps([
        {"number": t.number, "state": t.state.name.lower(),
         "worker": t.user_attrs.get("paysim_worker"),
         "age": None if t.datetime_start is None else (now - t.datetime_start).total_seconds()}
        for t in study.get_trials(deepcopy=False)
    ]), flush=True)
    time.sleep(0.05)
"""


def watch(topology: Topology, machine: int, url: str, study: str) -> subprocess.Popen[str]:
    """A process on ``machine`` printing the study's trials (number, state, worker, seconds
    since it started) as one JSON line every 50 ms, from the moment the study exists."""
    return start(topology, machine, [sys.executable, "-c", _WATCH, url, study])


def wait_for(
    what: str, check: Callable[[], object], timeout: float = 120.0, every: float = 0.2
) -> object:
    """Polls ``check`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(every)


def finish(proc: subprocess.Popen[str], timeout: float = 180.0) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def shard_name(pid: int) -> str:
    return f"{HOST}-{pid}.duckdb"
