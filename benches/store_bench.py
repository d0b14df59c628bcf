"""Store figures (make bench): what ``paysim run --persist`` costs on a 100-bank, 5-day run.

Targets (issue #13): the extra wall time of ``--persist`` over the same run without it below
30%, and at least 2,000,000 events persisted per second of that extra wall time. Printed, as
medians of several runs taken in turn (so a change in the machine's load hits every kind of run
alike), with the load average: the run without persisting (``--format summary``: no event
leaves the engine), the same run exporting every event to a sink that drops them, and the run
persisted into a fresh DuckDB file (opened and closed, as ``paysim run --persist`` does); wall
and CPU seconds of each. Two probes split the persisted run's extra time: the same run stored
with everything but its events (run rows, checkpoints, the per-day and per-tick tables, one
transaction a day), and the same run also turning every event into the stored form, which is
then dropped instead of appended. Then where a persisted run's time goes, measured on one more
run with the database work done in line (no overlap): engine, export, appending events, day
tables, commits. Last, how fast the stored run is read back.

``python benches/store_bench.py --repeats N`` changes the number of runs per kind (default 5).
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
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


class WithoutEvents(StoreSink):
    """Probe: stores the run as ``--persist`` does but for its events (the per-tick tables
    still come from the engine's aggregates of them)."""

    def take_events(self, sim: Simulation, start_seq: int, stop_seq: int) -> None:
        with self._timed("export"):
            self._take_aggregates(sim, start_seq, stop_seq)


class EventsDropped(StoreSink):
    """Probe: stores the run as ``--persist`` does, exporting its events in the stored form,
    but drops them where they would be appended."""

    def _flush(self, *, whole: bool = False) -> None:
        self._shapes_table()
        self._buffer, self._buffered = [], 0


Sample = tuple[float, float]
"""Wall and CPU seconds."""


def timed_run(extra: list[OutputSink]) -> Sample:
    """The run with the summary console sink and ``extra``."""
    sim = Simulation(SCENARIO, days=DAYS)
    t, c = time.perf_counter(), time.process_time()
    with redirect_stdout(io.StringIO()):
        run_with_sinks(sim, [ConsoleSink(mode="summary"), *extra])
    return time.perf_counter() - t, time.process_time() - c


def persisted_run(
    db: Path, *, background: bool = True, kind: type[StoreSink] = StoreSink
) -> tuple[Sample, StoreSink]:
    """The run persisted into the fresh file ``db`` (opened and closed within the timing)."""
    sim = Simulation(SCENARIO, days=DAYS)
    t, c = time.perf_counter(), time.process_time()
    with paysim.store.open(db, write=True) as store:
        sink = kind(store, sim, background=background)
        with redirect_stdout(io.StringIO()):
            run_with_sinks(sim, [ConsoleSink(mode="summary"), sink])
    return (time.perf_counter() - t, time.process_time() - c), sink


def _median(samples: list[Sample]) -> Sample:
    return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)


def _line(label: str, samples: list[Sample], note: str = "") -> str:
    wall, cpu = _median(samples)
    low = min(s[0] for s in samples)
    return f"  {label:30s} {wall:7.3f} s wall (min {low:6.3f}) {cpu:7.3f} s CPU{note}"


def _read_back(db: Path, sid: str) -> None:
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
        t = time.perf_counter()
        by_type = store.sql(
            "SELECT event_type, count(*) AS n, sum(amount) AS value FROM events "
            "WHERE simulation_id = ? GROUP BY event_type",
            [sid],
        )
        t_query = time.perf_counter() - t
        t = time.perf_counter()
        payments = store.payments(sid)
        t_pay = time.perf_counter() - t
        t = time.perf_counter()
        delays = store.sql(
            "SELECT sender_id, avg(delay_ticks) AS delay FROM payments "
            "WHERE simulation_id = ? GROUP BY sender_id",
            [sid],
        )
        t_delay = time.perf_counter() - t
    rows = metrics.num_rows + ticks.num_rows + balances.num_rows + costs.num_rows
    print(f"  read back: one day's events  {day.num_rows:,} rows in {t_day:.3f} s")
    print(
        f"  read back: report tables     {rows:,} rows (daily, tick, balance, cost) "
        f"in {t_agg:.3f} s"
    )
    print(f"  query: events by type        {by_type.num_rows} rows in {t_query:.3f} s")
    print(f"  read back: payments (a view) {payments.num_rows:,} rows in {t_pay:.3f} s")
    print(f"  query: mean delay by sender  {delays.num_rows} rows in {t_delay:.3f} s")


def main(repeats: int = 5) -> None:
    load_before = os.getloadavg()[0]
    plain: list[Sample] = []
    drained: list[Sample] = []
    persisted: list[Sample] = []
    probes: dict[type[StoreSink], list[Sample]] = {WithoutEvents: [], EventsDropped: []}
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "run0.duckdb"
        sink: StoreSink | None = None
        for i in range(repeats):
            plain.append(timed_run([]))
            drained.append(timed_run([Drain()]))
            path = Path(tmp) / f"run{i}.duckdb"
            sample, sink = persisted_run(path)
            persisted.append(sample)
            db = path
            for kind, samples in probes.items():
                samples.append(
                    persisted_run(Path(tmp) / f"{kind.__name__}{i}.duckdb", kind=kind)[0]
                )
        assert sink is not None
        load_after = os.getloadavg()[0]
        events = sink.events_written
        base, base_cpu = _median(plain)
        wall, cpu = _median(persisted)
        extra = wall - base
        print(
            f"store: 100 banks x {DAYS} days (1,000 ticks a day), {events:,} events; "
            f"median of {repeats} runs each; load average {load_before:.2f} before, "
            f"{load_after:.2f} after (2 cores: {os.cpu_count()})"
        )
        print(_line("run without --persist", plain))
        print(_line("same, exporting every event", drained, " (a sink that drops them)"))
        print(
            _line("run with --persist", persisted, f"  extra wall {100 * extra / base:+.0f}%")
            + " (target < +30%)"
        )
        for label, kind in (
            ("  probe: all but the events", WithoutEvents),
            ("  probe: + export, not stored", EventsDropped),
        ):
            part = _median(probes[kind])[0] - base
            print(_line(label, probes[kind], f"  extra wall {100 * part / base:+.0f}%"))
        print(
            f"  events persisted             {events / extra / 1e6:.2f} M per extra second of "
            f"wall time (target >= 2.00); database file {db.stat().st_size / 1e6:.1f} MB"
        )
        print(
            f"  in CPU time                  {cpu - base_cpu:.2f} s extra "
            f"({100 * (cpu - base_cpu) / base_cpu:+.0f}%), {events / (cpu - base_cpu) / 1e6:.2f} M "
            "events per extra CPU second (steadier than wall time on a busy machine)"
        )
        (in_line, in_cpu), inline_sink = persisted_run(
            Path(tmp) / "inline.duckdb", background=False
        )
        parts = ", ".join(f"{k} {v:.2f}" for k, v in sorted(inline_sink.timings.items()))
        print(
            f"  one run with the database work in line: {in_line:.2f} s wall, {in_cpu:.2f} s "
            f"CPU; seconds in {parts}"
        )
        _read_back(db, sink.simulation_id)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    main(parser.parse_args().repeats)
