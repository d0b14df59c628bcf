"""The optimisation as a whole: :class:`Optimization` makes (or resumes) the study, runs its
workers, re-checks the best fit, and hands the outcome to :mod:`paysim.optimize.outputs`.

``mode: joint`` is one Optuna study (``study_name``) worked by ``workers`` processes: one worker
runs in this process (a seeded one-worker study is reproducible); more are spawned processes on
the same storage, sharing one trial budget. ``mode: best_response`` runs the dynamics of
:mod:`paysim.optimize.equilibrium`; ``mode: both`` runs both and reports the price of anarchy
(the planner objective at the equilibrium divided by the planner's optimum).

A worker that is interrupted (Ctrl-C) finishes its running trial and stops (a second Ctrl-C stops
at once, failing that trial; :mod:`paysim.optimize.interrupt`); finished trials stay in the
storage and the outputs are written from them, marked ``interrupted``.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import time
import warnings
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from paysim.optimize.evaluate import Evaluator
from paysim.optimize.interrupt import graceful_interrupt
from paysim.optimize.plan import Plan
from paysim.optimize.space import Assignment, agent_grid
from paysim.optimize.study import (
    TrialRunner,
    best_trials,
    finished_count,
    make_pruner,
    make_sampler,
    recover_stale,
)

if TYPE_CHECKING:
    from multiprocessing.sharedctypes import Synchronized

    import optuna

    from paysim.optimize.equilibrium import BestResponseSearch, Equilibrium, Step

Progress = Callable[[int, int, float | None], None]
"""``progress(done, total, best_so_far)``."""


@dataclass
class JointResult:
    study_name: str
    trials: list[optuna.trial.FrozenTrial]
    best: list[optuna.trial.FrozenTrial]
    recheck: dict[str, object] | None
    seconds: float
    interrupted: bool = False


@dataclass
class Outcome:
    """Everything an optimisation produced (written out by :mod:`paysim.optimize.outputs`)."""

    plan: Plan
    joint: JointResult | None = None
    equilibrium: Equilibrium | None = None
    seconds: float = 0.0
    interrupted: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def price_of_anarchy(self) -> float | None:
        if self.equilibrium is None or self.joint is None or not self.joint.best:
            return None
        eq = self.equilibrium.planner_value
        opt = self.joint.best[0].values[0]
        if eq is None:
            return None
        if opt == 0:
            return 1.0 if eq == 0 else math.inf
        return float(eq) / float(opt)


def engine_threads(plan: Plan, workers: int) -> int:
    if plan.spec.evaluation.threads is not None:
        return plan.spec.evaluation.threads
    return max(1, (os.cpu_count() or 1) // max(1, workers))


def seed_batch(plan: Plan, threads: int) -> int:
    if plan.spec.evaluation.batch is not None:
        return plan.spec.evaluation.batch
    if plan.pruner == "none":
        # One engine call for the seeds, bounded so a huge seed list never holds every
        # summary of a trial at once.
        return min(len(plan.seeds), 1024)
    return max(2, threads)


def _grid_space(plan: Plan) -> dict[str, list[float | str]] | None:
    if plan.spec.sampler != "grid":
        return None
    out: dict[str, list[float | str]] = {}
    for dim in plan.dimensions:
        values = dim.grid()
        assert values is not None
        out[dim.name] = values
    return out


SHARED_SEED_SAMPLERS = ("grid", "qmc")
"""Samplers whose processes share one seed (others get one each, or they would propose the same
candidates)."""


def create_study(
    plan: Plan,
    storage: optuna.storages.BaseStorage,
    *,
    load: bool,
    worker: int = 0,
    study_id: str | None = None,
) -> optuna.Study:
    """The joint study (created, or loaded with ``load``), with this worker's sampler."""
    import optuna

    from paysim.optimize.distributed import record_study_attrs

    seed = None if plan.spec.seed is None else plan.spec.seed + worker
    if plan.spec.sampler in SHARED_SEED_SAMPLERS:
        # These samplers coordinate processes through the storage (the grid point's index, the
        # QMC sample's index): every process must draw from the same shuffled grid or sequence.
        seed = (
            plan.spec.seed if plan.spec.seed is not None else zlib.crc32(plan.study_name.encode())
        )
    sampler = make_sampler(plan.spec.sampler, plan.spec.sampler_options, seed, _grid_space(plan))
    pruner = make_pruner(plan.pruner, plan.spec.pruner_options)
    directions = [o.direction for o in plan.objectives]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if load:
            return optuna.load_study(
                study_name=plan.study_name, storage=storage, sampler=sampler, pruner=pruner
            )
        study = optuna.create_study(
            storage=storage,
            study_name=plan.study_name,
            sampler=sampler,
            pruner=pruner,
            directions=directions,
        )
    study.set_user_attr("paysim_spec", plan.spec.model_dump(mode="json"))
    study.set_user_attr("objectives", [o.describe() for o in plan.objectives])
    study.set_user_attr("constraints", [c.text for c in plan.constraints])
    study.set_user_attr("seeds", list(plan.seeds))
    study.set_user_attr("dimensions", [d.describe() for d in plan.dimensions])
    record_study_attrs(study, plan, study_id)
    return study


def trial_runner(plan: Plan, study: optuna.Study, threads: int) -> TrialRunner:
    """The runner of a joint study's trials in this process, on ``threads`` engine threads."""
    return TrialRunner(
        study=study,
        evaluator=Evaluator(plan.scenario, plan.spaces, threads=threads),
        spaces=list(plan.spaces.values()),
        objectives=plan.objectives,
        constraints=plan.constraints,
        seeds=plan.seeds,
        batch=seed_batch(plan, threads),
        pruner=plan.pruner,
        shuffle_seed=plan.spec.seed or 0,
        fixed={},
    )


def worker_loop(
    plan: Plan,
    study: optuna.Study,
    budget: Callable[[], bool],
    *,
    threads: int,
    deadline: float | None,
    on_trial: Callable[[], None] | None = None,
) -> None:
    """Runs trials while ``budget()`` grants one and the deadline has not passed."""
    runner = trial_runner(plan, study, threads)
    with graceful_interrupt() as stop:
        while (deadline is None or time.monotonic() < deadline) and not stop.is_set():
            if not budget():
                break
            runner.run_trial()
            if on_trial is not None:
                on_trial()
    if stop.is_set():
        raise KeyboardInterrupt


def _worker_process(
    spec_file: str,
    overrides: dict[str, str | None],
    worker: int,
    remaining: Synchronized[int],
    deadline: float | None,
    threads: int,
    trials: int,
) -> None:
    """Entry point of a spawned worker: rebuilds the plan from the spec file, loads the study
    and works it until the shared budget runs out (in a database: the study's own budget)."""
    import signal

    import optuna

    from paysim.optimize import load_plan
    from paysim.optimize.distributed import is_database, open_plan_storage, work

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    plan = load_plan(spec_file, **overrides)
    plan.trials = trials
    storage = open_plan_storage(plan)
    study = create_study(plan, storage, load=True, worker=worker)
    if is_database(plan.storage):
        try:
            until = None if deadline is None else time.monotonic() + deadline
            work(plan, study, threads=threads, deadline=until)
        except KeyboardInterrupt:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        return

    def take() -> bool:
        with remaining.get_lock():
            if remaining.value <= 0:
                return False
            remaining.value -= 1
            return True

    try:
        remaining_deadline = None if deadline is None else time.monotonic() + deadline
        worker_loop(plan, study, take, threads=threads, deadline=remaining_deadline)
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


class Optimization:
    """Makes the study, runs its workers, runs the equilibrium, and re-checks the best fit."""

    def __init__(
        self,
        plan: Plan,
        *,
        resume: bool = False,
        progress: Progress | None = None,
        on_step: Callable[[Step], None] | None = None,
        study_id: str | None = None,
    ) -> None:
        self.plan = plan
        self.study_id = study_id
        self.resume = resume
        self.progress = progress
        self.on_step = on_step
        self._storage: optuna.storages.BaseStorage | None = None
        self.search: BestResponseSearch | None = None

    @property
    def storage(self) -> optuna.storages.BaseStorage:
        """The study storage, opened on first use (best-response dynamics need none)."""
        if self._storage is None:
            from paysim.optimize.distributed import open_plan_storage

            self._storage = open_plan_storage(self.plan)
        return self._storage

    def run(self) -> Outcome:
        start = time.perf_counter()
        outcome = Outcome(self.plan)
        try:
            if self.plan.spec.mode in ("best_response", "both"):
                outcome.equilibrium = self.equilibrium()
            if self.plan.spec.mode in ("joint", "both"):
                outcome.joint = self.joint()
                outcome.interrupted = outcome.joint.interrupted
        except KeyboardInterrupt:
            outcome.interrupted = True
        outcome.seconds = time.perf_counter() - start
        return outcome

    # -----------------------------------------------------------------------------------------

    def equilibrium(self) -> Equilibrium:
        from paysim.optimize.equilibrium import BestResponseSearch

        threads = engine_threads(self.plan, 1)
        search = BestResponseSearch(
            self.plan,
            Evaluator(self.plan.scenario, self.plan.spaces, threads=threads),
            on_step=self.on_step,
        )
        self.search = search
        return search.run()

    def _study(self) -> optuna.Study:
        import optuna

        names = optuna.get_all_study_names(self.storage)
        exists = self.plan.study_name in names
        if exists and not self.resume:
            from paysim.outputs import OutputError

            raise OutputError(
                f"study `{self.plan.study_name}` already exists in {self.plan.storage}; "
                "continue it with --resume, start over with --overwrite, or choose another "
                "--study-name"
            )
        study = create_study(self.plan, self.storage, load=exists, study_id=self.study_id)
        if exists:
            from paysim.optimize.distributed import check_compatible, record_study_attrs

            check_compatible(study, self.plan)
            record_study_attrs(study, self.plan, self.study_id)
        if exists and "://" not in self.plan.storage:
            recovered = recover_stale(study)
            if recovered:
                self.plan.warnings.append(
                    f"{recovered} trial(s) left running by an earlier process were failed and "
                    "queued again"
                )
        return study

    def joint(self) -> JointResult:
        plan = self.plan
        start = time.perf_counter()
        study = self._study()
        workers = plan.spec.workers
        remaining = max(0, plan.trials - finished_count(study))
        deadline = plan.spec.timeout
        interrupted = False
        try:
            if workers <= 1 and "://" in plan.storage:
                self._work_here(study, deadline)
            elif workers <= 1:
                self._run_here(study, remaining, deadline)
            else:
                self._run_workers(study, remaining, deadline, workers)
        except KeyboardInterrupt:
            interrupted = True
        trials = study.get_trials(deepcopy=False)
        best = best_trials(study)
        recheck = None
        if best and not interrupted and len(plan.objectives) == 1:
            recheck = self.recheck(best[0])
        return JointResult(
            plan.study_name, trials, best, recheck, time.perf_counter() - start, interrupted
        )

    def _best_value(self, study: optuna.Study) -> float | None:
        if len(self.plan.objectives) != 1:
            return None
        found = best_trials(study)
        return float(found[0].values[0]) if found else None

    def _run_here(self, study: optuna.Study, remaining: int, deadline: float | None) -> None:
        left = [remaining]
        total = finished_count(study) + remaining

        def take() -> bool:
            if left[0] <= 0:
                return False
            left[0] -= 1
            return True

        def tick() -> None:
            if self.progress is not None:
                self.progress(finished_count(study), total, self._best_value(study))

        tick()
        until = None if deadline is None else time.monotonic() + deadline
        worker_loop(
            self.plan,
            study,
            take,
            threads=engine_threads(self.plan, 1),
            deadline=until,
            on_trial=tick,
        )

    def _work_here(self, study: optuna.Study, deadline: float | None) -> None:
        """A database storage: this process works the study's shared budget."""
        from paysim.optimize.distributed import completed_count, work

        def tick() -> None:
            if self.progress is not None:
                self.progress(completed_count(study), self.plan.trials, self._best_value(study))

        tick()
        until = None if deadline is None else time.monotonic() + deadline
        work(self.plan, study, threads=engine_threads(self.plan, 1), deadline=until, on_trial=tick)

    def _run_workers(
        self, study: optuna.Study, remaining: int, deadline: float | None, workers: int
    ) -> None:
        ctx = multiprocessing.get_context("spawn")
        budget = ctx.Value("i", remaining)
        threads = engine_threads(self.plan, workers)
        count = finished_count
        total = finished_count(study) + remaining
        if "://" in self.plan.storage:
            from paysim.optimize.distributed import completed_count

            count, total = completed_count, self.plan.trials
        procs = [
            ctx.Process(
                target=_worker_process,
                args=(
                    self.plan.file,
                    self._where(),
                    w,
                    budget,
                    deadline,
                    threads,
                    self.plan.trials,
                ),  # fmt: skip
                name=f"paysim-optimize-worker-{w}",
            )
            for w in range(workers)
        ]
        for p in procs:
            p.start()
        try:
            while any(p.is_alive() for p in procs):
                if self.progress is not None:
                    self.progress(count(study), total, self._best_value(study))
                for p in procs:
                    p.join(timeout=0.5 / workers)
        except KeyboardInterrupt:
            for p in procs:
                p.join(timeout=30)
            raise
        finally:
            for p in procs:
                if p.is_alive():
                    p.terminate()
                    p.join()
        failed = [p.exitcode for p in procs if p.exitcode not in (0, None)]
        if failed:
            self.plan.warnings.append(f"{len(failed)} worker(s) ended with exit codes {failed}")

    def _where(self) -> dict[str, str | None]:
        """What a worker needs to rebuild this plan: the resolved output, storage and name."""
        return {
            "output": str(self.plan.output),
            "storage": self.plan.storage,
            "study_name": self.plan.study_name,
        }

    def recheck(self, trial: optuna.trial.FrozenTrial) -> dict[str, object]:
        """Re-runs the best candidate on the study's seeds: the values must match the stored
        ones (common random numbers make them identical)."""
        from paysim.optimize.space import candidate_of

        plan = self.plan
        candidate = candidate_of(dict(trial.params), list(plan.spaces.values()))
        evaluator = Evaluator(plan.scenario, plan.spaces, threads=engine_threads(plan, 1))
        batch = evaluator.run([candidate], plan.seeds)
        values = [o.combine([o(s) for s in batch.summaries[0]]) for o in plan.objectives]
        stored = [float(v) for v in trial.values]
        return {
            "trial": trial.number,
            "values": values,
            "matches": all(
                math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-9)
                for a, b in zip(values, stored, strict=True)
            ),
        }


def assignment_grid_size(plan: Plan) -> int | None:
    """Size of the joint grid, or ``None`` when some dimension is continuous."""
    size = 1
    for space in plan.spaces.values():
        points = agent_grid(space, 10_000_000)
        if points is None:
            return None
        size *= len(points)
    return size


def params_by_agent(plan: Plan, params: Assignment) -> dict[str, dict[str, object]]:
    """A trial's parameters grouped per agent: ``{agent: {policy, params}}``."""
    from paysim.optimize.space import candidate_of

    candidate = candidate_of(params, list(plan.spaces.values()))
    return {
        agent: {"policy": label, "params": dict(candidate.params.get(agent, {}))}
        for agent, label in candidate.choices.items()
    }


def spec_path(plan: Plan) -> Path:
    return Path(plan.file)
