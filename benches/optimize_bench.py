"""``paysim optimize`` figures (make bench).

1. Trials per second on the two-bank Castro game (one worker, TPE, the default journal storage
   in a temporary directory, one seed per trial: the game is deterministic).
2. A 100-bank scenario (four banks searched, four seeds a trial): the engine's share of the wall
   time, and the speedup of ``workers: 2`` over one worker, both with one engine thread per
   worker so the comparison is between processes (target ≥ 1.6× on 2 cores). The run with one
   worker and two engine threads is printed too.

The machine's load average is printed first: figures taken while other work runs are low.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import optuna

from paysim.optimize import load_plan, optimize

REPO = Path(__file__).resolve().parent.parent
CASTRO = REPO / "scenarios" / "castro_2period.yaml"


def _hundred_banks(path: Path) -> None:
    lines = [
        "description: optimize bench, 100 banks choosing their morning liquidity",
        "simulation: {ticks_per_day: 1000, num_days: 1, rng_seed: 5}",
        "cost_rates: {liquidity_cost_per_tick_bps: 2, delay_cost_per_tick_per_cent: 0.0005,",
        "  deadline_penalty: 0, eod_penalty: {mode: rate, bps_per_event: 1500}}",
        "agents:",
    ]
    for i in range(100):
        lines.append(
            f"  - {{id: BANK_{i:03d}, opening_balance: 0, liquidity_pool: 5000000, "
            "policy: castro_liquidity, policy_parameters: {initial_liquidity_fraction: 0.4}, "
            "arrival_config: {rate_per_tick: 1.0, amount_distribution: "
            "{type: LogNormal, mu: 10.0, sigma: 0.8}, deadline_range: [10, 60]}}"
        )
    path.write_text("\n".join(lines) + "\n")


def _spec(path: Path, scenario: Path, body: str) -> Path:
    path.write_text(f"scenario: {scenario}\n{body}")
    return path


def _run(spec: Path, out: Path, trials: int) -> tuple[float, dict[str, object]]:
    plan = load_plan(spec, output=str(out))
    plan.trials = trials
    start = time.perf_counter()
    result = optimize(plan, overwrite=True)
    return time.perf_counter() - start, result


def bench_two_banks(tmp: Path, trials: int = 150) -> None:
    spec = _spec(
        tmp / "castro.yaml",
        CASTRO,
        "mode: joint\nagents:\n  BANK_A: {policy: castro_liquidity}\n"
        "  BANK_B: {policy: castro_liquidity}\nevaluation: {seeds: 1}\nsampler: tpe\n"
        "pruner: none\nseed: 1\noutput: out\n",
    )
    wall, result = _run(spec, tmp / "castro", trials)
    timings = result["timings"]
    assert isinstance(timings, dict)
    print(f"two-bank Castro game, {trials} TPE trials, 1 worker, journal storage")
    print(f"  wall {wall:8.2f} s   {trials / wall:8.1f} trials/s")
    print(
        f"  engine {float(timings['engine_seconds']) * 1e3:8.1f} ms in all "
        f"({1e6 * float(timings['engine_seconds']) / trials:.0f} µs a trial)"
    )


def bench_hundred_banks(tmp: Path, trials: int = 24) -> None:
    scenario = tmp / "hundred.yaml"
    _hundred_banks(scenario)
    searched = "".join(f"  BANK_{i:03d}: {{}}\n" for i in range(4))
    figures: dict[str, float] = {}
    for label, workers, threads in (
        ("1 worker × 1 thread", 1, 1),
        ("2 workers × 1 thread", 2, 1),
        ("1 worker × 2 threads", 1, 2),
    ):
        spec = _spec(
            tmp / f"hundred_{workers}_{threads}.yaml",
            scenario,
            f"mode: joint\nagents:\n{searched}evaluation: {{seeds: 4, threads: {threads}}}\n"
            f"sampler: random\npruner: none\nseed: 2\nworkers: {workers}\noutput: out\n",
        )
        wall, result = _run(spec, tmp / f"hundred_{workers}_{threads}", trials)
        timings = result["timings"]
        assert isinstance(timings, dict)
        engine = float(timings["engine_seconds"])
        share = engine / (wall * workers * threads)
        figures[label] = wall
        print(
            f"  {label:22s} wall {wall:7.2f} s  {trials / wall:6.2f} trials/s  engine "
            f"{engine:7.2f} s  engine share of wall {100 * share:5.1f}%"
        )
    base = figures["1 worker × 1 thread"]
    print(
        f"  speedup of workers: 2 over one (1 engine thread each): "
        f"{base / figures['2 workers × 1 thread']:.2f}x (target ≥ 1.6x on 2 cores)"
    )


def main() -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    load = os.getloadavg()
    print(
        f"paysim optimize bench · {os.cpu_count()} cores · load average "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        bench_two_banks(tmp)
        print("100 banks × 1,000 ticks, 4 banks searched, 4 seeds a trial, 24 random trials")
        bench_hundred_banks(tmp)


if __name__ == "__main__":
    main()
