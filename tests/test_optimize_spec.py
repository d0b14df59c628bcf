"""``paysim optimize validate``: a bad spec exits 2 naming the file and the JSON Pointer of the
problem (and its line); a good one prints its search space. Also the JSON Schema of the spec."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.cli_support import REPO, invoke

CASTRO = REPO / "scenarios" / "castro_2period.yaml"
FOUR = REPO / "scenarios" / "optimize" / "four_banks.scenario.yaml"
EXAMPLES = sorted((REPO / "scenarios" / "optimize").glob("*.yaml"))
SPECS = [p for p in EXAMPLES if not p.name.endswith(".scenario.yaml")]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(text.replace("CASTRO", str(CASTRO)).replace("FOUR", str(FOUR)))
    return path


BASE = """scenario: CASTRO
agents:
  BANK_A: {policy: castro_liquidity}
output: out
"""

# (name, spec text, pointer, fragment of the message)
BAD = [
    (
        "unknown agent",
        "scenario: CASTRO\nagents:\n  BANK_Z: {policy: castro_liquidity}\noutput: out\n",
        "/agents/BANK_Z",
        "unknown agent `BANK_Z`",
    ),
    (
        "parameter the policy does not declare",
        "scenario: CASTRO\nagents:\n  BANK_A:\n    policy: castro_liquidity\n"
        "    search: {initial_liquidity_fractoin: {min: 0, max: 1}}\noutput: out\n",
        "/agents/BANK_A/search/initial_liquidity_fractoin",
        "declares no parameter `initial_liquidity_fractoin`",
    ),
    (
        "range outside the declared bounds",
        "scenario: FOUR\nagents:\n  BANK_A:\n    policy: liquidity_aware\n"
        "    search: {urgency_threshold: {min: 0, max: 80}}\noutput: out\n",
        "/agents/BANK_A/search/urgency_threshold/max",
        "outside the range [0.0, 40.0] the policy declares",
    ),
    (
        "initial liquidity fraction beyond 1, even widened",
        "scenario: CASTRO\nagents:\n  BANK_A:\n    policy: castro_liquidity\n"
        "    search: {initial_liquidity_fraction: {min: 0, max: 1.5, widen: true}}\noutput: out\n",
        "/agents/BANK_A/search/initial_liquidity_fraction/max",
        "must lie in [0, 1]",
    ),
    (
        "unknown sampler",
        BASE + "sampler: tpee\n",
        "/sampler",
        "tpe",
    ),
    (
        "unknown pruner",
        BASE + "pruner: hyperband\n",
        "/pruner",
        "wilcoxon",
    ),
    (
        "unknown objective",
        BASE + "objective: {metric: total_costs}\n",
        "/objective/metric",
        "unknown objective `total_costs`",
    ),
    (
        "objective parameter naming an unknown agent",
        BASE + "objective: {metric: agent_cost, agent: BANK_Q}\n",
        "/objective/agent",
        "unknown agent `BANK_Q`",
    ),
    (
        "unknown aggregate",
        BASE + "objective: {metric: total_cost, aggregate: average}\n",
        "/objective/aggregate",
        "unknown aggregate",
    ),
    (
        "alpha without cvar",
        BASE + "objective: {metric: total_cost, alpha: 0.2}\n",
        "/objective/alpha",
        "`alpha` belongs to `aggregate: cvar`",
    ),
    (
        "constraint on a metric the summary lacks",
        BASE + 'constraints: ["settlement_rate >= 0.9", "agents.BANK_A.costs.eod >= 0"]\n',
        "/constraints/1",
        "column 1",
    ),
    (
        "unknown key",
        BASE + "trails: 10\n",
        "/trails",
        "unknown key `trails`",
    ),
    (
        "grid sampler on a continuous range",
        "scenario: CASTRO\nagents:\n  BANK_A:\n    search: {initial_liquidity_fraction: "
        "{min: 0.01, max: 1, log: true}}\noutput: out\nsampler: grid\n",
        "/sampler",
        "needs a grid",
    ),
    (
        "log scale from zero",
        "scenario: CASTRO\nagents:\n  BANK_A:\n    search: {initial_liquidity_fraction: "
        "{min: 0, max: 1, log: true}}\noutput: out\n",
        "/agents/BANK_A/search/initial_liquidity_fraction/log",
        "needs min > 0",
    ),
    (
        "pareto front with a pruner",
        BASE + "objective: [total_cost, settlement_rate]\npruner: wilcoxon\n",
        "/pruner",
        "cannot prune",
    ),
    (
        "pareto front in best_response",
        BASE + "mode: best_response\nobjective: [agent_cost, agent_cost]\n",
        "/objective",
        "needs mode `joint`",
    ),
    (
        "best response on a system-wide objective",
        BASE + "mode: best_response\nobjective: total_cost\n",
        "/objective",
        "must take an `agent`",
    ),
    (
        "scenario that does not exist",
        "scenario: nowhere.yaml\nagents: {BANK_A: {}}\noutput: out\n",
        "/scenario",
        "not found",
    ),
    (
        "seed list with a duplicate",
        BASE + "evaluation: {seeds: [1, 2, 1]}\n",
        "/evaluation/seeds/2",
        "listed twice",
    ),
    (
        "unknown policy",
        "scenario: CASTRO\nagents:\n  BANK_A: {policy: castro_liquidty}\noutput: out\n",
        "/agents/BANK_A/policy",
        "castro_liquidity",
    ),
    (
        "sampler option the sampler does not take",
        BASE + "sampler_options: {n_startup: 3}\n",
        "/sampler_options",
        "rejects its options",
    ),
]


@pytest.mark.parametrize(("name", "text", "pointer", "fragment"), BAD, ids=[b[0] for b in BAD])
def test_bad_spec_exits_2_naming_file_and_pointer(
    tmp_path: Path, name: str, text: str, pointer: str, fragment: str
) -> None:
    spec = write(tmp_path, text)
    for command in (("optimize", "validate", spec), ("optimize", spec)):
        result = invoke(*command)
        assert result.exit_code == 2, result.output
        message = result.stderr
        assert f"{spec} at {pointer}:" in message, message
        assert fragment in message, message
        assert "Traceback" not in message


def test_error_names_the_line(tmp_path: Path) -> None:
    spec = write(tmp_path, "scenario: CASTRO\n\nagents:\n  BANK_Z: {}\noutput: out\n")
    result = invoke("optimize", "validate", spec)
    assert result.exit_code == 2
    assert "(line 4, column 3)" in result.stderr


@pytest.mark.parametrize(
    "text",
    ["", "- a list\n", "scenario: [\n", "scenario: a\nscenario: b\n", "\x00\x01"],
    ids=["empty", "list", "malformed", "duplicate key", "binary"],
)
def test_unreadable_specs_exit_2(tmp_path: Path, text: str) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(text)
    result = invoke("optimize", "validate", spec)
    assert result.exit_code == 2, result.output
    assert str(spec) in result.stderr


def test_missing_spec_file_exits_2(tmp_path: Path) -> None:
    result = invoke("optimize", "validate", tmp_path / "none.yaml")
    assert result.exit_code == 2
    assert "cannot read the spec file" in result.stderr


def test_valid_spec_lists_its_space() -> None:
    result = invoke("optimize", "validate", REPO / "scenarios/optimize/castro_equilibrium.yaml")
    assert result.exit_code == 0, result.output
    assert "mode best_response, 2 searched agents, 2 dimensions" in result.stdout
    assert "best response per step: BANK_A 21 grid points, BANK_B 21 grid points" in result.stdout
    assert "BANK_A.initial_liquidity_fraction: float in [0.0, 1.0] step 0.05" in result.stdout


def test_policy_choice_is_a_categorical_dimension(tmp_path: Path) -> None:
    spec = write(
        tmp_path,
        "scenario: FOUR\nagents:\n  BANK_A:\n    policy: [castro_liquidity, liquidity_aware]\n"
        "    search: {target_buffer: {min: 0, max: 500000}, urgency_threshold: 5}\n"
        "output: out\n",
    )
    result = invoke("optimize", "validate", spec)
    assert result.exit_code == 0, result.output
    assert "BANK_A.policy: one of castro_liquidity, liquidity_aware" in result.stdout
    assert "BANK_A.liquidity_aware.target_buffer: int in [0.0, 500000.0] step 10000.0" in (
        result.stdout
    )
    # urgency_threshold is fixed at 5: not a dimension.
    assert "urgency_threshold" not in result.stdout


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.name)
def test_example_specs_match_the_schema(path: Path) -> None:
    schema = json.loads((REPO / "schemas" / "optimize.schema.json").read_text())
    jsonschema.validate(yaml.safe_load(path.read_text()), schema)
    result = invoke("optimize", "validate", path)
    assert result.exit_code == 0, result.output
