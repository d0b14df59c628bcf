"""Tables derived from a run's events with SQL, inside the transaction that stores them.

* :func:`tick_metrics` and :func:`agent_tick_metrics` run once per day, over that day's events,
  so a report reads small aggregates instead of millions of events.
* :func:`min_balances` gives each bank's lowest end-of-tick balance of the day (from
  ``agent_tick_metrics``) for ``daily_agent_metrics``.
* :func:`payments` runs when a run ends (completed, failed, or found interrupted): one row per
  original payment, split pieces folded into their payment, with the run summary's definitions
  of settled, dropped and unsettled (INTERFACES.md §1).

Balances are rebuilt as ENGINE.md §12.2 says: the opening balance, plus liquidity brought in,
minus liquidity returned, minus what the bank paid and plus what it received through settlement
events (RTGS, queue releases, offsets) and the scenario's direct transfers and settled scheduled
settlements.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

SETTLEMENT_TYPES = ("RtgsImmediateSettlement", "Queue2LiquidityRelease", "OffsetSettlement")
_SETTLED = ", ".join(f"'{t}'" for t in SETTLEMENT_TYPES)

_TICK_METRICS = f"""
INSERT INTO tick_metrics (simulation_id, tick, day, arrivals, settlements, settled_value,
                          lsm_settled, overdue, dropped, cost, events)
WITH agg AS (
    SELECT tick,
           count(*) FILTER (WHERE event_type = 'Arrival') AS arrivals,
           count(*) FILTER (WHERE event_type IN ({_SETTLED})) AS settlements,
           coalesce(sum(amount) FILTER (WHERE event_type IN ({_SETTLED})), 0) AS settled_value,
           count(*) FILTER (WHERE event_type = 'OffsetSettlement') AS lsm_settled,
           count(*) FILTER (WHERE event_type = 'TransactionWentOverdue') AS overdue,
           count(*) FILTER (WHERE event_type = 'PolicyDrop') AS dropped,
           coalesce(sum(amount) FILTER (WHERE event_type = 'CostAccrual'), 0) AS cost,
           count(*) AS events
    FROM events
    WHERE simulation_id = $sid AND tick >= $t0 AND tick < $t1
    GROUP BY tick
)
SELECT $sid, r.tick, $day, coalesce(a.arrivals, 0), coalesce(a.settlements, 0),
       coalesce(a.settled_value, 0), coalesce(a.lsm_settled, 0), coalesce(a.overdue, 0),
       coalesce(a.dropped, 0), coalesce(a.cost, 0), coalesce(a.events, 0)
FROM range($t0, $t1) AS r(tick) LEFT JOIN agg AS a ON a.tick = r.tick
ORDER BY r.tick
"""

_AGENT_TICK_METRICS = f"""
INSERT INTO agent_tick_metrics (simulation_id, agent_id, tick, day, outflow, inflow, balance, cost)
WITH ev AS (
    SELECT tick, event_type, agent_id, counterparty_id, amount
    FROM events
    WHERE simulation_id = $sid AND tick >= $t0 AND tick < $t1
      AND event_type IN ({_SETTLED}, 'LiquidityAllocation', 'LiquidityReturn', 'CostAccrual')
),
transfers AS (
    SELECT tick, agent_id AS payer, counterparty_id AS payee, amount FROM ev
    WHERE event_type IN ({_SETTLED})
    UNION ALL
    -- Scenario transfers: the only rows whose details are read.
    SELECT tick, agent_id, counterparty_id, amount FROM events
    WHERE simulation_id = $sid AND tick >= $t0 AND tick < $t1
      AND event_type = 'ScenarioEventExecuted'
      AND (details->>'event_type' = 'DirectTransfer'
           OR (details->>'event_type' = 'ScheduledSettlement'
               AND coalesce(TRY_CAST(details->>'settled' AS BOOLEAN), FALSE)))
),
moves AS (
    SELECT payer AS agent_id, tick, amount AS outflow, 0 AS inflow, 0 AS cost FROM transfers
    UNION ALL SELECT payee, tick, 0, amount, 0 FROM transfers
    UNION ALL SELECT agent_id, tick, 0, amount, 0 FROM ev WHERE event_type = 'LiquidityAllocation'
    UNION ALL SELECT agent_id, tick, amount, 0, 0 FROM ev WHERE event_type = 'LiquidityReturn'
    UNION ALL SELECT agent_id, tick, 0, 0, amount FROM ev WHERE event_type = 'CostAccrual'
),
per_tick AS (
    SELECT agent_id, tick, sum(outflow) AS outflow, sum(inflow) AS inflow, sum(cost) AS cost
    FROM moves GROUP BY agent_id, tick
)
SELECT $sid, p.agent_id, p.tick, $day, p.outflow, p.inflow,
       o.opening_balance + sum(p.inflow - p.outflow)
           OVER (PARTITION BY p.agent_id ORDER BY p.tick ROWS UNBOUNDED PRECEDING),
       p.cost
FROM per_tick AS p JOIN {{opening}} AS o ON o.agent_id = p.agent_id
"""

_MIN_BALANCES = """
SELECT agent_id, min(balance) AS low FROM agent_tick_metrics
WHERE simulation_id = $sid AND day = $day GROUP BY agent_id
"""

_PAYMENTS = f"""
INSERT INTO payments (simulation_id, tx_id, sender_id, receiver_id, amount, arrival_tick,
                      deadline_tick, priority, divisible, rtgs_priority, source, status, pieces,
                      settled_tick, dropped_tick, overdue_tick, delay_ticks)
WITH arrivals AS (
    SELECT tx_id, agent_id AS sender_id, counterparty_id AS receiver_id, amount,
           tick AS arrival_tick,
           from_json(details, '{{"deadline_tick": "BIGINT", "priority": "INTEGER",
                                 "divisible": "BOOLEAN", "rtgs_priority": "VARCHAR",
                                 "source": "VARCHAR"}}') AS d
    FROM events WHERE simulation_id = $sid AND event_type = 'Arrival'
),
fates AS (
    SELECT tx_id,
           min(tick) FILTER (WHERE event_type <> 'PolicyDrop'
                             AND event_type <> 'TransactionWentOverdue') AS settled_at,
           min(tick) FILTER (WHERE event_type = 'PolicyDrop') AS dropped_at,
           min(tick) FILTER (WHERE event_type = 'TransactionWentOverdue') AS overdue_at
    FROM events
    WHERE simulation_id = $sid
      AND event_type IN ('PolicyDrop', 'TransactionWentOverdue', {_SETTLED})
    GROUP BY tx_id
),
pieces AS (
    SELECT tx_id AS root, unnest(from_json(details->'child_ids', '["VARCHAR"]')) AS piece
    FROM events WHERE simulation_id = $sid AND event_type = 'PolicySplit'
),
families AS (
    SELECT p.root, count(*) AS pieces, count(f.settled_at) AS n_settled,
           count(f.dropped_at) AS n_dropped, max(f.settled_at) AS last_settled,
           min(f.dropped_at) AS first_dropped, min(f.overdue_at) AS piece_overdue
    FROM pieces AS p LEFT JOIN fates AS f ON f.tx_id = p.piece
    GROUP BY p.root
),
states AS (
    SELECT a.*, coalesce(fa.pieces, 1) AS pieces,
           least(o.overdue_at, fa.piece_overdue) AS overdue_tick,
           CASE WHEN fa.root IS NULL THEN o.settled_at ELSE fa.last_settled END AS settled,
           CASE WHEN fa.root IS NULL THEN o.dropped_at ELSE fa.first_dropped END AS dropped,
           CASE WHEN fa.root IS NULL
                THEN (CASE WHEN o.settled_at IS NOT NULL THEN 'settled'
                           WHEN o.dropped_at IS NOT NULL THEN 'dropped' ELSE 'unsettled' END)
                WHEN fa.n_settled + fa.n_dropped < fa.pieces THEN 'unsettled'
                WHEN fa.n_dropped = 0 THEN 'settled' ELSE 'dropped' END AS status
    FROM arrivals AS a
    LEFT JOIN fates AS o ON o.tx_id = a.tx_id
    LEFT JOIN families AS fa ON fa.root = a.tx_id
)
SELECT $sid, tx_id, sender_id, receiver_id, amount, arrival_tick, d.deadline_tick, d.priority,
       coalesce(d.divisible, FALSE), coalesce(d.rtgs_priority, 'Normal'),
       coalesce(d.source, 'generated'), status, pieces,
       CASE WHEN status = 'settled' THEN settled END,
       CASE WHEN status = 'dropped' THEN dropped END,
       overdue_tick,
       CASE WHEN status = 'settled' THEN settled - arrival_tick END
FROM states
"""


def tick_metrics(con: duckdb.DuckDBPyConnection, sid: str, day: int, t0: int, t1: int) -> None:
    """One ``tick_metrics`` row per tick of ``[t0, t1)``."""
    con.execute(_TICK_METRICS, {"sid": sid, "day": day, "t0": t0, "t1": t1})


def agent_tick_metrics(
    con: duckdb.DuckDBPyConnection,
    sid: str,
    day: int,
    t0: int,
    t1: int,
    opening: dict[str, int],
) -> None:
    """``agent_tick_metrics`` rows of ``[t0, t1)``; ``opening`` is each bank's balance when the
    day opened."""
    name = f"_paysim_opening_{day}"
    table = pa.table(
        {
            "agent_id": pa.array(list(opening), pa.utf8()),
            "opening_balance": pa.array(list(opening.values()), pa.int64()),
        }
    )
    con.register(name, table)
    try:
        con.execute(
            _AGENT_TICK_METRICS.format(opening=name), {"sid": sid, "day": day, "t0": t0, "t1": t1}
        )
    finally:
        con.unregister(name)


def min_balances(con: duckdb.DuckDBPyConnection, sid: str, day: int) -> dict[str, int]:
    """Each bank's lowest end-of-tick balance of ``day`` (banks whose balance never moved are
    absent)."""
    rows = con.execute(_MIN_BALANCES, {"sid": sid, "day": day}).fetchall()
    return {str(agent): int(low) for agent, low in rows}


def payments(con: duckdb.DuckDBPyConnection, sid: str) -> None:
    """(Re)builds the ``payments`` rows of a run from its stored events."""
    con.execute("DELETE FROM payments WHERE simulation_id = ?", [sid])
    con.execute(_PAYMENTS, {"sid": sid})
