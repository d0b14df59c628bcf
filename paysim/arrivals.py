"""Arrival-generator plugins: streams with a ``generator`` key get their payments from a
registered generator (``paysim_register_arrival_generators``) instead of the engine's Poisson
stream. The records are injected into the engine before the run starts (and so are part of every
checkpoint taken afterwards).

Each generator call gets the scenario, the agent id, the stream's ``options`` and a seed:
``derive_seed(rng_seed, agent_id, stream)`` with ``stream`` the name of the stream the generator
replaces (``single`` for ``arrival_config``, ``urgent``/``normal``/``low`` for bands), so a
generator's draws are reproducible, independent per agent, and change with ``--seed``.
Batches come in tick order, so a generator is not consumed past its first batch that lies
wholly after the end of the run (an endless generator stops there).

A generator yields batches, a day or more of payments each, in any of three forms: a
``pyarrow.RecordBatch``, a dict of columns (lists, NumPy arrays or Arrow arrays), or a list of
records (dicts). :mod:`paysim.arrival_columns` turns each batch into fixed Arrow columns with
vectorised checks, and one call hands their buffers to the engine (``_core.ArrivalBatch``):
nothing is done per payment in Python except for lists of dicts, which are columns only after
Python has walked them. The engine validates each batch as a whole (ENGINE.md §9.3) and the
record it rejects is reported with the generator, the plugin, the batch, the record index in
that batch and the field (:class:`GeneratorRecordError`, exit code 2). A generator that raises
is a :class:`~paysim.plugins.PluginError` (exit code 1) naming the plugin and the hook.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import pluggy

from paysim import _core
from paysim.config import Scenario
from paysim.config.suggest import did_you_mean
from paysim.exceptions import PaysimError, ScenarioError
from paysim.hookspecs import ArrivalGenerator
from paysim.plugins import PluginError, PluginInfo, Registration, collect

HOOK = "paysim_register_arrival_generators"


class GeneratorRecordError(ScenarioError):
    """A generator yielded a batch or record paysim cannot use (bad input: exit code 2)."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        pointer: str | None = None,
        generator: str = "",
        plugin: PluginInfo | None = None,
        agent_id: str = "",
        batch: int | None = None,
        record: int | None = None,
        field: str | None = None,
    ) -> None:
        self.generator = generator
        self.plugin = plugin
        self.agent_id = agent_id
        self.batch = batch
        self.record = record
        self.field = field
        super().__init__(message, file=file, pointer=pointer)


def registered_generators(
    pm: pluggy.PluginManager | None = None,
) -> dict[str, Registration[ArrivalGenerator]]:
    """Every registered arrival generator by name, with the plugin that registered it."""

    def adapt(generator: ArrivalGenerator) -> tuple[str, ArrivalGenerator]:
        name = getattr(generator, "name", None)
        if (
            not isinstance(name, str)
            or not name
            or not callable(getattr(generator, "generate", None))
        ):
            raise TypeError(
                f"{generator!r} is not an arrival generator (needs `name` and `generate`)"
            )
        return name, generator

    return collect(HOOK, adapt, pm)


def arrival_generators(pm: pluggy.PluginManager | None = None) -> dict[str, ArrivalGenerator]:
    """Every registered arrival generator by name."""
    return {name: reg.value for name, reg in registered_generators(pm).items()}


@dataclass(frozen=True)
class _Stream:
    index: int
    agent_id: str
    stream: str
    config: object

    @property
    def pointer(self) -> str:
        if self.stream == "single":
            return f"/agents/{self.index}/arrival_config/generator"
        return f"/agents/{self.index}/arrival_bands/{self.stream}/generator"


def _generator_streams(scenario: Scenario) -> list[_Stream]:
    """Every generator stream of the scenario, in agent order."""
    out: list[_Stream] = []
    for i, agent in enumerate(scenario.agents):
        if agent.arrival_config is not None and agent.arrival_config.generator is not None:
            out.append(_Stream(i, agent.id, "single", agent.arrival_config.generator))
        bands = agent.arrival_bands
        if bands is not None:
            for name in ("urgent", "normal", "low"):
                band = getattr(bands, name)
                if band is not None and band.generator is not None:
                    out.append(_Stream(i, agent.id, name, band.generator))
    return out


@dataclass(frozen=True)
class _Origin:
    """Where one engine batch came from, to name a rejected record."""

    stream: _Stream
    name: str
    plugin: PluginInfo
    batch: int
    kept: list[int] | None
    """Original record indices of the rows kept (``None``: all rows, in order)."""


@dataclass
class GeneratedArrivals:
    """The arrivals of every generator stream of one run, ready for the engine."""

    file: str | None
    batches: list[_core.ArrivalBatch] = field(default_factory=list)
    origins: list[_Origin] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(len(b) for b in self.batches)

    def inject(self, engine: _core.Engine) -> None:
        """Queues every batch in ``engine``; a rejected record raises
        :class:`GeneratorRecordError`."""
        for batch, origin in zip(self.batches, self.origins, strict=True):
            try:
                _core.inject_arrival_batch(engine, batch)
            except ScenarioError as exc:
                index = getattr(exc, "record_index", None)
                if not isinstance(index, int):
                    raise
                raise self._located(
                    origin, index, str(getattr(exc, "record_field", "")), exc.message
                ) from None

    def locate(self, error: PaysimError) -> PaysimError:
        """A ``run_many`` error about record ``/k/field`` of the run's concatenated batches,
        as a :class:`GeneratorRecordError` (other errors unchanged)."""
        pointer = getattr(error, "pointer", None)
        match = (
            re.fullmatch(r"/(\d+)/(\w+)", pointer or "")
            if isinstance(error, ScenarioError)
            else None
        )
        if match is None or not self.batches:
            return error
        assert isinstance(error, ScenarioError)
        index, field_name = int(match.group(1)), match.group(2)
        starts = []
        total = 0
        for batch in self.batches:
            starts.append(total)
            total += len(batch)
        slot = bisect.bisect_right(starts, index) - 1
        return self._located(self.origins[slot], index - starts[slot], field_name, error.message)

    def _located(
        self, origin: _Origin, row: int, field_name: str, problem: str
    ) -> GeneratorRecordError:
        record = origin.kept[row] if origin.kept is not None else row
        return record_error(
            origin.stream,
            origin.name,
            origin.plugin,
            self.file,
            f"batch {origin.batch}, record {record}, field `{field_name}`: {problem}",
            batch=origin.batch,
            record=record,
            field_name=field_name,
        )


def record_error(
    stream: _Stream,
    name: str,
    plugin: PluginInfo,
    file: str | None,
    where: str,
    *,
    batch: int | None = None,
    record: int | None = None,
    field_name: str | None = None,
) -> GeneratorRecordError:
    """A located error about what generator ``name`` yielded for ``stream``."""
    return GeneratorRecordError(
        f"{plugin.describe()}, hook `{HOOK}`: generator `{name}` for agent "
        f"`{stream.agent_id}` yielded a bad record ({where})",
        file=file,
        pointer=stream.pointer,
        generator=name,
        plugin=plugin,
        agent_id=stream.agent_id,
        batch=batch,
        record=record,
        field=field_name,
    )


def generated_arrivals(
    scenario: Scenario,
    config: Mapping[str, object],
    *,
    generators: Callable[[], dict[str, Registration[ArrivalGenerator]]] = registered_generators,
) -> GeneratedArrivals | None:
    """The arrivals of every generator stream of ``scenario`` for the run described by the
    normalized ``config`` (seed, clock, agents), or ``None`` when it has no generator stream.
    Records at or beyond the end of the run (shortened with ``--days``) are left out, with one
    warning."""
    from paysim.arrival_columns import BatchError, to_engine_batch

    streams = _generator_streams(scenario)
    if not streams:
        return None
    sim = config["simulation"]
    assert isinstance(sim, dict)
    seed, total = int(sim["rng_seed"]), int(sim["ticks_per_day"]) * int(sim["num_days"])
    file = None if scenario.source is None else str(scenario.source)
    known = generators()
    out = GeneratedArrivals(file)
    dropped = 0
    for stream in streams:
        name = str(getattr(stream.config, "name", ""))
        options = dict(getattr(stream.config, "options", {}) or {})
        registration = known.get(name)
        if registration is None:
            listed = ", ".join(f"`{n}`" for n in sorted(known)) or "none is installed"
            raise ScenarioError(
                f"unknown arrival generator `{name}` (registered: {listed})",
                file=file,
                pointer=f"{stream.pointer}/name",
                suggestion=did_you_mean(name, sorted(known)),
            )
        plugin = registration.plugin
        stream_seed = _core.derive_seed(seed, stream.agent_id, stream.stream)
        number = -1
        try:
            for number, raw in enumerate(
                registration.value.generate(scenario, stream.agent_id, options, stream_seed)
            ):
                try:
                    batch, kept, late = to_engine_batch(raw, total)
                except BatchError as problem:
                    raise record_error(
                        stream,
                        name,
                        plugin,
                        file,
                        f"batch {number}{problem.where()}: {problem}",
                        batch=number,
                        record=problem.record,
                        field_name=problem.field,
                    ) from None
                dropped += late
                if batch is not None:
                    out.batches.append(batch)
                    out.origins.append(_Origin(stream, name, plugin, number, kept))
                elif late:
                    # Batches come in tick order: once one lies wholly after the end of the
                    # run, nothing later can arrive, and an endless generator must not hang.
                    break
        except PaysimError as exc:
            raise _attributed(exc, stream, name, plugin, file) from None
        except Exception as exc:
            after = f" after {number + 1} batch(es)" if number >= 0 else ""
            raise PluginError(
                f"generator `{name}` for agent `{stream.agent_id}` raised "
                f"{type(exc).__name__}: {exc}{after}",
                plugin=plugin,
                hook=HOOK,
            ) from exc
    if dropped:
        out.warnings.append(
            f"{dropped} generated arrival(s) fall after the end of the run and are ignored"
        )
    return out


def _attributed(
    exc: PaysimError, stream: _Stream, name: str, plugin: PluginInfo, file: str | None
) -> PaysimError:
    """A deliberate error of a generator (bad options, bad data), located at the generator
    stream when it names no file of its own, and naming the plugin."""
    if isinstance(exc, GeneratorRecordError) or not isinstance(exc, ScenarioError):
        return exc
    if exc.file is None:
        exc.file, exc.pointer = file, f"{stream.pointer}/options"
    exc.message = (
        f"{plugin.describe()}, hook `{HOOK}`, generator `{name}` for agent "
        f"`{stream.agent_id}`: {exc.message}"
    )
    exc.args = (str(exc),)
    return exc
