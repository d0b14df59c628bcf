"""Python-side figures (make bench): the cost of driving the engine from Python, and the speedup
of ``run_many`` on engine threads over running the same seeds one after another.

Targets (issue: Python bindings): ``Simulation.run()`` within 5% of the engine alone for a
100-bank day; ``run_many`` over 8 seeds on 2 cores at least 1.6x faster than sequential runs,
with identical results.
"""

from __future__ import annotations

import time
from pathlib import Path

from paysim import _core
from paysim.simulation import RUN_METADATA_KEYS, Simulation, run_many

SCENARIO = Path(__file__).resolve().parent / "throughput_100.yaml"


def _best(samples: list[float]) -> float:
    return min(samples)


def bench_overhead(repeats: int = 5) -> None:
    sim0 = Simulation(SCENARIO)
    config_json = sim0.config_json
    engine_only, wrapped, stepped = [], [], []
    for _ in range(repeats):
        engine = _core.Engine(config_json)
        t = time.perf_counter()
        engine.run()
        engine_only.append(time.perf_counter() - t)
        sim = Simulation(SCENARIO)
        t = time.perf_counter()
        sim.run()
        wrapped.append(time.perf_counter() - t)
    sim = Simulation(SCENARIO)
    t = time.perf_counter()
    while not sim.done:
        sim.tick()
    stepped.append(time.perf_counter() - t)
    e, w = _best(engine_only), _best(wrapped)
    print("100-bank day (1,000 ticks, ~100k arrivals), best of", repeats)
    print(f"  engine alone (one call)      {e * 1e3:9.2f} ms")
    print(
        f"  Simulation.run()             {w * 1e3:9.2f} ms   difference {100 * (w - e) / e:+.1f}%"
    )
    print(f"  Simulation.tick() x 1,000    {stepped[0] * 1e3:9.2f} ms   (Python per tick)")


def bench_run_many(seeds: int = 8, threads: int = 2) -> None:
    seed_list = list(range(1, seeds + 1))
    t = time.perf_counter()
    sequential = []
    for seed in seed_list:
        sim = Simulation(SCENARIO, seed=seed)
        sim.run()
        sequential.append(sim.summary())
    seq_time = time.perf_counter() - t
    t = time.perf_counter()
    parallel = run_many(SCENARIO, seed_list, threads=threads)
    par_time = time.perf_counter() - t

    def strip(s: object) -> object:
        assert isinstance(s, dict)
        return {k: v for k, v in s.items() if k not in RUN_METADATA_KEYS}

    same = [strip(a) for a in sequential] == [strip(b) for b in parallel]
    print(f"run_many: {seeds} seeds on {threads} threads vs one after another")
    print(
        f"  sequential {seq_time:7.3f} s   run_many {par_time:7.3f} s   "
        f"speedup {seq_time / par_time:5.2f}x (target >= 1.6)   identical results: {same}"
    )


if __name__ == "__main__":
    bench_overhead()
    bench_run_many()
