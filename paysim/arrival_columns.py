"""One batch of generated arrivals → fixed Arrow columns → ``_core.ArrivalBatch``.

A batch is a ``pyarrow.RecordBatch`` (or ``Table``), a dict of columns, or a list of records.
Columns are checked here for what only Python can see (names, lengths, types, missing values);
the values themselves (agents, amounts, ticks, deadlines, priorities) are checked by the engine
when the batch is injected, by the one validator every arrival goes through (ENGINE.md §9.3).
Every check here is vectorised; a list of records is turned into columns first, and only when
a column cannot be converted is it walked in Python to name the offending record.

The engine receives integers as little-endian ``i64`` buffers, the string columns
dictionary-encoded (``i32`` codes into a short list of names) and a validity byte per row for
the nullable ``priority`` and ``divisible``.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from types import ModuleType

import pyarrow as pa

from paysim import _core

FIELDS = (
    "tick",
    "sender",
    "receiver",
    "amount",
    "deadline_tick",
    "priority",
    "divisible",
    "rtgs_priority",
)
REQUIRED = ("tick", "sender", "receiver", "amount", "deadline_tick")
_INTS = ("tick", "amount", "deadline_tick", "priority")
_STRINGS = ("sender", "receiver", "rtgs_priority")
_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1


class BatchError(ValueError):
    """What is wrong with a batch, and where (record index within the batch, field)."""

    def __init__(
        self, message: str, *, record: int | None = None, field: str | None = None
    ) -> None:
        super().__init__(message)
        self.record = record
        self.field = field

    def where(self) -> str:
        parts = []
        if self.record is not None:
            parts.append(f"record {self.record}")
        if self.field is not None:
            parts.append(f"field `{self.field}`")
        return (", " + ", ".join(parts)) if parts else ""


def _pc() -> ModuleType:
    # pyarrow.compute costs a tenth of a second to import; only runs with generators pay it.
    return importlib.import_module("pyarrow.compute")


def _unknown(name: str) -> BatchError:
    from paysim.config.suggest import did_you_mean

    hint = did_you_mean(name, FIELDS)
    return BatchError(
        f"unknown field `{name}`; fields are {', '.join(FIELDS)}" + (f" ({hint})" if hint else ""),
        field=name,
    )


def _python_type(value: object) -> str:
    return type(value).__name__


def _scan(values: Sequence[object], name: str) -> BatchError:
    """Names the first record of a Python column that has the wrong type."""
    for i, v in enumerate(values):
        if v is None:
            continue
        if name in _INTS:
            if isinstance(v, bool) or not isinstance(v, int):
                return BatchError(
                    f"expected an integer, found {v!r} ({_python_type(v)})", record=i, field=name
                )
            if not _I64_MIN <= v <= _I64_MAX:
                return BatchError(f"{v} is outside the 64-bit range", record=i, field=name)
        elif name == "divisible":
            if not isinstance(v, bool):
                return BatchError(
                    f"expected true or false, found {v!r} ({_python_type(v)})", record=i, field=name
                )
        elif not isinstance(v, str):
            return BatchError(
                f"expected a string, found {v!r} ({_python_type(v)})", record=i, field=name
            )
    return BatchError("values of mixed types", field=name)


def _from_records(rows: Sequence[object]) -> dict[str, object]:
    columns: dict[str, list[object]] = {f: [] for f in FIELDS}
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise BatchError(f"expected a record (a dict), found {_python_type(row)}", record=i)
        for key in row:
            if key not in columns:
                problem = _unknown(str(key))
                problem.record = i
                raise problem
        for name in FIELDS:
            columns[name].append(row.get(name))
    return {name: values for name, values in columns.items() if any(v is not None for v in values)}


def _columns(raw: object) -> dict[str, object]:
    if isinstance(raw, pa.Table):
        raw = (
            raw.combine_chunks().to_batches()[0] if raw.num_rows else pa.RecordBatch.from_pylist([])
        )
    if isinstance(raw, pa.RecordBatch):
        return {name: raw.column(name) for name in raw.schema.names}
    if isinstance(raw, Mapping):
        return {str(k): v for k, v in raw.items()}
    if isinstance(raw, Sequence) and not isinstance(raw, str | bytes):
        return _from_records(raw)
    raise BatchError(
        "expected a list of records, a dict of columns or a pyarrow.RecordBatch, found "
        + _python_type(raw)
    )


def _array(name: str, values: object) -> pa.Array:
    """One column as an Arrow array of the field's type (``int64``, ``string`` or ``bool``)."""
    python = values if isinstance(values, list | tuple) else None
    array: pa.Array
    if isinstance(values, pa.ChunkedArray):
        array = values.combine_chunks()
    elif isinstance(values, pa.Array):
        array = values
    else:
        try:
            array = pa.array(values)
        except (pa.ArrowException, OverflowError, TypeError, ValueError):
            if isinstance(values, Sequence):
                raise _scan(values, name) from None
            raise BatchError("cannot be read as a column", field=name) from None
    kind = array.type
    if pa.types.is_dictionary(kind):
        # Kept encoded for the string columns (the engine takes codes and names); decoded
        # for the others, whose dictionary-encoded form is unusual.
        value_type = kind.value_type
        if name in _STRINGS and (
            pa.types.is_string(value_type) or pa.types.is_large_string(value_type)
        ):
            return array
        array = array.dictionary_decode()
        kind = array.type
    if pa.types.is_null(kind):
        target = pa.int64() if name in _INTS else pa.bool_() if name == "divisible" else pa.string()
        return pa.nulls(len(array), target)
    if name in _INTS:
        if not pa.types.is_integer(kind):
            if python is not None:
                raise _scan(python, name)
            raise BatchError(f"expected integers, found a column of {kind}", field=name)
        if kind != pa.int64():
            pc = _pc()
            too_big = pc.greater(array, _I64_MAX) if pa.types.is_unsigned_integer(kind) else None
            if too_big is not None and pc.any(too_big).as_py():
                row = pc.index(too_big, True).as_py()
                raise BatchError("value outside the 64-bit range", record=row, field=name)
            array = array.cast(pa.int64())
        return array
    if name == "divisible":
        if not pa.types.is_boolean(kind):
            if python is not None:
                raise _scan(python, name)
            raise BatchError(f"expected true or false, found a column of {kind}", field=name)
        return array
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        if python is not None:
            raise _scan(python, name)
        raise BatchError(f"expected strings, found a column of {kind}", field=name)
    return array.cast(pa.string()) if pa.types.is_large_string(kind) else array


def _first_null(values: pa.Array) -> int:
    return int(_pc().index(values.is_null(), True).as_py())


def _i64(values: pa.Array) -> bytes:
    if values.null_count:
        values = values.fill_null(0)
    buf = values.buffers()[1]
    data: bytes = buf.slice(values.offset * 8, len(values) * 8).to_pybytes()
    return data


def _bytes8(values: pa.Array) -> bytes:
    small = values.fill_null(False).cast(pa.int8()) if values.null_count else values.cast(pa.int8())
    data: bytes = small.buffers()[1].slice(small.offset, len(small)).to_pybytes()
    return data


def _validity(values: pa.Array) -> bytes | None:
    return _bytes8(values.is_valid()) if values.null_count else None


def _encoded(values: pa.Array) -> tuple[list[str], bytes]:
    """``(names, i32 codes)`` of a string column (``-1`` for null)."""
    if not pa.types.is_dictionary(values.type):
        values = values.dictionary_encode()
    indices = values.indices
    if indices.null_count:
        indices = indices.fill_null(-1)
    if indices.type != pa.int32():
        indices = indices.cast(pa.int32())
    names = values.dictionary
    if not pa.types.is_string(names.type):
        names = names.cast(pa.string())
    data: bytes = indices.buffers()[1].slice(indices.offset * 4, len(indices) * 4).to_pybytes()
    listed: list[str] = names.to_pylist()
    return listed, data


def to_engine_batch(
    raw: object, total_ticks: int
) -> tuple[_core.ArrivalBatch | None, list[int] | None, int]:
    """``(engine batch or None when empty, original indices of the kept rows or None when all
    are kept, rows dropped for falling at or after ``total_ticks``)``. Raises
    :class:`BatchError`."""
    columns = _columns(raw)
    for name in columns:
        if name not in FIELDS:
            raise _unknown(name)
    arrays: dict[str, pa.Array] = {name: _array(name, v) for name, v in columns.items()}
    lengths = {len(a) for a in arrays.values()}
    if len(lengths) > 1:
        sizes = ", ".join(f"{n}: {len(a)}" for n, a in arrays.items())
        raise BatchError(f"columns of different lengths ({sizes})")
    rows = lengths.pop() if lengths else 0
    if rows == 0:
        return None, None, 0
    for name in REQUIRED:
        column = arrays.get(name)
        if column is None:
            raise BatchError("missing", record=0, field=name)
        if column.null_count:
            raise BatchError("missing", record=_first_null(column), field=name)
    pc = _pc()
    late = 0
    kept: list[int] | None = None
    if pc.max(arrays["tick"]).as_py() >= total_ticks:
        keep = pc.less(arrays["tick"], total_ticks)
        index = pc.indices_nonzero(keep)
        kept = index.to_pylist()
        late = rows - len(kept)
        arrays = {n: a.take(index) for n, a in arrays.items()}
        rows = len(kept)
        if rows == 0:
            return None, None, late
    sender_names, sender = _encoded(arrays["sender"])
    receiver_names, receiver = _encoded(arrays["receiver"])
    options: dict[str, object] = {}
    priority = arrays.get("priority")
    if priority is not None and priority.null_count < rows:
        options["priority"] = _i64(priority)
        options["priority_valid"] = _validity(priority)
    divisible = arrays.get("divisible")
    if divisible is not None and divisible.null_count < rows:
        options["divisible"] = _bytes8(divisible)
        options["divisible_valid"] = _validity(divisible)
    rtgs = arrays.get("rtgs_priority")
    if rtgs is not None and rtgs.null_count < rows:
        options["rtgs_names"], options["rtgs_priority"] = _encoded(rtgs)
    batch = _core.ArrivalBatch(
        rows=rows,
        tick=_i64(arrays["tick"]),
        amount=_i64(arrays["amount"]),
        deadline_tick=_i64(arrays["deadline_tick"]),
        sender_names=sender_names,
        sender=sender,
        receiver_names=receiver_names,
        receiver=receiver,
        **options,  # type: ignore[arg-type]
    )
    return batch, kept, late
