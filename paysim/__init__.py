"""paysim: simulate high-value interbank payment systems (RTGS) with a fast Rust engine.

The engine lives in the compiled extension :mod:`paysim._core`; this package is the typed Python
layer around it (configuration, CLI, plugins, persistence, optimisation).
"""

from paysim import _core
from paysim.exceptions import (
    PaysimError,
    PolicyError,
    PolicyEvaluationError,
    ScenarioError,
    SimulationError,
    StoreError,
)

__version__: str = _core.__version__

__all__ = [
    "PaysimError",
    "PolicyError",
    "PolicyEvaluationError",
    "ScenarioError",
    "SimulationError",
    "StoreError",
    "__version__",
]
