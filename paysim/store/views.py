"""SQL of the ``events`` and ``payments`` views over the stored ``event_data`` (schema 3).

Storing millions of events is dominated by their id strings: DuckDB appends a run's events
about 40% faster when the payment id is its number and the agents are their positions in the
run (``event_data``), so that is what the store writes. The ``events`` view gives them back as
the text users see (ENGINE.md §12, ``paysim run --format events``):

* ``tx_id`` is rendered by :data:`TX_ID_MACRO` exactly as the engine renders a payment id
  (ENGINE.md §4.1): ``tx_`` + the payment number zero-padded to 8 digits (wider when needed),
  then ``.i`` for the ``i``-th piece of a split;
* ``agent_id`` and ``counterparty_id`` come from the run's ``agents`` rows (``position``);
* every other column is stored as it is shown (``event_type`` is a ``VARCHAR``: DuckDB stores a
  column of a few distinct strings as cheaply as a code).

``payments`` (:data:`PAYMENTS_VIEW`) is computed from the events when it is read: building it at
the end of every run cost as much as storing the run's events a second time.

:data:`TX_KEY_MACRO` is the inverse, for looking payments up in ``event_data`` directly
(``WHERE tx_key = paysim_tx_key('tx_00012345')``: a number comparison instead of rendering
every id). The statements here belong to migration 3 and must not change once released: a later
layout gets a migration of its own.
"""

from __future__ import annotations


class RowStep(str):
    """A migration statement that only moves or checks rows of the tables an earlier version
    made. On a database the migrations are creating (no earlier version, so no rows) it has
    nothing to do, and :func:`paysim.store.migrations.migrate` skips it: it changes no table,
    view or macro, so a fresh file and an upgraded one still end with the same schema."""

    __slots__ = ()


TX_ID_MACRO = """
CREATE OR REPLACE MACRO paysim_tx_id(tx_key) AS
CASE WHEN tx_key IS NULL THEN NULL
     ELSE 'tx_' || printf('%08d', tx_key >> 8)
          || CASE WHEN (tx_key & 255) > 0 THEN '.' || (tx_key & 255)::VARCHAR ELSE '' END
END
"""

TX_KEY_MACRO = r"""
CREATE OR REPLACE MACRO paysim_tx_key(tx_id) AS
CASE WHEN regexp_full_match(tx_id, '^tx_[0-9]{8,17}(\.[1-9][0-9]{0,2})?$')
      AND TRY_CAST(regexp_extract(tx_id, '^tx_([0-9]+)', 1) AS UBIGINT) < 72057594037927936
      AND coalesce(TRY_CAST(nullif(regexp_extract(tx_id, '\.([0-9]+)$', 1), '') AS UBIGINT), 0)
          <= 255
     THEN (TRY_CAST(regexp_extract(tx_id, '^tx_([0-9]+)', 1) AS UBIGINT) << 8)
          | coalesce(TRY_CAST(nullif(regexp_extract(tx_id, '\.([0-9]+)$', 1), '') AS UBIGINT), 0)
END
"""

EVENTS_VIEW = """
CREATE OR REPLACE VIEW events AS
SELECT e.simulation_id, e.seq, e.tick, e.day, e.event_type,
       paysim_tx_id(e.tx_key) AS tx_id,
       a.agent_id, c.agent_id AS counterparty_id,
       e.amount, e.details
FROM event_data AS e
LEFT JOIN agents AS a ON a.simulation_id = e.simulation_id AND a.position = e.agent_index
LEFT JOIN agents AS c ON c.simulation_id = e.simulation_id AND c.position = e.counterparty_index
"""

_SETTLED = "'RtgsImmediateSettlement', 'Queue2LiquidityRelease', 'OffsetSettlement'"

# One row per original payment of every run, with its state at the end of the run's stored
# days: the definitions of the run summary (INTERFACES.md §1); split pieces fold into their
# payment. A view rather than a table: it costs nothing to keep, and it is always the state of
# the stored events (a run's complete days), whatever happened to the run.
PAYMENTS_VIEW = f"""
CREATE OR REPLACE VIEW payments AS
WITH arrivals AS (
    SELECT simulation_id, tx_key, agent_index AS sender, counterparty_index AS receiver, amount,
           tick AS arrival_tick,
           from_json(details, '{{"deadline_tick": "BIGINT", "priority": "INTEGER",
                                 "divisible": "BOOLEAN", "rtgs_priority": "VARCHAR",
                                 "source": "VARCHAR"}}') AS d
    FROM event_data WHERE event_type = 'Arrival'
),
fates AS (
    SELECT simulation_id, tx_key,
           min(tick) FILTER (WHERE event_type <> 'PolicyDrop'
                             AND event_type <> 'TransactionWentOverdue') AS settled_at,
           min(tick) FILTER (WHERE event_type = 'PolicyDrop') AS dropped_at,
           min(tick) FILTER (WHERE event_type = 'TransactionWentOverdue') AS overdue_at
    FROM event_data
    WHERE event_type IN ('PolicyDrop', 'TransactionWentOverdue', {_SETTLED})
    GROUP BY simulation_id, tx_key
),
pieces AS (
    SELECT simulation_id, root, paysim_tx_key(piece) AS piece FROM (
        SELECT simulation_id, tx_key AS root,
               unnest(from_json(details->'child_ids', '["VARCHAR"]')) AS piece
        FROM event_data WHERE event_type = 'PolicySplit')
),
families AS (
    SELECT p.simulation_id, p.root, count(*) AS pieces, count(f.settled_at) AS n_settled,
           count(f.dropped_at) AS n_dropped, max(f.settled_at) AS last_settled,
           min(f.dropped_at) AS first_dropped, min(f.overdue_at) AS piece_overdue
    FROM pieces AS p
    LEFT JOIN fates AS f ON f.simulation_id = p.simulation_id AND f.tx_key = p.piece
    GROUP BY p.simulation_id, p.root
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
    LEFT JOIN fates AS o ON o.simulation_id = a.simulation_id AND o.tx_key = a.tx_key
    LEFT JOIN families AS fa ON fa.simulation_id = a.simulation_id AND fa.root = a.tx_key
)
SELECT s.simulation_id, paysim_tx_id(s.tx_key) AS tx_id, snd.agent_id AS sender_id,
       rcv.agent_id AS receiver_id, s.amount, s.arrival_tick,
       s.d.deadline_tick AS deadline_tick, s.d.priority AS priority,
       coalesce(s.d.divisible, FALSE) AS divisible,
       coalesce(s.d.rtgs_priority, 'Normal') AS rtgs_priority,
       coalesce(s.d.source, 'generated') AS source, s.status, s.pieces::INTEGER AS pieces,
       CASE WHEN s.status = 'settled' THEN s.settled END AS settled_tick,
       CASE WHEN s.status = 'dropped' THEN s.dropped END AS dropped_tick,
       s.overdue_tick,
       CASE WHEN s.status = 'settled' THEN s.settled - s.arrival_tick END AS delay_ticks
FROM states AS s
LEFT JOIN agents AS snd ON snd.simulation_id = s.simulation_id AND snd.position = s.sender
LEFT JOIN agents AS rcv ON rcv.simulation_id = s.simulation_id AND rcv.position = s.receiver
"""

_CONVERT_EVENTS = """
INSERT INTO event_data (simulation_id, seq, tick, day, event_type, tx_key, agent_index,
                        counterparty_index, amount, details)
SELECT e.simulation_id, e.seq, e.tick, e.day, e.event_type, paysim_tx_key(e.tx_id),
       a.position, c.position, e.amount, e.details
FROM events_v2 AS e
LEFT JOIN agents AS a ON a.simulation_id = e.simulation_id AND a.agent_id = e.agent_id
LEFT JOIN agents AS c ON c.simulation_id = e.simulation_id AND c.agent_id = e.counterparty_id
ORDER BY e.simulation_id, e.seq
"""

# Nothing is dropped unless the view gives back every stored row exactly (a payment id the
# engine could not have written, or an agent missing from its run, stops the migration and
# leaves the file as it was).
_CHECK_CONVERSION = """
SELECT CASE WHEN count(*) > 0
            THEN error('events of schema version 2 that version 3 cannot store exactly: '
                       || count(*) || ' rows (the file was left as it was)')
       END
FROM ((SELECT simulation_id, seq, tick, day, event_type, tx_id, agent_id, counterparty_id,
              amount, details FROM events_v2
       EXCEPT ALL SELECT * FROM events)
      UNION ALL
      (SELECT * FROM events
       EXCEPT ALL SELECT simulation_id, seq, tick, day, event_type, tx_id, agent_id,
                         counterparty_id, amount, details FROM events_v2))
"""

_PAYMENT_COLUMNS = (
    "simulation_id, tx_id, sender_id, receiver_id, amount, arrival_tick, deadline_tick, "
    "priority, divisible, rtgs_priority, source, status, pieces, settled_tick, dropped_tick, "
    "overdue_tick, delay_ticks"
)

# The payments table of versions 1 and 2 was built from the same events by the same rules: the view
# must give back each of its rows (a run found interrupted by no writer yet has none).
_CHECK_PAYMENTS = f"""
SELECT CASE WHEN count(*) > 0
            THEN error('payments of schema version 2 that the version 3 view does not give: '
                       || count(*) || ' rows (the file was left as it was)')
       END
FROM (SELECT {_PAYMENT_COLUMNS} FROM payments_v2
      EXCEPT ALL SELECT {_PAYMENT_COLUMNS} FROM payments)
"""

MIGRATION_3: tuple[str, ...] = (
    TX_ID_MACRO,
    TX_KEY_MACRO,
    "ALTER TABLE events RENAME TO events_v2",
    RowStep(_CONVERT_EVENTS),
    EVENTS_VIEW,
    RowStep(_CHECK_CONVERSION),
    "DROP TABLE events_v2",
    "ALTER TABLE payments RENAME TO payments_v2",
    PAYMENTS_VIEW,
    RowStep(_CHECK_PAYMENTS),
    "DROP TABLE payments_v2",
)
"""Migration 3 after its generated DDL (which creates ``event_data``): the macros, the events
of version 2 moved into ``event_data``, the ``events`` view, the check; the ``payments`` table
replaced by a view that gives the same rows, checked likewise; the old tables dropped."""

# -- schema version 4 ------------------------------------------------------------------------

RUN_KEY_MACRO = """
CREATE OR REPLACE MACRO paysim_run_key(simulation_id) AS
('0x' || left(sha256(simulation_id), 15))::BIGINT
"""
"""The number ``event_rows`` stores a run's events under (:func:`paysim.store.ids.run_key`)."""

DETAILS_MACRO = """
CREATE OR REPLACE MACRO paysim_details(parts, n0, n1, n2) AS
concat(parts[1], n0::VARCHAR, parts[2], n1::VARCHAR, parts[3], n2::VARCHAR, parts[4])
"""
"""An event's details text from its shape's ``parts`` and its left-out integers (``concat``
skips the nulls of the parts and integers a shape does not use)."""

EVENT_DATA_VIEW = """
CREATE OR REPLACE VIEW event_data AS
SELECT s.simulation_id, r.seq, r.tick, r.day, s.event_type, r.tx_key, r.agent_index,
       r.counterparty_index, r.amount, paysim_details(s.parts, r.n0, r.n1, r.n2) AS details
FROM event_rows AS r
JOIN event_shapes AS s ON s.run_key = r.run_key AND s.shape = r.shape
"""
"""Version 4: ``event_data`` (the table of version 3, same columns) as a view over the stored
``event_rows`` and ``event_shapes``; ``events`` and ``payments`` keep reading it."""

_CONVERT_SHAPES = """
INSERT INTO event_shapes (simulation_id, run_key, shape, event_type, parts)
SELECT simulation_id, paysim_run_key(simulation_id),
       (row_number() OVER (PARTITION BY simulation_id ORDER BY first_seq) - 1)::INTEGER,
       event_type, [details]
FROM (SELECT simulation_id, event_type, details, min(seq) AS first_seq
      FROM event_data_v3 GROUP BY simulation_id, event_type, details)
"""

_CONVERT_ROWS = """
INSERT INTO event_rows (run_key, seq, tick, day, shape, tx_key, agent_index,
                        counterparty_index, amount)
SELECT s.run_key, e.seq, e.tick, e.day, s.shape, e.tx_key, e.agent_index,
       e.counterparty_index, e.amount
FROM event_data_v3 AS e
JOIN event_shapes AS s ON s.simulation_id = e.simulation_id AND s.event_type = e.event_type
                      AND s.parts[1] = e.details
ORDER BY s.run_key, e.seq
"""

# Two runs of one file under one key (a chance of about n² / 2⁶¹) would mix their events: refused.
_CHECK_RUN_KEYS = """
SELECT CASE WHEN count(DISTINCT simulation_id) <> count(DISTINCT run_key)
            THEN error('two runs of this file have the same run key (the file was left as it was)')
       END
FROM event_shapes
"""

_EVENT_COLUMNS = (
    "seq, tick, day, event_type, tx_key, agent_index, counterparty_index, amount, details"
)


def _same_rows(old: str, new: str, columns: str, what: str) -> str:
    """A statement that fails unless ``old`` and ``new`` hold the same rows per run: the same
    count and the same sum of row hashes (a streaming aggregate: it needs memory per run, not
    per row, so a large file migrates in little memory)."""
    digest = f"count(*) AS n, sum(hash({columns})::HUGEINT) AS h"
    return f"""
SELECT CASE WHEN count(*) > 0
            THEN error('{what} that version 4 cannot store exactly, in ' || count(*)
                       || ' run(s) (the file was left as it was)')
       END
FROM ((SELECT simulation_id, {digest} FROM {old} GROUP BY simulation_id
       EXCEPT ALL SELECT simulation_id, {digest} FROM {new} GROUP BY simulation_id)
      UNION ALL
      (SELECT simulation_id, {digest} FROM {new} GROUP BY simulation_id
       EXCEPT ALL SELECT simulation_id, {digest} FROM {old} GROUP BY simulation_id))
"""


_CHECK_EVENT_DATA = _same_rows(
    "event_data_v3", "event_data", _EVENT_COLUMNS, "events of schema version 3"
)

AGENT_TICK_VIEW = """
CREATE OR REPLACE VIEW agent_tick_metrics AS
SELECT m.simulation_id, a.agent_id, r.tick, r.day, r.outflow, r.inflow, r.balance, r.cost
FROM agent_tick_rows AS r
JOIN (SELECT simulation_id, paysim_run_key(simulation_id) AS run_key FROM simulations) AS m
  ON m.run_key = r.run_key
JOIN agents AS a ON a.simulation_id = m.simulation_id AND a.position = r.agent_index
"""
"""Version 4: ``agent_tick_metrics`` (the table of versions 1-3, same columns) as a view over the
stored ``agent_tick_rows``."""

_CONVERT_AGENT_TICKS = """
INSERT INTO agent_tick_rows (run_key, agent_index, tick, day, outflow, inflow, balance, cost)
SELECT paysim_run_key(t.simulation_id), a.position, t.tick, t.day, t.outflow, t.inflow,
       t.balance, t.cost
FROM agent_tick_metrics_v3 AS t
JOIN agents AS a ON a.simulation_id = t.simulation_id AND a.agent_id = t.agent_id
ORDER BY t.simulation_id, t.day, a.position, t.tick
"""

_CHECK_AGENT_TICKS = _same_rows(
    "agent_tick_metrics_v3",
    "agent_tick_metrics",
    "agent_id, tick, day, outflow, inflow, balance, cost",
    "agent_tick_metrics rows",
)

MIGRATION_4: tuple[str, ...] = (
    RUN_KEY_MACRO,
    DETAILS_MACRO,
    "ALTER TABLE event_data RENAME TO event_data_v3",
    RowStep(_CONVERT_SHAPES),
    RowStep(_CHECK_RUN_KEYS),
    RowStep(_CONVERT_ROWS),
    EVENT_DATA_VIEW,
    RowStep(_CHECK_EVENT_DATA),
    "DROP TABLE event_data_v3",
    EVENTS_VIEW,
    PAYMENTS_VIEW,
    "ALTER TABLE agent_tick_metrics RENAME TO agent_tick_metrics_v3",
    RowStep(_CONVERT_AGENT_TICKS),
    AGENT_TICK_VIEW,
    RowStep(_CHECK_AGENT_TICKS),
    "DROP TABLE agent_tick_metrics_v3",
)
"""Migration 4 after its generated DDL (which creates ``event_rows`` and ``event_shapes``): each
distinct details text of a version 3 run becomes one shape with no integer left out, the rows
move into ``event_rows``, ``event_data`` becomes a view giving back exactly the rows it held
(checked), and the ``events`` and ``payments`` views are made again over it; the rows of
``agent_tick_metrics`` move into ``agent_tick_rows`` (run key, bank position) behind a view with
the old columns, checked alike."""
