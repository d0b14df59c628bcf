"""What ``paysim run --persist / --db / --resume`` adds to a run, as one object the command uses.

:class:`RunSession` opens the database only when it is needed, and never before the scenario
has been read: a run whose scenario is invalid creates no database file. With ``--resume`` the
simulation is restored from a stored checkpoint; the run-time overrides (``--seed``, ``--days``,
``--policy``, ``--param``) default to those of the checkpointed run, and the scenario with them
must give the checkpoint's engine config (its SHA-256 is compared before anything runs).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import cast

from paysim.exceptions import ScenarioError
from paysim.hookspecs import OutputSink
from paysim.simulation import Simulation, engine_config
from paysim.store.store import Store, StoredCheckpoint

Overrides = dict[str, object]


class RunSession:
    """The database side of one ``paysim run``."""

    def __init__(self, db: Path, *, persist: bool, resume: str | None) -> None:
        self.db = db
        self.persist = persist
        self.resume = resume
        self.store: Store | None = None
        self.checkpoint: StoredCheckpoint | None = None
        self.sink: OutputSink | None = None
        self._overrides: Overrides = {}
        self.since_seq = 0
        """Where the run's events start: 0, or the next event of a restored simulation."""
        self.lookup_errors: Callable[[], AbstractContextManager[None]] = nullcontext
        """Wraps the lookup of the checkpoint (the CLI turns an unknown id into bad usage)."""

    def _open(self) -> Store:
        if self.store is None:
            from paysim.store import open as open_store

            self.store = open_store(self.db, write=self.persist)
        return self.store

    def simulation(
        self,
        scenario: Path,
        *,
        seed: int | None,
        days: int | None,
        policies: Mapping[str, str],
        params: Mapping[str, Mapping[str, float]],
    ) -> Simulation:
        """The simulation to run: a new one, or the one restored from ``--resume``."""
        given: Overrides = {
            "seed": seed,
            "days": days,
            "policies": dict(policies),
            "params": {a: dict(p) for a, p in params.items()},
        }
        if self.resume is None:
            self._overrides = given
            return Simulation(str(scenario), seed=seed, days=days, policies=policies, params=params)
        store = self._open()
        with self.lookup_errors():
            ck = self.checkpoint = store.checkpoint(self.resume)
        stored = store.simulation(ck.simulation_id)
        merged = _merge(cast(Overrides, stored.get("overrides") or {}), given)
        self._overrides = merged
        from paysim.config import load_scenario

        loaded = load_scenario(scenario)
        seed_, days_, policies_, params_ = _options(merged)
        config_json, _ = engine_config(
            loaded, seed=seed_, days=days_, policies=policies_, params=params_
        )
        digest = hashlib.sha256(config_json.encode()).hexdigest()
        if digest != ck.config_hash:
            raise ScenarioError(
                f"with these options it does not give the engine config of checkpoint "
                f"{ck.checkpoint_id} (run {ck.simulation_id}, scenario {stored.get('scenario')}, "
                f"options {_describe(merged)}): config hash {digest[:12]}…, the checkpoint's "
                f"{ck.config_hash[:12]}…",
                file=str(scenario),
                suggestion="give the scenario file and options of that run",
            )
        sim = Simulation.restore(
            loaded, ck.data, seed=seed_, days=days_, policies=policies_, params=params_
        )
        self.since_seq = sim.next_seq
        return sim

    def sinks(self, sim: Simulation) -> list[OutputSink]:
        """The store sink when persisting (its run gets a ``simulation_id`` now)."""
        if not self.persist:
            return []
        from paysim.store.writer import StoreSink

        ck = self.checkpoint
        self.sink = StoreSink(
            self._open(),
            sim,
            overrides=self._overrides,
            parent_simulation_id=None if ck is None else ck.simulation_id,
            resumed_from=None if ck is None else ck.checkpoint_id,
        )
        return [self.sink]

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None


def _merge(stored: Overrides, given: Overrides) -> Overrides:
    """The stored run's overrides, replaced by each one given now."""
    out = dict(stored)
    for key, value in given.items():
        if value not in (None, {}):
            out[key] = value
    return out


def _options(
    overrides: Overrides,
) -> tuple[int | None, int | None, dict[str, object] | None, dict[str, dict[str, float]] | None]:
    """``seed, days, policies, params`` of stored (JSON) overrides."""
    seed, days = overrides.get("seed"), overrides.get("days")
    policies, params = overrides.get("policies"), overrides.get("params")
    return (
        seed if isinstance(seed, int) else None,
        days if isinstance(days, int) else None,
        cast(dict[str, object], policies) if isinstance(policies, dict) and policies else None,
        cast(dict[str, dict[str, float]], params) if isinstance(params, dict) and params else None,
    )


def _describe(overrides: Overrides) -> str:
    parts = [f"{k} {v}" for k, v in overrides.items() if v not in (None, {})]
    return ", ".join(parts) if parts else "none"
