"""The scenario models: defaults and bounds from ENGINE.md, forms, policy references, schema."""

from __future__ import annotations

import json

import jsonschema
import pytest
from pydantic import ValidationError

from paysim.config import (
    canonical_schema_text,
    did_you_mean,
    reduce_policy,
    scenario_json_schema,
    simcash_form_to_ref,
)
from paysim.config.models import (
    Agent,
    ArrivalStream,
    CostRates,
    DeadlinePolicy,
    FifoPolicy,
    FixedPenalty,
    FromJsonPolicy,
    InlineJsonPolicy,
    InlinePolicy,
    LiquidityAwarePolicy,
    LiquiditySplittingPolicy,
    LsmConfig,
    RatePenalty,
    Scenario,
    Settlement,
)
from paysim.config.models_base import REJECTED_KEYS
from paysim.config.models_events import EVENT_TYPES
from paysim.config.suggest import closest


def _scenario(**extra: object) -> dict[str, object]:
    data: dict[str, object] = {
        "simulation": {"ticks_per_day": 10, "num_days": 1, "rng_seed": 1},
        "agents": [{"id": "A", "opening_balance": 0}, {"id": "B", "opening_balance": 0}],
    }
    data.update(extra)
    return data


# ---------------------------------------------------------------------------------------------
# Defaults and bounds (ENGINE.md §8.1, SCENARIO.md)
# ---------------------------------------------------------------------------------------------


def test_cost_rate_defaults_are_those_of_engine_md() -> None:
    rates = CostRates()
    assert rates.overdraft_bps_per_tick == 0.001
    assert rates.delay_cost_per_tick_per_cent == 0.0001
    assert rates.collateral_cost_per_tick_bps == 0.0002
    assert rates.liquidity_cost_per_tick_bps == 0.0
    assert rates.deadline_penalty == 50_000
    assert rates.eod_penalty == 10_000
    assert rates.drop_penalty is None
    assert rates.split_friction_cost == 1000
    assert rates.overdue_delay_multiplier == 5.0
    multipliers = rates.priority_delay_multipliers
    assert (multipliers.urgent_multiplier, multipliers.normal_multiplier) == (1.0, 1.0)
    assert multipliers.low_multiplier == 1.0


def test_settlement_and_lsm_defaults() -> None:
    settlement = Settlement()
    assert settlement.queue1_ordering == "fifo"
    assert settlement.eod_rush_threshold == 0.8
    assert settlement.daily_liquidity_reallocation is True
    assert settlement.throughput_guidance == [[0.0, 0.0], [1.0, 1.0]]
    escalation = settlement.priority_escalation
    assert (escalation.enabled, escalation.curve) == (False, "linear")
    assert (escalation.start_escalating_at_ticks, escalation.max_boost) == (20, 3)
    lsm = LsmConfig()
    assert (lsm.enable_bilateral, lsm.enable_cycles, lsm.max_cycle_length) == (True, True, 4)
    assert (lsm.max_cycles_per_tick, lsm.max_iterations) == (10, 3)


def test_agent_defaults_and_collateral_capacity_rule() -> None:
    agent = Agent.model_validate({"id": "A", "opening_balance": 5, "unsecured_cap": 100})
    assert agent.collateral_haircut == 0.02
    assert agent.liquidity_allocation_fraction == 1.0
    assert agent.policy == "fifo"
    assert agent.collateral_capacity == 1000
    raised = Agent.model_validate(
        {"id": "A", "opening_balance": 5, "unsecured_cap": 100, "posted_collateral": 5000}
    )
    assert raised.collateral_capacity == 5000


def test_stream_defaults() -> None:
    stream = ArrivalStream.model_validate(
        {"rate_per_tick": 1, "amount_distribution": {"type": "Fixed", "amount": 7}}
    )
    assert stream.deadline_range == [10, 50]
    assert stream.rate_per_tick == 1.0 and isinstance(stream.rate_per_tick, float)
    assert stream.counterparty_weights == {} and stream.time_windows == []
    assert stream.divisible is False and stream.priority_distribution is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("opening_balance", 100.0),
        ("opening_balance", True),
        ("unsecured_cap", 1.5),
        ("liquidity_pool", 10.0),
        ("liquidity_buffer", 3.0),
        ("posted_collateral", 2.0),
        ("max_collateral_capacity", 9.0),
    ],
)
def test_money_fields_reject_floats_and_booleans(field: str, value: object) -> None:
    data: dict[str, object] = {"id": "A", "opening_balance": 0, field: value}
    with pytest.raises(ValidationError) as caught:
        Agent.model_validate(data)
    error = caught.value.errors()[0]
    assert error["type"] == "money_not_integer"
    assert "integer cents" in error["msg"]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("overdraft_bps_per_tick", float("inf")),
        ("overdraft_bps_per_tick", float("nan")),
        ("overdraft_bps_per_tick", -0.1),
        ("collateral_cost_per_tick_bps", 10_000.01),
        ("liquidity_cost_per_tick_bps", 1e5),
        ("delay_cost_per_tick_per_cent", 1.01),
        ("overdue_delay_multiplier", 1000.5),
        ("overdraft_bps_per_tick", "0.5"),
        ("overdraft_bps_per_tick", True),
    ],
)
def test_cost_rate_bounds(key: str, value: object) -> None:
    with pytest.raises(ValidationError):
        CostRates.model_validate({key: value})


def test_cost_rate_bounds_are_inclusive() -> None:
    rates = CostRates.model_validate(
        {
            "overdraft_bps_per_tick": 10_000,
            "delay_cost_per_tick_per_cent": 1.0,
            "overdue_delay_multiplier": 1000,
        }
    )
    assert rates.overdraft_bps_per_tick == 10_000.0


# ---------------------------------------------------------------------------------------------
# Penalties, enums, schedules, events
# ---------------------------------------------------------------------------------------------


def test_penalty_forms() -> None:
    rates = CostRates.model_validate(
        {
            "deadline_penalty": 123,
            "eod_penalty_per_transaction": {"mode": "fixed", "amount": 5},
            "drop_penalty": {"mode": "Rate", "bps_per_event": 12.5},
        }
    )
    assert rates.deadline_penalty == 123
    assert rates.eod_penalty == FixedPenalty(mode="fixed", amount=5)
    assert rates.drop_penalty == RatePenalty(mode="rate", bps_per_event=12.5)


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [("Fifo", "fifo"), ("FIFO", "fifo"), ("PriorityDeadline", "priority_deadline")],
)
def test_queue1_ordering_spellings(spelling: str, canonical: str) -> None:
    assert Settlement.model_validate({"queue1_ordering": spelling}).queue1_ordering == canonical


def test_settlement_keys_move_from_the_top_level() -> None:
    scenario = Scenario.model_validate(_scenario(priority_mode=True, deferred_crediting=True))
    assert scenario.settlement.priority_mode is True
    assert scenario.settlement.deferred_crediting is True


def test_rejected_simcash_keys_are_the_three_of_the_spec() -> None:
    assert set(REJECTED_KEYS) == {
        "policy_feature_toggles",
        "cost_feature_toggles",
        "auto_balance_others",
    }
    for key in REJECTED_KEYS:
        with pytest.raises(ValidationError, match="remove it"):
            Scenario.model_validate(_scenario(**{key: {}}))


def test_all_eleven_event_types_are_accepted() -> None:
    assert len(EVENT_TYPES) == 11
    events: list[dict[str, object]] = [
        {"type": "DirectTransfer", "from_agent": "A", "to_agent": "B", "amount": 1},
        {"type": "CustomTransactionArrival", "from_agent": "A", "to_agent": "B", "amount": 1},
        {"type": "ScheduledSettlement", "from_agent": "A", "to_agent": "B", "amount": 1},
        {"type": "CollateralAdjustment", "agent": "A", "delta": -3},
        {"type": "UnsecuredCapChange", "agent": "A", "delta": 3},
        {"type": "GlobalArrivalRateChange", "multiplier": 2},
        {"type": "AgentArrivalRateChange", "agent": "A", "multiplier": 0.5},
        {"type": "CounterpartyWeightChange", "agent": "A", "counterparty": "B", "new_weight": 1},
        {"type": "DeadlineWindowChange", "max_ticks_multiplier": 2},
        {"type": "PolicyChange", "agent": "A", "policy": {"type": "Fifo"}},
    ]
    scheduled = [{**e, "schedule": "onetime", "tick": 3} for e in events]
    scheduled.append({"type": "AgentOutage", "agent": "B", "start_tick": 2, "end_tick": 4})
    scenario = Scenario.model_validate(_scenario(scenario_events=scheduled))
    assert [e.type for e in scenario.scenario_events] == [
        *EVENT_TYPES[:9],
        *EVENT_TYPES[10:],
        "AgentOutage",
    ]
    assert all(
        getattr(e, "schedule", None) is None or e.schedule.type == "OneTime"  # type: ignore[union-attr]
        for e in scenario.scenario_events
    )


def test_custom_transaction_defaults() -> None:
    event = {
        "type": "CustomTransactionArrival",
        "schedule": {"type": "OneTime", "tick": 0},
        "from_agent": "A",
        "to_agent": "B",
        "amount": 10,
    }
    scenario = Scenario.model_validate(_scenario(scenario_events=[event]))
    parsed = scenario.scenario_events[0]
    assert parsed.model_dump(exclude={"schedule"}) == {
        "type": "CustomTransactionArrival",
        "from_agent": "A",
        "to_agent": "B",
        "amount": 10,
        "priority": 5,
        "deadline": None,
        "is_divisible": False,
        "rtgs_priority": "Normal",
    }


# ---------------------------------------------------------------------------------------------
# Policy references
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "kind"),
    [
        ("fifo", str),
        ("policies/mine.json", str),
        ("pack:aggressive", str),
        ({"version": "1.0", "policy_id": "x"}, dict),
        ({"type": "Fifo"}, FifoPolicy),
        ({"type": "Deadline", "urgency_threshold": 3}, DeadlinePolicy),
        (
            {"type": "LiquidityAware", "target_buffer": 100, "urgency_threshold": 2},
            LiquidityAwarePolicy,
        ),
        (
            {"type": "LiquiditySplitting", "max_splits": 3, "min_split_amount": 500},
            LiquiditySplittingPolicy,
        ),
        ({"type": "FromJson", "json_path": "p.json"}, FromJsonPolicy),
        ({"type": "Inline", "decision_trees": {"version": "1.0", "policy_id": "i"}}, InlinePolicy),
        (
            {"type": "InlineJson", "json_string": '{"version": "1.0", "policy_id": "j"}'},
            InlineJsonPolicy,
        ),
    ],
)
def test_policy_reference_forms(policy: object, kind: type) -> None:
    agent = Agent.model_validate({"id": "A", "opening_balance": 0, "policy": policy})
    assert isinstance(agent.policy, kind)


def test_simcash_form_to_ref() -> None:
    assert simcash_form_to_ref({"type": "Fifo"}) == ("fifo", {})
    assert simcash_form_to_ref({"type": "Deadline", "urgency_threshold": 3}) == (
        "deadline",
        {"urgency_threshold": 3.0},
    )
    assert simcash_form_to_ref(
        {"type": "LiquidityAware", "target_buffer": 100, "urgency_threshold": 2}
    ) == ("liquidity_aware", {"target_buffer": 100.0, "urgency_threshold": 2.0})
    assert simcash_form_to_ref(
        LiquiditySplittingPolicy(type="LiquiditySplitting", max_splits=4, min_split_amount=9)
    ) == ("liquidity_splitting", {"max_splits": 4.0, "min_split_amount": 9.0})
    # A bare file name would read as a library name: it is made an explicit path.
    assert simcash_form_to_ref({"type": "FromJson", "json_path": "mine"}) == ("./mine", {})
    assert simcash_form_to_ref({"type": "FromJson", "json_path": "a/b.json"}) == ("a/b.json", {})
    with pytest.raises(ValueError):
        simcash_form_to_ref({"type": "Inline", "decision_trees": {}})
    with pytest.raises(ValueError):
        simcash_form_to_ref({"version": "1.0"})


def test_reduce_policy_gives_strings_or_documents() -> None:
    inline = InlineJsonPolicy(type="InlineJson", json_string='{"policy_id": "j"}')
    assert reduce_policy(inline) == ({"policy_id": "j"}, {})
    assert reduce_policy("deadline") == ("deadline", {})
    assert reduce_policy({"policy_id": "d"}) == ({"policy_id": "d"}, {})


def test_policy_change_form_conflict() -> None:
    event = {
        "type": "PolicyChange",
        "schedule": "OneTime",
        "tick": 1,
        "agent": "A",
        "policy": {"type": "Deadline", "urgency_threshold": 3},
        "policy_parameters": {"urgency_threshold": 2},
    }
    with pytest.raises(ValidationError, match="one place only"):
        Scenario.model_validate(_scenario(scenario_events=[event]))


# ---------------------------------------------------------------------------------------------
# Round trip, suggestions, schema
# ---------------------------------------------------------------------------------------------


def test_to_dict_round_trips() -> None:
    data = _scenario(
        queue1_ordering="Fifo",
        cost_rates={"eod_penalty_per_transaction": 5},
        scenario_events=[
            {"type": "AgentOutage", "agent": "A", "start_tick": 1, "end_tick": 2},
        ],
    )
    data["agents"] = [
        {
            "id": "A",
            "opening_balance": 0,
            "arrival_config": {
                "rate_per_tick": 1,
                "amount_distribution": {"type": "Exponential", "lambda": 0.5},
            },
        },
        {"id": "B", "opening_balance": 0, "policy": {"type": "Deadline", "urgency_threshold": 1}},
    ]
    scenario = Scenario.model_validate(data)
    dumped = scenario.to_dict()
    assert Scenario.model_validate(json.loads(json.dumps(dumped))) == scenario
    stream = dumped["agents"][0]["arrival_config"]  # type: ignore[index]
    assert stream["amount_distribution"] == {"type": "Exponential", "lambda": 0.5}


def test_suggestions() -> None:
    assert did_you_mean("opening_balanc", ["opening_balance", "id"]) == (
        "did you mean `opening_balance`?"
    )
    assert closest("lognormal", ["LogNormal", "Normal"]) == "LogNormal"
    assert closest("zzz", ["opening_balance"]) is None
    assert closest("id", ["id"]) is None


def test_schema_is_valid_and_canonical() -> None:
    schema = scenario_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    text = canonical_schema_text()
    assert text.endswith("}\n") and text == canonical_schema_text()
    assert text == json.dumps(json.loads(text), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def test_schema_documents_every_field() -> None:
    schema = scenario_json_schema()
    undocumented = []
    definitions = dict(schema["$defs"])  # type: ignore[call-overload]
    definitions["Scenario"] = schema
    for name, definition in definitions.items():
        for key, prop in definition.get("properties", {}).items():
            if "description" not in prop:
                undocumented.append(f"{name}.{key}")
    assert undocumented == []


def test_schema_accepts_the_compatibility_spellings() -> None:
    schema = scenario_json_schema()
    properties = schema["properties"]
    assert isinstance(properties, dict)
    assert "queue1_ordering" in properties and "priority_mode" in properties
    defs = schema["$defs"]
    assert isinstance(defs, dict)
    assert "eod_penalty_per_transaction" in defs["CostRates"]["properties"]
    assert "tick" in defs["DirectTransfer"]["properties"]
    assert "tick" not in defs["AgentOutage"]["properties"]
    assert defs["ExponentialAmount"]["properties"]["lambda"]["description"]
