"""``paysim optimize``: policy-parameter search with Optuna (INTERFACES.md §5, docs/optimize.md).

```python
from paysim.optimize import load_plan, optimize

plan = load_plan("scenarios/optimize/castro_equilibrium.yaml", output="runs/castro")
result = optimize(plan)                 # the dict written to result.json
result["equilibrium"]["profile"]        # {"BANK_A": {"BANK_A.initial_liquidity_fraction": 0.0}}
```

Modules: :mod:`~paysim.optimize.spec` (the YAML, pydantic), :mod:`~paysim.optimize.plan` (checks
against the scenario, the search space), :mod:`~paysim.optimize.space` (dimensions, candidates),
:mod:`~paysim.optimize.constraints` (constraint expressions), :mod:`~paysim.optimize.evaluate`
(common random numbers through ``run_many``), :mod:`~paysim.optimize.study` (samplers, pruners,
storages, one trial), :mod:`~paysim.optimize.equilibrium` (best response and the certificate),
:mod:`~paysim.optimize.runner` (the whole run, workers), :mod:`~paysim.optimize.outputs`,
:mod:`~paysim.optimize.records` (trial rows in the DuckDB store).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from paysim.optimize.plan import Plan, make_plan
from paysim.optimize.spec import OptimizeSpec, SpecError, load_spec_data, validate_spec

__all__ = [
    "OptimizeSpec",
    "Plan",
    "SpecError",
    "load_plan",
    "load_spec",
    "optimize",
]


def load_spec(path: str | Path) -> OptimizeSpec:
    """Reads and validates the shape of a spec file (no scenario checks)."""
    data, lines = load_spec_data(path)
    return validate_spec(data, file=str(path), lines=lines)


def load_plan(
    path: str | Path,
    *,
    output: str | None = None,
    storage: str | None = None,
    study_name: str | None = None,
) -> Plan:
    """Reads a spec file and checks it against its scenario (every problem a ``SpecError``
    naming the file and the JSON Pointer)."""
    data, lines = load_spec_data(path)
    spec = validate_spec(data, file=str(path), lines=lines)
    return make_plan(
        spec, file=str(path), lines=lines, output=output, storage=storage, study_name=study_name
    )


def optimize(
    plan: Plan,
    *,
    resume: bool = False,
    overwrite: bool = False,
    progress: Callable[[int, int, float | None], None] | None = None,
    on_step: Callable[[object], None] | None = None,
) -> dict[str, object]:
    """Runs the optimisation of ``plan`` and writes its outputs; returns ``result.json``'s
    content. An interrupted run (Ctrl-C) still writes what its finished trials found, marked
    ``interrupted``, then raises ``KeyboardInterrupt``."""
    import optuna

    from paysim.optimize.outputs import prepare_output, write_outputs
    from paysim.optimize.records import record_study
    from paysim.optimize.runner import Optimization
    from paysim.store import new_id

    # Optuna logs every trial at INFO on stderr; paysim reports progress itself.
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    prepare_output(plan, overwrite=overwrite, resume=resume)
    # Known before the run: workers on other machines put their trial rows under it too.
    study_id = new_id()
    run = Optimization(plan, resume=resume, progress=progress, on_step=on_step, study_id=study_id)
    outcome = run.run()
    result = write_outputs(outcome, overwrite=overwrite, resume=resume, study_id=study_id)
    record_study(outcome, run, result, study_id)
    if outcome.interrupted:
        raise KeyboardInterrupt
    return result
