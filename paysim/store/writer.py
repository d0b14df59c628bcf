"""The store sink: writes a run into the database as it runs (``paysim run --persist``).

It follows the sink protocol of :mod:`paysim.sinks` and holds the :class:`~paysim.Simulation`
it records (for the engine's events, checkpoints and the per-bank counters of each day):

* ``open`` commits the run's row (status ``running``), its banks and a ``start`` checkpoint,
  then opens the first day's transaction;
* ``take_events`` reads each step's events from the engine in the stored form (ids as numbers,
  details as a shape and its integers: :func:`paysim.events.stored_events_table`, made on the
  engine's side of the GIL) and appends them with DuckDB's Arrow scan
  (``INSERT INTO event_rows SELECT … FROM batch``) a row group at a time, never row by row,
  with the run's new ``event_shapes``; ``write_events`` takes text batches instead (for callers
  that drive the sink by hand) and converts them (:mod:`paysim.store.coding`);
* ``end_of_day`` appends the rest of the day's events and queues the day's **commit**: its
  derived tables (:mod:`paysim.store.derive`), an ``end_of_day`` checkpoint (except after the
  last day) and the run's progress, in the transaction that holds the day's events. One
  transaction per simulated day, so a run that dies leaves whole days only;
* ``close`` records the summary and ``completed``, and returns once everything is committed
  (``payments`` is a view over the stored events: nothing to build);
* ``abort`` lets the commits of the days that ended run, rolls the unfinished day back and
  records ``interrupted`` (Ctrl-C) or ``failed``.

The database work runs on a :class:`~paysim.store.worker.Worker` thread, in order, while the
engine simulates: the engine may run one day ahead of the file. ``end_of_day(d)`` returns once
day ``d - 1`` is committed, so when day ``d + 1`` starts every day before ``d`` is durable, and
a day counts as stored once its commit has run (a process killed outright keeps the days
committed by then; ``--resume`` continues from the last end-of-day checkpoint in the file).
What must be read from the engine at a given moment (its summary, its checkpoint) is read on the
calling thread first.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from paysim import _core
from paysim.events import (
    BALANCE_MOVES_SCHEMA,
    TICK_COUNTS_SCHEMA,
    stored_events_table,
    tick_aggregates,
)
from paysim.exceptions import StoreError
from paysim.simulation import Simulation
from paysim.store import derive, rows
from paysim.store.coding import shapes_table, stored_from_text
from paysim.store.ids import new_id, run_key
from paysim.store.models import AgentRow, DailyAgentMetricsRow, DailyMetricsRow, SimulationRow
from paysim.store.store import _LIVE, Store
from paysim.store.worker import Inline, Worker

ROW_GROUP = 122_880
"""DuckDB's row group size: appends of whole row groups avoid rewriting partial ones."""
FLUSH_ROWS = 2 * ROW_GROUP
"""Events buffered before they are appended (DuckDB appends large batches much faster)."""
EXPORT_ROWS = 65_536
"""Events read from the engine at a time."""

_INSERT_EVENTS = (
    "INSERT INTO event_rows (run_key, seq, tick, day, shape, tx_key, agent_index, "
    "counterparty_index, amount, n0, n1, n2) SELECT $key, seq, tick, day, shape, tx_key, "
    "agent_index, counterparty_index, amount, n0, n1, n2 FROM {name}"
)
_INSERT_SHAPES = (
    "INSERT INTO event_shapes (simulation_id, run_key, shape, event_type, parts) "
    "SELECT $sid, $key, shape, event_type, parts FROM {name}"
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
        background: bool = True,
        ahead: int = 1,
    ) -> None:
        if not store.writable:
            raise StoreError(f"{store.path} is open read-only; a run needs it open for writing")
        self.store = store
        self.sim = sim
        if sim.simulation_id is None:
            sim.simulation_id = new_id()
        self.simulation_id: str = sim.simulation_id
        self.run_key = run_key(self.simulation_id)
        """What the run's events are stored under (``event_rows.run_key``)."""
        self.overrides = dict(overrides or {})
        self.parent_simulation_id = parent_simulation_id
        self.resumed_from = resumed_from
        self.checkpoints = checkpoints
        self.flush_rows = max(1, flush_rows)
        self.background = background
        self.ahead = max(0, ahead)
        """Days the engine may run ahead of the file: ``end_of_day(d)`` returns once day
        ``d - ahead`` is committed (0: once day ``d`` itself is)."""
        self.timings: dict[str, float] = {}
        """Seconds spent per kind of work, for benchmarks: on the run's thread ``export`` and
        ``waiting`` (for the database thread: a full queue, the commit of the day before, the
        end of the run); on the database thread ``append``, ``day tables``, ``commit`` and
        ``complete``."""
        self.config_hash = hashlib.sha256(sim.config_json.encode()).hexdigest()
        self.agent_ids: list[str] = [a["id"] for a in json.loads(sim.config_json)["agents"]]
        """The run's banks in scenario order: their ``agents.position``."""
        position = {a: i for i, a in enumerate(self.agent_ids)}
        self._engine_ids: list[str] = list(sim._engine.agent_ids())
        # The engine numbers its agents in its own order; the store by scenario position.
        self._positions = pa.array([position[a] for a in self._engine_ids], pa.int32())
        self._shapes = _core.DetailShapes(self._positions.to_pylist())
        """The run's details shapes (and the engine's agents renumbered to positions)."""
        self._new_shapes: list[tuple[int, int, str]] = []
        self.events_written = 0
        self._buffer: list[pa.Table] = []
        self._buffered = 0
        self._day_events = 0
        self._committed = 0
        self._before: dict[str, object] = {}
        self._start_tick = 0
        self._balances: list[int] = []
        """Each bank's balance (in the engine's order) where the events read so far leave
        it."""
        self._counts: list[pa.Table] = []
        self._moves: list[pa.Table] = []
        self._aggregated = True
        """Whether every event of the day came from the engine with its aggregates."""
        self._worker: Worker | Inline | None = None
        self._day_commits: list[int] = []
        """Tickets of the days' commit jobs, in order."""

    @contextmanager
    def _timed(self, what: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[what] = self.timings.get(what, 0.0) + time.perf_counter() - start

    def _fail(self, what: str, exc: duckdb.Error) -> StoreError:
        return StoreError(f"{self.store.path}: cannot {what} (run {self.simulation_id}): {exc}")

    def _submit(self, what: str, job: Callable[[duckdb.DuckDBPyConnection], None]) -> int:
        con = self.store.connection

        def run() -> None:
            try:
                job(con)
            except duckdb.Error as exc:
                raise self._fail(what, exc) from None

        assert self._worker is not None
        if not self.background:  # the job runs now: its own timings say where the time went
            return self._worker.submit(run)
        with self._timed("waiting"):
            return self._worker.submit(run)

    # -- open -------------------------------------------------------------------------------

    def open(self, run_info: Mapping[str, object]) -> None:
        sim, sid = self.sim, self.simulation_id
        self._before = sim.summary()
        self._balances = self._opening_balances(self._before)
        self._start_tick = sim.current_tick
        con = self.store.connection
        try:
            with self.store.transaction():
                # Two runs under one key would mix their events (a chance of about n² / 2⁶¹).
                clash = con.execute(
                    "SELECT simulation_id FROM event_shapes WHERE run_key = ? "
                    "AND simulation_id <> ? LIMIT 1",
                    [self.run_key, sid],
                ).fetchall()
                if clash:
                    raise StoreError(
                        f"{self.store.path}: run {sid} has the run key of run {clash[0][0]}; "
                        "nothing was written (run it again: it gets a new id)"
                    )
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
        self._worker = Worker() if self.background else Inline()
        self._submit("open the first day", _begin)

    # -- events -----------------------------------------------------------------------------

    def take_events(self, sim: Simulation, start_seq: int, stop_seq: int) -> None:
        """Reads events ``[start_seq, stop_seq)`` from the engine, in the stored form, with
        their per-tick aggregates (the run's steps end on tick boundaries)."""
        with self._timed("export"):
            self._take_aggregates(sim, start_seq, stop_seq)
            tables = []
            seq = start_seq
            while seq < stop_seq:
                n = min(EXPORT_ROWS, stop_seq - seq)
                table = stored_events_table(sim._engine, self._shapes, seq, n)
                if table.num_rows == 0:
                    break
                tables.append(table)
                seq += table.num_rows
            self._new_shapes.extend(self._shapes.take_new())
        for table in tables:
            self._add(table)

    def _take_aggregates(self, sim: Simulation, start_seq: int, stop_seq: int) -> None:
        """Keeps the per-tick counts and balance movements of events ``[start_seq, stop_seq)``
        for the day's tables."""
        counts, moves, self._balances = tick_aggregates(
            sim._engine, start_seq, stop_seq, self._balances
        )
        self._counts.append(counts)
        self._moves.append(self._by_position(moves, "agent_index"))

    def _by_position(self, table: pa.Table, column: str) -> pa.Table:
        """``table`` with the engine's agent indices in ``column`` made scenario positions."""
        i = table.schema.get_field_index(column)
        field = table.schema.field(i)
        return table.set_column(i, field, pc.take(self._positions, table.column(i)))

    def write_events(self, batch: object) -> None:
        """Takes events in the text form (``paysim run --format events`` columns)."""
        assert isinstance(batch, pa.RecordBatch | pa.Table)
        if batch.num_rows:
            self._add(stored_from_text(batch, self.agent_ids, self._shapes))
            self._new_shapes.extend(self._shapes.take_new())
            self._aggregated = False

    def _add(self, table: pa.Table) -> None:
        self._buffer.append(table)
        self._buffered += table.num_rows
        self._day_events += table.num_rows
        self.events_written += table.num_rows
        if self._buffered >= self.flush_rows:
            self._flush(whole=True)

    def _flush(self, *, whole: bool = False) -> None:
        """Appends the buffered events (only whole multiples of ``flush_rows`` of them, keeping
        the rest, when the day is not over)."""
        key = self.run_key
        shapes = self._shapes_table()
        if shapes is not None:
            sid = self.simulation_id

            def add_shapes(con: duckdb.DuckDBPyConnection) -> None:
                name = "_paysim_shapes"
                with self._timed("append"):
                    con.register(name, shapes)
                    try:
                        con.execute(_INSERT_SHAPES.format(name=name), {"sid": sid, "key": key})
                    finally:
                        con.unregister(name)

            self._submit("store event shapes", add_shapes)
        if not self._buffer:
            return
        # One contiguous chunk: DuckDB's Arrow scan appends it much faster than many small ones.
        data = pa.concat_tables(self._buffer).combine_chunks()
        keep = data.num_rows % self.flush_rows if whole else 0
        rest = data.slice(data.num_rows - keep)
        data = data.slice(0, data.num_rows - keep)
        self._buffer = [rest] if keep else []
        self._buffered = keep
        if data.num_rows == 0:
            return
        sid = self.simulation_id

        def append(con: duckdb.DuckDBPyConnection) -> None:
            name = "_paysim_events"
            with self._timed("append"):
                con.register(name, data)
                try:
                    con.execute(_INSERT_EVENTS.format(name=name), {"key": key})
                finally:
                    con.unregister(name)

        self._submit("store events", append)

    def _shapes_table(self) -> pa.Table | None:
        """The shapes found since the last flush (``None`` when there is none)."""
        if not self._new_shapes:
            return None
        new, self._new_shapes = self._new_shapes, []
        return shapes_table(new)

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
        opening_of = rows.d(before["agents"])
        opening = [(a, rows.i(rows.d(opening_of[a])["final_balance"])) for a in self.agent_ids]
        counts = moves = None
        if self._aggregated:
            counts = pa.concat_tables([TICK_COUNTS_SCHEMA.empty_table(), *self._counts])
            moves = pa.concat_tables([BALANCE_MOVES_SCHEMA.empty_table(), *self._moves])
        self._counts, self._moves, self._aggregated = [], [], True

        def commit_day(con: duckdb.DuckDBPyConnection) -> None:
            with self._timed("day tables"):
                derive.tick_metrics(con, sid, day, t0, t1, counts)
                derive.agent_tick_metrics(con, sid, day, t0, t1, opening, moves)
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
            with self._timed("commit"):
                con.execute("COMMIT")
            con.execute("BEGIN TRANSACTION")

        self._day_commits.append(self._submit(f"store day {day}", commit_day))
        # The engine runs at most `ahead` days ahead of the file: with 1, the day before this
        # one is durable before the next one starts.
        assert self._worker is not None
        if len(self._day_commits) > self.ahead:
            with self._timed("waiting"):
                self._worker.wait(self._day_commits[-1 - self.ahead])
        self._before = after
        # The engine's own balances open the next day (the events' account of them agrees).
        self._balances = self._opening_balances(after)
        self._day_events = 0

    def _opening_balances(self, summary: Mapping[str, object]) -> list[int]:
        """Each bank's balance in ``summary``, in the engine's order."""
        agents = rows.d(summary["agents"])
        return [rows.i(rows.d(agents[a])["final_balance"]) for a in self._engine_ids]

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
            with self._timed("complete"):
                con.execute(
                    "UPDATE simulations SET status = 'completed', ended_at = $1, "
                    "updated_at = $1, summary = $2, total_cost = $3, settlement_rate = $4, "
                    "event_count = $5 WHERE simulation_id = $6",
                    values,
                )
                con.execute("COMMIT")

        worker = self._worker
        assert worker is not None
        try:
            self._submit("complete the run", complete)
            with self._timed("waiting"):
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
