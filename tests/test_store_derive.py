"""The derived tables on a hand-written event stream, with the numbers worked out by hand:
balances per tick (ENGINE.md §12.2: settlements, direct transfers, settled scheduled
settlements, liquidity in and out; not an unsettled scheduled settlement), tick counts, and the
payments table's treatment of split families (settled, dropped, still live) and drops."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import paysim.store
from paysim.store import derive

SID = "sim"
# (tick, event_type, tx, agent, counterparty, amount, details)
EVENTS: list[tuple[int, str, str | None, str | None, str | None, int | None, dict[str, object]]] = [
    (0, "AgentOpened", None, "A", None, 1000, {}),
    (0, "AgentOpened", None, "B", None, 500, {}),
    (1, "Arrival", "tx1", "A", "B", 300, {"deadline_tick": 5, "priority": 5}),
    (1, "RtgsImmediateSettlement", "tx1", "A", "B", 300, {}),  # A 700, B 800
    (2, "Arrival", "tx2", "B", "A", 900, {"deadline_tick": 3, "priority": 7, "divisible": True}),
    (2, "PolicySplit", "tx2", "B", None, 900, {"child_ids": ["tx2.1", "tx2.2", "tx2.3"]}),
    (2, "RtgsImmediateSettlement", "tx2.1", "B", "A", 300, {}),  # B 500, A 1000
    (2, "QueuedRtgs", "tx2.2", "B", "A", 300, {}),
    (3, "LiquidityAllocation", None, "A", None, 50, {}),  # A 1050
    (3, "ScenarioEventExecuted", None, "A", "B", 100, {"event_type": "DirectTransfer"}),
    (3, "ScenarioEventExecuted", None, "B", "A", 999, {"event_type": "ScheduledSettlement"}),
    (3, "CostAccrual", None, "A", None, 7, {"delay": 7}),  # A 950, B 600 after the transfer
    (4, "TransactionWentOverdue", "tx2.2", "B", "A", 300, {}),
    (4, "PolicyDrop", "tx2.3", "B", None, 300, {}),
    (4, "Arrival", "tx3", "A", "B", 10, {"deadline_tick": 9, "priority": 1}),
    (4, "PolicyDrop", "tx3", "A", None, 10, {}),
    (4, "Queue2LiquidityRelease", "tx2.2", "B", "A", 300, {}),  # B 300, A 1250
    (5, "LiquidityReturn", None, "A", None, 50, {}),  # A 1200
    (5, "Arrival", "tx4", "B", "A", 20, {"deadline_tick": 9, "priority": 5}),
    (5, "Arrival", "tx5", "A", "B", 40, {"deadline_tick": 9, "priority": 5, "divisible": True}),
    (5, "PolicySplit", "tx5", "A", None, 40, {"child_ids": ["tx5.1", "tx5.2"]}),
    (5, "PolicyDrop", "tx5.1", "A", None, 20, {}),
    (
        6,
        "ScenarioEventExecuted",
        None,
        "B",
        "A",
        5,
        {"event_type": "ScheduledSettlement", "settled": True},
    ),  # B 295, A 1205
]


@pytest.fixture
def store(tmp_path: Path) -> paysim.store.Store:
    st = paysim.store.open(tmp_path / "d.duckdb", write=True)
    for seq, (tick, kind, tx, ag, cp, amt, details) in enumerate(EVENTS):
        st.execute(
            "INSERT INTO events VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?, ?)",
            [SID, seq, tick, kind, tx, ag, cp, amt, json.dumps(details)],
        )
    return st


def test_balances_per_tick_by_hand(store: paysim.store.Store) -> None:
    con = store.connection
    derive.agent_tick_metrics(con, SID, 0, 0, 10, {"A": 1000, "B": 500})
    rows = store.rows(
        "SELECT agent_id, tick, outflow, inflow, balance, cost FROM agent_tick_metrics "
        "ORDER BY agent_id, tick"
    )
    got = [
        (r["agent_id"], r["tick"], r["outflow"], r["inflow"], r["balance"], r["cost"]) for r in rows
    ]
    assert got == [
        ("A", 1, 300, 0, 700, 0),
        ("A", 2, 0, 300, 1000, 0),
        ("A", 3, 100, 50, 950, 7),
        ("A", 4, 0, 300, 1250, 0),
        ("A", 5, 50, 0, 1200, 0),
        ("A", 6, 0, 5, 1205, 0),
        ("B", 1, 0, 300, 800, 0),
        ("B", 2, 300, 0, 500, 0),
        ("B", 3, 0, 100, 600, 0),
        ("B", 4, 300, 0, 300, 0),
        ("B", 6, 5, 0, 295, 0),
    ]
    assert derive.min_balances(con, SID, 0) == {"A": 700, "B": 295}


def test_tick_counts_by_hand(store: paysim.store.Store) -> None:
    derive.tick_metrics(store.connection, SID, 0, 0, 8)
    rows = store.rows("SELECT * FROM tick_metrics ORDER BY tick")
    table = [
        (r["tick"], r["arrivals"], r["settlements"], r["settled_value"], r["dropped"],
         r["overdue"], r["cost"], r["events"])
        for r in rows
    ]  # fmt: skip
    assert table == [
        (0, 0, 0, 0, 0, 0, 0, 2),
        (1, 1, 1, 300, 0, 0, 0, 2),
        (2, 1, 1, 300, 0, 0, 0, 4),
        (3, 0, 0, 0, 0, 0, 7, 4),
        (4, 1, 1, 300, 2, 1, 0, 5),
        (5, 2, 0, 0, 1, 0, 0, 5),
        (6, 0, 0, 0, 0, 0, 0, 1),
        (7, 0, 0, 0, 0, 0, 0, 0),
    ]


def test_payments_by_hand(store: paysim.store.Store) -> None:
    derive.payments(store.connection, SID)
    derive.payments(store.connection, SID)  # rebuilding replaces, never duplicates
    rows = store.rows("SELECT * FROM payments ORDER BY tx_id")
    got = {
        r["tx_id"]: (r["status"], r["pieces"], r["settled_tick"], r["dropped_tick"],
                     r["overdue_tick"], r["delay_ticks"])
        for r in rows
    }  # fmt: skip
    assert got == {
        "tx1": ("settled", 1, 1, None, None, 0),
        # pieces: one settled at 2, one overdue at 4 then settled at 4, one dropped at 4
        "tx2": ("dropped", 3, None, 4, 4, None),
        "tx3": ("dropped", 1, None, 4, None, None),
        "tx4": ("unsettled", 1, None, None, None, None),
        # a dropped piece while the other is still queued: the family is not finished
        "tx5": ("unsettled", 2, None, None, None, None),
    }
    tx2 = next(r for r in rows if r["tx_id"] == "tx2")
    assert (tx2["sender_id"], tx2["receiver_id"], tx2["amount"], tx2["arrival_tick"]) == (
        "B",
        "A",
        900,
        2,
    )
    assert (tx2["deadline_tick"], tx2["priority"], tx2["divisible"]) == (3, 7, True)
    assert (tx2["rtgs_priority"], tx2["source"]) == ("Normal", "generated")
