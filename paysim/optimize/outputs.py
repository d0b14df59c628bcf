"""What ``paysim optimize`` writes under ``output:``, every file through
:class:`paysim.outputs.AtomicOutput` (never over an input, never half-written, never over an
existing file unless ``--overwrite`` or ``--resume``):

* ``<AGENT>.json`` per searched agent (``equilibrium/`` and ``planner/`` in ``mode: both``;
  ``pareto/<trial>/`` for each trial of a Pareto front): the agent's policy document with the
  best values in ``value``, the declared ranges kept, and the study recorded in
  ``metadata.paysim_optimize``: ready for ``policy:`` in a scenario;
* ``result.json``: best parameters and objective values, the re-check, the equilibrium with its
  path and certificate, the planner's optimum and the price of anarchy, timings, warnings.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from paysim.optimize.runner import Outcome, params_by_agent
from paysim.optimize.space import ILF, Assignment, candidate_of
from paysim.optimize.study import attrs, storage_label
from paysim.outputs import AtomicOutput, OutputError

if TYPE_CHECKING:
    import optuna

    from paysim.optimize.plan import Plan

RESULT = "result.json"


def _json_number(value: float | None) -> float | str | None:
    if value is None:
        return None
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if math.isnan(value):
        return None
    return value


def prepare_output(plan: Plan, *, overwrite: bool, resume: bool) -> list[Path]:
    """Creates the output directory and checks, before any work, that nothing would be
    overwritten without permission; with ``overwrite`` a previous default journal is removed
    so the study starts over. Returns the input files of the run."""
    out = plan.output
    if out.exists() and not out.is_dir():
        raise OutputError(f"output {out} is a file; give a directory")
    out.mkdir(parents=True, exist_ok=True)
    inputs = [Path(plan.file), plan.scenario_path]
    journal = None if "://" in plan.storage else Path(plan.storage)
    if journal is not None:
        for source in inputs:
            if journal.exists() and journal.resolve() == source.resolve():
                raise OutputError(f"storage {journal} is an input of this run; choose another")
        if journal.exists() and not resume:
            if not overwrite:
                raise OutputError(
                    f"study journal {journal} already exists; continue the study with --resume, "
                    "start over with --overwrite, or choose another output"
                )
            journal.unlink()
    elif overwrite and not resume:
        import optuna

        from paysim.optimize.study import open_storage

        storage = open_storage(plan.storage)
        names = set(optuna.get_all_study_names(storage))
        for name in sorted(names):
            if name == plan.study_name or name.startswith(plan.study_name + ".br."):
                optuna.delete_study(study_name=name, storage=storage)
    for source in inputs:
        if plan.db_path.exists() and plan.db_path.resolve() == source.resolve():
            raise OutputError(f"db {plan.db_path} is an input of this run; choose another")
    # Open (create or migrate) the store now, so a file that is not a paysim store is refused
    # before any work rather than after it.
    import paysim.store

    plan.db_path.parent.mkdir(parents=True, exist_ok=True)
    paysim.store.open(plan.db_path, write=True).close()
    if not (overwrite or resume):
        planned = [out / RESULT]
        dirs = [out / "equilibrium", out / "planner"] if plan.spec.mode == "both" else [out]
        planned += [d / f"{agent}.json" for d in dirs for agent in plan.spaces]
        for path in planned:
            if path.exists():
                raise OutputError(
                    f"output {path} already exists; use --overwrite, --resume, or another output"
                )
    return inputs


def policy_document(
    plan: Plan, agent: str, label: str, values: Mapping[str, float], meta: dict[str, object]
) -> dict[str, object]:
    """The agent's policy document with ``values`` (and fixed values) filled in."""
    option = plan.spaces[agent].option(label)
    doc = copy.deepcopy(option.document)
    params = doc.get("parameters")
    declared = dict(params) if isinstance(params, Mapping) else {}
    kinds = {
        name: (decl.get("kind") if isinstance(decl, Mapping) else None)
        for name, decl in declared.items()
    }
    filled = {**option.base_params, **values}
    for name, value in filled.items():
        number: float | int = value
        if kinds.get(name) == "int" and float(value).is_integer():
            number = int(value)
        decl = declared.get(name)
        if isinstance(decl, Mapping):
            declared[name] = {**decl, "value": number}
        elif name in declared or name == ILF:
            declared[name] = number
    doc["parameters"] = declared
    metadata = doc.get("metadata")
    doc["metadata"] = {**(dict(metadata) if isinstance(metadata, Mapping) else {}), **meta}
    return doc


def _write_json(path: Path, data: object, *, overwrite: bool, inputs: list[Path]) -> Path:
    with AtomicOutput(path, overwrite=overwrite, inputs=inputs) as out:
        handle = out.open_text()
        json.dump(data, handle, indent=2, ensure_ascii=False)
        handle.write("\n")
    return path


def _meta(plan: Plan, outcome: Outcome, **extra: object) -> dict[str, object]:
    from paysim import __version__

    return {
        "paysim_optimize": {
            "paysim_version": __version__,
            "spec": plan.file,
            "scenario": str(plan.scenario_path),
            "mode": plan.spec.mode,
            "study_name": plan.study_name,
            "storage": storage_label(plan.storage),
            "seeds": list(plan.seeds),
            **extra,
        }
    }


def _write_policies(
    plan: Plan,
    outcome: Outcome,
    directory: Path,
    assignment: Assignment,
    meta: dict[str, object],
    *,
    overwrite: bool,
    inputs: list[Path],
) -> dict[str, str]:
    directory.mkdir(parents=True, exist_ok=True)
    candidate = candidate_of(assignment, list(plan.spaces.values()))
    written: dict[str, str] = {}
    for agent, label in candidate.choices.items():
        doc = policy_document(plan, agent, label, candidate.params.get(agent, {}), meta)
        path = _write_json(directory / f"{agent}.json", doc, overwrite=overwrite, inputs=inputs)
        written[agent] = str(path)
    return written


def _trial_entry(plan: Plan, trial: optuna.trial.FrozenTrial) -> dict[str, object]:
    return {
        "trial": trial.number,
        "values": [_json_number(float(v)) for v in trial.values],
        "params": params_by_agent(plan, dict(trial.params)),
        "constraints": attrs(trial).get("constraints", []),
        "engine_seconds": attrs(trial).get("engine_seconds"),
        "trial_seconds": attrs(trial).get("trial_seconds"),
    }


def write_outputs(
    outcome: Outcome, *, overwrite: bool, resume: bool, study_id: str | None = None
) -> dict[str, object]:
    """Writes the policy documents and ``result.json``; returns the result."""
    from optuna.trial import TrialState

    from paysim import __version__

    plan = outcome.plan
    inputs = [Path(plan.file), plan.scenario_path]
    allow = overwrite or resume
    result: dict[str, object] = {
        "paysim_version": __version__,
        "spec": plan.file,
        "scenario": str(plan.scenario_path),
        "mode": plan.spec.mode,
        "output": str(plan.output),
        "status": "interrupted" if outcome.interrupted else "completed",
        "study_name": plan.study_name,
        "storage": storage_label(plan.storage),
        "db": str(plan.db_path),
        "study_id": study_id,
        "seeds": list(plan.seeds),
        "objectives": [o.describe() for o in plan.objectives],
        "agent_objectives": {a: o.describe() for a, o in plan.agent_objectives.items()},
        "constraints": [c.text for c in plan.constraints],
        "dimensions": [d.describe() for d in plan.dimensions],
    }
    outputs: dict[str, object] = {}
    engine = 0.0
    counted = 0
    if outcome.equilibrium is not None:
        eq = outcome.equilibrium
        result["equilibrium"] = eq.to_dict()
        directory = plan.output / "equilibrium" if plan.spec.mode == "both" else plan.output
        merged: Assignment = {}
        for part in eq.profile.values():
            merged.update(part)
        meta = _meta(plan, outcome, result="equilibrium", status=eq.status, epsilon=eq.epsilon)
        outputs["equilibrium"] = _write_policies(
            plan, outcome, directory, merged, meta, overwrite=allow, inputs=inputs
        )
    joint = outcome.joint
    if joint is not None:
        states = {s.name.lower(): 0 for s in TrialState}
        for t in joint.trials:
            states[t.state.name.lower()] += 1
            seconds = attrs(t).get("engine_seconds")
            if isinstance(seconds, int | float) and t.state.is_finished():
                engine += float(seconds)
                counted += 1
        result["trials"] = {"total": len(joint.trials), **states}
        if plan.pareto:
            result["pareto"] = [_trial_entry(plan, t) for t in joint.best]
            pareto_out: dict[str, object] = {}
            for t in joint.best:
                meta = _meta(plan, outcome, result="pareto", trial=t.number, values=list(t.values))
                pareto_out[str(t.number)] = _write_policies(
                    plan,
                    outcome,
                    plan.output / "pareto" / str(t.number),
                    dict(t.params),
                    meta,
                    overwrite=allow,
                    inputs=inputs,
                )
            outputs["pareto"] = pareto_out
        elif joint.best:
            best = joint.best[0]
            entry = _trial_entry(plan, best)
            entry["recheck"] = joint.recheck
            key = "planner" if plan.spec.mode == "both" else "best"
            result[key] = entry
            directory = plan.output / "planner" if plan.spec.mode == "both" else plan.output
            meta = _meta(plan, outcome, result=key, trial=best.number, values=list(best.values))
            outputs[key] = _write_policies(
                plan, outcome, directory, dict(best.params), meta, overwrite=allow, inputs=inputs
            )
        else:
            result["best"] = None
    if plan.spec.mode == "both":
        result["price_of_anarchy"] = _json_number(outcome.price_of_anarchy)
    wall = outcome.seconds
    result["timings"] = {
        "wall_seconds": wall,
        "joint_seconds": joint.seconds if joint is not None else None,
        "equilibrium_seconds": outcome.equilibrium.seconds if outcome.equilibrium else None,
        "engine_seconds": engine,
        "trials_per_second": (counted / joint.seconds) if joint and joint.seconds > 0 else None,
    }
    result["outputs"] = outputs
    result["warnings"] = list(plan.warnings)
    _write_json(plan.output / RESULT, result, overwrite=allow, inputs=inputs)
    return result
