"""``paysim.Simulation``: one run of a scenario, and ``run_many`` for many at once.

The scenario is validated by :mod:`paysim.config`, its policies resolved through the policy
sources (and the one policy loader, :mod:`paysim.policy.loader`), and the normalized engine config
crosses into the engine once. Engine work (``run``, ``run_until``, ``tick``) releases the GIL; a
run driven by :meth:`Simulation.run` makes one call into the engine, which takes the GIL back only
every 50 ms to let Ctrl-C through, so Python costs nothing per tick and an interrupted run stops
between two ticks.

Misuse of the API (an unknown override key, an integer out of range, a tick already passed) is an
:class:`~paysim.exceptions.ArgumentError`, never a bare ``ValueError`` or ``OverflowError``.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

from pydantic import JsonValue

from paysim import _core
from paysim.arrivals import generated_arrivals
from paysim.config import PolicyRef, ResolvedPolicy, Scenario, load_scenario, normalize
from paysim.config.normalize import canonical_json
from paysim.config.suggest import did_you_mean
from paysim.exceptions import ArgumentError, PaysimError, PolicyError, SimulationError
from paysim.policy import resolve_policy

if TYPE_CHECKING:
    import pyarrow as pa

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
    "settlement_delay",
    "avg_settlement_delay",
    "peak_net_debit",
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
    "settlement_delay",
    "peak_net_debit",
)
RUN_METADATA_KEYS = ("paysim_version", "scenario", "simulation_id", "wall_seconds", "plugins")
"""Keys excluded whenever summaries are compared for identity (INTERFACES.md §1)."""

OVERRIDE_KEYS = ("policies", "params")
"""The keys of one ``run_many`` override (INTERFACES.md §2)."""

_U32_MAX = 2**32 - 1
_U64_MAX = 2**64 - 1


def _count(name: str, value: object, maximum: int = _U64_MAX) -> int:
    """``value`` as a non-negative integer up to ``maximum``; :class:`ArgumentError` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ArgumentError(f"{name} must be an integer, not {type(value).__name__}")
    if not 0 <= value <= maximum:
        raise ArgumentError(f"{name} must be in [0, {maximum}], found {value}")
    return value


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
    inputs: list[Path] | None = None,
) -> tuple[str, list[str]]:
    """The canonical engine-config JSON of a scenario with run-time overrides, and warnings.

    ``inputs``, when given, receives every policy file read (files no output may overwrite)."""

    def resolve(ref: PolicyRef, base_dir: Path | None) -> ResolvedPolicy:
        return resolve_policy(ref, base_dir, files=inputs)

    result = normalize(
        scenario,
        resolve,
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
        files: list[Path] = []
        self._config_json, self.warnings = engine_config(
            self.scenario, seed=seed, days=days, policies=policies, params=params, inputs=files
        )
        self.input_files = _input_files(self.scenario, files)
        self._engine = _new_engine(self._config_json)
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
        sim.input_files = _input_files(scenario, [])
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
        """Run until ``current_tick == tick``. A tick already passed, or beyond the end of the
        episode, is an :class:`~paysim.exceptions.ArgumentError`; the current tick is a no-op."""
        _count("tick", tick)
        if tick < self.current_tick:
            raise ArgumentError(
                f"tick {tick} has already passed (the simulation is at tick {self.current_tick}); "
                "a simulation only moves forward — restore a checkpoint to go back"
            )
        if tick > self.total_ticks:
            raise ArgumentError(
                f"tick {tick} is beyond the end of the episode ({self.total_ticks} ticks)"
            )
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

    def events(self, since_seq: int | None = None, max_rows: int | None = None) -> pa.Table:
        """Retained events with ``seq >= since_seq`` (at most ``max_rows``) as a
        ``pyarrow.Table``. By default, every event still held: from seq 0 for a new simulation,
        from the checkpoint on for a restored one, from the last release for a drained one.
        Asking for released events is a :class:`~paysim.exceptions.SimulationError`."""
        from paysim.events import events_table  # pyarrow: imported only when events are read

        since = self.oldest_retained_seq if since_seq is None else _count("since_seq", since_seq)
        rows = None if max_rows is None else _count("max_rows", max_rows, 2**63 - 1)
        return events_table(self._engine, since, rows)

    @property
    def oldest_retained_seq(self) -> int:
        """The seq of the oldest event still held (events below it were released)."""
        return self._engine.oldest_retained_seq

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
        self._engine.release_events_before(_count("seq", seq))

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
        if not isinstance(data, bytes | bytearray | memoryview):
            raise ArgumentError(f"a checkpoint is bytes, not {type(data).__name__}")
        engine = _with_policy_files(config_json, lambda: _core.Engine.restore(config_json, data))
        return cls._from_engine(sc, config_json, engine)

    def set_policy(
        self,
        agent_id: str,
        policy: str | Mapping[str, object],
        params: Mapping[str, float] | None = None,
    ) -> None:
        """Replace an agent's policy from the next tick (a reference or a document)."""
        base = self.scenario.base_dir
        if not isinstance(policy, str | Mapping):
            raise ArgumentError(
                "a policy is a reference (str) or a document (mapping), "
                f"not {type(policy).__name__}"
            )
        overrides = _params(f"the parameters for agent `{agent_id}`", params or {})
        ref: PolicyRef = (
            policy if isinstance(policy, str) else cast(dict[str, JsonValue], dict(policy))
        )
        files: list[Path] = []
        resolved = resolve_policy(ref, base, files=files)
        payload = {
            "document": resolved.document,
            "parameters": {**resolved.parameters, **overrides},
            "source": resolved.source,
        }
        try:
            self._engine.set_policy(agent_id, json.dumps(payload, allow_nan=False))
        except PolicyError as exc:
            if exc.file is None:
                exc.file = resolved.source
            raise
        self.input_files.extend(str(f) for f in files if str(f) not in self.input_files)


def _params(what: str, values: object) -> dict[str, float]:
    """Parameter overrides ``{name: number}``; :class:`ArgumentError` for anything else."""
    if not isinstance(values, Mapping):
        raise ArgumentError(f"{what} are a mapping {{name: number}}, not {type(values).__name__}")
    out: dict[str, float] = {}
    for name, value in values.items():
        if not isinstance(name, str):
            raise ArgumentError(f"{what}: a parameter name is a string, found {name!r}")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ArgumentError(f"{what}: `{name}` must be a number, found {value!r}")
        if not math.isfinite(float(value)):
            raise ArgumentError(f"{what}: `{name}` must be a finite number, found {value!r}")
        out[name] = float(value)
    return out


def _input_files(scenario: Scenario, policy_files: list[Path]) -> list[str]:
    """The files a run reads: the scenario and its policy files (no output may overwrite them)."""
    files = [] if scenario.source is None else [str(scenario.source)]
    for path in policy_files:
        if str(path) not in files:
            files.append(str(path))
    return files


def _policy_sources(config_json: str) -> dict[str, str]:
    """The policy source of each agent's initial policy in an engine config."""
    config = json.loads(config_json)
    out: dict[str, str] = {}
    for agent in config.get("agents", []):
        policy = agent.get("policy") if isinstance(agent, dict) else None
        if isinstance(policy, dict) and isinstance(policy.get("source"), str):
            out[str(agent.get("id"))] = policy["source"]
    return out


def _with_policy_files(config_json: str, build: Callable[[], _core.Engine]) -> _core.Engine:
    """``build()``, with a policy rejected by the engine (e.g. an override it does not declare)
    named by the policy's source when the error does not say it."""
    try:
        return build()
    except PolicyError as exc:
        if exc.file is None and exc.agent_id is not None:
            exc.file = _policy_sources(config_json).get(exc.agent_id)
        raise


def _new_engine(config_json: str) -> _core.Engine:
    return _with_policy_files(config_json, lambda: _core.Engine(config_json))


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
    seeds = [_count("a seed", seed) for seed in seeds]
    if threads is not None:
        _count("threads", threads, 4096)
    if overrides is not None and len(overrides) != len(seeds):
        raise ArgumentError(
            f"overrides needs one entry per seed: {len(seeds)} seeds, {len(overrides)} overrides"
        )
    configs = []
    arrivals = []
    generated = []
    for i, seed in enumerate(seeds):
        policies, params = _override(i, overrides[i] if overrides is not None else None)
        config_json, _ = engine_config(sc, seed=seed, policies=policies, params=params)
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
            engine_summary = json.loads(value)
            wall = engine_summary.get("wall_seconds")
            out.append(
                summary_from_engine(
                    engine_summary,
                    scenario=source,
                    wall_seconds=float(wall) if isinstance(wall, int | float) else 0.0,
                )
            )
        else:
            error = value if isinstance(value, PaysimError) else SimulationError(str(value))
            out.append(error if run_arrivals is None else run_arrivals.locate(error))
    return out


def _override(
    index: int, override: Mapping[str, object] | None
) -> tuple[Mapping[str, object] | None, dict[str, dict[str, float]] | None]:
    """The policies and params of one ``run_many`` override, checked: unknown keys and values of
    the wrong shape are :class:`ArgumentError` naming the entry."""
    if override is None:
        return None, None
    where = f"overrides[{index}]"
    if not isinstance(override, Mapping):
        raise ArgumentError(f"{where} must be a mapping or None, not {type(override).__name__}")
    for key in override:
        if key not in OVERRIDE_KEYS:
            hint = did_you_mean(str(key), list(OVERRIDE_KEYS))
            raise ArgumentError(
                f"{where} has the unknown key {key!r}; expected "
                + " or ".join(f"`{k}`" for k in OVERRIDE_KEYS)
                + (f" ({hint})" if hint else "")
            )
    policies = override.get("policies")
    if policies is not None and not isinstance(policies, Mapping):
        raise ArgumentError(f"{where}['policies'] must be a mapping {{agent: policy}}")
    raw = override.get("params")
    params: dict[str, dict[str, float]] | None = None
    if raw is not None:
        if not isinstance(raw, Mapping):
            raise ArgumentError(f"{where}['params'] must be a mapping {{agent: {{name: value}}}}")
        params = {str(a): _params(f"{where}['params'][{a!r}]", v) for a, v in raw.items()}
    return policies, params
