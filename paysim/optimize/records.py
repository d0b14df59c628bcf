"""Trial rows in the DuckDB store (``studies``, ``trials``, ``trial_runs``): written once the
store lands (issue #13)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from paysim.optimize.runner import Optimization, Outcome


def record_study(outcome: Outcome, run: Optimization, result: dict[str, object]) -> None:
    """Writes the study's rows into the store (pending the store's migration mechanism)."""
    return None
