"""``paysim.Simulation``: one run of a scenario, and ``run_many`` for many at once.

The scenario is validated by :mod:`paysim.config`, its policies resolved through the policy
sources, and the normalized engine config crosses into the engine once. Engine work (``run``,
``run_until``, ``tick``) releases the GIL; a run driven by :meth:`Simulation.run` makes one call
into the engine, so Python costs nothing per tick.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import pyarrow as pa
from pydantic import JsonValue

from paysim import _core
from paysim.arrivals import generated_arrivals
from paysim.config import PolicyRef, Scenario, load_scenario, normalize
from paysim.config.normalize import canonical_json
from paysim.events import events_table
from paysim.exceptions import PaysimError, SimulationError
from paysim.policy import resolve_policy

_TOTAL_KEYS = (
    "arrivals",
    "settled",
    "settled_value",
    "unsettled",
    "dropped",
    "overdue",
    "lsm_settled",
    "settlement_rate",
    "value_settlement_rate",
    "total_cost",
)
_COST_KEYS = (
    "overdraft",
    "delay",
    "collateral",
    "liquidity",
    "deadline_penalty",
    "eod_penalty",
    "drop_penalty",
    "split_friction",
    "total",
)
_AGENT_KEYS = (
    "opening_balance",
    "final_balance",
    "min_balance",
    "sent",
    "settled_sent",
    "received",
    "q1",
    "q2",
    "dropped",
)
RUN_METADATA_KEYS = ("paysim_version", "scenario", "simulation_id", "wall_seconds", "plugins")
"""Keys excluded whenever summaries are compared for identity (INTERFACES.md §1)."""


@dataclass(frozen=True)
class TickSummary:
    """What one tick did (counts as in the run summary, for this tick only)."""

    tick: int
    arrivals: int
    settled: int
    lsm_settled: int
    q1_size: int
    q2_size: int
    cost: int
    events: int


def _ordered(engine_summary: Mapping[str, object], head: dict[str, object]) -> dict[str, object]:
    """The run summary in the key order of the INTERFACES.md contract."""

    def costs(c: object) -> dict[str, object]:
        assert isinstance(c, dict)
        return {k: c[k] for k in _COST_KEYS}

    totals = engine_summary["totals"]
    agents = engine_summary["agents"]
    assert isinstance(totals, dict) and isinstance(agents, dict)
    out = dict(head)
    out.update(
        {
            "totals": {k: totals[k] for k in _TOTAL_KEYS},
            "costs": costs(engine_summary["costs"]),
            "agents": {
                agent_id: {**{k: a[k] for k in _AGENT_KEYS}, "costs": costs(a["costs"])}
                for agent_id, a in agents.items()
            },
        }
    )
    return out


def summary_from_engine(
    engine_summary: Mapping[str, object],
    *,
    scenario: str | None,
    simulation_id: str | None = None,
    wall_seconds: float = 0.0,
) -> dict[str, object]:
    """Completes the engine's part of the run summary with the run metadata."""
    from paysim import __version__
    from paysim.plugins import loaded_plugins

    head: dict[str, object] = {
        "paysim_version": __version__,
        "scenario": scenario,
        "seed": engine_summary["seed"],
        "ticks": engine_summary["ticks"],
        "ticks_per_day": engine_summary["ticks_per_day"],
        "days": engine_summary["days"],
        "simulation_id": simulation_id,
        "wall_seconds": round(wall_seconds, 6),
        "plugins": loaded_plugins(),
    }
    return _ordered(engine_summary, head)


def _as_scenario(scenario: Scenario | str | Path) -> Scenario:
    return scenario if isinstance(scenario, Scenario) else load_scenario(scenario)


def engine_config(
    scenario: Scenario,
    *,
    seed: int | None = None,
    days: int | None = None,
    policies: Mapping[str, object] | None = None,
    params: Mapping[str, Mapping[str, float]] | None = None,
) -> tuple[str, list[str]]:
    """The canonical engine-config JSON of a scenario with run-time overrides, and warnings."""
    result = normalize(
        scenario,
        resolve_policy,
        seed=seed,
        days=days,
        policy_overrides=policies,
        param_overrides=params,
    )
    warnings = list(result.warnings) + _override_warnings(scenario, result.config)
    return canonical_json(result.config), warnings


def _override_warnings(scenario: Scenario, config: Mapping[str, object]) -> list[str]:
    """Warnings the engine's validator raises about each agent's parameter overrides (e.g.
    ``PARAMETER_OVERRIDE_OUT_OF_RANGE``: allowed, since the declared range is a search space,
    but worth telling the user)."""
    from paysim.policy.validation import scenario_info

    agents = config.get("agents")
    if not isinstance(agents, list):
        return []
    base = scenario_info(scenario)
    out: list[str] = []
    for agent in agents:
        policy = agent.get("policy") if isinstance(agent, dict) else None
        if not isinstance(policy, dict) or not policy.get("parameters"):
            continue
        info = {**base, "parameter_overrides": policy["parameters"]}
        report, _ = _core.validate_policy(
            json.dumps(policy["document"]).encode(), str(policy.get("source", "")), json.dumps(info)
        )
        for w in json.loads(report).get("warnings", []):
            if str(w.get("code", "")).startswith("PARAMETER_OVERRIDE"):
                out.append(f"agent `{agent.get('id')}`: {w['code']}: {w['message']}")
    return out


class Simulation:
    """One simulation of a scenario (INTERFACES.md §2)."""

    def __init__(
        self,
        scenario: Scenario | str | Path,
        seed: int | None = None,
        *,
        days: int | None = None,
        policies: Mapping[str, object] | None = None,
        params: Mapping[str, Mapping[str, float]] | None = None,
    ) -> None:
        self.scenario = _as_scenario(scenario)
        self._config_json, self.warnings = engine_config(
            self.scenario, seed=seed, days=days, policies=policies, params=params
        )
        self._engine = _core.Engine(self._config_json)
        arrivals = generated_arrivals(self.scenario, json.loads(self._config_json))
        if arrivals is not None:
            self.warnings.extend(arrivals.warnings)
            arrivals.inject(self._engine)
        self._wall = 0.0
        self.simulation_id: str | None = None

    @classmethod
    def _from_engine(cls, scenario: Scenario, config_json: str, engine: _core.Engine) -> Simulation:
        sim = cls.__new__(cls)
        sim.scenario = scenario
        sim._config_json = config_json
        sim.warnings = []
        sim._engine = engine
        sim._wall = 0.0
        sim.simulation_id = None
        return sim

    @property
    def config_json(self) -> str:
        """The normalized engine config this simulation runs (canonical JSON)."""
        return self._config_json

    def _timed(self, tick_to: int | None) -> None:
        start = time.perf_counter()
        try:
            if tick_to is None:
                self._engine.run()
            else:
                self._engine.run_until(tick_to)
        finally:
            self._wall += time.perf_counter() - start

    def run(self) -> None:
        """Run to the end of the episode (the GIL is released while the engine works)."""
        self._timed(None)

    def run_until(self, tick: int) -> None:
        """Run until ``current_tick == tick``."""
        self._timed(tick)

    def tick(self) -> TickSummary:
        """Process one tick."""
        start = time.perf_counter()
        try:
            data = json.loads(self._engine.tick())
        finally:
            self._wall += time.perf_counter() - start
        return TickSummary(**data)

    @property
    def current_tick(self) -> int:
        return self._engine.current_tick

    @property
    def total_ticks(self) -> int:
        return self._engine.total_ticks

    @property
    def done(self) -> bool:
        return self._engine.done

    def summary(self) -> dict[str, object]:
        """The run summary of INTERFACES.md §1, as a dict."""
        source = self.scenario.source
        return summary_from_engine(
            json.loads(self._engine.summary_json()),
            scenario=None if source is None else str(source),
            simulation_id=self.simulation_id,
            wall_seconds=self._wall,
        )

    def agent(self, agent_id: str) -> dict[str, object]:
        """The current state of one bank (balance, limits, queues, budget, registers, costs)."""
        state: dict[str, object] = json.loads(self._engine.agent_json(agent_id))
        return state

    def events(self, since_seq: int = 0, max_rows: int | None = None) -> pa.Table:
        """Retained events with ``seq >= since_seq`` (at most ``max_rows``) as a
        ``pyarrow.Table``."""
        return events_table(self._engine, since_seq, max_rows)

    @property
    def next_seq(self) -> int:
        """The seq the next event will get (events so far: ``0 .. next_seq - 1``)."""
        return self._engine.next_seq

    @property
    def ticks_per_day(self) -> int:
        return self._engine.ticks_per_day

    def release_events_before(self, seq: int) -> None:
        """Frees retained events below ``seq`` (long runs drain events as they go); asking
        for them later raises ``SimulationError``."""
        self._engine.release_events_before(seq)

    def checkpoint(self) -> bytes:
        """The complete state between ticks."""
        return self._engine.checkpoint()

    @classmethod
    def restore(
        cls,
        scenario: Scenario | str | Path,
        data: bytes,
        seed: int | None = None,
        *,
        days: int | None = None,
        policies: Mapping[str, object] | None = None,
        params: Mapping[str, Mapping[str, float]] | None = None,
    ) -> Simulation:
        """A simulation continuing exactly where ``checkpoint()`` left off. The scenario and
        overrides must be those of the checkpointed run (the config hash is checked)."""
        sc = _as_scenario(scenario)
        config_json, _ = engine_config(sc, seed=seed, days=days, policies=policies, params=params)
        return cls._from_engine(sc, config_json, _core.Engine.restore(config_json, data))

    def set_policy(
        self,
        agent_id: str,
        policy: str | Mapping[str, object],
        params: Mapping[str, float] | None = None,
    ) -> None:
        """Replace an agent's policy from the next tick (a reference or a document)."""
        base = self.scenario.base_dir
        ref: PolicyRef = (
            policy if isinstance(policy, str) else cast(dict[str, JsonValue], dict(policy))
        )
        resolved = resolve_policy(ref, base)
        payload = {
            "document": resolved.document,
            "parameters": {**resolved.parameters, **dict(params or {})},
            "source": resolved.source,
        }
        self._engine.set_policy(agent_id, json.dumps(payload))


def run_many(
    scenario: Scenario | str | Path,
    seeds: Sequence[int],
    overrides: Sequence[Mapping[str, object] | None] | None = None,
    threads: int | None = None,
) -> list[dict[str, object] | PaysimError]:
    """Runs one simulation per seed on engine threads (events discarded) and returns their
    summaries in seed order. ``overrides`` has one entry per seed:
    ``{"policies": {agent: ref}, "params": {agent: {name: value}}}`` or ``None``. A failed run
    leaves its exception in its slot instead of stopping the others."""
    sc = _as_scenario(scenario)
    if overrides is not None and len(overrides) != len(seeds):
        raise ValueError("overrides needs one entry per seed")
    configs = []
    arrivals = []
    generated = []
    for i, seed in enumerate(seeds):
        ov = (overrides[i] if overrides is not None else None) or {}
        policies = ov.get("policies")
        params = ov.get("params")
        config_json, _ = engine_config(
            sc,
            seed=seed,
            policies=policies if isinstance(policies, Mapping) else None,
            params=params if isinstance(params, Mapping) else None,
        )
        configs.append(config_json)
        run_arrivals = generated_arrivals(sc, json.loads(config_json))
        generated.append(run_arrivals)
        arrivals.append([] if run_arrivals is None else run_arrivals.batches)
    source = None if sc.source is None else str(sc.source)
    out: list[dict[str, object] | PaysimError] = []
    for (ok, value), run_arrivals in zip(
        _core.run_many(configs, threads, arrivals), generated, strict=True
    ):
        if ok:
            assert isinstance(value, str)
            out.append(summary_from_engine(json.loads(value), scenario=source))
        else:
            error = value if isinstance(value, PaysimError) else SimulationError(str(value))
            out.append(error if run_arrivals is None else run_arrivals.locate(error))
    return out
