"""Entry point of the ``paysim`` command.

Each command group lives in its own module and is registered here; commands parse input, call one
library function and render the result. Only commands that exist are registered, so ``--help``
never lists placeholders. Errors of every command are turned into a message and an exit code in
one place, :class:`paysim.cli.errors.PaysimGroup`, the class of the root group, which also takes
``--debug`` wherever it stands on the command line.

Start-up time: ``paysim --version`` and ``paysim --help`` must stay under 0.25 s
(``benches/startup_bench.py``, printed by ``make bench``). Building the command line imports every
command module listed below, so a command module imports at its top only what its *signatures*
need: ``typer``, ``pathlib``, ``enum``, ``typing`` and the small :mod:`paysim.cli.errors` /
:mod:`paysim.exceptions`. Everything else is imported inside the command function (or a helper
it calls) — :mod:`paysim.simulation`, :mod:`paysim.config` (pydantic), :mod:`paysim.sinks`
(pyarrow), rich, duckdb, optuna, matplotlib, fastapi, uvicorn::

    def report(run: Annotated[Path, typer.Argument(help="...")]) -> None:
        \"\"\"Plots and tables of a run.\"\"\"
        from paysim.report import build_report  # matplotlib: imported only when used

        build_report(run)

Types used only in annotations of helpers go under ``if TYPE_CHECKING:`` (quoted where used).
Command modules do not use ``from __future__ import annotations``: Typer would then evaluate every
annotation string at start-up (``typing.get_type_hints``), about a third of ``--help``'s time.
``import paysim`` is itself cheap (lazy attributes, PEP 562), and so is :mod:`paysim._core`.
``tests/test_cli_startup.py`` fails when ``paysim --help`` imports one of the heavy modules.
Register a new group with one line below.
"""

from typing import Annotated

import typer

from paysim.cli import (
    checkpoint,
    optimize_dist,
    plugins,
    policy_cmds,
    replay,
    report,
    store_cmds,
    version_text,
)
from paysim.cli.errors import DebugOption, PaysimGroup
from paysim.cli.optimize import optimize_app
from paysim.cli.run import run
from paysim.cli.scenario import scenario_app
from paysim.cli.serve import serve

app = typer.Typer(
    name="paysim",
    cls=PaysimGroup,
    help="Simulate high-value interbank payment systems (RTGS).",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(version_text())
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
app.command("serve")(serve)
optimize_dist.register(optimize_app)  # worker, status (distributed studies)
app.add_typer(optimize_app, name="optimize")
report.register(app)
plugins.register(app)  # last: plugin commands cannot replace the built-in ones


def main() -> None:
    """Runs the command line (the console script enters through :func:`paysim.cli.main`)."""
    app()
