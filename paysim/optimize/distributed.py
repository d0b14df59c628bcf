"""Many processes, on one machine or many, working one Optuna study in a database (PostgreSQL).

The study storage is the only thing the processes share. Each process (``paysim optimize SPEC
--storage URL``, its ``workers: N``, and every ``paysim optimize worker SPEC --storage URL
--study NAME``) runs :func:`work`:

* **one budget** — before each trial, under a PostgreSQL advisory lock held while it counts and
  asks (:class:`Budget`), a process starts a trial only if a retry is waiting or fewer than
  ``trials`` trials are complete, pruned or running; it stops when ``trials`` are complete or
  pruned, and meanwhile waits for trials other processes are running (one of them may die). The
  lock makes count-and-ask atomic across machines, so the study never runs more trials than its
  budget, and a grid sweep never gives one grid point to two workers;
* **heartbeat and retry** — a running trial records a heartbeat every ``heartbeat_interval``
  seconds; a trial without one for ``grace_period`` seconds belongs to a dead worker: the next
  process that looks fails it and Optuna's ``RetryHeartbeatStaleTrialCallback`` queues its
  parameters again (``max_retry`` times), so a killed worker loses no trial. A trial whose
  worker died before its first heartbeat is treated the same way once it is older than the
  grace period (:func:`fail_orphans`). A worker's first Ctrl-C lets it finish its running
  trial and stop (:mod:`paysim.optimize.interrupt`); a second one stops it at once, and it fails
  and queues that trial again itself;
* **one search space** — the study records a fingerprint of the spec that created it
  (:func:`fingerprint`): scenario, searched policies, dimensions, objectives, constraints,
  seeds, sampler and pruner. A process whose spec differs is refused, naming what differs
  (:func:`check_compatible`);
* **own rows** — each process writes the trials it ran, with their per-seed rows, into its own
  DuckDB file ``<output>/shards/<host>-<pid>.duckdb`` as each trial ends (DuckDB has one writer
  per file); ``paysim db merge`` combines the shards. The trial rows are built from the storage
  exactly as the creating process builds its own, so merging shards into its ``paysim.duckdb``
  adds nothing and conflicts with nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import socket
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from paysim.optimize.spec import SpecError

if TYPE_CHECKING:
    import optuna

    import paysim.store
    from paysim.optimize.plan import Plan

WORKER_ATTR = "paysim_worker"
"""Trial user attribute: the process that ran the trial (``<host>-<pid>``)."""
FINGERPRINT_ATTR = "paysim_fingerprint"
TRIALS_ATTR = "paysim_trials"
STUDY_ID_ATTR = "paysim_study_id"
WAIT_SECONDS = 0.5


def worker_name() -> str:
    """``<host>-<pid>``: names a process's trials and its DuckDB shard."""
    host = re.sub(r"[^A-Za-z0-9._-]+", "_", socket.gethostname()) or "host"
    return f"{host}-{os.getpid()}"


def is_database(storage: str) -> bool:
    return "://" in storage


def grace_seconds(plan: Plan) -> int:
    spec = plan.spec
    return spec.grace_period if spec.grace_period is not None else 4 * spec.heartbeat_interval


def open_plan_storage(plan: Plan) -> optuna.storages.BaseStorage:
    """The plan's storage with its heartbeat settings (database storages)."""
    from paysim.optimize.study import open_storage

    return open_storage(
        plan.storage,
        heartbeat_interval=plan.spec.heartbeat_interval,
        grace_period=grace_seconds(plan),
        max_retry=plan.spec.max_retry,
    )


# -- one search space -----------------------------------------------------------------------------


def _sha(value: object) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def fingerprint(plan: Plan) -> dict[str, object]:
    """What every process of one study must agree on (JSON-ready)."""
    spec = plan.spec
    return {
        "mode": spec.mode,
        "scenario": _sha(plan.scenario.model_dump(mode="json")),
        "policies": {
            agent: {o.label: _sha(o.document) for o in space.options}
            for agent, space in plan.spaces.items()
        },
        "dimensions": [d.describe() for d in plan.dimensions],
        "objectives": [o.describe() for o in plan.objectives],
        "constraints": [c.text for c in plan.constraints],
        "seeds": {"count": len(plan.seeds), "first": plan.seeds[:3], "sha256": _sha(plan.seeds)},
        "sampler": {"name": spec.sampler, "options": spec.sampler_options},
        "pruner": {"name": plan.pruner, "options": spec.pruner_options},
    }


def _show(value: object) -> str:
    if isinstance(value, dict) and "kind" in value:
        kind = value["kind"]
        if kind == "categorical":
            return "one of " + ", ".join(map(str, value.get("choices") or []))
        text = f"{kind} in [{value.get('min')}, {value.get('max')}]"
        if value.get("step") is not None:
            text += f" step {value['step']}"
        return text + (" (log)" if value.get("log") else "")
    if isinstance(value, dict) and "count" in value:
        first = ", ".join(map(str, value.get("first") or []))
        return f"{value['count']} seeds ({first}, …)"
    return json.dumps(value, sort_keys=True, default=str)


def _dimension_differences(theirs: list[object], ours: list[object]) -> list[str]:
    a = {str(d["name"]): d for d in theirs if isinstance(d, dict)}
    b = {str(d["name"]): d for d in ours if isinstance(d, dict)}
    out = []
    for name in sorted(set(a) | set(b)):
        if name not in b:
            out.append(f"dimension {name} is searched in the study, not in this spec")
        elif name not in a:
            out.append(f"dimension {name} is searched in this spec, not in the study")
        elif a[name] != b[name]:
            out.append(
                f"dimension {name}: {_show(a[name])} in the study, {_show(b[name])} in this spec"
            )
    return out or ["the dimensions are listed in a different order"]


def differences(recorded: dict[str, object], mine: dict[str, object]) -> list[str]:
    """What differs between two fingerprints, one phrase each (the study's value first)."""
    out: list[str] = []
    for key in sorted(set(recorded) | set(mine)):
        theirs, ours = recorded.get(key), mine.get(key)
        if theirs == ours:
            continue
        if key == "dimensions" and isinstance(theirs, list) and isinstance(ours, list):
            out.extend(_dimension_differences(theirs, ours))
            continue
        if key in ("scenario", "policies"):
            what = "the scenario" if key == "scenario" else "the searched policies' documents"
            out.append(f"{what} differ (content hash)")
            continue
        out.append(f"{key}: {_show(theirs)} in the study, {_show(ours)} in this spec")
    return out


def check_compatible(study: optuna.Study, plan: Plan) -> None:
    """Refuses to work ``study`` with a spec other than the one that created it."""
    recorded = study.user_attrs.get(FINGERPRINT_ATTR)
    if not isinstance(recorded, dict):
        return  # created before fingerprints were recorded
    found = differences(recorded, fingerprint(plan))
    if found:
        raise SpecError(
            f"study `{plan.study_name}` in {_label(plan.storage)} was created with a different "
            "spec, so this process cannot work it: " + "; ".join(found) + ". Use the spec the "
            "study was created with, or another study name",
            file=plan.file,
        )


def _label(storage: str) -> str:
    from paysim.optimize.rdb import mask

    return mask(storage)


def record_study_attrs(study: optuna.Study, plan: Plan, study_id: str | None) -> None:
    """What joining processes read: the fingerprint, the budget, the run's store id."""
    study.set_user_attr(FINGERPRINT_ATTR, fingerprint(plan))
    study.set_user_attr(TRIALS_ATTR, plan.trials)
    if study_id is not None:
        study.set_user_attr(STUDY_ID_ATTR, study_id)


# -- one budget -----------------------------------------------------------------------------------


def rdb_of(study: optuna.Study) -> optuna.storages.RDBStorage | None:
    """The study's RDB storage (Optuna wraps it in a cache: ``study._storage._backend``), or
    ``None`` for other storages."""
    import optuna

    storage: object = study._storage
    storage = getattr(storage, "_backend", storage)
    return storage if isinstance(storage, optuna.storages.RDBStorage) else None


def _lock_key(name: str) -> int:
    digest = hashlib.sha256(f"paysim-study:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextlib.contextmanager
def study_lock(study: optuna.Study) -> Iterator[None]:
    """A PostgreSQL advisory lock for the study (other storages: none)."""
    import sqlalchemy

    storage = rdb_of(study)
    if storage is None:
        yield
        return
    engine = storage.engine
    if engine.dialect.name != "postgresql":
        yield
        return
    key = _lock_key(study.study_name)
    with engine.connect() as con:
        con.execute(sqlalchemy.text("SELECT pg_advisory_lock(:k)"), {"k": key})
        try:
            yield
        finally:
            con.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            con.commit()


Decision = Literal["go", "wait", "done"]


def decide(study: optuna.Study, trials: int) -> Decision:
    """Whether a process may start a trial now (see the module's docstring)."""
    from optuna.trial import TrialState

    counts = dict.fromkeys(TrialState, 0)
    for t in study.get_trials(deepcopy=False):
        counts[t.state] += 1
    done = counts[TrialState.COMPLETE] + counts[TrialState.PRUNED]
    if counts[TrialState.WAITING] > 0:
        return "go"
    if done >= trials:
        return "done"
    if done + counts[TrialState.RUNNING] < trials:
        return "go"
    return "wait"


def completed_count(study: optuna.Study) -> int:
    """Trials that count against a shared budget: complete or pruned."""
    from optuna.trial import TrialState

    return len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)))


def fail_orphans(study: optuna.Study, grace: float) -> int:
    """Fails (and queues again) running trials that never recorded a heartbeat and are older
    than the grace period: their process died between asking and its first heartbeat."""
    import datetime

    import optuna
    from optuna.trial import TrialState

    storage = rdb_of(study)
    if storage is None or not storage.heartbeat_interval:
        return 0
    import sqlalchemy
    from optuna.storages._rdb import models  # Optuna's table models: heartbeats have no API

    running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    if not running:
        return 0
    with storage.engine.connect() as con:
        beating = {
            int(row[0])
            for row in con.execute(
                sqlalchemy.select(models.TrialHeartbeatModel.trial_id).where(
                    models.TrialHeartbeatModel.trial_id.in_([t._trial_id for t in running])
                )
            )
        }
        now = con.execute(sqlalchemy.select(sqlalchemy.func.now())).scalar()
    assert isinstance(now, datetime.datetime)
    now = now.replace(tzinfo=None)
    failed = 0
    callback = storage.get_heartbeat_stale_trial_callback()
    for t in running:
        started = t.datetime_start
        if t._trial_id in beating or started is None:
            continue
        started = started.replace(tzinfo=None)
        if (now - started).total_seconds() <= grace:
            continue
        with contextlib.suppress(optuna.exceptions.UpdateFinishedTrialError):
            if storage.set_trial_state_values(t._trial_id, state=TrialState.FAIL):
                failed += 1
                if callback is not None:
                    callback(study, storage.get_trial(t._trial_id))
    return failed


class Budget:
    """Asks for the study's trials while its budget grants them (atomically per study)."""

    def __init__(self, study: optuna.Study, trials: int, grace: float) -> None:
        self.study = study
        self.trials = trials
        self.grace = grace

    def next(self) -> optuna.Trial | Decision:
        """A new (or retried) trial, with its worker recorded and a first heartbeat; or
        ``wait`` / ``done``."""
        import optuna

        from paysim.optimize.study import ask, quiet_optuna

        with quiet_optuna(), study_lock(self.study):
            fail_orphans(self.study, self.grace)
            optuna.storages.fail_stale_trials(self.study)
            decision = decide(self.study, self.trials)
            if decision != "go":
                return decision
            trial = ask(self.study)
            storage = rdb_of(self.study)
            if storage is not None and storage.heartbeat_interval:
                storage.record_heartbeat(trial._trial_id)
        trial.set_user_attr(WORKER_ATTR, worker_name())
        return trial


# -- own rows -------------------------------------------------------------------------------------


def shard_path(plan: Plan) -> Path:
    return plan.output / "shards" / f"{worker_name()}.duckdb"


@dataclass
class Shard:
    """This process's DuckDB file of the trials it ran (opened on the first trial)."""

    path: Path
    study_id: str
    study_name: str
    store: paysim.store.Store | None = None
    trials: int = 0

    def write(self, trial: optuna.trial.FrozenTrial) -> None:
        import paysim.store
        from paysim.optimize.records import _trials
        from paysim.store.models import TrialRow, TrialRunRow
        from paysim.store.rows import columns_table, insert_table

        if self.store is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.store = paysim.store.open(self.path, write=True)
        trial_rows, run_rows = _trials(self.study_id, self.study_name, "joint", [trial])
        con = self.store.connection
        with self.store.transaction():
            insert_table(con, "trials", columns_table(TrialRow, trial_rows))
            if run_rows:
                insert_table(con, "trial_runs", columns_table(TrialRunRow, run_rows))
        self.trials += 1

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None


def study_id_of(study: optuna.Study) -> str:
    from paysim.store import new_id

    found = study.user_attrs.get(STUDY_ID_ATTR)
    return found if isinstance(found, str) else new_id()


# -- the loop -------------------------------------------------------------------------------------


@dataclass
class WorkerStats:
    worker: str
    trials: list[int] = field(default_factory=list)
    complete: int = 0
    pruned: int = 0
    shard: Path | None = None


def _requeue(study: optuna.Study, number: int) -> None:
    """Queues again a trial this process failed because it was interrupted."""
    from paysim.optimize.study import quiet_optuna

    storage = study._storage
    trial = next(t for t in study.get_trials(deepcopy=False) if t.number == number)
    callback = getattr(storage, "get_heartbeat_stale_trial_callback", lambda: None)()
    if callback is not None:
        with quiet_optuna():
            callback(study, trial)


def work(
    plan: Plan,
    study: optuna.Study,
    *,
    threads: int,
    deadline: float | None,
    on_trial: Callable[[], None] | None = None,
) -> WorkerStats:
    """Runs the study's trials in this process until its budget is spent (or ``deadline``)."""
    import optuna

    from paysim.optimize.interrupt import graceful_interrupt
    from paysim.optimize.runner import trial_runner

    runner = trial_runner(plan, study, threads)
    budget = Budget(study, plan.trials, grace_seconds(plan))
    stats = WorkerStats(worker_name())
    shard = Shard(shard_path(plan), study_id_of(study), plan.study_name)
    with graceful_interrupt() as stop:
        try:
            while (deadline is None or time.monotonic() < deadline) and not stop.is_set():
                step = budget.next()
                if step == "done":
                    break
                if step == "wait":
                    time.sleep(WAIT_SECONDS)
                    continue
                assert not isinstance(step, str)
                number = step.number
                try:
                    outcome = runner.run_trial(step)
                except KeyboardInterrupt:
                    _requeue(study, number)
                    raise
                frozen = study._storage.get_trial(step._trial_id)
                shard.write(frozen)
                stats.trials.append(outcome.number)
                if outcome.pruned:
                    stats.pruned += 1
                elif frozen.state == optuna.trial.TrialState.COMPLETE:
                    stats.complete += 1
                if on_trial is not None:
                    on_trial()
        finally:
            shard.close()
    if stop.is_set():
        raise KeyboardInterrupt
    stats.shard = shard.path if shard.trials else None
    return stats


def join(plan: Plan, *, wait: float = 0.0) -> optuna.Study:
    """The existing study a ``paysim optimize worker`` works (checked against its spec);
    ``wait``: seconds to wait for another process to create it."""
    import optuna

    from paysim.optimize.runner import create_study

    if not is_database(plan.storage):
        raise SpecError(
            f"a worker joins a study in a database (--storage postgresql://…); {plan.storage} "
            "is a journal file, whose studies are worked by `workers:` of `paysim optimize` on "
            "one machine",
            file=plan.file,
        )
    if plan.spec.mode != "joint":
        raise SpecError(
            f"workers join joint searches; this spec has mode {plan.spec.mode} (best-response "
            "steps run in one process)",
            file=plan.file,
            pointer="/mode",
        )
    storage = open_plan_storage(plan)
    until = time.monotonic() + wait
    names = optuna.get_all_study_names(storage)
    while plan.study_name not in names and time.monotonic() < until:
        time.sleep(min(WAIT_SECONDS, max(0.0, until - time.monotonic())))
        names = optuna.get_all_study_names(storage)
    if plan.study_name not in names:
        shown = ", ".join(f"`{n}`" for n in sorted(names)[:10]) or "none"
        waited = f" after waiting {wait:g} s" if wait > 0 else ""
        raise SpecError(
            f"no study `{plan.study_name}` in {_label(plan.storage)}{waited} (studies there: "
            f"{shown}); start it with `paysim optimize {plan.file} --storage URL` first, or "
            "give --wait SECONDS to wait for it",
            file=plan.file,
        )
    # A seeded sampler gets a seed of its own in each process, or two workers would propose the
    # same candidates (grid and QMC share one: runner.SHARED_SEED_SAMPLERS).
    study = create_study(plan, storage, load=True, worker=1 + zlib.crc32(worker_name().encode()))
    check_compatible(study, plan)
    budget = study.user_attrs.get(TRIALS_ATTR)
    if isinstance(budget, int):
        plan.trials = budget  # the study's budget, whatever this spec says
    return study


def run_worker(
    plan: Plan,
    *,
    progress: Callable[[int, int, float | None], None] | None = None,
    wait: float = 0.0,
) -> dict[str, object]:
    """``paysim optimize worker``: joins the study (waiting up to ``wait`` seconds for it) and
    works it until its budget is spent; returns what this worker did."""
    from paysim.optimize.rdb import mask
    from paysim.optimize.runner import engine_threads
    from paysim.optimize.study import best_trials

    start = time.perf_counter()
    study = join(plan, wait=wait)

    def tick() -> None:
        if progress is not None:
            best = best_trials(study) if len(plan.objectives) == 1 else []
            progress(completed_count(study), plan.trials, best[0].values[0] if best else None)

    tick()
    deadline = None if plan.spec.timeout is None else time.monotonic() + plan.spec.timeout
    stats = work(plan, study, threads=engine_threads(plan, 1), deadline=deadline, on_trial=tick)
    return {
        "worker": stats.worker,
        "study": plan.study_name,
        "storage": mask(plan.storage),
        "trials": stats.trials,
        "complete": stats.complete,
        "pruned": stats.pruned,
        "shard": None if stats.shard is None else str(stats.shard),
        "study_done": completed_count(study),
        "budget": plan.trials,
        "wall_seconds": time.perf_counter() - start,
    }
