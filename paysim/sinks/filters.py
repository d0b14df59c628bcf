"""Event filters of ``paysim run`` (``--filter-event-type``, ``--filter-agent``, ``--filter-tx``,
``--filter-tick-range``) and the sink wrapper that applies them.

Filtering is columnar (``pyarrow.compute`` over a whole batch), so a filter costs little even on
millions of events. A filter wraps one sink rather than the whole run: the rendering the user
asked for is filtered, while other sinks (a file of every event, a database) still see
everything.

An agent or payment also matches an event that names it only inside ``details`` (a member of an
LSM cycle, a payment offset in a bilateral group, a split child), because those events are
exactly what someone following that agent or payment wants to see.

Unknown ids are errors, not empty output: an agent is checked against the scenario before the run
(``paysim run`` does it); a payment id is checked for its form (``tx_00000042``, a split piece
``tx_00000042.1``) before the run, and :class:`FilteredSink` records whether any event of the run
concerned it at all (``tx_seen``, before the other criteria), so the CLI can say afterwards that
the run had no such payment.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

from paysim.hookspecs import OutputSink

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass(frozen=True)
class EventFilter:
    """Which events to keep; every criterion given must hold (``None`` means any)."""

    event_types: frozenset[str] | None = None
    agent: str | None = None
    tx: str | None = None
    tick_min: int | None = None
    tick_max: int | None = None

    @classmethod
    def of(
        cls,
        *,
        event_types: Iterable[str] | None = None,
        agent: str | None = None,
        tx: str | None = None,
        tick_range: tuple[int | None, int | None] = (None, None),
    ) -> EventFilter:
        types = None if event_types is None else frozenset(event_types)
        return cls(types, agent, tx, tick_range[0], tick_range[1])

    @property
    def active(self) -> bool:
        """Whether the filter drops anything at all."""
        criteria = (self.event_types, self.agent, self.tx, self.tick_min, self.tick_max)
        return any(c is not None for c in criteria)

    def apply(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """The rows of ``batch`` that pass, in their order."""
        if not self.active or batch.num_rows == 0:
            return batch
        import pyarrow as pa

        pc = _compute()
        mask = pa.array([True] * batch.num_rows)
        if self.event_types is not None:
            wanted = pa.array(sorted(self.event_types), type=pa.utf8())
            mask = pc.and_(mask, pc.is_in(batch.column("event_type"), value_set=wanted))
        if self.agent is not None:
            mask = pc.and_(
                mask,
                _any_of(
                    pc.equal(batch.column("agent_id"), self.agent),
                    pc.equal(batch.column("counterparty_id"), self.agent),
                    _mentions(batch, self.agent),
                ),
            )
        if self.tx is not None:
            mask = pc.and_(mask, self._tx_mask(batch))
        ticks = batch.column("tick")
        if self.tick_min is not None:
            mask = pc.and_(mask, pc.greater_equal(ticks, self.tick_min))
        if self.tick_max is not None:
            mask = pc.and_(mask, pc.less_equal(ticks, self.tick_max))
        return batch.filter(mask)

    def _tx_mask(self, batch: pa.RecordBatch) -> pa.Array:
        assert self.tx is not None
        equal = _compute().equal(batch.column("tx_id"), self.tx)
        return _any_of(equal, _mentions(batch, self.tx))

    def concerns_tx(self, batch: pa.RecordBatch) -> bool:
        """Whether some event of ``batch`` is about the payment of the ``tx`` criterion
        (whatever the other criteria say)."""
        if self.tx is None or batch.num_rows == 0:
            return False
        return bool(_compute().any(self._tx_mask(batch)).as_py())


def _compute() -> ModuleType:
    """``pyarrow.compute``, imported on first use: importing it takes a tenth of a second,
    which every ``paysim`` invocation would pay otherwise."""
    return importlib.import_module("pyarrow.compute")


def _mentions(batch: pa.RecordBatch, name: str) -> pa.Array:
    # Ids are plain tokens (no quotes or backslashes), so the quoted id appears verbatim in the
    # details JSON exactly when some string value there equals it or a list holds it.
    return _compute().match_substring(batch.column("details"), f'"{name}"')


def _any_of(*conditions: pa.Array) -> pa.Array:
    pc = _compute()
    result = pc.fill_null(conditions[0], False)
    for cond in conditions[1:]:
        result = pc.or_(result, pc.fill_null(cond, False))
    return result


class FilteredSink:
    """Passes to ``inner`` only the events ``event_filter`` keeps; everything else unchanged."""

    def __init__(self, inner: OutputSink, event_filter: EventFilter) -> None:
        self.inner = inner
        self.event_filter = event_filter
        self.name = inner.name
        self.wants_events: bool = getattr(inner, "wants_events", True)
        self.uses_stdout: bool = getattr(inner, "uses_stdout", False)
        self.tx_seen = False
        self.last_tx: str | None = None

    def open(self, run_info: Mapping[str, object]) -> None:
        self.inner.open(run_info)

    def write_events(self, batch: pa.RecordBatch) -> None:
        if self.event_filter.tx is not None and not self.tx_seen:
            self.tx_seen = self.event_filter.concerns_tx(batch)
            if not self.tx_seen:
                last = _compute().max(batch.column("tx_id")).as_py()
                if isinstance(last, str) and (self.last_tx is None or last > self.last_tx):
                    self.last_tx = last
        kept = self.event_filter.apply(batch)
        if kept.num_rows:
            self.inner.write_events(kept)

    def end_of_day(self, day: int, day_summary: Mapping[str, object]) -> None:
        self.inner.end_of_day(day, day_summary)

    def close(self, summary: Mapping[str, object]) -> None:
        self.inner.close(summary)

    def abort(self, error: BaseException) -> None:
        abort = getattr(self.inner, "abort", None)
        if abort is not None:
            abort(error)
