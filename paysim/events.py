"""Events of a run as a ``pyarrow.Table`` (the columns of ``paysim run --format events``).

The engine exports Arrow-layout buffers (offsets, data, validity bitmaps); this module wraps
them without copying values one by one, so draining millions of events stays cheap.

:func:`stored_events_table` is the store's export: the same rows with the ids as the numbers
the engine holds (payment key, agent positions) and the details as a shape (event type and
details template, numbered by a ``_core.DetailShapes``) plus the integers left out of it, which
are much cheaper to write to a database than millions of strings. ``paysim.store`` renders them
back to the text of :data:`EVENT_SCHEMA` when a run is read. :func:`coded_events_table` is the
same rows with the details text and the event type code (the form of store schema 3).
:func:`tick_aggregates` gives the per-tick counts and the per-tick, per-agent balance movements
of a range of events (ENGINE.md §12.2), which the store keeps as its per-tick tables.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import pyarrow as pa

from paysim import _core

EVENT_SCHEMA = pa.schema(
    [
        pa.field("seq", pa.int64(), nullable=False),
        pa.field("tick", pa.int64(), nullable=False),
        pa.field("day", pa.int64(), nullable=False),
        pa.field("event_type", pa.utf8(), nullable=False),
        pa.field("tx_id", pa.utf8()),
        pa.field("agent_id", pa.utf8()),
        pa.field("counterparty_id", pa.utf8()),
        pa.field("amount", pa.int64()),
        pa.field("details", pa.utf8(), nullable=False),
    ]
)

CODED_EVENT_SCHEMA = pa.schema(
    [
        pa.field("seq", pa.int64(), nullable=False),
        pa.field("tick", pa.int64(), nullable=False),
        pa.field("day", pa.int64(), nullable=False),
        # The catalogue name, dictionary-encoded by its code (a position in event_types()).
        pa.field("event_type", pa.dictionary(pa.uint8(), pa.utf8()), nullable=False),
        # tx_id of ENGINE.md §4.1: "tx_" + (key >> 8) zero-padded to 8 digits, and
        # "." + (key & 255) for a split piece when that is not 0.
        pa.field("tx_key", pa.uint64()),
        # Positions in the engine's agent list (Engine.agent_ids(): sorted by id).
        pa.field("agent_index", pa.int32()),
        pa.field("counterparty_index", pa.int32()),
        pa.field("amount", pa.int64()),
        pa.field("details", pa.utf8(), nullable=False),
    ]
)
"""The columns of :func:`coded_events_table`."""

STORED_EVENT_SCHEMA = pa.schema(
    [
        pa.field("seq", pa.int64(), nullable=False),
        pa.field("tick", pa.int64(), nullable=False),
        pa.field("day", pa.int64(), nullable=False),
        # A number in the run's _core.DetailShapes: the event type and the details template.
        pa.field("shape", pa.int32(), nullable=False),
        pa.field("tx_key", pa.uint64()),
        # Positions in the store's agent order (the DetailShapes' positions).
        pa.field("agent_index", pa.int32()),
        pa.field("counterparty_index", pa.int32()),
        pa.field("amount", pa.int64()),
        # The details' integers left out of the template, in order (null when unused).
        pa.field("n0", pa.int64()),
        pa.field("n1", pa.int64()),
        pa.field("n2", pa.int64()),
    ]
)
"""The columns of :func:`stored_events_table`."""

TICK_COUNTS_SCHEMA = pa.schema(
    [
        pa.field(name, pa.int64(), nullable=False)
        for name in (
            "tick",
            "arrivals",
            "settlements",
            "settled_value",
            "lsm_settled",
            "overdue",
            "dropped",
            "cost",
            "events",
        )
    ]
)
"""Per tick that has events: its counts (:func:`tick_aggregates`)."""

BALANCE_MOVES_SCHEMA = pa.schema(
    [
        pa.field("tick", pa.int64(), nullable=False),
        pa.field("agent_index", pa.int32(), nullable=False),
        pa.field("outflow", pa.int64(), nullable=False),
        pa.field("inflow", pa.int64(), nullable=False),
        pa.field("balance", pa.int64(), nullable=False),
        pa.field("cost", pa.int64(), nullable=False),
    ]
)
"""Per tick and agent whose balance moved or that was charged (:func:`tick_aggregates`)."""

_Buffers = tuple[bytes, bytes | None, bytes | None, int]


@cache
def _type_names() -> pa.Array:
    return pa.array(_core.event_types(), pa.utf8())


def _table(
    schema: pa.Schema,
    export: Callable[[int, int | None], tuple[int, list[tuple[str, _Buffers]]]],
    since_seq: int,
    max_rows: int | None,
) -> pa.Table:
    length, columns = export(since_seq, max_rows)
    return _wrap(schema, length, columns)


def _wrap(schema: pa.Schema, length: int, columns: list[tuple[str, _Buffers]]) -> pa.Table:
    arrays = []
    for field, (name, (data, validity, offsets, null_count)) in zip(schema, columns, strict=True):
        assert field.name == name
        valid_buf = pa.py_buffer(validity) if validity is not None else None
        if pa.types.is_dictionary(field.type):
            codes = pa.Array.from_buffers(
                field.type.index_type, length, [valid_buf, pa.py_buffer(data)], null_count
            )
            arrays.append(pa.DictionaryArray.from_arrays(codes, _type_names()))
            continue
        if offsets is None:
            buffers = [valid_buf, pa.py_buffer(data)]
        else:
            buffers = [valid_buf, pa.py_buffer(offsets), pa.py_buffer(data)]
        arrays.append(pa.Array.from_buffers(field.type, length, buffers, null_count=null_count))
    return pa.Table.from_arrays(arrays, schema=schema)


def events_table(engine: _core.Engine, since_seq: int = 0, max_rows: int | None = None) -> pa.Table:
    """Retained events with ``seq >= since_seq`` (at most ``max_rows``) as a table."""
    return _table(EVENT_SCHEMA, engine.events_buffers, since_seq, max_rows)


def coded_events_table(
    engine: _core.Engine, since_seq: int = 0, max_rows: int | None = None
) -> pa.Table:
    """The rows of :func:`events_table` with their ids as numbers
    (:data:`CODED_EVENT_SCHEMA`)."""
    return _table(CODED_EVENT_SCHEMA, engine.coded_events_buffers, since_seq, max_rows)


def stored_events_table(
    engine: _core.Engine,
    shapes: _core.DetailShapes,
    since_seq: int = 0,
    max_rows: int | None = None,
) -> pa.Table:
    """The rows of :func:`events_table` in the store's compact form
    (:data:`STORED_EVENT_SCHEMA`): each row's details are its shape's template (see
    ``shapes.take_new()``) with the NUL marks replaced by ``n0``, ``n1``, ``n2`` in turn."""
    return _table(
        STORED_EVENT_SCHEMA,
        lambda since, rows: engine.stored_events_buffers(shapes, since, rows),
        since_seq,
        max_rows,
    )


def tick_aggregates(
    engine: _core.Engine, since_seq: int, until_seq: int, balances: list[int]
) -> tuple[pa.Table, pa.Table, list[int]]:
    """Per-tick counts (:data:`TICK_COUNTS_SCHEMA`) and per-tick, per-agent balance movements
    (:data:`BALANCE_MOVES_SCHEMA`) of the events with seqs in ``[since_seq, until_seq)`` (ask
    for whole ticks), and the agents' balances at the end of that range, given ``balances``
    (by agent index) at its start."""
    n_counts, counts, n_moves, moves, closing = engine.tick_aggregates(
        since_seq, until_seq, balances
    )
    return (
        _wrap(TICK_COUNTS_SCHEMA, n_counts, counts),
        _wrap(BALANCE_MOVES_SCHEMA, n_moves, moves),
        closing,
    )
