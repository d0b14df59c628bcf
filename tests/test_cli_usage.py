"""CLI errors of ISSUE 10: unknown ids in the filters are errors with a suggestion, ``scenario
validate`` exits 2 for a file it cannot read, and ``--debug`` works on every command, before and
after the command name."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from paysim.cli.errors import take_debug
from tests.cli_support import DEMO, INVALID, flat, invoke, jsonl, subprocess_cli


def test_an_unknown_filter_agent_is_an_error_with_a_suggestion() -> None:
    result = invoke("run", DEMO, "--format", "events", "--filter-agent", "BANK_X")
    assert result.exit_code == 2 and result.stdout == ""
    text = flat(result.stderr)
    assert "no agent `BANK_X` in the scenario" in text
    assert "`BANK_A`, `BANK_B`, `BANK_C`" in text
    result = invoke("run", DEMO, "--format", "verbose", "--filter-agent", "NOPE")
    assert result.exit_code == 2 and "no agent `NOPE`" in flat(result.stderr)


def test_a_known_filter_agent_still_filters() -> None:
    result = invoke("run", DEMO, "--format", "events", "--filter-agent", "BANK_C")
    assert result.exit_code == 0
    rows = jsonl(result.stdout)
    assert rows and all("BANK_C" in str(r) for r in rows)


@pytest.mark.parametrize("bad", ["NOPE", "tx_1", "tx_00000001.0", "tx_00000001.256", "BANK_A"])
def test_a_malformed_filter_tx_is_refused_before_the_run(bad: str) -> None:
    result = invoke("run", DEMO, "--format", "events", "--filter-tx", bad)
    assert result.exit_code == 2 and result.stdout == ""
    assert "expected a payment id such as tx_00000042" in flat(result.stderr)


def test_a_filter_tx_the_run_never_made_is_an_error_after_the_run() -> None:
    result = invoke("run", DEMO, "--format", "events", "--filter-tx", "tx_00099999")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "--filter-tx: no payment `tx_00099999` in this run" in result.stderr
    assert "its payment ids run up to tx_00000" in result.stderr


def test_a_filter_tx_of_the_run_still_filters() -> None:
    result = invoke("run", DEMO, "--format", "events", "--filter-tx", "tx_00000006")
    assert result.exit_code == 0, result.stderr
    assert {r["tx_id"] for r in jsonl(result.stdout)} == {"tx_00000006"}
    # A payment that exists but has no event in the tick range is not "unknown".
    result = invoke(
        "run", DEMO, "-f", "events", "--filter-tx", "tx_00000006", "--filter-tick-range", "90-99"
    )
    assert result.exit_code == 0 and result.stdout == ""


def test_scenario_validate_exits_2_for_files_it_cannot_read(tmp_path: Path) -> None:
    binary = tmp_path / "latin1.yaml"
    binary.write_bytes(b"simulation: {ticks_per_day: 10}\nagents: [{id: \xe9}]\n")
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    for target, reason in (
        (binary, "not UTF-8 text"),
        (fifo, "not a regular file"),
        (tmp_path, "Is a directory"),
        (tmp_path / "missing.yaml", "No such file or directory"),
    ):
        result = invoke("scenario", "validate", target)
        assert result.exit_code == 2, target
        assert result.stderr.startswith(f"error: {target}: cannot read the scenario file")
        assert reason in result.stderr
    # An invalid scenario it could read is still 1.
    assert invoke("scenario", "validate", INVALID / "unknown_key.yaml").exit_code == 1


def test_paysim_run_of_a_fifo_is_an_error_not_a_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    result = invoke("run", fifo)
    assert result.exit_code == 2 and "not a regular file" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--debug", "run", "missing.yaml"],
        ["run", "--debug", "missing.yaml"],
        ["run", "missing.yaml", "--debug"],
        ["--debug", "scenario", "validate", "missing.yaml"],
        ["scenario", "--debug", "validate", "missing.yaml"],
        ["scenario", "validate", "missing.yaml", "--debug"],
        ["validate-policy", "missing.json", "--debug"],
        ["--debug", "validate-policy", "missing.json"],
        ["policy-schema", "--debug", "--output", "no/such/dir/schema.md"],
        ["scenario", "schema", "--output", "no/such/dir/schema.json", "--debug"],
    ],
    ids=lambda a: " ".join(a),
)
def test_debug_works_on_every_command_before_and_after_its_name(
    args: list[str], tmp_path: Path
) -> None:
    proc = subprocess_cli(*args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback (most recent call last)" in proc.stderr
    assert "error: " in proc.stderr
    without = subprocess_cli(*(a for a in args if a != "--debug"), cwd=tmp_path)
    assert without.returncode == 2 and "Traceback" not in without.stderr


def test_take_debug_leaves_what_follows_double_dash() -> None:
    assert take_debug(["run", "--debug", "x"]) == (["run", "x"], True)
    assert take_debug(["run", "x"]) == (["run", "x"], False)
    assert take_debug(["run", "--", "--debug"]) == (["run", "--", "--debug"], False)
