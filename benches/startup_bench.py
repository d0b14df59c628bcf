"""Start-up time of the ``paysim`` command (ISSUE 10: ``--version`` and ``--help`` ≤ 0.25 s).

Each command is started ``--runs`` times as a real process (the installed console script, as a
user runs it) after one warm-up run, and the median wall time is printed beside the target. The
modules the command imported are listed too (from ``python -X importtime``), largest first, so a
regression names its cause. Run by ``make bench``; never a timed unit test.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET_SECONDS = 0.25
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
    load = os.getloadavg()[0]
    print(f"  load average {load:.1f} on {os.cpu_count()} CPUs while measuring")
    if failed:
        print("  (over target: check the imports above; see paysim/cli/main.py)")


if __name__ == "__main__":
    main()
