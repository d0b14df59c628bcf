"""Nothing lost (ISSUE 10): the ``jsonl`` sink never writes over an input of the run, refuses an
existing file unless ``overwrite=true``, writes under a temporary name renamed at close, and a run
that fails leaves an existing file untouched. Standard output stays what ``--format`` promises."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from paysim.sinks import JsonlSink, SinkError
from tests.cli_support import DEMO, REPO, flat, invoke, jsonl

FAILING_POLICY = {
    "version": "1.0",
    "policy_id": "divides_by_collateral",
    "payment_tree": {
        "type": "condition",
        "node_id": "c",
        # BANK_A posts no collateral: the division fails at the first evaluation, at run time.
        "condition": {
            "op": ">",
            "left": {
                "compute": {
                    "op": "/",
                    "left": {"field": "balance"},
                    "right": {"field": "posted_collateral"},
                }
            },
            "right": {"value": 0},
        },
        "on_true": {"type": "action", "node_id": "r", "action": "Release"},
        "on_false": {"type": "action", "node_id": "h", "action": "Hold"},
    },
}


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".partial"))


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    copy = tmp_path / "demo.yaml"
    shutil.copy(DEMO, copy)
    return copy


def test_the_scenario_of_the_run_is_never_overwritten(demo: Path) -> None:
    before = demo.read_bytes()
    for spec in (f"jsonl:path={demo}", f"jsonl:path={demo},overwrite=true"):
        result = invoke("run", demo, "--sink", spec)
        assert result.exit_code == 2
        assert f"{demo} is an input of this run" in result.stderr
        assert demo.read_bytes() == before
    assert _leftovers(demo.parent) == []


def test_a_policy_file_of_the_run_is_never_overwritten(demo: Path) -> None:
    policy = demo.parent / "mine.json"
    shutil.copy(REPO / "policies" / "fifo.json", policy)
    before = policy.read_bytes()
    result = invoke(
        "run",
        demo,
        "--policy",
        f"BANK_A={policy}",
        "--sink",
        f"jsonl:path={policy},overwrite=true",
    )
    assert result.exit_code == 2 and "is an input of this run" in result.stderr
    assert policy.read_bytes() == before


def test_an_existing_file_is_refused_without_overwrite(demo: Path) -> None:
    target = demo.parent / "events.jsonl"
    target.write_text("precious\n")
    result = invoke("run", demo, "--sink", f"jsonl:path={target}")
    assert result.exit_code == 2
    assert "already exists" in result.stderr and "overwrite=true" in result.stderr
    assert result.stdout == ""  # refused before the run, not after it
    assert target.read_text() == "precious\n"


def test_overwrite_true_replaces_the_file_when_the_run_completes(demo: Path) -> None:
    target = demo.parent / "events.jsonl"
    target.write_text("old\n")
    result = invoke("run", demo, "--sink", f"jsonl:path={target},overwrite=true", "-f", "json")
    assert result.exit_code == 0, result.stderr
    rows = jsonl(target.read_text())
    assert rows[0]["event_type"] == "SimulationStarted" and len(rows) > 100
    assert json.loads(result.stdout)["totals"]["arrivals"] > 0  # stdout: one JSON object
    assert _leftovers(demo.parent) == []


def test_a_failed_run_leaves_the_existing_file_untouched(demo: Path) -> None:
    policy = demo.parent / "fails.json"
    policy.write_text(json.dumps(FAILING_POLICY))
    target = demo.parent / "events.jsonl"
    target.write_text("from an earlier run\n")
    fresh = demo.parent / "fresh.jsonl"
    result = invoke(
        "run",
        demo,
        "--policy",
        f"BANK_A={policy}",
        "--sink",
        f"jsonl:path={target},overwrite=true",
        "--sink",
        f"jsonl:path={fresh}",
    )
    assert result.exit_code == 1 and "policy evaluation failed" in result.stderr
    assert target.read_text() == "from an earlier run\n"
    assert not fresh.exists()
    assert _leftovers(demo.parent) == []


@pytest.mark.parametrize("fmt", ["summary", "json", "verbose", "events"])
def test_a_second_writer_of_stdout_is_refused(demo: Path, fmt: str) -> None:
    for spec in ("jsonl", "jsonl:path=-", "console:mode=json"):
        result = invoke("run", demo, "--format", fmt, "--sink", spec)
        assert result.exit_code == 2, (fmt, spec)
        assert "would write to standard output" in flat(result.stderr)
        assert result.stdout == ""


def test_json_stays_one_object_beside_a_file_sink_and_a_console_on_stderr(demo: Path) -> None:
    target = demo.parent / "ev.jsonl"
    result = invoke(
        "run",
        demo,
        "-f",
        "json",
        "--sink",
        f"jsonl:path={target}",
        "--sink",
        "console:stream=stderr",
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["scenario"] == str(demo)
    assert "Run summary" in result.stderr


def test_two_sinks_may_not_write_the_same_file(demo: Path) -> None:
    target = demo.parent / "ev.jsonl"
    result = invoke(
        "run",
        demo,
        "--sink",
        f"jsonl:path={target}",
        "--sink",
        f"jsonl:path={target.parent}/./ev.jsonl",
    )
    assert result.exit_code == 2 and "writes the same file" in flat(result.stderr)


def test_jsonl_options_are_checked() -> None:
    assert JsonlSink("x.jsonl", overwrite="true").overwrite is True
    assert JsonlSink("x.jsonl", overwrite="no").overwrite is False
    with pytest.raises(SinkError, match="`overwrite` must be true or false"):
        JsonlSink("x.jsonl", overwrite="perhaps")
    with pytest.raises(SinkError, match="`path` is empty"):
        JsonlSink("")


def test_abort_discards_the_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "ev.jsonl"
    target.write_text("keep\n")
    sink = JsonlSink(str(target), overwrite=True)
    sink.open({"inputs": []})
    assert len(_leftovers(tmp_path)) == 1 and target.read_text() == "keep\n"
    sink.abort(KeyboardInterrupt())
    assert _leftovers(tmp_path) == [] and target.read_text() == "keep\n"
