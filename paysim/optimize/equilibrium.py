"""Best-response dynamics, the equilibrium certificate, and what they report.

Agents take turns (in the spec's order): each minimises its own objective (``agent_cost`` by
default) over its own space with every other agent held at its current point. A step is an
Optuna study of its own (``<study>.br.r<round>.<agent>``, in memory): when the agent's
space is a finite grid of at most ``certificate.max_grid`` points every point is enqueued and
evaluated (exact best response), otherwise the spec's sampler proposes ``best_response.trials``
candidates. A step's candidates run in one engine call. Ties are broken towards the agent's
current point, then the earlier trial, so a flat region never makes the dynamics wander.

The dynamics stop when a whole round moves no parameter by more than ``tolerance``
(``converged``), when a round ends at a profile an earlier round ended at (``cycle``, with the
profiles of the cycle), or after ``max_rounds``. The certificate then evaluates, for each agent,
its unilateral deviations from the final profile (its whole grid, or a Halton sample of
``certificate.samples`` points of a continuous space) and reports the largest gain any agent can
get: the profile is an ε-equilibrium with ε that gain (on the evaluated deviations).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from paysim.optimize.evaluate import Evaluator, ObjectivePlan
from paysim.optimize.space import (
    AgentSpace,
    Assignment,
    Candidate,
    agent_grid,
    candidate_of,
    default_assignment,
    suggest_candidate,
)

if TYPE_CHECKING:
    import optuna

    from paysim.optimize.plan import Plan

Profile = dict[str, Assignment]
_TIE = 1e-12
_MAX_CALL = 512
"""Candidates per engine call in a best-response step (bounded memory)."""


@dataclass
class Step:
    """One best response: who moved, to where, and what it cost them there."""

    round: int
    agent: str
    assignment: Assignment
    value: float
    moved: float
    candidates: int
    exhaustive: bool
    study: str

    def to_dict(self) -> dict[str, object]:
        return {
            "round": self.round,
            "agent": self.agent,
            "params": dict(self.assignment),
            "value": self.value,
            "moved": self.moved,
            "candidates": self.candidates,
            "exhaustive": self.exhaustive,
            "study": self.study,
        }


@dataclass
class AgentCertificate:
    agent: str
    value: float
    best_deviation: Assignment
    best_deviation_value: float
    gain: float
    deviations: int
    method: str

    def to_dict(self) -> dict[str, object]:
        return {
            "agent": self.agent,
            "value": self.value,
            "best_deviation": dict(self.best_deviation),
            "best_deviation_value": self.best_deviation_value,
            "gain": self.gain,
            "deviations": self.deviations,
            "method": self.method,
        }


@dataclass
class Equilibrium:
    status: str
    rounds: int
    profile: Profile
    path: list[Step]
    cycle: list[Profile] | None
    agents: list[AgentCertificate] = field(default_factory=list)
    epsilon: float = 0.0
    planner_value: float | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict[str, object]:
        return {
            "status": self.status,
            "rounds": self.rounds,
            "profile": {a: dict(v) for a, v in self.profile.items()},
            "path": [s.to_dict() for s in self.path],
            "cycle": None if self.cycle is None else [dict(p) for p in self.cycle],
            "certificate": {
                "epsilon": self.epsilon,
                "agents": [c.to_dict() for c in self.agents],
            },
            "planner_objective_at_equilibrium": self.planner_value,
            "seconds": self.seconds,
        }


def _distance(space: AgentSpace, old: Assignment, new: Assignment) -> float:
    if space.has_choice and old.get(space.choice_name) != new.get(space.choice_name):
        return math.inf
    moved = 0.0
    for dim in space.dimensions():
        if dim.name in old and dim.name in new:
            moved = max(moved, dim.distance(old[dim.name], new[dim.name]))
    return moved


def _merged(profile: Profile) -> Assignment:
    out: Assignment = {}
    for assignment in profile.values():
        out.update(assignment)
    return out


def _key(profile: Profile) -> tuple[tuple[str, tuple[tuple[str, float | str], ...]], ...]:
    return tuple((a, tuple(sorted(v.items()))) for a, v in sorted(profile.items()))


@dataclass
class BestResponseSearch:
    """Runs best-response dynamics for a plan (see the module docstring)."""

    plan: Plan
    evaluator: Evaluator
    on_step: Callable[[Step], None] | None = None
    studies: dict[str, optuna.Study] = field(default_factory=dict)
    """Every step's study by name (kept in memory: the dynamics are deterministic and cheap to
    recompute, while a journal write is fsynced; their trials go to the DuckDB store)."""

    @property
    def spaces(self) -> list[AgentSpace]:
        return list(self.plan.spaces.values())

    def values_at(self, profile: Profile) -> tuple[dict[str, float], float | None]:
        """Each searched agent's objective, and the planner objective, at a profile."""
        candidate = candidate_of(_merged(profile), self.spaces)
        batch = self.evaluator.run([candidate], self.plan.seeds)
        summaries = batch.summaries[0]
        values = {
            agent: obj.combine([obj(s) for s in summaries])
            for agent, obj in self.plan.agent_objectives.items()
        }
        planner = None
        if self.plan.objectives:
            first = self.plan.objectives[0]
            planner = first.combine([first(s) for s in summaries])
        return values, planner

    def run(self) -> Equilibrium:
        start = time.perf_counter()
        br = self.plan.spec.best_response
        profile: Profile = {s.agent: default_assignment(s) for s in self.spaces}
        seen: list[tuple[object, ...]] = [_key(profile)]
        ends: list[Profile] = [{a: dict(v) for a, v in profile.items()}]
        path: list[Step] = []
        status, cycle, rounds = "max_rounds", None, 0
        for r in range(1, br.max_rounds + 1):
            rounds = r
            moved = 0.0
            for space in self.spaces:
                step = self.step(r, space, profile)
                path.append(step)
                if self.on_step is not None:
                    self.on_step(step)
                moved = max(moved, step.moved)
                profile[space.agent] = dict(step.assignment)
            key = _key(profile)
            if moved <= br.tolerance:
                status = "converged"
                break
            if key in seen:
                # Back at the end of an earlier round: the dynamics cycle from there on.
                first = seen.index(key)
                status = "cycle"
                cycle = [ends[i] for i in range(first, len(ends))]
                break
            seen.append(key)
            ends.append({a: dict(v) for a, v in profile.items()})
        eq = Equilibrium(status, rounds, profile, path, cycle)
        self.certify(eq)
        eq.seconds = time.perf_counter() - start
        return eq

    def _objective(self, agent: str) -> ObjectivePlan:
        return self.plan.agent_objectives[agent]

    def step(self, r: int, space: AgentSpace, profile: Profile) -> Step:
        """One best response of ``space.agent`` to the others' current points."""
        import optuna
        from optuna.trial import TrialState

        plan = self.plan
        br = plan.spec.best_response
        objective = self._objective(space.agent)
        grid = agent_grid(space, br.certificate.max_grid)
        exhaustive = grid is not None and br.trials is None
        name = f"{plan.study_name}.br.r{r}.{space.agent}"
        fixed = {a: v for a, v in profile.items() if a != space.agent}
        if exhaustive:
            sampler: optuna.samplers.BaseSampler = optuna.samplers.RandomSampler(seed=0)
        else:
            from paysim.optimize.study import make_sampler

            sampler = make_sampler(
                plan.spec.sampler, plan.spec.sampler_options, plan.spec.seed, None
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            study = optuna.create_study(
                storage=optuna.storages.InMemoryStorage(),
                study_name=name,
                sampler=sampler,
                direction=objective.direction,
            )
        study.set_user_attr("fixed", {a: dict(v) for a, v in fixed.items()})
        self.studies[name] = study
        done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if exhaustive:
            assert grid is not None
            have = {tuple(sorted(t.params.items())) for t in done}
            todo = [p for p in grid if tuple(sorted(p.items())) not in have]
            for point in todo:
                study.enqueue_trial(dict(point), skip_if_exists=False)
            total = len(todo)
        else:
            total = max(0, (br.trials or 64) - len(done))
        remaining = total
        from paysim.optimize.study import quiet_optuna

        while remaining > 0:
            n = min(remaining, _MAX_CALL)
            with quiet_optuna():
                self._evaluate_batch(study, n, fixed, objective)
            remaining -= n
        trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        current = profile[space.agent]
        best = self._pick(space, trials, current, objective)
        dims = {d.name: d for d in space.dimensions()}
        assignment: Assignment = {
            k: dims[k].clean(v) if k in dims else v for k, v in best.params.items()
        }
        value = float(best.values[0])
        return Step(
            r,
            space.agent,
            assignment,
            value,
            _distance(space, current, assignment),
            len(trials),
            exhaustive,
            name,
        )

    def _pick(
        self,
        space: AgentSpace,
        trials: Sequence[optuna.trial.FrozenTrial],
        current: Assignment,
        objective: ObjectivePlan,
    ) -> optuna.trial.FrozenTrial:
        from paysim.optimize.study import feasible

        pool = [t for t in trials if feasible(t)] or list(trials)
        if not pool:
            raise RuntimeError(f"no completed trial in the best-response step of {space.agent}")
        sign = 1.0 if objective.direction == "minimize" else -1.0
        best_value = min(sign * float(t.values[0]) for t in pool)
        scale = max(1.0, abs(best_value))
        tied = [t for t in pool if sign * float(t.values[0]) <= best_value + _TIE * scale]
        return min(
            tied,
            key=lambda t: (_distance(space, current, dict(t.params)), t.number),
        )

    def _evaluate_batch(
        self,
        study: optuna.Study,
        n: int,
        fixed: Mapping[str, Assignment],
        objective: ObjectivePlan,
    ) -> None:
        from optuna.trial import TrialState

        trials = [study.ask() for _ in range(n)]
        try:
            candidates: list[Candidate] = [suggest_candidate(t, self.spaces, fixed) for t in trials]
            batch = self.evaluator.run(candidates, self.plan.seeds)
        except BaseException:
            for t in trials:
                study.tell(t, state=TrialState.FAIL, skip_if_finished=True)
            raise
        from paysim.optimize.study import ATTR, TrialRecord, run_record

        for trial, summaries in zip(trials, batch.summaries, strict=True):
            per_seed = [objective(s) for s in summaries]
            constraint_values = [c.value(summaries) for c in self.plan.constraints]
            for k, v in enumerate(constraint_values):
                trial.set_constraint(str(k), v)
            record = TrialRecord(
                "best_response",
                runs=[
                    run_record(i, seed, [v], s)
                    for i, (seed, v, s) in enumerate(
                        zip(self.plan.seeds, per_seed, summaries, strict=True)
                    )
                ],
                engine_seconds=batch.engine_seconds / max(n, 1),
                trial_seconds=batch.wall_seconds / max(n, 1),
                constraints=constraint_values,
            )
            trial.set_user_attr(ATTR, record.to_attr())
            study.tell(trial, objective.combine(per_seed))

    # -----------------------------------------------------------------------------------------
    # The certificate

    def deviations(self, space: AgentSpace) -> tuple[list[Assignment], str]:
        """The unilateral deviations checked for one agent and how they were chosen."""
        cert = self.plan.spec.best_response.certificate
        grid = agent_grid(space, cert.max_grid)
        if grid is not None:
            return grid, "grid"
        from scipy.stats import qmc

        points: list[Assignment] = []
        per_option = max(1, cert.samples // len(space.options))
        for option in space.options:
            dims = option.dims
            base: Assignment = {space.choice_name: option.label} if space.has_choice else {}
            if not dims:
                points.append(base)
                continue
            sampler = qmc.Halton(d=len(dims), scramble=True, seed=self.plan.spec.seed or 0)
            for row in sampler.random(per_option):
                points.append(
                    {**base, **{d.name: d.sample(float(u)) for d, u in zip(dims, row, strict=True)}}
                )
        return points, f"halton sample of {len(points)}"

    def certify(self, eq: Equilibrium) -> None:
        values, planner = self.values_at(eq.profile)
        eq.planner_value = planner
        epsilon = 0.0
        for space in self.spaces:
            objective = self._objective(space.agent)
            points, method = self.deviations(space)
            candidates = [
                candidate_of(_merged({**eq.profile, space.agent: p}), self.spaces) for p in points
            ]
            results: list[float] = []
            for first in range(0, len(candidates), _MAX_CALL):
                batch = self.evaluator.run(candidates[first : first + _MAX_CALL], self.plan.seeds)
                results.extend(
                    objective.combine([objective(s) for s in row]) for row in batch.summaries
                )
            sign = 1.0 if objective.direction == "minimize" else -1.0
            k = min(range(len(results)), key=lambda i: (sign * results[i], i))
            gain = sign * (values[space.agent] - results[k])
            eq.agents.append(
                AgentCertificate(
                    space.agent,
                    values[space.agent],
                    points[k],
                    results[k],
                    max(0.0, gain),
                    len(points),
                    method,
                )
            )
            epsilon = max(epsilon, gain)
        eq.epsilon = max(0.0, epsilon)
