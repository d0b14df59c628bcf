"""``paysim run SCENARIO``: run a scenario to the end and render it (INTERFACES.md §1).

A thin shell: the options become a :class:`~paysim.Simulation` (seed, days, policy and parameter
overrides) and a list of sinks, and :func:`paysim.sinks.run_with_sinks` does the run. Every
output goes through a sink: ``--format`` picks the sink that writes stdout (``console`` for
``summary``, ``verbose`` and ``json``; ``jsonl`` for ``events``), ``--sink`` adds more. Errors are
not handled here: :class:`paysim.cli.errors.PaysimGroup` maps them to messages and exit codes.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from paysim.cli.errors import DebugOption
from paysim.cli.parsing import parse_filter, parse_params, parse_policies
from paysim.cli.progress import progress_bar, wanted
from paysim.cli.store_cmds import run_session
from paysim.config import ScenarioWarning
from paysim.exceptions import ScenarioError
from paysim.hookspecs import OutputSink
from paysim.simulation import Simulation
from paysim.sinks import (
    ConsoleSink,
    EventFilter,
    FilteredSink,
    JsonlSink,
    SinkError,
    create_sink,
    parse_sink_spec,
    run_with_sinks,
)


class OutputFormat(StrEnum):
    """What ``paysim run`` writes to stdout."""

    summary = "summary"
    json = "json"
    verbose = "verbose"
    events = "events"


def format_sink(output_format: OutputFormat, event_filter: EventFilter) -> OutputSink:
    """The sink that writes stdout for ``--format``; filters apply to verbose and events."""
    if output_format is OutputFormat.events:
        return FilteredSink(JsonlSink(), event_filter)
    if output_format is OutputFormat.verbose:
        return FilteredSink(ConsoleSink(mode="verbose"), event_filter)
    return ConsoleSink(mode=output_format.value)


def extra_sinks(specs: list[str]) -> list[OutputSink]:
    """The ``--sink NAME[:key=value,...]`` sinks, built through the plugin registry."""
    sinks = []
    for spec in specs:
        try:
            name, options = parse_sink_spec(spec)
            sinks.append(create_sink(name, options))
        except SinkError as exc:
            raise typer.BadParameter(str(exc), param_hint="'--sink'") from None
    return sinks


@contextmanager
def scenario_messages(quiet: bool, scenario: Path) -> Iterator[list[str]]:
    """Collects loader warnings (printed by the caller unless ``--quiet``) and names the
    scenario file in errors that come back from the engine without one."""
    collected: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ScenarioWarning)
        try:
            yield collected
        except ScenarioError as exc:
            if exc.file is None:
                exc.file = str(scenario)
            raise
    collected[:0] = [str(w.message) for w in caught if issubclass(w.category, ScenarioWarning)]
    if not quiet:
        for message in collected:
            typer.echo(f"warning: {message}", err=True)


def run(
    scenario: Annotated[
        Path, typer.Argument(help="Scenario file: YAML, or JSON when it ends in .json.")
    ],
    seed: Annotated[
        int | None,
        typer.Option("--seed", min=0, help="Seed (overrides simulation.rng_seed)."),
    ] = None,
    days: Annotated[
        int | None, typer.Option("--days", min=1, help="Days to run (overrides num_days).")
    ] = None,
    policy: Annotated[
        list[str] | None,
        typer.Option(
            "--policy",
            metavar="AGENT=REF",
            help="Replace an agent's policy: library name, path or source:name.",
        ),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            metavar="AGENT.NAME=VALUE",
            help="Override a policy parameter of an agent.",
        ),
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="What to write to stdout.")
    ] = OutputFormat.summary,
    sink: Annotated[
        list[str] | None,
        typer.Option(
            "--sink",
            metavar="NAME[:key=value,...]",
            help="Also send the run to a sink, e.g. jsonl:path=ev.jsonl.",
        ),
    ] = None,
    filter_event_type: Annotated[
        str | None,
        typer.Option("--filter-event-type", metavar="A,B", help="Only these event types."),
    ] = None,
    filter_agent: Annotated[
        str | None,
        typer.Option("--filter-agent", metavar="ID", help="Only events involving this agent."),
    ] = None,
    filter_tx: Annotated[
        str | None,
        typer.Option("--filter-tx", metavar="ID", help="Only events about this payment."),
    ] = None,
    filter_tick_range: Annotated[
        str | None,
        typer.Option(
            "--filter-tick-range", metavar="MIN-MAX", help="Only ticks MIN..MAX (inclusive)."
        ),
    ] = None,
    # --persist / --db / --resume: the store (paysim.store, docs/store.md).
    persist: Annotated[
        bool, typer.Option("--persist", help="Store the run in the database (--db).")
    ] = False,
    db: Annotated[
        Path | None,
        typer.Option(
            "--db",
            metavar="PATH",
            help="Database of --persist/--resume.",
            show_default="paysim.duckdb",
        ),
    ] = None,
    resume: Annotated[
        str | None,
        typer.Option(
            "--resume", metavar="CHECKPOINT_ID", help="Continue from a stored checkpoint."
        ),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No warnings or progress on stderr.")
    ] = False,
    no_progress: Annotated[bool, typer.Option("--no-progress", help="No progress bar.")] = False,
    debug: DebugOption = False,
) -> None:
    """Run a scenario to the end.

    Filters apply to [bold]--format verbose[/] and [bold]events[/].
    """
    policies = parse_policies(policy or [])
    params = parse_params(param or [])
    event_filter = parse_filter(filter_event_type, filter_agent, filter_tx, filter_tick_range)
    sinks = [format_sink(output_format, event_filter), *extra_sinks(sink or [])]
    session = run_session(persist, db, resume)
    with scenario_messages(quiet, scenario) as messages:
        if session is None:
            sim = Simulation(str(scenario), seed=seed, days=days, policies=policies, params=params)
        else:
            sim = session.simulation(
                scenario, seed=seed, days=days, policies=policies, params=params
            )
        messages.extend(sim.warnings)
    if session is not None:
        sinks += session.sinks(sim)
        if session.persist and not quiet:
            typer.echo(f"simulation {sim.simulation_id} → {session.db}", err=True)
    if event_filter.active and output_format in (OutputFormat.summary, OutputFormat.json):
        if not quiet:
            typer.echo(
                "warning: the --filter-* options apply to --format verbose and events only",
                err=True,
            )
    streams = output_format in (OutputFormat.verbose, OutputFormat.events)
    show = wanted(disabled=quiet or no_progress, streams_to_stdout=streams)
    with progress_bar(f"{scenario.name}", enabled=show) as update:
        since = 0 if session is None else session.since_seq
        run_with_sinks(sim, sinks, on_progress=update, since_seq=since)
    if not quiet:
        for s in sinks:
            if isinstance(s, JsonlSink) and s.path != "-":
                typer.echo(f"wrote {s.events_written} events to {s.path}", err=True)
