"""Start-up time of the ``paysim`` command and how fast Ctrl-C stops a run (ISSUE 10).

* ``paysim --version`` and ``paysim --help`` ≤ 0.25 s: each is started ``--runs`` times as a real
  process (the installed console script, as a user runs it) after one warm-up run; the median wall
  time is printed beside the target, with the CPU time (which other work on the machine barely
  moves) and the heaviest imports of ``--help`` (from ``python -X importtime``), so a regression
  names its cause.
* Ctrl-C: a run of a long one-day-after-another scenario gets SIGINT half a second in; the time
  until the process has exited (130, sinks aborted) is printed against "a fraction of a second".

Run by ``make bench``; never a timed unit test.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 0.25
INTERRUPT_TARGET = 0.5
COMMANDS = (["--version"], ["--help"])


def paysim_command() -> list[str]:
    """The installed ``paysim`` script beside this interpreter, else ``python -m paysim``."""
    script = Path(sys.executable).with_name("paysim")
    if script.exists():
        return [str(script)]
    found = shutil.which("paysim")
    return [found] if found else [sys.executable, "-m", "paysim"]


def wall_time(argv: list[str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one run of ``argv``. The CPU time barely moves
    when other work shares the machine, so it is printed too."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def heaviest_imports(args: list[str], count: int) -> list[tuple[str, float]]:
    """The ``count`` top-level imports with the largest cumulative time (seconds)."""
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "paysim", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    top: list[tuple[str, float]] = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or line.count("|") != 2:
            continue
        _, cumulative, name = line.split("|")
        # `| name` for a top-level import, `|   name` (indented) for one it caused.
        if not cumulative.strip().isdigit() or name[1:].startswith(" "):
            continue
        top.append((name.strip(), int(cumulative) / 1e6))
    return sorted(top, key=lambda item: -item[1])[:count]


def interrupt_latency(base: list[str]) -> float:
    """Seconds from SIGINT to the exit of ``paysim run`` inside a long day (with a file sink)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        agents = "\n".join(f"  - {{id: B{i:03d}, opening_balance: 1000}}" for i in range(200))
        scenario = folder / "long.yaml"
        scenario.write_text(
            "simulation: {ticks_per_day: 86400, num_days: 30, rng_seed: 1}\nagents:\n" + agents
        )
        proc = subprocess.Popen(
            [*base, "run", str(scenario), "--sink", f"jsonl:path={folder / 'ev.jsonl'}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        while not any(p.suffix == ".partial" for p in folder.iterdir()):
            if proc.poll() is not None:
                raise RuntimeError("the run ended before it could be interrupted")
            time.sleep(0.02)
        time.sleep(0.5)
        sent = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=60)
        latency = time.perf_counter() - sent
        if code != 130:
            raise RuntimeError(f"interrupted run exited {code}, not 130")
        return latency


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15, help="runs per command (median taken)")
    args = parser.parse_args()
    base = paysim_command()
    print(
        f"paysim start-up ({' '.join(base)}), median of {args.runs} runs, target ≤ "
        f"{TARGET_SECONDS:.2f} s"
    )
    failed = False
    for extra in COMMANDS:
        argv = [*base, *extra]
        wall_time(argv)  # warm the file cache
        runs = [wall_time(argv) for _ in range(args.runs)]
        times = [wall for wall, _ in runs]
        median = statistics.median(times)
        cpu = statistics.median(c for _, c in runs)
        ok = median <= TARGET_SECONDS
        failed |= not ok
        print(
            f"  paysim {' '.join(extra):<10} median {median:.3f} s  "
            f"(min {min(times):.3f}, max {max(times):.3f}; CPU {cpu:.3f} s)  "
            f"{'ok' if ok else 'OVER TARGET'}"
        )
    imports = ", ".join(
        f"{name} {secs * 1000:.0f} ms" for name, secs in heaviest_imports(["--help"], 6)
    )
    print(f"  heaviest imports of --help: {imports}")
    latencies = [interrupt_latency(base) for _ in range(3)]
    latency = statistics.median(latencies)
    print(
        f"  Ctrl-C inside a long day: exit 130 after median {latency:.3f} s "
        f"(max {max(latencies):.3f}), target ≤ {INTERRUPT_TARGET:.2f} s  "
        f"{'ok' if latency <= INTERRUPT_TARGET else 'OVER TARGET'}"
    )
    load = os.getloadavg()[0]
    print(f"  load average {load:.1f} on {os.cpu_count()} CPUs while measuring")
    if failed:
        print("  (over target: check the imports above; see paysim/cli/main.py)")


if __name__ == "__main__":
    main()
