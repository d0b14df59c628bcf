"""``paysim replay SIM_ID``: render a stored run again, through the renderers of a live run.

The stored run's inputs to its sinks (run info, events, day summaries, run summary) are fed to
the sink ``paysim run --format`` would use, with the same filters, so ``--format verbose`` and
``events`` print byte for byte what the live run printed, and ``json`` / ``summary`` the same run
summary (:mod:`paysim.store.replay`). Heavy modules are imported inside the command.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from paysim.cli.errors import DebugOption
from paysim.cli.filter_options import (
    FilterAgentOption,
    FilterEventTypeOption,
    FilterTickRangeOption,
    FilterTxOption,
)
from paysim.cli.store_cmds import DEFAULT_DB, DbOption, bad_ids


class ReplayFormat(StrEnum):
    verbose = "verbose"
    events = "events"
    summary = "summary"
    json = "json"


def replay_cmd(
    simulation_id: Annotated[str, typer.Argument(metavar="SIM_ID", help="Run id or prefix.")],
    db: DbOption = DEFAULT_DB,
    output_format: Annotated[
        ReplayFormat, typer.Option("--format", "-f", help="What to write to stdout.")
    ] = ReplayFormat.verbose,
    filter_event_type: FilterEventTypeOption = None,
    filter_agent: FilterAgentOption = None,
    filter_tx: FilterTxOption = None,
    filter_tick_range: FilterTickRangeOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No notes on stderr.")] = False,
    debug: DebugOption = False,
) -> None:
    """Re-render a stored run from the database.

    It prints what `paysim run` printed for that run. Filters apply to
    [bold]--format verbose[/] and [bold]events[/], as in `paysim run`.
    """
    from paysim.cli.parsing import parse_filter
    from paysim.cli.run import OutputFormat, format_sink
    from paysim.exceptions import StoreError
    from paysim.store import open as open_store
    from paysim.store.replay import replay

    event_filter = parse_filter(filter_event_type, filter_agent, filter_tx, filter_tick_range)
    streams = output_format in (ReplayFormat.verbose, ReplayFormat.events)
    if event_filter.active and not streams and not quiet:
        typer.echo(
            "warning: the --filter-* options apply to --format verbose and events only", err=True
        )
    sink = format_sink(OutputFormat(output_format.value), event_filter)
    types = None if event_filter.event_types is None else sorted(event_filter.event_types)
    with open_store(db) as store, bad_ids("SIM_ID"):
        result = replay(
            store,
            simulation_id,
            [sink],
            tick_min=event_filter.tick_min,
            tick_max=event_filter.tick_max,
            event_types=types,
        )
    if not result.complete:
        note = (
            f"run {result.simulation_id} is {result.status}: replayed its "
            f"{result.days_replayed} complete day(s); it has no run summary"
        )
        if not streams:
            raise StoreError(note)
        if not quiet:
            typer.echo(f"note: {note}", err=True)


def register(app: typer.Typer) -> None:
    """Adds ``paysim replay`` to the CLI."""
    app.command("replay")(replay_cmd)
