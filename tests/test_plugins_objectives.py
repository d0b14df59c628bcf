"""The objective registry (``paysim.objectives``): built-in values on a summary computed by hand,
and located errors for every way an objective specification can be wrong."""

from __future__ import annotations

import pytest

import paysim
from paysim.objectives import ObjectiveError, bind_objective, cost_components, objectives

COSTS_A = {
    "overdraft": 10,
    "delay": 20,
    "collateral": 0,
    "liquidity": 5,
    "deadline_penalty": 0,
    "eod_penalty": 0,
    "drop_penalty": 0,
    "split_friction": 0,
    "total": 35,
}
COSTS_B = {
    "overdraft": 0,
    "delay": 7,
    "collateral": 3,
    "liquidity": 0,
    "deadline_penalty": 100,
    "eod_penalty": 0,
    "drop_penalty": 0,
    "split_friction": 0,
    "total": 110,
}
SUMMARY: dict[str, object] = {
    "totals": {
        "arrivals": 10,
        "settled": 7,
        "settled_value": 700,
        "unsettled": 2,
        "dropped": 1,
        "overdue": 3,
        "lsm_settled": 0,
        "settlement_rate": 0.7,
        "value_settlement_rate": 0.65,
        "total_cost": 145,
        "settlement_delay": 14,
        "avg_settlement_delay": 2.0,
        "peak_net_debit": 900,
    },
    "costs": {k: COSTS_A[k] + COSTS_B[k] for k in COSTS_A},
    "agents": {
        "BANK_A": {
            "costs": COSTS_A,
            "settled_sent": 4,
            "settlement_delay": 6,
            "peak_net_debit": 900,
        },
        "BANK_B": {
            "costs": COSTS_B,
            "settled_sent": 0,
            "settlement_delay": 0,
            "peak_net_debit": 0,
        },
    },
}


@pytest.mark.parametrize(
    ("spec", "value", "label"),
    [
        ("total_cost", 145.0, "total_cost"),
        ({"metric": "agent_cost", "agent": "BANK_B"}, 110.0, "agent_cost[agent=BANK_B]"),
        (
            {"metric": "cost_component", "component": "delay"},
            27.0,
            "cost_component[component=delay]",
        ),
        (
            {"metric": "cost_component", "component": "delay", "agent": "BANK_A"},
            20.0,
            "cost_component[component=delay,agent=BANK_A]",
        ),
        ("settlement_rate", 0.7, "settlement_rate"),
        ("value_settlement_rate", 0.65, "value_settlement_rate"),
        ("unsettled", 2.0, "unsettled"),
        ("dropped", 1.0, "dropped"),
        ("overdue", 3.0, "overdue"),
        ("avg_settlement_delay", 2.0, "avg_settlement_delay"),
        # 6 ticks of delay over BANK_A's 4 settled payments; BANK_B settled none: 0
        (
            {"metric": "avg_settlement_delay", "agent": "BANK_A"},
            1.5,
            "avg_settlement_delay[agent=BANK_A]",
        ),
        (
            {"metric": "avg_settlement_delay", "agent": "BANK_B"},
            0.0,
            "avg_settlement_delay[agent=BANK_B]",
        ),
        ("liquidity_used", 900.0, "liquidity_used"),
        ({"metric": "liquidity_used", "agent": "BANK_B"}, 0.0, "liquidity_used[agent=BANK_B]"),
    ],
)
def test_builtin_objectives_by_hand(spec: object, value: float, label: str) -> None:
    bound = bind_objective(spec, agents=["BANK_A", "BANK_B"])
    assert bound(SUMMARY) == value
    assert bound.label == label
    expected = "maximize" if "settlement_rate" in label else "minimize"
    assert bound.direction == expected


def test_objectives_agree_with_a_real_run() -> None:
    sim = paysim.Simulation("scenarios/demo.yaml")
    sim.run()
    summary = sim.summary()
    total = bind_objective("total_cost")(summary)
    by_agent = sum(
        bind_objective({"metric": "agent_cost", "agent": a})(summary)
        for a in ("BANK_A", "BANK_B", "BANK_C")
    )
    by_component = sum(
        bind_objective({"metric": "cost_component", "component": c})(summary)
        for c in cost_components()
    )
    assert total == by_agent == by_component == summary["totals"]["total_cost"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("spec", "pointer", "message", "suggestion"),
    [
        (
            {"metric": "total_cots"},
            "/objective/metric",
            "unknown objective `total_cots`",
            "did you mean `total_cost`?",
        ),
        (
            "agent_cots",
            "/objective",
            "unknown objective `agent_cots`",
            "did you mean `agent_cost`?",
        ),
        ({"agent": "BANK_A"}, "/objective", "missing `metric`", None),
        (
            {"metric": "agent_cost"},
            "/objective",
            "objective `agent_cost` needs `agent` (an agent id of the scenario)",
            None,
        ),
        (
            {"metric": "agent_cost", "agnet": "BANK_A"},
            "/objective/agnet",
            "objective `agent_cost` takes `agent`; found `agnet`",
            "did you mean `agent`?",
        ),
        (
            {"metric": "total_cost", "agent": "BANK_A"},
            "/objective/agent",
            "objective `total_cost` takes no parameters; found `agent`",
            None,
        ),
        (
            {"metric": "agent_cost", "agent": "BANK_Z"},
            "/objective/agent",
            "unknown agent `BANK_Z`",
            "did you mean `BANK_B`?",
        ),
        (
            {"metric": "agent_cost", "agent": "bank_a"},
            "/objective/agent",
            "unknown agent `bank_a`",
            "did you mean `BANK_A`?",
        ),
        (
            {"metric": "cost_component", "component": "dealy"},
            "/objective/component",
            "unknown cost component `dealy`; expected one of overdraft, delay, collateral, "
            "liquidity, deadline_penalty, eod_penalty, drop_penalty, split_friction",
            "did you mean `delay`?",
        ),
        (
            {"metric": "agent_cost", "agent": 5},
            "/objective/agent",
            "`agent` must be a string, found 5",
            None,
        ),
        (
            ["total_cost"],
            "/objective",
            "expected an objective name or a mapping with `metric`",
            None,
        ),
    ],
)
def test_bad_specifications_are_located(
    spec: object, pointer: str, message: str, suggestion: str | None
) -> None:
    with pytest.raises(ObjectiveError) as info:
        bind_objective(spec, agents=["BANK_A", "BANK_B"], file="study.yaml")
    error = info.value
    assert isinstance(error, paysim.ScenarioError)  # bad input: exit code 2 in the CLI
    assert (error.file, error.pointer, error.suggestion) == ("study.yaml", pointer, suggestion)
    assert error.message.startswith(message)


def test_reserved_keys_belong_to_the_caller() -> None:
    bound = bind_objective({"metric": "total_cost", "aggregate": "mean"}, reserved=["aggregate"])
    assert bound.params == {}
    with pytest.raises(ObjectiveError):
        bind_objective({"metric": "total_cost", "aggregate": "mean"})


def test_an_agent_missing_from_the_summary_is_an_error_at_evaluation() -> None:
    bound = bind_objective({"metric": "agent_cost", "agent": "BANK_C"})  # no agent list given
    with pytest.raises(ObjectiveError, match="agent `BANK_C` is not in the run summary"):
        bound(SUMMARY)


def test_registry_describes_each_objective() -> None:
    described = {name: o.describe() for name, o in objectives().items()}
    assert described["cost_component"]["params"] == [
        {"name": "component", "kind": "cost_component", "required": True, "default": None},
        {"name": "agent", "kind": "agent", "required": False, "default": None},
    ]
    assert described["settlement_rate"]["direction"] == "maximize"
