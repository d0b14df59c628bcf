"""What the study report reads: ``result.json`` and the study's trial rows in the DuckDB store.

A ``paysim optimize`` output directory holds ``result.json`` (the best trial, the equilibrium
with its best-response path and certificate, the planner's optimum, the Pareto front) and, by
default, the store ``paysim.duckdb`` with one ``trials`` row per trial of the joint study and of
every best-response step (docs/optimize.md). The report rebuilds the joint study in memory from
those rows (:func:`joint_study`), so Optuna's own plots work whatever storage the study used (a
journal file, or a PostgreSQL server that is not reachable from here) and the numbers shown are
the store's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from paysim.store import Store

if TYPE_CHECKING:
    import optuna

RESULT = "result.json"

_TRIALS = """
SELECT study, phase, number, state, objective_values::VARCHAR AS objective_values,
       params::VARCHAR AS params, constraints::VARCHAR AS constraints, feasible,
       engine_seconds, trial_seconds
FROM trials WHERE study_id = $id ORDER BY study, number
"""


@dataclass(frozen=True)
class Trial:
    """One ``trials`` row."""

    study: str
    phase: str
    number: int
    state: str
    values: list[float] | None
    params: dict[str, float | str]
    constraints: list[float] | None
    feasible: bool | None
    engine_seconds: float | None
    trial_seconds: float | None


def _json(text: object) -> object:
    return json.loads(text) if isinstance(text, str) else None


def _floats(value: object) -> list[float] | None:
    if not isinstance(value, list):
        return None
    return [float(v) for v in value if isinstance(v, int | float)]


def read_trials(store: Store, study_id: str) -> list[Trial]:
    """Every trial row of a study (joint and best-response steps), by study and number."""
    out = []
    for r in store.rows(_TRIALS, {"id": study_id}):
        params = _json(r["params"])
        out.append(
            Trial(
                study=str(r["study"]),
                phase=str(r["phase"]),
                number=int(str(r["number"])),
                state=str(r["state"]),
                values=_floats(_json(r["objective_values"])),
                params=dict(params) if isinstance(params, dict) else {},
                constraints=_floats(_json(r["constraints"])),
                feasible=None if r["feasible"] is None else bool(r["feasible"]),
                engine_seconds=_num(r["engine_seconds"]),
                trial_seconds=_num(r["trial_seconds"]),
            )
        )
    return out


def _num(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def load_result(directory: Path) -> dict[str, object]:
    """``result.json`` of a study directory; a missing or unreadable one is bad input."""
    from paysim.report import ReportInputError

    path = directory / RESULT
    if not path.is_file():
        raise ReportInputError(
            f"{directory} is not a study directory: it has no {RESULT} "
            "(give a directory written by `paysim optimize`, or a run id)"
        )
    try:
        result = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportInputError(f"{path}: not a readable {RESULT}: {exc}") from None
    if not isinstance(result, dict) or not isinstance(result.get("study_id"), str):
        raise ReportInputError(f"{path}: not a `paysim optimize` {RESULT} (no study_id)")
    return result


def study_database(directory: Path, result: dict[str, object], db: Path | None) -> Path:
    """The store holding the study's trials: ``db`` when given, else the one ``result.json``
    names, found under the study directory when it was written with a relative path."""
    from paysim.report import ReportInputError

    if db is not None:
        candidates = [db]
    else:
        named = Path(str(result.get("db") or "paysim.duckdb"))
        output = Path(str(result.get("output") or ""))
        candidates = [named] if named.is_absolute() else []
        try:
            candidates.append(directory / named.relative_to(output))
        except ValueError:
            pass
        candidates += [directory / named.name, directory / "paysim.duckdb"]
    for path in candidates:
        if path.is_file():
            return path
    shown = ", ".join(str(p) for p in dict.fromkeys(candidates))
    raise ReportInputError(
        f"the trial database of study {directory} was not found (looked for {shown}; "
        "give --db PATH)"
    )


def objectives(result: dict[str, object]) -> list[dict[str, object]]:
    items = result.get("objectives")
    return [o for o in items if isinstance(o, dict)] if isinstance(items, list) else []


def dimensions(result: dict[str, object]) -> list[dict[str, object]]:
    items = result.get("dimensions")
    return [d for d in items if isinstance(d, dict)] if isinstance(items, list) else []


def _distribution(dim: dict[str, object]) -> optuna.distributions.BaseDistribution:
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    kind = dim.get("kind")
    if kind == "categorical" or isinstance(dim.get("choices"), list):
        choices = dim.get("choices")
        return CategoricalDistribution(list(choices) if isinstance(choices, list) else [])
    low, high = float(str(dim.get("min"))), float(str(dim.get("max")))
    log = bool(dim.get("log"))
    if kind == "int":
        return IntDistribution(int(low), int(high), log=log)
    return FloatDistribution(low, high, log=log)


_STATES = {"complete": "COMPLETE", "pruned": "PRUNED", "fail": "FAIL"}


def joint_study(result: dict[str, object], trials: list[Trial]) -> optuna.Study | None:
    """The joint (or planner) study rebuilt in memory from its trial rows; ``None`` for a study
    without one (best response only) or without finished trials."""
    import optuna
    from optuna.study import StudyDirection
    from optuna.trial import TrialState

    name = str(result.get("study_name"))
    rows = [t for t in trials if t.phase == "joint" and t.study == name]
    objs = objectives(result)
    if not rows or not objs:
        return None
    dists = {str(d["name"]): _distribution(d) for d in dimensions(result)}
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    directions = [
        StudyDirection.MAXIMIZE if o.get("direction") == "maximize" else StudyDirection.MINIMIZE
        for o in objs
    ]
    study = optuna.create_study(study_name=name, directions=directions)
    frozen = []
    for t in rows:
        state = TrialState[_STATES.get(t.state, "FAIL")]
        complete = state == TrialState.COMPLETE and t.values and len(t.values) == len(objs)
        params = {k: v for k, v in t.params.items() if k in dists}
        frozen.append(
            optuna.trial.create_trial(
                state=state if complete or state != TrialState.COMPLETE else TrialState.FAIL,
                values=t.values if complete else None,
                params=params,
                distributions={k: dists[k] for k in params},
                user_attrs={"number": t.number},
                constraints=(
                    {str(i): v for i, v in enumerate(t.constraints)} if t.constraints else None
                ),
            )
        )
    study.add_trials(frozen)
    if not any(t.state == TrialState.COMPLETE for t in study.trials):
        return None
    return study


@dataclass(frozen=True)
class StudyData:
    """Everything the study report shows."""

    directory: Path | None
    result: dict[str, object]
    database: Path
    trials: list[Trial]
    study: optuna.Study | None
    game: object | None
    """A :class:`paysim.report.grid_game.GridGame` for a two-agent grid game, else ``None``."""
    game_note: str
    """Why there is no game figure, or how its matrices were obtained."""
    start: dict[str, float | str]
    """Where best response started (``AGENT.PARAM`` → value), when the spec could be read."""
    stored_spec: str | None = None
    """The spec as the store keeps it (``studies.spec``, JSON)."""


def stored_study(store: Store, ref: str) -> dict[str, object] | None:
    """The ``studies`` row whose id is ``ref`` or starts with it (the newest such row when a
    resumed study was written several times), with ``result`` parsed; ``None`` when no study
    has that id. An id several studies start with is bad input."""
    from paysim.report import ReportInputError

    ref = ref.strip()
    if not ref:
        return None
    tables = store.rows(
        "SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'studies'"
    )
    if not tables or not tables[0]["n"]:
        return None
    rows = store.rows(
        "SELECT study_id, study_name, scenario, spec::VARCHAR AS spec, result::VARCHAR AS result "
        "FROM studies WHERE starts_with(study_id, $ref) ORDER BY study_id, created_at DESC",
        {"ref": ref},
    )
    ids = list(dict.fromkeys(str(r["study_id"]) for r in rows))
    if len(ids) > 1 and ref not in ids:
        shown = ", ".join(ids[:5]) + (", ..." if len(ids) > 5 else "")
        raise ReportInputError(f"study id `{ref}` is ambiguous in {store.path}: {shown}")
    if not rows:
        return None
    row = next(r for r in rows if r["study_id"] == (ref if ref in ids else ids[0]))
    result = _json(row["result"])
    row["result"] = result if isinstance(result, dict) else {}
    return row
