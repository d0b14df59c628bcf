"""The engine config: one normalized JSON object per run (docs/engine-config.md).

The engine accepts only the normalized form, so everything that has several spellings in a
scenario is settled here: every key present with its default, settlement keys in
``settlement``, canonical enum spellings, penalties as objects, schedules as objects, legacy
priorities as distributions, bands as streams, generator streams as ``null`` and every policy
resolved to ``{document, parameters, source}``. Nothing that cannot change the simulation
(description, file names) is included, because the SHA-256 of the canonical JSON is the config
hash of checkpoints.

Warnings are returned as values: :func:`normalize` gives a :class:`NormalizeResult` with the
config and the warnings (today: events dropped by a shorter ``days``); :func:`to_engine_config`
returns the config alone and emits the same warnings through :mod:`warnings`.

Parameter precedence (INTERFACES.md §1), lowest first: the document's declared value (left in
the document), values the resolver reports for the reference, the scenario's
``policy_parameters`` or the SimCash form values (both for one name is an error), and
``param_overrides``. ``policy_overrides[agent]`` replaces the agent's policy and drops its
scenario ``policy_parameters``; overrides never apply to ``PolicyChange`` policies.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import math
import re
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

from pydantic import TypeAdapter, ValidationError

from paysim.config.loader import ScenarioWarning, to_pointer
from paysim.config.models import (
    Agent,
    AgentOutage,
    ArrivalBand,
    ArrivalStream,
    OneTimeSchedule,
    Penalty,
    PolicyChange,
    PolicySpec,
    RepeatingSchedule,
    Scenario,
    ScenarioEvent,
)
from paysim.config.models_base import MAX_DAYS, PARAMETER_NAME_PATTERN, SEED_MAX
from paysim.config.models_policy import PolicyRef, policy_label, reduce_policy
from paysim.config.models_settlement import episode_problem
from paysim.config.suggest import did_you_mean
from paysim.exceptions import ScenarioError

_DEFAULT_PRIORITY = {"type": "Fixed", "value": 5}


@functools.cache
def _policy_adapter() -> TypeAdapter[object]:
    """Built once: building a ``TypeAdapter`` costs ~10 ms, and ``paysim optimize`` normalizes
    a policy override for every run it makes."""
    return TypeAdapter(PolicySpec)


@dataclass(frozen=True)
class ResolvedPolicy:
    """What a policy resolver returns for one reference.

    ``parameters`` are values the reference itself implies (a plugin source may attach them);
    they rank just above the document's declared values. ``source`` is informational
    (``library:fifo``, a path, ``inline``).
    """

    document: dict[str, object]
    parameters: dict[str, float] = field(default_factory=dict)
    source: str = "inline"


PolicyResolver = Callable[[PolicyRef, Path | None], ResolvedPolicy]
"""Resolves a reference (string or inline document) given the scenario's directory (or
``None`` for references typed on the command line). Raises ``PolicyError`` or
``ScenarioError``."""


@dataclass(frozen=True)
class NormalizeResult:
    """The engine config and the warnings normalization produced."""

    config: dict[str, object]
    warnings: list[str]


def to_engine_config(
    scenario: Scenario,
    resolve_policy: PolicyResolver,
    *,
    seed: int | None = None,
    days: int | None = None,
    policy_overrides: Mapping[str, object] | None = None,
    param_overrides: Mapping[str, Mapping[str, float]] | None = None,
) -> dict[str, object]:
    """The normalized engine config; warnings go to :func:`warnings.warn`."""
    result = normalize(
        scenario,
        resolve_policy,
        seed=seed,
        days=days,
        policy_overrides=policy_overrides,
        param_overrides=param_overrides,
    )
    for message in result.warnings:
        warnings.warn(ScenarioWarning(message), stacklevel=2)
    return result.config


def normalize(
    scenario: Scenario,
    resolve_policy: PolicyResolver,
    *,
    seed: int | None = None,
    days: int | None = None,
    policy_overrides: Mapping[str, object] | None = None,
    param_overrides: Mapping[str, Mapping[str, float]] | None = None,
) -> NormalizeResult:
    """The normalized engine config of ``scenario`` with run-time overrides, plus warnings.

    ``seed`` replaces ``rng_seed``; ``days`` replaces ``num_days`` (events past the new end
    are dropped, outages cut at it, with one warning); ``policy_overrides`` maps an agent to a
    policy reference in any scenario form; ``param_overrides`` maps an agent to parameter
    values. Raises :class:`ScenarioError` for an invalid override.
    """
    builder = _Builder(scenario, resolve_policy)
    simulation = builder.simulation(seed, days)
    total = simulation["num_days"] * simulation["ticks_per_day"]
    policies = builder.override_policies(policy_overrides or {})
    params = builder.override_params(param_overrides or {})
    agents = [builder.agent(a, policies.get(a.id), params.get(a.id, {})) for a in scenario.agents]
    events, dropped = builder.events(total)
    notes: list[str] = []
    if dropped:
        notes.append(
            f"{builder.where()}: the run is shortened to {days} day(s) ({total} ticks), so "
            f"{len(dropped)} scenario event(s) past the new end are ignored or cut: "
            + "; ".join(dropped)
        )
    config: dict[str, object] = {
        "simulation": simulation,
        "agents": agents,
        "cost_rates": _cost_rates(scenario),
        # `algorithms` is left out when not given, so older configs keep their hash.
        "lsm_config": scenario.lsm_config.model_dump(mode="json", exclude_none=True),
        "settlement": _settlement(scenario),
        "scenario_events": events,
        "on_policy_error": scenario.on_policy_error,
    }
    return NormalizeResult(config, notes)


def canonical_json(config: Mapping[str, object]) -> str:
    """Canonical JSON of an engine config: sorted keys, no whitespace, finite numbers only."""
    return json.dumps(config, sort_keys=True, separators=(",", ":"), allow_nan=False)


def config_hash(config: Mapping[str, object]) -> str:
    """SHA-256 (hex) of :func:`canonical_json`: the config hash of checkpoints."""
    return hashlib.sha256(canonical_json(config).encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------------------------


class _Builder:
    def __init__(self, scenario: Scenario, resolve: PolicyResolver) -> None:
        self.scenario = scenario
        self.resolve = resolve
        self.ids = scenario.agent_ids()
        self.index = {agent_id: i for i, agent_id in enumerate(self.ids)}
        self.cache: dict[tuple[str, str], ResolvedPolicy] = {}

    def where(self) -> str:
        return self.scenario.source or "<scenario>"

    def fail(
        self, message: str, *, pointer: str | None = None, hint: str | None = None
    ) -> NoReturn:
        raise ScenarioError(message, file=self.scenario.source, pointer=pointer, suggestion=hint)

    def simulation(self, seed: int | None, days: int | None) -> dict[str, int]:
        sim = self.scenario.simulation
        if seed is not None and (not _is_int(seed) or not 0 <= seed <= SEED_MAX):
            self.fail(f"expected a seed in [0, 2^64), found {seed!r}")
        if days is not None:
            if not _is_int(days) or days < 1:
                self.fail(f"expected a number of days ≥ 1, found {days!r}")
            elif days > MAX_DAYS:
                self.fail(f"expected a number of days ≤ {MAX_DAYS:,}, found {days}")
            elif (problem := episode_problem(sim.ticks_per_day, days)) is not None:
                self.fail(problem.replace("num_days", "days"))
        return {
            "ticks_per_day": sim.ticks_per_day,
            "num_days": sim.num_days if days is None else days,
            "rng_seed": sim.rng_seed if seed is None else seed,
        }

    def check_agent(self, agent_id: str, what: str) -> None:
        if agent_id not in self.index:
            self.fail(
                f"{what} names unknown agent `{agent_id}`; the scenario's agents are "
                + ", ".join(f"`{a}`" for a in self.ids),
                hint=did_you_mean(agent_id, self.ids),
            )

    def override_policies(self, overrides: Mapping[str, object]) -> dict[str, object]:
        adapter = _policy_adapter()
        out: dict[str, object] = {}
        for agent_id, ref in overrides.items():
            self.check_agent(agent_id, "a policy override")
            try:
                out[agent_id] = adapter.validate_python(ref)
            except ValidationError as exc:
                first = exc.errors(include_url=False)[0]
                self.fail(f"the policy override for agent `{agent_id}` is invalid: {first['msg']}")
        return out

    def override_params(
        self, overrides: Mapping[str, Mapping[str, float]]
    ) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for agent_id, values in overrides.items():
            self.check_agent(agent_id, "a parameter override")
            for name, value in values.items():
                if not re.fullmatch(PARAMETER_NAME_PATTERN, name):
                    self.fail(f"expected a parameter name for agent `{agent_id}`, found {name!r}")
                if not _is_number(value):
                    self.fail(
                        f"expected a finite number for parameter `{name}` of agent "
                        f"`{agent_id}`, found {value!r}"
                    )
            out[agent_id] = {name: float(value) for name, value in values.items()}
        return out

    def policy(
        self,
        spec: object,
        scenario_params: Mapping[str, float],
        overrides: Mapping[str, float],
        base_dir: Path | None,
        pointer: str | None,
    ) -> dict[str, object]:
        ref, form_values = reduce_policy(spec)
        for name in form_values:
            if name in scenario_params:
                self.fail(
                    f"`{name}` is given both by the policy form {policy_label(spec)} and in "
                    "`policy_parameters`; give it in one place only",
                    pointer=pointer,
                )
        key = (json.dumps(ref, sort_keys=True), str(base_dir))
        resolved = self.cache.get(key)
        if resolved is None:
            try:
                resolved = self.resolve(ref, base_dir)
            except ScenarioError as exc:
                if exc.file is not None:
                    raise
                raise ScenarioError(
                    exc.message,
                    file=self.scenario.source,
                    pointer=pointer,
                    suggestion=exc.suggestion,
                ) from exc
            self.cache[key] = resolved
        merged = {**resolved.parameters, **form_values, **scenario_params, **overrides}
        return {
            "document": copy.deepcopy(resolved.document),
            "parameters": {name: float(merged[name]) for name in sorted(merged)},
            "source": resolved.source,
        }

    def agent(
        self, agent: Agent, override: object | None, params: Mapping[str, float]
    ) -> dict[str, object]:
        index = self.index[agent.id]
        if override is not None:
            # The scenario's policy_parameters belonged to the replaced policy: dropped.
            policy = self.policy(override, {}, params, None, None)
        else:
            policy = self.policy(
                agent.policy,
                agent.policy_parameters,
                params,
                self.scenario.base_dir,
                f"/agents/{index}/policy",
            )
        bands = agent.arrival_bands
        return {
            "id": agent.id,
            "opening_balance": agent.opening_balance,
            "unsecured_cap": agent.unsecured_cap,
            "posted_collateral": agent.posted_collateral,
            "collateral_haircut": agent.collateral_haircut,
            "max_collateral_capacity": agent.max_collateral_capacity,
            "liquidity_pool": agent.liquidity_pool,
            "liquidity_allocation_fraction": agent.liquidity_allocation_fraction,
            "liquidity_buffer": agent.liquidity_buffer,
            "limits": {
                "bilateral_limits": dict(agent.limits.bilateral_limits),
                "multilateral_limit": agent.limits.multilateral_limit,
            },
            "policy": policy,
            "arrival_config": _stream(agent.arrival_config),
            "arrival_bands": None
            if bands is None
            else {
                "urgent": _stream(bands.urgent),
                "normal": _stream(bands.normal),
                "low": _stream(bands.low),
            },
        }

    def events(self, total: int) -> tuple[list[dict[str, object]], list[str]]:
        out: list[dict[str, object]] = []
        dropped: list[str] = []
        for k, event in enumerate(self.scenario.scenario_events):
            where = f"#{k} {event.type} ({to_pointer(('scenario_events', k))})"
            if isinstance(event, AgentOutage):
                if event.start_tick >= total:
                    dropped.append(f"{where} starting at tick {event.start_tick}")
                    continue
                item = self.event(event, k)
                if event.end_tick > total:
                    dropped.append(f"{where} cut to end at tick {total}")
                    item["end_tick"] = total
                out.append(item)
                continue
            first = _first_tick(event)
            if first >= total:
                dropped.append(f"{where} at tick {first}")
                continue
            out.append(self.event(event, k))
        return out, dropped

    def event(self, event: ScenarioEvent, index: int) -> dict[str, object]:
        fields = event.model_dump(mode="json", by_alias=True, exclude={"type", "schedule"})
        out: dict[str, object] = {"type": event.type, "schedule": None}
        if not isinstance(event, AgentOutage):
            out["schedule"] = event.schedule.model_dump(mode="json")
        if isinstance(event, PolicyChange):
            fields.pop("policy_parameters", None)
            fields["policy"] = self.policy(
                event.policy,
                event.policy_parameters,
                {},
                self.scenario.base_dir,
                f"/scenario_events/{index}/policy",
            )
        out.update(fields)
        return out


def _first_tick(event: ScenarioEvent) -> int:
    if isinstance(event, AgentOutage):
        return event.start_tick
    schedule = event.schedule
    if isinstance(schedule, OneTimeSchedule):
        return schedule.tick
    assert isinstance(schedule, RepeatingSchedule)
    return schedule.start_tick


def _stream(stream: ArrivalStream | ArrivalBand | None) -> dict[str, object] | None:
    if stream is None or stream.generator is not None:
        return None
    assert stream.rate_per_tick is not None and stream.amount_distribution is not None
    priority: object
    if isinstance(stream, ArrivalBand):
        assert stream.deadline_offset_min is not None and stream.deadline_offset_max is not None
        deadline_range = [stream.deadline_offset_min, stream.deadline_offset_max]
        priority = None
    else:
        deadline_range = list(stream.deadline_range)
        if stream.priority_distribution is not None:
            priority = stream.priority_distribution.model_dump(mode="json")
        elif stream.priority is not None:
            priority = {"type": "Fixed", "value": stream.priority}
        else:
            priority = dict(_DEFAULT_PRIORITY)
    return {
        "rate_per_tick": stream.rate_per_tick,
        "amount_distribution": stream.amount_distribution.model_dump(
            mode="json", by_alias=True, exclude_none=True
        ),
        "counterparty_weights": dict(stream.counterparty_weights),
        "deadline_range": deadline_range,
        "priority_distribution": priority,
        "divisible": stream.divisible,
        "time_windows": [w.model_dump(mode="json") for w in stream.time_windows],
    }


def _penalty(value: Penalty | None) -> dict[str, object] | None:
    if value is None:
        return None
    if isinstance(value, int):
        return {"mode": "fixed", "amount": value}
    return value.model_dump(mode="json")


def _cost_rates(scenario: Scenario) -> dict[str, object]:
    rates = scenario.cost_rates
    return {
        "overdraft_bps_per_tick": rates.overdraft_bps_per_tick,
        "delay_cost_per_tick_per_cent": rates.delay_cost_per_tick_per_cent,
        "collateral_cost_per_tick_bps": rates.collateral_cost_per_tick_bps,
        "liquidity_cost_per_tick_bps": rates.liquidity_cost_per_tick_bps,
        "deadline_penalty": _penalty(rates.deadline_penalty),
        "eod_penalty": _penalty(rates.eod_penalty),
        "drop_penalty": _penalty(rates.drop_penalty),
        "split_friction_cost": rates.split_friction_cost,
        "overdue_delay_multiplier": rates.overdue_delay_multiplier,
        "priority_delay_multipliers": rates.priority_delay_multipliers.model_dump(mode="json"),
    }


def _settlement(scenario: Scenario) -> dict[str, object]:
    out = scenario.settlement.model_dump(mode="json")
    out["throughput_guidance"] = [
        [float(x), float(y)] for x, y in scenario.settlement.throughput_guidance
    ]
    return out


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
