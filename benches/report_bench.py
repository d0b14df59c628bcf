"""Report figures (make bench): ``paysim report`` of a 100-bank, 5-day stored run.

Target (issue #17): under 10 s for the report of a stored run of 100 banks over 5 days. The run
is the store bench's (``throughput_100.yaml``: 1,000 ticks a day, one payment per bank per tick,
about 2.5 M events) with its opening balances cut from 10 bn to 15,000.00, so that queues build
up, the LSM settles cycles and offsets and every cost figure has something to draw (the ample
original leaves most figures nearly empty, which would flatter the timing). It is persisted once
into a temporary DuckDB file; then the report is written several times (best of ``repeats``)
and the time is split into reading the store, drawing the figures (matplotlib ``Figure``
objects) and rendering and writing the files. The whole ``paysim report`` command is timed as a
process too (Python start-up and imports included). CPU seconds are printed beside wall seconds:
on a shared machine they say more.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
import time
from contextlib import redirect_stdout
from pathlib import Path

import paysim.store
from paysim.report import DEFAULT_TOP
from paysim.report.build import write_report
from paysim.report.render import rendering
from paysim.report.run_data import read_run
from paysim.report.run_report import run_report
from paysim.simulation import Simulation
from paysim.sinks import ConsoleSink, run_with_sinks
from paysim.store import StoreSink

SCENARIO = Path(__file__).resolve().parent / "throughput_100.yaml"
DAYS = 5
TARGET = 10.0


def scenario(tmp: Path) -> Path:
    """The throughput scenario with lean opening balances."""
    text = SCENARIO.read_text().replace(
        "opening_balance: 1000000000000", "opening_balance: 1500000"
    )
    assert text.count("opening_balance: 1500000") == 100
    path = tmp / "report_100.yaml"
    path.write_text(text)
    return path


def persist(db: Path, path: Path) -> tuple[str, int]:
    sim = Simulation(path, days=DAYS)
    with paysim.store.open(db, write=True) as store:
        sink = StoreSink(store, sim)
        with redirect_stdout(io.StringIO()):
            run_with_sinks(sim, [ConsoleSink(mode="summary"), sink])
        return sink.simulation_id, sink.events_written


def timed(fn: object) -> tuple[float, float, object]:
    assert callable(fn)
    t, c = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - t, time.process_time() - c, result


def one_report(db: Path, sid: str, out: Path, formats: list[str]) -> dict[str, float]:
    times: dict[str, float] = {}
    with paysim.store.open(db) as store, rendering():
        w, c, _ = timed(lambda: read_run(store, sid, top=DEFAULT_TOP))
        times["read"] = w
        w, c2, report = timed(lambda: run_report(store, sid, top=DEFAULT_TOP))
        times["read+draw"] = w
        assert report is not None
        w, c3, _ = timed(lambda: write_report(report, out, formats, overwrite=True))  # type: ignore[arg-type]
        times["render+write"] = w
        times["cpu"] = c2 + c3
    times["total"] = times["read+draw"] + times["render+write"]
    return times


def cli_report(db: Path, sid: str, out: Path) -> tuple[float, float]:
    paysim_bin = Path(sys.executable).with_name("paysim")
    t = time.perf_counter()
    before = os.times()
    subprocess.run(
        [str(paysim_bin), "report", sid, "--db", str(db), "--output", str(out), "--overwrite"],
        check=True,
        capture_output=True,
    )
    after = os.times()
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return time.perf_counter() - t, cpu


def main(repeats: int = 3) -> None:
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        t = time.perf_counter()
        sid, events = persist(db, scenario(Path(tmp)))
        persisted = time.perf_counter() - t
        print(
            f"report: 100 lean banks x {DAYS} days (1,000 ticks a day, {events:,} events; "
            f"persisted in {persisted:.1f} s), load average {load:.1f}, best of {repeats}"
        )
        for formats in (["html"], ["html", "png", "pdf"]):
            best: dict[str, float] | None = None
            for i in range(repeats):
                times = one_report(db, sid, Path(tmp) / f"out{i}", formats)
                if best is None or times["total"] < best["total"]:
                    best = times
            assert best is not None
            size = sum(p.stat().st_size for p in (Path(tmp) / "out0").iterdir())
            print(
                f"  --format {','.join(formats):<14} {best['total']:6.2f} s wall "
                f"{best['cpu']:6.2f} s CPU  (store reads {best['read']:.2f} s, figures "
                f"{best['read+draw'] - best['read']:.2f} s, render and write "
                f"{best['render+write']:.2f} s; {size / 1e6:.1f} MB)"
            )
        wall, cpu = min(cli_report(db, sid, Path(tmp) / f"cli{i}") for i in range(repeats))
        verdict = "met" if wall < TARGET else "NOT met"
        print(
            f"  `paysim report SIM_ID` process {wall:6.2f} s wall {cpu:6.2f} s CPU "
            f"(target < {TARGET:.0f} s: {verdict})"
        )


if __name__ == "__main__":
    main()
