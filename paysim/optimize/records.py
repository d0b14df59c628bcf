"""Trial rows in the DuckDB store: ``studies``, ``trials`` and ``trial_runs`` (schema version 2,
``docs/store.md``).

The rows are written once, by the process that ran ``paysim optimize`` (DuckDB has one writer
per file), from what the Optuna study holds: every worker's trials are in the study storage
with their per-seed records (the ``paysim`` user attribute), so nothing has to travel between
processes. A resumed study writes a new ``studies`` row with all its trials so far.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from paysim.optimize.study import attrs, feasible, storage_label

if TYPE_CHECKING:
    import optuna

    from paysim.optimize.runner import Optimization, Outcome


def _json(value: object) -> str:
    return json.dumps(value, allow_nan=False, default=str)


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _num(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _int(value: object) -> int | None:
    number = _num(value)
    return None if number is None else int(number)


def _trials(
    study_id: str, study: str, phase: str, trials: Iterable[optuna.trial.FrozenTrial]
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    trial_rows: list[dict[str, object]] = []
    run_rows: list[dict[str, object]] = []
    for t in trials:
        record = attrs(t)
        constraints = record.get("constraints")
        trial_rows.append(
            {
                "study_id": study_id,
                "study": study,
                "phase": str(record.get("phase", phase)),
                "number": t.number,
                "state": t.state.name.lower(),
                "objective_values": None if t.values is None else _json(list(t.values)),
                "params": _json(dict(t.params)),
                "constraints": None if constraints is None else _json(constraints),
                "feasible": feasible(t) if t.values is not None else None,
                "engine_seconds": _num(record.get("engine_seconds")),
                "trial_seconds": _num(record.get("trial_seconds")),
                "started_at": _utc(t.datetime_start),
                "completed_at": _utc(t.datetime_complete),
            }
        )
        runs = record.get("runs")
        for run in runs if isinstance(runs, list) else []:
            metrics = run.get("metrics") or {}
            run_rows.append(
                {
                    "study_id": study_id,
                    "study": study,
                    "number": t.number,
                    "seed_index": int(run["seed_index"]),
                    "seed": int(run["seed"]),
                    "objective_values": _json(run.get("values", [])),
                    "total_cost": _int(metrics.get("total_cost")),
                    "settlement_rate": _num(metrics.get("settlement_rate")),
                    "avg_settlement_delay": _num(metrics.get("avg_settlement_delay")),
                    "peak_net_debit": _int(metrics.get("peak_net_debit")),
                    "unsettled": _int(metrics.get("unsettled")),
                    "engine_seconds": _num(run.get("engine_seconds")),
                }
            )
    return trial_rows, run_rows


def record_study(
    outcome: Outcome, run: Optimization, result: dict[str, object], study_id: str
) -> None:
    """Writes the optimisation's rows into ``plan.db_path`` under ``study_id``."""
    import paysim.store
    from paysim.store.models import TrialRow, TrialRunRow
    from paysim.store.rows import columns_table, insert_row, insert_table

    plan = outcome.plan
    trial_rows: list[dict[str, object]] = []
    run_rows: list[dict[str, object]] = []
    if run.search is not None:
        for name, study in run.search.studies.items():
            t, r = _trials(study_id, name, "best_response", study.get_trials(deepcopy=False))
            trial_rows += t
            run_rows += r
    if outcome.joint is not None:
        t, r = _trials(study_id, plan.study_name, "joint", outcome.joint.trials)
        trial_rows += t
        run_rows += r
    study_row: dict[str, object] = {
        "study_id": study_id,
        "study_name": plan.study_name,
        "storage": storage_label(plan.storage),
        "mode": plan.spec.mode,
        "status": "interrupted" if outcome.interrupted else "completed",
        "spec_file": plan.file,
        "spec": _json(plan.spec.model_dump(mode="json")),
        "scenario": str(plan.scenario_path),
        "seeds": _json(list(plan.seeds)),
        "objectives": _json([o.describe() for o in plan.objectives]),
        "created_at": datetime.now(UTC).replace(tzinfo=None),
        "wall_seconds": outcome.seconds,
        "result": _json(result),
    }
    with paysim.store.open(plan.db_path, write=True) as store:
        con = store.connection
        with store.transaction():
            insert_row(con, "studies", study_row)
            if trial_rows:
                insert_table(con, "trials", columns_table(TrialRow, trial_rows))
            if run_rows:
                insert_table(con, "trial_runs", columns_table(TrialRunRow, run_rows))
