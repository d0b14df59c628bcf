"""The report of an optimisation study: a ``paysim optimize`` output directory.

Reads ``result.json`` and the study's trial rows (:mod:`paysim.report.study_data`), draws the
figures that apply to the study — optimisation history, parameter importances and slices of its
joint (planner) study, the Pareto front of a multi-objective one, the best-response path, the
cost matrices of a two-agent grid game — and its tables (:mod:`paysim.report.study_tables`).
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import paysim
from paysim.report.build import FigureSpec, Report, Written, write_report
from paysim.report.grid_game import build_game, load_study_plan, start_point
from paysim.report.html import Text
from paysim.report.study_data import (
    StudyData,
    dimensions,
    joint_study,
    load_result,
    objectives,
    read_trials,
    stored_study,
    study_database,
)
from paysim.report.study_figures import (
    br_path_figure,
    game_figure,
    history_figure,
    importances_figure,
    pareto_figure,
    slices_figure,
)
from paysim.report.study_tables import study_meta, study_tables

STUDY_FIGURES = (
    "history",
    "history_2",
    "history_3",
    "importances",
    "importances_2",
    "importances_3",
    "slices",
    "pareto",
    "br_path",
    "game",
)
"""Every figure a study report may have (which ones it has depends on the study)."""

MAX_SLICES = 6
MAX_OBJECTIVES = 3


def read_study(
    directory: Path | None,
    db: Path | None = None,
    *,
    study_id: str | None = None,
    evaluate: bool = True,
) -> StudyData:
    """What the report of a study shows: the study in ``directory`` (its ``result.json``, its
    trials in the store next to it or in ``db``), or the study ``study_id`` of the store ``db``.

    With ``evaluate`` (the default) the study's spec is loaded again — from its file, or else
    from the store's copy — to run a two-agent grid game's whole grid and to know where best
    response started; without it, only stored numbers are used."""
    import paysim.store

    if directory is not None:
        result = load_result(directory)
        database = study_database(directory, result, db)
    else:
        assert db is not None and study_id is not None
        database, result = db, {}
    with paysim.store.open(database) as store:
        row = stored_study(store, study_id or str(result.get("study_id")))
        if directory is None:
            found = None if row is None else row.get("result")
            assert isinstance(found, dict)
            result = found
        trials = read_trials(store, str(result.get("study_id")))
    study = joint_study(result, trials)
    if evaluate:
        plan, why = load_study_plan(result, row)
    else:
        plan, why = None, "not asked to run the grid"
    game, note = build_game(result, trials, plan, why)
    stored_spec = None if row is None else str(row.get("spec"))
    return StudyData(
        directory, result, database, trials, study, game, note, start_point(plan), stored_spec
    )


def _suffix(i: int) -> str:
    return "" if i == 0 else f"_{i + 1}"


def study_figures(data: StudyData) -> list[FigureSpec]:
    out: list[FigureSpec] = []
    study, objs = data.study, objectives(data.result)
    if study is not None:
        for i, obj in enumerate(objs[:MAX_OBJECTIVES]):
            label = str(obj.get("label"))
            suffix = "" if len(objs) == 1 else f" ({label})"
            out.append(
                FigureSpec(
                    f"history{_suffix(i)}",
                    f"Optimisation history{suffix}",
                    f"{label} ({obj.get('direction')}, {obj.get('aggregate')} over the seeds) "
                    "of every complete trial of the joint study in order, with the best so far. "
                    "Source: the trials table (Optuna's plot_optimization_history).",
                    history_figure(study, i, label),
                )
            )
        for i, obj in enumerate(objs[:MAX_OBJECTIVES]):
            label = str(obj.get("label"))
            out.append(
                FigureSpec(
                    f"importances{_suffix(i)}",
                    "Parameter importances" + ("" if len(objs) == 1 else f" ({label})"),
                    f"How much of the variation of {label} over the complete trials each "
                    "parameter explains (Optuna's plot_param_importances, PED-ANOVA).",
                    importances_figure(study, i, label),
                )
            )
        label = str(objs[0].get("label"))
        params = _important(study)
        out.append(
            FigureSpec(
                "slices",
                "Slices",
                f"{label} of every complete trial against each of the {len(params)} most "
                "important parameters (Optuna's plot_slice); colour: trial number.",
                slices_figure(study, params, 0, label),
            )
        )
        if 2 <= len(objs) <= 3:
            out.append(
                FigureSpec(
                    "pareto",
                    "Pareto front",
                    "Every complete trial in objective space; the Pareto front (trials no other "
                    "trial beats on every objective) highlighted, infeasible trials apart "
                    "(Optuna's plot_pareto_front).",
                    pareto_figure(study, [str(o.get("label")) for o in objs]),
                )
            )
    eq = data.result.get("equilibrium")
    if isinstance(eq, dict):
        steps = eq.get("path")
        path = [p for p in steps if isinstance(p, dict)] if isinstance(steps, list) else []
        names = [str(d.get("name")) for d in dimensions(data.result)]
        out.append(
            FigureSpec(
                "br_path",
                "Best-response path",
                "Each step of the best-response dynamics: one agent chooses its best response "
                "to the others' current parameters. Source: result.json (equilibrium.path).",
                br_path_figure(path, names, data.start),
            )
        )
    if data.game is not None:
        from paysim.report.grid_game import GridGame

        assert isinstance(data.game, GridGame)
        out.append(
            FigureSpec(
                "game",
                "Cost matrices of the two-agent grid game",
                "Each agent's own objective and the planner objective at every grid point "
                f"({data.game_note}); squares: each agent's best response to the other's "
                "value; arrows: the best-response path from its start; star: the equilibrium; "
                "diamond: the planner's optimum.",
                game_figure(data.game),
            )
        )
    return out


def _important(study: object) -> list[str]:
    """The parameters of the slices figure: the most important ones first."""
    import optuna

    assert isinstance(study, optuna.Study)
    names = list(dict.fromkeys(k for t in study.trials for k in t.params))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ranked = list(optuna.importance.get_param_importances(study))
    except Exception:  # too few trials to rank: keep the order of the dimensions
        ranked = names
    return ranked[:MAX_SLICES]


def study_report(
    directory: Path | None, db: Path | None = None, study_id: str | None = None
) -> Report:
    """The report of the study in ``directory``, or of study ``study_id`` of the store ``db``."""
    data = read_study(directory, db, study_id=study_id)
    result = data.result
    intro, tables = study_tables(data)
    spec_path = Path(str(result.get("spec") or ""))
    if spec_path.is_file():
        spec = Text("spec", f"Spec file ({spec_path})", spec_path.read_text(errors="replace"))
    else:
        stored = json.dumps(json.loads(data.stored_spec or "null"), indent=2)
        spec = Text("spec", f"Spec (as stored in {data.database}; {spec_path} is gone)", stored)
    where = directory if directory is not None else data.database
    return Report(
        kind="study",
        ident=str(result.get("study_id")),
        title=f"paysim study {result.get('study_name')}",
        subtitle=f"mode {result.get('mode')} · status {result.get('status')} · {where}",
        meta=study_meta(data),
        figures=study_figures(data),
        blocks=[*tables, spec],
        intro=intro,
        footer=f"Report written by paysim {paysim.__version__}.",
    )


def study_report_files(
    directory: Path | None,
    output: str | os.PathLike[str] | None,
    *,
    formats: list[str] | None,
    overwrite: bool,
    db: Path | None = None,
    study_id: str | None = None,
) -> Written:
    """Writes the report of the study in ``directory``, or of study ``study_id`` of the store
    ``db`` (into ``STUDY_DIR/report``, or ``report-STUDY_ID``, unless ``output`` is given)."""
    from paysim.report import default_output
    from paysim.report.render import check_formats, rendering

    chosen = check_formats(list(formats or []))
    with rendering():
        report = study_report(directory, db, study_id)
        target = Path(output) if output is not None else default_output(report.ident, directory)
        return write_report(report, target, chosen, overwrite=overwrite)
