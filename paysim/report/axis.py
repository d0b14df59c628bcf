"""The tick axis shared by the per-tick figures, and the choice of the banks shown one by one.

A long run has more ticks than a figure has pixels (100 banks × 5 days × 1,000 ticks is 5,000
ticks), so per-tick series are cut into at most :data:`MAX_POINTS` buckets of ``width`` ticks;
each query says how it folds a bucket (flows are summed, levels keep their extreme), and the
figures label the axis with the bucket width.

With many banks a figure shows the ``top`` banks one by one and folds the rest into an
"others" aggregate. The top banks are the same in every figure: the largest total cost over the
run, then the lowest end-of-tick balance, then scenario order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

MAX_POINTS = 500
"""At most this many points per per-tick series."""

DEFAULT_TOP = 8
"""Banks shown one by one when ``top`` is not given."""

OTHERS = "(others)"
"""The label of the aggregate of the banks not shown one by one."""

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class TickAxis:
    """Ticks ``[t0, t1)`` of the stored days, cut into buckets of ``width`` ticks."""

    t0: int
    t1: int
    width: int
    ticks_per_day: int

    @classmethod
    def of(cls, t0: int, t1: int, ticks_per_day: int, max_points: int = MAX_POINTS) -> TickAxis:
        span = max(0, t1 - t0)
        width = max(1, -(-span // max_points))
        return cls(t0, t1, width, max(1, ticks_per_day))

    @property
    def ticks(self) -> int:
        return max(0, self.t1 - self.t0)

    @property
    def buckets(self) -> int:
        return -(-self.ticks // self.width)

    def starts(self) -> IntArray:
        """The first tick of each bucket."""
        return np.arange(self.t0, self.t0 + self.buckets * self.width, self.width, dtype=np.int64)

    def day_starts(self) -> list[int]:
        """The ticks where a day after the first one starts (for day separators)."""
        first = -(-self.t0 // self.ticks_per_day) * self.ticks_per_day
        return [t for t in range(first, self.t1, self.ticks_per_day) if t > self.t0]

    def fold_sum(self, per_tick: npt.NDArray[np.int64] | FloatArray) -> FloatArray:
        """A per-tick series (one value per tick of the axis) summed per bucket."""
        values = np.asarray(per_tick, dtype=np.float64)
        padded = np.zeros(self.buckets * self.width, dtype=np.float64)
        padded[: values.size] = values
        folded: FloatArray = padded.reshape(self.buckets, self.width).sum(axis=1)
        return folded

    def fold_last(self, per_tick: FloatArray) -> FloatArray:
        """A per-tick level (one value per tick of the axis): its value on each bucket's last
        tick (the axis's last tick for a short last bucket)."""
        values = np.asarray(per_tick, dtype=np.float64)
        if values.size == 0:
            return np.full(self.buckets, np.nan)
        ends = np.minimum(self.starts() - self.t0 + self.width, values.size) - 1
        last: FloatArray = values[ends]
        return last

    def unit(self) -> str:
        """How a per-bucket quantity is labelled: ``per tick`` or ``per 5 ticks``."""
        return "per tick" if self.width == 1 else f"per {self.width} ticks"


@dataclass(frozen=True)
class BankRank:
    """A bank with what orders it among the banks of a run."""

    agent_id: str
    position: int
    cost: int
    min_balance: int


def top_banks(ranks: list[BankRank], top: int) -> tuple[list[str], list[str]]:
    """The banks shown one by one, and the others (both in ranking order).

    ``top`` banks are shown; when only one bank would be left over it is shown too, since an
    "others" aggregate of one bank says less than the bank itself.
    """
    ordered = sorted(ranks, key=lambda r: (-r.cost, r.min_balance, r.position, r.agent_id))
    ids = [r.agent_id for r in ordered]
    if len(ids) <= top + 1:
        return ids, []
    return ids[:top], ids[top:]
