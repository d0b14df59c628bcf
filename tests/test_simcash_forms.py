"""SimCash's own files (docs/simcash.md): forms with a meaning are read, and say what changes;
keys SimCash ignored stay errors that name the key to write instead.

The fixtures in ``tests/fixtures/simcash/`` are written for these tests and show each form.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest

import paysim
from paysim.config import Scenario, ScenarioWarning, load_scenario, scenario_from_dict
from paysim.config.simcash import RENAMED
from paysim.exceptions import ScenarioError
from paysim.simulation import engine_config

HERE = Path(__file__).parent / "fixtures" / "simcash"
SCENARIO = HERE / "simcash_forms.yaml"
POLICY = HERE / "simcash_forms_policy.json"


def load_with_warnings(path: Path) -> tuple[Scenario, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ScenarioWarning)
        scenario = load_scenario(path)
    return scenario, [str(w.message) for w in caught if w.category is ScenarioWarning]


def test_every_simcash_form_loads_and_warns_where_simcash_differed() -> None:
    scenario, notes = load_with_warnings(SCENARIO)
    pointers = sorted(n.split(" at ", 1)[1].split(":", 1)[0] for n in notes)
    assert pointers == [
        "/agents/0/bilateral_limits",
        "/agents/0/multilateral_limit",
        "/agents/0/policy/params",
        "/scenario_events/0/policy/params",
    ]
    assert all("SimCash ignored" in n for n in notes)
    a = scenario.agents[0]
    assert a.limits.bilateral_limits == {"BANK_B": 300_000}
    assert a.limits.multilateral_limit == 400_000
    assert a.opening_balance == 1_000_000
    assert scenario.settlement.queue1_ordering == "priority_deadline"


def test_fromjson_params_are_the_policy_parameter_values() -> None:
    config = json.loads(engine_config(load_with_warnings(SCENARIO)[0])[0])
    agent_a = config["agents"][0]["policy"]
    # params override the file's values; the one not given keeps the file's.
    assert agent_a["parameters"] == {"budget_fraction": 0.25, "urgency_threshold": 3.0}
    assert agent_a["document"]["parameters"]["per_cpty_fraction"] == 0.2
    changed = config["scenario_events"][0]["policy"]
    assert changed["parameters"]["urgency_threshold"] == 1.0
    assert config["agents"][0]["limits"] == {
        "bilateral_limits": {"BANK_B": 300_000},
        "multilateral_limit": 400_000,
    }


def test_the_simcash_scenario_runs() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScenarioWarning)
        sim = paysim.Simulation(SCENARIO)
    sim.run()
    totals = sim.summary()["totals"]
    assert isinstance(totals, dict) and totals["arrivals"] > 0


def test_the_simcash_policy_validates_with_a_warning_per_mapped_hold() -> None:
    report = paysim.validate_policy(POLICY)
    assert report.valid and report.errors == []
    assert [(w["code"], w["pointer"]) for w in report.warnings] == [
        ("SIMCASH_FORM", "/bank_tree/on_false/action"),
        ("SIMCASH_FORM", "/end_of_tick_collateral_tree/action"),
    ]


def _minimal(**agent: Any) -> dict[str, Any]:
    return {
        "simulation": {"ticks_per_day": 10, "num_days": 1, "rng_seed": 1},
        "agents": [{"id": "A", "opening_balance": 0, **agent}, {"id": "B", "opening_balance": 0}],
    }


def test_params_and_policy_parameters_for_one_name_is_an_error() -> None:
    data = _minimal(
        policy={"type": "FromJson", "json_path": str(POLICY), "params": {"urgency_threshold": 2}},
        policy_parameters={"urgency_threshold": 4},
    )
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(data)
    assert caught.value.pointer == "/agents/0/policy_parameters/urgency_threshold"
    assert "given both" in caught.value.message


def test_limits_on_the_agent_and_in_limits_is_an_error() -> None:
    data = _minimal(bilateral_limits={"B": 5}, limits={"bilateral_limits": {"B": 6}})
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(data)
    assert caught.value.pointer == "/agents/0/bilateral_limits"
    assert caught.value.suggestion == "remove the agent's `bilateral_limits`"


# Where each refused SimCash key is written, by the model that refuses it.
PLACES: dict[str, tuple[str | int, ...]] = {
    "Scenario": (),
    "Simulation": ("simulation",),
    "Agent": ("agents", 0),
    "LsmConfig": ("lsm_config",),
    "PriorityEscalation": ("settlement", "priority_escalation"),
    "TimeWindow": ("agents", 0, "arrival_config", "time_windows", 0),
}
CASES = [(model, key) for model, keys in RENAMED.items() for key in keys]


@pytest.mark.parametrize(("model", "key"), CASES, ids=[f"{m}.{k}" for m, k in CASES])
def test_keys_simcash_ignored_are_errors_naming_the_key_to_write(model: str, key: str) -> None:
    data = _minimal(
        arrival_config={
            "rate_per_tick": 0.1,
            "amount_distribution": {"type": "Fixed", "amount": 5},
            "time_windows": [{"start_tick": 0, "end_tick": 5, "rate_multiplier": 2}],
        }
    )
    node: Any = data
    for part in PLACES[model]:
        node = node.setdefault(part, {}) if isinstance(part, str) else node[part]
    node[key] = 1
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(data)
    error = caught.value
    path = "".join(f"/{p}" for p in PLACES[model])
    assert error.pointer == f"{path}/{key}"
    assert f"`{key}` is not a paysim key" in error.message
    replacement, _ = RENAMED[model][key]
    expected = f"write `{replacement}` instead" if replacement else f"remove `{key}`"
    assert error.suggestion == expected


def test_the_refused_keys_are_the_ones_the_issue_names_and_more() -> None:
    refused = {key for keys in RENAMED.values() for key in keys}
    assert {"lsm_enabled", "overdraft_rate", "cost_model", "credit_limit"} <= refused
