"""Normalized engine configs for tests (docs/engine-config.md), until scenarios load through
``paysim.config``."""

from __future__ import annotations

import copy

FIFO: dict[str, object] = {
    "document": {
        "version": "1.0",
        "policy_id": "fifo",
        "payment_tree": {"type": "action", "node_id": "r", "action": "Release"},
    },
    "parameters": {},
    "source": "library:fifo",
}


def agent(agent_id: str, balance: int, *, rate: float = 0.0, cap: int = 0) -> dict[str, object]:
    stream: dict[str, object] | None = None
    if rate > 0:
        stream = {
            "rate_per_tick": rate,
            "amount_distribution": {"type": "LogNormal", "mu": 9.0, "sigma": 0.8},
            "counterparty_weights": {},
            "deadline_range": [5, 30],
            "priority_distribution": {"type": "Fixed", "value": 5},
            "divisible": False,
            "time_windows": [],
        }
    return {
        "id": agent_id,
        "opening_balance": balance,
        "unsecured_cap": cap,
        "posted_collateral": 0,
        "collateral_haircut": 0.02,
        "max_collateral_capacity": None,
        "liquidity_pool": 0,
        "liquidity_allocation_fraction": 1.0,
        "liquidity_buffer": 0,
        "limits": {"bilateral_limits": {}, "multilateral_limit": None},
        "policy": copy.deepcopy(FIFO),
        "arrival_config": stream,
        "arrival_bands": None,
    }


def config(
    agents: list[dict[str, object]], *, tpd: int = 20, days: int = 2, seed: int = 7
) -> dict[str, object]:
    return {
        "simulation": {"ticks_per_day": tpd, "num_days": days, "rng_seed": seed},
        "agents": agents,
        "cost_rates": {
            "overdraft_bps_per_tick": 0.001,
            "delay_cost_per_tick_per_cent": 0.0001,
            "collateral_cost_per_tick_bps": 0.0002,
            "liquidity_cost_per_tick_bps": 0.0,
            "deadline_penalty": {"mode": "fixed", "amount": 50000},
            "eod_penalty": {"mode": "fixed", "amount": 10000},
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
            "priority_mode": False,
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
        "scenario_events": [],
        "on_policy_error": "fail",
    }


def three_banks(seed: int = 7) -> dict[str, object]:
    return config(
        [
            agent("BANK_A", 2_000_000, rate=0.6, cap=500_000),
            agent("BANK_B", 1_500_000, rate=0.5),
            agent("BANK_C", 300_000, rate=0.4),
        ],
        seed=seed,
    )
