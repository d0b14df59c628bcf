"""Output sinks: where the events and summaries of a run go (INTERFACES.md §3).

A sink receives ``open(run_info)``, then ``write_events(batch)`` with ``pyarrow.RecordBatch``es
of events in ``seq`` order, ``end_of_day(day, day_summary)`` after each day, and
``close(summary)`` with the run summary. Sinks are plugins: a named factory registered through
``paysim_register_sinks`` and called with the sink's options as keyword strings
(``--sink jsonl:path=out.jsonl`` calls the ``jsonl`` factory with ``path="out.jsonl"``).
The built-ins, ``console`` (the human and JSON renderings of ``paysim run``) and ``jsonl``
(JSON Lines events), register through the same hook as third-party sinks.

A sink may set ``wants_events = False`` (an optional attribute; absent means ``True``): when no
sink of a run wants events, :func:`run_with_sinks` never exports them from the engine, so a run
that only needs its summary costs no more than ``Simulation.run()``.

A sink may instead read each step's events from the engine itself, in a form of its own: an
optional method ``take_events(sim, start_seq, stop_seq)`` is called after each step while events
``[start_seq, stop_seq)`` are still held (the store reads them with their ids as numbers), and
such a sink is given no ``write_events`` batches.

Two more optional parts of the protocol: ``abort(error)``, called instead of ``close`` when the
run fails or is interrupted (a file sink discards its temporary file, :mod:`paysim.outputs`), and
``uses_stdout`` (absent means ``False``): a sink that writes to standard output says so, and
``paysim run`` refuses it beside ``--format``, which owns standard output. ``run_info["inputs"]``
lists the files the run reads (the scenario and its policy files), which no sink may overwrite.
"""

from __future__ import annotations

from paysim.sinks.console import ConsoleSink
from paysim.sinks.drive import day_summary, run_info, run_with_sinks
from paysim.sinks.filters import EventFilter, FilteredSink
from paysim.sinks.jsonl import JsonlSink, event_lines
from paysim.sinks.registry import SinkError, create_sink, parse_sink_spec, sink_factories

__all__ = [
    "ConsoleSink",
    "EventFilter",
    "FilteredSink",
    "JsonlSink",
    "SinkError",
    "create_sink",
    "day_summary",
    "event_lines",
    "parse_sink_spec",
    "run_info",
    "run_with_sinks",
    "sink_factories",
]
