"""Replay identity: ``paysim replay ID`` prints what ``paysim run --persist`` printed, for every
example scenario and format, with filters, for resumed runs, and as far as an interrupted run
goes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import paysim.store
from tests.cli_support import SCENARIOS, invoke, subprocess_cli
from tests.store_support import FIXTURES, persisted, without_metadata

SMALL = sorted(p for p in SCENARIOS.glob("*.yaml") if p.name != "large.yaml")
FORMATS = ("verbose", "events", "json", "summary")


def replayed(db: Path, sid: str, *args: str) -> str:
    result = invoke("replay", sid, "--db", db, *args)
    assert result.exit_code == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("scenario", SMALL, ids=lambda p: p.stem)
def test_replay_prints_what_the_run_printed(scenario: Path, tmp_path: Path) -> None:
    db = tmp_path / "runs.duckdb"
    for fmt in FORMATS:
        sid, live = persisted(db, scenario, "--format", fmt)
        again = replayed(db, sid, "--format", fmt)
        assert again == live, (scenario.name, fmt)
        if fmt == "json":
            summary = json.loads(again)
            assert summary["simulation_id"] == sid
            plain = invoke("run", scenario, "-f", "json")
            assert without_metadata(summary) == without_metadata(json.loads(plain.stdout))
        if fmt == "verbose":
            assert "End of day 0" in again and "run summary" in again


def test_replay_with_the_filters_of_run(tmp_path: Path) -> None:
    db = tmp_path / "runs.duckdb"
    filters = [
        ["--filter-agent", "BANK_B", "--filter-tick-range", "50-150"],
        ["--filter-event-type", "QueuedRtgs,Queue2LiquidityRelease"],
        ["--filter-tx", "tx_00000042"],
        ["--filter-tick-range", "119-"],
    ]
    for fmt in ("verbose", "events"):
        for extra in filters:
            sid, live = persisted(db, SCENARIOS / "crisis.yaml", "-f", fmt, *extra)
            assert replayed(db, sid, "-f", fmt, *extra) == live, (fmt, extra)
            assert live  # the filter keeps something


def test_replay_identity_in_real_processes(tmp_path: Path) -> None:
    db = tmp_path / "runs.duckdb"
    live = subprocess_cli("run", SCENARIOS / "demo.yaml", "--persist", "--db", db, "-f", "verbose")
    assert live.returncode == 0, live.stderr
    sid = live.stderr.split("simulation ", 1)[1].split(" ", 1)[0]
    again = subprocess_cli("replay", sid[:13], "--db", db)
    assert again.returncode == 0 and again.stdout == live.stdout


def test_replay_of_the_large_scenario(tmp_path: Path) -> None:
    """large.yaml (200 banks, 5 days, ~470,000 events): one persisted run renders verbose to
    stdout and every event to a JSON Lines file; both come back identical."""
    db = tmp_path / "runs.duckdb"
    events = tmp_path / "events.jsonl"
    large = SCENARIOS / "large.yaml"
    sid, live = persisted(db, large, "-f", "verbose", "--sink", f"jsonl:path={events}")
    assert replayed(db, sid) == live
    assert replayed(db, sid, "-f", "events") == events.read_text(encoding="utf-8")
    summary = json.loads(replayed(db, sid, "-f", "json"))
    plain = invoke("run", large, "-f", "json")
    assert without_metadata(summary) == without_metadata(json.loads(plain.stdout))


def test_replay_of_a_resumed_run(tmp_path: Path) -> None:
    db = tmp_path / "runs.duckdb"
    sid, _ = persisted(db, SCENARIOS / "crisis.yaml", "-q", "-f", "json")
    with paysim.store.open(db) as store:
        checkpoints = store.checkpoints(sid).to_pylist()
    day_one = next(c for c in checkpoints if c["kind"] == "end_of_day" and c["day"] == 1)
    resumed = invoke(
        "run",
        SCENARIOS / "crisis.yaml",
        "--resume",
        day_one["checkpoint_id"],
        "--persist",
        "--db",
        db,
        "-f",
        "verbose",
    )
    assert resumed.exit_code == 0, resumed.stderr
    new_id = resumed.stderr.split("simulation ", 1)[1].split(" ", 1)[0]
    assert replayed(db, new_id) == resumed.stdout
    assert "tick 60 · day 1" in resumed.stdout and "tick 59 " not in resumed.stdout


def test_replay_of_an_interrupted_run_stops_at_its_last_complete_day(tmp_path: Path) -> None:
    db = tmp_path / "v2.duckdb"
    db.write_bytes((FIXTURES / "schema_v2.duckdb").read_bytes())
    runs = json.loads((FIXTURES / "schema_v2.json").read_text(encoding="utf-8"))["runs"]
    stale = next(r for r in runs if r["stored_status"] == "running")
    result = invoke("replay", stale["simulation_id"], "--db", db, "-f", "events")
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) == stale["event_count"]
    assert "is interrupted: replayed its 1 complete day(s)" in result.stderr
    verbose = invoke("replay", stale["simulation_id"], "--db", db)
    assert "End of day 0" in verbose.stdout and "End of day 1" not in verbose.stdout
    for fmt in ("json", "summary"):
        result = invoke("replay", stale["simulation_id"], "--db", db, "-f", fmt)
        assert result.exit_code == 1 and "no run summary" in result.stderr


def test_replay_of_an_unknown_id_is_bad_input(tmp_path: Path) -> None:
    db = tmp_path / "runs.duckdb"
    persisted(db, SCENARIOS / "demo.yaml", "-q", "-f", "json")
    persisted(db, SCENARIOS / "demo.yaml", "-q", "-f", "json")
    result = invoke("replay", "ffffffff", "--db", db)
    assert result.exit_code == 2 and "no simulation `ffffffff`" in result.stderr
    result = invoke("replay", "0", "--db", db)  # both runs start with 0
    assert result.exit_code == 2 and "ambiguous" in result.stderr


def test_a_run_resumed_mid_day_replays_and_ends_like_the_original(tmp_path: Path) -> None:
    db = tmp_path / "runs.duckdb"
    sid, out = persisted(db, SCENARIOS / "crisis.yaml", "-f", "json")
    saved = invoke("checkpoint", "save", sid, "--tick", "100", "--db", db)
    assert saved.exit_code == 0, saved.stderr
    ck = saved.stdout.strip()
    live = invoke("run", SCENARIOS / "crisis.yaml", "--resume", ck, "--persist", "--db", db)
    assert live.exit_code == 0, live.stderr
    new_id = live.stderr.split("simulation ", 1)[1].split(" ", 1)[0]
    assert replayed(db, new_id, "-f", "summary") == live.stdout
    resumed, live_verbose = persisted(
        db, SCENARIOS / "crisis.yaml", "--resume", ck, "-f", "verbose"
    )
    assert replayed(db, resumed) == live_verbose
    # The same continuation without --persist prints the same, timings aside.
    verbose = invoke("run", SCENARIOS / "crisis.yaml", "--resume", ck, "--db", db, "-f", "verbose")
    assert verbose.exit_code == 0, verbose.stderr
    timing = re.compile(r"\d+\.\d{3} s in the engine")
    assert timing.sub("", verbose.stdout) == timing.sub("", live_verbose)
    with paysim.store.open(db) as store:
        ticks = store.tick_metrics(new_id)["tick"].to_pylist()
        assert ticks == list(range(100, 180))
        assert store.daily_metrics(new_id)["day"].to_pylist() == [1, 2]
        summary = store.simulation(new_id)["summary"]
    assert without_metadata(summary) == without_metadata(json.loads(out))
