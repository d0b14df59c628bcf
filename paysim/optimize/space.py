"""The search space: one :class:`Dimension` per searched policy parameter (and per agent with a
choice of policies), built from the ranges the policy documents declare (POLICY_DSL.md §5) and
the spec's overrides.

A dimension knows how to ask Optuna for a value (:meth:`Dimension.suggest`), its grid (for the
grid sampler and the equilibrium certificate) and how to draw a dense sample of a continuous
range. Names are ``AGENT.PARAM``; with a choice of policies the choice is ``AGENT.policy`` and
each policy's parameters are ``AGENT.POLICY.PARAM`` (conditional on that choice).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import optuna

Kind = Literal["float", "int", "categorical"]
ILF = "initial_liquidity_fraction"
_GRID_EPS = 1e-9


@dataclass(frozen=True)
class Dimension:
    """One searched value."""

    name: str
    agent: str
    param: str
    kind: Kind
    low: float = 0.0
    high: float = 0.0
    step: float | None = None
    log: bool = False
    choices: tuple[float | str, ...] = ()

    def suggest(self, trial: optuna.trial.BaseTrial) -> float | str:
        """Asks the trial for this dimension's value."""
        if self.kind == "categorical":
            chosen = trial.suggest_categorical(self.name, list(self.choices))
            assert isinstance(chosen, float | str)
            return chosen
        if self.kind == "int":
            step = int(self.step) if self.step is not None else 1
            return trial.suggest_int(
                self.name, int(self.low), int(self.high), step=step, log=self.log
            )
        return trial.suggest_float(self.name, self.low, self.high, step=self.step, log=self.log)

    def grid(self) -> list[float | str] | None:
        """Every value the dimension can take, or ``None`` for a continuous range."""
        if self.kind == "categorical":
            return list(self.choices)
        if self.kind == "int":
            step = int(self.step) if self.step is not None else 1
            return [float(v) for v in range(int(self.low), int(self.high) + 1, step)]
        if self.step is None:
            return None
        n = int(math.floor((self.high - self.low) / self.step + _GRID_EPS))
        return [round(self.low + k * self.step, 12) for k in range(n + 1)]

    def sample(self, u: float) -> float | str:
        """The value at quantile ``u`` in [0, 1) of the range (log scale when ``log``),
        snapped to the grid when there is one."""
        if self.kind == "categorical":
            return self.choices[min(int(u * len(self.choices)), len(self.choices) - 1)]
        if self.log:
            value = math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        else:
            value = self.low + u * (self.high - self.low)
        if self.kind == "int" or self.step is not None:
            step = self.step if self.step is not None else 1.0
            k = round((value - self.low) / step)
            value = min(self.low + k * step, self.high)
            if self.kind == "int":
                return float(int(round(value)))
        return value

    def clean(self, value: float | str) -> float | str:
        """A proposed value without floating-point noise: grid values are ``low + k·step``
        computed in floating point (``0.6000000000000001``); they are rounded to 12 places."""
        if isinstance(value, str) or self.kind == "categorical":
            return value
        if self.kind == "int":
            return float(int(round(float(value))))
        if self.step is not None:
            return round(float(value), 12)
        return float(value)

    def distance(self, a: float | str, b: float | str) -> float:
        """How far apart two values are (0 or 1 for categorical choices)."""
        if isinstance(a, str) or isinstance(b, str) or self.kind == "categorical":
            return 0.0 if a == b else 1.0
        return abs(float(a) - float(b))

    def describe(self) -> dict[str, object]:
        """A JSON-ready description (result.json, study attributes)."""
        out: dict[str, object] = {"name": self.name, "kind": self.kind}
        if self.kind == "categorical":
            out["choices"] = list(self.choices)
        else:
            out.update({"min": self.low, "max": self.high, "step": self.step, "log": self.log})
        return out


@dataclass
class PolicyOption:
    """One policy an agent may use: its document, the values it runs with unless searched,
    and the dimensions searched for it."""

    label: str
    document: dict[str, object]
    source: str
    base_params: dict[str, float] = field(default_factory=dict)
    dims: list[Dimension] = field(default_factory=list)
    inline: bool = True
    """``True`` when runs pass the document itself as the agent's policy; ``False`` when the
    agent keeps the scenario's policy (and only parameters are overridden)."""


@dataclass
class AgentSpace:
    """The searched part of one agent: one or several policy options."""

    agent: str
    options: list[PolicyOption]

    @property
    def choice_name(self) -> str:
        return f"{self.agent}.policy"

    @property
    def has_choice(self) -> bool:
        return len(self.options) > 1

    def dimensions(self) -> Iterator[Dimension]:
        """Every dimension, the policy choice first."""
        if self.has_choice:
            yield self.choice_dimension()
        for option in self.options:
            yield from option.dims

    def choice_dimension(self) -> Dimension:
        return Dimension(
            name=self.choice_name,
            agent=self.agent,
            param="policy",
            kind="categorical",
            choices=tuple(o.label for o in self.options),
        )

    def option(self, label: str) -> PolicyOption:
        for o in self.options:
            if o.label == label:
                return o
        raise KeyError(label)


Assignment = dict[str, float | str]
"""A point of the search space: dimension name → value."""


@dataclass(frozen=True)
class Candidate:
    """What one evaluation runs: per searched agent, its policy option and parameter values."""

    choices: Mapping[str, str]
    params: Mapping[str, Mapping[str, float]]

    def overrides(self, spaces: Mapping[str, AgentSpace]) -> dict[str, object]:
        """The ``run_many`` override entry (``{"policies": …, "params": …}``)."""
        policies: dict[str, object] = {}
        params: dict[str, dict[str, float]] = {}
        for agent, label in self.choices.items():
            option = spaces[agent].option(label)
            if option.inline:
                policies[agent] = option.document
            values = {**option.base_params, **dict(self.params.get(agent, {}))}
            if values:
                params[agent] = values
        return {"policies": policies, "params": params}


def suggest_candidate(
    trial: optuna.trial.BaseTrial, spaces: Sequence[AgentSpace], fixed: Mapping[str, Assignment]
) -> Candidate:
    """Asks the trial for every dimension of ``spaces``; agents in ``fixed`` (best response:
    the others) take their assignment instead."""
    assignment: Assignment = {}
    for space in spaces:
        if space.agent in fixed:
            assignment.update(fixed[space.agent])
            continue
        label = space.options[0].label
        if space.has_choice:
            label = str(space.choice_dimension().suggest(trial))
            assignment[space.choice_name] = label
        for dim in space.option(label).dims:
            assignment[dim.name] = dim.suggest(trial)
    return candidate_of(assignment, spaces)


def candidate_of(assignment: Mapping[str, float | str], spaces: Sequence[AgentSpace]) -> Candidate:
    """The candidate an assignment describes (missing values: the option's base values)."""
    choices: dict[str, str] = {}
    params: dict[str, dict[str, float]] = {}
    for space in spaces:
        label = space.options[0].label
        if space.has_choice:
            label = str(assignment.get(space.choice_name, label))
        choices[space.agent] = label
        values: dict[str, float] = {}
        for dim in space.option(label).dims:
            if dim.name in assignment:
                values[dim.param] = float(dim.clean(assignment[dim.name]))
        params[space.agent] = values
    return Candidate(choices, params)


def agent_assignment(assignment: Mapping[str, float | str], space: AgentSpace) -> Assignment:
    """The part of an assignment that belongs to one agent."""
    names = {d.name for d in space.dimensions()}
    return {k: v for k, v in assignment.items() if k in names}


def default_assignment(space: AgentSpace) -> Assignment:
    """An agent's starting point: its first option, each parameter at its base value clipped
    into the searched range (snapped to the grid)."""
    option = space.options[0]
    out: Assignment = {}
    if space.has_choice:
        out[space.choice_name] = option.label
    for dim in option.dims:
        out[dim.name] = start_value(dim, option.base_params.get(dim.param))
    return out


def start_value(dim: Dimension, base: float | None) -> float | str:
    """``base`` moved into the dimension's range and onto its grid (or the lowest value)."""
    grid = dim.grid()
    if dim.kind == "categorical":
        if base is not None and base in dim.choices:
            return base
        return dim.choices[0]
    value = dim.low if base is None else min(max(base, dim.low), dim.high)
    if grid is not None:
        return min(grid, key=lambda g: abs(float(g) - value))
    return value


def grid_of(dims: Sequence[Dimension], limit: int) -> list[Assignment] | None:
    """The full grid of ``dims`` (every combination), or ``None`` when one is continuous or the
    grid has more than ``limit`` points."""
    grids: list[tuple[str, list[float | str]]] = []
    size = 1
    for d in dims:
        g = d.grid()
        if g is None:
            return None
        size *= max(len(g), 1)
        if size > limit:
            return None
        grids.append((d.name, g))
    points: list[Assignment] = [{}]
    for name, values in grids:
        points = [{**p, name: v} for p in points for v in values]
    return points


def agent_grid(space: AgentSpace, limit: int) -> list[Assignment] | None:
    """Every point of an agent's space (over all its policy options), or ``None``."""
    out: list[Assignment] = []
    for option in space.options:
        points = grid_of(option.dims, limit)
        if points is None:
            return None
        for p in points:
            if space.has_choice:
                p = {space.choice_name: option.label, **p}
            out.append(p)
        if len(out) > limit:
            return None
    return out
