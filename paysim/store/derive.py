"""The per-tick tables of a day, written in the transaction that stores the day.

``tick_metrics`` (one row per tick) and ``agent_tick_metrics`` (one row per bank per tick in
which its balance moved or it was charged) let a report read thousands of rows instead of
millions of events. Their numbers come from one of two sources with the same definitions:

* the engine's own per-tick aggregates (:func:`paysim.events.tick_aggregates`), computed while
  the events are exported — what a persisted run uses, since it costs nothing on the database;
* SQL over the stored ``event_data`` of the day (:data:`TICK_COUNTS_SQL`, :data:`MOVES_SQL`) —
  for events handed to the store as text, and the reference the tests compare the engine's
  aggregates with.

Balances are rebuilt as ENGINE.md §12.2 says: the opening balance, plus liquidity brought in,
minus liquidity returned, minus what the bank paid and plus what it received through settlement
events (RTGS, queue releases, offsets) and the scenario's direct transfers and settled scheduled
settlements. :func:`min_balances` then gives each bank's lowest end-of-tick balance of the day
for ``daily_agent_metrics``. (``payments`` is a view: :mod:`paysim.store.views`.)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
import pyarrow as pa

from paysim.store.ids import run_key

SETTLEMENT_TYPES = ("RtgsImmediateSettlement", "Queue2LiquidityRelease", "OffsetSettlement")
_SETTLED = ", ".join(f"'{t}'" for t in SETTLEMENT_TYPES)

TICK_COUNTS_SQL = f"""
SELECT tick,
       count(*) FILTER (WHERE event_type = 'Arrival') AS arrivals,
       count(*) FILTER (WHERE event_type IN ({_SETTLED})) AS settlements,
       coalesce(sum(amount) FILTER (WHERE event_type IN ({_SETTLED})), 0) AS settled_value,
       count(*) FILTER (WHERE event_type = 'OffsetSettlement') AS lsm_settled,
       count(*) FILTER (WHERE event_type = 'TransactionWentOverdue') AS overdue,
       count(*) FILTER (WHERE event_type = 'PolicyDrop') AS dropped,
       coalesce(sum(amount) FILTER (WHERE event_type = 'CostAccrual'), 0) AS cost,
       count(*) AS events
FROM event_data
WHERE simulation_id = $sid AND tick >= $t0 AND tick < $t1
GROUP BY tick
"""
"""Per tick that has events of ``[t0, t1)``: the columns of ``TICK_COUNTS_SCHEMA``."""

MOVES_SQL = f"""
WITH ev AS (
    SELECT tick, event_type, agent_index AS agent, counterparty_index AS other, amount
    FROM event_data
    WHERE simulation_id = $sid AND tick >= $t0 AND tick < $t1
      AND event_type IN ({_SETTLED}, 'LiquidityAllocation', 'LiquidityReturn', 'CostAccrual')
),
transfers AS (
    SELECT tick, agent AS payer, other AS payee, amount FROM ev
    WHERE event_type IN ({_SETTLED})
    UNION ALL
    -- Scenario transfers: the only rows whose details are read.
    SELECT tick, agent_index, counterparty_index, amount FROM event_data
    WHERE simulation_id = $sid AND tick >= $t0 AND tick < $t1
      AND event_type = 'ScenarioEventExecuted'
      AND (details->>'event_type' = 'DirectTransfer'
           OR (details->>'event_type' = 'ScheduledSettlement'
               AND coalesce(TRY_CAST(details->>'settled' AS BOOLEAN), FALSE)))
),
moves AS (
    SELECT payer AS agent, tick, amount AS outflow, 0 AS inflow, 0 AS cost FROM transfers
    UNION ALL SELECT payee, tick, 0, amount, 0 FROM transfers
    UNION ALL SELECT agent, tick, 0, amount, 0 FROM ev WHERE event_type = 'LiquidityAllocation'
    UNION ALL SELECT agent, tick, amount, 0, 0 FROM ev WHERE event_type = 'LiquidityReturn'
    UNION ALL SELECT agent, tick, 0, 0, amount FROM ev WHERE event_type = 'CostAccrual'
)
SELECT tick, agent AS agent_index, sum(outflow) AS outflow, sum(inflow) AS inflow,
       sum(cost) AS cost
FROM moves WHERE agent IS NOT NULL GROUP BY agent, tick
"""
"""Per tick and agent of ``[t0, t1)``: the columns of ``BALANCE_MOVES_SCHEMA``."""

_TICK_METRICS = """
INSERT INTO tick_metrics (simulation_id, tick, day, arrivals, settlements, settled_value,
                          lsm_settled, overdue, dropped, cost, events)
WITH agg AS ({counts})
SELECT $sid, r.tick, $day, coalesce(a.arrivals, 0), coalesce(a.settlements, 0),
       coalesce(a.settled_value, 0), coalesce(a.lsm_settled, 0), coalesce(a.overdue, 0),
       coalesce(a.dropped, 0), coalesce(a.cost, 0), coalesce(a.events, 0)
FROM range($t0, $t1) AS r(tick) LEFT JOIN agg AS a ON a.tick = r.tick
ORDER BY r.tick
"""

_AGENT_TICK_METRICS = """
INSERT INTO agent_tick_rows (run_key, agent_index, tick, day, outflow, inflow, balance, cost)
WITH per_tick AS ({moves})
SELECT $key, p.agent_index, p.tick, $day, p.outflow, p.inflow,
       o.opening_balance + sum(p.inflow - p.outflow)
           OVER (PARTITION BY p.agent_index ORDER BY p.tick ROWS UNBOUNDED PRECEDING),
       p.cost
FROM per_tick AS p JOIN {opening} AS o ON o.position = p.agent_index
"""

_AGENT_TICK_ROWS = """
INSERT INTO agent_tick_rows (run_key, agent_index, tick, day, outflow, inflow, balance, cost)
SELECT $key, m.agent_index, m.tick, $day, m.outflow, m.inflow, m.balance, m.cost
FROM {moves} AS m WHERE m.agent_index < $agents
"""

_MIN_BALANCES = """
SELECT a.agent_id, min(r.balance) AS low
FROM agent_tick_rows AS r
JOIN agents AS a ON a.simulation_id = $sid AND a.position = r.agent_index
WHERE r.run_key = $key AND r.day = $day GROUP BY a.agent_id
"""


@contextmanager
def _registered(con: duckdb.DuckDBPyConnection, name: str, data: pa.Table) -> Iterator[str]:
    con.register(name, data)
    try:
        yield name
    finally:
        con.unregister(name)


def tick_metrics(
    con: duckdb.DuckDBPyConnection,
    sid: str,
    day: int,
    t0: int,
    t1: int,
    counts: pa.Table | None = None,
) -> None:
    """One ``tick_metrics`` row per tick of ``[t0, t1)``, from the engine's ``counts`` of those
    ticks (:data:`~paysim.events.TICK_COUNTS_SCHEMA`), or from the stored events."""
    params = {"sid": sid, "day": day, "t0": t0, "t1": t1}
    if counts is None:
        con.execute(_TICK_METRICS.format(counts=TICK_COUNTS_SQL), params)
        return
    with _registered(con, f"_paysim_counts_{day}", counts) as name:
        con.execute(_TICK_METRICS.format(counts=f"SELECT * FROM {name}"), params)


def agent_tick_metrics(
    con: duckdb.DuckDBPyConnection,
    sid: str,
    day: int,
    t0: int,
    t1: int,
    opening: list[tuple[str, int]],
    moves: pa.Table | None = None,
) -> None:
    """``agent_tick_metrics`` rows of ``[t0, t1)``, from the engine's balance ``moves`` of those
    ticks (:data:`~paysim.events.BALANCE_MOVES_SCHEMA`, balances included), or from the stored
    events. ``opening`` is each bank's id and balance when the day opened, in the run's agent
    order (its ``agents.position``)."""
    table = pa.table(
        {
            "position": pa.array(range(len(opening)), pa.int32()),
            "agent_id": pa.array([a for a, _ in opening], pa.utf8()),
            "opening_balance": pa.array([b for _, b in opening], pa.int64()),
        }
    )
    key = run_key(sid)
    if moves is not None:
        with _registered(con, f"_paysim_moves_{day}", moves) as name:
            sql = _AGENT_TICK_ROWS.format(moves=name)
            con.execute(sql, {"key": key, "day": day, "agents": len(opening)})
        return
    params = {"sid": sid, "key": key, "day": day, "t0": t0, "t1": t1}
    with _registered(con, f"_paysim_opening_{day}", table) as opening_name:
        sql = _AGENT_TICK_METRICS.format(moves=MOVES_SQL, opening=opening_name)
        con.execute(sql, params)


def min_balances(con: duckdb.DuckDBPyConnection, sid: str, day: int) -> dict[str, int]:
    """Each bank's lowest end-of-tick balance of ``day`` (banks whose balance never moved are
    absent)."""
    params = {"sid": sid, "key": run_key(sid), "day": day}
    rows = con.execute(_MIN_BALANCES, params).fetchall()
    return {str(agent): int(low) for agent, low in rows}
