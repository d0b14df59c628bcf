"""Entry point of the ``paysim`` command.

Each command group lives in its own module and is registered here; commands parse input, call one
library function and render the result. Only commands that exist are registered, so ``--help``
never lists placeholders. Errors of every command are turned into a message and an exit code in
one place, :class:`paysim.cli.errors.PaysimGroup`, the class of the root group.
"""

from __future__ import annotations

from typing import Annotated

import typer

import paysim
from paysim.cli import checkpoint, policy_cmds, replay, store_cmds
from paysim.cli.errors import DebugOption, PaysimGroup
from paysim.cli.run import run
from paysim.cli.scenario import scenario_app

app = typer.Typer(
    name="paysim",
    cls=PaysimGroup,
    help="Simulate high-value interbank payment systems (RTGS).",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"paysim {paysim.__version__} (engine {paysim._core.core_version()})")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the paysim and engine versions and exit.",
        ),
    ] = False,
    debug: DebugOption = False,
) -> None:
    """paysim: a research framework for RTGS payment-system simulation."""


app.command("run")(run)
app.add_typer(scenario_app, name="scenario")
policy_cmds.register(app)
replay.register(app)
checkpoint.register(app)
store_cmds.register(app)


def main() -> None:
    """Console-script entry point."""
    app()
