"""paysim.Simulation and paysim.run_many over real scenario files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import paysim
from paysim.simulation import RUN_METADATA_KEYS

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "scenarios" / "demo.yaml"
SCENARIOS = sorted((REPO / "scenarios").glob("*.yaml"))
SETTLEMENT_TYPES = {"RtgsImmediateSettlement", "Queue2LiquidityRelease", "OffsetSettlement"}

SUMMARY_KEYS = [
    "paysim_version",
    "scenario",
    "seed",
    "ticks",
    "ticks_per_day",
    "days",
    "simulation_id",
    "wall_seconds",
    "plugins",
    "totals",
    "costs",
    "agents",
]
TOTAL_KEYS = [
    "arrivals",
    "settled",
    "settled_value",
    "unsettled",
    "dropped",
    "overdue",
    "lsm_settled",
    "settlement_rate",
    "value_settlement_rate",
    "total_cost",
    "settlement_delay",
    "avg_settlement_delay",
    "peak_net_debit",
]
COST_KEYS = [
    "overdraft",
    "delay",
    "collateral",
    "liquidity",
    "deadline_penalty",
    "eod_penalty",
    "drop_penalty",
    "split_friction",
    "total",
]
AGENT_KEYS = [
    "opening_balance",
    "final_balance",
    "min_balance",
    "sent",
    "settled_sent",
    "received",
    "q1",
    "q2",
    "dropped",
    "settlement_delay",
    "peak_net_debit",
    "costs",
]


def _comparable(summary: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in summary.items() if k not in RUN_METADATA_KEYS}


def _external_flows(sim: paysim.Simulation) -> dict[str, int]:
    """Net flows into each agent from outside the payment system (pools, transfers)."""
    flows: dict[str, int] = {}
    for row in sim.events().to_pylist():
        et, ag, amt = row["event_type"], row["agent_id"], row["amount"]
        if et == "LiquidityAllocation":
            flows[ag] = flows.get(ag, 0) + amt
        elif et == "LiquidityReturn":
            flows[ag] = flows.get(ag, 0) - amt
    return flows


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_every_example_scenario_runs_and_money_adds_up(path: Path) -> None:
    sim = paysim.Simulation(path)
    sim.run()
    assert sim.done
    s = sim.summary()
    agents = s["agents"]
    assert isinstance(agents, dict)
    flows = _external_flows(sim)
    opening = sum(a["opening_balance"] for a in agents.values())
    final = sum(a["final_balance"] for a in agents.values())
    assert final == opening + sum(flows.values())
    totals = s["totals"]
    assert isinstance(totals, dict)
    assert totals["arrivals"] == totals["settled"] + totals["dropped"] + totals["unsettled"]


def test_summary_matches_the_contract_key_for_key() -> None:
    sim = paysim.Simulation(DEMO)
    sim.run()
    s = sim.summary()
    assert list(s) == SUMMARY_KEYS
    assert list(s["totals"]) == TOTAL_KEYS  # type: ignore[call-overload]
    assert list(s["costs"]) == COST_KEYS  # type: ignore[call-overload]
    agents = s["agents"]
    assert isinstance(agents, dict)
    assert list(agents) == ["BANK_A", "BANK_B", "BANK_C"]
    for a in agents.values():
        assert list(a) == AGENT_KEYS
        assert list(a["costs"]) == COST_KEYS
    assert s["paysim_version"] == paysim.__version__
    assert s["scenario"] == str(DEMO)
    assert s["seed"] == 7 and s["ticks"] == 100 and s["days"] == 1
    costs = s["costs"]
    assert isinstance(costs, dict)
    assert costs["total"] == sum(costs[k] for k in COST_KEYS[:-1])


def test_events_columns_and_reconstruction() -> None:
    sim = paysim.Simulation(DEMO)
    sim.run()
    table = sim.events()
    assert table.column_names == [
        "seq",
        "tick",
        "day",
        "event_type",
        "tx_id",
        "agent_id",
        "counterparty_id",
        "amount",
        "details",
    ]
    balances: dict[str, int] = {}
    for row in table.to_pylist():
        et, ag, cp, amt = row["event_type"], row["agent_id"], row["counterparty_id"], row["amount"]
        details = json.loads(row["details"])
        if et == "AgentOpened":
            balances[ag] = amt
        elif et == "LiquidityAllocation":
            balances[ag] += amt
        elif et == "LiquidityReturn":
            balances[ag] -= amt
        elif et in SETTLEMENT_TYPES or (
            et == "ScenarioEventExecuted" and details["event_type"] == "DirectTransfer"
        ):
            balances[ag] -= amt
            balances[cp] += amt
    agents = sim.summary()["agents"]
    assert isinstance(agents, dict)
    assert balances == {k: v["final_balance"] for k, v in agents.items()}
    assert sim.events(since_seq=10).column("seq")[0].as_py() == 10


def test_same_seed_same_events_other_seed_differs() -> None:
    a, b, c = paysim.Simulation(DEMO), paysim.Simulation(DEMO), paysim.Simulation(DEMO, seed=8)
    for s in (a, b, c):
        s.run()
    assert a.events().equals(b.events())
    assert not a.events().equals(c.events())
    assert c.summary()["seed"] == 8


def test_tick_and_run_until_step_the_clock() -> None:
    sim = paysim.Simulation(DEMO)
    t = sim.tick()
    assert isinstance(t, paysim.TickSummary) and t.tick == 0 and t.events > 0
    sim.run_until(50)
    assert sim.current_tick == 50 and sim.total_ticks == 100 and not sim.done
    agent = sim.agent("BANK_A")
    assert agent["id"] == "BANK_A" and isinstance(agent["balance"], int)
    with pytest.raises(paysim.SimulationError, match="unknown agent"):
        sim.agent("NOPE")


def test_checkpoints_restored_in_a_new_process(tmp_path: Path) -> None:
    full = paysim.Simulation(DEMO)
    cuts = [0, 37, 99]
    for cut in cuts:
        full.run_until(cut)
        (tmp_path / f"ck{cut}.bin").write_bytes(full.checkpoint())
    seqs = {}
    reference = paysim.Simulation(DEMO)
    for cut in cuts:
        reference.run_until(cut)
        seqs[cut] = reference.events().num_rows
    reference.run()
    ref_events = reference.events()
    script = (
        "import json, sys\n"
        "import paysim\n"
        "from pathlib import Path\n"
        "sc, ck, seq = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])\n"
        "s = paysim.Simulation.restore(sc, ck.read_bytes())\n"
        "s.run()\n"
        "t = s.events(since_seq=seq)\n"
        "print(json.dumps({'rows': t.to_pylist(), 'summary': s.summary()}))\n"
    )
    for cut in cuts:
        out = subprocess.run(
            [
                sys.executable,
                "-c",
                script,
                str(DEMO),
                str(tmp_path / f"ck{cut}.bin"),
                str(seqs[cut]),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        data = json.loads(out.stdout)
        assert data["rows"] == ref_events.slice(seqs[cut]).to_pylist()
        assert _comparable(data["summary"]) == _comparable(reference.summary())


def test_run_many_equals_sequential_runs() -> None:
    seeds = [1, 2, 3, 4, 5]
    parallel = paysim.run_many(DEMO, seeds, threads=2)
    for seed, got in zip(seeds, parallel, strict=True):
        sim = paysim.Simulation(DEMO, seed=seed)
        sim.run()
        assert isinstance(got, dict)
        assert _comparable(got) == _comparable(sim.summary())
        # Each run_many summary carries that run's own engine time.
        assert isinstance(got["wall_seconds"], float) and got["wall_seconds"] > 0


def test_run_many_overrides_and_failures_stay_in_their_slot() -> None:
    results = paysim.run_many(
        DEMO,
        [7, 7, 7],
        overrides=[
            None,
            {"params": {"BANK_C": {"initial_liquidity_fraction": 1.0}}},
            {"params": {"BANK_C": {"initial_liquidity_fraction": 2.0}}},
        ],
    )
    a, b, c = results
    assert isinstance(a, dict) and isinstance(b, dict)
    assert a["agents"] != b["agents"]
    assert isinstance(c, paysim.PolicyError)
    assert "castro_liquidity" in str(c)
    assert any("initial_liquidity_fraction" in str(p["message"]) for p in c.problems)
    with pytest.raises(ValueError):
        paysim.run_many(DEMO, [1, 2], overrides=[None])


def test_set_policy_between_ticks_emits_policy_replaced() -> None:
    sim = paysim.Simulation(DEMO)
    sim.run_until(5)
    sim.set_policy("BANK_A", "castro_liquidity")
    sim.run()
    rows = [r for r in sim.events().to_pylist() if r["event_type"] == "PolicyReplaced"]
    assert len(rows) == 1 and rows[0]["tick"] == 5
    assert json.loads(rows[0]["details"])["new_policy_id"] == "castro_liquidity"
    with pytest.raises(paysim.ScenarioError, match="no library policy"):
        sim.set_policy("BANK_A", "no_such_policy")


def test_out_of_range_override_loads_with_a_warning(tmp_path: Path) -> None:
    from paysim.config import scenario_from_dict

    sc = scenario_from_dict(
        {
            "simulation": {"ticks_per_day": 10, "num_days": 1, "rng_seed": 1},
            "agents": [
                {
                    "id": "A",
                    "opening_balance": 100,
                    "policy": "liquidity_aware",
                    "policy_parameters": {"urgency_threshold": 500},
                },
                {"id": "B", "opening_balance": 0},
            ],
        }
    )
    sim = paysim.Simulation(sc)
    assert any("PARAMETER_OVERRIDE_OUT_OF_RANGE" in w for w in sim.warnings), sim.warnings


CRISIS = REPO / "scenarios" / "crisis.yaml"
REGISTER_POLICY = {
    "version": "1.0",
    "policy_id": "counting_buffer",
    "parameters": {"keep": {"value": 100000, "min": 0, "max": 1000000}},
    "bank_tree": {
        "type": "action",
        "node_id": "count",
        "action": "AddState",
        "parameters": {"key": {"value": "bank_state_ticks"}, "value": {"value": 1}},
    },
    "payment_tree": {
        "type": "condition",
        "node_id": "affordable",
        "condition": {
            "op": ">=",
            "left": {"field": "balance"},
            "right": {
                "compute": {
                    "op": "+",
                    "left": {"field": "remaining_amount"},
                    "right": {"param": "keep"},
                }
            },
        },
        "on_true": {"type": "action", "node_id": "go", "action": "Release"},
        "on_false": {
            "type": "condition",
            "node_id": "late",
            "condition": {
                "op": ">",
                "left": {"field": "bank_state_ticks"},
                "right": {"value": 30},
            },
            "on_true": {"type": "action", "node_id": "go_late", "action": "Release"},
            "on_false": {"type": "action", "node_id": "wait", "action": "Hold"},
        },
    },
}


def test_checkpoints_of_a_multi_day_run_with_collateral_and_registers(tmp_path: Path) -> None:
    """Checkpoints at several ticks of a three-day crisis, with queues, collateral (the
    collateral_manager policy) and registers (an inline counting policy) in play, restored in a
    new process, continue with exactly the remaining events and final summary."""
    policies: dict[str, object] = {"BANK_B": "collateral_manager", "BANK_C": REGISTER_POLICY}
    (tmp_path / "policies.json").write_text(json.dumps(policies))
    full = paysim.Simulation(CRISIS, policies=policies)
    cuts = [23, 61, 150]
    seqs: dict[int, int] = {}
    for cut in cuts:
        full.run_until(cut)
        seqs[cut] = full.next_seq
        (tmp_path / f"ck{cut}.bin").write_bytes(full.checkpoint())
        if cut == 61:
            # Reset at the end of day 0; tick 60 (the first of day 1) counted once.
            assert full.agent("BANK_C")["registers"] == {"bank_state_ticks": 1.0}
            posts = [r for r in full.events().to_pylist() if r["event_type"] == "CollateralPost"]
            assert posts and {r["agent_id"] for r in posts} == {"BANK_B"}
    full.run()
    events = full.events().to_pylist()
    kinds = {r["event_type"] for r in events}
    assert {"CollateralPost", "StateRegisterSet", "QueuedRtgs", "PolicyHold"} <= kinds
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "import paysim\n"
        "sc, d, cut, seq = sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])\n"
        "pol = json.loads((d / 'policies.json').read_text())\n"
        "s = paysim.Simulation.restore(sc, (d / f'ck{cut}.bin').read_bytes(), policies=pol)\n"
        "assert s.checkpoint() == (d / f'ck{cut}.bin').read_bytes()\n"
        "s.run()\n"
        "print(json.dumps({'rows': s.events(since_seq=seq).to_pylist(), 'summary': s.summary()}))\n"
    )
    for cut in cuts:
        out = subprocess.run(
            [sys.executable, "-c", script, str(CRISIS), str(tmp_path), str(cut), str(seqs[cut])],
            capture_output=True,
            text=True,
            check=True,
        )
        data = json.loads(out.stdout)
        assert data["rows"] == events[seqs[cut] :], f"cut at tick {cut}"
        assert _comparable(data["summary"]) == _comparable(full.summary())
