"""``paysim db init|migrate|list|show|export|costs|merge``: the database of stored runs.

Thin shells over :mod:`paysim.store`; duckdb and the store are imported inside the commands so
``paysim --help`` stays fast. An unknown run id (or an ambiguous prefix) is bad input (exit 2);
a database that cannot be read or written is a :class:`~paysim.StoreError` (exit 1).
Amounts in the text tables are currency units; JSON keeps integer cents.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from paysim.cli.errors import DebugOption

if TYPE_CHECKING:
    from rich.console import Console

    from paysim.store.session import RunSession

DEFAULT_DB = Path("paysim.duckdb")

DbOption = Annotated[
    Path, typer.Option("--db", metavar="PATH", help="Database file.", show_default=True)
]


class TextOrJson(StrEnum):
    text = "text"
    json = "json"


class RunStatus(StrEnum):
    running = "running"
    completed = "completed"
    interrupted = "interrupted"
    failed = "failed"


FormatOption = Annotated[TextOrJson, typer.Option("--format", "-f", help="text or json.")]


@contextmanager
def bad_ids(hint: str) -> Iterator[None]:
    """Turns an unknown or ambiguous id into a usage error (exit 2) naming ``hint``."""
    from paysim.store import NotFoundError

    try:
        yield
    except NotFoundError as exc:
        raise typer.BadParameter(str(exc), param_hint=hint) from None


def console() -> Console:
    """Standard output for tables: fixed width 120 when it is not a terminal (as ``run``)."""
    from rich.console import Console

    terminal = sys.stdout.isatty()
    return Console(
        file=None if terminal else sys.stdout, width=None if terminal else 120, highlight=False
    )


def _jsonable(value: object) -> object:
    return value.isoformat(sep=" ") if isinstance(value, datetime) else value


def dump(value: object) -> None:
    typer.echo(json.dumps(value, indent=2, default=_jsonable))


db_app = typer.Typer(
    name="db",
    help="Manage and query the database of stored runs.",
    no_args_is_help=True,
)


@db_app.command("init")
def init_cmd(db: DbOption = DEFAULT_DB, debug: DebugOption = False) -> None:
    """Create the database (or bring an existing one up to date)."""
    from paysim.store import open as open_store

    existed = db.exists()
    with open_store(db, write=True) as store:
        version = store.schema_version
    typer.echo(f"{'up to date' if existed else 'created'}: {db} (schema version {version})")


@db_app.command("migrate")
def migrate_cmd(db: DbOption = DEFAULT_DB, debug: DebugOption = False) -> None:
    """Migrate an existing database to this paysim's schema (nothing is dropped)."""
    from paysim.exceptions import StoreNotFoundError
    from paysim.store import open as open_store

    if not db.exists():
        raise StoreNotFoundError(f"no database at {db} (`paysim db init` creates one)")
    with open_store(db, write=True) as store:
        applied, version = store.migrations_applied, store.schema_version
    for m in applied:
        typer.echo(f"{db}: applied migration {m.version}: {m.description}")
    typer.echo(f"{db}: schema version {version}" + ("" if applied else ", up to date"))


@db_app.command("list")
def list_cmd(
    db: DbOption = DEFAULT_DB,
    output_format: FormatOption = TextOrJson.text,
    status: Annotated[
        RunStatus | None, typer.Option("--status", help="Only runs with this status.")
    ] = None,
    debug: DebugOption = False,
) -> None:
    """List the stored runs: id, scenario, seed, status, days, total cost."""
    from rich import box
    from rich.table import Table

    from paysim.sinks.verbose import money
    from paysim.store import open as open_store

    with open_store(db) as store:
        rows = store.simulations(status=None if status is None else status.value).to_pylist()
    if output_format is TextOrJson.json:
        dump(rows)
        return
    table = Table(
        title=f"Runs in {db}",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        collapse_padding=True,
        pad_edge=False,
    )
    table.add_column("simulation", no_wrap=True, min_width=36)
    table.add_column("started (UTC)", no_wrap=True)
    table.add_column("scenario", overflow="ellipsis", no_wrap=True, max_width=24)
    table.add_column("seed", justify="right")
    table.add_column("status", no_wrap=True)
    table.add_column("days", justify="right", no_wrap=True)
    table.add_column("cost", justify="right", no_wrap=True)
    for r in rows:
        started = r["started_at"]
        table.add_row(
            str(r["simulation_id"]),
            started.strftime("%Y-%m-%d %H:%M") if isinstance(started, datetime) else "",
            str(r["scenario"] or "<in memory>"),
            str(r["seed"]),
            str(r["status"]),
            f"{r['days_done']}/{r['days']}",
            "" if r["total_cost"] is None else money(r["total_cost"]),
        )
    console().print(table)


@db_app.command("show")
def show_cmd(
    simulation_id: Annotated[str, typer.Argument(metavar="SIM_ID", help="Run id or prefix.")],
    db: DbOption = DEFAULT_DB,
    output_format: FormatOption = TextOrJson.text,
    debug: DebugOption = False,
) -> None:
    """Show one stored run: its status and its run summary."""
    from paysim.sinks.render import print_summary
    from paysim.store import open as open_store

    with open_store(db) as store, bad_ids("SIM_ID"):
        row = store.simulation(simulation_id)
        checkpoints = store.checkpoints(str(row["simulation_id"])).num_rows
    keys = (
        "simulation_id", "status", "scenario", "seed", "days", "days_done", "ticks_per_day",
        "start_tick", "event_count", "started_at", "ended_at", "parent_simulation_id",
        "resumed_from", "paysim_version", "engine_version", "config_hash", "error", "summary",
    )  # fmt: skip
    info = {k: row.get(k) for k in keys}
    info["checkpoints"] = checkpoints
    if output_format is TextOrJson.json:
        dump(info)
        return
    for key in keys[:-1]:
        value = info[key]
        if value is not None:
            typer.echo(f"{key:21} {_jsonable(value)}")
    typer.echo(f"{'checkpoints':21} {checkpoints}")
    summary = row.get("summary")
    if isinstance(summary, dict):
        print_summary(console(), summary)
    else:
        typer.echo("(no run summary: the run did not complete)")


@db_app.command("export")
def export_cmd(
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="File for one table, else a directory."),
    ],
    tables: Annotated[
        list[str] | None, typer.Argument(metavar="[TABLE]...", help="Tables (default: all).")
    ] = None,
    simulation: Annotated[
        str | None, typer.Option("--simulation", "-s", help="Only this run's rows.")
    ] = None,
    export_format: Annotated[
        str | None, typer.Option("--format", "-f", help="parquet or csv (default: by suffix).")
    ] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace existing files.")] = False,
    db: DbOption = DEFAULT_DB,
    debug: DebugOption = False,
) -> None:
    """Export tables, or one run's rows of them, to Parquet or CSV (DuckDB COPY)."""
    from paysim.store import open as open_store
    from paysim.store.export import export

    with open_store(db) as store, bad_ids("TABLE/--simulation"):
        done = export(
            store,
            output,
            tables=tables or [],
            simulation=simulation,
            fmt=export_format,
            overwrite=overwrite,
        )
    for item in done:
        typer.echo(f"wrote {item.rows} rows of {item.table} to {item.path}", err=True)


@db_app.command("costs")
def costs_cmd(
    simulation_id: Annotated[str, typer.Argument(metavar="SIM_ID", help="Run id or prefix.")],
    agent: Annotated[str | None, typer.Option("--agent", help="Only this bank.")] = None,
    db: DbOption = DEFAULT_DB,
    output_format: FormatOption = TextOrJson.text,
    debug: DebugOption = False,
) -> None:
    """Cost per bank per day, by component."""
    from rich import box
    from rich.table import Table

    from paysim.sinks.verbose import money
    from paysim.store import open as open_store

    with open_store(db) as store, bad_ids("SIM_ID"):
        rows = store.costs(simulation_id, agent=agent).to_pylist()
    if output_format is TextOrJson.json:
        dump(rows)
        return
    table = Table(
        title="Costs per bank per day, currency units (deadline, eod, drop: penalties; "
        "split: friction)",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        collapse_padding=True,
        pad_edge=False,
    )
    names = list(rows[0]) if rows else ["day", "agent_id", "total"]
    for name in names:
        header = {"agent_id": "agent", "deadline_penalty": "deadline", "eod_penalty": "eod"}.get(
            name, name.split("_")[0]
        )
        table.add_column(header, justify="left" if name == "agent_id" else "right", no_wrap=True)
    for r in rows:
        table.add_row(*(str(r[n]) if n in ("day", "agent_id") else money(r[n]) for n in names))
    console().print(table)


@db_app.command("merge")
def merge_cmd(
    shards: Annotated[
        list[Path], typer.Argument(metavar="SHARD...", help="Store files to merge into --db.")
    ],
    db: DbOption = DEFAULT_DB,
    output_format: FormatOption = TextOrJson.text,
    debug: DebugOption = False,
) -> None:
    """Merge store files (e.g. distributed workers' shards) into --db; merging again adds
    nothing, and rows that differ under one key are refused."""
    from paysim.store.merge import merge

    result = merge(db, shards)
    rows = [
        {"shard": str(s.path), "schema_version": s.schema_version, "added": s.added,
         "already_present": s.present}
        for s in result.shards
    ]  # fmt: skip
    if output_format is TextOrJson.json:
        dump({"db": str(db), "shards": rows, "recovered_interrupted": result.recovered})
        return
    for s in result.shards:
        detail = ", ".join(f"{table} {n}" for table, n in s.added.items())
        typer.echo(
            f"{s.path}: {s.rows} rows added" + (f" ({detail})" if detail else "")
            + f", {s.present} already in {db}"
        )  # fmt: skip
    for sim_id in result.recovered:
        typer.echo(f"{sim_id}: left running by a killed process; recorded interrupted")


def run_session(persist: bool, db: Path | None, resume: str | None) -> RunSession | None:
    """The database side of ``paysim run`` for ``--persist``, ``--db`` and ``--resume`` (``None``
    when none is given); closed when the command ends."""
    if not persist and resume is None:
        if db is not None:
            raise typer.BadParameter(
                "--db names the database of --persist or --resume; give one of them",
                param_hint="'--db'",
            )
        return None
    from typer._click.globals import get_current_context

    from paysim.store.session import RunSession

    session = RunSession(db or DEFAULT_DB, persist=persist, resume=resume)
    session.lookup_errors = lambda: bad_ids("'--resume'")
    ctx = get_current_context(silent=True)
    if ctx is not None:
        ctx.call_on_close(session.close)
    return session


def register(app: typer.Typer) -> None:
    """Adds ``paysim db`` to the CLI."""
    app.add_typer(db_app, name="db")
