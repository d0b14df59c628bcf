"""Clock, liquidity-saving mechanism and settlement options.

``settlement`` keys may also stand at the top level of a scenario (SimCash files do that);
:class:`paysim.config.models.Scenario` moves them here. SimCash's case variants of enum values
(``Fifo``, ``PriorityDeadline``) are accepted and stored in the canonical spelling.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from paysim.config.models_base import (
    MAX_DAYS,
    MAX_EPISODE_TICKS,
    MAX_PRIORITY,
    MAX_TICKS_PER_DAY,
    SEED_MAX,
    U32_MAX,
    Count,
    EnumSpelling,
    Fraction,
    StrictModel,
    config_error,
)


class Simulation(StrictModel):
    """The clock and the seed."""

    noun = "`simulation`"
    ticks_per_day: Annotated[int, Field(ge=1, le=MAX_TICKS_PER_DAY)] = Field(
        description="Ticks per simulated day, 1..100,000."
    )
    num_days: Annotated[int, Field(ge=1, le=MAX_DAYS)] = Field(
        description="Days in the episode, 1..10,000; ticks_per_day × num_days ≤ 10,000,000."
    )
    rng_seed: Annotated[int, Field(ge=0, le=SEED_MAX)] = Field(
        description="Seed of every random stream, in [0, 2^64)."
    )

    @model_validator(mode="after")
    def _episode_fits(self) -> Simulation:
        message = episode_problem(self.ticks_per_day, self.num_days)
        if message is not None:
            raise config_error("episode_too_long", message, at=["num_days"])
        return self

    @property
    def total_ticks(self) -> int:
        """``T``, the number of ticks of the episode."""
        return self.ticks_per_day * self.num_days


def episode_problem(ticks_per_day: int, num_days: int) -> str | None:
    """Why an episode of ``num_days`` days of ``ticks_per_day`` ticks is too long, if it is."""
    total = ticks_per_day * num_days
    if total <= MAX_EPISODE_TICKS:
        return None
    return (
        f"expected ticks_per_day × num_days ≤ {MAX_EPISODE_TICKS:,} ticks, found "
        f"{ticks_per_day} × {num_days} = {total:,}; shorten the episode or coarsen the clock"
    )


LsmAlgorithm = Literal["bilateral", "cycles", "multilateral", "partial"]
"""An LSM algorithm (docs/lsm.md): bilateral offsets, cycles, TARGET2's all-or-nothing
multilateral settlement, partial multilateral settlement."""

_SWITCHES: tuple[tuple[str, LsmAlgorithm], ...] = (
    ("enable_bilateral", "bilateral"),
    ("enable_cycles", "cycles"),
)


class LsmConfig(StrictModel):
    """The liquidity-saving mechanism (ENGINE.md §7, docs/lsm.md).

    ``algorithms``, when given, is the list of algorithms S11 runs, in order; the two switches
    are then its projections: a switch the scenario leaves out is derived from the list, one it
    gives must agree with it. Without ``algorithms`` the switches alone decide (today's LSM).
    """

    noun = "`lsm_config`"
    enable_bilateral: bool = Field(default=True, description="Bilateral offsetting.")
    enable_cycles: bool = Field(default=True, description="Multilateral cycle settlement.")
    max_cycle_length: Annotated[int, Field(ge=3, le=10)] = Field(
        default=4, description="Longest cycle searched, in agents (3..10)."
    )
    max_cycles_per_tick: Count = Field(
        default=10, description="Cycles settled per tick at most (≥ 1)."
    )
    max_iterations: Count = Field(
        default=3, description="LSM iterations (or restarts) per tick (≥ 1)."
    )
    algorithms: list[LsmAlgorithm] | None = Field(
        default=None,
        max_length=4,
        description="The algorithms of the LSM in run order, each at most once: `bilateral`, "
        "`cycles`, `multilateral` (all-or-nothing), `partial` (partial multilateral). "
        "Absent: `bilateral` and `cycles` as the `enable_*` switches say; given: the switches "
        "follow the list and may be left out.",
    )

    @model_validator(mode="after")
    def _list_and_switches_agree(self) -> LsmConfig:
        if self.algorithms is None:
            return self
        for i, name in enumerate(self.algorithms):
            if name in self.algorithms[:i]:
                first = self.algorithms.index(name)
                raise config_error(
                    "duplicate_algorithm",
                    f"`{name}` appears twice in `algorithms` (at {first} and {i}); each "
                    f"algorithm runs at most once per iteration",
                    at=["algorithms", i],
                )
        for switch, name in _SWITCHES:
            listed = name in self.algorithms
            if switch in self.model_fields_set and getattr(self, switch) != listed:
                given = "true" if getattr(self, switch) else "false"
                raise config_error(
                    "contradicts_algorithms",
                    f"`{switch}: {given}` contradicts `algorithms`, which "
                    f"{'lists' if listed else 'does not list'} `{name}`; remove `{switch}` "
                    f"(the list decides) or make it {'true' if listed else 'false'}",
                    at=[switch],
                    suggestion=f"remove `{switch}`",
                )
            setattr(self, switch, listed)
        return self

    def effective_algorithms(self) -> list[LsmAlgorithm]:
        """The algorithms S11 runs, in order (docs/lsm.md §1); empty when the LSM is off."""
        if self.algorithms is not None:
            return list(self.algorithms)
        switched: list[LsmAlgorithm] = []
        for switch, name in _SWITCHES:
            if getattr(self, switch):
                switched.append(name)
        return switched


class PriorityEscalation(StrictModel):
    """Linear escalation of internal priority near deadlines (ENGINE.md §5.1)."""

    noun = "`priority_escalation`"
    enabled: bool = Field(default=False, description="Turn escalation on.")
    curve: Annotated[Literal["linear"], EnumSpelling(["linear"])] = Field(
        default="linear", description="`linear`, the only curve."
    )
    start_escalating_at_ticks: Annotated[int, Field(ge=0, le=U32_MAX)] = Field(
        default=20, description="Escalate when this many ticks or fewer remain before the deadline."
    )
    max_boost: Annotated[int, Field(ge=0, le=MAX_PRIORITY)] = Field(
        default=3, description="Largest priority boost (0..10)."
    )


Point = Annotated[list[Fraction], Field(min_length=2, max_length=2)]
Queue1Ordering = Annotated[
    Literal["fifo", "priority_deadline"], EnumSpelling(["fifo", "priority_deadline"])
]


class Settlement(StrictModel):
    """Engine options; each key may also be given at the top level of the scenario."""

    noun = "`settlement`"
    deferred_crediting: bool = Field(
        default=False, description="Receivers are credited at the end of the tick."
    )
    deadline_cap_at_eod: bool = Field(
        default=False, description="Deadlines never pass the end of their day."
    )
    queue1_ordering: Queue1Ordering = Field(
        default="fifo",
        description="Q1 order: `fifo` or `priority_deadline` (SimCash case accepted).",
    )
    priority_mode: bool = Field(
        default=False, description="Q2 ordered by RTGS priority, then submission."
    )
    priority_escalation: PriorityEscalation = Field(
        default_factory=PriorityEscalation, description="Priority escalation near deadlines."
    )
    entry_disposition_offsetting: bool = Field(
        default=False, description="Offset against an opposite queued payment at submission."
    )
    algorithm_sequencing: bool = Field(
        default=False, description="TARGET2-style restart of the queue pass after any LSM success."
    )
    eod_rush_threshold: Fraction = Field(
        default=0.8, description="Share of the day after which `is_eod_rush` is true (0..1)."
    )
    daily_liquidity_reallocation: bool = Field(
        default=True, description="Pool liquidity returned at EOD and re-allocated at SOD."
    )
    record_decision_paths: bool = Field(
        default=False, description="Policy events carry the node ids traversed."
    )
    throughput_guidance: list[Point] = Field(
        default_factory=lambda: [[0.0, 0.0], [1.0, 1.0]],
        min_length=2,
        description="Piecewise-linear [day_fraction, value_fraction] points, each in [0, 1], "
        "day fractions strictly increasing.",
    )

    @model_validator(mode="after")
    def _increasing(self) -> Settlement:
        xs = [point[0] for point in self.throughput_guidance]
        for i in range(1, len(xs)):
            if xs[i] <= xs[i - 1]:
                raise config_error(
                    "not_increasing",
                    f"expected strictly increasing day fractions in `throughput_guidance`, "
                    f"found {xs[i]} after {xs[i - 1]}",
                    at=["throughput_guidance", i, 0],
                )
        return self


SETTLEMENT_KEYS: frozenset[str] = frozenset(Settlement.model_fields)
"""Keys that may stand at the top level of a scenario too."""
