"""Arrival-generator plugins in bulk (make bench): a Python generator feeding 1,000,000 payments
to 100 banks, next to the engine's native Poisson arrivals of the same count.

Both runs are timed from the creation of the ``Simulation`` (for the generator: drawing the
payments with NumPy, converting each day's batch to Arrow columns and injecting it into the
engine) to the end of the run. Target (issue #12): the generator within 2x of native. The
slow, compatible form (a list of dicts per day) is timed on a tenth of the payments for
comparison.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping

import numpy as np
import pyarrow as pa

from paysim.config.loader import scenario_from_dict
from paysim.hookspecs import hookimpl
from paysim.plugins import plugin_manager
from paysim.simulation import Simulation

BANKS = 100
TICKS_PER_DAY = 1_000
DAYS = 10
TARGET = 2.0


def scenario(generator: str | None) -> object:
    stream: dict[str, object]
    if generator is None:
        stream = {
            "rate_per_tick": 1.0,
            "amount_distribution": {"type": "LogNormal", "mu": 10.0, "sigma": 1.0},
            "deadline_range": [10, 50],
        }
    else:
        stream = {"generator": {"name": generator, "options": {}}}
    return scenario_from_dict(
        {
            "simulation": {"ticks_per_day": TICKS_PER_DAY, "num_days": DAYS, "rng_seed": 7},
            "agents": [
                {"id": f"BANK_{i:04d}", "opening_balance": 10**12, "arrival_config": stream}
                for i in range(BANKS)
            ],
        }
    )


class Columns:
    """Per bank: ``per_day`` payments a day, the whole run as one RecordBatch (the fast form;
    a batch may hold a day or more)."""

    name = "bench_columns"
    per_day = 1_000
    days_per_batch = DAYS

    def days(self, agent_id: str, seed: int) -> Iterator[dict[str, np.ndarray]]:
        rng = np.random.default_rng(seed)
        me = int(agent_id.removeprefix("BANK_"))
        for first in range(0, DAYS, self.days_per_batch):
            n = self.per_day * self.days_per_batch
            ticks = np.sort(rng.integers(0, TICKS_PER_DAY * self.days_per_batch, n))
            ticks += first * TICKS_PER_DAY
            others = rng.integers(0, BANKS - 1, n)
            yield {
                "tick": ticks,
                "receiver": others + (others >= me),
                "amount": np.maximum(1, np.rint(np.exp(10.0 + rng.standard_normal(n)))).astype(
                    np.int64
                ),
                "deadline_tick": ticks + rng.integers(10, 51, n),
            }

    def generate(
        self, scenario: object, agent_id: str, options: Mapping[str, object], seed: int
    ) -> Iterator[object]:
        names = pa.array([f"BANK_{i:04d}" for i in range(BANKS)])
        me = int(agent_id.removeprefix("BANK_"))
        for day in self.days(agent_id, seed):
            n = len(day["tick"])
            yield pa.RecordBatch.from_pydict(
                {
                    "tick": day["tick"],
                    "sender": pa.DictionaryArray.from_arrays(np.full(n, me, np.int32), names),
                    "receiver": pa.DictionaryArray.from_arrays(
                        day["receiver"].astype(np.int32), names
                    ),
                    "amount": day["amount"],
                    "deadline_tick": day["deadline_tick"],
                }
            )


class Records(Columns):
    """The same payments as a list of dicts per day (the compatible, slow form)."""

    name = "bench_records"
    days_per_batch = 1

    def generate(
        self, scenario: object, agent_id: str, options: Mapping[str, object], seed: int
    ) -> Iterator[object]:
        for day in self.days(agent_id, seed):
            yield [
                {
                    "tick": int(t),
                    "sender": agent_id,
                    "receiver": f"BANK_{int(r):04d}",
                    "amount": int(a),
                    "deadline_tick": int(d),
                }
                for t, r, a, d in zip(
                    day["tick"], day["receiver"], day["amount"], day["deadline_tick"], strict=True
                )
            ]


class Plugin:
    def __init__(self, *generators: Columns) -> None:
        self.generators = generators

    @hookimpl
    def paysim_register_arrival_generators(self, register: object) -> None:
        assert callable(register)
        for g in self.generators:
            register(g)


def timed(sc: object) -> tuple[float, int]:
    start = time.perf_counter()
    sim = Simulation(sc)  # type: ignore[arg-type]
    sim.run()
    elapsed = time.perf_counter() - start
    totals = sim.summary()["totals"]
    assert isinstance(totals, dict)
    return elapsed, int(totals["arrivals"])


def main(repeats: int = 3) -> None:
    columns, records = Columns(), Records()
    plugin_manager().register(Plugin(columns, records), name="bench-generators")
    native_runs = [timed(scenario(None)) for _ in range(repeats)]
    native, count = min(t for t, _ in native_runs), native_runs[0][1]
    columns.per_day = round(count / (BANKS * DAYS))
    gen_runs = [timed(scenario("bench_columns")) for _ in range(repeats)]
    generated, gen_count = min(t for t, _ in gen_runs), gen_runs[0][1]
    records.per_day = columns.per_day // 10
    slow, slow_count = timed(scenario("bench_records"))
    ratio = generated / native
    print(
        f"arrival generators, {BANKS} banks, {DAYS} days x {TICKS_PER_DAY} ticks, best of "
        f"{repeats} (creation + run)"
    )
    print(
        f"  native Poisson arrivals        {count:>9,} payments  {native:7.2f} s  "
        f"{count / native / 1e6:5.2f} M/s"
    )
    print(
        f"  Python generator, RecordBatch  {gen_count:>9,} payments  {generated:7.2f} s  "
        f"{gen_count / generated / 1e6:5.2f} M/s   {ratio:.2f}x native (target <= {TARGET:g}x)"
        f"  {'OK' if ratio <= TARGET else 'MISSED'}"
    )
    print(
        f"  Python generator, list of dicts {slow_count:>8,} payments  {slow:7.2f} s  "
        f"{slow_count / slow / 1e6:5.2f} M/s   (compatible form, for comparison)"
    )


if __name__ == "__main__":
    main()
