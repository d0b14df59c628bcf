"""Advancing a simulation in a worker thread, and the per-tick messages it produces.

These functions run off the event loop (the engine releases the GIL while it works) and return
everything the loop needs afterwards, already encoded: the loop only appends the texts to the
clients' queues. With no client watching and no pause asked for, a run advances in chunks of
many ticks with one engine call each (:func:`advance`); otherwise tick by tick, each tick
encoded as one ``tick`` message (:func:`tick_frames`).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field

from paysim.api.hub import Frame
from paysim.exceptions import PaysimError
from paysim.simulation import Simulation, TickSummary
from paysim.sinks import event_lines

_FRAME_BUDGET_S = 0.02
_MAX_FRAMES = 512


def _compact(summary: dict[str, object]) -> tuple[dict[str, object], dict[str, object]]:
    """Every agent's balance, queue sizes and cumulative cost, and the run totals so far."""
    agents = summary["agents"]
    totals = summary["totals"]
    assert isinstance(agents, dict) and isinstance(totals, dict)
    out: dict[str, object] = {}
    for agent_id, a in agents.items():
        out[agent_id] = {
            "balance": a["final_balance"],
            "q1": a["q1"],
            "q2": a["q2"],
            "cost": a["costs"]["total"],
        }
    return out, dict(totals)


def events_json(sim: Simulation, since: int, end: int) -> str:
    """The events ``since ≤ seq < end`` as a JSON array (the lines of ``--format events``)."""
    if end <= since:
        return "[]"
    table = sim.events(since, end - since)
    parts = [line.rstrip("\n") for batch in table.to_batches() for line in event_lines(batch)]
    return "[" + ",".join(parts) + "]"


def _frame(sim: Simulation, ts: TickSummary, seq0: int, with_events: bool) -> Frame:
    agents, totals = _compact(sim.summary())
    end = sim.next_seq
    head = {
        "type": "tick",
        "tick": ts.tick,
        "day": ts.tick // sim.ticks_per_day,
        "current_tick": sim.current_tick,
        "total_ticks": sim.total_ticks,
        "summary": asdict(ts),
        "agents": agents,
        "totals": totals,
        "first_seq": seq0,
        "next_seq": end,
    }
    plain = json.dumps(head, separators=(",", ":"))
    full = None
    if with_events:
        full = plain[:-1] + ',"events":' + events_json(sim, seq0, end) + "}"
    return Frame(full, plain, end)


@dataclass
class Step:
    """What one step did."""

    summaries: list[TickSummary] = field(default_factory=list)
    frames: list[Frame] = field(default_factory=list)
    floor: int = 0
    seconds: float = 0.0
    error: PaysimError | None = None


def _retain(sim: Simulation, floor: int, max_retained: int) -> int:
    """Releases events beyond the newest ``max_retained``; returns the new floor."""
    keep_from = sim.next_seq - max_retained
    if keep_from > floor:
        sim.release_events_before(keep_from)
        return keep_from
    return floor


def tick_frames(
    sim: Simulation,
    *,
    until: int,
    floor: int,
    max_retained: int,
    frames: bool,
    with_events: bool,
    single: bool,
    budget_s: float | None = _FRAME_BUDGET_S,
) -> Step:
    """Ticks one by one towards ``until``: all the way, or only one tick (``single``), or as
    many as fit in ``budget_s``; each tick encoded as a frame when ``frames``."""
    step = Step(floor=floor)
    start = time.perf_counter()
    while sim.current_tick < until:
        seq0 = sim.next_seq
        try:
            ts = sim.tick()
        except PaysimError as exc:
            # The ticks before the failure happened: their frames still go out.
            step.error = exc
            break
        step.summaries.append(ts)
        if frames:
            step.frames.append(_frame(sim, ts, seq0, with_events))
        elapsed = time.perf_counter() - start
        if single or (
            budget_s is not None and (elapsed > budget_s or len(step.frames) >= _MAX_FRAMES)
        ):
            break
    step.floor = _retain(sim, floor, max_retained)
    step.seconds = time.perf_counter() - start
    return step


def advance(sim: Simulation, *, until: int, ticks: int, floor: int, max_retained: int) -> Step:
    """Runs up to ``ticks`` ticks towards ``until`` in one engine call, never past the end of
    the current day (so retention is applied at least once a day)."""
    start = time.perf_counter()
    tpd = sim.ticks_per_day
    day_end = (sim.current_tick // tpd + 1) * tpd
    stop = min(until, day_end, sim.current_tick + max(1, ticks))
    sim.run_until(stop)
    step = Step(floor=_retain(sim, floor, max_retained))
    step.seconds = time.perf_counter() - start
    return step
