"""``paysim scenario validate|schema``: check a scenario file, print the scenario JSON Schema.

``validate`` checks everything a run would check before its first tick: the file is read and
validated (:mod:`paysim.config`), its policy references resolved and the engine built from the
result (no tick is run). Exit codes follow ``validate-policy``: ``0`` valid, ``1`` invalid (the
problem printed on stdout as one paragraph), ``2`` when the file cannot be read: it does not
exist, is a directory or not a regular file (a FIFO, a device), cannot be opened, or is not UTF-8
text (what cannot be decoded cannot be read; the loader says "cannot read" too).
"""

import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from paysim.cli.errors import EXIT_INVALID, DebugOption, describe
from paysim.cli.run import check_scenario_path, scenario_messages
from paysim.exceptions import PolicyError, ScenarioError

scenario_app = typer.Typer(
    name="scenario",
    help="Check scenario files and print the scenario JSON Schema.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@scenario_app.command("validate")
def validate(
    scenario: Annotated[
        Path, typer.Argument(metavar="SCENARIO", help="Scenario file (YAML, or JSON for .json).")
    ],
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No warnings on stderr.")] = False,
    debug: DebugOption = False,
) -> None:
    """Check a scenario: exit 0 when valid, 1 when invalid, 2 when the file cannot be read."""
    from paysim.simulation import Simulation
    from paysim.sinks.render import days_text

    check_readable(scenario)
    try:
        with scenario_messages(quiet, scenario) as messages:
            sim = Simulation(str(scenario))
            messages.extend(sim.warnings)
    except (ScenarioError, PolicyError) as exc:
        typer.echo(f"invalid: {describe(exc)[1]}")
        raise typer.Exit(EXIT_INVALID) from None
    sc = sim.scenario
    events = len(sc.scenario_events)
    typer.echo(
        f"OK {scenario}: {len(sc.agents)} agents, {days_text(sc.simulation.num_days)} × "
        f"{sc.simulation.ticks_per_day} ticks, seed {sc.simulation.rng_seed}, "
        f"{events} scenario event{'' if events == 1 else 's'}"
    )


def check_readable(path: Path) -> None:
    """:class:`ScenarioError` (exit 2) unless ``path`` is a regular file holding UTF-8 text."""

    def fail(reason: str) -> NoReturn:
        raise ScenarioError(f"cannot read the scenario file: {reason}", file=str(path))

    check_scenario_path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        fail(exc.strerror or type(exc).__name__)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        fail(f"not UTF-8 text (undecodable byte at offset {exc.start})")


@scenario_app.command("schema")
def schema(
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the schema to this file instead of stdout."),
    ] = None,
    debug: DebugOption = False,
) -> None:
    """Print the JSON Schema of scenario files (draft 2020-12)."""
    from paysim.config import canonical_schema_text

    text = canonical_schema_text()
    if output is None:
        sys.stdout.write(text)
        return
    from paysim.outputs import atomic_text

    # The user named this file as the output: replacing it is what was asked, atomically.
    with atomic_text(output, overwrite=True, what="--output") as handle:
        handle.write(text)
    typer.echo(f"wrote {output}", err=True)
