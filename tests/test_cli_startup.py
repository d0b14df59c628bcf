"""Start-up (ISSUE 10): ``paysim --version`` and ``paysim --help`` import none of the heavy modules,
so they stay fast (the times themselves are measured by ``benches/startup_bench.py``, never here).
A command module that imports one of these at its top fails this test: import it inside the
command function instead (see :mod:`paysim.cli.main`)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import paysim
from tests.cli_support import REPO

HEAVY = (
    "pydantic",
    "pyarrow",
    "numpy",
    "yaml",
    "rich",
    "duckdb",
    "optuna",
    "matplotlib",
    "fastapi",
    "uvicorn",
    "jsonschema",
    "paysim.simulation",
    "paysim.config",
    "paysim.sinks",
    "paysim.policy",
)


def _modules_after(*args: str) -> tuple[str, list[str]]:
    """Runs the console entry point with ``args`` in a fresh interpreter; its stdout and the
    modules it had imported when done."""
    code = (
        "import json, sys, io, contextlib\n"
        f"sys.argv = ['paysim', *{list(args)!r}]\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        "    try:\n"
        "        from paysim.cli import main\n"
        "        main()\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(json.dumps([out.getvalue(), sorted(sys.modules)]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    )
    text, modules = json.loads(proc.stdout)
    return text, modules


@pytest.mark.parametrize("args", [["--version"], ["--help"]], ids=lambda a: a[0])
def test_version_and_help_import_nothing_heavy(args: list[str]) -> None:
    text, modules = _modules_after(*args)
    assert text.strip()
    heavy = [m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)]
    assert heavy == []


def test_version_names_paysim_and_the_engine() -> None:
    text, modules = _modules_after("--version")
    assert text == f"paysim {paysim.__version__} (engine {paysim._core.core_version()})\n"
    assert "typer" not in modules  # answered before the command line is built


def test_the_public_api_is_still_reachable_lazily() -> None:
    assert paysim.Simulation.__name__ == "Simulation"
    assert callable(paysim.run_many) and callable(paysim.load_scenario)
    assert set(paysim.__all__) <= set(dir(paysim))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        paysim.nope  # noqa: B018
