""":class:`Store`: one open database file and the queries over it (results are Arrow tables).

A process owns one connection per file (DuckDB allows one writing process per file, and no
other process may read it meanwhile); everything that reads or writes the file goes through the
:class:`Store` holding it. Query helpers return ``pyarrow.Table``s, so users pick their own
dataframe library (or none): ``pl.from_arrow(t)``, ``t.to_pandas()``, ``t.to_pylist()``.

**Run status.** A run is ``running`` while its writer works. A process killed with ``kill -9``
cannot record its end, so a run left ``running`` while no process writes it is reported as
``interrupted`` by every query, and the next writer that opens the file records it so. Within
one process, the runs this process is writing are known (:data:`_LIVE`), so they keep showing
``running``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import duckdb
import pyarrow as pa

from paysim.exceptions import StoreError
from paysim.store.migrations import Migration
from paysim.store.models import CheckpointRow, SimulationRow

_LIVE: set[str] = set()
"""Ids of the runs this process is writing now."""


class NotFoundError(StoreError):
    """No stored run or checkpoint has that id (or prefix), or several do."""


@dataclass(frozen=True)
class StoredCheckpoint:
    """A checkpoint read back from the store."""

    checkpoint_id: str
    simulation_id: str
    tick: int
    day: int
    kind: str
    config_hash: str
    data: bytes


_STATUS = (
    "CASE WHEN status = 'running' AND NOT list_contains($live::VARCHAR[], simulation_id) "
    "THEN 'interrupted' ELSE status END"
)


class Store:
    """An open store file. Use :func:`paysim.store.open` to get one; close it (or use ``with``)."""

    def __init__(
        self, path: Path, con: duckdb.DuckDBPyConnection, version: int, *, writable: bool
    ) -> None:
        self.path = path
        self.writable = writable
        self.schema_version = version
        self.migrations_applied: list[Migration] = []
        """The migrations this open applied (a writer migrates an older file)."""
        self._con: duckdb.DuckDBPyConnection | None = con

    # -- connection -------------------------------------------------------------------------

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The DuckDB connection (for SQL of your own; the store owns it, do not close it)."""
        if self._con is None:
            raise StoreError(f"the store {self.path} is closed")
        return self._con

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def execute(self, query: str, params: Sequence[object] | dict[str, object] = ()) -> None:
        """Runs a statement (writers only use this; errors become :class:`StoreError`)."""
        try:
            self.connection.execute(query, params or None)
        except duckdb.Error as exc:
            raise StoreError(f"{self.path}: {exc}") from None

    def sql(self, query: str, params: Sequence[object] | dict[str, object] = ()) -> pa.Table:
        """The result of a query as an Arrow table."""
        try:
            rel = self.connection.sql(query, params=params or None)
            if rel is None:
                raise StoreError(f"not a query: {query!r}")
            table: pa.Table = rel.to_arrow_table()
        except duckdb.Error as exc:
            raise StoreError(f"{self.path}: {exc}") from None
        return table

    def rows(
        self, query: str, params: Sequence[object] | dict[str, object] = ()
    ) -> list[dict[str, object]]:
        """The result of a query as a list of dicts."""
        rows: list[dict[str, object]] = self.sql(query, params).to_pylist()
        return rows

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """``BEGIN`` … ``COMMIT``, rolled back if the block raises."""
        self.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.rollback()
            raise
        self.execute("COMMIT")

    def rollback(self) -> None:
        try:
            self.connection.execute("ROLLBACK")
        except duckdb.Error:
            pass  # no transaction was open

    # -- runs -------------------------------------------------------------------------------

    def resolve_simulation(self, ref: str) -> str:
        """The full id of the run ``ref`` names: its id, or a prefix only it has."""
        return self._resolve(SimulationRow.table, "simulation_id", ref, "simulation")

    def resolve_checkpoint(self, ref: str) -> str:
        return self._resolve(CheckpointRow.table, "checkpoint_id", ref, "checkpoint")

    def _resolve(self, table: str, column: str, ref: str, what: str) -> str:
        ref = ref.strip()
        if not ref:
            raise NotFoundError(f"an empty {what} id")
        found = self.rows(
            f"SELECT {column} AS id FROM {table} WHERE starts_with({column}, ?) "
            f"ORDER BY {column} LIMIT 6",
            [ref],
        )
        ids = [str(r["id"]) for r in found]
        if ref in ids:
            return ref
        if len(ids) == 1:
            return ids[0]
        if not ids:
            lister = "paysim db list" if what == "simulation" else "paysim checkpoint list"
            raise NotFoundError(f"no {what} `{ref}` in {self.path} (`{lister}` shows them)")
        shown = ", ".join(ids[:5]) + (", ..." if len(ids) > 5 else "")
        raise NotFoundError(f"{what} id `{ref}` is ambiguous in {self.path}: {shown}")

    def simulations(self, status: str | None = None, limit: int | None = None) -> pa.Table:
        """Stored runs, oldest first: id, times, scenario, seed, status, progress, total cost."""
        where = "" if status is None else "WHERE status = $status"
        query = (
            "SELECT * FROM (SELECT simulation_id, started_at, ended_at, scenario, seed, "
            f"{_STATUS} AS status, days, days_done, ticks_per_day, event_count, total_cost, "
            "settlement_rate, parent_simulation_id, resumed_from FROM simulations) "
            f"{where} ORDER BY simulation_id" + ("" if limit is None else " LIMIT $limit")
        )
        params: dict[str, object] = {"live": sorted(_LIVE)}
        if status is not None:
            params["status"] = status
        if limit is not None:
            params["limit"] = limit
        return self.sql(query, params)

    def simulation(self, ref: str) -> dict[str, object]:
        """One run's row (``status`` as it stands now; ``summary``, ``run_info``, ``overrides``
        parsed from JSON)."""
        sim_id = self.resolve_simulation(ref)
        rows = self.rows(
            f"SELECT * EXCLUDE (status), {_STATUS} AS status FROM simulations "
            "WHERE simulation_id = $id",
            {"id": sim_id, "live": sorted(_LIVE)},
        )
        row = rows[0]
        for key in ("summary", "run_info", "overrides", "config_json"):
            value = row.get(key)
            if isinstance(value, str):
                row[key] = json.loads(value)
        return row

    # -- events and metrics -----------------------------------------------------------------

    def events(
        self,
        ref: str,
        *,
        tick_min: int | None = None,
        tick_max: int | None = None,
        event_types: Sequence[str] | None = None,
    ) -> pa.Table:
        """A run's events in ``seq`` order (the columns of ``paysim run --format events``)."""
        query, params = self._events_query(ref, tick_min, tick_max, event_types)
        return self.sql(query, params)

    def _events_query(
        self,
        ref: str,
        tick_min: int | None,
        tick_max: int | None,
        event_types: Sequence[str] | None,
    ) -> tuple[str, dict[str, object]]:
        params: dict[str, object] = {"id": self.resolve_simulation(ref)}
        where = ["simulation_id = $id"]
        if tick_min is not None:
            where.append("tick >= $tick_min")
            params["tick_min"] = tick_min
        if tick_max is not None:
            where.append("tick <= $tick_max")
            params["tick_max"] = tick_max
        if event_types is not None:
            where.append("list_contains($types::VARCHAR[], event_type)")
            params["types"] = list(event_types)
        query = (
            "SELECT seq, tick, day, event_type, tx_id, agent_id, counterparty_id, amount, "
            f"details::VARCHAR AS details FROM events WHERE {' AND '.join(where)} ORDER BY seq"
        )
        return query, params

    def event_batches(
        self,
        ref: str,
        *,
        tick_min: int | None = None,
        tick_max: int | None = None,
        event_types: Sequence[str] | None = None,
        batch_rows: int = 65_536,
    ) -> Iterator[pa.RecordBatch]:
        """A run's events in ``seq`` order, streamed in record batches."""
        query, params = self._events_query(ref, tick_min, tick_max, event_types)
        try:
            rel = self.connection.sql(query, params=params)
            assert rel is not None
            reader = rel.to_arrow_reader(batch_rows)
            yield from reader
        except duckdb.Error as exc:
            raise StoreError(f"{self.path}: {exc}") from None

    def _per_run(self, table: str, ref: str, order: str, agent: str | None = None) -> pa.Table:
        params: dict[str, object] = {"id": self.resolve_simulation(ref)}
        where = "simulation_id = $id"
        if agent is not None:
            where += " AND agent_id = $agent"
            params["agent"] = agent
        return self.sql(f"SELECT * FROM {table} WHERE {where} ORDER BY {order}", params)

    def daily_metrics(self, ref: str) -> pa.Table:
        """One row per committed day: the system's counts and cost."""
        return self._per_run("daily_metrics", ref, "day")

    def daily_agent_metrics(self, ref: str, agent: str | None = None) -> pa.Table:
        """One row per bank per committed day (balances, payments, queues, costs)."""
        return self._per_run("daily_agent_metrics", ref, "day, agent_id", agent)

    def tick_metrics(self, ref: str) -> pa.Table:
        """One row per tick of the committed days."""
        return self._per_run("tick_metrics", ref, "tick")

    def agent_tick_metrics(self, ref: str, agent: str | None = None) -> pa.Table:
        """Per bank, the ticks in which its balance moved or it paid a cost."""
        return self._per_run("agent_tick_metrics", ref, "agent_id, tick", agent)

    def payments(self, ref: str) -> pa.Table:
        """One row per original payment with its final state."""
        return self._per_run("payments", ref, "arrival_tick, tx_id")

    def agents(self, ref: str) -> pa.Table:
        return self._per_run("agents", ref, "position")

    def costs(self, ref: str, agent: str | None = None) -> pa.Table:
        """Cost per bank per day by component (cents), by day and bank."""
        params: dict[str, object] = {"id": self.resolve_simulation(ref)}
        where = "m.simulation_id = $id"
        if agent is not None:
            where += " AND m.agent_id = $agent"
            params["agent"] = agent
        return self.sql(
            "SELECT m.day, m.agent_id, m.cost_overdraft AS overdraft, m.cost_delay AS delay, "
            "m.cost_collateral AS collateral, m.cost_liquidity AS liquidity, "
            "m.cost_deadline_penalty AS deadline_penalty, m.cost_eod_penalty AS eod_penalty, "
            "m.cost_drop_penalty AS drop_penalty, m.cost_split_friction AS split_friction, "
            f"m.cost_total AS total FROM daily_agent_metrics m WHERE {where} "
            "ORDER BY m.day, m.agent_id",
            params,
        )

    # -- checkpoints ------------------------------------------------------------------------

    def checkpoints(self, ref: str | None = None) -> pa.Table:
        """Stored checkpoints (without their bytes), by run and tick."""
        params: dict[str, object] = {}
        where = ""
        if ref is not None:
            where = "WHERE simulation_id = $id"
            params["id"] = self.resolve_simulation(ref)
        return self.sql(
            "SELECT checkpoint_id, simulation_id, tick, day, kind, config_hash, size_bytes, "
            f"created_at FROM checkpoints {where} ORDER BY simulation_id, tick, checkpoint_id",
            params,
        )

    def checkpoint(self, ref: str) -> StoredCheckpoint:
        """One checkpoint with its bytes."""
        ck_id = self.resolve_checkpoint(ref)
        row = self.rows(
            "SELECT checkpoint_id, simulation_id, tick, day, kind, config_hash, data "
            "FROM checkpoints WHERE checkpoint_id = ?",
            [ck_id],
        )[0]
        data = row["data"]
        assert isinstance(data, bytes)
        return StoredCheckpoint(
            checkpoint_id=str(row["checkpoint_id"]),
            simulation_id=str(row["simulation_id"]),
            tick=int(str(row["tick"])),
            day=int(str(row["day"])),
            kind=str(row["kind"]),
            config_hash=str(row["config_hash"]),
            data=data,
        )

    # -- recovery ---------------------------------------------------------------------------

    def recover_interrupted(self) -> list[str]:
        """Records as ``interrupted`` the runs left ``running`` by a process that is gone
        (a writer holds the file, so no other process is writing them). Returns their ids.
        (Their ``payments`` are those of their complete days: a view over the stored events.)"""
        stale = [
            str(r["simulation_id"])
            for r in self.rows(
                "SELECT simulation_id FROM simulations WHERE status = 'running' "
                "ORDER BY simulation_id"
            )
            if r["simulation_id"] not in _LIVE
        ]
        for sim_id in stale:
            with self.transaction():
                self.execute(
                    "UPDATE simulations SET status = 'interrupted', ended_at = updated_at, "
                    "error = 'its process stopped after day ' || days_done || ' without "
                    "recording an end (killed?); found by the next writer' "
                    "WHERE simulation_id = ?",
                    [sim_id],
                )
        return stale
