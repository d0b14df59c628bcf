"""From a valid spec to what the search runs: :func:`make_plan`.

Everything that needs the scenario is checked here, each problem a :class:`SpecError` naming
the spec file and the JSON Pointer (with its line): agents the scenario does not have, policies
that cannot be found or are invalid, parameters a policy does not declare, ranges outside the
declared bounds (unless ``widen: true``) or outside the engine's own bounds
(``initial_liquidity_fraction`` in [0, 1], integers for ``int`` parameters), unknown objectives
and objective parameters (through the objective registry), constraints naming metrics the run
summary does not have, and sampler/pruner combinations Optuna cannot run.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn, cast

from paysim.config import PolicyRef, Scenario
from paysim.config.suggest import did_you_mean
from paysim.exceptions import ScenarioError
from paysim.optimize.constraints import Constraint, ConstraintSyntaxError, parse_constraint
from paysim.optimize.evaluate import AggregateName, ObjectivePlan
from paysim.optimize.space import ILF, AgentSpace, Dimension, PolicyOption, agent_grid
from paysim.optimize.spec import Lines, OptimizeSpec, ParameterSearch, SpecError, line_suffix

Loc = tuple[str | int, ...]
DEFAULT_TRIALS = 100
DEFAULT_BR_TRIALS = 64


@dataclass
class Plan:
    """A checked spec with its scenario, search space, objectives and constraints."""

    spec: OptimizeSpec
    file: str
    base_dir: Path
    scenario: Scenario
    scenario_path: Path
    spaces: dict[str, AgentSpace]
    objectives: list[ObjectivePlan]
    agent_objectives: dict[str, ObjectivePlan]
    constraints: list[Constraint]
    seeds: list[int]
    trials: int
    pruner: str
    output: Path
    storage: str
    study_name: str
    db_path: Path
    warnings: list[str] = field(default_factory=list)

    @property
    def dimensions(self) -> list[Dimension]:
        return [d for s in self.spaces.values() for d in s.dimensions()]

    @property
    def pareto(self) -> bool:
        return len(self.objectives) > 1


class _Checker:
    def __init__(self, spec: OptimizeSpec, file: str, lines: Lines) -> None:
        self.spec = spec
        self.file = file
        self.lines = lines
        self.notes: list[str] = []

    def fail(self, loc: Loc, message: str, suggestion: str | None = None) -> NoReturn:
        from paysim.config.loader import to_pointer

        raise SpecError(
            message + line_suffix(self.lines, loc),
            file=self.file,
            pointer=to_pointer(loc),
            suggestion=suggestion,
        )


def _find(ref: str, base_dir: Path) -> Path | None:
    for candidate in (base_dir / ref, Path(ref)):
        if candidate.is_file():
            return candidate
    return None


def make_plan(
    spec: OptimizeSpec,
    *,
    file: str,
    lines: Lines,
    output: str | None = None,
    storage: str | None = None,
    study_name: str | None = None,
) -> Plan:
    """Checks ``spec`` against its scenario and builds the plan (``output``, ``storage`` and
    ``study_name`` override the spec's, as the command-line options do)."""
    from paysim.config import load_scenario

    c = _Checker(spec, file, lines)
    base_dir = Path(file).parent
    found = _find(spec.scenario, base_dir)
    if found is None:
        c.fail(
            ("scenario",),
            f"scenario file `{spec.scenario}` not found (looked in {base_dir} and the working "
            "directory)",
        )
    found = Path(os.path.normpath(found))
    scenario = load_scenario(found)
    agent_ids = [a.id for a in scenario.agents]
    spaces: dict[str, AgentSpace] = {}
    for agent_id, agent_spec in spec.agents.items():
        if agent_id not in agent_ids:
            c.fail(
                ("agents", agent_id),
                f"unknown agent `{agent_id}`; the scenario's agents are "
                + ", ".join(f"`{a}`" for a in agent_ids[:20])
                + (" …" if len(agent_ids) > 20 else ""),
                did_you_mean(agent_id, agent_ids),
            )
        spaces[agent_id] = _agent_space(c, scenario, agent_id, agent_spec, base_dir)
    objectives, agent_objectives = _objectives(c, spec, agent_ids, list(spaces))
    constraints = []
    for i, text in enumerate(spec.constraints):
        try:
            constraints.append(parse_constraint(text, agent_ids))
        except ConstraintSyntaxError as exc:
            c.fail(
                ("constraints", i),
                f"{exc.message} at column {exc.column} of `{text}`",
                exc.suggestion,
            )
    pruner = _pruner(c, spec, len(objectives))
    trials = _trials(c, spec, spaces)
    _check_mode(c, spec, spaces)
    _check_sampler(c, spec, spaces, len(objectives))
    if spec.grace_period is not None and spec.grace_period <= spec.heartbeat_interval:
        c.fail(
            ("grace_period",),
            f"grace_period ({spec.grace_period} s) must be longer than heartbeat_interval "
            f"({spec.heartbeat_interval} s), or a live worker's trial passes for a dead one's",
        )
    out_dir = Path(output if output is not None else spec.output)
    chosen_storage = storage if storage is not None else spec.storage
    if chosen_storage is None:
        storage_url = str(out_dir / "study.journal")
    elif "://" in chosen_storage:
        storage_url = chosen_storage
    else:
        storage_url = chosen_storage
    name = study_name or spec.study_name or Path(file).stem
    db_path = Path(spec.db) if spec.db is not None else out_dir / "paysim.duckdb"
    return Plan(
        spec=spec,
        file=file,
        base_dir=base_dir,
        scenario=scenario,
        scenario_path=found,
        spaces=spaces,
        objectives=objectives,
        agent_objectives=agent_objectives,
        constraints=constraints,
        seeds=_seeds(spec, scenario),
        trials=trials,
        pruner=pruner,
        output=out_dir,
        storage=storage_url,
        study_name=name,
        db_path=db_path,
        warnings=c.notes,
    )


def _seeds(spec: OptimizeSpec, scenario: Scenario) -> list[int]:
    seeds = spec.evaluation.seeds
    if isinstance(seeds, list):
        return list(seeds)
    base = spec.evaluation.seed
    if base is None:
        base = scenario.simulation.rng_seed
    return [(base + i) % 2**64 for i in range(seeds)]


# ---------------------------------------------------------------------------------------------
# Policies and their search spaces


def _agent_space(
    c: _Checker, scenario: Scenario, agent_id: str, agent_spec: object, spec_dir: Path
) -> AgentSpace:
    from paysim.config.models_policy import reduce_policy
    from paysim.optimize.spec import AgentSearch
    from paysim.policy import resolve_policy

    assert isinstance(agent_spec, AgentSearch)
    loc: Loc = ("agents", agent_id)
    refs = agent_spec.policy
    options: list[PolicyOption] = []
    if refs is None:
        agent = next(a for a in scenario.agents if a.id == agent_id)
        own, form_values = reduce_policy(agent.policy)
        try:
            resolved = resolve_policy(own, scenario.base_dir)
        except ScenarioError as exc:
            c.fail(loc, f"the scenario's policy of `{agent_id}` cannot be read: {exc.message}")
        base = {**resolved.parameters, **form_values, **agent.policy_parameters}
        label = own if isinstance(own, str) else str(resolved.document.get("policy_id", "inline"))
        options.append(
            PolicyOption(label, resolved.document, resolved.source, dict(base), inline=False)
        )
    else:
        listed = refs if isinstance(refs, list) else [refs]
        if not listed:
            c.fail((*loc, "policy"), "expected at least one policy to choose from")
        for i, item in enumerate(listed):
            at: Loc = (*loc, "policy", i) if isinstance(refs, list) else (*loc, "policy")
            if not isinstance(item, str | dict):
                c.fail(at, "expected a policy reference (a name or a file) or a document")
            ref: PolicyRef = item
            try:
                resolved = resolve_policy(ref, spec_dir)
            except ScenarioError as exc:
                c.fail(at, exc.message, exc.suggestion)
            _check_document(c, at, resolved.document)
            label = (
                ref if isinstance(ref, str) else str(resolved.document.get("policy_id", "inline"))
            )
            if any(o.label == label for o in options):
                c.fail(at, f"policy `{label}` is listed twice")
            options.append(
                PolicyOption(label, resolved.document, resolved.source, dict(resolved.parameters))
            )
    for option in options:
        # The declared values are where a search starts (best response) and what an
        # unsearched parameter keeps; values the reference or the scenario gives rank above.
        declared_values = {
            name: float(v)
            for name, decl in _declared(option.document).items()
            if (v := _num(decl.get("value"))) is not None
        }
        option.base_params = {**declared_values, **option.base_params}
    space = AgentSpace(agent_id, options)
    for option in options:
        option.dims = _dimensions(c, agent_id, option, agent_spec.search, space.has_choice)
    declared_anywhere = {n for o in options for n in _declared(o.document)}
    for name in agent_spec.search:
        if name not in declared_anywhere:
            which = " or ".join(f"`{o.label}`" for o in options)
            names = sorted(declared_anywhere)
            listed_names = ", ".join(f"`{n}`" for n in names) or "no parameters"
            c.fail(
                (*loc, "search", name),
                f"policy {which} declares no parameter `{name}`; it declares {listed_names}",
                did_you_mean(name, names),
            )
    return space


def _check_document(c: _Checker, at: Loc, document: dict[str, object]) -> None:
    from paysim.policy import validate_policy

    report = validate_policy(document)
    if not report.valid:
        first = report.errors[0] if report.errors else {}
        c.fail(
            at,
            f"the policy is invalid: {first.get('message')} at {first.get('pointer') or '/'}"
            + (f" ({len(report.errors)} errors)" if len(report.errors) > 1 else ""),
        )


def _declared(document: Mapping[str, object]) -> dict[str, dict[str, object]]:
    """Declared parameters in object form (a bare number becomes ``{value: n}``)."""
    params = document.get("parameters")
    out: dict[str, dict[str, object]] = {}
    if isinstance(params, Mapping):
        for name, decl in params.items():
            if isinstance(decl, Mapping):
                out[str(name)] = dict(decl)
            else:
                out[str(name)] = {"value": decl}
    return out


def _num(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _dimensions(
    c: _Checker,
    agent_id: str,
    option: PolicyOption,
    search: Mapping[str, ParameterSearch],
    qualified: bool,
) -> list[Dimension]:
    declared = _declared(option.document)
    dims: list[Dimension] = []
    prefix = f"{agent_id}.{option.label}." if qualified else f"{agent_id}."
    for name, decl in declared.items():
        override = search.get(name)
        loc: Loc = ("agents", agent_id, "search", name)
        dim = _dimension(c, loc, prefix + name, agent_id, name, decl, override, option)
        if dim is not None:
            dims.append(dim)
    return dims


def _dimension(
    c: _Checker,
    loc: Loc,
    full_name: str,
    agent_id: str,
    name: str,
    decl: Mapping[str, object],
    override: ParameterSearch | None,
    option: PolicyOption,
) -> Dimension | None:
    d_min, d_max = _num(decl.get("min")), _num(decl.get("max"))
    kind = str(decl.get("kind", "float"))
    is_int = (override.kind if override and override.kind else kind) == "int"
    if kind == "int" and override is not None and override.kind == "float":
        c.fail((*loc, "kind"), f"`{name}` is declared `int`; it cannot be searched as a float")
    hard = (0.0, 1.0) if name == ILF else None
    widen = override.widen if override is not None else False

    def check_value(v: float, at: Loc, what: str) -> None:
        if is_int and not float(v).is_integer():
            c.fail(at, f"{what} of `{name}` must be an integer (the parameter is `int`); found {v}")
        if hard is not None and not hard[0] <= v <= hard[1]:
            c.fail(at, f"{what} of `{name}` must lie in [0, 1] (POLICY_DSL.md §5.3); found {v}")
        if not widen and d_min is not None and d_max is not None and not d_min <= v <= d_max:
            c.fail(
                at,
                f"{what} of `{name}` is {v}, outside the range [{d_min}, {d_max}] the policy "
                "declares; narrow it, or write `widen: true` to search beyond the declaration",
            )

    if override is None:
        if d_min is None or d_max is None:
            return None
        low, high = d_min, d_max
        step, log = _num(decl.get("step")), bool(decl.get("log", False))
    else:
        if override.value is not None:
            check_value(override.value, (*loc, "value"), "the fixed value")
            if any(
                v is not None
                for v in (override.min, override.max, override.step, override.log, override.choices)
            ):
                c.fail(loc, f"`{name}`: a fixed `value` excludes min, max, step, log and choices")
            option.base_params[name] = float(override.value)
            return None
        if override.choices is not None:
            if any(
                v is not None for v in (override.min, override.max, override.step, override.log)
            ):
                c.fail(loc, f"`{name}`: `choices` excludes min, max, step and log")
            for i, v in enumerate(override.choices):
                check_value(v, (*loc, "choices", i), "a choice")
            if len(set(override.choices)) != len(override.choices):
                c.fail((*loc, "choices"), f"`{name}`: a choice is listed twice")
            values = tuple(float(v) for v in override.choices)
            return Dimension(full_name, agent_id, name, "categorical", choices=values)
        found_low = override.min if override.min is not None else d_min
        found_high = override.max if override.max is not None else d_max
        if found_low is None or found_high is None:
            c.fail(
                loc,
                f"`{name}` declares no range in its policy: give both `min` and `max` to search it",
            )
        low, high = found_low, found_high
        check_value(low, (*loc, "min"), "the minimum")
        check_value(high, (*loc, "max"), "the maximum")
        if low > high:
            c.fail((*loc, "min"), f"`{name}`: min {low} is above max {high}")
        step = override.step if override.step is not None else _num(decl.get("step"))
        log = override.log if override.log is not None else bool(decl.get("log", False))
        if override.step is not None and override.log is None:
            log = False
        if override.log and override.step is None:
            step = None
    if is_int and step is not None and not float(step).is_integer():
        c.fail((*loc, "step"), f"the step of `{name}` must be an integer (the parameter is `int`)")
    if log:
        if low <= 0:
            c.fail((*loc, "log"), f"`{name}`: a log-scale search needs min > 0; found {low}")
        if step is not None and not (is_int and step == 1):
            c.fail((*loc, "step"), f"`{name}`: a log-scale search cannot have a step")
    if low == high:
        c.notes.append(f"agent `{agent_id}`: `{name}` has min = max = {low}: it cannot move")
        option.base_params[name] = low
        return None
    if step is not None:
        ratio = (high - low) / step
        if abs(ratio - round(ratio)) > 1e-9:
            c.notes.append(
                f"agent `{agent_id}`: the range of `{name}` is not a whole number of steps; "
                f"the grid stops at the last step below {high}"
            )
            high = low + math.floor(ratio + 1e-9) * step
    if is_int:
        return Dimension(
            full_name, agent_id, name, "int", float(low), float(high), step or 1.0, bool(log)
        )
    return Dimension(full_name, agent_id, name, "float", float(low), float(high), step, bool(log))


# ---------------------------------------------------------------------------------------------
# Objectives, pruner, trials, mode and sampler


def _objectives(
    c: _Checker, spec: OptimizeSpec, agent_ids: Sequence[str], searched: Sequence[str]
) -> tuple[list[ObjectivePlan], dict[str, ObjectivePlan]]:
    from paysim.objectives import ObjectiveError, bind_objective, objectives

    registry = objectives()
    raw = spec.objective
    mode = spec.mode
    items: list[tuple[object, Loc]]
    if raw is None:
        default = "agent_cost" if mode == "best_response" else "total_cost"
        items = [(default, ("objective",))]
    elif isinstance(raw, list):
        if not raw:
            c.fail(("objective",), "expected at least one objective")
        items = [(item, ("objective", i)) for i, item in enumerate(raw)]
    else:
        items = [(raw, ("objective",))]
    if mode != "joint" and len(items) > 1:
        c.fail(
            ("objective",),
            f"mode `{mode}` searches one objective; a list of objectives (a Pareto front) "
            "needs mode `joint`",
        )

    def settings(item: object, loc: Loc) -> tuple[str, float]:
        how, alpha = "mean", 0.1
        if isinstance(item, Mapping):
            found = item.get("aggregate", "mean")
            if found not in ("mean", "median", "cvar"):
                c.fail(
                    (*loc, "aggregate"),
                    f"unknown aggregate {found!r}; expected mean, median or cvar",
                    did_you_mean(str(found), ["mean", "median", "cvar"]),
                )
            how = str(found)
            a = item.get("alpha")
            if a is not None:
                if how != "cvar":
                    c.fail((*loc, "alpha"), "`alpha` belongs to `aggregate: cvar`")
                value = _num(a)
                if value is None or not 0 < value <= 1:
                    c.fail((*loc, "alpha"), f"`alpha` must be in (0, 1]; found {a!r}")
                alpha = value
        return how, alpha

    def bind(item: object, loc: Loc, agent: str | None = None) -> ObjectivePlan:
        from paysim.config.loader import to_pointer

        spec_item: object = item
        if agent is not None:
            with_agent: dict[str, object] = (
                {"metric": item}
                if isinstance(item, str)
                else dict(cast(Mapping[str, object], item))
            )
            with_agent.setdefault("agent", agent)
            spec_item = with_agent
        try:
            bound = bind_objective(
                spec_item,
                agents=list(agent_ids),
                file=c.file,
                pointer=to_pointer(loc),
                reserved=("aggregate", "alpha"),
                registry=registry,
            )
        except ObjectiveError as exc:
            raise SpecError(
                exc.message + line_suffix(c.lines, loc),
                file=c.file,
                pointer=exc.pointer,
                suggestion=exc.suggestion,
            ) from None
        how, alpha = settings(item, loc)
        return ObjectivePlan(bound.label, bound, bound.direction, cast(AggregateName, how), alpha)

    def takes_agent(item: object, loc: Loc) -> None:
        metric = item if isinstance(item, str) else cast(Mapping[str, object], item).get("metric")
        obj = registry.get(str(metric))
        if obj is not None and not any(p.kind == "agent" for p in obj.params):
            c.fail(
                loc if isinstance(item, str) else (*loc, "metric"),
                f"in mode `best_response` each agent minimises its own cost: the objective must "
                f"take an `agent` (e.g. agent_cost); `{metric}` does not",
            )

    planner: list[ObjectivePlan] = []
    per_agent: dict[str, ObjectivePlan] = {}
    if mode == "best_response":
        item, loc = items[0]
        takes_agent(item, loc)
        if isinstance(item, Mapping) and "agent" in item:
            c.fail((*loc, "agent"), "in mode `best_response` the agent is each searched agent")
        for agent in searched:
            per_agent[agent] = bind(item, loc, agent)
        return planner, per_agent
    planner = [bind(item, loc) for item, loc in items]
    if mode == "both":
        how, alpha = settings(items[0][0], items[0][1])
        template: dict[str, object] = {"metric": "agent_cost", "aggregate": how}
        if how == "cvar":
            template["alpha"] = alpha
        for agent in searched:
            per_agent[agent] = bind(template, ("objective",), agent)
    return planner, per_agent


def _pruner(c: _Checker, spec: OptimizeSpec, n_objectives: int) -> str:
    if spec.pruner is None:
        return "wilcoxon" if n_objectives <= 1 else "none"
    if spec.pruner != "none" and n_objectives > 1:
        c.fail(
            ("pruner",),
            f"a Pareto search (several objectives) cannot prune; use `pruner: none`, not "
            f"`{spec.pruner}`",
        )
    return spec.pruner


def _trials(c: _Checker, spec: OptimizeSpec, spaces: Mapping[str, AgentSpace]) -> int:
    if spec.trials is not None:
        return spec.trials
    if spec.sampler == "grid":
        size = 1
        for space in spaces.values():
            points = agent_grid(space, 10_000_000)
            size *= len(points) if points else 1
        return max(1, size)
    return DEFAULT_TRIALS


def _check_mode(c: _Checker, spec: OptimizeSpec, spaces: Mapping[str, AgentSpace]) -> None:
    empty = [a for a, s in spaces.items() if not list(s.dimensions())]
    if spec.mode != "joint" and empty:
        c.fail(
            ("agents", empty[0]),
            f"agent `{empty[0]}` has nothing to search: its policy declares no ranges; add "
            "`search` with a range",
        )
    if spec.mode == "joint" and len(empty) == len(spaces):
        c.fail(
            ("agents",),
            "nothing to search: no policy declares a range and `search` adds none",
        )
    if spec.workers > 1 and spec.mode == "best_response":
        c.notes.append(
            "best_response evaluates each step's candidates in one engine call on all cores; "
            "`workers` applies to joint searches"
        )


def _check_sampler(
    c: _Checker, spec: OptimizeSpec, spaces: Mapping[str, AgentSpace], n_objectives: int
) -> None:
    if spec.sampler == "grid":
        for space in spaces.values():
            for option in space.options:
                for dim in option.dims:
                    if dim.grid() is None:
                        c.fail(
                            ("sampler",),
                            f"the grid sampler needs a grid: `{dim.name}` is a continuous "
                            "range; give it a `step`, or use another sampler",
                        )
            if space.has_choice:
                c.fail(
                    ("sampler",),
                    f"the grid sampler needs one fixed space; `{space.agent}` chooses among "
                    "policies (a conditional space)",
                )
    if spec.sampler == "gp":
        import importlib.util

        if importlib.util.find_spec("torch") is None:
            c.fail(
                ("sampler",),
                "the `gp` sampler needs PyTorch, which is not installed (pip install torch); "
                "choose another sampler",
            )
    if spec.constraints and spec.sampler in ("cmaes", "random", "grid", "qmc"):
        c.notes.append(
            f"the `{spec.sampler}` sampler does not use constraints to propose candidates; the "
            "best trial reported is still the best feasible one"
        )
    if spec.sampler == "cmaes" and n_objectives > 1:
        c.fail(("sampler",), "the `cmaes` sampler optimises one objective; use `nsga2`")
    try:
        from paysim.optimize.study import make_sampler

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            make_sampler(spec.sampler, dict(spec.sampler_options), spec.seed, None)
    except (TypeError, ValueError) as exc:
        c.fail(("sampler_options",), f"the `{spec.sampler}` sampler rejects its options: {exc}")
    if spec.pruner_options:
        try:
            from paysim.optimize.study import make_pruner

            make_pruner(spec.pruner or "wilcoxon", dict(spec.pruner_options))
        except (TypeError, ValueError) as exc:
            c.fail(("pruner_options",), f"the pruner rejects its options: {exc}")
