"""Ctrl-C (ISSUE 10): a run stops between two ticks soon after SIGINT, even inside one long day —
the command exits 130 with its sinks aborted (an existing output file untouched, no temporary file
left), and ``Simulation.run`` raises ``KeyboardInterrupt`` with the engine at a tick boundary.

The scenario is one that would run for minutes: 200 idle banks over many long days. Real
processes receive a real SIGINT; the bound on how long they take to stop is generous (the machine
is shared) but far below the length of the run, and the tick they stopped at shows they stopped
inside the first day. How quickly they stop is measured by ``benches/startup_bench.py``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.cli_support import REPO

TICKS_PER_DAY = 86_400
STOP_WITHIN = 10.0  # seconds; the run itself would take minutes

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals")


def long_scenario(folder: Path) -> Path:
    """200 banks without payments over 30 days of 86,400 ticks: minutes of engine work, few
    events, little memory."""
    path = folder / "long.yaml"
    agents = [{"id": f"BANK_{i:03d}", "opening_balance": 1_000} for i in range(200)]
    scenario = {
        "simulation": {"ticks_per_day": TICKS_PER_DAY, "num_days": 30, "rng_seed": 1},
        "agents": agents,
    }
    path.write_text(yaml.safe_dump(scenario))
    return path


def _wait_for(predicate: Callable[[], bool], proc: subprocess.Popen[str], what: str) -> None:
    deadline = time.monotonic() + 120
    while not predicate():
        assert proc.poll() is None, f"ended before {what}: {proc.communicate()}"
        assert time.monotonic() < deadline, f"no {what} after 120 s"
        time.sleep(0.05)


def _interrupt(proc: subprocess.Popen[str]) -> tuple[str, str, float]:
    time.sleep(0.5)  # well inside the run
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=STOP_WITHIN)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail(f"still running {STOP_WITHIN} s after SIGINT")
    return out, err, time.monotonic() - sent


def test_ctrl_c_stops_paysim_run_with_exit_130_and_nothing_half_written(tmp_path: Path) -> None:
    scenario = long_scenario(tmp_path)
    target = tmp_path / "events.jsonl"
    target.write_text("an earlier run\n")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "paysim",
            "run",
            str(scenario),
            "--sink",
            f"jsonl:path={target},overwrite=true",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # The sink opens its temporary file when the run starts.
    _wait_for(lambda: any(p.suffix == ".partial" for p in tmp_path.iterdir()), proc, "run")
    out, err, _ = _interrupt(proc)
    assert proc.returncode == 130, err
    assert err.strip().endswith("interrupted") and "Traceback" not in err
    assert out == ""
    assert target.read_text() == "an earlier run\n"
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".partial"]


def test_ctrl_c_stops_simulation_run_between_two_ticks(tmp_path: Path) -> None:
    scenario = long_scenario(tmp_path)
    child = (
        "import json, sys, paysim\n"
        f"sim = paysim.Simulation({str(scenario)!r})\n"
        "print('ready', flush=True)\n"
        "try:\n"
        "    sim.run()\n"
        "except KeyboardInterrupt:\n"
        "    tick = sim.current_tick\n"
        "    sim.tick()  # the engine is between two ticks and carries on\n"
        "    print(json.dumps({'stopped_at': tick, 'after': sim.current_tick,\n"
        "                      'total': sim.total_ticks}))\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", child],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == "ready\n", proc.communicate()
    out, err, _ = _interrupt(proc)
    assert proc.returncode == 0, err
    state = json.loads(out)
    assert 0 <= state["stopped_at"] < TICKS_PER_DAY  # inside the first (long) day
    assert state["after"] == state["stopped_at"] + 1
    assert state["total"] == 30 * TICKS_PER_DAY
