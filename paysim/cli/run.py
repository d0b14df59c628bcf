"""``paysim run SCENARIO``: run a scenario to the end and render it (INTERFACES.md §1).

A thin shell: the options become a :class:`~paysim.Simulation` (seed, days, policy and parameter
overrides) and a list of sinks, and :func:`paysim.sinks.run_with_sinks` does the run. Every
output goes through a sink: ``--format`` picks the sink that writes stdout (``console`` for
``summary``, ``verbose`` and ``json``; ``jsonl`` for ``events``), ``--sink`` adds more. Errors are
not handled here: :class:`paysim.cli.errors.PaysimGroup` maps them to messages and exit codes.

Standard output belongs to ``--format``: an extra sink that would write there too (``--sink
jsonl`` without a path, ``--sink console`` on stdout) is refused, so ``--format json`` stays
exactly one JSON object and ``--format events`` exactly the event lines.

Unknown ids in the filters are errors: ``--filter-agent`` is checked against the scenario before
the run; ``--filter-tx`` is checked for its form before the run, and, since payment ids exist
only once the run made them, checked after the run against the events it produced (exit 2 and a
message saying which payments the run had).

Heavy modules (the simulation, pydantic, pyarrow, rich) are imported inside the functions, so
building the command line stays cheap (see :mod:`paysim.cli.main`).
"""

import stat
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from paysim.cli.errors import DebugOption
from paysim.cli.filter_options import (
    FilterAgentOption,
    FilterEventTypeOption,
    FilterTickRangeOption,
    FilterTxOption,
)
from paysim.exceptions import ArgumentError, PolicyError, ScenarioError

if TYPE_CHECKING:
    from paysim.hookspecs import OutputSink
    from paysim.simulation import Simulation
    from paysim.sinks import EventFilter


class OutputFormat(StrEnum):
    """What ``paysim run`` writes to stdout."""

    summary = "summary"
    json = "json"
    verbose = "verbose"
    events = "events"


def format_sink(output_format: OutputFormat, event_filter: "EventFilter") -> "OutputSink":
    """The sink that writes stdout for ``--format``; filters apply to verbose and events."""
    from paysim.sinks import ConsoleSink, FilteredSink, JsonlSink

    if output_format is OutputFormat.events:
        return FilteredSink(JsonlSink(), event_filter)
    if output_format is OutputFormat.verbose:
        return FilteredSink(ConsoleSink(mode="verbose"), event_filter)
    return ConsoleSink(mode=output_format.value)


def extra_sinks(specs: list[str], output_format: OutputFormat) -> list["OutputSink"]:
    """The ``--sink NAME[:key=value,...]`` sinks, built through the plugin registry. A sink that
    would write to standard output, which ``--format`` owns, is refused, and so are two sinks
    writing the same file."""
    from paysim.sinks import SinkError, create_sink, parse_sink_spec

    sinks = []
    paths: dict[str, str] = {}
    for spec in specs:
        try:
            name, options = parse_sink_spec(spec)
            sink = create_sink(name, options)
        except SinkError as exc:
            raise typer.BadParameter(str(exc), param_hint="'--sink'") from None
        if getattr(sink, "uses_stdout", False):
            raise typer.BadParameter(
                f"sink `{name}` would write to standard output, which --format "
                f"{output_format.value} already fills; give it a file "
                f"(e.g. --sink {name}:path=events.jsonl)"
                + (" or use --format events" if name == "jsonl" else ""),
                param_hint="'--sink'",
            )
        path = getattr(sink, "path", None)
        if isinstance(path, str):
            key = str(Path(path).resolve())
            if key in paths:
                raise typer.BadParameter(
                    f"{spec!r} writes the same file as {paths[key]!r}", param_hint="'--sink'"
                )
            paths[key] = spec
        sinks.append(sink)
    return sinks


def check_filter_agent(agent: str | None, sim: "Simulation") -> None:
    """An unknown ``--filter-agent`` is a usage error naming the scenario's agents."""
    if agent is None:
        return
    from paysim.config.suggest import did_you_mean

    ids = [a.id for a in sim.scenario.agents]
    if agent not in ids:
        hint = did_you_mean(agent, ids)
        raise typer.BadParameter(
            f"no agent `{agent}` in the scenario; its agents are "
            + ", ".join(f"`{a}`" for a in ids[:10])
            + (", ..." if len(ids) > 10 else "")
            + (f" ({hint})" if hint else ""),
            param_hint="'--filter-agent'",
        )


def check_filter_tx(tx: str | None, stdout_sink: "OutputSink") -> None:
    """After the run: a ``--filter-tx`` that no event concerned names no payment of the run."""
    if tx is None or getattr(stdout_sink, "tx_seen", True):
        return
    last = getattr(stdout_sink, "last_tx", None)
    had = f"its payment ids run up to {last}" if last else "it had no payments"
    raise ArgumentError(f"--filter-tx: no payment `{tx}` in this run ({had})")


def check_scenario_path(path: Path) -> None:
    """A scenario path that exists but is no regular file (a directory, a FIFO, a device) cannot
    be read as a scenario: :class:`ScenarioError` (exit 2) rather than a read that never ends."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return  # missing or unreachable: the loader says so, naming the file
    if stat.S_ISDIR(mode):
        raise ScenarioError("cannot read the scenario file: Is a directory", file=str(path))
    if not stat.S_ISREG(mode):
        raise ScenarioError("cannot read the scenario file: not a regular file", file=str(path))


@contextmanager
def scenario_messages(quiet: bool, scenario: Path) -> Iterator[list[str]]:
    """Collects loader warnings (printed by the caller unless ``--quiet``) and names the
    scenario file in errors that come back from the engine without one."""
    from paysim.config import ScenarioWarning

    collected: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ScenarioWarning)
        try:
            yield collected
        except ScenarioError as exc:
            if exc.file is None:
                exc.file = str(scenario)
            raise
        except PolicyError as exc:
            from paysim.policy.loader import INLINE

            if exc.file == INLINE:
                exc.file = f"{scenario} (an inline policy)"
            raise
    collected[:0] = [str(w.message) for w in caught if issubclass(w.category, ScenarioWarning)]
    if not quiet:
        for message in collected:
            typer.echo(f"warning: {message}", err=True)


def run(
    scenario: Annotated[
        Path,
        typer.Argument(
            metavar="SCENARIO", help="Scenario file: YAML, or JSON when it ends in .json."
        ),
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
    filter_event_type: FilterEventTypeOption = None,
    filter_agent: FilterAgentOption = None,
    filter_tx: FilterTxOption = None,
    filter_tick_range: FilterTickRangeOption = None,
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
    report: Annotated[
        Path | None,
        typer.Option(
            "--report",
            metavar="DIR",
            help="Write the run's report (paysim report) into DIR at the end.",
        ),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No warnings or progress on stderr.")
    ] = False,
    no_progress: Annotated[bool, typer.Option("--no-progress", help="No progress bar.")] = False,
    debug: DebugOption = False,
) -> None:
    """Run a scenario to the end.

    Filters apply to --format verbose and events.
    """
    from paysim.cli.parsing import parse_filter, parse_params, parse_policies
    from paysim.cli.progress import progress_bar, wanted
    from paysim.cli.store_cmds import run_session
    from paysim.simulation import Simulation
    from paysim.sinks import JsonlSink, run_with_sinks

    policies = parse_policies(policy or [])
    params = parse_params(param or [])
    event_filter = parse_filter(filter_event_type, filter_agent, filter_tx, filter_tick_range)
    stdout_sink = format_sink(output_format, event_filter)
    sinks = [stdout_sink, *extra_sinks(sink or [], output_format)]
    check_scenario_path(scenario)
    stored = persist, db
    if report is not None:  # the report reads the stored run (paysim.report, docs/report.md)
        from paysim.cli.report import prepare_run_report

        stored = prepare_run_report(report, persist, db, resume)
    session = run_session(*stored, resume)
    with scenario_messages(quiet, scenario) as messages:
        if session is None:
            sim = Simulation(str(scenario), seed=seed, days=days, policies=policies, params=params)
        else:
            sim = session.simulation(
                scenario, seed=seed, days=days, policies=policies, params=params
            )
        messages.extend(sim.warnings)
    check_filter_agent(event_filter.agent, sim)
    if session is not None:
        sinks += session.sinks(sim)
        if persist and not quiet:  # not for the temporary database of --report
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
            if isinstance(s, JsonlSink) and not s.uses_stdout:
                typer.echo(f"wrote {s.events_written} events to {s.path}", err=True)
    if streams:
        check_filter_tx(event_filter.tx, stdout_sink)
    if report is not None and session is not None and session.store is not None:
        from paysim.cli.report import write_run_report

        write_run_report(session.store, str(sim.simulation_id), report, quiet)
