"""Loading scenario files: every valid form loads, every invalid file fails precisely.

Invalid fixtures document themselves: each starts with comment lines giving the expected JSON
Pointer, a fragment of the message and, when there is one, the exact suggestion, so adding a
case is adding a file.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import jsonschema
import pytest

from paysim.config import (
    ScenarioWarning,
    load_scenario,
    parse_scenario_text,
    scenario_from_dict,
    scenario_json_schema,
)
from paysim.config.models import CustomTransactionArrival, DirectTransfer, FifoPolicy
from paysim.exceptions import ScenarioError

FIXTURES = Path(__file__).parent / "fixtures" / "scenarios"
VALID = sorted((FIXTURES / "valid").iterdir())
INVALID_YAML = sorted((FIXTURES / "invalid").glob("*.yaml"))


def _expectations(path: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"# expect-(\w+): (.*)$", line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def _load_quietly(path: Path) -> object:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScenarioWarning)
        return load_scenario(path)


# ---------------------------------------------------------------------------------------------
# Valid files
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_valid_fixture_loads(path: Path) -> None:
    scenario = _load_quietly(path)
    assert scenario is not None


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_valid_fixture_matches_the_json_schema(path: Path) -> None:
    fmt = "json" if path.suffix == ".json" else "yaml"
    data = parse_scenario_text(path.read_text(encoding="utf-8"), fmt=fmt)
    validator = jsonschema.Draft202012Validator(scenario_json_schema())
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(data)]
    assert errors == []


def test_yaml_and_json_forms_of_the_example_are_equal() -> None:
    from_yaml = load_scenario(FIXTURES / "valid" / "example.yaml")
    from_json = load_scenario(FIXTURES / "valid" / "example.json")
    assert from_yaml.model_dump() == from_json.model_dump()


def test_scenario_remembers_its_origin() -> None:
    path = FIXTURES / "valid" / "example.yaml"
    scenario = load_scenario(path)
    assert scenario.source == str(path)
    assert scenario.base_dir == path.parent.resolve()


def test_simcash_spellings_are_canonicalized() -> None:
    scenario = load_scenario(FIXTURES / "valid" / "simcash_compat.yaml")
    assert scenario.settlement.queue1_ordering == "priority_deadline"
    assert scenario.settlement.priority_mode is True
    assert scenario.settlement.deferred_crediting is True
    assert scenario.settlement.eod_rush_threshold == 0.75
    assert scenario.settlement.priority_escalation.curve == "linear"
    assert scenario.on_policy_error == "hold"
    assert scenario.cost_rates.eod_penalty == 25000
    assert scenario.cost_rates.drop_penalty is not None
    assert isinstance(scenario.agents[0].policy, FifoPolicy)
    # YAML 1.2 exponent floats are numbers, not strings.
    stream = scenario.agents[0].arrival_config
    assert stream is not None and stream.rate_per_tick == pytest.approx(0.1)
    event = scenario.scenario_events[2]
    assert isinstance(event, CustomTransactionArrival)
    assert event.rtgs_priority == "Urgent"


def test_both_schedule_forms_give_the_same_event(tmp_path: Path) -> None:
    head = "simulation: {ticks_per_day: 10, num_days: 1, rng_seed: 1}\n"
    head += "agents: [{id: A, opening_balance: 0}, {id: B, opening_balance: 0}]\n"
    flat = (
        "- {type: DirectTransfer, schedule: OneTime, tick: 5, from_agent: A, to_agent: B, "
        "amount: 3}"
    )
    nested = (
        "- {type: DirectTransfer, schedule: {type: OneTime, tick: 5}, from_agent: A, "
        "to_agent: B, amount: 3}"
    )
    events = []
    for name, item in (("flat", flat), ("nested", nested)):
        path = tmp_path / f"{name}.yaml"
        path.write_text(head + "scenario_events:\n" + item + "\n", encoding="utf-8")
        events.append(load_scenario(path).scenario_events[0])
    assert events[0] == events[1]
    assert isinstance(events[0], DirectTransfer)


def test_small_lognormal_mean_warns_with_a_pointer() -> None:
    path = FIXTURES / "valid" / "lognormal_small_mean.yaml"
    with pytest.warns(ScenarioWarning) as record:
        scenario = load_scenario(path)
    message = str(record[0].message)
    assert str(path) in message
    assert "/agents/0/arrival_config/amount_distribution/mean" in message
    assert "{mu: 11.5, sigma: 0.8}" in message
    assert scenario.load_warnings[0][0] == (
        "agents",
        0,
        "arrival_config",
        "amount_distribution",
        "mean",
    )


def test_every_form_loads_without_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scenario = load_scenario(FIXTURES / "valid" / "every_form.yaml")
    assert len(scenario.scenario_events) == 12
    assert {type(e).__name__ for e in scenario.scenario_events} >= {
        "DirectTransfer",
        "CustomTransactionArrival",
        "ScheduledSettlement",
        "CollateralAdjustment",
        "UnsecuredCapChange",
        "GlobalArrivalRateChange",
        "AgentArrivalRateChange",
        "CounterpartyWeightChange",
        "DeadlineWindowChange",
        "AgentOutage",
        "PolicyChange",
    }


# ---------------------------------------------------------------------------------------------
# Invalid files
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", INVALID_YAML, ids=lambda p: p.stem)
def test_invalid_fixture_fails_with_file_pointer_and_message(path: Path) -> None:
    expected = _expectations(path)
    assert "pointer" in expected and "message" in expected, "fixture lacks its expect- header"
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    error = caught.value
    assert error.file == str(path)
    pointer = {"none": None, "/": ""}.get(expected["pointer"], expected["pointer"])
    assert error.pointer == pointer, error.message
    assert expected["message"] in error.message
    if "suggestion" in expected:
        assert error.suggestion == expected["suggestion"]
    # The CLI prints str(error): the file and the pointer are in it.
    assert str(path) in str(error)


def test_every_invalid_fixture_is_unique_in_what_it_tests() -> None:
    headers = [_expectations(p)["pointer"] + _expectations(p)["message"] for p in INVALID_YAML]
    assert len(headers) == len(set(headers))
    assert len(INVALID_YAML) >= 60


def test_malformed_yaml_names_line_and_column() -> None:
    path = FIXTURES / "invalid" / "malformed_yaml.yaml"
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert re.search(r"line \d+, column \d+", caught.value.message)


def test_validation_errors_carry_the_yaml_line() -> None:
    path = FIXTURES / "invalid" / "unknown_key.yaml"
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    line = next(
        i + 1
        for i, text in enumerate(path.read_text(encoding="utf-8").splitlines())
        if "opening_balanc:" in text
    )
    assert f"(line {line}, column 5)" in caught.value.message


def test_many_problems_are_listed_in_one_message() -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(FIXTURES / "invalid" / "many_problems.yaml")
    message = caught.value.message
    assert "/agents/0/arrival_config/amount_distribution/min" in message
    assert "/agents/1/unsecured_cap" in message
    assert "\n" not in message  # one paragraph


def test_json_float_money_is_rejected_with_pointer() -> None:
    path = FIXTURES / "invalid" / "float_money.json"
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value.pointer == "/agents/1/opening_balance"
    assert "write 100" in caught.value.message


def test_malformed_json_names_line_and_column() -> None:
    path = FIXTURES / "invalid" / "malformed.json"
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value.file == str(path)
    assert "malformed JSON at line 2" in caught.value.message


def test_duplicate_json_key_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "dup.json"
    path.write_text('{"simulation": {}, "simulation": {}}', encoding="utf-8")
    with pytest.raises(ScenarioError, match="duplicate key `simulation`"):
        load_scenario(path)


def test_missing_file_is_a_scenario_error(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value.file == str(path)
    assert "cannot read" in caught.value.message
    assert caught.value.pointer is None


def test_directory_is_a_scenario_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path)


def test_non_utf8_file_is_a_scenario_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"description: caf\xe9\n")
    with pytest.raises(ScenarioError, match="UTF-8"):
        load_scenario(path)


# ---------------------------------------------------------------------------------------------
# scenario_from_dict
# ---------------------------------------------------------------------------------------------


def _minimal() -> dict[str, object]:
    return {
        "simulation": {"ticks_per_day": 10, "num_days": 1, "rng_seed": 1},
        "agents": [{"id": "A", "opening_balance": 0}, {"id": "B", "opening_balance": 0}],
    }


def test_scenario_from_dict_records_source_and_base_dir(tmp_path: Path) -> None:
    source = str(tmp_path / "sub" / "s.yaml")
    scenario = scenario_from_dict(_minimal(), source=source)
    assert scenario.source == source
    assert scenario.base_dir == (tmp_path / "sub").resolve()
    explicit = scenario_from_dict(_minimal(), base_dir=tmp_path)
    assert explicit.source is None and explicit.base_dir == tmp_path


def test_scenario_from_dict_errors_name_the_source() -> None:
    data = _minimal()
    data["agents"] = [{"id": "A", "opening_balance": 0}, {"id": "B", "opening_balnce": 0}]
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(data, source="api-request")
    assert caught.value.file == "api-request"
    assert caught.value.pointer == "/agents/1/opening_balnce"
    assert caught.value.suggestion == "did you mean `opening_balance`?"


def test_scenario_from_dict_does_not_modify_its_input() -> None:
    data = _minimal()
    data["queue1_ordering"] = "Fifo"
    data["scenario_events"] = [
        {
            "type": "DirectTransfer",
            "schedule": "OneTime",
            "tick": 1,
            "from_agent": "A",
            "to_agent": "B",
            "amount": 5,
        }
    ]
    before = json.dumps(data, sort_keys=True)
    scenario_from_dict(data)
    assert json.dumps(data, sort_keys=True) == before


def test_scenario_from_dict_rejects_a_non_mapping() -> None:
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(["not", "a", "mapping"])
    assert caught.value.pointer == ""
