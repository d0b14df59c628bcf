"""Whole-scenario checks: agent references, ticks inside the episode, sums, λ and weights.

These need more than one part of the scenario at once, so they run after every model has
validated on its own. Each problem carries the path of the offending value (so the loader can
point at it) and, for an unknown agent id, the nearest existing one. Checks that the engine
repeats (P6) are kept identical here so that a file the loader accepts is never rejected later.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import JsonValue

from paysim.config.models_arrivals import LogNormalAmount, peak_window_multiplier
from paysim.config.models_base import MAX_LAMBDA, MONEY_SUM_MAX
from paysim.config.models_events import (
    AgentArrivalRateChange,
    AgentOutage,
    CounterpartyWeightChange,
    DeadlineWindowChange,
    GlobalArrivalRateChange,
    OneTimeSchedule,
    PolicyChange,
    RepeatingSchedule,
)
from paysim.config.models_policy import InlineJsonPolicy, InlinePolicy
from paysim.config.suggest import did_you_mean

if TYPE_CHECKING:
    from paysim.config.models import Scenario

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """One finding: where (a path into the scenario), what, and a suggestion if any."""

    path: Path_
    code: str
    message: str
    suggestion: str | None = None


def scenario_problems(scenario: Scenario) -> list[Problem]:
    """Every cross-reference and bound problem of a scenario whose parts are valid alone."""
    checks = _Checks(scenario)
    checks.agents()
    checks.events()
    checks.money_sum()
    checks.peak_lambda()
    checks.problems.extend(_weight_problems(scenario))
    return checks.problems


class _Checks:
    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.ids = [agent.id for agent in scenario.agents]
        self.known = set(self.ids)
        self.problems: list[Problem] = []

    def add(self, path: Path_, code: str, message: str, suggestion: str | None = None) -> None:
        self.problems.append(Problem(path, code, message, suggestion))

    def ref(self, path: Path_, agent_id: str, role: str) -> None:
        if agent_id not in self.known:
            agents = ", ".join(f"`{a}`" for a in self.ids)
            self.add(
                path,
                "unknown_agent",
                f"unknown agent `{agent_id}` as {role}; expected one of the scenario's agents: "
                f"{agents}",
                did_you_mean(agent_id, self.ids),
            )

    def agents(self) -> None:
        tpd = self.scenario.simulation.ticks_per_day
        seen: dict[str, int] = {}
        for i, agent in enumerate(self.scenario.agents):
            base: Path_ = ("agents", i)
            if agent.id in seen:
                self.add(
                    (*base, "id"),
                    "duplicate_agent",
                    f"agent id `{agent.id}` is used by agents {seen[agent.id]} and {i}; ids "
                    "must be unique",
                )
            seen.setdefault(agent.id, i)
            for cpty in agent.limits.bilateral_limits:
                path = (*base, "limits", "bilateral_limits", cpty)
                self.ref(path, cpty, "a bilateral-limit counterparty")
                if cpty == agent.id:
                    self.add(path, "self_reference", "an agent has no bilateral limit to itself")
            for sub, stream in agent.streams():
                weights = stream.counterparty_weights
                # The common case is checked without building a path per weight.
                if agent.id in weights or not self.known.issuperset(weights):
                    for cpty in weights:
                        path = (*base, *sub, "counterparty_weights", cpty)
                        self.ref(path, cpty, "a counterparty weight")
                        if cpty == agent.id:
                            self.add(path, "self_reference", "an agent never pays itself")
                for j, window in enumerate(stream.time_windows):
                    if window.end_tick > tpd:
                        self.add(
                            (*base, *sub, "time_windows", j, "end_tick"),
                            "window_past_day",
                            "expected a time window within the day (end_tick ≤ ticks_per_day "
                            f"= {tpd}), found end_tick {window.end_tick}",
                        )
            for path, agent_id in _policy_focus(agent.policy, (*base, "policy")):
                self.ref(path, agent_id, "a `focus_counterparties` entry")

    def events(self) -> None:
        total = self.scenario.simulation.total_ticks
        episode = f"the episode has {total} ticks (0..{total - 1})"
        for k, event in enumerate(self.scenario.scenario_events):
            base: Path_ = ("scenario_events", k)
            for role in ("from_agent", "to_agent", "agent", "counterparty"):
                value = getattr(event, role, None)
                if isinstance(value, str):
                    self.ref((*base, role), value, f"`{role}` of a {event.type} event")
            if isinstance(event, AgentOutage):
                if event.end_tick > total:
                    self.add(
                        (*base, "end_tick"),
                        "tick_past_end",
                        f"expected end_tick ≤ {total}: {episode}; found end_tick {event.end_tick}",
                    )
                continue
            schedule = event.schedule
            if isinstance(schedule, OneTimeSchedule) and schedule.tick >= total:
                self.add(
                    (*base, "schedule", "tick"),
                    "tick_past_end",
                    f"expected a tick < {total}: {episode}; found tick {schedule.tick}",
                )
            if isinstance(schedule, RepeatingSchedule) and schedule.start_tick >= total:
                self.add(
                    (*base, "schedule", "start_tick"),
                    "tick_past_end",
                    f"expected start_tick < {total}: {episode}; found {schedule.start_tick}",
                )
            if isinstance(event, PolicyChange):
                for path, agent_id in _policy_focus(event.policy, (*base, "policy")):
                    self.ref(path, agent_id, "a `focus_counterparties` entry")

    def money_sum(self) -> None:
        running = 0
        for i, agent in enumerate(self.scenario.agents):
            running += (
                abs(agent.opening_balance)
                + agent.liquidity_pool
                + agent.unsecured_cap
                + agent.collateral_capacity
            )
            if running > MONEY_SUM_MAX:
                self.add(
                    ("agents", i),
                    "money_sum",
                    "expected the opening balances (absolute values), liquidity pools, "
                    "unsecured caps and collateral capacities of all agents to sum to at most "
                    f"2^62; the sum passes it at this agent ({running})",
                )
                return

    def peak_lambda(self) -> None:
        global_peak, global_at = 1.0, -1
        agent_peak: dict[str, tuple[float, int]] = {}
        for k, event in enumerate(self.scenario.scenario_events):
            if isinstance(event, GlobalArrivalRateChange) and event.multiplier > global_peak:
                global_peak, global_at = event.multiplier, k
            if isinstance(event, AgentArrivalRateChange):
                if event.multiplier > agent_peak.get(event.agent, (1.0, -1))[0]:
                    agent_peak[event.agent] = (event.multiplier, k)
        for agent in self.scenario.agents:
            mult, at_agent = agent_peak.get(agent.id, (1.0, -1))
            for _sub, stream in agent.streams():
                if stream.rate_per_tick is None:
                    continue
                peak = stream.rate_per_tick * peak_window_multiplier(stream.time_windows)
                peak *= global_peak * mult
                if peak > MAX_LAMBDA:
                    k = at_agent if at_agent >= 0 else global_at
                    self.add(
                        ("scenario_events", k, "multiplier"),
                        "lambda_cap",
                        f"expected λ ≤ 10^6 for every stream; agent `{agent.id}` reaches {peak} "
                        "with the largest rate multipliers of the scenario events",
                    )
                    return


def _fire_ticks(event: CounterpartyWeightChange, total: int) -> tuple[int, int] | None:
    schedule = event.schedule
    if isinstance(schedule, OneTimeSchedule):
        return (schedule.tick, schedule.tick) if schedule.tick < total else None
    if schedule.start_tick >= total:
        return None
    last = schedule.start_tick + (total - 1 - schedule.start_tick) // schedule.interval * (
        schedule.interval
    )
    return schedule.start_tick, last


def _weight_problems(scenario: Scenario) -> Iterator[Problem]:
    """Replays weight changes for streams left with a zero total weight (ENGINE.md §10)."""
    total = scenario.simulation.total_ticks
    changes = [
        (k, e)
        for k, e in enumerate(scenario.scenario_events)
        if isinstance(e, CounterpartyWeightChange)
    ]
    if not changes:
        return
    ids = [agent.id for agent in scenario.agents]
    for agent in scenario.agents:
        mine = [(k, e) for k, e in changes if e.agent == agent.id]
        if not mine:
            continue
        checkpoints = _checkpoints([e for _, e in mine], total)
        for sub, stream in agent.streams():
            for t in checkpoints:
                weights = dict(stream.counterparty_weights) or {
                    other: 1.0 for other in ids if other != agent.id
                }
                latest: dict[str, tuple[int, int, float]] = {}
                for k, e in mine:
                    fired = _last_fire_at_or_before(e, t, total)
                    if fired is not None:
                        key = e.counterparty
                        if key not in latest or (fired, k) > latest[key][:2]:
                            latest[key] = (fired, k, e.new_weight)
                if not latest:
                    continue
                for key, (_, _, weight) in latest.items():
                    weights[key] = weight
                if sum(weights.values()) <= 0:
                    k = max(latest.values())[1]
                    yield Problem(
                        ("scenario_events", k, "new_weight"),
                        "zero_total_weight",
                        f"after the weight changes up to tick {t}, the stream "
                        f"`{'/'.join(sub)}` of agent `{agent.id}` has a total counterparty "
                        "weight of 0; at least one receiver must keep a positive weight",
                    )
                    return


# Bound on firings × events replayed per agent, so validation stays fast on huge schedules.
_MAX_REPLAY_WORK = 2_000_000


def _checkpoints(events: list[CounterpartyWeightChange], total: int) -> list[int]:
    """Ticks at which the agent's weight maps may change: every firing of its events.

    A map only changes when one of its own events fires. When the firings are too many to
    replay (long repeating schedules), the first and last firing of each event are checked,
    which is exact for one-time events and for the final state; the engine replays in full.
    """
    spans = [span for span in (_fire_ticks(e, total) for e in events) if span is not None]
    count = 0
    for event in events:
        span = _fire_ticks(event, total)
        if span is not None:
            step = event.schedule.interval if isinstance(event.schedule, RepeatingSchedule) else 1
            count += (span[1] - span[0]) // step + 1
    if count * len(events) > _MAX_REPLAY_WORK:
        return sorted({t for span in spans for t in span})
    ticks: set[int] = set()
    for event in events:
        span = _fire_ticks(event, total)
        if span is None:
            continue
        step = event.schedule.interval if isinstance(event.schedule, RepeatingSchedule) else 1
        ticks.update(range(span[0], span[1] + 1, step))
    return sorted(ticks)


def _last_fire_at_or_before(event: CounterpartyWeightChange, t: int, total: int) -> int | None:
    span = _fire_ticks(event, total)
    if span is None or span[0] > t:
        return None
    schedule = event.schedule
    if isinstance(schedule, OneTimeSchedule):
        return schedule.tick
    last = schedule.start_tick + (min(t, span[1]) - schedule.start_tick) // schedule.interval * (
        schedule.interval
    )
    return last


def _policy_focus(spec: object, base: Path_) -> Iterator[tuple[Path_, str]]:
    """Agent ids in ``focus_counterparties`` of an inline policy document."""
    if isinstance(spec, InlinePolicy):
        yield from _focus_in(spec.decision_trees, (*base, "decision_trees"))
    elif isinstance(spec, InlineJsonPolicy):
        for _path, agent_id in _focus_in(spec.document(), ()):
            yield (*base, "json_string"), agent_id
    elif isinstance(spec, dict):
        yield from _focus_in(spec, base)


def _focus_in(node: JsonValue, path: Path_) -> Iterator[tuple[Path_, str]]:
    if isinstance(node, dict):
        params = node.get("parameters")
        if node.get("action") == "SetReleaseBudget" and isinstance(params, dict):
            for key in ("focus_counterparties", "focus_cpty_list"):  # ours, SimCash's
                focus = params.get(key)
                values = focus.get("value") if isinstance(focus, dict) else None
                if isinstance(values, list):
                    for j, value in enumerate(values):
                        if isinstance(value, str):
                            yield (*path, "parameters", key, "value", j), value
        for key, child in node.items():
            yield from _focus_in(child, (*path, key))
    elif isinstance(node, list):
        for j, child in enumerate(node):
            yield from _focus_in(child, (*path, j))


def scenario_warnings(scenario: Scenario) -> list[tuple[Path_, str]]:
    """Things that load but are probably mistakes, with their paths."""
    found: list[tuple[Path_, str]] = []
    for i, agent in enumerate(scenario.agents):
        for sub, stream in agent.streams():
            dist = stream.amount_distribution
            if isinstance(dist, LogNormalAmount) and dist.suspicious_moments:
                found.append(
                    (
                        ("agents", i, *sub, "amount_distribution", "mean"),
                        f"LogNormal `{{mean: {dist.mean}, std_dev: {dist.std_dev}}}` means an "
                        "arithmetic mean in cents, so payments average under 10.00; if these "
                        "are log-space values (the old SimCash meaning), write "
                        f"`{{mu: {dist.mean}, sigma: {dist.std_dev}}}` instead",
                    )
                )
    for k, event in enumerate(scenario.scenario_events):
        if (
            isinstance(event, DeadlineWindowChange)
            and event.min_ticks_multiplier is None
            and event.max_ticks_multiplier is None
        ):
            found.append(
                (
                    ("scenario_events", k),
                    "DeadlineWindowChange sets neither `min_ticks_multiplier` nor "
                    "`max_ticks_multiplier`, so it changes nothing",
                )
            )
    return found
