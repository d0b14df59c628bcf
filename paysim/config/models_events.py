"""Scenario events (ENGINE.md §10): the eleven types, as a union tagged by ``type``.

Every event but ``AgentOutage`` has a schedule, written either flat (``schedule: OneTime`` with
``tick`` beside it, the SimCash form) or nested (``schedule: {type: OneTime, tick: 5}``); the
flat form is folded into the nested one before validation, so the model has one shape. Checks
that need the whole scenario (agent ids exist, ticks inside the episode) are in
:mod:`paysim.config.models_checks`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Discriminator, Field, model_validator

from paysim.config.models_base import (
    MAX_TICKS,
    AgentId,
    Cents,
    EnumSpelling,
    PaymentAmount,
    PolicyParameters,
    PositiveCents,
    PositiveFloat,
    Priority,
    RateMultiplier,
    StrictModel,
    Tick,
    Weight,
    config_error,
    tagged,
)
from paysim.config.models_policy import PolicySpec, check_form_conflict


class OneTimeSchedule(StrictModel):
    """Fires once, at ``tick``."""

    noun = "a OneTime schedule"
    type: Literal["OneTime"] = Field(description="Schedule type.")
    tick: Tick = Field(description="The tick (< num_days × ticks_per_day).")


class RepeatingSchedule(StrictModel):
    """Fires at ``start_tick + k × interval`` while that is inside the episode."""

    noun = "a Repeating schedule"
    type: Literal["Repeating"] = Field(description="Schedule type.")
    start_tick: Tick = Field(description="First tick (< num_days × ticks_per_day).")
    interval: Annotated[int, Field(ge=1, le=MAX_TICKS)] = Field(
        description="Ticks between firings (> 0)."
    )


SCHEDULE_TYPES = ("OneTime", "Repeating")
_SCHEDULE_SPELLINGS = {t.lower(): t for t in SCHEDULE_TYPES} | {
    "one_time": "OneTime",
    "once": "OneTime",
}
_FLAT_SCHEDULE_KEYS = ("tick", "start_tick", "interval")

Schedule = Annotated[
    OneTimeSchedule | RepeatingSchedule,
    Discriminator("type"),
    tagged("type", SCHEDULE_TYPES, "a schedule"),
]


def _canonical_schedule_type(value: object) -> object:
    if isinstance(value, str):
        return _SCHEDULE_SPELLINGS.get(value.lower(), value)
    return value


class _ScheduledEvent(StrictModel):
    schedule: Schedule = Field(
        description="`OneTime` with `tick`, or `Repeating` with `start_tick` and `interval`; "
        "flat (`schedule: OneTime` beside `tick`) or nested (`{type: OneTime, tick}`)."
    )

    @classmethod
    def prepare_input(cls, data: dict[str, object]) -> dict[str, object]:
        flat = [key for key in _FLAT_SCHEDULE_KEYS if key in data]
        schedule = data.get("schedule")
        if "schedule" not in data:
            if flat:
                raise config_error(
                    "missing",
                    f"a scheduled event with `{flat[0]}` needs `schedule` (`OneTime` or "
                    "`Repeating`); it is missing",
                    at=["schedule"],
                    suggestion="add `schedule: OneTime`"
                    if flat == ["tick"]
                    else "add `schedule: Repeating`",
                )
            return data
        if isinstance(schedule, str):
            nested: dict[str, object] = {"type": _canonical_schedule_type(schedule)}
            for key in flat:
                nested[key] = data.pop(key)
            data["schedule"] = nested
        elif isinstance(schedule, dict):
            if flat:
                raise config_error(
                    "schedule_form",
                    f"`{flat[0]}` must be inside `schedule` when `schedule` is a mapping "
                    "(or write the flat form `schedule: OneTime` with `tick` beside it)",
                    at=[flat[0]],
                )
            if "type" in schedule:
                data["schedule"] = {**schedule, "type": _canonical_schedule_type(schedule["type"])}
        return data


def _distinct(event: _TransferFields) -> None:
    if event.from_agent == event.to_agent:
        raise config_error(
            "same_agent",
            f"expected `to_agent` different from `from_agent`, found `{event.to_agent}` for both",
            at=["to_agent"],
        )


class _TransferFields(_ScheduledEvent):
    from_agent: AgentId = Field(description="Paying agent.")
    to_agent: AgentId = Field(description="Receiving agent (≠ from_agent).")


class DirectTransfer(_TransferFields):
    """Moves ``amount`` unconditionally (no limits, may leave the payer below its limit)."""

    noun = "a DirectTransfer event"
    type: Literal["DirectTransfer"] = Field(description="Event type.")
    amount: PositiveCents = Field(description="Integer cents (≥ 1).")

    @model_validator(mode="after")
    def _valid(self) -> DirectTransfer:
        _distinct(self)
        return self


RtgsPriority = Annotated[
    Literal["HighlyUrgent", "Urgent", "Normal"],
    EnumSpelling(["HighlyUrgent", "Urgent", "Normal"]),
]


class CustomTransactionArrival(_TransferFields):
    """Creates a payment arriving at the scheduled tick."""

    noun = "a CustomTransactionArrival event"
    type: Literal["CustomTransactionArrival"] = Field(description="Event type.")
    amount: PaymentAmount = Field(description="Integer cents (1..10^15).")
    priority: Priority = Field(default=5, description="Internal priority 0..10.")
    deadline: Tick | None = Field(
        default=None, description="Ticks after arrival; default max(⌊ticks_per_day/10⌋, 5)."
    )
    is_divisible: bool = Field(default=False, description="May the payment be split.")
    rtgs_priority: RtgsPriority = Field(
        default="Normal", description="Declared RTGS priority: HighlyUrgent, Urgent or Normal."
    )

    @model_validator(mode="after")
    def _valid(self) -> CustomTransactionArrival:
        _distinct(self)
        return self


class ScheduledSettlement(_TransferFields):
    """Settles ``amount`` at once under the RTGS rule, without creating a payment."""

    noun = "a ScheduledSettlement event"
    type: Literal["ScheduledSettlement"] = Field(description="Event type.")
    amount: PositiveCents = Field(description="Integer cents (≥ 1).")

    @model_validator(mode="after")
    def _valid(self) -> ScheduledSettlement:
        _distinct(self)
        return self


class CollateralAdjustment(_ScheduledEvent):
    """Changes the agent's posted collateral by ``delta``."""

    noun = "a CollateralAdjustment event"
    type: Literal["CollateralAdjustment"] = Field(description="Event type.")
    agent: AgentId = Field(description="The agent.")
    delta: Cents = Field(description="Change of posted collateral, integer cents.")


class UnsecuredCapChange(_ScheduledEvent):
    """Changes the agent's unsecured cap by ``delta`` (floored at 0)."""

    noun = "an UnsecuredCapChange event"
    type: Literal["UnsecuredCapChange"] = Field(description="Event type.")
    agent: AgentId = Field(description="The agent.")
    delta: Cents = Field(description="Change of the unsecured cap, integer cents.")


class GlobalArrivalRateChange(_ScheduledEvent):
    """Sets the global arrival-rate multiplier of every stream."""

    noun = "a GlobalArrivalRateChange event"
    type: Literal["GlobalArrivalRateChange"] = Field(description="Event type.")
    multiplier: RateMultiplier = Field(description="New multiplier (> 0), relative to config.")


class AgentArrivalRateChange(_ScheduledEvent):
    """Sets one agent's arrival-rate multiplier."""

    noun = "an AgentArrivalRateChange event"
    type: Literal["AgentArrivalRateChange"] = Field(description="Event type.")
    agent: AgentId = Field(description="The agent.")
    multiplier: RateMultiplier = Field(description="New multiplier (> 0), relative to config.")


class CounterpartyWeightChange(_ScheduledEvent):
    """Sets one counterparty weight in all the agent's streams."""

    noun = "a CounterpartyWeightChange event"
    type: Literal["CounterpartyWeightChange"] = Field(description="Event type.")
    agent: AgentId = Field(description="The sending agent.")
    counterparty: AgentId = Field(description="The receiver whose weight changes (≠ agent).")
    new_weight: Weight = Field(description="New weight (≥ 0).")

    @model_validator(mode="after")
    def _valid(self) -> CounterpartyWeightChange:
        if self.agent == self.counterparty:
            raise config_error(
                "same_agent",
                f"expected a `counterparty` other than the agent, found `{self.agent}` for both",
                at=["counterparty"],
            )
        return self


class DeadlineWindowChange(_ScheduledEvent):
    """Scales every stream's deadline range, relative to the configured ranges."""

    noun = "a DeadlineWindowChange event"
    type: Literal["DeadlineWindowChange"] = Field(description="Event type.")
    min_ticks_multiplier: PositiveFloat | None = Field(
        default=None, description="Multiplier of the minimum offset (> 0); null = unchanged."
    )
    max_ticks_multiplier: PositiveFloat | None = Field(
        default=None, description="Multiplier of the maximum offset (> 0); null = unchanged."
    )


class AgentOutage(StrictModel):
    """The agent releases nothing during ``start_tick ≤ t < end_tick``; no schedule."""

    noun = "an AgentOutage event"
    type: Literal["AgentOutage"] = Field(description="Event type.")
    agent: AgentId = Field(description="The agent.")
    start_tick: Tick = Field(description="First tick of the outage.")
    end_tick: Tick = Field(description="Tick the outage ends (start_tick < end_tick ≤ T).")

    @classmethod
    def prepare_input(cls, data: dict[str, object]) -> dict[str, object]:
        for key in ("schedule", "tick", "interval"):
            if key in data:
                raise config_error(
                    "outage_schedule",
                    f"an AgentOutage carries its own window (`start_tick`, `end_tick`) and has "
                    f"no schedule; remove `{key}`",
                    at=[key],
                    suggestion=f"remove `{key}`",
                )
        return data

    @model_validator(mode="after")
    def _valid(self) -> AgentOutage:
        if self.start_tick >= self.end_tick:
            raise config_error(
                "window_order",
                f"expected `start_tick` < `end_tick`, found {self.start_tick} ≥ {self.end_tick}",
                at=["end_tick"],
            )
        return self


class PolicyChange(_ScheduledEvent):
    """Replaces the agent's policy from the scheduled tick."""

    noun = "a PolicyChange event"
    type: Literal["PolicyChange"] = Field(description="Event type.")
    agent: AgentId = Field(description="The agent.")
    policy: PolicySpec = Field(description="The new policy (any policy reference form).")
    policy_parameters: PolicyParameters = Field(
        default_factory=dict,
        description="Parameter overrides for the new policy; earlier overrides never carry over.",
    )

    @model_validator(mode="after")
    def _valid(self) -> PolicyChange:
        check_form_conflict(self.policy, self.policy_parameters)
        return self


EVENT_TYPES = (
    "DirectTransfer",
    "CustomTransactionArrival",
    "ScheduledSettlement",
    "CollateralAdjustment",
    "UnsecuredCapChange",
    "GlobalArrivalRateChange",
    "AgentArrivalRateChange",
    "CounterpartyWeightChange",
    "DeadlineWindowChange",
    "AgentOutage",
    "PolicyChange",
)

ScenarioEvent = Annotated[
    DirectTransfer
    | CustomTransactionArrival
    | ScheduledSettlement
    | CollateralAdjustment
    | UnsecuredCapChange
    | GlobalArrivalRateChange
    | AgentArrivalRateChange
    | CounterpartyWeightChange
    | DeadlineWindowChange
    | AgentOutage
    | PolicyChange,
    Discriminator("type"),
    tagged("type", EVENT_TYPES, "a scenario event"),
]
"""One scheduled intervention, tagged by ``type``."""
