"""Replaying a stored run into sinks: the same calls, with the same data, as the live run made.

A live run gives its sinks ``open(run_info)``, each day's events in ``seq`` order followed by
``end_of_day(day, day_summary)``, and ``close(summary)``. The store keeps exactly those inputs
(``simulations.run_info``, ``events``, ``daily_metrics.day_summary``, ``simulations.summary``),
so :func:`replay` hands the very same values to the very same renderers, and what they print is
byte for byte what the live run printed.

A run that did not complete (interrupted or failed) is replayed up to its last complete day;
its sinks are then aborted instead of closed, since there is no summary to give them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa

from paysim.events import EVENT_SCHEMA
from paysim.exceptions import StoreError
from paysim.hookspecs import OutputSink
from paysim.store.store import Store


@dataclass(frozen=True)
class ReplayResult:
    """What was replayed: the run, its status, its complete days and whether sinks closed."""

    simulation_id: str
    status: str
    days_replayed: int
    events: int
    complete: bool


def _as_events(batch: pa.RecordBatch) -> pa.RecordBatch:
    if batch.schema.equals(EVENT_SCHEMA):
        return batch
    columns = [batch.column(f.name).cast(f.type) for f in EVENT_SCHEMA]
    return pa.RecordBatch.from_arrays(columns, schema=EVENT_SCHEMA)


def replay(
    store: Store,
    ref: str,
    sinks: Sequence[OutputSink],
    *,
    tick_min: int | None = None,
    tick_max: int | None = None,
    event_types: Sequence[str] | None = None,
    batch_rows: int = 65_536,
) -> ReplayResult:
    """Feeds ``sinks`` from the stored run ``ref``. The tick range and event types only narrow
    what is read (the sinks' own filters still apply); they never change what is shown."""
    from paysim.sinks.drive import abort_sinks

    row = store.simulation(ref)
    sim_id = str(row["simulation_id"])
    info = row["run_info"]
    if not isinstance(info, dict):
        raise StoreError(f"run {sim_id} has no run info")
    tpd = int(str(row["ticks_per_day"]))
    days = {
        int(str(d["day"])): json.loads(str(d["day_summary"]))
        for d in store.rows(
            "SELECT day, day_summary::VARCHAR AS day_summary FROM daily_metrics "
            "WHERE simulation_id = ? ORDER BY day",
            [sim_id],
        )
    }
    readers = [s for s in sinks if getattr(s, "wants_events", True)]
    live: list[OutputSink] = []
    count = 0
    try:
        for sink in sinks:
            sink.open(info)
            live.append(sink)
        for day, day_summary in sorted(days.items()):
            lo, hi = day * tpd, (day + 1) * tpd - 1
            if tick_min is not None:
                lo = max(lo, tick_min)
            if tick_max is not None:
                hi = min(hi, tick_max)
            if readers and lo <= hi:
                for batch in store.event_batches(
                    sim_id,
                    tick_min=lo,
                    tick_max=hi,
                    event_types=event_types,
                    batch_rows=batch_rows,
                ):
                    events = _as_events(batch)
                    count += events.num_rows
                    for sink in readers:
                        sink.write_events(events)
            for sink in sinks:
                sink.end_of_day(day, day_summary)
        summary = row.get("summary")
        if row["status"] == "completed" and isinstance(summary, dict):
            while live:
                live[0].close(summary)
                live.pop(0)
            complete = True
        else:
            abort_sinks(live, StoreError(f"run {sim_id} is {row['status']}"))
            complete = False
    except BaseException as exc:
        abort_sinks(live, exc)
        raise
    return ReplayResult(sim_id, str(row["status"]), len(days), count, complete)
