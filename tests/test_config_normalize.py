"""The engine config: exact normalized output, overrides, precedence, and a round trip."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paysim.config import (
    PolicyRef,
    ResolvedPolicy,
    ScenarioWarning,
    canonical_json,
    config_hash,
    load_scenario,
    normalize,
    scenario_from_dict,
    to_engine_config,
)
from paysim.config.models import Scenario
from paysim.exceptions import ScenarioError

FIXTURES = Path(__file__).parent / "fixtures" / "scenarios"


class FakeSources:
    """A resolver standing in for the policy sources; records what it was asked."""

    def __init__(self, implied: dict[str, dict[str, float]] | None = None) -> None:
        self.calls: list[tuple[PolicyRef, Path | None]] = []
        self.implied = implied or {}

    def __call__(self, ref: PolicyRef, base_dir: Path | None) -> ResolvedPolicy:
        self.calls.append((ref, base_dir))
        if isinstance(ref, dict):
            return ResolvedPolicy(dict(ref), {}, "inline")
        if ref.endswith(".json") or "/" in ref:
            return ResolvedPolicy({"version": "1.0", "policy_id": Path(ref).stem}, {}, ref)
        name = ref.split(":")[-1]
        return ResolvedPolicy(
            {"version": "1.0", "policy_id": name},
            dict(self.implied.get(name, {})),
            f"library:{name}",
        )


def _doc(name: str) -> dict[str, object]:
    return {"version": "1.0", "policy_id": name}


def _load(name: str) -> Scenario:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScenarioWarning)
        return load_scenario(FIXTURES / "valid" / name)


NO_BANDS = None
DEFAULT_PRIORITY = {"type": "Fixed", "value": 5}
EXPECTED_EXAMPLE: dict[str, object] = {
    "simulation": {"ticks_per_day": 100, "num_days": 1, "rng_seed": 7},
    "agents": [
        {
            "id": "BANK_A",
            "opening_balance": 2000000,
            "unsecured_cap": 500000,
            "posted_collateral": 0,
            "collateral_haircut": 0.02,
            "max_collateral_capacity": None,
            "liquidity_pool": 0,
            "liquidity_allocation_fraction": 1.0,
            "liquidity_buffer": 0,
            "limits": {"bilateral_limits": {}, "multilateral_limit": None},
            "policy": {
                "document": _doc("deadline"),
                "parameters": {"urgency_threshold": 8.0},
                "source": "library:deadline",
            },
            "arrival_config": {
                "rate_per_tick": 0.6,
                "amount_distribution": {"type": "LogNormal", "mu": 11.0, "sigma": 0.9},
                "counterparty_weights": {"BANK_B": 2.0, "BANK_C": 1.0},
                "deadline_range": [5, 40],
                "priority_distribution": DEFAULT_PRIORITY,
                "divisible": False,
                "time_windows": [],
            },
            "arrival_bands": NO_BANDS,
        },
        {
            "id": "BANK_B",
            "opening_balance": 1500000,
            "unsecured_cap": 0,
            "posted_collateral": 0,
            "collateral_haircut": 0.02,
            "max_collateral_capacity": None,
            "liquidity_pool": 0,
            "liquidity_allocation_fraction": 1.0,
            "liquidity_buffer": 0,
            "limits": {"bilateral_limits": {}, "multilateral_limit": None},
            "policy": {
                "document": _doc("liquidity_buffer"),
                "parameters": {},
                "source": "policies/liquidity_buffer.json",
            },
            "arrival_config": {
                "rate_per_tick": 0.5,
                "amount_distribution": {"type": "Uniform", "min": 10000, "max": 400000},
                "counterparty_weights": {},
                "deadline_range": [10, 50],
                "priority_distribution": DEFAULT_PRIORITY,
                "divisible": False,
                "time_windows": [],
            },
            "arrival_bands": NO_BANDS,
        },
        {
            "id": "BANK_C",
            "opening_balance": 800000,
            "unsecured_cap": 0,
            "posted_collateral": 0,
            "collateral_haircut": 0.02,
            "max_collateral_capacity": None,
            "liquidity_pool": 0,
            "liquidity_allocation_fraction": 1.0,
            "liquidity_buffer": 0,
            "limits": {"bilateral_limits": {}, "multilateral_limit": None},
            "policy": {"document": _doc("fifo"), "parameters": {}, "source": "library:fifo"},
            "arrival_config": None,
            "arrival_bands": NO_BANDS,
        },
    ],
    "cost_rates": {
        "overdraft_bps_per_tick": 0.5,
        "delay_cost_per_tick_per_cent": 0.0001,
        "collateral_cost_per_tick_bps": 0.0002,
        "liquidity_cost_per_tick_bps": 0.0,
        "deadline_penalty": {"mode": "fixed", "amount": 50000},
        "eod_penalty": {"mode": "rate", "bps_per_event": 100.0},
        "drop_penalty": None,
        "split_friction_cost": 1000,
        "overdue_delay_multiplier": 5.0,
        "priority_delay_multipliers": {
            "urgent_multiplier": 1.0,
            "normal_multiplier": 1.0,
            "low_multiplier": 1.0,
        },
    },
    "lsm_config": {
        "enable_bilateral": True,
        "enable_cycles": True,
        "max_cycle_length": 4,
        "max_cycles_per_tick": 10,
        "max_iterations": 3,
    },
    "settlement": {
        "deferred_crediting": False,
        "deadline_cap_at_eod": False,
        "queue1_ordering": "fifo",
        "priority_mode": True,
        "priority_escalation": {
            "enabled": False,
            "curve": "linear",
            "start_escalating_at_ticks": 20,
            "max_boost": 3,
        },
        "entry_disposition_offsetting": False,
        "algorithm_sequencing": False,
        "eod_rush_threshold": 0.8,
        "daily_liquidity_reallocation": True,
        "record_decision_paths": False,
        "throughput_guidance": [[0.0, 0.0], [1.0, 1.0]],
    },
    "scenario_events": [
        {
            "type": "AgentOutage",
            "schedule": None,
            "agent": "BANK_C",
            "start_tick": 30,
            "end_tick": 45,
        },
        {
            "type": "DirectTransfer",
            "schedule": {"type": "OneTime", "tick": 60},
            "from_agent": "BANK_A",
            "to_agent": "BANK_C",
            "amount": 250000,
        },
    ],
    "on_policy_error": "fail",
}


def _assert_same(actual: object, expected: object, path: str = "") -> None:
    """Key-by-key comparison, including value types (1 and 1.0 hash differently)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), path
        assert list(actual) == list(expected), f"{path}: keys {list(actual)}"
        for key in expected:
            _assert_same(actual[key], expected[key], f"{path}/{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), path
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            _assert_same(a, e, f"{path}/{i}")
    else:
        assert type(actual) is type(expected) and actual == expected, (path, actual, expected)


def test_example_normalizes_exactly() -> None:
    result = normalize(_load("example.yaml"), FakeSources())
    assert result.warnings == []
    _assert_same(result.config, EXPECTED_EXAMPLE)


@pytest.mark.parametrize("name", ["example.yaml", "example.json"])
def test_yaml_and_json_give_the_same_config_hash(name: str) -> None:
    config = normalize(_load(name), FakeSources()).config
    assert config_hash(config) == config_hash(EXPECTED_EXAMPLE)


def test_relative_policy_paths_get_the_scenario_directory() -> None:
    sources = FakeSources()
    normalize(_load("example.yaml"), sources)
    assert ("policies/liquidity_buffer.json", (FIXTURES / "valid").resolve()) in sources.calls


def test_every_form_normalizes() -> None:
    config = normalize(_load("every_form.yaml"), FakeSources()).config
    agents = config["agents"]
    assert isinstance(agents, list)
    a, b, c, d = agents
    assert a["max_collateral_capacity"] == 5000000
    assert a["limits"] == {
        "bilateral_limits": {"BANK_B": 900000, "bank.c-1": 100},
        "multilateral_limit": 2000000,
    }
    assert a["policy"]["source"] == "library:deadline"
    assert a["policy"]["parameters"] == {"comfort_multiple": 2.5, "urgency_threshold": 4.0}
    stream = a["arrival_config"]
    assert stream["amount_distribution"] == {
        "type": "LogNormal",
        "mean": 150000.0,
        "std_dev": 50000.0,
    }
    assert stream["priority_distribution"] == {
        "type": "Categorical",
        "values": [1, 5, 9],
        "weights": [0.2, 0.5, 0.3],
    }
    assert stream["time_windows"][1] == {"start_tick": 5, "end_tick": 20, "rate_multiplier": 0.5}
    # Bands become streams: deadline offsets as a range, no priority distribution; a
    # generator band is null.
    bands = b["arrival_bands"]
    assert bands["urgent"]["deadline_range"] == [1, 5]
    assert bands["urgent"]["priority_distribution"] is None
    assert bands["normal"]["amount_distribution"] == {"type": "Exponential", "lambda": 0.0001}
    assert bands["low"] is None
    assert b["policy"]["source"] == "inline" and b["policy"]["document"]["policy_id"] == (
        "inline_budget"
    )
    assert c["policy"]["document"]["policy_id"] == "inline_fifo"
    assert c["arrival_config"]["priority_distribution"] == {"type": "Uniform", "min": 2, "max": 6}
    assert d["policy"]["document"] == {"version": "1.0", "policy_id": "json_fifo"}
    assert d["arrival_config"] is None  # generator stream
    rates = config["cost_rates"]
    assert isinstance(rates, dict)
    assert rates["deadline_penalty"] == {"mode": "fixed", "amount": 1000}
    assert rates["drop_penalty"] == {"mode": "fixed", "amount": 99999}
    assert rates["overdue_delay_multiplier"] == 3.0
    events = config["scenario_events"]
    assert isinstance(events, list)
    assert events[2]["schedule"] == {"type": "Repeating", "start_tick": 10, "interval": 50}
    assert events[1] == {
        "type": "CustomTransactionArrival",
        "schedule": {"type": "OneTime", "tick": 149},
        "from_agent": "BANK_B",
        "to_agent": "BANK_A",
        "amount": 10**15,
        "priority": 5,
        "deadline": None,
        "is_divisible": False,
        "rtgs_priority": "Normal",
    }
    assert events[8] == {
        "type": "DeadlineWindowChange",
        "schedule": {"type": "OneTime", "tick": 90},
        "min_ticks_multiplier": 0.5,
        "max_ticks_multiplier": None,
    }
    assert events[9]["schedule"] is None
    assert events[10]["policy"] == {
        "document": _doc("deadline"),
        "parameters": {"urgency_threshold": 6.0},
        "source": "library:deadline",
    }
    assert events[11]["policy"]["parameters"] == {"x": 1.0}
    assert "policy_parameters" not in events[11]
    assert config["on_policy_error"] == "hold"
    json.dumps(config, allow_nan=False)


def test_simcash_compat_normalizes() -> None:
    config = normalize(_load("simcash_compat.yaml"), FakeSources()).config
    settlement = config["settlement"]
    assert isinstance(settlement, dict)
    assert settlement["queue1_ordering"] == "priority_deadline"
    assert settlement["deferred_crediting"] is True
    rates = config["cost_rates"]
    assert isinstance(rates, dict)
    assert rates["eod_penalty"] == {"mode": "fixed", "amount": 25000}
    assert rates["drop_penalty"] == {"mode": "rate", "bps_per_event": 250.0}
    assert rates["overdraft_bps_per_tick"] == 1.0
    agents = config["agents"]
    assert isinstance(agents, list)
    assert agents[0]["arrival_config"]["priority_distribution"] == {"type": "Fixed", "value": 7}
    assert agents[1]["policy"]["parameters"] == {"urgency_threshold": 3.0}
    assert agents[2]["policy"]["source"] == "library:liquidity_aware"
    assert agents[3]["policy"]["parameters"] == {"max_splits": 4.0, "min_split_amount": 5000.0}
    assert agents[4]["policy"]["source"] == "policies/custom.json"
    events = config["scenario_events"]
    assert isinstance(events, list)
    assert events[2]["rtgs_priority"] == "Urgent" and events[2]["deadline"] == 4
    assert config["on_policy_error"] == "hold"


# ---------------------------------------------------------------------------------------------
# Overrides and precedence
# ---------------------------------------------------------------------------------------------


def test_seed_and_days_override() -> None:
    result = normalize(_load("example.yaml"), FakeSources(), seed=99, days=3)
    assert result.config["simulation"] == {"ticks_per_day": 100, "num_days": 3, "rng_seed": 99}
    assert result.warnings == []


def test_shorter_days_drop_late_events_with_one_warning() -> None:
    scenario = _load("every_form.yaml")  # 3 days of 50 ticks
    result = normalize(scenario, FakeSources(), days=2)
    events = result.config["scenario_events"]
    assert isinstance(events, list)
    kept = [e["type"] for e in events]
    assert "CustomTransactionArrival" not in kept  # tick 149
    assert kept.count("PolicyChange") == 0  # ticks 120, 121
    outage = next(e for e in events if e["type"] == "AgentOutage")
    assert outage["end_tick"] == 100  # cut at the new end
    assert len(result.warnings) == 1
    warning = result.warnings[0]
    assert "#1 CustomTransactionArrival (/scenario_events/1) at tick 149" in warning
    assert "#9 AgentOutage (/scenario_events/9) cut to end at tick 100" in warning
    assert "#11 PolicyChange" in warning


def test_to_engine_config_emits_the_warnings() -> None:
    with pytest.warns(ScenarioWarning, match="ignored or cut"):
        config = to_engine_config(_load("every_form.yaml"), FakeSources(), days=1)
    assert isinstance(config["scenario_events"], list)


def test_parameter_precedence() -> None:
    scenario = _load("example.yaml")
    sources = FakeSources(implied={"deadline": {"urgency_threshold": 1.0, "comfort_multiple": 3.0}})
    config = normalize(
        scenario, sources, param_overrides={"BANK_A": {"comfort_multiple": 9}}
    ).config
    agents = config["agents"]
    assert isinstance(agents, list)
    # resolver-implied < scenario policy_parameters < --param
    assert agents[0]["policy"]["parameters"] == {"comfort_multiple": 9.0, "urgency_threshold": 8.0}


def test_policy_override_drops_scenario_parameters() -> None:
    scenario = _load("example.yaml")
    config = normalize(
        scenario,
        FakeSources(),
        policy_overrides={
            "BANK_A": {"type": "LiquidityAware", "target_buffer": 5, "urgency_threshold": 2}
        },
        param_overrides={"BANK_A": {"urgency_threshold": 4}},
    ).config
    agents = config["agents"]
    assert isinstance(agents, list)
    policy = agents[0]["policy"]
    assert policy["source"] == "library:liquidity_aware"
    assert policy["parameters"] == {"target_buffer": 5.0, "urgency_threshold": 4.0}


def test_policy_override_paths_are_not_scenario_relative() -> None:
    sources = FakeSources()
    normalize(_load("example.yaml"), sources, policy_overrides={"BANK_C": "mine/p.json"})
    assert ("mine/p.json", None) in sources.calls


def test_each_reference_is_resolved_once() -> None:
    data = {
        "simulation": {"ticks_per_day": 5, "num_days": 1, "rng_seed": 0},
        "agents": [{"id": f"A{i}", "opening_balance": 0} for i in range(6)],
    }
    sources = FakeSources()
    config = normalize(scenario_from_dict(data), sources).config
    assert len(sources.calls) == 1
    agents = config["agents"]
    assert isinstance(agents, list)
    assert agents[0]["policy"]["document"] is not agents[1]["policy"]["document"]


@pytest.mark.parametrize(
    ("kwargs", "fragment", "suggestion"),
    [
        ({"param_overrides": {"BANK_X": {"a": 1.0}}}, "unknown agent `BANK_X`", "did you mean"),
        ({"policy_overrides": {"BANK_AA": "fifo"}}, "unknown agent `BANK_AA`", "`BANK_A`"),
        ({"param_overrides": {"BANK_A": {"bad name": 1.0}}}, "parameter name", None),
        ({"param_overrides": {"BANK_A": {"x": math.nan}}}, "finite number", None),
        ({"policy_overrides": {"BANK_A": {"type": "Dedline"}}}, "policy override", None),
        ({"seed": -1}, "seed", None),
        ({"seed": 2**64}, "seed", None),
        ({"days": 0}, "days", None),
    ],
)
def test_invalid_overrides_are_scenario_errors(
    kwargs: dict[str, object], fragment: str, suggestion: str | None
) -> None:
    scenario = _load("example.yaml")
    with pytest.raises(ScenarioError) as caught:
        normalize(scenario, FakeSources(), **kwargs)  # type: ignore[arg-type]
    assert fragment in caught.value.message
    assert caught.value.file == scenario.source
    if suggestion is not None:
        assert caught.value.suggestion is not None and suggestion in caught.value.suggestion


def test_resolver_errors_get_the_scenario_location() -> None:
    def failing(ref: PolicyRef, base_dir: Path | None) -> ResolvedPolicy:
        raise ScenarioError(f"no policy named {ref!r}")

    scenario = _load("example.yaml")
    with pytest.raises(ScenarioError) as caught:
        normalize(scenario, failing)
    assert caught.value.file == scenario.source
    assert caught.value.pointer == "/agents/0/policy"


def test_canonical_json_is_compact_and_sorted() -> None:
    config = normalize(_load("minimal.yaml"), FakeSources()).config
    text = canonical_json(config)
    assert " " not in text.replace("\\u", "")
    assert json.loads(text) == config
    assert text.index('"agents"') < text.index('"cost_rates"') < text.index('"simulation"')


# ---------------------------------------------------------------------------------------------
# Round trip (hypothesis)
# ---------------------------------------------------------------------------------------------

IDS = ["A", "B", "bank.c", "D-1", "e_5"]
money = st.integers(min_value=0, max_value=10**12)
rate = st.floats(min_value=0, max_value=100, allow_nan=False, allow_infinity=False)


@st.composite
def amount_distributions(draw: st.DrawFn) -> dict[str, object]:
    kind = draw(
        st.sampled_from(
            [
                "Uniform",
                "Normal",
                "LogNormal",
                "LogNormalMoments",
                "Exponential",
                "ExponentialLambda",
                "Fixed",
            ]
        )
    )
    if kind == "Uniform":
        low = draw(st.integers(1, 10**6))
        return {"type": "Uniform", "min": low, "max": draw(st.integers(low, 10**7))}
    if kind == "Normal":
        return {"type": "Normal", "mean": draw(rate), "std_dev": draw(rate)}
    if kind == "LogNormal":
        return {"type": "LogNormal", "mu": draw(st.floats(0, 15)), "sigma": draw(st.floats(0, 2))}
    if kind == "LogNormalMoments":
        mean = draw(st.floats(1000, 1e7))
        return {"type": "LogNormal", "mean": mean, "std_dev": draw(st.floats(0, 1e6))}
    if kind == "Exponential":
        return {"type": "Exponential", "mean": draw(st.floats(1, 1e6))}
    if kind == "ExponentialLambda":
        return {"type": "Exponential", "lambda": draw(st.floats(1e-6, 1))}
    return {"type": "Fixed", "amount": draw(st.integers(1, 10**15))}


@st.composite
def streams(draw: st.DrawFn, me: str, others: list[str], band: bool) -> dict[str, object]:
    stream: dict[str, object] = {
        "rate_per_tick": draw(st.floats(0, 5)),
        "amount_distribution": draw(amount_distributions()),
    }
    if draw(st.booleans()):
        chosen = draw(st.lists(st.sampled_from(others), min_size=1, unique=True))
        stream["counterparty_weights"] = {o: draw(st.floats(0.1, 10)) for o in chosen}
    low = draw(st.integers(1, 30))
    high = draw(st.integers(low, 60))
    if band:
        stream["deadline_offset_min"], stream["deadline_offset_max"] = low, high
    else:
        if draw(st.booleans()):
            stream["deadline_range"] = [low, high]
        choice = draw(st.integers(0, 2))
        if choice == 1:
            stream["priority"] = draw(st.integers(0, 10))
        elif choice == 2:
            stream["priority_distribution"] = {"type": "Uniform", "min": 0, "max": 10}
    if draw(st.booleans()):
        stream["divisible"] = True
    return stream


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, object]:
    tpd = draw(st.integers(1, 40))
    days = draw(st.integers(1, 4))
    total = tpd * days
    ids = draw(st.lists(st.sampled_from(IDS), min_size=2, max_size=5, unique=True))
    agents = []
    for me in ids:
        others = [i for i in ids if i != me]
        cap = draw(money) if draw(st.booleans()) else None
        # A negative opening balance only within the overdraft limit (SCENARIO.md).
        opening = draw(st.integers(-(cap or 0), 10**9))
        agent: dict[str, object] = {"id": me, "opening_balance": opening}
        if cap is not None:
            agent["unsecured_cap"] = cap
            agent["liquidity_pool"] = draw(money)
        policy = draw(st.sampled_from(["fifo", "deadline", "form", "inline", "simple"]))
        if policy == "form":
            agent["policy"] = {"type": "Deadline", "urgency_threshold": draw(st.integers(0, 9))}
        elif policy == "inline":
            agent["policy"] = {"version": "1.0", "policy_id": f"p_{me}", "bank_tree": None}
        elif policy == "deadline":
            agent["policy"] = "deadline"
            agent["policy_parameters"] = {"urgency_threshold": draw(st.integers(0, 9))}
        arrivals = draw(st.sampled_from(["none", "config", "bands"]))
        if arrivals == "config":
            agent["arrival_config"] = draw(streams(me, others, band=False))
        elif arrivals == "bands":
            agent["arrival_bands"] = {
                name: draw(streams(me, others, band=True))
                for name in draw(
                    st.lists(st.sampled_from(["urgent", "normal", "low"]), unique=True)
                )
            }
        if draw(st.booleans()):
            agent["limits"] = {"bilateral_limits": {others[0]: draw(money)}}
        agents.append(agent)
    data: dict[str, object] = {
        "simulation": {
            "ticks_per_day": tpd,
            "num_days": days,
            "rng_seed": draw(st.integers(0, 2**64 - 1)),
        },
        "agents": agents,
    }
    penalty = draw(
        st.sampled_from([7, {"mode": "fixed", "amount": 3}, {"mode": "rate", "bps_per_event": 1.5}])
    )
    data["cost_rates"] = {"eod_penalty_per_transaction": penalty, "overdraft_bps_per_tick": 0.25}
    where = draw(st.sampled_from(["top", "nested", "none"]))
    if where == "top":
        data["queue1_ordering"] = "PriorityDeadline"
        data["priority_mode"] = True
    elif where == "nested":
        data["settlement"] = {"queue1_ordering": "fifo", "deferred_crediting": True}
    events: list[object] = []
    for _ in range(draw(st.integers(0, 4))):
        a, b = ids[0], ids[1]
        tick = draw(st.integers(0, total - 1))
        kind = draw(st.sampled_from(["transfer", "nested", "outage", "rate", "policy"]))
        if kind == "transfer":
            events.append(
                {
                    "type": "DirectTransfer",
                    "schedule": "OneTime",
                    "tick": tick,
                    "from_agent": a,
                    "to_agent": b,
                    "amount": draw(st.integers(1, 10**6)),
                }
            )
        elif kind == "nested":
            events.append(
                {
                    "type": "CollateralAdjustment",
                    "agent": b,
                    "delta": -5,
                    "schedule": {
                        "type": "Repeating",
                        "start_tick": tick,
                        "interval": draw(st.integers(1, 10)),
                    },
                }
            )
        elif kind == "outage":
            events.append(
                {
                    "type": "AgentOutage",
                    "agent": a,
                    "start_tick": tick,
                    "end_tick": draw(st.integers(tick + 1, total)),
                }
            )
        elif kind == "rate":
            events.append(
                {
                    "type": "GlobalArrivalRateChange",
                    "schedule": "OneTime",
                    "tick": tick,
                    "multiplier": draw(st.floats(0.1, 3)),
                }
            )
        else:
            events.append(
                {
                    "type": "PolicyChange",
                    "schedule": "OneTime",
                    "tick": tick,
                    "agent": b,
                    "policy": {"type": "Fifo"},
                }
            )
    data["scenario_events"] = events
    return data


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_round_trip_is_stable_and_serializable(data: dict[str, object]) -> None:
    first = scenario_from_dict(data)
    config = normalize(first, FakeSources()).config
    text = canonical_json(config)  # JSON-serializable, finite
    # dump → JSON → load gives the same model and the same engine config, byte for byte
    again = scenario_from_dict(json.loads(json.dumps(first.to_dict())))
    assert again == first
    assert canonical_json(normalize(again, FakeSources()).config) == text
    # normalizing is deterministic
    assert config_hash(normalize(first, FakeSources()).config) == config_hash(config)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(node: object, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_paths(value, (*prefix, index)))
    return found


def _resolves(node: object, pointer: str) -> bool:
    if pointer == "":
        return True
    for raw in pointer[1:].split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False
    return True


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.data())
def test_any_mutation_loads_or_fails_with_a_pointer_into_the_data(
    data: dict[str, object], choice: st.DataObject
) -> None:
    mutated = json.loads(json.dumps(data))
    path = choice.draw(st.sampled_from(_paths(mutated)))
    value = choice.draw(json_values)
    parent: object = mutated
    for part in path[:-1]:
        parent = parent[part]  # type: ignore[index]
    parent[path[-1]] = value  # type: ignore[index]
    try:
        scenario_from_dict(mutated, source="fuzz.yaml")
    except ScenarioError as exc:
        assert exc.file == "fuzz.yaml"
        assert exc.pointer is not None and exc.message
        # The pointer names a value in the data, or a missing key of an existing mapping.
        parent_pointer = exc.pointer.rsplit("/", 1)[0]
        assert _resolves(mutated, exc.pointer) or _resolves(mutated, parent_pointer), exc
