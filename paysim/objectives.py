"""Objectives: named metrics over a run summary that ``paysim optimize`` minimises or maximises.

An objective is a function ``function(summary, **params) -> float`` over the run summary of
INTERFACES.md §1, registered under a name through ``paysim_register_objectives`` (the built-ins
below through the same hook, from this module). Parameters are declared
(:class:`ObjectiveParam`), so a specification written in YAML can be checked before any run::

    objective: {metric: agent_cost, agent: BANK_A}

:func:`bind_objective` turns such a mapping (or a bare name) into a :class:`BoundObjective`,
raising :class:`ObjectiveError` with the file and JSON Pointer of the problem: an unknown metric,
an unknown or missing parameter, an agent the scenario does not have, a cost component that does
not exist. Keys the caller handles itself (``aggregate``) are passed in ``reserved``.

Adding a built-in metric is one decorated function::

    @builtin("overdue", description="Payments marked overdue at any point.")
    def overdue(summary: Summary) -> float:
        return float(_totals(summary)["overdue"])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, NoReturn, cast

import pluggy

from paysim.exceptions import ScenarioError
from paysim.hookspecs import ObjectiveFunction, RegisterObjective, hookimpl

Summary = Mapping[str, object]
ParamKind = Literal["agent", "cost_component", "str", "int", "float"]
Direction = Literal["minimize", "maximize"]
_KINDS: tuple[str, ...] = ("agent", "cost_component", "str", "int", "float")
_HOOK = "paysim_register_objectives"


class ObjectiveError(ScenarioError):
    """An objective specification is invalid (bad input: exit code 2), or an objective cannot
    be evaluated on a summary (an agent it names is not in the run)."""


@dataclass(frozen=True)
class ObjectiveParam:
    """One parameter of an objective. ``agent`` values must be agents of the scenario (when the
    caller knows them); ``cost_component`` values are the keys of the run summary's ``costs``
    other than ``total``."""

    name: str
    kind: ParamKind = "str"
    required: bool = True
    default: str | int | float | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"parameter `{self.name}`: kind must be one of {', '.join(_KINDS)}")


@dataclass(frozen=True)
class Objective:
    """A registered objective."""

    name: str
    function: ObjectiveFunction
    params: tuple[ObjectiveParam, ...] = ()
    description: str = ""
    direction: Direction = "minimize"
    plugin: str | None = None
    """Who registered it (``paysim plugins`` shows the same names)."""

    def __call__(self, summary: Summary, **params: object) -> float:
        return float(self.function(summary, **params))

    def describe(self) -> dict[str, object]:
        """A JSON-ready description (for listings and documentation)."""
        return {
            "name": self.name,
            "direction": self.direction,
            "description": self.description,
            "params": [
                {"name": p.name, "kind": p.kind, "required": p.required, "default": p.default}
                for p in self.params
            ],
        }


@dataclass(frozen=True)
class BoundObjective:
    """An objective with its parameter values: call it on a run summary."""

    objective: Objective
    params: Mapping[str, object] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.objective.name

    @property
    def direction(self) -> Direction:
        return self.objective.direction

    @property
    def label(self) -> str:
        """``agent_cost[agent=BANK_A]``: a name for tables, reports and study attributes."""
        if not self.params:
            return self.name
        inner = ",".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.name}[{inner}]"

    def __call__(self, summary: Summary) -> float:
        return self.objective(summary, **self.params)


def _adapt(
    name: object,
    function: object,
    *,
    params: Sequence[ObjectiveParam] = (),
    description: str = "",
    direction: str = "minimize",
) -> tuple[str, Objective]:
    if not isinstance(name, str) or not name:
        raise TypeError("an objective name must be a non-empty string")
    if not callable(function):
        raise TypeError(f"objective `{name}`: the function is not callable")
    if direction not in ("minimize", "maximize"):
        raise ValueError(f"objective `{name}`: direction must be `minimize` or `maximize`")
    if not all(isinstance(p, ObjectiveParam) for p in params):
        raise TypeError(f"objective `{name}`: params must be ObjectiveParam objects")
    return name, Objective(
        name,
        cast(ObjectiveFunction, function),
        tuple(params),
        description,
        cast(Direction, direction),
    )


def objectives(pm: pluggy.PluginManager | None = None) -> dict[str, Objective]:
    """Every registered objective by name (a later registration of a name wins)."""
    from paysim.plugins import collect

    found = collect(_HOOK, _adapt, pm)
    out = {}
    for name, reg in found.items():
        obj = reg.value
        out[name] = Objective(
            obj.name, obj.function, obj.params, obj.description, obj.direction, reg.plugin.name
        )
    return out


def _fail(message: str, file: str | None, pointer: str, suggestion: str | None = None) -> NoReturn:
    raise ObjectiveError(message, file=file, pointer=pointer, suggestion=suggestion)


def bind_objective(
    spec: object,
    *,
    agents: Sequence[str] | None = None,
    file: str | None = None,
    pointer: str = "/objective",
    reserved: Sequence[str] = (),
    registry: Mapping[str, Objective] | None = None,
) -> BoundObjective:
    """Checks an objective specification and binds its parameters.

    ``spec`` is a name (``"total_cost"``) or a mapping ``{metric: NAME, param: value, ...}``;
    ``agents`` are the scenario's agent ids (checked when given); ``file`` and ``pointer`` say
    where the specification is, for errors; keys in ``reserved`` belong to the caller and are
    ignored here."""
    from paysim.config.suggest import did_you_mean

    known = dict(registry) if registry is not None else objectives()
    if isinstance(spec, str):
        spec = {"metric": spec}
        where_metric = pointer
    else:
        where_metric = f"{pointer}/metric"
    if not isinstance(spec, Mapping):
        _fail("expected an objective name or a mapping with `metric`", file, pointer)
    spec = cast(Mapping[str, object], spec)
    metric = spec.get("metric")
    if metric is None:
        _fail("missing `metric` (the name of an objective)", file, pointer)
    if not isinstance(metric, str) or metric not in known:
        listed = ", ".join(f"`{n}`" for n in sorted(known))
        _fail(
            f"unknown objective `{metric}`; known objectives: {listed}",
            file,
            where_metric,
            did_you_mean(str(metric), known),
        )
    obj = known[metric]
    declared = {p.name: p for p in obj.params}
    values: dict[str, object] = {}
    for key, value in spec.items():
        if key == "metric" or key in reserved:
            continue
        param = declared.get(key)
        if param is None:
            takes = ", ".join(f"`{n}`" for n in declared) or "no parameters"
            _fail(
                f"objective `{obj.name}` takes {takes}; found `{key}`",
                file,
                f"{pointer}/{key}",
                did_you_mean(key, declared),
            )
        else:
            values[key] = _check_value(param, value, agents, file, f"{pointer}/{key}")
    for param in obj.params:
        if param.name in values:
            continue
        if param.required:
            what = f" ({param.description})" if param.description else ""
            _fail(f"objective `{obj.name}` needs `{param.name}`{what}", file, pointer)
        elif param.default is not None:
            values[param.name] = param.default
    return BoundObjective(obj, values)


def _check_value(
    param: ObjectiveParam,
    value: object,
    agents: Sequence[str] | None,
    file: str | None,
    pointer: str,
) -> object:
    from paysim.config.suggest import did_you_mean

    if param.kind in ("agent", "cost_component", "str"):
        if not isinstance(value, str):
            _fail(f"`{param.name}` must be a string, found {value!r}", file, pointer)
        text = value
        if param.kind == "agent" and agents is not None and text not in agents:
            _fail(f"unknown agent `{text}`", file, pointer, did_you_mean(text, agents))
        if param.kind == "cost_component" and text not in cost_components():
            listed = ", ".join(cost_components())
            _fail(
                f"unknown cost component `{text}`; expected one of {listed}",
                file,
                pointer,
                did_you_mean(text, cost_components()),
            )
        return text
    if isinstance(value, bool) or not isinstance(value, int | float):
        _fail(f"`{param.name}` must be a number, found {value!r}", file, pointer)
    number = cast(float, value)
    if not math.isfinite(number):
        _fail(f"`{param.name}` must be finite", file, pointer)
    if param.kind == "int":
        if not float(number).is_integer():
            _fail(f"`{param.name}` must be an integer, found {value!r}", file, pointer)
        return int(number)
    return float(number)


def cost_components() -> tuple[str, ...]:
    """The cost components of the run summary (``costs`` keys other than ``total``)."""
    from paysim.summary_model import Costs

    return tuple(name for name in Costs.model_fields if name != "total")


# ---------------------------------------------------------------------------------------------
# Built-in objectives. Each is one function; ``builtin`` records it for the hook below.

_BUILTINS: list[tuple[str, ObjectiveFunction, tuple[ObjectiveParam, ...], str, Direction]] = []


def builtin(
    name: str, *params: ObjectiveParam, description: str, direction: Direction = "minimize"
) -> Callable[[ObjectiveFunction], ObjectiveFunction]:
    """Declares a built-in objective (registered through ``paysim_register_objectives``)."""

    def record(function: ObjectiveFunction) -> ObjectiveFunction:
        _BUILTINS.append((name, function, params, description, direction))
        return function

    return record


AGENT = ObjectiveParam("agent", "agent", description="an agent id of the scenario")


def _section(summary: Summary, key: str) -> Mapping[str, object]:
    value = summary.get(key)
    if not isinstance(value, Mapping):
        raise ObjectiveError(f"the run summary has no `{key}` object")
    return cast(Mapping[str, object], value)


def _number(section: Mapping[str, object], key: str) -> float:
    value = section.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ObjectiveError(f"the run summary has no number `{key}`")
    return float(value)


def _agent(summary: Summary, agent: str) -> Mapping[str, object]:
    from paysim.config.suggest import did_you_mean

    agents = _section(summary, "agents")
    found = agents.get(agent)
    if not isinstance(found, Mapping):
        raise ObjectiveError(
            f"agent `{agent}` is not in the run summary", suggestion=did_you_mean(agent, agents)
        )
    return cast(Mapping[str, object], found)


@builtin("total_cost", description="Total cost of the run over all agents, cents.")
def total_cost(summary: Summary) -> float:
    return _number(_section(summary, "totals"), "total_cost")


@builtin("agent_cost", AGENT, description="Total cost of one agent, cents.")
def agent_cost(summary: Summary, agent: str) -> float:
    return _number(_section(_agent(summary, agent), "costs"), "total")


@builtin(
    "cost_component",
    ObjectiveParam("component", "cost_component", description="a cost component, e.g. delay"),
    ObjectiveParam("agent", "agent", required=False, description="one agent (default: all)"),
    description="One cost component, of one agent or summed over all, cents.",
)
def cost_component(summary: Summary, component: str, agent: str | None = None) -> float:
    costs = (
        _section(summary, "costs") if agent is None else _section(_agent(summary, agent), "costs")
    )
    return _number(costs, component)


@builtin(
    "settlement_rate",
    description="Settled / arrived payments (1.0 with none).",
    direction="maximize",
)
def settlement_rate(summary: Summary) -> float:
    return _number(_section(summary, "totals"), "settlement_rate")


@builtin(
    "value_settlement_rate",
    description="Settled / arrived value (1.0 with none).",
    direction="maximize",
)
def value_settlement_rate(summary: Summary) -> float:
    return _number(_section(summary, "totals"), "value_settlement_rate")


@builtin("unsettled", description="Payments neither settled nor dropped at the end.")
def unsettled(summary: Summary) -> float:
    return _number(_section(summary, "totals"), "unsettled")


@builtin("dropped", description="Payments dropped.")
def dropped(summary: Summary) -> float:
    return _number(_section(summary, "totals"), "dropped")


@builtin("overdue", description="Payments marked overdue at any point.")
def overdue(summary: Summary) -> float:
    return _number(_section(summary, "totals"), "overdue")


@builtin(
    "avg_settlement_delay",
    ObjectiveParam("agent", "agent", required=False, description="one agent (default: all)"),
    description="Average ticks from arrival to settlement of settled payments (of one agent's "
    "sent payments, or of all); 0 when none settled.",
)
def avg_settlement_delay(summary: Summary, agent: str | None = None) -> float:
    if agent is None:
        return _number(_section(summary, "totals"), "avg_settlement_delay")
    found = _agent(summary, agent)
    settled = _number(found, "settled_sent")
    return _number(found, "settlement_delay") / settled if settled > 0 else 0.0


@builtin(
    "liquidity_used",
    ObjectiveParam("agent", "agent", required=False, description="one agent (default: all)"),
    description="Peak net debit: the largest end-of-tick value settled out minus value settled "
    "in, of one agent or summed over all, cents.",
)
def liquidity_used(summary: Summary, agent: str | None = None) -> float:
    if agent is None:
        return _number(_section(summary, "totals"), "peak_net_debit")
    return _number(_agent(summary, agent), "peak_net_debit")


@hookimpl
def paysim_register_objectives(register: RegisterObjective) -> None:
    for name, function, params, description, direction in _BUILTINS:
        register(name, function, params=params, description=description, direction=direction)
