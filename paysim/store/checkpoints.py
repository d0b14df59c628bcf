"""Checkpoints kept in the store: save one at any tick, write one to a file, delete.

Every persisted run stores a ``start`` checkpoint when it opens and, for multi-day runs, an
``end_of_day`` checkpoint after each day but the last. :func:`save` makes one at any tick of a
stored run by restoring the run's nearest earlier checkpoint with the run's own engine config
(stored with the run, so the scenario file is not needed) and running the engine to that tick;
determinism (ENGINE.md §11) makes that state the one the original run had at that tick.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from paysim import _core
from paysim.exceptions import StoreError
from paysim.outputs import AtomicOutput
from paysim.store.rows import store_checkpoint
from paysim.store.store import NotFoundError, Store


@dataclass(frozen=True)
class SavedCheckpoint:
    checkpoint_id: str
    simulation_id: str
    tick: int
    from_tick: int
    size_bytes: int


def save(store: Store, ref: str, tick: int) -> SavedCheckpoint:
    """Stores a ``manual`` checkpoint of run ``ref`` at ``tick`` (the state before that tick
    runs, as ``Simulation.checkpoint()`` after ``run_until(tick)``)."""
    run = store.simulation(ref)
    sim_id = str(run["simulation_id"])
    total = int(str(run["total_ticks"]))
    if not 0 <= tick <= total:
        raise NotFoundError(f"tick {tick} is outside run {sim_id} (ticks 0 to {total})")
    base = store.rows(
        "SELECT checkpoint_id, tick FROM checkpoints WHERE simulation_id = ? AND tick <= ? "
        "ORDER BY tick DESC, checkpoint_id DESC LIMIT 1",
        [sim_id, tick],
    )
    if not base:
        raise NotFoundError(
            f"run {sim_id} has no checkpoint at or before tick {tick} "
            f"(it starts at tick {run['start_tick']})"
        )
    start = store.checkpoint(str(base[0]["checkpoint_id"]))
    config_json = store.sql(
        "SELECT config_json::VARCHAR AS c FROM simulations WHERE simulation_id = ?", [sim_id]
    )["c"][0].as_py()
    engine = _core.Engine.restore(config_json, start.data)
    tpd = int(str(run["ticks_per_day"]))
    while engine.current_tick < tick:
        # A day at a time, freeing events as we go: the events are not needed, only the state.
        engine.run_until(min(tick, (engine.current_tick // tpd + 1) * tpd))
        engine.release_events_before(engine.next_seq)
    data = engine.checkpoint()
    with store.transaction():
        ck_id = store_checkpoint(
            store.connection,
            sim_id,
            data,
            tick=tick,
            ticks_per_day=tpd,
            kind="manual",
            config_hash=start.config_hash,
        )
    return SavedCheckpoint(ck_id, sim_id, tick, start.tick, len(data))


def write_file(
    store: Store, ref: str, output: str | os.PathLike[str], *, overwrite: bool = False
) -> tuple[str, Path]:
    """Writes a checkpoint's bytes to ``output`` (atomically; an existing file only with
    ``overwrite``); ``Simulation.restore(scenario, data)`` reads them."""
    ck = store.checkpoint(ref)
    with AtomicOutput(
        output, overwrite=overwrite, inputs=[store.path], what="checkpoint file"
    ) as out:
        out.open_binary().write(ck.data)
    return ck.checkpoint_id, out.path


def delete(store: Store, refs: Sequence[str]) -> list[str]:
    """Deletes checkpoints (all or none); returns their ids."""
    ids = [store.resolve_checkpoint(r) for r in refs]
    if not ids:
        raise StoreError("no checkpoint given")
    with store.transaction():
        for ck_id in ids:
            store.execute("DELETE FROM checkpoints WHERE checkpoint_id = ?", [ck_id])
    return ids
