"""Clock bounds, the agent bound and the opening balance within the overdraft limit.

Clock (README "Scenario files", docs/engine-config.md): 1..100,000 ticks a day, 1..10,000 days,
at most 10,000,000 ticks in all; the engine checks the same (core/tests/config_clock.rs).
Opening balance (SCENARIO.md "Agents"): negative only within the overdraft limit ``L`` of
ENGINE.md §3.2 at the start, ``unsecured_cap + ⌊posted × K / 10^9⌋`` with
``K = round((1 − haircut) × 10^9)``.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import paysim
from paysim.config import scenario_from_dict
from paysim.config.models_base import (
    MAX_AGENTS,
    MAX_DAYS,
    MAX_EPISODE_TICKS,
    MAX_TICKS_PER_DAY,
)
from paysim.exceptions import ScenarioError


def scenario(tpd: int = 10, days: int = 1, /, **agent_a: Any) -> dict[str, Any]:
    return {
        "simulation": {"ticks_per_day": tpd, "num_days": days, "rng_seed": 1},
        "agents": [{"id": "A", "opening_balance": 0, **agent_a}, {"id": "B", "opening_balance": 0}],
    }


def test_the_bounds_are_the_documented_ones() -> None:
    assert (MAX_TICKS_PER_DAY, MAX_DAYS, MAX_EPISODE_TICKS, MAX_AGENTS) == (
        100_000,
        10_000,
        10_000_000,
        10_000,
    )


@pytest.mark.parametrize(
    ("tpd", "days", "pointer", "fragment"),
    [
        (1, 1, None, None),
        (100_000, 1, None, None),
        (100_000, 100, None, None),
        (1_000, 10_000, None, None),
        (0, 1, "/simulation/ticks_per_day", "greater than or equal to 1"),
        (100_001, 1, "/simulation/ticks_per_day", "less than or equal to 100000"),
        (1_000_000_000, 1, "/simulation/ticks_per_day", "found the integer 1000000000"),
        (1, 0, "/simulation/num_days", "greater than or equal to 1"),
        (1, 10_001, "/simulation/num_days", "less than or equal to 10000"),
        (100_000, 101, "/simulation/num_days", "100000 × 101 = 10,100,000"),
        (1_001, 10_000, "/simulation/num_days", "1001 × 10000 = 10,010,000"),
    ],
)
def test_clock_bounds(tpd: int, days: int, pointer: str | None, fragment: str | None) -> None:
    if pointer is None:
        assert scenario_from_dict(scenario(tpd, days)).total_ticks() == tpd * days
        return
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(scenario(tpd, days))
    assert caught.value.pointer == pointer
    assert fragment is not None and fragment in caught.value.message


def test_days_override_obeys_the_same_bounds() -> None:
    sc = scenario_from_dict(scenario(100_000, 1))
    assert paysim.Simulation(sc, days=100).total_ticks == 10_000_000
    with pytest.raises(ScenarioError, match="100000 × 101 = 10,100,000"):
        paysim.Simulation(sc, days=101)
    with pytest.raises(ScenarioError, match="days ≤ 10,000"):
        paysim.Simulation(scenario_from_dict(scenario(1, 1)), days=10_001)


def test_too_many_agents_fail_before_any_agent_is_validated() -> None:
    data = scenario()
    # Agents that would each fail on their own: the count is reported, not 10,001 problems.
    data["agents"] = [{"id": "?"}] * (MAX_AGENTS + 1)
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(data)
    assert caught.value.pointer == "/agents"
    assert "at most 10,000 agents, found 10,001" in caught.value.message


# Hand-computed L at the start: (unsecured_cap, posted_collateral, haircut, L).
LIMITS = [
    (0, 0, 0.02, 0),
    (500_000, 0, 0.02, 500_000),
    (0, 100_000, 0.02, 98_000),  # ⌊100000 × 980000000 / 10^9⌋
    (0, 100_000, 0.0, 100_000),
    (0, 100_000, 1.0, 0),
    (1_000, 333, 0.5, 1_166),  # 1000 + ⌊333 × 0.5⌋
    (0, 7, 0.333, 4),  # K = 667000000: ⌊7 × 0.667⌋ = ⌊4.669⌋
    (0, 1_000_000_000, 0.000_000_000_5, 1_000_000_000),  # K rounds half up to 10^9
    (0, 1_000_001, 0.25, 750_000),  # ⌊750000.75⌋
]


@pytest.mark.parametrize(("cap", "posted", "haircut", "limit"), LIMITS)
def test_opening_balance_may_go_down_to_minus_the_limit(
    cap: int, posted: int, haircut: float, limit: int
) -> None:
    terms = {"unsecured_cap": cap, "posted_collateral": posted, "collateral_haircut": haircut}
    ok = scenario_from_dict(scenario(**terms, opening_balance=-limit))
    assert ok.agents[0].opening_overdraft_limit == limit
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(scenario(**terms, opening_balance=-limit - 1))
    error = caught.value
    assert error.pointer == "/agents/0/opening_balance"
    assert f"at least {-limit} cents" in error.message
    assert f"found {-limit - 1}" in error.message


@settings(max_examples=40, deadline=None)
@given(
    cap=st.integers(0, 10**12),
    posted=st.integers(0, 10**12),
    haircut=st.sampled_from([0.0, 0.02, 0.1, 0.333, 0.5, 0.999_999_999, 1.0]) | st.floats(0.0, 1.0),
)
def test_the_limit_is_the_engines_limit(cap: int, posted: int, haircut: float) -> None:
    terms = {"unsecured_cap": cap, "posted_collateral": posted, "collateral_haircut": haircut}
    limit = scenario_from_dict(scenario(**terms)).agents[0].opening_overdraft_limit
    sim = paysim.Simulation(scenario_from_dict(scenario(**terms, opening_balance=-limit)))
    state = sim.agent("A")
    assert state["allowed_overdraft_limit"] == limit
    assert state["available_liquidity"] == 0
