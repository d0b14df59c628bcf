"""paysim: simulate high-value interbank payment systems (RTGS) with a fast Rust engine.

The engine lives in the compiled extension :mod:`paysim._core`; this package is the typed Python
layer around it (configuration, CLI, plugins, persistence, optimisation).

``import paysim`` is cheap: the exceptions are loaded at once, everything else on first use
(the version, which needs the engine extension; :class:`Simulation`, :func:`load_scenario`,
:func:`validate_policy`, ..., which pull in pydantic and pyarrow), through the module
``__getattr__`` of PEP 562. That keeps ``paysim --version`` and ``paysim --help`` fast
(benches/startup_bench.py); for type checkers and readers the names are imported as usual under
``TYPE_CHECKING``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from paysim.exceptions import (
    ArgumentError,
    PaysimError,
    PolicyError,
    PolicyEvaluationError,
    ScenarioError,
    SimulationError,
    StoreError,
    StoreNotFoundError,
)

__version__: str  # the engine crate's version, read from paysim._core on first use

if TYPE_CHECKING:
    from paysim.config import load_scenario
    from paysim.hookspecs import hookimpl
    from paysim.policy import ValidationReport, validate_policy
    from paysim.simulation import Simulation, TickSummary, run_many

_LAZY = {
    "Simulation": "paysim.simulation",
    "TickSummary": "paysim.simulation",
    "run_many": "paysim.simulation",
    "load_scenario": "paysim.config",
    "ValidationReport": "paysim.policy",
    "validate_policy": "paysim.policy",
    "hookimpl": "paysim.hookspecs",
}


def __getattr__(name: str) -> object:
    if name == "__version__":
        from paysim._core import __version__ as version

        globals()[name] = version
        return version
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'paysim' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups find it directly
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "ArgumentError",
    "PaysimError",
    "PolicyError",
    "PolicyEvaluationError",
    "ScenarioError",
    "SimulationError",
    "Simulation",
    "StoreError",
    "StoreNotFoundError",
    "TickSummary",
    "ValidationReport",
    "__version__",
    "hookimpl",
    "load_scenario",
    "run_many",
    "validate_policy",
]
