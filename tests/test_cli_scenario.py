"""``paysim scenario validate`` and ``paysim scenario schema``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paysim.config import canonical_schema_text
from tests.cli_support import DEMO, INVALID, REPO, SCENARIOS, invoke, subprocess_cli


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_example_scenario_is_valid(path: Path) -> None:
    result = invoke("scenario", "validate", path)
    assert result.exit_code == 0, result.stdout
    assert result.stdout.startswith(f"OK {path}: ") and result.stdout.count("\n") == 1


def test_valid_line_says_what_the_scenario_is() -> None:
    result = invoke("scenario", "validate", DEMO)
    assert result.stdout == (f"OK {DEMO}: 3 agents, 1 day × 100 ticks, seed 7, 2 scenario events\n")


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("unknown_key.yaml", "at /agents/1/opening_balanc"),
        ("malformed_yaml.yaml", "malformed YAML"),
        ("float_money.yaml", "at /agents/0/opening_balance"),
        ("unknown_agent_event.yaml", "at /scenario_events/0/to_agent"),
        ("top_level_list.yaml", "top_level_list.yaml"),
    ],
)
def test_invalid_scenarios_exit_1_with_the_problem(name: str, needle: str) -> None:
    result = invoke("scenario", "validate", INVALID / name)
    assert result.exit_code == 1
    assert result.stdout.startswith(f"invalid: {INVALID / name}")
    assert needle in result.stdout and "Traceback" not in result.output


def test_invalid_policy_reference_is_an_invalid_scenario(tmp_path: Path) -> None:
    bad = tmp_path / "bad_policy.yaml"
    bad.write_text(
        "simulation: {ticks_per_day: 5, num_days: 1, rng_seed: 1}\n"
        "agents: [{id: A, opening_balance: 1, policy: no_such_policy},"
        " {id: B, opening_balance: 1}]\n"
    )
    result = invoke("scenario", "validate", bad)
    assert result.exit_code == 1 and "no library policy named `no_such_policy`" in result.stdout


def test_unreadable_scenario_exits_2(tmp_path: Path) -> None:
    for target in (tmp_path / "missing.yaml", tmp_path):
        result = invoke("scenario", "validate", target)
        assert result.exit_code == 2
        assert result.stderr.startswith(f"error: {target}: cannot read the scenario file")


def test_schema_prints_the_committed_scenario_schema() -> None:
    result = invoke("scenario", "schema")
    assert result.exit_code == 0
    assert result.stdout == canonical_schema_text()
    assert result.stdout == (REPO / "schemas" / "scenario.schema.json").read_text()
    assert json.loads(result.stdout)["title"] == "paysim scenario"


def test_schema_output_file(tmp_path: Path) -> None:
    target = tmp_path / "scenario.schema.json"
    proc = subprocess_cli("scenario", "schema", "--output", target)
    assert proc.returncode == 0 and proc.stdout == ""
    assert proc.stderr == f"wrote {target}\n"
    assert target.read_text() == canonical_schema_text()


def test_help_lists_run_and_scenario() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    assert " run " in result.stdout and " scenario " in result.stdout
    assert "--persist" in invoke("run", "--help").stdout
