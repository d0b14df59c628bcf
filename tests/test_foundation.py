"""The package, the extension and the CLI agree on what they are."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import paysim
from paysim import _core

REPO = Path(__file__).resolve().parent.parent


def test_extension_and_crate_versions_agree() -> None:
    # Crosses the FFI boundary: the Rust crate's version comes back through PyO3.
    assert _core.core_version() == _core.__version__
    assert paysim.__version__ == _core.__version__
    assert importlib.metadata.version("paysim") == _core.core_version()


def test_workspace_version_matches_extension() -> None:
    cargo = (REPO / "Cargo.toml").read_text()
    assert f'version = "{_core.core_version()}"' in cargo


def test_exception_hierarchy() -> None:
    assert issubclass(paysim.ScenarioError, paysim.PaysimError)
    assert issubclass(paysim.PolicyError, paysim.PaysimError)
    assert issubclass(paysim.PolicyEvaluationError, paysim.SimulationError)
    err = paysim.ScenarioError(
        "expected an integer", file="s.yaml", pointer="/agents/0/opening_balance"
    )
    assert str(err) == "s.yaml at /agents/0/opening_balance: expected an integer"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "paysim", *args], capture_output=True, text=True, check=False
    )


def test_cli_version() -> None:
    result = _cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"paysim {paysim.__version__} (engine {_core.core_version()})"


def test_cli_help_lists_no_missing_commands() -> None:
    result = _cli("--help")
    assert result.returncode == 0
    assert "Usage" in result.stdout
    for name in ("report",):
        assert f" {name} " not in result.stdout
    for name in ("replay", "checkpoint", "db", "optimize"):
        assert f" {name} " in result.stdout
