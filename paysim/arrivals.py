"""Arrival-generator plugins: streams with a ``generator`` key get their payments from a
registered generator (``paysim_register_arrival_generators``) instead of the engine's Poisson
stream. The records are injected into the engine in bulk before the run starts (and so are part
of every checkpoint taken afterwards).

Each generator call gets the scenario, the agent id, the stream's ``options`` and a seed:
``derive_seed(rng_seed, agent_id, stream)`` with ``stream`` the name of the stream the generator
replaces (``single`` for ``arrival_config``, ``urgent``/``normal``/``low`` for bands), so a
generator's draws are reproducible, independent per agent, and change with ``--seed``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

import pluggy

from paysim import _core
from paysim.config import Scenario
from paysim.config.suggest import did_you_mean
from paysim.exceptions import ScenarioError
from paysim.hookspecs import ArrivalGenerator


def arrival_generators(pm: pluggy.PluginManager | None = None) -> dict[str, ArrivalGenerator]:
    """Every registered arrival generator by name."""
    from paysim.plugins import plugin_manager

    found: dict[str, ArrivalGenerator] = {}

    def register(generator: ArrivalGenerator) -> None:
        found[generator.name] = generator

    (pm or plugin_manager()).hook.paysim_register_arrival_generators(register=register)
    return found


def _generator_streams(scenario: Scenario) -> list[tuple[int, str, str, object]]:
    """``(agent index, agent id, stream name, generator config)`` of every generator stream."""
    out: list[tuple[int, str, str, object]] = []
    for i, agent in enumerate(scenario.agents):
        if agent.arrival_config is not None and agent.arrival_config.generator is not None:
            out.append((i, agent.id, "single", agent.arrival_config.generator))
        bands = agent.arrival_bands
        if bands is not None:
            for name in ("urgent", "normal", "low"):
                band = getattr(bands, name)
                if band is not None and band.generator is not None:
                    out.append((i, agent.id, name, band.generator))
    return out


def generated_arrivals(
    scenario: Scenario,
    config: Mapping[str, object],
    *,
    generators: Callable[[], dict[str, ArrivalGenerator]] = arrival_generators,
) -> tuple[list[Mapping[str, object]], list[str]]:
    """The arrival records of every generator stream of ``scenario`` for the run described by
    the normalized ``config`` (seed and length), and warnings. Records at or beyond the end of
    the run (shortened with ``--days``) are left out, with one warning."""
    streams = _generator_streams(scenario)
    if not streams:
        return [], []
    sim = config["simulation"]
    assert isinstance(sim, dict)
    seed, total = int(sim["rng_seed"]), int(sim["ticks_per_day"]) * int(sim["num_days"])
    known = generators()
    records: list[Mapping[str, object]] = []
    dropped = 0
    for index, agent_id, stream, gen in streams:
        name = str(getattr(gen, "name", ""))
        options = dict(getattr(gen, "options", {}) or {})
        pointer = (
            f"/agents/{index}/arrival_config/generator/name"
            if stream == "single"
            else f"/agents/{index}/arrival_bands/{stream}/generator/name"
        )
        plugin = known.get(name)
        if plugin is None:
            listed = ", ".join(f"`{n}`" for n in sorted(known)) or "none is installed"
            raise ScenarioError(
                f"unknown arrival generator `{name}` (registered: {listed})",
                file=None if scenario.source is None else str(scenario.source),
                pointer=pointer,
                suggestion=did_you_mean(name, sorted(known)),
            )
        stream_seed = _core.derive_seed(seed, agent_id, stream)
        for batch in plugin.generate(scenario, agent_id, options, stream_seed):
            for record in batch:
                tick = record.get("tick")
                if isinstance(tick, int) and tick >= total:
                    dropped += 1
                    continue
                records.append(record)
    warnings = []
    if dropped:
        warnings.append(
            f"{dropped} generated arrival(s) fall after the end of the run and are ignored"
        )
    return records, warnings


def records_json(records: list[Mapping[str, object]]) -> str:
    """The JSON the engine's ``inject_arrivals`` takes."""
    return json.dumps(list(records))
