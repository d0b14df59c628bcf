"""Events in the stored form (ids as numbers) from the text form users see.

The store sink reads its events from the engine already in the stored form
(:func:`paysim.events.stored_events_table`). Events handed over as text instead, through the
sink protocol's ``write_events`` (a caller driving the sink by hand), are converted here: the
payment id back to its key, each agent id to its position in the run. An id the engine cannot
have written is a :class:`~paysim.exceptions.StoreError`, never a silently wrong row.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc

from paysim import _core
from paysim.events import CODED_EVENT_SCHEMA, STORED_EVENT_SCHEMA
from paysim.exceptions import StoreError

_TX_ID = r"^tx_(?P<root>[0-9]{8,17})(?:\.(?P<child>[1-9][0-9]{0,2}))?$"
_MAX_ROOT = 1 << 56


def _first_bad(values: pa.Array, bad: pa.Array) -> str:
    return str(pc.filter(values, bad)[0].as_py())


def tx_keys(tx_ids: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Payment keys of payment ids (``tx_00000042`` → ``42 << 8``, ``tx_00000042.3`` →
    ``42 << 8 | 3``); nulls stay null."""
    ids = pa.concat_arrays(tx_ids.chunks) if isinstance(tx_ids, pa.ChunkedArray) else tx_ids
    ids = ids.cast(pa.utf8())
    if len(ids) == 0:
        return pa.array([], pa.uint64())
    parts = pc.extract_regex(pc.fill_null(ids, "tx_00000000"), _TX_ID)
    unmatched = pc.and_(pc.is_valid(ids), pc.is_null(parts))
    if pc.any(unmatched).as_py():
        raise StoreError(f"payment id {_first_bad(ids, unmatched)!r} is not an engine payment id")
    root = pc.cast(pc.struct_field(parts, "root"), pa.uint64())
    too_large = pc.fill_null(pc.greater_equal(root, _MAX_ROOT), False)
    if pc.any(too_large).as_py():
        raise StoreError(
            f"payment id {_first_bad(ids, too_large)!r} is not an engine payment id "
            "(its number is too large)"
        )
    child_text = pc.struct_field(parts, "child")
    child = pc.cast(pc.if_else(pc.equal(child_text, ""), "0", child_text), pa.uint64())
    too_many = pc.fill_null(pc.greater(child, 255), False)
    if pc.any(too_many).as_py():
        raise StoreError(
            f"payment id {_first_bad(ids, too_many)!r} is not an engine payment id "
            "(a split piece number above 255)"
        )
    keys = pc.add(pc.shift_left(root, 8), child)
    return pc.if_else(pc.is_valid(ids), keys, pa.scalar(None, pa.uint64()))


def agent_indices(agent_ids: pa.Array | pa.ChunkedArray, agents: Sequence[str]) -> pa.Array:
    """Positions of agent ids among ``agents`` (the run's agents in order); nulls stay null."""
    ids = (
        pa.concat_arrays(agent_ids.chunks) if isinstance(agent_ids, pa.ChunkedArray) else agent_ids
    )
    ids = ids.cast(pa.utf8())
    found = pc.index_in(ids, value_set=pa.array(list(agents), pa.utf8()))
    unknown = pc.and_(pc.is_valid(ids), pc.is_null(found))
    if pc.any(unknown).as_py():
        raise StoreError(f"agent {_first_bad(ids, unknown)!r} is not an agent of this run")
    return found.cast(pa.int32())


def event_codes(event_types: pa.Array | pa.ChunkedArray) -> pa.DictionaryArray:
    """Event type names as the dictionary array of :data:`CODED_EVENT_SCHEMA`."""
    names = pa.array(_core.event_types(), pa.utf8())
    text = event_types
    if isinstance(text, pa.ChunkedArray):
        text = pa.concat_arrays(text.chunks) if text.num_chunks else pa.array([], pa.utf8())
    text = text.cast(pa.utf8())
    codes = pc.index_in(text, value_set=names)
    unknown = pc.is_null(codes)
    if pc.any(unknown).as_py():
        raise StoreError(f"event type {_first_bad(text, unknown)!r} is not in the engine catalogue")
    return pa.DictionaryArray.from_arrays(codes.cast(pa.uint8()), names)


def coded_from_text(batch: pa.RecordBatch | pa.Table, agents: Sequence[str]) -> pa.Table:
    """Events with the columns of ``paysim run --format events`` in the stored form
    (:data:`~paysim.events.CODED_EVENT_SCHEMA`)."""
    table = pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch) else batch
    columns = [
        table["seq"],
        table["tick"],
        table["day"],
        event_codes(table["event_type"]),
        tx_keys(table["tx_id"]),
        agent_indices(table["agent_id"], agents),
        agent_indices(table["counterparty_id"], agents),
        table["amount"],
        table["details"],
    ]
    return pa.Table.from_arrays(columns, schema=CODED_EVENT_SCHEMA)


def stored_from_text(
    batch: pa.RecordBatch | pa.Table, agents: Sequence[str], shapes: _core.DetailShapes
) -> pa.Table:
    """Events with the columns of ``paysim run --format events`` in the store's compact form
    (:data:`~paysim.events.STORED_EVENT_SCHEMA`): each distinct details text of an event type
    becomes a shape of its own in ``shapes``, with no integer left out."""
    coded = coded_from_text(batch, agents)
    codes = coded["event_type"].combine_chunks()
    assert isinstance(codes, pa.DictionaryArray)
    details = coded["details"].combine_chunks()
    if pc.any(pc.match_substring(details, "\x00")).as_py():
        raise StoreError("an event's details text holds a NUL character, which no JSON text has")
    numbers: dict[tuple[int, str], int] = {}
    shape = []
    for code, text in zip(codes.indices.to_pylist(), details.to_pylist(), strict=True):
        key = (int(code), str(text))
        number = numbers.get(key)
        if number is None:
            number = numbers[key] = shapes.intern(*key)
        shape.append(number)
    none = pa.nulls(coded.num_rows, pa.int64())
    columns = [
        coded["seq"],
        coded["tick"],
        coded["day"],
        pa.array(shape, pa.int32()),
        coded["tx_key"],
        coded["agent_index"],
        coded["counterparty_index"],
        coded["amount"],
        none,
        none,
        none,
    ]
    return pa.Table.from_arrays(columns, schema=STORED_EVENT_SCHEMA)


SHAPES_SCHEMA = pa.schema(
    [
        pa.field("shape", pa.int32(), nullable=False),
        pa.field("event_type", pa.utf8(), nullable=False),
        pa.field("parts", pa.list_(pa.utf8()), nullable=False),
    ]
)
"""The columns of :func:`shapes_table` (``event_shapes`` without the run)."""


def shapes_table(new: Sequence[tuple[int, int, str]]) -> pa.Table:
    """``event_shapes`` rows of shapes from ``DetailShapes.take_new()``: the event type by
    name, the template cut at its NUL marks."""
    names = _core.event_types()
    return pa.table(
        [
            pa.array([n for n, _, _ in new], pa.int32()),
            pa.array([names[code] for _, code, _ in new], pa.utf8()),
            pa.array([t.split("\x00") for _, _, t in new], pa.list_(pa.utf8())),
        ],
        schema=SHAPES_SCHEMA,
    )
