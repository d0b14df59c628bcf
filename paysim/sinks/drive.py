"""Running a simulation into sinks, in bounded memory.

:func:`run_with_sinks` advances the engine in steps (never past the end of a day, and about a
hundred steps per run so a progress display moves), hands the events of each step to the sinks
in batches of at most ``batch_rows``, then lets the engine free them. Memory therefore stays
bounded by one step of events whatever the length of the run, and the sinks see each day close
(``end_of_day``) right after its last tick.

When no sink wants events, nothing is exported at all: the events are released as they are
produced, so the run costs what ``Simulation.run()`` costs.

A sink may instead read each step's events from the engine itself, in a form of its own (the
store reads them with their ids as numbers): it has an optional method ``take_events(sim,
start_seq, stop_seq)``, called after each step while events ``[start_seq, stop_seq)`` are still
held, and is not given ``write_events`` batches.

If the run fails, is interrupted (``KeyboardInterrupt``) or a sink raises, every sink that was
opened and not yet closed gets ``abort(error)`` instead of ``close`` (an optional method of the
sink protocol): a sink writing a file discards its temporary file, a store marks the run
``failed`` or ``interrupted``. Errors raised by ``abort`` itself are suppressed, so one broken
sink cannot keep the others from cleaning up; the original error is re-raised.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from typing import cast

from paysim.hookspecs import OutputSink
from paysim.simulation import Simulation

Progress = Callable[[int, int], None]
"""Called with ``(ticks done, total ticks)`` after each step."""

_PROGRESS_STEPS = 100
_DAY_KEYS = ("arrivals", "settled", "settled_value", "dropped", "overdue", "lsm_settled")


def _dict(value: object) -> dict[str, object]:
    return cast(dict[str, object], value)


def _int(value: object) -> int:
    assert isinstance(value, int)
    return value


def run_info(sim: Simulation) -> dict[str, object]:
    """What sinks learn when a run opens: the scenario, the seed, the clock and the agents."""
    from paysim import __version__

    head = sim.summary()
    source = sim.scenario.source
    return {
        "paysim_version": __version__,
        "scenario": None if source is None else str(source),
        # Files the run reads (the scenario, its policy files): no sink may write over them
        # (paysim.outputs).
        "inputs": list(getattr(sim, "input_files", [] if source is None else [str(source)])),
        "description": sim.scenario.description,
        "simulation_id": sim.simulation_id,
        "seed": head["seed"],
        "ticks_per_day": head["ticks_per_day"],
        "days": head["days"],
        "total_ticks": sim.total_ticks,
        "agents": list(_dict(head["agents"])),
        "warnings": list(sim.warnings),
    }


def day_summary(
    day: int, before: Mapping[str, object], after: Mapping[str, object]
) -> dict[str, object]:
    """What one day did, from the run summaries at its start and at its end: counts and cost
    of the day, what is still unsettled, and every agent's balance, queues and cost of the day."""
    t0, t1 = _dict(before["totals"]), _dict(after["totals"])
    a0, a1 = _dict(before["agents"]), _dict(after["agents"])
    out: dict[str, object] = {"day": day}
    for key in _DAY_KEYS:
        out[key] = _int(t1[key]) - _int(t0[key])
    out["unsettled"] = t1["unsettled"]
    out["cost"] = _int(t1["total_cost"]) - _int(t0["total_cost"])
    agents: dict[str, object] = {}
    for agent_id, raw in a1.items():
        now, then = _dict(raw), _dict(a0[agent_id])
        agents[agent_id] = {
            "balance": now["final_balance"],
            "q1": now["q1"],
            "q2": now["q2"],
            "cost": _int(_dict(now["costs"])["total"]) - _int(_dict(then["costs"])["total"]),
        }
    out["agents"] = agents
    return out


def _stops(start: int, total: int, ticks_per_day: int) -> list[int]:
    step = max(1, total // _PROGRESS_STEPS)
    stops = set(range(start + step, total, step))
    stops.update(range(ticks_per_day, total + 1, ticks_per_day))
    stops.add(total)
    return sorted(s for s in stops if s > start)


def _drain(
    sim: Simulation,
    seq: int,
    sinks: Sequence[OutputSink],
    batch_rows: int,
    takers: Sequence[Callable[[Simulation, int, int], None]] = (),
) -> int:
    """Hands events from ``seq`` on to ``sinks`` (and ``takers``), frees them, returns the
    next seq."""
    stop = sim.next_seq
    for take in takers:
        take(sim, seq, stop)
    if not sinks:
        seq = stop
    else:
        while seq < sim.next_seq:
            table = sim.events(seq, batch_rows)
            if table.num_rows == 0:
                break
            for batch in table.to_batches():
                for sink in sinks:
                    sink.write_events(batch)
            seq += table.num_rows
    sim.release_events_before(seq)
    return seq


def abort_sinks(sinks: Sequence[OutputSink], error: BaseException) -> None:
    """Calls ``abort(error)`` on every sink that has it; errors of ``abort`` are suppressed."""
    for sink in sinks:
        abort = getattr(sink, "abort", None)
        if abort is None:
            continue
        # Cleanup must reach every sink, whatever one of them raises.
        with contextlib.suppress(Exception):
            abort(error)


def run_with_sinks(
    sim: Simulation,
    sinks: Sequence[OutputSink],
    *,
    on_progress: Progress | None = None,
    since_seq: int = 0,
    batch_rows: int = 65_536,
) -> dict[str, object]:
    """Runs ``sim`` to the end, feeding ``sinks``; returns the run summary.

    Events from ``since_seq`` on go to the sinks that want them; every event handed out is then
    released from the engine, so ``sim.events()`` afterwards holds none of them.
    """
    info = run_info(sim)
    live: list[OutputSink] = []
    try:
        for sink in sinks:
            sink.open(info)
            live.append(sink)
        takers = [take for s in sinks if (take := getattr(s, "take_events", None)) is not None]
        readers = [
            s
            for s in sinks
            if getattr(s, "take_events", None) is None and getattr(s, "wants_events", True)
        ]
        tpd = sim.ticks_per_day
        seq = since_seq
        day_start = sim.summary()
        for stop in _stops(sim.current_tick, sim.total_ticks, tpd):
            sim.run_until(stop)
            seq = _drain(sim, seq, readers, batch_rows, takers)
            if stop % tpd == 0:
                day_end = sim.summary()
                summary_of_day = day_summary(stop // tpd - 1, day_start, day_end)
                for sink in sinks:
                    sink.end_of_day(stop // tpd - 1, summary_of_day)
                day_start = day_end
            if on_progress is not None:
                on_progress(stop, sim.total_ticks)
        summary = sim.summary()
        while live:
            live[0].close(summary)
            live.pop(0)
    except BaseException as exc:
        abort_sinks(live, exc)
        raise
    return summary
