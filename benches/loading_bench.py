"""Scenario loading speed: a 200-bank day written out in full (~1 MB of YAML) against the demo.

Issue #10: `paysim run` on such a file spent 2 s of its 2.9 s in pure-Python YAML parsing. The
loader now reads YAML through libyaml's event parser (paysim/config/yaml12.py). Printed:

- the whole-process time of ``paysim run FILE --format json`` for the demo and for the wide
  scenario (median of several runs; wall time, and the child's CPU time, which a busy machine
  disturbs less), and their ratio against the target of at most 2x;
- the parse time of the wide file alone, with libyaml and with the pure-Python fallback.

The wide scenario is generated into a temporary directory (:func:`write_wide_scenario`), never
committed. Run with ``make bench`` or ``python benches/loading_bench.py``.
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAYSIM = Path(sys.executable).parent / "paysim"
RUNS = 5
TARGET_RATIO = 2.0


def write_wide_scenario(path: Path, banks: int = 200, seed: int = 1) -> int:
    """Writes a one-day scenario of ``banks`` banks, each paying every other bank with an
    explicit counterparty weight (the shape of the issue's 957 KB file); returns its size."""
    rng = random.Random(seed)
    ids = [f"BANK_{i:03d}" for i in range(banks)]
    lines = [
        f"description: {banks} banks, one day, every counterparty weight written out",
        "simulation: {ticks_per_day: 100, num_days: 1, rng_seed: 1}",
        "agents:",
    ]
    for me in ids:
        lines += [
            f"  - id: {me}",
            f"    opening_balance: {rng.randint(1_000_000, 5_000_000)}",
            "    unsecured_cap: 500000",
            "    policy: fifo",
            "    arrival_config:",
            "      rate_per_tick: 0.05",
            "      amount_distribution: {type: LogNormal, mu: 11.0, sigma: 0.9}",
            "      counterparty_weights:",
        ]
        lines += [f"        {other}: {rng.random():.4f}" for other in ids if other != me]
    text = "\n".join(lines) + "\n"
    path.write_text(text, encoding="utf-8")
    return len(text.encode("utf-8"))


def run_once(scenario: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one ``paysim run SCENARIO --format json`` process."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [str(PAYSIM), "run", str(scenario), "--format", "json", "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        err = proc.stderr.read().decode() if proc.stderr is not None else ""
        raise SystemExit(f"paysim run {scenario} failed: {err[-500:]}")
    return wall, usage.ru_utime + usage.ru_stime


def median_times(scenario: Path) -> tuple[float, float]:
    runs = [run_once(scenario) for _ in range(RUNS)]
    return statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)


def parse_times(path: Path) -> tuple[float, float]:
    """CPU seconds to parse ``path`` with libyaml and with the pure-Python parser (best of 3)."""
    from paysim.config.yaml12 import parse_yaml, pure_python_parser

    text = path.read_text(encoding="utf-8")

    def best(pure: bool) -> float:
        times = []
        for _ in range(3):
            start = time.process_time()
            if pure:
                with pure_python_parser():
                    parse_yaml(text)
            else:
                parse_yaml(text)
            times.append(time.process_time() - start)
        return min(times)

    return best(False), best(True)


def main() -> None:
    demo = ROOT / "scenarios" / "demo.yaml"
    with tempfile.TemporaryDirectory() as tmp:
        wide = Path(tmp) / "wide_200.yaml"
        size = write_wide_scenario(wide)
        run_once(demo)  # warm the file cache and the interpreter's bytecode
        demo_wall, demo_cpu = median_times(demo)
        wide_wall, wide_cpu = median_times(wide)
        c_parse, py_parse = parse_times(wide)
    print("Scenario loading (`paysim run FILE --format json`, median of", RUNS, "processes)")
    print(f"  demo (3 banks)          wall {demo_wall:6.3f} s   cpu {demo_cpu:6.3f} s")
    print(f"  200 banks, {size / 1e6:.2f} MB     wall {wide_wall:6.3f} s   cpu {wide_cpu:6.3f} s")
    ratio_wall, ratio_cpu = wide_wall / demo_wall, wide_cpu / demo_cpu
    verdict = "meets" if ratio_cpu <= TARGET_RATIO else "misses"
    print(
        f"  ratio                   wall {ratio_wall:6.2f} x   cpu {ratio_cpu:6.2f} x   "
        f"({verdict} the target of <= {TARGET_RATIO:.0f}x)"
    )
    print(
        f"  parse of the 200-bank file (cpu): libyaml {c_parse:.3f} s, pure Python {py_parse:.3f} s"
    )


if __name__ == "__main__":
    main()
