"""``paysim checkpoint save|load|list|delete``: engine checkpoints kept in the database.

* ``save SIM_ID --tick N`` stores a checkpoint of a stored run at tick N: the run's nearest
  earlier checkpoint is restored with the run's stored engine config and run to N (runs are
  deterministic, so this is the state the run had then);
* ``load CHECKPOINT_ID --output FILE`` writes a checkpoint's bytes to a file, for
  ``paysim.Simulation.restore(scenario, data)``;
* ``list [SIM_ID]`` and ``delete CHECKPOINT_ID...``.

``paysim run SCENARIO --resume CHECKPOINT_ID`` continues a run from a stored checkpoint.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from paysim.cli.errors import DebugOption
from paysim.cli.store_cmds import DEFAULT_DB, DbOption, FormatOption, TextOrJson, bad_ids, dump

checkpoint_app = typer.Typer(
    name="checkpoint",
    help="Engine checkpoints in the database.",
    no_args_is_help=True,
)


@checkpoint_app.command("list")
def list_cmd(
    simulation_id: Annotated[
        str | None, typer.Argument(metavar="[SIM_ID]", help="Only this run's checkpoints.")
    ] = None,
    db: DbOption = DEFAULT_DB,
    output_format: FormatOption = TextOrJson.text,
    debug: DebugOption = False,
) -> None:
    """List stored checkpoints: id, run, tick, day, kind, size."""
    from rich.table import Table

    from paysim.cli.store_cmds import console
    from paysim.store import open as open_store

    with open_store(db) as store, bad_ids("SIM_ID"):
        rows = store.checkpoints(simulation_id).to_pylist()
    if output_format is TextOrJson.json:
        dump(rows)
        return
    table = Table(title=f"Checkpoints in {db}", title_justify="left")
    for header in ("checkpoint", "simulation", "tick", "day", "kind", "bytes"):
        table.add_column(header, justify="right" if header in ("tick", "day", "bytes") else "left")
    for r in rows:
        table.add_row(
            str(r["checkpoint_id"]),
            str(r["simulation_id"]),
            str(r["tick"]),
            str(r["day"]),
            str(r["kind"]),
            f"{r['size_bytes']:,}",
        )
    console().print(table)


@checkpoint_app.command("save")
def save_cmd(
    simulation_id: Annotated[str, typer.Argument(metavar="SIM_ID", help="Run id or prefix.")],
    tick: Annotated[int, typer.Option("--tick", min=0, help="Tick of the checkpoint.")],
    db: DbOption = DEFAULT_DB,
    debug: DebugOption = False,
) -> None:
    """Store a checkpoint of a stored run at a tick (re-simulated from its nearest checkpoint)."""
    from paysim.store import checkpoints
    from paysim.store import open as open_store

    with open_store(db, write=True) as store, bad_ids("SIM_ID/--tick"):
        saved = checkpoints.save(store, simulation_id, tick)
    typer.echo(saved.checkpoint_id)
    typer.echo(
        f"saved checkpoint of run {saved.simulation_id} at tick {saved.tick} "
        f"({saved.size_bytes:,} bytes, run from the checkpoint at tick {saved.from_tick})",
        err=True,
    )


@checkpoint_app.command("load")
def load_cmd(
    checkpoint_id: Annotated[str, typer.Argument(metavar="CHECKPOINT_ID", help="Id or prefix.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write the bytes to.")],
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an existing file.")
    ] = False,
    db: DbOption = DEFAULT_DB,
    debug: DebugOption = False,
) -> None:
    """Write a checkpoint's bytes to a file (for Simulation.restore)."""
    from paysim.store import checkpoints
    from paysim.store import open as open_store

    with open_store(db) as store, bad_ids("CHECKPOINT_ID"):
        ck_id, path = checkpoints.write_file(store, checkpoint_id, output, overwrite=overwrite)
    typer.echo(f"wrote checkpoint {ck_id} to {path}", err=True)


@checkpoint_app.command("delete")
def delete_cmd(
    checkpoint_ids: Annotated[
        list[str], typer.Argument(metavar="CHECKPOINT_ID...", help="Ids or prefixes.")
    ],
    db: DbOption = DEFAULT_DB,
    debug: DebugOption = False,
) -> None:
    """Delete checkpoints."""
    from paysim.store import checkpoints
    from paysim.store import open as open_store

    with open_store(db, write=True) as store, bad_ids("CHECKPOINT_ID"):
        deleted = checkpoints.delete(store, checkpoint_ids)
    for ck_id in deleted:
        typer.echo(f"deleted checkpoint {ck_id}", err=True)


def register(app: typer.Typer) -> None:
    """Adds ``paysim checkpoint`` to the CLI."""
    app.add_typer(checkpoint_app, name="checkpoint")
