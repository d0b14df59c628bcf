"""The corpus of hostile inputs (ISSUE 10): every file under ``tests/fixtures/hostile/`` goes
through each command that reads it, as a real process limited to 1 GB of address space and a
timeout, and must end in a located error: the expected exit code, the file named in the message,
no traceback, no "bug in paysim", no hang, no memory blow-up.

Commands and exit codes (INTERFACES.md §1):

* ``scenarios/FILE``: ``paysim run FILE`` exits 2; ``paysim scenario validate FILE`` exits 1 (an
  invalid scenario) or 2 (a file it cannot read).
* ``policies/FILE``: ``paysim validate-policy FILE`` exits 1 (2 for a file it cannot read; the
  readable files are validated by one process, all at once) and ``paysim run S --policy A=FILE``
  exits 2. The scenario fixtures reach policy files through ``policy:`` and ``PolicyChange``;
  ``tests/test_cli_policy_loader.py`` checks in-process that every policy case gets the same
  verdict through every path (one policy loader).

The message must contain the fixture's own file name, or one of the names listed on a
``# names: a, b`` line in the first lines of the fixture (a scenario whose policy file is the
culprit names the policy file). Files starting with ``_`` and README files are not inputs. Cases
too large or too odd to keep in git (a 1.2 MB padded policy, 5,000 levels of nesting, a directory,
a FIFO, a 65 MiB sparse file) are generated at test time.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
HOSTILE = REPO / "tests" / "fixtures" / "hostile"
MEMORY_LIMIT = 1 << 30
TIMEOUT = 120
FIFO_POLICY = (REPO / "policies" / "fifo.json").read_text()


@dataclass(frozen=True)
class Case:
    """One hostile input: where it is (or how to make it) and what it may be named by."""

    kind: str  # "scenarios" or "policies"
    name: str
    unreadable: bool = False  # a file the commands cannot read at all (exit 2 everywhere)

    def names(self, path: Path) -> list[str]:
        if path.is_file():
            head = path.read_bytes()[:2000].decode("utf-8", errors="replace").splitlines()[:5]
            for line in head:
                if line.startswith("# names:"):
                    return [n.strip() for n in line.removeprefix("# names:").split(",")]
        return [path.name]


def _generate(case: Case, where: Path) -> Path:
    """Writes a generated case into ``where`` and returns its path."""
    path = where / case.name
    if case.name == "padded_1_2mb.json":
        path.write_text(FIFO_POLICY + " " * 1_200_000)
    elif case.name == "deep_5000.json":
        path.write_text("[" * 5000 + "]" * 5000)
    elif case.name == "deep_object_5000.json":
        path.write_text('{"a":' * 5000 + "1" + "}" * 5000)
    elif case.name == "a_directory.json":
        path.mkdir()
    elif case.name in ("a_fifo.json", "a_fifo.yaml"):
        os.mkfifo(path)
    elif case.name == "sparse_65mib.json":
        with open(path, "wb") as handle:
            handle.truncate(65 * 1024 * 1024)
    else:  # pragma: no cover - a new generated case without a recipe
        raise AssertionError(case.name)
    return path


GENERATED = [
    Case("policies", "padded_1_2mb.json"),
    Case("policies", "deep_5000.json"),
    Case("policies", "deep_object_5000.json"),
    Case("policies", "sparse_65mib.json"),
    Case("policies", "a_directory.json", unreadable=True),
    Case("policies", "a_fifo.json", unreadable=True),
    Case("scenarios", "a_fifo.yaml", unreadable=True),
]


def _stored(kind: str) -> list[Case]:
    folder = HOSTILE / kind
    return [
        Case(kind, p.name)
        for p in sorted(folder.iterdir())
        if p.is_file() and not p.name.startswith(("_", ".")) and p.name.lower() != "readme.md"
    ]


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def paysim(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -m paysim ARGS`` with 1 GB of address space; a hang fails the test."""
    try:
        return subprocess.run(
            [sys.executable, "-m", "paysim", *map(str, args)],
            capture_output=True,
            text=True,
            errors="replace",
            cwd=cwd,
            timeout=TIMEOUT,
            preexec_fn=_limit_memory,
            env={**os.environ, "PAYSIM_DEBUG": ""},
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"paysim {' '.join(map(str, args))} did not finish in {TIMEOUT} s")


def _assert_located(proc: subprocess.CompletedProcess[str], codes: set[int], names: list[str]):
    output = proc.stdout + proc.stderr
    assert proc.returncode in codes, (proc.returncode, output[-2000:])
    assert "Traceback" not in output, output[-3000:]
    assert "bug in paysim" not in output, output[-2000:]
    assert "internal error" not in output and "internal engine error" not in output
    assert any(name in output for name in names), (names, output[-2000:])


def _input(case: Case, tmp_path: Path) -> Path:
    stored = HOSTILE / case.kind / case.name
    return stored if stored.exists() and case in _stored(case.kind) else _generate(case, tmp_path)


SCENARIO_CASES = _stored("scenarios") + [c for c in GENERATED if c.kind == "scenarios"]
POLICY_CASES = _stored("policies") + [c for c in GENERATED if c.kind == "policies"]


@pytest.mark.parametrize("case", SCENARIO_CASES, ids=lambda c: c.name)
def test_hostile_scenario_run_exits_2(case: Case, tmp_path: Path) -> None:
    path = _input(case, tmp_path)
    proc = paysim("run", path, "--format", "json", cwd=tmp_path)
    _assert_located(proc, {2}, case.names(path))
    assert proc.stdout == ""


@pytest.mark.parametrize("case", SCENARIO_CASES, ids=lambda c: c.name)
def test_hostile_scenario_validate_exits_1_or_2(case: Case, tmp_path: Path) -> None:
    path = _input(case, tmp_path)
    proc = paysim("scenario", "validate", path, cwd=tmp_path)
    _assert_located(proc, {2} if case.unreadable else {1, 2}, case.names(path))


def test_hostile_policies_are_invalid_for_validate_policy(tmp_path: Path) -> None:
    """One ``validate-policy`` process for every readable case (exit 1, each report invalid and
    naming its file); one each for the unreadable ones (exit 2, the file named)."""
    readable = [(case, _input(case, tmp_path)) for case in POLICY_CASES if not case.unreadable]
    proc = paysim("validate-policy", "--format", "json", *(p for _, p in readable), cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "Traceback" not in proc.stdout + proc.stderr
    reports = json.loads(proc.stdout)
    assert [r["file"] for r in reports] == [str(p) for _, p in readable]
    for (case, _), report in zip(readable, reports, strict=True):
        assert report["valid"] is False and report["errors"], case.name
    for case in (c for c in POLICY_CASES if c.unreadable):
        path = _input(case, tmp_path)
        _assert_located(paysim("validate-policy", path, cwd=tmp_path), {2}, case.names(path))


@pytest.mark.parametrize("case", POLICY_CASES, ids=lambda c: c.name)
def test_hostile_policy_through_run_policy_option(case: Case, tmp_path: Path) -> None:
    path = _input(case, tmp_path)
    scenario = tmp_path / "two_banks.yaml"
    scenario.write_text(
        "simulation: {ticks_per_day: 10, num_days: 1, rng_seed: 1}\n"
        "agents: [{id: A, opening_balance: 1000}, {id: B, opening_balance: 500}]\n"
    )
    proc = paysim("run", scenario, "--policy", f"A={path}", "--format", "json", cwd=tmp_path)
    _assert_located(proc, {2}, case.names(path))
    assert proc.stdout == ""
