"""``paysim optimize status``: where a study stands, read from its storage while workers run.

Trials by state (against the study's budget), the best so far (the best feasible trial, or the
Pareto front's size), and the workers: every process records itself on the trials it runs
(:data:`~paysim.optimize.distributed.WORKER_ATTR`), so a worker is seen when it started or
finished a trial, or — in a database — when its running trial last sent a heartbeat.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from paysim.exceptions import ArgumentError
from paysim.optimize.distributed import TRIALS_ATTR, WORKER_ATTR

if TYPE_CHECKING:
    import optuna

RECENT_SECONDS = 600.0


@dataclass
class _Seen:
    trials: int = 0
    complete: int = 0
    pruned: int = 0
    failed: int = 0
    running: list[int] | None = None
    last: dt.datetime | None = None
    heartbeat_age: float | None = None


def _heartbeats(study: optuna.Study) -> tuple[dict[int, float], dt.datetime | None]:
    """Seconds since the last heartbeat of each running trial (database storages only)."""
    from paysim.optimize.distributed import rdb_of

    storage = rdb_of(study)
    if storage is None:
        return {}, None
    import sqlalchemy
    from optuna.storages._rdb import models  # Optuna's table models: heartbeats have no API

    with storage.engine.connect() as con:
        now = con.execute(sqlalchemy.select(sqlalchemy.func.now())).scalar()
        rows = con.execute(
            sqlalchemy.select(models.TrialModel.number, models.TrialHeartbeatModel.heartbeat)
            .join(
                models.TrialModel, models.TrialModel.trial_id == models.TrialHeartbeatModel.trial_id
            )
            .where(models.TrialModel.study_id == study._study_id)
        ).all()
    assert isinstance(now, dt.datetime)
    now = now.replace(tzinfo=None)
    return {int(n): (now - beat.replace(tzinfo=None)).total_seconds() for n, beat in rows}, now


def _local(moment: dt.datetime | None) -> dt.datetime | None:
    return None if moment is None else moment.replace(tzinfo=None)


def study_status(
    storage_url: str, study_name: str, *, recent: float = RECENT_SECONDS
) -> dict[str, object]:
    """The study's state as a JSON-ready dict (``paysim optimize status --format json``)."""
    import optuna
    from optuna.trial import TrialState

    from paysim.optimize.rdb import mask
    from paysim.optimize.study import attrs, best_trials, open_storage

    storage = open_storage(storage_url)
    names = optuna.get_all_study_names(storage)
    if study_name not in names:
        shown = ", ".join(f"`{n}`" for n in sorted(names)[:10]) or "none"
        raise ArgumentError(
            f"no study `{study_name}` in {mask(storage_url)} (studies there: {shown})"
        )
    study = optuna.load_study(study_name=study_name, storage=storage)
    trials = study.get_trials(deepcopy=False)
    counts = {s.name.lower(): 0 for s in TrialState}
    for t in trials:
        counts[t.state.name.lower()] += 1
    beats, db_now = _heartbeats(study)
    now = dt.datetime.now()
    workers: dict[str, _Seen] = {}
    for t in trials:
        name = t.user_attrs.get(WORKER_ATTR)
        if not isinstance(name, str) or t.state == TrialState.WAITING:
            continue  # a queued retry still carries the name of the worker that died
        seen = workers.setdefault(name, _Seen(running=[]))
        seen.trials += 1
        seen.complete += t.state == TrialState.COMPLETE
        seen.pruned += t.state == TrialState.PRUNED
        seen.failed += t.state == TrialState.FAIL
        moments = [m for m in (_local(t.datetime_start), _local(t.datetime_complete)) if m]
        if t.state == TrialState.RUNNING:
            assert seen.running is not None
            seen.running.append(t.number)
            if t.number in beats:
                age = beats[t.number]
                seen.heartbeat_age = (
                    age if seen.heartbeat_age is None else min(seen.heartbeat_age, age)
                )
                moments.append(now - dt.timedelta(seconds=age))
        for moment in moments:
            if seen.last is None or moment > seen.last:
                seen.last = moment
    rows = []
    for name, seen in sorted(workers.items(), key=lambda kv: kv[1].last or now, reverse=True):
        ago = None if seen.last is None else max(0.0, (now - seen.last).total_seconds())
        rows.append(
            {
                "worker": name,
                "trials": seen.trials,
                "complete": seen.complete,
                "pruned": seen.pruned,
                "failed": seen.failed,
                "running": seen.running or [],
                "last_seen": None if seen.last is None else seen.last.isoformat(sep=" "),
                "seconds_ago": ago,
                "heartbeat_seconds_ago": seen.heartbeat_age,
                "recent": ago is not None and ago <= recent,
            }
        )
    best = best_trials(study)
    best_out: object = None
    if len(study.directions) == 1 and best:
        b = best[0]
        best_out = {
            "trial": b.number,
            "values": list(b.values),
            "params": dict(b.params),
            "worker": b.user_attrs.get(WORKER_ATTR),
            "engine_seconds": attrs(b).get("engine_seconds"),
        }
    elif best:
        best_out = {"pareto": [{"trial": t.number, "values": list(t.values)} for t in best]}
    budget = study.user_attrs.get(TRIALS_ATTR)
    return {
        "study": study_name,
        "storage": mask(storage_url),
        "directions": [d.name.lower() for d in study.directions],
        "objectives": study.user_attrs.get("objectives"),
        "budget": budget if isinstance(budget, int) else None,
        "trials": {"total": len(trials), **counts},
        "best": best_out,
        "workers": rows,
        "recent_seconds": recent,
        "database_time": None if db_now is None else db_now.isoformat(sep=" "),
    }


def _ago(seconds: object) -> str:
    if not isinstance(seconds, int | float):
        return "?"
    if seconds < 120:
        return f"{seconds:.0f} s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


def status_text(status: Mapping[str, object]) -> str:
    """The human form of :func:`study_status`."""
    trials = status["trials"]
    assert isinstance(trials, dict)
    budget = status["budget"]
    done = trials["complete"] + trials["pruned"]
    of = f"{done} of {budget}" if isinstance(budget, int) else f"{done}"
    objectives = status.get("objectives")
    goals = [
        f"{o.get('direction')} {o.get('label')} ({o.get('aggregate')})"
        for o in (objectives if isinstance(objectives, list) else [])
        if isinstance(o, dict)
    ] or [str(d) for d in status["directions"]]  # type: ignore[attr-defined]
    lines = [
        f"study {status['study']} in {status['storage']} · {', '.join(goals)} · {of} trials done",
        f"trials: {trials['complete']} complete, {trials['pruned']} pruned, {trials['fail']} "
        f"failed, {trials['running']} running, {trials['waiting']} waiting",
    ]
    best = status["best"]
    if isinstance(best, dict) and "pareto" in best:
        lines.append(f"best: a Pareto front of {len(best['pareto'])} trial(s)")
    elif isinstance(best, dict):
        values = ", ".join(f"{v:,.6g}" for v in best["values"])
        params = ", ".join(f"{k}={v}" for k, v in best["params"].items())
        lines.append(f"best so far: trial {best['trial']} · {values} · {params}")
    else:
        lines.append("best so far: none yet")
    workers = status["workers"]
    assert isinstance(workers, list)
    recent = [w for w in workers if w["recent"]]
    minutes = float(str(status["recent_seconds"])) / 60
    lines.append(f"workers seen in the last {minutes:g} min: {len(recent)}")
    for w in recent:
        plural = "" if w["trials"] == 1 else "s"
        text = f"  {w['worker']}: {w['trials']} trial{plural} ({w['complete']} complete"
        text += f", {w['pruned']} pruned" if w["pruned"] else ""
        text += f", {w['failed']} failed" if w["failed"] else ""
        text += ")"
        if w["running"]:
            beat = w["heartbeat_seconds_ago"]
            text += f" · running trial {', '.join(map(str, w['running']))}"
            text += f" · heartbeat {_ago(beat)}" if beat is not None else ""
        else:
            text += f" · last seen {_ago(w['seconds_ago'])}"
        lines.append(text)
    earlier = len(workers) - len(recent)
    if earlier:
        lines.append(f"  ({earlier} more seen earlier; --format json lists every worker)")
    return "\n".join(lines)
