"""Store figures (make bench): what ``paysim run --persist`` costs on a 100-bank, 5-day run.

Targets (issue #13): the extra wall time of ``--persist`` over the same run without it below
30%, and at least 2,000,000 events persisted per second. Printed: the run without persisting
(``--format summary``: no events leave the engine), the same run persisted into a fresh DuckDB
file, the time spent in the store sink (inserting events, deriving the day tables, checkpoints,
commits, the payments table), events per second, the file size, and how fast the stored run is
read back (the events of a day, and the per-day and per-tick aggregates a report reads).
"""

from __future__ import annotations

import io
import tempfile
import time
from collections.abc import Mapping
from contextlib import redirect_stdout
from pathlib import Path

import paysim.store
from paysim.hookspecs import OutputSink
from paysim.simulation import Simulation
from paysim.sinks import ConsoleSink, run_with_sinks
from paysim.store import StoreSink

SCENARIO = Path(__file__).resolve().parent / "throughput_100.yaml"
DAYS = 5


class Timed:
    """Forwards to a sink and adds up the time spent in it."""

    def __init__(self, inner: StoreSink) -> None:
        self.inner = inner
        self.name = inner.name
        self.wants_events = True
        self.seconds = 0.0

    def _t(self, start: float) -> None:
        self.seconds += time.perf_counter() - start

    def open(self, run_info: Mapping[str, object]) -> None:
        t = time.perf_counter()
        self.inner.open(run_info)
        self._t(t)

    def write_events(self, batch: object) -> None:
        t = time.perf_counter()
        self.inner.write_events(batch)
        self._t(t)

    def end_of_day(self, day: int, day_summary: Mapping[str, object]) -> None:
        t = time.perf_counter()
        self.inner.end_of_day(day, day_summary)
        self._t(t)

    def close(self, summary: Mapping[str, object]) -> None:
        t = time.perf_counter()
        self.inner.close(summary)
        self._t(t)


class Drain:
    """Takes every event and does nothing with it: the cost of exporting them."""

    name = "drain"
    wants_events = True

    def open(self, run_info: Mapping[str, object]) -> None:
        return None

    def write_events(self, batch: object) -> None:
        return None

    def end_of_day(self, day: int, day_summary: Mapping[str, object]) -> None:
        return None

    def close(self, summary: Mapping[str, object]) -> None:
        return None


def timed_run(extra: list[OutputSink]) -> tuple[float, float]:
    """Wall and CPU seconds of the run with the summary console sink and ``extra``."""
    sim = Simulation(SCENARIO, days=DAYS)
    t, c = time.perf_counter(), time.process_time()
    with redirect_stdout(io.StringIO()):
        run_with_sinks(sim, [ConsoleSink(mode="summary"), *extra])
    return time.perf_counter() - t, time.process_time() - c


def persisted_run(db: Path) -> tuple[float, float, float, int, str]:
    sim = Simulation(SCENARIO, days=DAYS)
    t, c = time.perf_counter(), time.process_time()
    with paysim.store.open(db, write=True) as store:
        sink = Timed(StoreSink(store, sim))
        with redirect_stdout(io.StringIO()):
            run_with_sinks(sim, [ConsoleSink(mode="summary"), sink])
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    return wall, cpu, sink.seconds, sink.inner.events_written, sink.inner.simulation_id


def main(repeats: int = 3) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        plain, plain_cpu = min(timed_run([]) for _ in range(repeats))
        drained, drained_cpu = min(timed_run([Drain()]) for _ in range(repeats))
        best: tuple[float, float, float, int, str] | None = None
        db = Path(tmp) / "bench.duckdb"
        for i in range(repeats):
            result = persisted_run(Path(tmp) / f"run{i}.duckdb")
            if best is None or result[0] < best[0]:
                best, db = result, Path(tmp) / f"run{i}.duckdb"
        assert best is not None
        wall, cpu, in_sink, events, sid = best
        extra = wall - plain
        print(f"store: 100 banks x {DAYS} days (1,000 ticks a day), best of {repeats}")
        print(f"  run without --persist        {plain:8.3f} s wall {plain_cpu:8.3f} s CPU")
        print(
            f"  same, exporting every event  {drained:8.3f} s wall {drained_cpu:8.3f} s CPU "
            "(what persisting must do at least)"
        )
        print(
            f"  run with --persist           {wall:8.3f} s wall {cpu:8.3f} s CPU   "
            f"extra wall {100 * extra / plain:+.0f}% (target < +30%)"
        )
        print(
            f"  events persisted             {events:,}: {events / extra / 1e6:.2f} M per extra "
            f"second of wall time (target >= 2.00); the sink held the run for {in_sink:.3f} s"
        )
        print(f"  database file                {db.stat().st_size / 1e6:.1f} MB")
        with paysim.store.open(db) as store:
            t = time.perf_counter()
            day = store.events(sid, tick_min=2000, tick_max=2999)
            t_day = time.perf_counter() - t
            t = time.perf_counter()
            metrics = store.daily_agent_metrics(sid)
            ticks = store.tick_metrics(sid)
            balances = store.agent_tick_metrics(sid, agent="BANK_0000")
            costs = store.costs(sid)
            t_agg = time.perf_counter() - t
        rows = metrics.num_rows + ticks.num_rows + balances.num_rows + costs.num_rows
        print(f"  read back: one day's events  {day.num_rows:,} rows in {t_day:.3f} s")
        print(
            f"  read back: report tables     {rows:,} rows (daily, tick, balance, cost) "
            f"in {t_agg:.3f} s"
        )


if __name__ == "__main__":
    main()
