"""kill -9 in the middle of a day: a real ``paysim run --persist`` process is killed while it
writes its third day. The database opens, every committed day is intact, the run shows
``interrupted``, and resuming from the last end-of-day checkpoint ends with the summary of an
uninterrupted run.

The engine may run one day ahead of the file (its database work overlaps the next day), so a
process killed during day 2 has committed day 0 for certain and day 1 unless it was killed
before that commit returned; the test accepts both and checks every committed day.
Ctrl-C instead lets the commits of the days that ended run: stopped during day 1, day 0 is
stored."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import paysim.store
from tests.cli_support import REPO, invoke
from tests.store_support import LONG_DAYS, without_metadata

LINES_INTO_THE_DAY = 200


def _kill_mid_day(db: Path, day: int, sig: int = signal.SIGKILL) -> tuple[str, str]:
    """Starts a persisted verbose run and sends it ``sig`` once it has printed a few hundred
    lines of ``day``; returns what it printed on stdout and stderr."""
    header = f"· day {day} "
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "paysim",
            "run",
            LONG_DAYS,
            "--persist",
            "--db",
            db,
            "-f",
            "verbose",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=env,
    )
    assert proc.stdout is not None and proc.stderr is not None
    out: list[str] = []
    seen = 0
    for line in proc.stdout:
        out.append(line)
        if header in line or seen:
            seen += 1
        if seen > LINES_INTO_THE_DAY:
            os.kill(proc.pid, sig)
            break
    out.append(proc.stdout.read())
    err = proc.stderr.read()
    proc.wait()
    assert proc.returncode == (130 if sig == signal.SIGINT else -sig), err
    return "".join(out), err


def test_kill_9_mid_day_leaves_whole_days_and_resumes_to_the_same_summary(tmp_path: Path) -> None:
    reference = tmp_path / "reference.duckdb"
    full = invoke("run", LONG_DAYS, "--persist", "--db", reference, "-f", "json")
    assert full.exit_code == 0, full.stderr
    uninterrupted = json.loads(full.stdout)
    with paysim.store.open(reference) as store:
        per_day = store.daily_metrics(uninterrupted["simulation_id"])["events"].to_pylist()

    db = tmp_path / "killed.duckdb"
    stdout, stderr = _kill_mid_day(db, day=2)
    sid = stderr.split("simulation ", 1)[1].split(" ", 1)[0]
    # Killed in the middle of day 2: it printed day 2 ticks but never reached its end.
    assert "End of day 1" in stdout and "End of day 2" not in stdout

    # A reader opens it (with DuckDB's log of the killed process still beside it) and reports
    # the run as interrupted, with its committed days whole and nothing of the others.
    with paysim.store.open(db) as store:
        run = store.simulation(sid)
        done = run["days_done"]
        assert run["status"] == "interrupted" and done in (1, 2)
        assert isinstance(done, int)
        counts = store.rows(
            "SELECT day, count(*) AS n FROM events WHERE simulation_id = ? GROUP BY day "
            "ORDER BY day",
            [sid],
        )
        assert [(r["day"], r["n"]) for r in counts] == list(enumerate(per_day[:done]))
        assert run["event_count"] == sum(per_day[:done])
        assert store.daily_metrics(sid)["events"].to_pylist() == per_day[:done]
        assert store.tick_metrics(sid).num_rows == 200 * done
        assert set(store.agent_tick_metrics(sid)["day"].to_pylist()) == set(range(done))
        checkpoints = store.checkpoints(sid).to_pylist()
    assert [(c["kind"], c["tick"]) for c in checkpoints] == [("start", 0)] + [
        ("end_of_day", 200 * (d + 1)) for d in range(done)
    ]
    listed = invoke("db", "list", "--db", db, "-f", "json")
    assert json.loads(listed.stdout)[0]["status"] == "interrupted"

    # The next writer records it as interrupted; resuming from its last end-of-day checkpoint
    # (a prefix of its id will do) ends with the summary the uninterrupted run has.
    last = checkpoints[-1]["checkpoint_id"]
    resumed = invoke("run", LONG_DAYS, "--resume", last[:18], "--persist", "--db", db, "-f", "json")
    assert resumed.exit_code == 0, resumed.stderr
    summary = json.loads(resumed.stdout)
    assert without_metadata(summary) == without_metadata(uninterrupted)
    with paysim.store.open(db) as store:
        stored = store.rows("SELECT status, error FROM simulations WHERE simulation_id = ?", [sid])
        assert stored[0]["status"] == "interrupted" and "found by the next writer" in str(
            stored[0]["error"]
        )
        new_id = summary["simulation_id"]
        new = store.simulation(new_id)
        assert new["status"] == "completed" and new["parent_simulation_id"] == sid
        assert new["resumed_from"] == last and new["start_tick"] == 200 * done
        assert store.daily_metrics(new_id)["events"].to_pylist() == per_day[done:]
        # The killed run's payments are those of its committed days.
        arrivals = sum(store.daily_metrics(sid)["arrivals"].to_pylist())
        assert store.payments(sid).num_rows == arrivals


def test_ctrl_c_mid_day_records_interrupted_with_whole_days(tmp_path: Path) -> None:
    db = tmp_path / "stopped.duckdb"
    stdout, stderr = _kill_mid_day(db, day=1, sig=signal.SIGINT)
    sid = stderr.split("simulation ", 1)[1].split(" ", 1)[0]
    assert "End of day 1" not in stdout and "interrupted" in stderr
    with paysim.store.open(db) as store:
        stored = store.rows(
            "SELECT status, days_done, error, ended_at FROM simulations WHERE simulation_id = ?",
            [sid],
        )[0]
        assert stored["status"] == "interrupted" and stored["days_done"] == 1
        assert stored["error"] == "interrupted (Ctrl-C)" and stored["ended_at"] is not None
        assert set(store.events(sid)["day"].to_pylist()) == {0}
