"""``paysim optimize SPEC`` and ``paysim optimize validate SPEC``: thin shells over
:mod:`paysim.optimize`.

``paysim optimize SPEC`` is the group's default command (``run``): the group inserts it when the
first argument is not a subcommand, so both spellings of the contract work. Heavy libraries
(optuna, duckdb, the engine) are imported inside the commands: ``paysim --help`` stays fast.

Output: a human summary on stdout (``--format json``: the ``result.json`` object); the progress
bar (best so far, trials per second) and best-response steps on stderr. Exit codes: ``0`` done,
``2`` a bad spec (file and JSON Pointer named) or an output that would be overwritten, ``1`` a
run that failed, ``130`` interrupted (finished trials are kept and the outputs written).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from typer import _click
from typer.core import TyperGroup

from paysim.cli.errors import DebugOption

if TYPE_CHECKING:
    from paysim.optimize import Plan


class _DefaultRun(TyperGroup):
    """A group whose default command is ``run``: ``optimize SPEC`` = ``optimize run SPEC``."""

    def parse_args(self, ctx: _click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


optimize_app = typer.Typer(
    name="optimize",
    cls=_DefaultRun,
    help="Search policy parameters with Optuna: joint optima, best-response equilibria.",
    no_args_is_help=True,
)

SpecArg = Annotated[Path, typer.Argument(help="Optimisation spec (YAML, or JSON for .json).")]
OutputOpt = Annotated[
    str | None, typer.Option("--output", "-o", help="Output directory (overrides `output`).")
]
StorageOpt = Annotated[
    str | None,
    typer.Option("--storage", help="Optuna storage: journal file or postgresql://… URL."),
]
StudyOpt = Annotated[
    str | None, typer.Option("--study-name", "--study", help="Study name in the storage.")
]


def _load(spec: Path, output: str | None, storage: str | None, study: str | None) -> Plan:
    from paysim.optimize import load_plan

    return load_plan(spec, output=output, storage=storage, study_name=study)


@optimize_app.command("validate")
def validate(
    spec: SpecArg,
    output: OutputOpt = None,
    storage: StorageOpt = None,
    study_name: StudyOpt = None,
    debug: DebugOption = False,
) -> None:
    """Check a spec against its scenario without running anything (exit 0 valid, 2 invalid)."""
    from paysim.optimize.space import agent_grid

    plan = _load(spec, output, storage, study_name)
    dims = plan.dimensions
    search = f"sampler {plan.spec.sampler}, pruner {plan.pruner}, {plan.trials} trials"
    if plan.spec.mode != "joint":
        br = plan.spec.best_response
        steps = []
        for agent, space in plan.spaces.items():
            grid = agent_grid(space, br.certificate.max_grid)
            if grid is not None and br.trials is None:
                steps.append(f"{agent} {len(grid)} grid points")
            else:
                steps.append(f"{agent} {br.trials or 64} {plan.spec.sampler} trials")
        text = "best response per step: " + ", ".join(steps)
        search = text if plan.spec.mode == "best_response" else f"{text}; planner: {search}"
    typer.echo(
        f"OK {spec}: mode {plan.spec.mode}, {len(plan.spaces)} searched agent"
        f"{'' if len(plan.spaces) == 1 else 's'}, {len(dims)} dimension"
        f"{'' if len(dims) == 1 else 's'}, {len(plan.seeds)} seed"
        f"{'' if len(plan.seeds) == 1 else 's'}, {search}"
    )
    for dim in dims:
        typer.echo(f"  {dim.name}: {_dim_text(dim.describe())}")
    for note in plan.warnings:
        typer.echo(f"warning: {note}", err=True)


def _dim_text(d: dict[str, object]) -> str:
    if d["kind"] == "categorical":
        return "one of " + ", ".join(str(c) for c in d["choices"])  # type: ignore[attr-defined]
    text = f"{d['kind']} in [{d['min']}, {d['max']}]"
    if d.get("step") is not None:
        text += f" step {d['step']}"
    if d.get("log"):
        text += " (log)"
    return text


@contextmanager
def _progress(
    enabled: bool, label: str
) -> Iterator[Callable[[int, int, float | None], None] | None]:
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    start = time.monotonic()
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(bar_width=20),
        MofNCompleteColumn(),
        TextColumn("trials · best {task.fields[best]} · {task.fields[rate]} trials/s"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
        redirect_stdout=False,
        redirect_stderr=False,
    )
    task = progress.add_task(label, total=None, best="–", rate="–")
    first: list[int | None] = [None]

    def update(done: int, total: int, best: float | None) -> None:
        if first[0] is None:
            first[0] = done
        elapsed = time.monotonic() - start
        new = done - (first[0] or 0)
        progress.update(
            task,
            completed=done,
            total=total,
            best="–" if best is None else f"{best:,.6g}",
            rate=f"{new / elapsed:.1f}" if elapsed > 0 else "–",
        )

    progress.start()
    try:
        yield update
    finally:
        progress.stop()


@optimize_app.command("run")
def run(
    spec: SpecArg,
    output: OutputOpt = None,
    storage: StorageOpt = None,
    study_name: StudyOpt = None,
    trials: Annotated[
        int | None, typer.Option("--trials", min=1, help="Trials of the study (overrides).")
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="Worker processes (overrides).")
    ] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue an existing study.")] = False,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Start over, replacing earlier outputs.")
    ] = False,
    output_format: Annotated[
        Literal["summary", "json"],
        typer.Option("--format", help="stdout: a human summary, or result.json's object."),
    ] = "summary",
    no_progress: Annotated[bool, typer.Option("--no-progress", help="No progress bar.")] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No warnings or step lines on stderr.")
    ] = False,
    report: Annotated[
        bool, typer.Option("--report", help="Also write the study's report into OUTPUT/report.")
    ] = False,
    debug: DebugOption = False,
) -> None:
    """Run the optimisation a spec describes and write its outputs."""
    from paysim.cli.progress import wanted
    from paysim.optimize import optimize

    if resume and overwrite:
        raise typer.BadParameter("--resume and --overwrite exclude each other")
    plan = _load(spec, output, storage, study_name)
    if trials is not None:
        plan.trials = trials
    if workers is not None:
        plan.spec.workers = workers
    if report:  # checked before the work: paysim report (paysim.report, docs/report.md)
        from paysim.cli.report import prepare_study_report

        prepare_study_report(plan.output, overwrite or resume)
    show = wanted(disabled=no_progress, streams_to_stdout=False)

    def on_step(step: object) -> None:
        if quiet:
            return
        from paysim.optimize.equilibrium import Step

        assert isinstance(step, Step)
        params = ", ".join(f"{k}={v}" for k, v in step.assignment.items())
        typer.echo(
            f"round {step.round} · {step.agent} → {params} (value {step.value:,.6g}, "
            f"{step.candidates} candidates)",
            err=True,
        )

    with _progress(show, plan.study_name) as progress:
        result = optimize(
            plan,
            resume=resume,
            overwrite=overwrite,
            progress=progress,
            on_step=on_step,
        )
    if not quiet:
        for note in plan.warnings:
            typer.echo(f"warning: {note}", err=True)
    if output_format == "json":
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
    else:
        typer.echo(summary_text(result))
    if report:
        from paysim.cli.report import write_study_report

        write_study_report(plan.output, plan.db_path, overwrite or resume, quiet)


def summary_text(result: dict[str, object]) -> str:
    """The human summary of a result."""
    lines = [
        f"paysim optimize · {result['spec']} · mode {result['mode']} · study "
        f"{result['study_name']} · {result['status']}"
    ]
    eq = result.get("equilibrium")
    if isinstance(eq, dict):
        cert = eq["certificate"]
        lines.append(
            f"equilibrium: {eq['status']} after {eq['rounds']} round(s); ε = "
            f"{cert['epsilon']:,.6g} (largest gain from a unilateral deviation)"
        )
        for agent, params in eq["profile"].items():
            lines.append(f"  {agent}: " + ", ".join(f"{k}={v}" for k, v in params.items()))
        if eq.get("cycle"):
            lines.append(f"  cycle of {len(eq['cycle'])} profile(s)")
    for key in ("best", "planner"):
        best = result.get(key)
        if isinstance(best, dict):
            values = ", ".join(
                f"{v:,.6g}" if isinstance(v, float) else str(v) for v in best["values"]
            )
            lines.append(f"{key}: trial {best['trial']} · objective {values}")
            for agent, entry in best["params"].items():
                params = ", ".join(f"{k}={v}" for k, v in entry["params"].items())
                lines.append(f"  {agent} ({entry['policy']}): {params}")
    if "pareto" in result:
        pareto = result["pareto"]
        assert isinstance(pareto, list)
        lines.append(f"pareto front: {len(pareto)} trial(s)")
        for entry in pareto:
            values = ", ".join(f"{v:,.6g}" for v in entry["values"])
            lines.append(f"  trial {entry['trial']}: {values}")
    if result.get("price_of_anarchy") is not None:
        lines.append(f"price of anarchy: {result['price_of_anarchy']}")
    trials = result.get("trials")
    timings = result.get("timings")
    if isinstance(trials, dict) and isinstance(timings, dict):
        rate = timings.get("trials_per_second")
        lines.append(
            f"trials: {trials['complete']} complete, {trials['pruned']} pruned, "
            f"{trials['fail']} failed"
            + (f" · {rate:,.2f} trials/s" if isinstance(rate, float) else "")
        )
    outputs = result.get("outputs")
    if isinstance(outputs, dict):
        files = [p for group in outputs.values() if isinstance(group, dict) for p in _paths(group)]
        if 0 < len(files) <= 6:
            lines.append("wrote " + ", ".join(files))
        elif files:
            lines.append(f"wrote {len(files)} policy documents under {result.get('output')}")
    return "\n".join(lines)


def _paths(group: dict[str, object]) -> Iterator[str]:
    for value in group.values():
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            yield from _paths(value)
