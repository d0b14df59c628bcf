"""Two-agent grid games: each agent's cost over the whole grid of the two searched parameters.

A study is a **two-agent grid game** when it searches exactly two dimensions, one per agent,
each a finite grid (a ``step``, or an ``int`` range) of at most :data:`MAX_SIDE` values. Its
cost matrices — each agent's own objective and the planner objective (the study's first
objective, or the mean total cost when it has none) at every pair of values — come from the
engine: every grid point is run on the study's seeds (common random numbers, through
``paysim.optimize``'s evaluator, as the study itself ran them), in batches, as long as points ×
seeds stays within :data:`MAX_RUNS`. Otherwise, or when the spec or its scenario cannot be read
any more, the planner matrix is filled from the stored joint trials and the agents' matrices
from the stored best-response steps (each step evaluates one agent's row or column), and cells
nobody evaluated stay blank.

The equilibrium (``result.json``'s profile), the planner's optimum (its ``planner`` or ``best``
trial, else the grid point of lowest planner cost) and the best-response path are marked.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from paysim.report.axis import FloatArray
from paysim.report.study_data import Trial, dimensions, objectives

if TYPE_CHECKING:
    from paysim.optimize import Plan

MAX_SIDE = 101
MAX_RUNS = 50_000
BATCH = 256


@dataclass
class GridGame:
    agents: tuple[str, str]
    dims: tuple[str, str]
    """The searched dimension of each agent (``AGENT.PARAM``): x, then y."""
    x: list[float]
    y: list[float]
    costs: dict[str, FloatArray]
    """Per agent, and ``"planner"``: a matrix indexed ``[y, x]`` (NaN where not evaluated)."""
    planner_label: str
    equilibrium: tuple[float, float] | None
    planner: tuple[float, float] | None
    path: list[tuple[float, float]] = field(default_factory=list)
    """The profile after each best-response step (the first one's start included)."""
    source: str = "engine"


def _grid(dim: dict[str, object]) -> list[float] | None:
    low, high = dim.get("min"), dim.get("max")
    if not isinstance(low, int | float) or not isinstance(high, int | float):
        return None
    step = dim.get("step")
    if dim.get("kind") == "int" and step is None:
        step = 1
    if not isinstance(step, int | float) or step <= 0:
        return None
    n = math.floor((high - low) / step + 1e-9) + 1
    if n > MAX_SIDE:
        return None
    return [round(low + i * step, 12) for i in range(n)]


def _owner(name: str, agents: list[str]) -> str | None:
    owners = [a for a in agents if name.startswith(a + ".")]
    return max(owners, key=len) if owners else None


def _agents(result: dict[str, object]) -> list[str]:
    found: list[str] = []
    for key in ("agent_objectives",):
        value = result.get(key)
        if isinstance(value, dict):
            found += [str(a) for a in value]
    for key in ("best", "planner"):
        value = result.get(key)
        params = value.get("params") if isinstance(value, dict) else None
        if isinstance(params, dict):
            found += [str(a) for a in params]
    return list(dict.fromkeys(found))


def _profile_point(profile: object, dims: tuple[str, str]) -> tuple[float, float] | None:
    """``{agent: {dim: value}}`` (an equilibrium profile) as an (x, y) point."""
    if not isinstance(profile, dict):
        return None
    merged: dict[str, object] = {}
    for values in profile.values():
        if isinstance(values, dict):
            merged.update(values)
    x, y = merged.get(dims[0]), merged.get(dims[1])
    if isinstance(x, int | float) and isinstance(y, int | float):
        return float(x), float(y)
    return None


def _trial_point(
    trial: object, dims: tuple[str, str], agents: tuple[str, str]
) -> tuple[float, float] | None:
    """A ``best``/``planner`` entry (``params: {agent: {policy, params}}``) as a point."""
    if not isinstance(trial, dict) or not isinstance(trial.get("params"), dict):
        return None
    point = []
    for dim, agent in zip(dims, agents, strict=True):
        entry = trial["params"].get(agent)
        params = entry.get("params") if isinstance(entry, dict) else None
        value = params.get(dim[len(agent) + 1 :]) if isinstance(params, dict) else None
        if not isinstance(value, int | float):
            return None
        point.append(float(value))
    return point[0], point[1]


def find_game(
    result: dict[str, object],
) -> tuple[tuple[str, str], tuple[str, str], list[float], list[float]] | str:
    """The agents, dimensions and grids of a two-agent grid game, or why the study is not one."""
    dims = dimensions(result)
    if len(dims) != 2:
        return f"the study searches {len(dims)} dimensions, not one per agent of two"
    agents = _agents(result)
    owners = [_owner(str(d.get("name")), agents) for d in dims]
    if None in owners or owners[0] == owners[1]:
        return "its two dimensions do not belong to two different agents"
    grids = [_grid(d) for d in dims]
    if grids[0] is None or grids[1] is None:
        return f"a dimension is not a finite grid of at most {MAX_SIDE} values"
    return (
        (str(owners[0]), str(owners[1])),
        (str(dims[0]["name"]), str(dims[1]["name"])),
        grids[0],
        grids[1],
    )


def load_study_plan(
    result: dict[str, object], stored: dict[str, object] | None = None
) -> tuple[Plan | None, str]:
    """The study's plan (its spec checked against its scenario, as ``paysim optimize`` did):
    from the spec file, else from the store's copy of the spec (``studies.spec``, with the
    scenario path the study used); or why neither can be loaded any more."""
    from paysim.optimize import load_plan
    from paysim.optimize.plan import make_plan
    from paysim.optimize.spec import validate_spec

    spec = Path(str(result.get("spec") or ""))
    try:
        return load_plan(spec), ""
    except Exception as exc:  # a SpecError, ScenarioError or OSError: try the stored copy
        first = f"the study's spec cannot be loaded again: {exc}"
    if stored is None or not isinstance(stored.get("spec"), str):
        return None, first
    try:
        data = json.loads(str(stored["spec"]))
        data["scenario"] = str(stored.get("scenario"))
        checked = validate_spec(data, file=str(spec), lines=lambda _loc: None)
        return make_plan(checked, file=str(spec), lines=lambda _loc: None), ""
    except Exception as exc:  # the scenario or a policy file moved too
        return None, f"{first}; nor can the stored copy: {exc}"


def start_point(plan: Plan | None) -> dict[str, float | str]:
    """Where best response starts: each searched agent's default point."""
    from paysim.optimize.space import default_assignment

    out: dict[str, float | str] = {}
    for space in plan.spaces.values() if plan is not None else []:
        out.update(default_assignment(space))
    return out


def build_game(
    result: dict[str, object], trials: list[Trial], plan: Plan | None, why: str = ""
) -> tuple[GridGame | None, str]:
    """The game's matrices and marks, and a note on where they came from (or why none).
    Without a ``plan`` (``why`` says why) the matrices come from the stored trials."""
    found = find_game(result)
    if isinstance(found, str):
        return None, f"no cost matrix: {found}"
    agents, dims, xs, ys = found
    seeds = result.get("seeds")
    n_seeds = len(seeds) if isinstance(seeds, list) else 1
    objs = objectives(result)
    label = str(objs[0].get("label")) if objs else "total_cost (mean over seeds)"
    game = GridGame(
        agents=agents,
        dims=dims,
        x=xs,
        y=ys,
        costs={},
        planner_label=label,
        equilibrium=None,
        planner=None,
    )
    runs = len(xs) * len(ys) * n_seeds
    start = start_point(plan)
    if plan is not None and runs <= MAX_RUNS:
        game.costs = _evaluate(plan, agents, dims, xs, ys)
        note = (
            f"every point of the {len(xs)} × {len(ys)} grid run on the study's "
            f"{n_seeds} seed(s), {runs:,} runs"
        )
    else:
        reason = why or f"{runs:,} runs would exceed {MAX_RUNS:,}"
        note = f"from the stored trials, blank where none was run ({reason})"
        game.costs = _from_trials(result, trials, agents, dims, xs, ys, start)
        game.source = "trials"
    _marks(game, result, start)
    return game, note


def _index(grid: list[float], value: float) -> int | None:
    i = int(np.argmin([abs(g - value) for g in grid]))
    return i if abs(grid[i] - value) <= 1e-9 * max(1.0, abs(value)) + 1e-12 else None


def _from_trials(
    result: dict[str, object],
    trials: list[Trial],
    agents: tuple[str, str],
    dims: tuple[str, str],
    xs: list[float],
    ys: list[float],
    start: dict[str, float | str],
) -> dict[str, FloatArray]:
    costs = {k: np.full((len(ys), len(xs)), np.nan) for k in (*agents, "planner")}
    name = str(result.get("study_name"))
    for t in trials:
        if t.state != "complete" or not t.values:
            continue
        if t.phase == "joint" and t.study == name:
            key = "planner"
        elif t.phase == "best_response":
            key = next((a for a in agents if t.study.endswith("." + a)), "")
        else:
            continue
        x: object = t.params.get(dims[0])
        y: object = t.params.get(dims[1])
        if key not in costs:
            continue
        if key != "planner":  # a step searched one agent, the other held at the profile then
            x, y = _step_point(t, key, agents, dims, result, start)
        if isinstance(x, int | float) and isinstance(y, int | float):
            i, j = _index(xs, float(x)), _index(ys, float(y))
            if i is not None and j is not None:
                costs[key][j, i] = t.values[0]
    return costs


def _step_point(
    t: Trial,
    agent: str,
    agents: tuple[str, str],
    dims: tuple[str, str],
    result: dict[str, object],
    start: dict[str, float | str],
) -> tuple[object, object]:
    """Where a best-response trial stands: its own value, and the other agent's value when the
    step ran (from the path: the profile before this step)."""
    own = t.params.get(dims[agents.index(agent)])
    other_dim = dims[1 - agents.index(agent)]
    held = None
    for entry in _path_entries(result):
        if entry.get("study") == t.study:
            break
        params = entry.get("params")
        if isinstance(params, dict) and other_dim in params:
            held = params[other_dim]
    if held is None:
        held = start.get(other_dim)
    return (own, held) if agents.index(agent) == 0 else (held, own)


def _path_entries(result: dict[str, object]) -> list[dict[str, object]]:
    eq = result.get("equilibrium")
    path = eq.get("path") if isinstance(eq, dict) else None
    return [p for p in path if isinstance(p, dict)] if isinstance(path, list) else []


def _marks(game: GridGame, result: dict[str, object], start: dict[str, float | str]) -> None:
    eq = result.get("equilibrium")
    if isinstance(eq, dict):
        game.equilibrium = _profile_point(eq.get("profile"), game.dims)
    planner = result.get("planner") or result.get("best")
    game.planner = _trial_point(planner, game.dims, game.agents)
    if game.planner is None:
        matrix = game.costs.get("planner")
        if matrix is not None and np.isfinite(matrix).any():
            j, i = np.unravel_index(np.nanargmin(matrix), matrix.shape)
            game.planner = (game.x[int(i)], game.y[int(j)])
    entries = _path_entries(result)
    if entries:
        point: list[object] = [start.get(game.dims[0]), start.get(game.dims[1])]
        path: list[tuple[float, float]] = []
        if all(isinstance(v, int | float) for v in point):
            path.append((float(str(point[0])), float(str(point[1]))))
        for entry in entries:
            params = entry.get("params")
            if isinstance(params, dict):
                for k, dim in enumerate(game.dims):
                    if dim in params:
                        point[k] = params[dim]
            if all(isinstance(v, int | float) for v in point):
                path.append((float(str(point[0])), float(str(point[1]))))
        game.path = path


def _evaluate(
    plan: Plan,
    agents: tuple[str, str],
    dims: tuple[str, str],
    xs: list[float],
    ys: list[float],
) -> dict[str, FloatArray]:
    """Every grid point on the study's seeds, through ``paysim.optimize``."""
    from paysim.optimize.evaluate import Evaluator
    from paysim.optimize.space import candidate_of

    spaces = list(plan.spaces.values())
    evaluator = Evaluator(plan.scenario, plan.spaces)
    points = [(x, y) for y in ys for x in xs]
    costs = {k: np.full(len(points), np.nan) for k in (*agents, "planner")}
    planner = plan.objectives[0] if plan.objectives else None
    for start in range(0, len(points), BATCH):
        chunk = points[start : start + BATCH]
        candidates = [candidate_of({dims[0]: x, dims[1]: y}, spaces) for x, y in chunk]
        batch = evaluator.run(candidates, plan.seeds)
        for k, summaries in enumerate(batch.summaries):
            for agent in agents:
                obj = plan.agent_objectives.get(agent)
                if obj is not None:
                    costs[agent][start + k] = obj.combine([obj(s) for s in summaries])
            if planner is not None:
                costs["planner"][start + k] = planner.combine([planner(s) for s in summaries])
            else:
                totals = [float(s["totals"]["total_cost"]) for s in summaries]  # type: ignore[index]
                costs["planner"][start + k] = sum(totals) / len(totals)
    return {k: v.reshape(len(ys), len(xs)) for k, v in costs.items()}
