"""paysim: simulate high-value interbank payment systems (RTGS) with a fast Rust engine.

The engine lives in the compiled extension :mod:`paysim._core`; this package is the typed Python
layer around it (configuration, CLI, plugins, persistence, optimisation).
"""

from paysim import _core
from paysim.config import load_scenario
from paysim.exceptions import (
    PaysimError,
    PolicyError,
    PolicyEvaluationError,
    ScenarioError,
    SimulationError,
    StoreError,
)

__version__: str = _core.__version__

from paysim.policy import ValidationReport, validate_policy  # noqa: E402
from paysim.simulation import Simulation, TickSummary, run_many  # noqa: E402

__all__ = [
    "PaysimError",
    "PolicyError",
    "PolicyEvaluationError",
    "ScenarioError",
    "SimulationError",
    "Simulation",
    "StoreError",
    "TickSummary",
    "ValidationReport",
    "__version__",
    "load_scenario",
    "run_many",
    "validate_policy",
]
