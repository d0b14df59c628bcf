"""The derived tables on a hand-written event stream, with the numbers worked out by hand:
balances per tick (ENGINE.md §12.2: settlements, direct transfers, settled scheduled
settlements, liquidity in and out; not an unsettled scheduled settlement), tick counts, and the
payments view's treatment of split families (settled, dropped, still live) and drops.

The events are stored as the store stores them (``event_data``, ids as numbers, converted from
the text form by :mod:`paysim.store.coding`), so the ``events`` view must also give them back
exactly. The SQL computations here are the reference that the engine's own per-tick aggregates
are compared with on real runs (``tests/test_store_run.py``)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

import paysim.store
from paysim import _core
from paysim.events import EVENT_SCHEMA, events_table
from paysim.exceptions import StoreError
from paysim.simulation import Simulation
from paysim.sinks import run_with_sinks
from paysim.store import derive
from paysim.store.coding import shapes_table, stored_from_text
from paysim.store.ids import run_key

SID = "sim"
AGENTS = ["A", "B"]
# (tick, event_type, tx, agent, counterparty, amount, details)
EVENTS: list[tuple[int, str, str | None, str | None, str | None, int | None, dict[str, object]]] = [
    (0, "AgentOpened", None, "A", None, 1000, {}),
    (0, "AgentOpened", None, "B", None, 500, {}),
    (1, "Arrival", "tx_00000001", "A", "B", 300, {"deadline_tick": 5, "priority": 5}),
    (1, "RtgsImmediateSettlement", "tx_00000001", "A", "B", 300, {}),  # A 700, B 800
    (
        2,
        "Arrival",
        "tx_00000002",
        "B",
        "A",
        900,
        {"deadline_tick": 3, "priority": 7, "divisible": True},
    ),
    (
        2,
        "PolicySplit",
        "tx_00000002",
        "B",
        None,
        900,
        {"child_ids": ["tx_00000002.1", "tx_00000002.2", "tx_00000002.3"]},
    ),
    (2, "RtgsImmediateSettlement", "tx_00000002.1", "B", "A", 300, {}),  # B 500, A 1000
    (2, "QueuedRtgs", "tx_00000002.2", "B", "A", 300, {}),
    (3, "LiquidityAllocation", None, "A", None, 50, {}),  # A 1050
    (3, "ScenarioEventExecuted", None, "A", "B", 100, {"event_type": "DirectTransfer"}),
    (3, "ScenarioEventExecuted", None, "B", "A", 999, {"event_type": "ScheduledSettlement"}),
    (3, "CostAccrual", None, "A", None, 7, {"delay": 7}),  # A 950, B 600 after the transfer
    (4, "TransactionWentOverdue", "tx_00000002.2", "B", "A", 300, {}),
    (4, "PolicyDrop", "tx_00000002.3", "B", None, 300, {}),
    (4, "Arrival", "tx_00000003", "A", "B", 10, {"deadline_tick": 9, "priority": 1}),
    (4, "PolicyDrop", "tx_00000003", "A", None, 10, {}),
    (4, "Queue2LiquidityRelease", "tx_00000002.2", "B", "A", 300, {}),  # B 300, A 1250
    (5, "LiquidityReturn", None, "A", None, 50, {}),  # A 1200
    (5, "Arrival", "tx_00000004", "B", "A", 20, {"deadline_tick": 9, "priority": 5}),
    (
        5,
        "Arrival",
        "tx_123456789",
        "A",
        "B",
        40,
        {"deadline_tick": 9, "priority": 5, "divisible": True},
    ),
    (
        5,
        "PolicySplit",
        "tx_123456789",
        "A",
        None,
        40,
        {"child_ids": ["tx_123456789.1", "tx_123456789.255"]},
    ),
    (5, "PolicyDrop", "tx_123456789.1", "A", None, 20, {}),
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


def _text_events() -> pa.Table:
    rows = [
        {
            "seq": seq,
            "tick": tick,
            "day": 0,
            "event_type": kind,
            "tx_id": tx,
            "agent_id": ag,
            "counterparty_id": cp,
            "amount": amt,
            "details": json.dumps(details),
        }
        for seq, (tick, kind, tx, ag, cp, amt, details) in enumerate(EVENTS)
    ]
    return pa.Table.from_pylist(rows, schema=EVENT_SCHEMA)


@pytest.fixture
def store(tmp_path: Path) -> paysim.store.Store:
    st = paysim.store.open(tmp_path / "d.duckdb", write=True)
    # The run's row: the views find a run's agents through it.
    st.execute(
        "INSERT INTO simulations (simulation_id, status, started_at, updated_at, config_json, "
        "config_hash, seed, ticks_per_day, days, total_ticks, start_tick, ticks_done, days_done, "
        "event_count, overrides, paysim_version, engine_version, writer_pid, run_info) VALUES "
        "(?, 'completed', now()::TIMESTAMP, now()::TIMESTAMP, '{}', '', 1, 10, 1, 10, 0, 10, 1, "
        "0, '{}', '', '', 0, '{}')",
        [SID],
    )
    for position, agent in enumerate(AGENTS):
        st.execute(
            "INSERT INTO agents VALUES (?, ?, ?, 0, 0, 0, 0.0, 0, NULL, NULL, '{}')",
            [SID, agent, position],
        )
    shapes = _core.DetailShapes(list(range(len(AGENTS))))
    st.connection.register("stored", stored_from_text(_text_events(), AGENTS, shapes))
    st.connection.register("shapes", shapes_table(shapes.take_new()))
    st.execute("INSERT INTO event_rows SELECT ?, * FROM stored", [run_key(SID)])
    st.execute("INSERT INTO event_shapes SELECT ?, ?, * FROM shapes", [SID, run_key(SID)])
    return st


def test_events_view_gives_back_the_text(store: paysim.store.Store) -> None:
    shown = store.sql(
        "SELECT * EXCLUDE (simulation_id) FROM events WHERE simulation_id = ? ORDER BY seq", [SID]
    )
    assert shown.cast(EVENT_SCHEMA).to_pylist() == _text_events().to_pylist()
    key = store.rows(
        "SELECT seq, tx_key FROM event_data WHERE tx_key = paysim_tx_key('tx_123456789.1')"
    )
    assert [(r["seq"], r["tx_key"]) for r in key] == [(21, 123_456_789 << 8 | 1)]
    rendered = store.rows(
        "SELECT paysim_tx_id(k::UBIGINT) AS id FROM (VALUES (10752), (10755), "
        "(31604938239), (NULL)) AS t(k)"
    )
    assert [r["id"] for r in rendered] == [
        "tx_00000042",
        "tx_00000042.3",
        "tx_123456789.255",
        None,
    ]
    odd = store.rows(
        "SELECT paysim_tx_key(t) AS k FROM (VALUES ('tx1'), ('tx_00000001.0'), "
        "('tx_00000001.256'), ('tx_0000001'), ('TX_00000001')) AS v(t)"
    )
    assert [r["k"] for r in odd] == [None] * 5


def test_balances_per_tick_by_hand(store: paysim.store.Store) -> None:
    con = store.connection
    derive.agent_tick_metrics(con, SID, 0, 0, 10, [("A", 1000), ("B", 500)])
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
    rows = store.rows("SELECT * FROM payments ORDER BY tx_id")
    got = {
        r["tx_id"]: (r["status"], r["pieces"], r["settled_tick"], r["dropped_tick"],
                     r["overdue_tick"], r["delay_ticks"])
        for r in rows
    }  # fmt: skip
    assert got == {
        "tx_00000001": ("settled", 1, 1, None, None, 0),
        # pieces: one settled at 2, one overdue at 4 then settled at 4, one dropped at 4
        "tx_00000002": ("dropped", 3, None, 4, 4, None),
        "tx_00000003": ("dropped", 1, None, 4, None, None),
        "tx_00000004": ("unsettled", 1, None, None, None, None),
        # a dropped piece while the other is still queued: the family is not finished
        "tx_123456789": ("unsettled", 2, None, None, None, None),
    }
    tx2 = next(r for r in rows if r["tx_id"] == "tx_00000002")
    assert (tx2["sender_id"], tx2["receiver_id"], tx2["amount"], tx2["arrival_tick"]) == (
        "B",
        "A",
        900,
        2,
    )
    assert (tx2["deadline_tick"], tx2["priority"], tx2["divisible"]) == (3, 7, True)
    assert (tx2["rtgs_priority"], tx2["source"]) == ("Normal", "generated")


def test_run_keys_are_the_same_in_python_and_sql(store: paysim.store.Store) -> None:
    """``event_rows`` holds a run's key, computed by the writer in Python and by migrations and
    users in SQL (``paysim_run_key``): the two must agree for any id."""
    ids = [SID, "", "01a2493d-f821-72a3-8171-e7f63aee70b7", "ü-run 'quoted'", "x" * 300]
    for sid in ids:
        got = store.rows("SELECT paysim_run_key(?) AS k", [sid])[0]["k"]
        assert isinstance(got, int)
        assert got == run_key(sid)
        assert 0 <= got < 1 << 60


def test_the_stored_form_puts_back_every_details_text(tmp_path: Path) -> None:
    """A persisted run whose events have many kinds of details (payments split, queued, settled
    by offsetting, costs, collateral): the ``events`` view gives back exactly the text the engine
    exports, while the shapes are far fewer than the events."""
    sim = Simulation(Path("scenarios/crisis.yaml"))
    with paysim.store.open(tmp_path / "r.duckdb", write=True) as st:
        sink = paysim.store.StoreSink(st, sim)
        run_with_sinks(sim, [sink])
        shown = st.sql(
            "SELECT * EXCLUDE (simulation_id) FROM events WHERE simulation_id = ? ORDER BY seq",
            [sink.simulation_id],
        )
        shapes = st.rows(
            "SELECT count(*) AS n, count(DISTINCT event_type) AS kinds FROM event_shapes "
            "WHERE simulation_id = ?",
            [sink.simulation_id],
        )[0]
    replay = Simulation(Path("scenarios/crisis.yaml"))
    replay.run()
    engine = events_table(replay._engine)
    assert shown.num_rows == engine.num_rows > 1000
    assert shown.cast(EVENT_SCHEMA).to_pylist() == engine.to_pylist()
    kinds, n = shapes["kinds"], shapes["n"]
    assert isinstance(kinds, int) and isinstance(n, int)
    assert kinds >= 10 and n < engine.num_rows / 10, shapes


def test_a_details_text_with_a_nul_is_refused() -> None:
    events = _text_events()
    details = events["details"].to_pylist()
    details[3] = '{"reason":"a\x00b"}'
    bad = events.set_column(8, "details", pa.array(details, pa.utf8()))
    with pytest.raises(StoreError, match="NUL"):
        stored_from_text(bad, AGENTS, _core.DetailShapes(list(range(len(AGENTS)))))


def test_a_run_whose_key_is_taken_is_refused_and_writes_nothing(tmp_path: Path) -> None:
    """Two runs under one run key would mix their events: the writer refuses the second (made
    here by hand: a real clash has a chance of about n² / 2⁶¹)."""
    sim = Simulation(Path("scenarios/demo.yaml"))
    sim.simulation_id = "new-run"
    with paysim.store.open(tmp_path / "k.duckdb", write=True) as st:
        st.execute(
            "INSERT INTO event_shapes VALUES ('older-run', ?, 0, 'Arrival', ['{}'])",
            [run_key("new-run")],
        )
        sink = paysim.store.StoreSink(st, sim)
        with pytest.raises(StoreError, match="has the run key of run older-run"):
            sink.open({})
        assert st.rows("SELECT count(*) AS n FROM simulations")[0]["n"] == 0
