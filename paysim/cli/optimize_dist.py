"""``paysim optimize worker`` and ``paysim optimize status``: a study in a database worked and
watched from any machine (docs/distributed.md). Thin shells over
:mod:`paysim.optimize.distributed` and :mod:`paysim.optimize.status`."""

import json
import sys
from pathlib import Path
from typing import Annotated, Literal

import typer

from paysim.cli.errors import DebugOption

Storage = Annotated[
    str,
    typer.Option("--storage", help="The study's storage: postgresql://USER:PASSWORD@HOST/DB."),
]
Study = Annotated[str, typer.Option("--study", "--study-name", help="The study's name.")]
Format = Annotated[
    Literal["text", "json"], typer.Option("--format", "-f", help="Human text or JSON.")
]


def worker(
    spec: Annotated[Path, typer.Argument(help="The spec the study was created with.")],
    storage: Storage,
    study: Study,
    output: Annotated[
        str | None,
        typer.Option("--output", "-o", help="Directory of this worker's shard (overrides)."),
    ] = None,
    wait: Annotated[
        float,
        typer.Option("--wait", min=0, help="Seconds to wait for the study to be created."),
    ] = 0.0,
    output_format: Format = "text",
    no_progress: Annotated[bool, typer.Option("--no-progress", help="No progress bar.")] = False,
    debug: DebugOption = False,
) -> None:
    """Join a study in a database and run its trials until its budget is spent."""
    from paysim.cli.optimize import _progress
    from paysim.cli.progress import wanted
    from paysim.optimize import load_plan
    from paysim.optimize.distributed import run_worker

    plan = load_plan(spec, output=output, storage=storage, study_name=study)
    with _progress(wanted(disabled=no_progress, streams_to_stdout=False), study) as progress:
        done = run_worker(plan, progress=progress, wait=wait)
    if output_format == "json":
        sys.stdout.write(json.dumps(done, indent=2) + "\n")
        return
    trials = done["trials"]
    assert isinstance(trials, list)
    typer.echo(
        f"worker {done['worker']}: {len(trials)} trials of study {done['study']} "
        f"({done['complete']} complete, {done['pruned']} pruned) · study: {done['study_done']} "
        f"of {done['budget']} done" + (f" · rows in {done['shard']}" if done["shard"] else "")
    )


def status(
    storage: Storage,
    study: Study,
    recent: Annotated[
        float, typer.Option("--recent", min=1, help="Seconds within which a worker counts as seen.")
    ] = 600.0,
    output_format: Format = "text",
    debug: DebugOption = False,
) -> None:
    """Show a study's trials by state, the best so far and the workers seen recently."""
    from paysim.optimize.status import status_text, study_status

    found = study_status(storage, study, recent=recent)
    if output_format == "json":
        sys.stdout.write(json.dumps(found, indent=2) + "\n")
    else:
        typer.echo(status_text(found))


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
    app.command("status")(status)
