"""``paysim db merge``: several store files (shards) combined into one.

DuckDB lets one process write a file, so processes that work at the same time — the workers of
a distributed ``paysim optimize``, runs started side by side — each write a file of their own.
:func:`merge` copies every row of every table of each shard into the target store, which it
creates (or migrates) like any writer:

* **by key**: a row whose key (the table's ``key``; for ``event_data``, ``(simulation_id, seq)``) is
  already in the target is not copied again, so merging a shard twice, or two shards that share
  rows, adds nothing the second time (merging is idempotent);
* **conflicts are refused**: a row whose key is in the target with *different* content means two
  shards disagree about the same thing (two runs given the same id, a trial recorded twice with
  different values). Nothing is written then, and the error names the table, the key, both files
  and the first differing column. One exception is not a conflict: a run that one file still
  shows ``running`` (its process was killed) and another shows ``interrupted`` (the next writer
  of that file recorded it) is the same run, in whichever order the two files come;
* **all or nothing**: every shard is merged in one transaction of the target;
* a shard of an older schema version is migrated in a temporary copy (the shard itself is never
  written) and merged from there, so every version's rows reach the target's layout exactly as a
  migration would put them (for instance version 3's ``event_data`` behind the ``events`` view);
  a newer one is refused. Shards are opened read-only: a shard whose process is still writing it
  is refused with that process's id, since its rows are not final.

After the merge, runs the shards left ``running`` are recorded ``interrupted`` in the target (with
their ``payments`` built from their complete days), as any writer does when it opens a file.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from paysim.exceptions import ArgumentError, StoreError, StoreNotFoundError
from paysim.store.connection import _check_header, _describe
from paysim.store.ddl import column_names
from paysim.store.migrations import SCHEMA_VERSION, check_readable
from paysim.store.models import TABLES, SchemaVersionRow, SimulationRow, Table

_ALIAS = "paysim_merge_source"
MERGE_KEYS: dict[str, tuple[str, ...]] = {
    "event_data": ("simulation_id", "seq"),
    "event_rows": ("run_key", "seq"),
}
"""Keys of the tables that declare none (``event_data`` has no key constraint: its natural key).
The views (``events``, ``payments``) are never merged: their tables are."""
_STALE = ("status", "ended_at", "error")
"""Columns in which a run a file shows ``running`` may differ from the same run recorded
``interrupted``."""


class MergeConflictError(StoreError, ArgumentError):
    """Two store files hold different rows under one key (bad input: exit 2 on the CLI)."""


def merge_key(model: type[Table]) -> tuple[str, ...]:
    """The columns that identify a row of ``model`` when merging."""
    key = model.key or MERGE_KEYS.get(model.table, ())
    if not key:
        raise TypeError(f"table {model.table} has no key to merge by: add one to MERGE_KEYS")
    return key


@dataclass
class ShardMerge:
    """What one shard added to the target: rows per table (tables it added nothing to omitted),
    and the rows it held that the target already had."""

    path: Path
    schema_version: int
    added: dict[str, int] = field(default_factory=dict)
    present: int = 0

    @property
    def rows(self) -> int:
        return sum(self.added.values())


@dataclass
class MergeResult:
    target: Path
    shards: list[ShardMerge]
    recovered: list[str]
    """Runs the shards left ``running``, recorded ``interrupted`` in the target."""


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except OSError:
        return False


def _fetch(con: duckdb.DuckDBPyConnection, query: str) -> list[tuple[object, ...]]:
    return con.execute(query).fetchall()


def _attach(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    """Attaches ``path`` read-only as the source; returns its schema version."""
    if not path.exists():
        raise StoreNotFoundError(f"no database at {path} (nothing to merge)")
    _check_header(path)
    try:
        con.execute(f"ATTACH {_q(str(path))} AS {_ALIAS} (READ_ONLY)")
    except duckdb.Error as exc:
        error = _describe(exc, path)
        if "in use by" in str(error):
            raise StoreError(
                f"{str(error).split(':')[0]}: its process is still writing it, so its rows are "
                "not final; merge it once that process has finished"
            ) from None
        raise error from None
    found = _fetch(
        con,
        "SELECT count(*) FROM information_schema.tables "
        f"WHERE table_catalog = {_q(_ALIAS)} AND table_name = {_q(SchemaVersionRow.table)}",
    )
    if found[0][0] == 0:
        raise StoreError(
            f"{path} is a DuckDB database but not a paysim store (it has no schema_version "
            "table); nothing was merged"
        )
    rows = _fetch(
        con,
        f"SELECT version, paysim_version FROM {_ALIAS}.{SchemaVersionRow.table} "
        "ORDER BY version DESC LIMIT 1",
    )
    if not rows:
        raise StoreError(f"{path} has an empty schema_version table; nothing was merged")
    version, written_by = int(str(rows[0][0])), str(rows[0][1])
    check_readable(version, written_by, str(path))
    return version


def _differs(columns: Sequence[str], key: Sequence[str]) -> str:
    return " OR ".join(f"s.{c} IS DISTINCT FROM m.{c}" for c in columns if c not in key) or "false"


def _conflict(
    con: duckdb.DuckDBPyConnection,
    model: type[Table],
    columns: Sequence[str],
    key: Sequence[str],
) -> tuple[list[object], str] | None:
    """The key of the first source row that differs from the target's row with that key, and
    the first column in which it differs."""
    on = " AND ".join(f"s.{k} = m.{k}" for k in key)
    differs = _differs(columns, key)
    if model is SimulationRow:
        rest = [c for c in columns if c not in _STALE]
        stale = (
            "(s.status = 'running' AND m.status = 'interrupted')"
            " OR (s.status = 'interrupted' AND m.status = 'running')"
        )
        differs = f"CASE WHEN {stale} THEN ({_differs(rest, key)}) ELSE ({differs}) END"
    columns_out = ", ".join(f"s.{c} IS DISTINCT FROM m.{c} AS d_{i}" for i, c in enumerate(columns))
    found = con.execute(
        f"SELECT {', '.join('s.' + k for k in key)}, {columns_out} "
        f"FROM {_ALIAS}.{model.table} s JOIN main.{model.table} m ON {on} "
        f"WHERE {differs} LIMIT 1"
    ).fetchall()
    if not found:
        return None
    row = found[0]
    flags = row[len(key) :]
    column = next((c for c, flag in zip(columns, flags, strict=True) if flag and c not in key), "?")
    return list(row[: len(key)]), column


def _merge_table(
    con: duckdb.DuckDBPyConnection, model: type[Table], version: int, source: Path, target: Path
) -> tuple[int, int]:
    """Copies the source's rows of ``model`` that the target lacks; returns (added, present)."""
    columns = column_names(model, version)
    key = merge_key(model)
    clash = _conflict(con, model, columns, key)
    if clash is not None:
        values, column = clash
        shown = ", ".join(f"{k}={v!r}" for k, v in zip(key, values, strict=True))
        raise MergeConflictError(
            f"cannot merge {source} into {target}: table {model.table} holds a different row "
            f"for ({shown}) in each (first difference in column `{column}`). Two files disagree "
            "about the same row (the same id used twice?); nothing was merged"
        )
    on = " AND ".join(f"s.{k} = m.{k}" for k in key)
    names = ", ".join(columns)
    total = _fetch(con, f"SELECT count(*) FROM {_ALIAS}.{model.table}")[0][0]
    added = _fetch(
        con,
        f"INSERT INTO main.{model.table} ({names}) "
        f"SELECT {', '.join('s.' + c for c in columns)} FROM {_ALIAS}.{model.table} s "
        f"WHERE NOT EXISTS (SELECT 1 FROM main.{model.table} m WHERE {on})",
    )[0][0]
    count = int(str(added))
    return count, int(str(total)) - count


@contextmanager
def _migrated_copy(shard: Path) -> Iterator[Path]:
    """A copy of an older shard (and its write-ahead log, if a killed writer left one), migrated
    to this paysim's schema version; deleted afterwards. The shard itself is not touched."""
    import paysim.store

    with tempfile.TemporaryDirectory(prefix="paysim-merge-") as folder:
        copy = Path(folder) / shard.name
        shutil.copyfile(shard, copy)
        wal = shard.with_name(shard.name + ".wal")
        if wal.exists():
            shutil.copyfile(wal, copy.with_name(copy.name + ".wal"))
        try:
            paysim.store.open(copy, write=True).close()
        except StoreError as exc:
            raise StoreError(
                f"cannot merge {shard}: migrating a copy of it failed: {exc}"
            ) from None
        yield copy


def _merge_tables(
    con: duckdb.DuckDBPyConnection, result: ShardMerge, shard: Path, out: Path
) -> None:
    """Merges every table of the attached source (of this paysim's schema version) into ``out``;
    views (``events``, ``payments`` since version 3) come with the tables they show."""
    for model in TABLES:
        if model is SchemaVersionRow:
            continue
        if model.view_since is not None and SCHEMA_VERSION >= model.view_since:
            continue
        added, present = _merge_table(con, model, SCHEMA_VERSION, shard, out)
        result.present += present
        if added:
            result.added[model.table] = added


def merge(target: str | os.PathLike[str], sources: Sequence[str | os.PathLike[str]]) -> MergeResult:
    """Merges the store files ``sources`` into ``target`` (created when missing, and removed
    again when the merge fails)."""
    out = Path(target)
    shards = [Path(s) for s in sources]
    if not shards:
        raise ArgumentError("give at least one store file to merge")
    for shard in shards:
        if _same(shard, out):
            raise ArgumentError(f"{shard} is the target of the merge; give it only as --db")
    seen: list[Path] = []
    for shard in shards:
        if any(_same(shard, s) for s in seen):
            raise ArgumentError(f"{shard} is given twice")
        seen.append(shard)
    for shard in shards:
        if not shard.exists():  # before the target is created
            raise StoreNotFoundError(f"no database at {shard} (nothing to merge)")
    created = not out.exists()
    try:
        return _merge_all(out, shards)
    except BaseException:
        if created:  # a failed merge leaves no empty store behind
            for leftover in (out, out.with_name(out.name + ".wal")):
                leftover.unlink(missing_ok=True)
        raise


def _check_run_keys(con: duckdb.DuckDBPyConnection, out: Path) -> None:
    """Refuses a merge that would put two runs under one run key (their events would mix; a
    chance of about n² / 2⁶¹): the whole merge is rolled back."""
    clash = con.execute(
        "SELECT run_key, min(simulation_id), max(simulation_id) FROM event_shapes "
        "GROUP BY run_key HAVING count(DISTINCT simulation_id) > 1 LIMIT 1"
    ).fetchall()
    if clash:
        _, first, second = clash[0]
        raise StoreError(
            f"cannot merge into {out}: runs {first} and {second} have the same run key; "
            "nothing was merged"
        )


def _merge_all(out: Path, shards: Sequence[Path]) -> MergeResult:
    import paysim.store

    results: list[ShardMerge] = []
    with paysim.store.open(out, write=True) as store:
        con = store.connection
        with store.transaction():
            for shard in shards:
                try:
                    version = _attach(con, shard)
                    result = ShardMerge(shard, version)
                    if version < SCHEMA_VERSION:
                        con.execute(f"DETACH {_ALIAS}")
                        with _migrated_copy(shard) as copy:
                            _attach(con, copy)
                            _merge_tables(con, result, shard, out)
                    else:
                        _merge_tables(con, result, shard, out)
                except duckdb.Error as exc:
                    raise StoreError(f"cannot merge {shard} into {out}: {exc}") from None
                finally:
                    try:
                        con.execute(f"DETACH {_ALIAS}")
                    except duckdb.Error:
                        pass  # not attached
                results.append(result)
            _check_run_keys(con, out)
        recovered = store.recover_interrupted()
    return MergeResult(out, results, recovered)


__all__ = ["MERGE_KEYS", "MergeConflictError", "MergeResult", "ShardMerge", "merge"]
