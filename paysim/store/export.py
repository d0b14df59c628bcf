"""Exporting tables, or one run's rows of them, to Parquet or CSV with DuckDB's ``COPY``.

Files are written as every paysim output is (:mod:`paysim.outputs`): each target is checked
first (never an existing file unless ``overwrite``, never the database itself), DuckDB writes a
temporary file beside it, and the files are renamed into place only once every ``COPY`` has
succeeded; on any failure the temporary files are removed and nothing is left half-written.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from paysim.outputs import AtomicOutput, OutputError
from paysim.store.models import TABLES, Table
from paysim.store.store import NotFoundError, Store

FORMATS = ("parquet", "csv")
_BY_NAME: dict[str, type[Table]] = {t.table: t for t in TABLES}


@dataclass(frozen=True)
class Exported:
    table: str
    path: Path
    rows: int


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _format_of(path: Path, fmt: str | None) -> str:
    if fmt is not None:
        if fmt not in FORMATS:
            raise OutputError(f"unknown export format {fmt!r}; expected parquet or csv")
        return fmt
    return "csv" if path.suffix.lower() == ".csv" else "parquet"


def _tables(names: Sequence[str], simulation: str | None) -> list[type[Table]]:
    if not names:
        chosen = [t for t in TABLES if t.exported]
    else:
        chosen = []
        for name in names:
            if name not in _BY_NAME:
                known = ", ".join(sorted(_BY_NAME))
                raise NotFoundError(f"no table `{name}`; the tables are {known}")
            chosen.append(_BY_NAME[name])
    if simulation is not None:
        per_run = [t for t in chosen if "simulation_id" in t.model_fields]
        if names and len(per_run) < len(chosen):
            other = next(t.table for t in chosen if t not in per_run)
            raise NotFoundError(f"table `{other}` has no rows per run; drop --simulation")
        chosen = per_run
    return chosen


def _query(model: type[Table], simulation: str | None) -> str:
    where = "" if simulation is None else f" WHERE simulation_id = {_quote(simulation)}"
    seq_ordered = "seq" in model.model_fields
    order = "simulation_id, seq" if seq_ordered else ", ".join(model.key)
    return f"SELECT * FROM {model.table}{where}" + (f" ORDER BY {order}" if order else "")


def export(
    store: Store,
    output: str | Path,
    *,
    tables: Sequence[str] = (),
    simulation: str | None = None,
    fmt: str | None = None,
    overwrite: bool = False,
) -> list[Exported]:
    """Exports ``tables`` (all when empty), only run ``simulation``'s rows when given.

    One table goes to the file ``output``; several go to the directory ``output`` (created when
    missing), one ``<table>.<format>`` file each.
    """
    sim_id = None if simulation is None else store.resolve_simulation(simulation)
    chosen = _tables(tables, sim_id)
    target = Path(output)
    if len(tables) == 1:
        kind = _format_of(target, fmt)
        plan = [(chosen[0], target)]
    else:
        kind = fmt or "parquet"
        _format_of(target, kind)
        if target.exists() and not target.is_dir():
            raise OutputError(f"export of several tables: {target} must be a directory")
        if not target.parent.is_dir():
            raise OutputError(f"export: directory {target.parent} does not exist")
        target.mkdir(exist_ok=True)
        plan = [(model, target / f"{model.table}.{kind}") for model in chosen]
    outputs = [
        (model, AtomicOutput(path, overwrite=overwrite, inputs=[store.path], what="export file"))
        for model, path in plan
    ]
    options = "FORMAT parquet" if kind == "parquet" else "FORMAT csv, HEADER true"
    done: list[Exported] = []
    try:
        for model, out in outputs:
            query = _query(model, sim_id)
            store.execute(f"COPY ({query}) TO {_quote(str(out.temp_path))} ({options})")
            count = store.rows(f"SELECT count(*) AS n FROM ({query})")[0]["n"]
            done.append(Exported(model.table, out.path, int(str(count))))
        for _, out in outputs:
            out.commit()
    except BaseException:
        for _, out in outputs:
            with contextlib.suppress(OSError):
                out.discard()
        raise
    return done
