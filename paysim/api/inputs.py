"""Turning what a client sends into a :class:`paysim.Simulation`, safely.

The scenario is read and validated by :mod:`paysim.config` exactly as ``paysim run`` reads a file
(the same messages, pointers and YAML line numbers), with three guards a server needs and a
command line does not:

* **size** — YAML aliases can make a small text expand into a huge tree; the parsed value is
  walked with a budget (:func:`check_size`) before anything else touches it;
* **limits** — agents, ticks and expected payments are checked against the settings
  (:func:`check_limits`) before the engine allocates anything;
* **policy files** — a policy reference may only read files inside the configured policy
  directory (:class:`PolicyGuard`); library names, plugin sources and inline documents are
  fine. Relative policy paths of a scenario resolve against that directory.

Everything here is synchronous and runs in a worker thread; the routes only await it.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from pydantic import JsonValue

from paysim.api.errors import ApiError
from paysim.api.settings import ApiSettings
from paysim.config import PolicyRef, ResolvedPolicy, Scenario, ScenarioWarning, normalize
from paysim.config.loader import parse_text_with_lines, validate_parsed
from paysim.config.models import (
    AgentArrivalRateChange,
    CustomTransactionArrival,
    GlobalArrivalRateChange,
    RepeatingSchedule,
)
from paysim.config.models_arrivals import peak_window_multiplier
from paysim.config.models_base import MAX_LAMBDA
from paysim.exceptions import ScenarioError
from paysim.policy import resolve_policy
from paysim.simulation import Simulation

# warnings.catch_warnings() changes process-wide state: loads that collect warnings take turns.
_WARNINGS_LOCK = threading.Lock()


def _limit(message: str, pointer: str, source: str | None = None) -> ApiError:
    where = f"{source or '<scenario>'} at {pointer or '/'}"
    return ApiError(422, "limit_exceeded", f"{where}: {message}", pointer=pointer)


def check_size(data: object, max_nodes: int, max_depth: int = 64) -> None:
    """Refuses a parsed value with more than ``max_nodes`` values (aliases counted as often as
    they are used) or nested deeper than ``max_depth``; costs at most ``max_nodes`` steps."""
    budget = max_nodes
    stack: list[tuple[object, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        budget -= 1
        if budget < 0:
            raise _limit(
                f"the scenario has more than {max_nodes} values (YAML aliases expanded); "
                "this server accepts at most that many",
                "",
            )
        if depth > max_depth:
            raise _limit(f"the scenario is nested more than {max_depth} levels deep", "")
        if isinstance(value, Mapping):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)


def parse_scenario(
    value: str | Mapping[str, object],
    *,
    source: str | None,
    base_dir: Path | None,
    settings: ApiSettings,
) -> tuple[Scenario, list[str]]:
    """A validated scenario from text (YAML or JSON) or an already-parsed object, and the
    warnings its loading raised."""
    with _WARNINGS_LOCK, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ScenarioWarning)
        if isinstance(value, str):
            # The loader's reader bounds aliases, depth and size itself (no recursion).
            data, lines = parse_text_with_lines(value, source=source)
        else:
            data, lines = value, None
        check_size(data, settings.max_nodes)
        scenario = validate_parsed(data, source=source, base_dir=base_dir, lines=lines)
    notes = [str(w.message) for w in caught if issubclass(w.category, ScenarioWarning)]
    return scenario, notes


def expected_arrivals(scenario: Scenario, total_ticks: int) -> float:
    """An upper bound of the payments a run will create: every Poisson stream at its peak rate
    (time windows, the largest global and agent rate multipliers, the engine's λ cap) over the
    whole episode, plus the scheduled payments. Plugin generators are not counted."""
    events = scenario.scenario_events
    global_peak = max(
        [1.0, *(e.multiplier for e in events if isinstance(e, GlobalArrivalRateChange))]
    )
    total = 0.0
    for agent in scenario.agents:
        agent_peak = max(
            [
                1.0,
                *(
                    e.multiplier
                    for e in events
                    if isinstance(e, AgentArrivalRateChange) and e.agent == agent.id
                ),
            ]
        )
        for _path, stream in agent.streams():
            if stream.rate_per_tick is None:
                continue
            peak = stream.rate_per_tick * peak_window_multiplier(stream.time_windows)
            total += min(MAX_LAMBDA, peak * global_peak * agent_peak) * total_ticks
    for e in events:
        if isinstance(e, CustomTransactionArrival):
            s = e.schedule
            if isinstance(s, RepeatingSchedule):
                total += max(0, (total_ticks - 1 - s.start_tick) // s.interval + 1)
            else:
                total += 1
    return total


def check_limits(scenario: Scenario, days: int | None, settings: ApiSettings) -> None:
    """Refuses (422) a scenario larger than the server allows."""
    agents = len(scenario.agents)
    if agents > settings.max_agents:
        raise _limit(
            f"{agents} agents; this server accepts at most {settings.max_agents}",
            "/agents",
            scenario.source,
        )
    sim = scenario.simulation
    ticks = (days if days is not None else sim.num_days) * sim.ticks_per_day
    if ticks > settings.max_ticks:
        raise _limit(
            f"{ticks} ticks (days × ticks_per_day); this server accepts at most "
            f"{settings.max_ticks}",
            "/simulation",
            scenario.source,
        )
    expected = expected_arrivals(scenario, ticks)
    if expected > settings.max_arrivals:
        raise _limit(
            f"up to {expected:,.0f} payments expected (peak arrival rates × {ticks} ticks); "
            f"this server accepts at most {settings.max_arrivals:,}",
            "/agents",
            scenario.source,
        )


def _is_path(ref: str) -> bool:
    return ref.endswith(".json") or "/" in ref


@dataclass(frozen=True)
class PolicyGuard:
    """Lets policy references read files only inside ``policy_dir``."""

    policy_dir: Path | None

    def file(self, ref: str) -> Path:
        """The file a path reference names inside the policy directory, or a ScenarioError."""
        if self.policy_dir is None:
            raise ScenarioError(
                f"policy file `{ref}`: this server reads no policy files; use a library "
                "policy, `source:name` or an inline document (or start it with --policy-dir)"
            )
        root = self.policy_dir.resolve()
        try:
            target = (root / ref).resolve()
        except (OSError, ValueError, RuntimeError):
            target = None
        if target is None or not target.is_relative_to(root):
            raise ScenarioError(
                f"policy file `{ref}` is outside the policy directory of this server"
            )
        if not target.is_file():
            raise ScenarioError(f"policy file `{ref}` not found in the policy directory")
        return target

    def check(self, ref: PolicyRef) -> None:
        """Raises ScenarioError when resolving ``ref`` would read outside the directory."""
        if not isinstance(ref, str):
            return
        colon, slash = ref.find(":"), ref.find("/")
        if colon > 0 and (slash < 0 or colon < slash):
            source, name = ref[:colon], ref[colon + 1 :]
            if source == "file":
                self.file(name)
            elif source == "library" and (_is_path(name) or name.startswith(".")):
                raise ScenarioError(f"`{ref}`: a library policy is named without a path")
            return
        if _is_path(ref):
            self.file(ref)

    def resolve(self, ref: PolicyRef, base_dir: Path | None) -> ResolvedPolicy:
        """A policy resolver (``paysim.config.PolicyResolver``) that checks first."""
        self.check(ref)
        return resolve_policy(ref, self.policy_dir)

    def detach(self, ref: PolicyRef) -> PolicyRef:
        """``ref`` in a form that resolves the same wherever it is resolved: a file reference
        becomes its document (read from the policy directory); anything else is unchanged."""
        self.check(ref)
        if not isinstance(ref, str):
            return ref
        colon, slash = ref.find(":"), ref.find("/")
        if colon > 0 and (slash < 0 or colon < slash):
            if ref[:colon] != "file":
                return ref
            name = ref[colon + 1 :]
        elif _is_path(ref):
            name = ref
        else:
            return ref
        document = resolve_policy(str(self.file(name)), None).document
        return cast(dict[str, JsonValue], document)


@dataclass
class Recipe:
    """How a simulation was made: what restoring a checkpoint must repeat."""

    scenario: Scenario
    seed: int | None = None
    days: int | None = None
    policies: dict[str, PolicyRef] = field(default_factory=dict)
    params: dict[str, dict[str, float]] = field(default_factory=dict)

    def build(self) -> Simulation:
        return Simulation(
            self.scenario,
            self.seed,
            days=self.days,
            policies=self.policies or None,
            params=self.params or None,
        )

    def restore(self, data: bytes) -> Simulation:
        return Simulation.restore(
            self.scenario,
            data,
            self.seed,
            days=self.days,
            policies=self.policies or None,
            params=self.params or None,
        )


def prepare(
    scenario: Scenario,
    *,
    seed: int | None,
    days: int | None,
    policies: Mapping[str, PolicyRef],
    params: Mapping[str, Mapping[str, float]],
    settings: ApiSettings,
) -> Recipe:
    """Checks limits and every policy reference (a dry normalization through the guard) and
    returns the recipe of a simulation that is safe to build."""
    check_limits(scenario, days, settings)
    guard = PolicyGuard(settings.policy_dir)
    detached = {agent: guard.detach(ref) for agent, ref in policies.items()}
    plain = {agent: dict(values) for agent, values in params.items()}
    normalize(
        scenario,
        guard.resolve,
        seed=seed,
        days=days,
        policy_overrides=detached,
        param_overrides=plain,
    )
    return Recipe(scenario, seed, days, detached, plain)
