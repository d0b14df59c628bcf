"""The example scenarios, each run through ``paysim run`` with a check of what it is for."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import paysim
from tests import castro_model
from tests.cli_support import SCENARIOS, balances_from_events, invoke, jsonl

CASTRO = SCENARIOS / "castro_2period.yaml"


def _summary(path: Path, *args: str) -> dict[str, object]:
    result = invoke("run", path, "-f", "json", *args)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


def _events(path: Path, *args: str) -> list[dict[str, object]]:
    result = invoke("run", path, "-f", "events", *args)
    assert result.exit_code == 0, result.stderr
    return jsonl(result.stdout)


def _agents(summary: dict[str, object]) -> dict[str, dict[str, object]]:
    agents = summary["agents"]
    assert isinstance(agents, dict)
    return agents


def _cost(summary: dict[str, object], agent: str) -> int:
    costs = _agents(summary)[agent]["costs"]
    assert isinstance(costs, dict)
    return int(costs["total"])


def _totals(summary: dict[str, object]) -> dict[str, int | float]:
    totals = summary["totals"]
    assert isinstance(totals, dict)
    return totals


def test_castro_equilibrium_costs() -> None:
    # The paper's equilibrium (ℓA = 0, ℓB = 0.20·B): every demand is paid when due, and only
    # B pays, for the liquidity it brings in: 20,000 at 500 bps per tick over 2 ticks.
    s = _summary(CASTRO)
    t = _totals(s)
    assert t["arrivals"] == t["settled"] == 7 and t["unsettled"] == 0
    assert _cost(s, "BANK_A") == 0 and _cost(s, "BANK_B") == 2_000
    costs = _agents(s)["BANK_B"]["costs"]
    assert isinstance(costs, dict) and costs["liquidity"] == 2_000
    # Every payment settles in its own period; deferred crediting makes what B sends in
    # period 1 usable by A only in period 2, where it pays A's three payments.
    rows = _events(CASTRO)
    settled = [
        (r["tick"], r["agent_id"]) for r in rows if r["event_type"] == "RtgsImmediateSettlement"
    ]
    assert settled == [(0, "BANK_B")] * 3 + [(1, "BANK_A")] * 3 + [(1, "BANK_B")]
    credits = [
        (r["tick"], r["agent_id"], r["amount"])
        for r in rows
        if r["event_type"] == "DeferredCreditApplied"
    ]
    assert credits == [(0, "BANK_A", 15_000), (1, "BANK_A", 5_000), (1, "BANK_B", 15_000)]


def test_castro_no_bank_gains_by_deviating() -> None:
    # Each bank's cost over the whole grid, the other at its equilibrium choice: the
    # equilibrium choice is the unique minimum, as the closed form says (tests/test_castro.py
    # checks every cell).
    grid = range(castro_model.GRID + 1)
    deviations: list[tuple[castro_model.BankId, int]] = [("A", 4), ("B", 0)]
    for bank, other_k in deviations:
        cells = [(k, other_k) if bank == "A" else (other_k, k) for k in grid]
        overrides: list[dict[str, object] | None] = [castro_model.overrides(*c) for c in cells]
        results = paysim.run_many(CASTRO, [1] * len(cells), overrides=overrides)
        agent = castro_model.AGENT_IDS[bank]
        summaries = [r for r in results if isinstance(r, dict)]
        assert len(summaries) == len(cells), results
        costs = [_cost(r, agent) for r in summaries]
        best = {"A": 0, "B": 4}[bank]
        assert costs.index(min(costs)) == best
        assert all(c > costs[best] for k, c in enumerate(costs) if k != best)


def test_castro_underfunded_b_pays_delay_and_end_of_day_borrowing() -> None:
    # B brings in 0.10 (10,000): it sends 2 of its 3 period-1 payments, delays 5,000
    # (0.2 × 5,000 = 1,000), and at the close still owes 10,000 (0.4 × 10,000 = 4,000); its
    # liquidity costs 0.1 × 10,000 = 1,000. A received only 10,000 in period 1 and cannot pay
    # 5,000 of its 15,000: 0.4 × 5,000 = 2,000 of end-of-day borrowing.
    s = _summary(CASTRO, "--param", "BANK_B.initial_liquidity_fraction=0.1")
    b = _agents(s)["BANK_B"]["costs"]
    a = _agents(s)["BANK_A"]["costs"]
    assert isinstance(a, dict) and isinstance(b, dict)
    assert (b["liquidity"], b["delay"], b["eod_penalty"], b["total"]) == (
        1_000,
        1_000,
        4_000,
        6_000,
    )
    assert (a["liquidity"], a["delay"], a["eod_penalty"], a["total"]) == (0, 0, 2_000, 2_000)
    assert _totals(s)["unsettled"] == 3


def test_gridlock_is_resolved_by_the_lsm_and_only_by_it(tmp_path: Path) -> None:
    path = SCENARIOS / "gridlock.yaml"
    s = _summary(path)
    t = _totals(s)
    agents = _agents(s)
    assert sum(int(str(a["final_balance"])) for a in agents.values()) == 4 * 50_000
    rows = _events(path)
    assert balances_from_events(rows) == {k: a["final_balance"] for k, a in agents.items()}
    # Every payment fails gross settlement at entry; every one settles by an offset, in the
    # tick its circuit is complete.
    arrivals = {r["tx_id"]: r["tick"] for r in rows if r["event_type"] == "Arrival"}
    assert len(arrivals) == 14 and t["arrivals"] == 14
    queued = {r["tx_id"] for r in rows if r["event_type"] == "QueuedRtgs"}
    assert set(arrivals) == queued
    offsets = {r["tx_id"]: r["tick"] for r in rows if r["event_type"] == "OffsetSettlement"}
    assert offsets == arrivals
    assert t["settled"] == 14 and t["lsm_settled"] == 14 and t["unsettled"] == 0
    kinds = [r["event_type"] for r in rows if str(r["event_type"]).startswith("Lsm")]
    assert kinds.count("LsmCycleSettlement") == 3 and kinds.count("LsmBilateralOffset") == 2
    gross = {"RtgsImmediateSettlement", "Queue2LiquidityRelease"}
    assert not any(r["event_type"] in gross for r in rows)
    # The same day with the LSM off: nothing settles.
    text = path.read_text().replace("enable_bilateral: true", "enable_bilateral: false")
    off = tmp_path / "gridlock_off.yaml"
    off.write_text(text.replace("enable_cycles: true", "enable_cycles: false"))
    t_off = _totals(_summary(off))
    assert t_off["settled"] == 0 and t_off["unsettled"] == 14
    assert int(str(t_off["total_cost"])) > int(str(t["total_cost"]))


def test_crisis_outage_lending_collateral_and_repayments() -> None:
    path = SCENARIOS / "crisis.yaml"
    rows = _events(path)
    s = _summary(path)
    assert s["days"] == 3
    assert [r["tick"] for r in rows if r["event_type"] == "EndOfDay"] == [59, 119, 179]
    # The outage: BANK_D releases nothing in ticks 70..99, and its payments go overdue.
    d_releases = [
        r["tick"] for r in rows if r["event_type"] == "PolicySubmit" and r["agent_id"] == "BANK_D"
    ]
    assert d_releases and not any(70 <= int(str(t)) < 100 for t in d_releases)
    assert any(int(str(t)) == 100 for t in d_releases)
    d_costs = _agents(s)["BANK_D"]["costs"]
    assert isinstance(d_costs, dict) and d_costs["deadline_penalty"] > 0
    executed = {
        r["details"]["event_type"]: r  # type: ignore[index]
        for r in rows
        if r["event_type"] == "ScenarioEventExecuted"
        and r["details"]["event_type"] != "ScheduledSettlement"  # type: ignore[index]
    }
    loan = executed["DirectTransfer"]
    assert (loan["tick"], loan["agent_id"], loan["counterparty_id"], loan["amount"]) == (
        95,
        "CENTRAL_BANK",
        "BANK_B",
        2_000_000,
    )
    assert executed["CollateralAdjustment"]["details"]["applied_delta"] == 500_000  # type: ignore[index]
    assert executed["UnsecuredCapChange"]["details"]["applied_delta"] == 400_000  # type: ignore[index]
    repayments = [
        (r["agent_id"], r["details"]["settled"])  # type: ignore[index]
        for r in rows
        if r["event_type"] == "ScenarioEventExecuted"
        and r["details"]["event_type"] == "ScheduledSettlement"  # type: ignore[index]
    ]
    assert repayments == [("BANK_C", True), ("BANK_B", False)]
    # BANK_A's daily bilateral limit towards BANK_B binds.
    limits = [r for r in rows if r["event_type"] == "BilateralLimitExceeded"]
    assert limits and all(r["details"]["limit"] == 500_000 for r in limits)  # type: ignore[index]
    # BANK_B runs out of liquidity during the outage and queues.
    b_queued = Counter(
        int(str(r["tick"])) // 60
        for r in rows
        if r["event_type"] == "QueuedRtgs" and r["agent_id"] == "BANK_B"
    )
    assert b_queued[1] > 0


def test_target2_priority_queue_and_limits() -> None:
    rows = _events(SCENARIOS / "target2_features.yaml")
    c_queued = [
        r["tx_id"] for r in rows if r["event_type"] == "QueuedRtgs" and r["agent_id"] == "BANK_C"
    ]
    c_released = [
        (r["tick"], r["tx_id"])
        for r in rows
        if r["event_type"] == "Queue2LiquidityRelease" and r["agent_id"] == "BANK_C"
    ]
    priority = {
        r["tx_id"]: r["details"]["rtgs_priority"]  # type: ignore[index]
        for r in rows
        if r["event_type"] == "Arrival"
    }
    # Submitted Normal, Urgent, HighlyUrgent; settled in priority order as liquidity arrives.
    assert [priority[t] for t in c_queued] == ["Normal", "Urgent", "HighlyUrgent"]
    assert [(tick, priority[t]) for tick, t in c_released] == [
        (8, "HighlyUrgent"),
        (12, "Urgent"),
        (16, "Normal"),
    ]
    # The bilateral limit holds the second payment to BANK_B until the next day.
    (held,) = [r for r in rows if r["event_type"] == "BilateralLimitExceeded"]
    assert (held["tick"], held["amount"]) == (3, 300_000)
    released = [r for r in rows if r["tx_id"] == held["tx_id"]][-1]
    assert released["event_type"] == "Queue2LiquidityRelease" and released["day"] == 1
    # Arrival bands: urgent payments carry priorities 8..10.
    band_priorities = {
        r["details"]["priority"]  # type: ignore[index]
        for r in rows
        if r["event_type"] == "Arrival" and r["details"]["source"] == "generated"  # type: ignore[index]
    }
    assert band_priorities & {8, 9, 10} and band_priorities & {0, 1, 2, 3}
    assert any(r["event_type"] == "PriorityEscalated" for r in rows)
    # Entry disposition: BANK_C's payment to BANK_E is offset at entry against the queued one.
    (offset,) = [r for r in rows if r["event_type"] == "EntryDispositionOffset"]
    assert offset["tick"] == 21 and offset["agent_id"] == "BANK_C"
    assert offset["details"]["net"] == 0  # type: ignore[index]
    pair = [r for r in rows if r["event_type"] == "OffsetSettlement"]
    assert [r["details"]["mechanism"] for r in pair] == ["entry", "entry"]  # type: ignore[index]
    # Algorithm sequencing: every algorithm run is an AlgorithmExecution event.
    algorithms = {
        r["details"]["algorithm"]  # type: ignore[index]
        for r in rows
        if r["event_type"] == "AlgorithmExecution"
    }
    assert algorithms == {"queue", "bilateral", "cycles"}


def test_large_runs_two_hundred_banks_for_five_days() -> None:
    s = _summary(SCENARIOS / "large.yaml")
    assert len(_agents(s)) == 200 and s["days"] == 5 and s["ticks"] == 500
    t = _totals(s)
    assert t["arrivals"] > 90_000
    assert t["arrivals"] == t["settled"] + t["dropped"] + t["unsettled"]
    # Heavy tails: the share settled by value trails the share settled by count.
    assert t["value_settlement_rate"] < t["settlement_rate"]


def test_gridlock_verbose_shows_the_offsets() -> None:
    result = invoke("run", str(SCENARIOS / "gridlock.yaml"), "--format", "verbose")
    assert result.exit_code == 0
    out = result.stdout
    assert "LSM cycle   BANK_A → BANK_B → BANK_C → BANK_A" in out
    assert "LSM cycle   BANK_A → BANK_B → BANK_C → BANK_D → BANK_A" in out
    assert "LSM pair    BANK_C ⇄ BANK_D" in out and "BANK_C pays the net 200.00" in out
