"""Bad scenarios reach users as ScenarioError naming the file and the path inside it, and no
engine panic can reach Python."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import paysim
from paysim import _core

BASE = """
simulation: {ticks_per_day: 10, num_days: 1, rng_seed: 1}
agents:
  - {id: A, opening_balance: 1000, policy: POLICY_A}
  - id: B
    opening_balance: 500
    arrival_config:
      rate_per_tick: 0.5
      amount_distribution: {type: Uniform, min: 10, max: 100}
"""


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "pointer", "fragment"),
    [
        (BASE.replace("POLICY_A", "fifo") + "oops: [", None, "line"),
        (
            BASE.replace("POLICY_A", "fifo").replace(
                "opening_balance: 1000", "opening_balanse: 1000"
            ),
            "/agents/0/opening_balanse",
            "opening_balance",
        ),
        (
            BASE.replace("POLICY_A", "fifo").replace(
                "opening_balance: 1000", "opening_balance: 10.5"
            ),
            "/agents/0/opening_balance",
            "integer",
        ),
        (
            BASE.replace("POLICY_A", "fifo") + "      counterparty_weights: {Z: 1}\n",
            "/agents/1/arrival_config/counterparty_weights/Z",
            "Z",
        ),
        (
            BASE.replace("POLICY_A", "fifo")
            + "scenario_events:\n  - {type: DirectTransfer, schedule: OneTime, tick: 10, "
            "from_agent: A, to_agent: B, amount: 5}\n",
            "/scenario_events/0/tick",
            "10",
        ),
        (BASE.replace("POLICY_A", "policies/missing.json"), "/agents/0/policy", "missing.json"),
    ],
    ids=[
        "malformed-yaml",
        "unknown-key",
        "float-money",
        "unknown-agent",
        "tick-beyond",
        "missing-policy",
    ],
)
def test_bad_scenarios_name_file_and_path(
    tmp_path: Path, text: str, pointer: str | None, fragment: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(paysim.ScenarioError) as info:
        paysim.Simulation(path)
    err = info.value
    assert err.file is not None and Path(err.file).name == "s.yaml"
    if pointer is not None:
        assert err.pointer is not None and err.pointer.startswith(pointer), err
    assert fragment in str(err)


def test_policy_file_relative_to_the_scenario(tmp_path: Path) -> None:
    (tmp_path / "mine.json").write_text(json.dumps({"version": "1.0", "policy_id": "mine"}))
    sim = paysim.Simulation(write(tmp_path, BASE.replace("POLICY_A", "mine.json")))
    sim.run()
    assert sim.agent("A")["policy_id"] == "mine"


@pytest.mark.parametrize(
    "text",
    [
        "null",
        "1e999",
        json.dumps({"simulation": {"ticks_per_day": 0, "num_days": 1, "rng_seed": 0}}),
        json.dumps({"simulation": {"ticks_per_day": -1}}),
        "{" * 5000 + "}" * 5000,
        "[" * 100_000,
        json.dumps({"agents": [{"id": "x" * 10_000}]}),
    ],
)
def test_hostile_engine_configs_raise_python_errors(text: str) -> None:
    with pytest.raises(paysim.PaysimError):
        _core.Engine(text)


def test_hostile_policy_documents_raise_policy_errors() -> None:
    sim = paysim.Simulation(write_base())
    docs: list[dict[str, object]] = [
        {"version": "1.0"},
        {"policy_id": 5},
        {"version": "1.0", "policy_id": "p", "bank_tree": {"type": "action"}},
        {"version": "1.0", "policy_id": "p", "parameters": {"x": "nan"}},
        {"version": "1.0", "policy_id": "p", "parameters": {"initial_liquidity_fraction": 7}},
    ]
    for doc in docs:
        with pytest.raises(paysim.PolicyError):
            sim.set_policy("A", doc)


def write_base() -> Path:
    import tempfile

    d = Path(tempfile.mkdtemp())
    return write(d, BASE.replace("POLICY_A", "fifo"))
