"""The store sink: writes a run into the database as it runs (``paysim run --persist``).

It follows the sink protocol of :mod:`paysim.sinks` and holds the :class:`~paysim.Simulation`
it records (for the engine's checkpoints and the per-bank counters of each day):

* ``open`` commits the run's row (status ``running``), its banks and a ``start`` checkpoint,
  then opens the first day's transaction;
* ``write_events`` buffers the Arrow batches and appends them with DuckDB's Arrow scan
  (``INSERT INTO events SELECT … FROM batch``) once the buffer is large, never row by row;
* ``end_of_day`` appends the rest of the day's events, derives the day's tables
  (:mod:`paysim.store.derive`), stores an ``end_of_day`` checkpoint (except after the last
  day), records the progress and **commits**, and returns once the commit is done: one
  transaction per simulated day, so a run that dies leaves whole days only, and every day whose
  end the sinks have seen;
* ``close`` builds the payments table, records the summary and ``completed``, and returns once
  everything is committed;
* ``abort`` rolls the unfinished day back and records ``interrupted`` (Ctrl-C) or ``failed``.

The event appends run on a :class:`~paysim.store.worker.Worker` thread, in order, so the
engine simulates the rest of the day while the first part is written. What must be read from
the engine at a given moment (its summary, its checkpoint) is read on the calling thread first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping

import duckdb
import pyarrow as pa

from paysim.exceptions import StoreError
from paysim.simulation import Simulation
from paysim.store import derive, rows
from paysim.store.ids import new_id
from paysim.store.models import AgentRow, DailyAgentMetricsRow, DailyMetricsRow, SimulationRow
from paysim.store.store import _LIVE, Store
from paysim.store.worker import Worker

ROW_GROUP = 122_880
"""DuckDB's row group size: appends of whole row groups avoid rewriting partial ones."""
FLUSH_ROWS = 2 * ROW_GROUP
"""Events buffered before they are appended (DuckDB appends large batches much faster)."""

_INSERT_EVENTS = (
    "INSERT INTO events (simulation_id, seq, tick, day, event_type, tx_id, agent_id, "
    "counterparty_id, amount, details) SELECT $sid, seq, tick, day, event_type, tx_id, "
    "agent_id, counterparty_id, amount, details FROM {name}"
)


def _begin(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("BEGIN TRANSACTION")


class StoreSink:
    """Writes the run of ``sim`` into ``store`` (which must be open for writing)."""

    name = "store"
    wants_events = True

    def __init__(
        self,
        store: Store,
        sim: Simulation,
        *,
        overrides: Mapping[str, object] | None = None,
        parent_simulation_id: str | None = None,
        resumed_from: str | None = None,
        checkpoints: bool = True,
        flush_rows: int = FLUSH_ROWS,
    ) -> None:
        if not store.writable:
            raise StoreError(f"{store.path} is open read-only; a run needs it open for writing")
        self.store = store
        self.sim = sim
        if sim.simulation_id is None:
            sim.simulation_id = new_id()
        self.simulation_id: str = sim.simulation_id
        self.overrides = dict(overrides or {})
        self.parent_simulation_id = parent_simulation_id
        self.resumed_from = resumed_from
        self.checkpoints = checkpoints
        self.flush_rows = flush_rows
        self.config_hash = hashlib.sha256(sim.config_json.encode()).hexdigest()
        self.events_written = 0
        self._buffer: list[pa.RecordBatch] = []
        self._buffered = 0
        self._day_events = 0
        self._committed = 0
        self._before: dict[str, object] = {}
        self._start_tick = 0
        self._worker: Worker | None = None

    def _fail(self, what: str, exc: duckdb.Error) -> StoreError:
        return StoreError(f"{self.store.path}: cannot {what} (run {self.simulation_id}): {exc}")

    def _submit(self, what: str, job: Callable[[duckdb.DuckDBPyConnection], None]) -> None:
        con = self.store.connection

        def run() -> None:
            try:
                job(con)
            except duckdb.Error as exc:
                raise self._fail(what, exc) from None

        assert self._worker is not None
        self._worker.submit(run)

    # -- open -------------------------------------------------------------------------------

    def open(self, run_info: Mapping[str, object]) -> None:
        sim, sid = self.sim, self.simulation_id
        self._before = sim.summary()
        self._start_tick = sim.current_tick
        con = self.store.connection
        try:
            with self.store.transaction():
                row = rows.simulation_row(
                    sim,
                    sid,
                    run_info,
                    self._before,
                    config_hash=self.config_hash,
                    overrides=self.overrides,
                    parent_simulation_id=self.parent_simulation_id,
                    resumed_from=self.resumed_from,
                )
                rows.insert_row(con, SimulationRow.table, row)
                rows.insert_table(con, AgentRow.table, rows.agent_rows(sim, sid))
                rows.store_checkpoint(
                    con,
                    sid,
                    sim.checkpoint(),
                    tick=sim.current_tick,
                    ticks_per_day=sim.ticks_per_day,
                    kind="start",
                    config_hash=self.config_hash,
                )
        except duckdb.Error as exc:
            raise self._fail("record the run", exc) from None
        _LIVE.add(sid)
        self._worker = Worker(con)
        self._submit("open the first day", _begin)

    # -- events -----------------------------------------------------------------------------

    def write_events(self, batch: object) -> None:
        assert isinstance(batch, pa.RecordBatch)
        if batch.num_rows == 0:
            return
        self._buffer.append(batch)
        self._buffered += batch.num_rows
        self._day_events += batch.num_rows
        self.events_written += batch.num_rows
        if self._buffered >= self.flush_rows:
            self._flush(whole_row_groups=True)

    def _flush(self, *, whole_row_groups: bool = False) -> None:
        """Appends the buffered events (only whole row groups of them, keeping the rest, when
        the day is not over)."""
        if not self._buffer:
            return
        # One contiguous chunk: DuckDB's Arrow scan appends it much faster than many small ones.
        data = pa.Table.from_batches(self._buffer).combine_chunks()
        keep = data.num_rows % ROW_GROUP if whole_row_groups else 0
        rest = data.slice(data.num_rows - keep)
        data = data.slice(0, data.num_rows - keep)
        self._buffer = rest.to_batches() if keep else []
        self._buffered = keep
        if data.num_rows == 0:
            return
        sid = self.simulation_id

        def append(con: duckdb.DuckDBPyConnection) -> None:
            name = "_paysim_events"
            con.register(name, data)
            try:
                con.execute(_INSERT_EVENTS.format(name=name), {"sid": sid})
            finally:
                con.unregister(name)

        self._submit("store events", append)

    # -- end of day -------------------------------------------------------------------------

    def end_of_day(self, day: int, day_summary: Mapping[str, object]) -> None:
        self._flush()
        sim, sid = self.sim, self.simulation_id
        before, after = self._before, sim.summary()
        tpd = sim.ticks_per_day
        # A run resumed in the middle of a day starts its first day at the checkpoint's tick.
        t0, t1 = max(day * tpd, self._start_tick), (day + 1) * tpd
        checkpoint = sim.checkpoint() if self.checkpoints and not sim.done else None
        events = self._day_events
        self._committed += events
        committed = self._committed
        day_info = dict(day_summary)
        opening = {
            a: rows.i(rows.d(v)["final_balance"]) for a, v in rows.d(before["agents"]).items()
        }

        def commit_day(con: duckdb.DuckDBPyConnection) -> None:
            derive.tick_metrics(con, sid, day, t0, t1)
            derive.agent_tick_metrics(con, sid, day, t0, t1, opening)
            lows = derive.min_balances(con, sid, day)
            table = rows.agent_day_rows(sid, day, before, after, lows)
            rows.insert_table(con, DailyAgentMetricsRow.table, table)
            row = rows.day_row(sid, day, before, after, day_info, events)
            rows.insert_row(con, DailyMetricsRow.table, row)
            if checkpoint is not None:
                rows.store_checkpoint(
                    con,
                    sid,
                    checkpoint,
                    tick=t1,
                    ticks_per_day=tpd,
                    kind="end_of_day",
                    config_hash=self.config_hash,
                )
            con.execute(
                "UPDATE simulations SET ticks_done = ?, days_done = ?, event_count = ?, "
                "updated_at = ? WHERE simulation_id = ?",
                [t1, day + 1, committed, rows.utcnow(), sid],
            )
            con.execute("COMMIT")
            con.execute("BEGIN TRANSACTION")

        self._submit(f"store day {day}", commit_day)
        # The day is durable before the run goes on: whatever happens next, every day whose end
        # a sink has seen is in the file.
        assert self._worker is not None
        self._worker.wait()
        self._before = after
        self._day_events = 0

    # -- end of run -------------------------------------------------------------------------

    def close(self, summary: Mapping[str, object]) -> None:
        self._flush()
        sid = self.simulation_id
        totals = rows.d(summary["totals"])
        # Events after the last end of day cannot happen in a complete run; should one come,
        # it is counted rather than lost.
        self._committed += self._day_events
        values = [
            rows.utcnow(),
            rows.json_text(summary),
            totals["total_cost"],
            totals["settlement_rate"],
            self._committed,
            sid,
        ]

        def complete(con: duckdb.DuckDBPyConnection) -> None:
            derive.payments(con, sid)
            con.execute(
                "UPDATE simulations SET status = 'completed', ended_at = $1, updated_at = $1, "
                "summary = $2, total_cost = $3, settlement_rate = $4, event_count = $5 "
                "WHERE simulation_id = $6",
                values,
            )
            con.execute("COMMIT")

        worker = self._worker
        assert worker is not None
        try:
            self._submit("complete the run", complete)
            worker.wait()
        finally:
            worker.stop()
            _LIVE.discard(sid)

    def abort(self, error: BaseException) -> None:
        """Rolls back the unfinished day and records why the run stopped."""
        self._buffer, self._buffered = [], 0
        _LIVE.discard(self.simulation_id)
        if self._worker is not None:
            # Days whose end was reached are complete: their commits still run. Only the
            # unfinished day is rolled back.
            self._worker.stop()
        self.store.rollback()
        interrupted = isinstance(error, KeyboardInterrupt)
        message = "interrupted (Ctrl-C)" if interrupted else f"{type(error).__name__}: {error}"
        con = self.store.connection
        with self.store.transaction():
            derive.payments(con, self.simulation_id)
            con.execute(
                "UPDATE simulations SET status = ?, ended_at = ?, error = ? "
                "WHERE simulation_id = ?",
                [
                    "interrupted" if interrupted else "failed",
                    rows.utcnow(),
                    message,
                    self.simulation_id,
                ],
            )
