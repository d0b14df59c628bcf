"""Evaluating candidates with common random numbers.

Every candidate runs on the same seeds through :func:`paysim.run_many` (engine threads, the GIL
released), so differences between candidates are differences of policy, not of luck. Many
candidates can be evaluated in one engine call (the grid of a best-response step, the deviations
of the certificate), which keeps every core busy even when each run is tiny.

Objectives are aggregated over seeds by ``mean``, ``median`` or ``cvar``: the mean of the worst
``alpha`` share of the seeds (at least one seed), worst meaning highest for a quantity minimised
and lowest for one maximised.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from paysim.config import Scenario
from paysim.exceptions import PaysimError, SimulationError
from paysim.optimize.space import AgentSpace, Candidate

Summary = Mapping[str, object]
Direction = Literal["minimize", "maximize"]
AggregateName = Literal["mean", "median", "cvar"]
METRICS = (
    ("total_cost", ("totals", "total_cost")),
    ("settlement_rate", ("totals", "settlement_rate")),
    ("avg_settlement_delay", ("totals", "avg_settlement_delay")),
    ("peak_net_debit", ("totals", "peak_net_debit")),
    ("unsettled", ("totals", "unsettled")),
)
"""Summary numbers kept per seed for the store (beside the objective values)."""


@dataclass(frozen=True)
class ObjectivePlan:
    """One objective: a metric over a run summary, aggregated over seeds."""

    label: str
    metric: Callable[[Summary], float]
    direction: Direction = "minimize"
    aggregate: AggregateName = "mean"
    alpha: float = 0.1

    def __call__(self, summary: Summary) -> float:
        return float(self.metric(summary))

    def combine(self, values: Sequence[float]) -> float:
        """The aggregate of per-seed values."""
        return aggregate(values, self.aggregate, self.alpha, self.direction)

    def describe(self) -> dict[str, object]:
        out: dict[str, object] = {
            "label": self.label,
            "direction": self.direction,
            "aggregate": self.aggregate,
        }
        if self.aggregate == "cvar":
            out["alpha"] = self.alpha
        return out


def aggregate(values: Sequence[float], how: str, alpha: float, direction: str) -> float:
    """``mean``, ``median`` or ``cvar`` (mean of the worst ``ceil(alpha·n)`` values)."""
    if not values:
        raise ValueError("no values to aggregate")
    if how == "mean":
        return math.fsum(values) / len(values)
    if how == "median":
        return float(statistics.median(values))
    k = max(1, math.ceil(alpha * len(values) - 1e-12))
    worst = sorted(values, reverse=direction == "minimize")[:k]
    return math.fsum(worst) / k


def metric_value(summary: Summary, path: Sequence[str]) -> float | None:
    node: object = summary
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return float(node) if isinstance(node, int | float) and not isinstance(node, bool) else None


@dataclass
class Batch:
    """The summaries of one engine call: ``summaries[c][k]`` is candidate ``c`` on seed ``k``."""

    summaries: list[list[Summary]]
    engine_seconds: float
    """Engine time: the runs' own times summed (CPU-seconds of engine threads)."""
    wall_seconds: float
    """Wall time of the call (building configs included)."""


@dataclass
class Evaluator:
    """Runs candidates on seeds. ``threads`` engine threads per call (``None``: all cores)."""

    scenario: Scenario
    spaces: Mapping[str, AgentSpace]
    threads: int | None = None
    calls: int = field(default=0, init=False)

    def run(self, candidates: Sequence[Candidate], seeds: Sequence[int]) -> Batch:
        """Every candidate on every seed, in one engine call; a failed run raises."""
        import paysim

        overrides: list[Mapping[str, object] | None] = []
        all_seeds: list[int] = []
        for candidate in candidates:
            entry = candidate.overrides(self.spaces)
            for seed in seeds:
                overrides.append(entry)
                all_seeds.append(seed)
        start = time.perf_counter()
        results = paysim.run_many(self.scenario, all_seeds, overrides, threads=self.threads)
        wall = time.perf_counter() - start
        self.calls += 1
        out: list[list[Summary]] = []
        engine = 0.0
        n = len(seeds)
        for c in range(len(candidates)):
            row: list[Summary] = []
            for k in range(n):
                result = results[c * n + k]
                if isinstance(result, PaysimError):
                    raise result
                if not isinstance(result, Mapping):
                    raise SimulationError(f"unexpected run result {result!r}")
                wall_s = result.get("wall_seconds")
                if isinstance(wall_s, int | float):
                    engine += float(wall_s)
                row.append(result)
            out.append(row)
        return Batch(out, engine, wall)


def seed_metrics(summary: Summary) -> dict[str, float | None]:
    """The per-seed numbers stored beside the objective values."""
    return {name: metric_value(summary, path) for name, path in METRICS}
