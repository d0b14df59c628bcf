"""Events of a run as a ``pyarrow.Table`` (the columns of ``paysim run --format events``).

The engine exports Arrow-layout buffers (offsets, data, validity bitmaps); this module wraps
them without copying values one by one, so draining millions of events stays cheap.
"""

from __future__ import annotations

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


def events_table(engine: _core.Engine, since_seq: int = 0, max_rows: int | None = None) -> pa.Table:
    """Retained events with ``seq >= since_seq`` (at most ``max_rows``) as a table."""
    length, columns = engine.events_buffers(since_seq, max_rows)
    arrays = []
    for field, (name, (data, validity, offsets, null_count)) in zip(
        EVENT_SCHEMA, columns, strict=True
    ):
        assert field.name == name
        valid_buf = pa.py_buffer(validity) if validity is not None else None
        if offsets is None:
            buffers = [valid_buf, pa.py_buffer(data)]
        else:
            buffers = [valid_buf, pa.py_buffer(offsets), pa.py_buffer(data)]
        arrays.append(pa.Array.from_buffers(field.type, length, buffers, null_count=null_count))
    return pa.Table.from_arrays(arrays, schema=EVENT_SCHEMA)
