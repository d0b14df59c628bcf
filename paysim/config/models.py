"""The scenario model: the top level of SCENARIO.md, and the home of every model class.

:class:`Scenario` validates a whole scenario. Its parts live in ``models_*`` modules by domain
(arrivals, costs, settlement, policies, events, agents); they are re-exported here so users
import every model from one place. After the parts validate, :mod:`paysim.config.models_checks`
checks what spans several of them; its first problem is raised, with the others listed in the
error context for the loader to report.

A scenario remembers where it came from (``source``, ``base_dir``), because relative policy
paths are resolved against the scenario file, and the warnings raised while loading it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, PrivateAttr, model_validator

from paysim.config.models_agents import Agent, Limits
from paysim.config.models_arrivals import (
    AmountDistribution,
    ArrivalBand,
    ArrivalBands,
    ArrivalStream,
    CategoricalPriority,
    ExponentialAmount,
    FixedAmount,
    FixedPriority,
    Generator,
    LogNormalAmount,
    NormalAmount,
    PriorityDistribution,
    TimeWindow,
    UniformAmount,
    UniformPriority,
)
from paysim.config.models_base import (
    MAX_AGENTS,
    EnumSpelling,
    StrictModel,
    config_error,
    describe,
)
from paysim.config.models_checks import scenario_problems, scenario_warnings
from paysim.config.models_costs import (
    CostRates,
    FixedPenalty,
    Penalty,
    PriorityDelayMultipliers,
    RatePenalty,
)
from paysim.config.models_events import (
    AgentArrivalRateChange,
    AgentOutage,
    CollateralAdjustment,
    CounterpartyWeightChange,
    CustomTransactionArrival,
    DeadlineWindowChange,
    DirectTransfer,
    GlobalArrivalRateChange,
    OneTimeSchedule,
    PolicyChange,
    RepeatingSchedule,
    ScenarioEvent,
    ScheduledSettlement,
    UnsecuredCapChange,
)
from paysim.config.models_policy import (
    DeadlinePolicy,
    FifoPolicy,
    FromJsonPolicy,
    InlineJsonPolicy,
    InlinePolicy,
    LiquidityAwarePolicy,
    LiquiditySplittingPolicy,
    PolicySpec,
)
from paysim.config.models_settlement import (
    SETTLEMENT_KEYS,
    LsmConfig,
    PriorityEscalation,
    Settlement,
    Simulation,
)

OnPolicyError = Annotated[Literal["fail", "hold"], EnumSpelling(["fail", "hold"])]


class Scenario(StrictModel):
    """A whole scenario: clock, banks, costs, settlement options and scheduled events."""

    noun = "the scenario"

    description: str | None = Field(default=None, description="Free text shown in reports.")
    simulation: Simulation = Field(description="Clock and seed.")
    agents: list[Agent] = Field(
        min_length=2,
        max_length=MAX_AGENTS,
        description="The banks: 2..10,000, unique ids.",
    )
    cost_rates: CostRates = Field(default_factory=CostRates, description="The cost model.")
    lsm_config: LsmConfig = Field(
        default_factory=LsmConfig, description="The liquidity-saving mechanism."
    )
    settlement: Settlement = Field(
        default_factory=Settlement,
        description="Engine options; each key may also stand at the top level (not both).",
    )
    scenario_events: list[ScenarioEvent] = Field(
        default_factory=list, description="Scheduled interventions, run in this order."
    )
    on_policy_error: OnPolicyError = Field(
        default="fail", description="What a run-time policy error does: `fail` or `hold`."
    )

    _source: str | None = PrivateAttr(None)
    _base_dir: Path | None = PrivateAttr(None)
    _warnings: list[tuple[tuple[str | int, ...], str]] = PrivateAttr(default_factory=list)

    @classmethod
    def prepare_input(cls, data: dict[str, object]) -> dict[str, object]:
        agents = data.get("agents")
        if isinstance(agents, list) and len(agents) > MAX_AGENTS:
            # Refused before any agent is validated, so a huge list fails fast.
            raise config_error(
                "too_many_agents",
                f"expected at most {MAX_AGENTS:,} agents, found {len(agents):,}",
                at=["agents"],
            )
        moved = {key: data.pop(key) for key in list(data) if key in SETTLEMENT_KEYS}
        if not moved:
            return data
        nested = data.get("settlement", {})
        if not isinstance(nested, Mapping):
            raise config_error(
                "model_type",
                f"expected `settlement` to be a mapping, found {describe(nested)}",
                at=["settlement"],
            )
        for key in moved:
            if key in nested:
                raise config_error(
                    "duplicate_key",
                    f"`{key}` is given both at the top level and in `settlement`; a setting "
                    "may stand in either place, not both: keep one",
                    at=[key],
                    suggestion=f"remove the top-level `{key}`",
                )
        data["settlement"] = {**nested, **moved}
        return data

    @classmethod
    def allowed_keys(cls) -> set[str]:
        return super().allowed_keys() | SETTLEMENT_KEYS

    @model_validator(mode="after")
    def _whole_scenario(self) -> Scenario:
        problems = scenario_problems(self)
        if problems:
            first = problems[0]
            raise config_error(
                first.code,
                first.message,
                at=first.path,
                suggestion=first.suggestion,
                others=[(p.path, p.message, p.suggestion) for p in problems[1:]],
            )
        self._warnings = scenario_warnings(self)
        return self

    @property
    def source(self) -> str | None:
        """The file this scenario was loaded from, if any."""
        return self._source

    @property
    def base_dir(self) -> Path | None:
        """The directory relative policy paths are resolved against first."""
        return self._base_dir

    @property
    def load_warnings(self) -> list[tuple[tuple[str | int, ...], str]]:
        """Warnings found while validating: ``(path, message)`` pairs."""
        return list(self._warnings)

    def with_origin(self, source: str | None, base_dir: Path | None) -> Scenario:
        """Records where the scenario came from (the loader calls this); returns ``self``."""
        self._source = source
        self._base_dir = base_dir
        return self

    def total_ticks(self) -> int:
        """``T = num_days × ticks_per_day``."""
        return self.simulation.total_ticks

    def agent_ids(self) -> list[str]:
        """Agent ids in scenario order."""
        return [agent.id for agent in self.agents]

    def to_dict(self) -> dict[str, object]:
        """The scenario as plain data in canonical key spellings; loads back to an equal model."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


__all__ = [
    "Agent",
    "AgentArrivalRateChange",
    "AgentOutage",
    "AmountDistribution",
    "ArrivalBand",
    "ArrivalBands",
    "ArrivalStream",
    "CategoricalPriority",
    "CollateralAdjustment",
    "CostRates",
    "CounterpartyWeightChange",
    "CustomTransactionArrival",
    "DeadlinePolicy",
    "DeadlineWindowChange",
    "DirectTransfer",
    "ExponentialAmount",
    "FifoPolicy",
    "FixedAmount",
    "FixedPenalty",
    "FixedPriority",
    "FromJsonPolicy",
    "Generator",
    "GlobalArrivalRateChange",
    "InlineJsonPolicy",
    "InlinePolicy",
    "Limits",
    "LiquidityAwarePolicy",
    "LiquiditySplittingPolicy",
    "LogNormalAmount",
    "LsmConfig",
    "NormalAmount",
    "OneTimeSchedule",
    "Penalty",
    "PolicyChange",
    "PolicySpec",
    "PriorityDelayMultipliers",
    "PriorityDistribution",
    "PriorityEscalation",
    "RatePenalty",
    "RepeatingSchedule",
    "Scenario",
    "ScenarioEvent",
    "ScheduledSettlement",
    "Settlement",
    "Simulation",
    "TimeWindow",
    "UniformAmount",
    "UniformPriority",
    "UnsecuredCapChange",
]
