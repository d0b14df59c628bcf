"""Entry point of the ``paysim`` command.

Each command group lives in its own module and is registered here; commands parse input, call one
library function and render the result. Only commands that exist are registered, so ``--help``
never lists placeholders.
"""

from __future__ import annotations

from typing import Annotated

import typer

import paysim
from paysim.cli import policy_cmds

app = typer.Typer(
    name="paysim",
    help="Simulate high-value interbank payment systems (RTGS).",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
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
) -> None:
    """paysim: a research framework for RTGS payment-system simulation."""


policy_cmds.register(app)


def main() -> None:
    """Console-script entry point."""
    app()
