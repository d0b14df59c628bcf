"""The built-in policy library (POLICY_DSL.md §11.4).

Every file validates without errors or warnings, is named after its ``policy_id`` and declares a
search range for each parameter; and every policy is run on a small scenario that shows the one
behaviour that defines it: a tick, an amount or an event, never just "it runs".

The scenarios are built in code with ``scenario_from_dict``: banks without random arrivals, and
payments injected by ``CustomTransactionArrival`` events, so every tick is known in advance. The
counterparties use the default ``fifo`` policy.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

import paysim
from paysim.config import scenario_from_dict

LIBRARY = Path(__file__).resolve().parent.parent / "policies"
FILES = sorted(LIBRARY.glob("*.json"))
LIBRARY_POLICIES = {
    "fifo",
    "hold_all",
    "deadline",
    "liquidity_aware",
    "liquidity_buffer",
    "liquidity_splitting",
    "eod_rush",
    "balance_reactive",
    "receipt_reactive",
    "collateral_manager",
    "budget_pacer",
    "priority_escalator",
    "castro_liquidity",
}
TREES = ("payment_tree", "bank_tree", "strategic_collateral_tree", "end_of_tick_collateral_tree")

Row = dict[str, Any]


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def payment(
    tick: int, sender: str, receiver: str, amount: int, deadline: int, **extra: object
) -> dict[str, object]:
    """A ``CustomTransactionArrival`` at ``tick``; ``deadline`` is in ticks after arrival."""
    return {
        "type": "CustomTransactionArrival",
        "schedule": "OneTime",
        "tick": tick,
        "from_agent": sender,
        "to_agent": receiver,
        "amount": amount,
        "deadline": deadline,
        **extra,
    }


def bank(
    agent_id: str, balance: int, policy: object = "fifo", **extra: object
) -> dict[str, object]:
    return {"id": agent_id, "opening_balance": balance, "policy": policy, **extra}


def simulate(
    agents: list[dict[str, object]],
    events: list[dict[str, object]],
    *,
    ticks_per_day: int = 40,
    days: int = 1,
    **extra: object,
) -> paysim.Simulation:
    """Runs a scenario to the end and returns the finished simulation."""
    data: dict[str, object] = {
        "simulation": {"ticks_per_day": ticks_per_day, "num_days": days, "rng_seed": 11},
        "agents": agents,
        "scenario_events": events,
        **extra,
    }
    sim = paysim.Simulation(scenario_from_dict(data))
    sim.run()
    return sim


def rows(sim: paysim.Simulation, event_type: str, **match: object) -> list[Row]:
    """Events of one type whose columns equal ``match``, with ``details`` parsed."""
    found = []
    for row in sim.events().to_pylist():
        if row["event_type"] != event_type:
            continue
        if any(row[key] != value for key, value in match.items()):
            continue
        row["details"] = json.loads(row["details"])
        found.append(row)
    return found


def ticks(found: list[Row]) -> list[int]:
    return [int(r["tick"]) for r in found]


def submit_tick(sim: paysim.Simulation, tx_id: str) -> int:
    """The one tick at which the policy released ``tx_id``."""
    (row,) = rows(sim, "PolicySubmit", tx_id=tx_id)
    return int(row["tick"])


def agent_summary(sim: paysim.Simulation, agent_id: str) -> Mapping[str, Any]:
    agents = sim.summary()["agents"]
    assert isinstance(agents, dict)
    found = agents[agent_id]
    assert isinstance(found, dict)
    return found


def _load(path: Path) -> dict[str, Any]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


def _actions(node: object) -> Iterator[str]:
    if not isinstance(node, dict):
        return
    if node.get("type") == "action":
        yield str(node["action"])
    else:
        yield from _actions(node.get("on_true"))
        yield from _actions(node.get("on_false"))


def _first_rush_tick(ticks_per_day: int, threshold: float) -> int:
    """The first tick of a day with ``is_eod_rush`` (ENGINE.md §2)."""
    return next(t for t in range(ticks_per_day) if t / ticks_per_day >= threshold)


# ---------------------------------------------------------------------------------------------
# Every file
# ---------------------------------------------------------------------------------------------


def test_the_library_holds_exactly_the_documented_policies() -> None:
    assert {p.stem for p in FILES} == LIBRARY_POLICIES


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_library_policy_validates_without_errors_or_warnings(path: Path) -> None:
    report = paysim.validate_policy(path)
    assert report.valid, report.text
    assert report.errors == [], report.text
    assert report.warnings == [], report.text
    assert report.policy_id == path.stem


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_library_policy_is_documented_and_declares_search_ranges(path: Path) -> None:
    doc = _load(path)
    assert doc["policy_id"] == path.stem
    assert isinstance(doc.get("description"), str) and doc["description"].strip()
    for name, spec in doc.get("parameters", {}).items():
        assert isinstance(spec, dict), f"{name}: a bare number declares no search range"
        assert "min" in spec and "max" in spec, name
        assert spec["min"] <= spec["value"] <= spec["max"], name
        assert spec["min"] < spec["max"], name
        assert isinstance(spec.get("description"), str) and spec["description"], name


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_no_library_policy_drops_unless_its_name_says_so(path: Path) -> None:
    doc = _load(path)
    actions = {a for tree in TREES for a in _actions(doc.get(tree))}
    if "drop" not in path.stem:
        assert "Drop" not in actions


def test_docs_list_every_library_policy_once() -> None:
    doc = (LIBRARY.parent / "docs" / "policies.md").read_text(encoding="utf-8")
    listed = [
        line.split("|")[1].strip().strip("`") for line in doc.splitlines() if line[:3] == "| `"
    ]
    assert sorted(listed) == sorted(LIBRARY_POLICIES)


def test_every_library_policy_runs_in_a_scenario() -> None:
    agents = [
        bank(
            name.upper(),
            5_000_000,
            name,
            liquidity_pool=1_000_000,
            max_collateral_capacity=2_000_000,
            arrival_config={
                "rate_per_tick": 0.5,
                "amount_distribution": {"type": "Uniform", "min": 10_000, "max": 900_000},
                "deadline_range": [3, 20],
                "divisible": True,
            },
        )
        for name in sorted(LIBRARY_POLICIES)
    ]
    sim = simulate(agents, [], ticks_per_day=30, days=2)
    totals = sim.summary()["totals"]
    assert isinstance(totals, dict)
    assert totals["arrivals"] > 0
    assert totals["dropped"] == 0


# ---------------------------------------------------------------------------------------------
# One behaviour per policy
# ---------------------------------------------------------------------------------------------


def test_fifo_releases_every_payment_in_its_arrival_tick() -> None:
    stream = {
        "rate_per_tick": 1.5,
        "amount_distribution": {"type": "Uniform", "min": 1_000, "max": 50_000},
    }
    agents = [bank(x, 10_000_000, "fifo", arrival_config=stream) for x in ("A", "B", "C")]
    sim = simulate(agents, [], ticks_per_day=20)
    arrivals = {r["tx_id"]: r["tick"] for r in rows(sim, "Arrival")}
    submits = {r["tx_id"]: r["tick"] for r in rows(sim, "PolicySubmit")}
    assert len(arrivals) > 30
    assert submits == arrivals
    assert rows(sim, "PolicyHold") == []


def test_hold_all_settles_nothing_and_holds_every_payment_every_tick() -> None:
    stream = {
        "rate_per_tick": 0.5,
        "amount_distribution": {"type": "Uniform", "min": 1_000, "max": 50_000},
    }
    agents = [bank("A", 10_000_000, "hold_all", arrival_config=stream), bank("B", 10_000_000)]
    sim = simulate(agents, [payment(3, "A", "B", 1_000, 5)], ticks_per_day=20)
    arrivals = rows(sim, "Arrival", agent_id="A")
    assert len(arrivals) > 3
    assert rows(sim, "PolicySubmit", agent_id="A") == []
    for arrival in arrivals:
        holds = rows(sim, "PolicyHold", tx_id=arrival["tx_id"])
        assert ticks(holds) == list(range(arrival["tick"], 20))
        assert {h["details"]["reason"] for h in holds} == {"PolicyDecision"}
    a = agent_summary(sim, "A")
    assert a["settled_sent"] == 0
    assert a["q1"] == len(arrivals)
    assert a["final_balance"] == 10_000_000 + sum(
        int(r["amount"]) for r in rows(sim, "RtgsImmediateSettlement", counterparty_id="A")
    )


def test_deadline_holds_until_the_urgency_threshold_and_releases_at_that_tick() -> None:
    # 80,000 of 100,000 is not "comfortable" (2x), so it waits until 4 ticks remain; 10,000 is.
    agents = [
        bank("A", 100_000, "deadline", policy_parameters={"urgency_threshold": 4}),
        bank("B", 0),
    ]
    sim = simulate(agents, [payment(2, "A", "B", 80_000, 30), payment(2, "A", "B", 10_000, 30)])
    (arrival,) = rows(sim, "Arrival", amount=80_000)
    deadline = arrival["details"]["deadline_tick"]
    assert deadline == 32
    held = rows(sim, "PolicyHold", tx_id=arrival["tx_id"])
    assert ticks(held) == list(range(2, deadline - 4))
    assert {h["details"]["reason"] for h in held} == {"AwaitingInflows"}
    (submit,) = rows(sim, "PolicySubmit", tx_id=arrival["tx_id"])
    assert submit["tick"] == deadline - 4 == 28
    assert submit["details"]["priority"] == 10  # priority_flag HIGH
    (small,) = rows(sim, "Arrival", amount=10_000)
    assert submit_tick(sim, small["tx_id"]) == 2


def test_liquidity_aware_stops_releasing_at_the_target_buffer() -> None:
    # One 100,000 payment per tick from a balance of 500,000 with a buffer of 100,000: four
    # releases keep balance - amount >= buffer; the fifth would leave 0 and waits until urgent.
    agents = [
        bank(
            "A",
            500_000,
            "liquidity_aware",
            policy_parameters={"target_buffer": 100_000, "urgency_threshold": 3},
        ),
        bank("B", 0),
    ]
    sim = simulate(
        agents,
        [payment(t, "A", "B", 100_000, 25) for t in range(5)],
        settlement={"record_decision_paths": True},
    )
    submits = rows(sim, "PolicySubmit", agent_id="A")
    assert ticks(submits) == [0, 1, 2, 3, 4 + 25 - 3]
    paths = [s["details"]["decision_path"][-1] for s in submits]
    assert paths == ["release_above_buffer"] * 4 + ["release_urgent"]
    balances_after = [
        r["details"]["sender_balance_after"]
        for r in rows(sim, "RtgsImmediateSettlement", agent_id="A")
    ]
    assert balances_after == [400_000, 300_000, 200_000, 100_000, 0]
    fifth = submits[-1]["tx_id"]
    held = rows(sim, "PolicyHold", tx_id=fifth)
    assert ticks(held) == list(range(4, 26))
    assert {tuple(h["details"]["decision_path"]) for h in held} == {
        ("is_urgent", "keeps_buffer", "hold_for_buffer")
    }


def test_simcash_liquidity_aware_form_runs_the_library_policy() -> None:
    events = [payment(t, "A", "B", 100_000, 25) for t in range(5)]
    form = {"type": "LiquidityAware", "target_buffer": 100_000, "urgency_threshold": 3}
    by_form = simulate([bank("A", 500_000, form), bank("B", 0)], events)
    by_name = simulate(
        [
            bank(
                "A",
                500_000,
                "liquidity_aware",
                policy_parameters={"target_buffer": 100_000, "urgency_threshold": 3},
            ),
            bank("B", 0),
        ],
        events,
    )
    assert ticks(rows(by_form, "PolicySubmit")) == ticks(rows(by_name, "PolicySubmit"))
    assert ticks(rows(by_form, "PolicySubmit")) == [0, 1, 2, 3, 26]


@pytest.mark.parametrize(("max_splits", "pieces"), [(4, 4), (10, 5)])
def test_liquidity_splitting_splits_an_uncovered_divisible_payment(
    max_splits: int, pieces: int
) -> None:
    # 1,000,000 against a balance of 300,000: floor(1,000,000 / 200,000) = 5 pieces, capped at
    # max_splits. The 350,000 payment is also uncovered, but two pieces of 200,000 do not fit.
    agents = [
        bank(
            "A",
            300_000,
            "liquidity_splitting",
            policy_parameters={"max_splits": max_splits, "min_split_amount": 200_000},
        ),
        bank("B", 0),
    ]
    events = [
        payment(0, "A", "B", 1_000_000, 10, is_divisible=True),
        payment(1, "A", "B", 350_000, 10, is_divisible=True),
        payment(2, "A", "B", 20_000, 10, is_divisible=True),
    ]
    sim = simulate(agents, events, ticks_per_day=20)
    (split,) = rows(sim, "PolicySplit", agent_id="A")
    assert split["tick"] == 0 and split["amount"] == 1_000_000
    details = split["details"]
    assert details["num_splits"] == pieces == len(details["child_ids"])
    assert sum(details["child_amounts"]) == 1_000_000
    assert min(details["child_amounts"]) >= 200_000
    assert details["friction_cost"] == 1_000 * (pieces - 1)
    (first_piece,) = rows(sim, "RtgsImmediateSettlement", tx_id=details["child_ids"][0])
    assert first_piece["tick"] == 0
    (mid,) = rows(sim, "Arrival", amount=350_000)
    assert rows(sim, "PolicySubmit", tx_id=mid["tx_id"]) == []
    assert {h["details"]["reason"] for h in rows(sim, "PolicyHold", tx_id=mid["tx_id"])} == {
        "InsufficientLiquidity"
    }
    (small,) = rows(sim, "Arrival", amount=20_000)
    assert submit_tick(sim, small["tx_id"]) == 2  # covered: released whole


def test_eod_rush_releases_non_urgent_payments_only_from_the_rush_tick() -> None:
    tpd, threshold = 30, 0.6
    rush = _first_rush_tick(tpd, threshold)
    assert rush == 18
    agents = [
        bank("A", 10_000_000, "eod_rush", policy_parameters={"urgency_threshold": 2}),
        bank("B", 0),
    ]
    events = [
        payment(0, "A", "B", 1_000, 29),
        payment(5, "A", "B", 2_000, 24),
        payment(3, "A", "B", 3_000, 5),  # urgent before the rush: deadline 8
        payment(tpd + 1, "A", "B", 4_000, 25),  # day 1
    ]
    sim = simulate(agents, events, ticks_per_day=tpd, days=2, eod_rush_threshold=threshold)
    released = {r["amount"]: r["tick"] for r in rows(sim, "PolicySubmit", agent_id="A")}
    assert released == {1_000: rush, 2_000: rush, 3_000: 8 - 2, 4_000: tpd + rush}
    (early,) = rows(sim, "Arrival", amount=1_000)
    held = rows(sim, "PolicyHold", tx_id=early["tx_id"])
    assert ticks(held) == list(range(0, rush))
    assert {h["details"]["reason"] for h in held} == {"LowPriority"}


@pytest.mark.parametrize(("inflow", "release_tick"), [(100_000, 6), (90_000, 27)])
def test_balance_reactive_releases_in_the_tick_after_an_inflow(
    inflow: int, release_tick: int
) -> None:
    # A starts with nothing; B pays it at tick 5. 100,000 - 50,000 > 40,000 lets A's payment go
    # at tick 6 (its decisions read the state before tick 5's settlement); 90,000 leaves exactly
    # 40,000, which is not above the threshold, so the payment waits until 3 ticks remain.
    agents = [
        bank("A", 0, "balance_reactive", policy_parameters={"balance_threshold": 40_000}),
        bank("B", 1_000_000),
        bank("C", 0),
    ]
    events = [payment(0, "A", "C", 50_000, 30), payment(5, "B", "A", inflow, 10)]
    sim = simulate(agents, events)
    (received,) = rows(sim, "RtgsImmediateSettlement", counterparty_id="A")
    assert received["tick"] == 5
    (own,) = rows(sim, "Arrival", agent_id="A")
    assert submit_tick(sim, own["tx_id"]) == release_tick
    if inflow == 100_000:
        assert release_tick == received["tick"] + 1
    held = rows(sim, "PolicyHold", tx_id=own["tx_id"])
    assert ticks(held) == list(range(0, release_tick))


def test_receipt_reactive_pays_a_bank_once_it_has_been_paid_by_it() -> None:
    # A has ample liquidity but pays B only after B has paid it at least as much; C never pays
    # A, so A's payment to C goes only when urgent (deadline 30, threshold 3).
    agents = [bank("A", 1_000_000, "receipt_reactive"), bank("B", 1_000_000), bank("C", 0)]
    events = [
        payment(0, "A", "B", 50_000, 30),
        payment(0, "A", "C", 50_000, 30),
        payment(4, "B", "A", 60_000, 10),
    ]
    sim = simulate(agents, events)
    (receipt,) = rows(sim, "RtgsImmediateSettlement", agent_id="B")
    assert receipt["tick"] == 4
    (to_b,) = rows(sim, "Arrival", agent_id="A", counterparty_id="B")
    (to_c,) = rows(sim, "Arrival", agent_id="A", counterparty_id="C")
    assert submit_tick(sim, to_b["tx_id"]) == receipt["tick"] + 1 == 5
    assert submit_tick(sim, to_c["tx_id"]) == 30 - 3
    assert ticks(rows(sim, "PolicyHold", tx_id=to_b["tx_id"])) == [0, 1, 2, 3, 4]


def test_receipt_reactive_answers_an_offsetting_payment_waiting_in_q2() -> None:
    # B cannot pay A and its payment waits in Q2 from tick 3; A sees it at tick 4, releases its
    # own, and B's queued payment settles in the same tick with A's money.
    agents = [bank("A", 50_000, "receipt_reactive"), bank("B", 0)]
    events = [payment(0, "A", "B", 50_000, 30), payment(3, "B", "A", 50_000, 30)]
    sim = simulate(agents, events)
    (queued,) = rows(sim, "QueuedRtgs", agent_id="B")
    assert queued["tick"] == 3
    (own,) = rows(sim, "Arrival", agent_id="A")
    assert submit_tick(sim, own["tx_id"]) == 4
    (settled,) = rows(sim, "RtgsImmediateSettlement", tx_id=own["tx_id"])
    (answered,) = rows(sim, "Queue2LiquidityRelease", tx_id=queued["tx_id"])
    assert settled["tick"] == answered["tick"] == 4
    assert agent_summary(sim, "A")["final_balance"] == 50_000


def test_collateral_manager_posts_for_the_gap_and_withdraws_when_the_queue_is_empty() -> None:
    # Gap 90,000 with a 10% haircut: ceil(90,000 / 0.9) = 100,000 posted at tick 2, timer at 12.
    # B's payment at tick 5 restores the balance; the queue is empty, so the end-of-tick tree
    # withdraws all of it, and the timer finds nothing left.
    agents = [
        bank(
            "A", 0, "collateral_manager", max_collateral_capacity=1_000_000, collateral_haircut=0.1
        ),
        bank("B", 1_000_000),
    ]
    events = [payment(2, "A", "B", 90_000, 15), payment(5, "B", "A", 90_000, 10)]
    sim = simulate(agents, events, ticks_per_day=20)
    (post,) = rows(sim, "CollateralPost", agent_id="A")
    assert post["tick"] == 2 and post["amount"] == 100_000
    assert post["details"]["layer"] == "strategic"
    assert post["details"]["auto_withdraw_tick"] == 2 + 10
    (sent,) = rows(sim, "RtgsImmediateSettlement", agent_id="A")
    assert sent["tick"] == 2 and sent["details"]["sender_balance_after"] == -90_000
    (withdraw,) = rows(sim, "CollateralWithdraw", agent_id="A")
    assert withdraw["tick"] == 5 and withdraw["amount"] == 100_000
    assert withdraw["details"]["layer"] == "end_of_tick"
    (timer,) = rows(sim, "CollateralTimerBlocked", agent_id="A")
    assert timer["tick"] == 12


def test_collateral_manager_timer_withdraws_while_a_payment_is_still_queued() -> None:
    # Capacity 100,000 covers the 90,000 payment but not the 500,000 one, which stays queued,
    # so the end-of-tick tree keeps the collateral and the 5-tick timer takes it back.
    agents = [
        bank(
            "A",
            0,
            "collateral_manager",
            policy_parameters={"auto_withdraw_ticks": 5},
            max_collateral_capacity=100_000,
            collateral_haircut=0.0,
        ),
        bank("B", 1_000_000),
    ]
    events = [
        payment(0, "A", "B", 90_000, 15),
        payment(0, "A", "B", 500_000, 19),
        payment(2, "B", "A", 90_000, 10),
    ]
    sim = simulate(agents, events, ticks_per_day=20)
    posts = rows(sim, "CollateralPost", agent_id="A")
    assert posts[0]["tick"] == 0 and posts[0]["amount"] == 100_000
    assert posts[0]["details"]["auto_withdraw_tick"] == 5
    timers = rows(sim, "CollateralTimerWithdrawn", agent_id="A")
    assert timers[0]["tick"] == 5 and timers[0]["amount"] == 100_000
    assert timers[0]["details"]["posted_at"] == 0
    assert rows(sim, "CollateralWithdraw", agent_id="A") == []
    (big,) = rows(sim, "Arrival", amount=500_000)
    assert rows(sim, "PolicySubmit", tx_id=big["tx_id"]) == []


def test_budget_pacer_budget_grows_behind_pace_and_shrinks_ahead_of_it() -> None:
    # 8 ticks a day, sensitivity 1: budget = available * clamp(0.5 - throughput_gap, 0, 1).
    # Tick 0 on pace: 512,000 and the 256,000 payment goes. Ticks 1-2 ahead (all settled): 0.
    # From tick 3, 768,000 more is due and a quarter of the day's value is settled: the budget
    # grows by an eighth of 768,000 per tick until it covers the payment at tick 6.
    agents = [
        bank("A", 1_024_000, "budget_pacer", policy_parameters={"sensitivity": 1.0}),
        bank("B", 0),
    ]
    events = [payment(0, "A", "B", 256_000, 7), payment(3, "A", "B", 768_000, 4)]
    sim = simulate(agents, events, ticks_per_day=8)
    budgets = [int(r["amount"]) for r in rows(sim, "BankBudgetSet", agent_id="A")]
    assert budgets == [512_000, 0, 0, 480_000, 576_000, 672_000, 768_000, 0]
    ahead, behind = budgets[1:3], budgets[3:7]
    assert max(ahead) < min(behind)
    (late,) = rows(sim, "Arrival", amount=768_000)
    assert submit_tick(sim, late["tx_id"]) == 6
    held = rows(sim, "PolicyHold", tx_id=late["tx_id"])
    assert ticks(held) == [3, 4, 5]
    assert {h["details"]["reason"] for h in held} == {"BudgetExhausted"}


def test_priority_escalator_redeclares_queued_payments_as_their_deadline_nears() -> None:
    # A has no liquidity, so everything waits in Q2. Thresholds: Urgent at 10 ticks, HighlyUrgent
    # at 3. At tick 18 B pays A 106,000: the HighlyUrgent payments settle first, ahead of the
    # Normal one that entered Q2 before them. A payment declared HighlyUrgent is never lowered.
    agents = [bank("A", 0, "priority_escalator"), bank("B", 106_000)]
    events = [
        payment(0, "A", "B", 100_000, 39),
        payment(0, "A", "B", 100_000, 20),
        payment(0, "A", "B", 5_000, 5),
        payment(0, "A", "B", 1_000, 8, rtgs_priority="HighlyUrgent"),
        payment(18, "B", "A", 106_000, 10),
    ]
    sim = simulate(agents, events, settlement={"priority_mode": True})
    far, near, short, declared = (r["tx_id"] for r in rows(sim, "Arrival", agent_id="A"))

    def resubmissions(tx_id: str) -> list[tuple[int, str, str]]:
        return [
            (
                int(r["tick"]),
                r["details"]["old_rtgs_priority"],
                r["details"]["new_rtgs_priority"],
            )
            for r in rows(sim, "RtgsResubmission", tx_id=tx_id)
        ]

    assert resubmissions(near) == [(10, "Normal", "Urgent"), (17, "Urgent", "HighlyUrgent")]
    assert resubmissions(short) == [(1, "Normal", "Urgent"), (2, "Urgent", "HighlyUrgent")]
    assert resubmissions(far) == [(29, "Normal", "Urgent"), (36, "Urgent", "HighlyUrgent")]
    assert resubmissions(declared) == []
    # In Q1, the payment already within 10 ticks of its deadline is released with priority HIGH.
    priorities = {r["tx_id"]: r["details"]["priority"] for r in rows(sim, "PolicySubmit")}
    assert (priorities[far], priorities[near], priorities[short]) == (5, 5, 10)
    settled = rows(sim, "Queue2LiquidityRelease", agent_id="A")
    assert [(r["tick"], r["tx_id"]) for r in settled] == [(18, declared), (18, short), (18, near)]


@pytest.mark.parametrize("fraction", [0.35, 0.7])
def test_castro_liquidity_allocates_the_chosen_share_of_the_pool(fraction: float) -> None:
    pool = 1_234_567
    agents = [
        bank(
            "A",
            0,
            "castro_liquidity",
            liquidity_pool=pool,
            policy_parameters={"initial_liquidity_fraction": fraction},
        ),
        bank("B", 0),
    ]
    sim = simulate(agents, [], ticks_per_day=5, days=2)
    allocations = rows(sim, "LiquidityAllocation", agent_id="A")
    expected = math.floor(pool * fraction)
    assert expected == pool * round(fraction * 10**9) // 10**9  # the engine's fixed-point rule
    assert [(r["tick"], r["amount"]) for r in allocations] == [(0, expected), (5, expected)]
    assert expected == {0.35: 432_098, 0.7: 864_196}[fraction]


def test_liquidity_buffer_budget_keeps_the_buffer_until_a_deadline_nears() -> None:
    # Buffer 300,000 (multiple 1): the bank tree budgets available - buffer = 200,000, so of two
    # 150,000 payments only the first goes; once a queued deadline is 3 ticks away the budget is
    # all available liquidity and the second goes too.
    agents = [bank("A", 500_000, "liquidity_buffer", liquidity_buffer=300_000), bank("B", 0)]
    events = [payment(0, "A", "B", 150_000, 30), payment(0, "A", "B", 150_000, 20)]
    sim = simulate(agents, events)
    budgets = rows(sim, "BankBudgetSet", agent_id="A")
    assert [int(r["amount"]) for r in budgets[:2]] == [200_000, 50_000]
    first, second = (r["tx_id"] for r in rows(sim, "Arrival", agent_id="A"))
    assert submit_tick(sim, first) == 0
    assert submit_tick(sim, second) == 20 - 3
    (urgent_budget,) = [r for r in budgets if r["tick"] == 17]
    assert urgent_budget["amount"] == 350_000
    (release,) = rows(sim, "PolicySubmit", tx_id=second)
    assert release["details"]["rtgs_priority"] == "Urgent"
