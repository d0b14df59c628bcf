"""Optuna plumbing: samplers, pruners, storages, and the ask-and-tell loop of one worker.

One trial (:meth:`TrialRunner.run_trial`): ``study.ask()``, the candidate from the trial's
suggestions, its seeds in batches through :class:`~paysim.optimize.evaluate.Evaluator`, each
seed's objective value reported (``trial.report(value, step=seed_index)``; the seed order is
shuffled per trial, deterministically, so the WilcoxonPruner sees a fair sample early), a prune
check after each batch, constraints set with ``trial.set_constraint`` (Optuna 5's replacement of
``constraints_func``, read by every constrained sampler and by ``best_trial``), then
``study.tell``. Everything the store needs later (per-seed values and metrics, engine and trial
times, the candidate) goes into the trial's user attributes, so the study storage is the single
source of truth, shared by every worker on every machine.

Storages: a path is an Optuna journal file (the default, ``study.journal`` under the output);
a URL (``postgresql://…``, ``sqlite:///…``) is Optuna's RDB storage with a heartbeat, so a
worker that dies leaves its trial to be retried (``RetryHeartbeatStaleTrialCallback``). Journal
files have no heartbeat: trials left running by a dead local worker are failed and re-queued
when the study is next opened by ``paysim optimize`` (:func:`recover_stale`). Processes on a
database storage share one trial budget through the study itself
(:mod:`paysim.optimize.distributed`).
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from paysim.exceptions import PaysimError
from paysim.optimize.evaluate import Evaluator, ObjectivePlan, seed_metrics
from paysim.optimize.space import AgentSpace, Assignment, Candidate, suggest_candidate

if TYPE_CHECKING:
    import optuna

    from paysim.optimize.constraints import Constraint

ATTR = "paysim"
"""The one user attribute paysim sets per trial (one storage write: journal writes are fsynced)."""
HEARTBEAT_SECONDS = 30
GRACE_SECONDS = 120
MAX_RETRY = 3


def make_sampler(
    name: str,
    options: Mapping[str, object],
    seed: int | None,
    grid: Mapping[str, Sequence[float | str]] | None,
) -> optuna.samplers.BaseSampler:
    """The Optuna sampler ``name`` with the spec's options and seed."""
    import optuna

    with warnings.catch_warnings():
        # QMCSampler (and some options of others) are marked experimental: paysim pins Optuna.
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return _sampler(name, dict(options), seed, grid)


def _sampler(
    name: str,
    kwargs: dict[str, object],
    seed: int | None,
    grid: Mapping[str, Sequence[float | str]] | None,
) -> optuna.samplers.BaseSampler:
    import optuna

    if seed is not None:
        kwargs.setdefault("seed", seed % 2**32)
    if name == "tpe":
        return optuna.samplers.TPESampler(**kwargs)  # type: ignore[arg-type]
    if name == "cmaes":
        return optuna.samplers.CmaEsSampler(**kwargs)  # type: ignore[arg-type]
    if name == "nsga2":
        return optuna.samplers.NSGAIISampler(**kwargs)  # type: ignore[arg-type]
    if name == "gp":
        return optuna.samplers.GPSampler(**kwargs)  # type: ignore[arg-type]
    if name == "random":
        return optuna.samplers.RandomSampler(**kwargs)  # type: ignore[arg-type]
    if name == "qmc":
        return optuna.samplers.QMCSampler(**kwargs)  # type: ignore[arg-type]
    if name == "grid":
        return _grid_sampler(dict(grid or {}), kwargs)
    raise ValueError(f"unknown sampler `{name}`")


def _grid_sampler(
    grid: dict[str, Sequence[float | str]], kwargs: dict[str, object]
) -> optuna.samplers.BaseSampler:
    import optuna

    class AskTellGridSampler(optuna.samplers.GridSampler):
        """Optuna's GridSampler without its ``study.stop()`` once the grid is exhausted, which
        only works inside ``study.optimize``: here the trial budget is the grid's size."""

        def after_trial(
            self,
            study: optuna.Study,
            trial: optuna.trial.FrozenTrial,
            state: optuna.trial.TrialState,
            values: Sequence[float] | None,
        ) -> None:
            return None

    return AskTellGridSampler(grid, **kwargs)  # type: ignore[arg-type]


def make_pruner(name: str, options: Mapping[str, object]) -> optuna.pruners.BasePruner:
    """The Optuna pruner ``name`` (``none``: never prune)."""
    import optuna

    kwargs = dict(options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if name == "wilcoxon":
            return optuna.pruners.WilcoxonPruner(**kwargs)  # type: ignore[arg-type]
        if name == "median":
            return optuna.pruners.MedianPruner(**kwargs)  # type: ignore[arg-type]
        if name == "none":
            if kwargs:
                raise TypeError("`none` takes no options")
            return optuna.pruners.NopPruner()
    raise ValueError(f"unknown pruner `{name}`")


def open_storage(
    url: str,
    *,
    heartbeat_interval: int = HEARTBEAT_SECONDS,
    grace_period: int = GRACE_SECONDS,
    max_retry: int = MAX_RETRY,
) -> optuna.storages.BaseStorage:
    """A journal file (a path) or an RDB storage with heartbeat (a URL; failures to open it
    are one-paragraph :class:`~paysim.optimize.rdb.StorageError`s, docs/distributed.md)."""
    import optuna
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    from paysim.optimize.rdb import open_rdb

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if "://" in url:
            return open_rdb(
                url,
                heartbeat_interval=heartbeat_interval,
                grace_period=grace_period,
                stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(
                    max_retry=max_retry
                ),
            )
        return JournalStorage(JournalFileBackend(url))


def recover_stale(study: optuna.Study) -> int:
    """Journal storage: fails every trial still ``RUNNING`` (its worker is gone: journal
    studies are worked by this machine's processes only, and none is running) and queues its
    parameters again. RDB storages do this by heartbeat. Returns how many were recovered."""
    import optuna
    from optuna.trial import TrialState

    count = 0
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        study.tell(trial.number, state=TrialState.FAIL, skip_if_finished=True)
        if trial.params:
            study.add_trial(
                optuna.trial.create_trial(
                    state=TrialState.WAITING,
                    params=trial.params,
                    distributions=trial.distributions,
                    system_attrs={"retried_trial": trial.number},
                )
            )
        count += 1
    return count


@contextlib.contextmanager
def quiet_optuna() -> Iterator[None]:
    """Silences what Optuna says on every trial that paysim reports once, in the plan's
    warnings: samplers that ignore constraints (the best trial reported is still the best
    feasible one) and experimental features of the pinned Optuna."""
    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        warnings.filterwarnings("ignore", message="Constraints have been set, but")
        yield


def ask(study: optuna.Study) -> optuna.Trial:
    """``study.ask()``, first failing trials whose heartbeat went stale (the RDB storage's
    retry callback then queues them again), as ``study.optimize`` does; paysim records the
    heartbeat itself (:class:`_Heartbeat`), so Optuna's warning that heartbeats belong to
    ``study.optimize`` does not apply."""
    import optuna
    from optuna.storages._heartbeat import BaseHeartbeat

    storage = study._storage
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed")
        if isinstance(storage, BaseHeartbeat) and storage.get_heartbeat_interval():
            optuna.storages.fail_stale_trials(study)
        return study.ask()


class _Heartbeat:
    """Records a trial's heartbeat in storages that have one (RDB) while the trial runs."""

    def __init__(self, storage: optuna.storages.BaseStorage, trial_id: int) -> None:
        from optuna.storages._heartbeat import BaseHeartbeat

        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if isinstance(storage, BaseHeartbeat) and storage.get_heartbeat_interval():
            interval = float(storage.get_heartbeat_interval() or HEARTBEAT_SECONDS)

            def beat() -> None:
                while True:
                    storage.record_heartbeat(trial_id)
                    if self._stop.wait(interval):
                        return

            self._thread = threading.Thread(target=beat, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


@dataclass
class TrialRecord:
    """What paysim stores on a trial (one user attribute, :data:`ATTR`)."""

    phase: str
    runs: list[dict[str, object]] = field(default_factory=list)
    engine_seconds: float = 0.0
    trial_seconds: float = 0.0
    constraints: list[float] = field(default_factory=list)
    error: str | None = None

    def to_attr(self) -> dict[str, object]:
        out: dict[str, object] = {
            "phase": self.phase,
            "runs": self.runs,
            "engine_seconds": self.engine_seconds,
            "trial_seconds": self.trial_seconds,
            "constraints": self.constraints,
        }
        if self.error is not None:
            out["error"] = self.error
        return out


@dataclass
class TrialOutcome:
    """What one evaluated trial produced (also stored in its user attributes)."""

    number: int
    values: list[float] | None
    pruned: bool
    engine_seconds: float
    trial_seconds: float


@dataclass
class TrialRunner:
    """Runs trials of one study: ask, evaluate on the seeds, report, tell."""

    study: optuna.Study
    evaluator: Evaluator
    spaces: Sequence[AgentSpace]
    objectives: Sequence[ObjectivePlan]
    constraints: Sequence[Constraint]
    seeds: Sequence[int]
    batch: int
    pruner: str
    shuffle_seed: int
    fixed: Mapping[str, Assignment]
    phase: str = "joint"

    def seed_order(self, number: int) -> list[int]:
        """The order this trial evaluates the seeds in (indices into ``seeds``)."""
        order = list(range(len(self.seeds)))
        if self.pruner == "wilcoxon":
            random.Random(f"{self.shuffle_seed}:{number}").shuffle(order)
        return order

    def run_trial(self, trial: optuna.Trial | None = None) -> TrialOutcome:
        """One trial, start to tell (``trial``: one already asked for, e.g. by the distributed
        budget). A failed run fails the trial (and raises)."""
        with quiet_optuna():
            return self._run_trial(trial)

    def _run_trial(self, asked: optuna.Trial | None) -> TrialOutcome:
        import optuna

        start = time.perf_counter()
        trial = ask(self.study) if asked is None else asked
        beat = _Heartbeat(self.study._storage, trial._trial_id)
        record = TrialRecord(self.phase)
        try:
            candidate = suggest_candidate(trial, self.spaces, self.fixed)
            values = self._evaluate(trial, candidate, record)
        except optuna.TrialPruned:
            beat.stop()
            record.trial_seconds = time.perf_counter() - start
            trial.set_user_attr(ATTR, record.to_attr())
            self.study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            return TrialOutcome(
                trial.number, None, True, record.engine_seconds, record.trial_seconds
            )
        except BaseException as exc:
            beat.stop()
            record.error = f"{type(exc).__name__}: {exc}"[:2000]
            record.trial_seconds = time.perf_counter() - start
            trial.set_user_attr(ATTR, record.to_attr())
            self.study.tell(trial, state=optuna.trial.TrialState.FAIL)
            raise
        beat.stop()
        record.trial_seconds = time.perf_counter() - start
        trial.set_user_attr(ATTR, record.to_attr())
        self.study.tell(trial, values)
        return TrialOutcome(
            trial.number, values, False, record.engine_seconds, record.trial_seconds
        )

    def _evaluate(
        self, trial: optuna.Trial, candidate: Candidate, record: TrialRecord
    ) -> list[float]:
        import optuna

        order = self.seed_order(trial.number)
        per_seed: dict[int, list[float]] = {}
        runs = record.runs
        summaries: dict[int, Mapping[str, object]] = {}
        single = len(self.objectives) == 1
        for first in range(0, len(order), self.batch):
            chunk = order[first : first + self.batch]
            batch = self.evaluator.run([candidate], [self.seeds[i] for i in chunk])
            record.engine_seconds += batch.engine_seconds
            for i, summary in zip(chunk, batch.summaries[0], strict=True):
                values = [o(summary) for o in self.objectives]
                per_seed[i] = values
                summaries[i] = summary
                runs.append(run_record(i, self.seeds[i], values, summary))
                if single and self.pruner == "wilcoxon":
                    trial.report(values[0], step=i)
            if single and self.pruner == "median":
                done = len(per_seed)
                trial.report(sum(v[0] for v in per_seed.values()) / done, step=done)
            if single and self.pruner != "none" and len(per_seed) < len(order):
                if trial.should_prune():
                    raise optuna.TrialPruned()
        ordered = [summaries[i] for i in sorted(summaries)]
        values = [
            o.combine([per_seed[i][k] for i in sorted(per_seed)])
            for k, o in enumerate(self.objectives)
        ]
        constraint_values = [c.value(ordered) for c in self.constraints]
        for k, value in enumerate(constraint_values):
            trial.set_constraint(str(k), value)
        record.constraints = constraint_values
        return values


def run_record(
    index: int, seed: int, values: Sequence[float], summary: Mapping[str, object]
) -> dict[str, object]:
    """One seed's row: the objective values, the stored metrics and the engine time."""
    wall = summary.get("wall_seconds")
    return {
        "seed_index": index,
        "seed": seed,
        "values": list(values),
        "metrics": seed_metrics(summary),
        "engine_seconds": float(wall) if isinstance(wall, int | float) else None,
    }


def attrs(trial: optuna.trial.FrozenTrial) -> dict[str, object]:
    """What paysim recorded on a trial (``{}`` for a trial it did not run)."""
    found = trial.user_attrs.get(ATTR)
    return dict(found) if isinstance(found, dict) else {}


def finished_count(study: optuna.Study) -> int:
    """Trials that count against the budget: complete, pruned or failed."""
    from optuna.trial import TrialState

    return len(
        study.get_trials(
            deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
        )
    )


def feasible(trial: optuna.trial.FrozenTrial) -> bool:
    values = attrs(trial).get("constraints") or []
    assert isinstance(values, list)
    return all(float(v) <= 0.0 for v in values)


def best_trials(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """The best feasible trial (one objective) or the feasible Pareto front (several)."""
    from optuna.trial import TrialState

    complete = [t for t in study.get_trials(states=(TrialState.COMPLETE,)) if feasible(t)]
    if not complete:
        return []
    if len(study.directions) == 1:
        sign = 1.0 if study.direction.name == "MINIMIZE" else -1.0
        return [min(complete, key=lambda t: (sign * float(t.values[0]), t.number))]
    return sorted(study.best_trials, key=lambda t: t.number)


def path_of(url: str) -> Path | None:
    """The journal file of a storage, or ``None`` for a URL."""
    return None if "://" in url else Path(url)


def storage_label(url: str) -> str:
    """A storage for messages and result.json, without any password in a URL."""
    if "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    if "@" in rest:
        rest = "***@" + rest.split("@", 1)[1]
    return f"{scheme}://{rest}"


class StudyMismatchError(PaysimError):
    """An existing study does not match the spec (directions or phase)."""
