"""Distributed ``paysim optimize`` figures (make bench).

A fixed budget of trials on a 100-bank scenario (four banks searched, four seeds a trial, one
engine thread a process), its study in PostgreSQL: the wall time with one process (``paysim
optimize SPEC --storage URL``) and with two (the same, plus ``paysim optimize worker --wait``
started at the same moment, joining the study once it exists), each timed from the start to the
last process's exit, alternately (1, 2, 1, 2, ...) ``REPEATS`` times; the medians are compared.
Target: at least 1.6x faster with two processes on 2 cores.

The PostgreSQL server is the test suite's (:mod:`tests.pg_support`): Debian's binaries, a data
directory under ``target/pg``, a free loopback port; it is stopped and removed at the end. The
machine's load average is printed first and last: figures taken while other work runs are low.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from optimize_bench import _hundred_banks  # noqa: E402

from tests.pg_support import PostgresServer, session_home  # noqa: E402

TRIALS = 32
SEEDS = 4
REPEATS = 3


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def _paysim(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "paysim", *map(str, args)]


def _run(spec: Path, url: str, name: str, processes: int) -> float:
    start = time.perf_counter()
    procs = [
        subprocess.Popen(
            _paysim("optimize", spec, "--storage", url, "--no-progress"),
            stdout=subprocess.DEVNULL,
            cwd=REPO,
        )
    ]
    if processes == 2:
        # Started at once, as on a second machine: it waits for the study to exist.
        procs.append(
            subprocess.Popen(
                _paysim(
                    "optimize",
                    "worker",
                    spec,
                    "--storage",
                    url,
                    "--study",
                    name,
                    "--wait",
                    "60",
                    "--no-progress",
                ),  # fmt: skip
                stdout=subprocess.DEVNULL,
                cwd=REPO,
            )
        )
    for proc in procs:
        if proc.wait() != 0:
            raise SystemExit(f"{proc.args!r} failed (exit {proc.returncode})")
    return time.perf_counter() - start


def main() -> None:
    print(f"paysim distributed optimize bench · {os.cpu_count()} cores · {_load()}")
    server = PostgresServer(datadir=session_home("bench") / "data").start()
    try:
        with tempfile.TemporaryDirectory() as tmpdir:
            tmp = Path(tmpdir)
            scenario = tmp / "hundred.yaml"
            _hundred_banks(scenario)
            searched = "".join(f"  BANK_{i:03d}: {{}}\n" for i in range(4))
            print(
                f"100 banks × 1,000 ticks, 4 banks searched, {SEEDS} seeds a trial, "
                f"{TRIALS} random trials, study in PostgreSQL (loopback), 1 engine thread each"
            )
            walls: dict[int, list[float]] = {1: [], 2: []}
            for repeat in range(REPEATS):
                for processes in (1, 2):
                    name = f"bench_{processes}_{repeat}"
                    spec = tmp / f"{name}.yaml"
                    spec.write_text(
                        f"scenario: {scenario}\nmode: joint\nagents:\n{searched}"
                        f"evaluation: {{seeds: {SEEDS}, threads: 1}}\nsampler: random\n"
                        f"pruner: none\nseed: 2\ntrials: {TRIALS}\nstudy_name: {name}\n"
                        f"output: {tmp / name}\n"
                    )
                    url = server.create_database(name)
                    walls[processes].append(_run(spec, url, name, processes))
            for processes in (1, 2):
                label = "1 process " if processes == 1 else "2 processes"
                median = statistics.median(walls[processes])
                runs = ", ".join(f"{w:.1f}" for w in walls[processes])
                print(
                    f"  {label} wall {median:7.2f} s (median of {runs})  "
                    f"{TRIALS / median:6.2f} trials/s"
                )
            speedup = statistics.median(walls[1]) / statistics.median(walls[2])
            print(f"  speedup of two processes over one: {speedup:.2f}x (target ≥ 1.6x on 2 cores)")
    finally:
        server.remove()
    print(f"  ({_load()} at the end)")


if __name__ == "__main__":
    main()
