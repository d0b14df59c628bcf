"""Cost rates and penalties (ENGINE.md §8.1).

Rates are finite and non-negative; basis-point rates are at most 10^4, multipliers at most
1,000 and the delay rate at most 1.0, exactly the bounds the engine enforces. A penalty is an
integer (fixed cents) or ``{mode: fixed, amount}`` or ``{mode: rate, bps_per_event}``; the
integer form stays an ``int`` in the model and becomes ``{mode: fixed}`` in the engine config.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import BeforeValidator, Discriminator, Field, Tag

from paysim.config.models_base import (
    MAX_DELAY_RATE,
    Bps,
    CostMultiplier,
    EnumSpelling,
    NonNegCents,
    StrictModel,
    config_error,
    describe,
    register_tags,
)
from paysim.config.suggest import did_you_mean


class FixedPenalty(StrictModel):
    """A fixed penalty in cents."""

    noun = "a fixed penalty"
    mode: Annotated[Literal["fixed"], EnumSpelling(["fixed"])] = Field(
        description="`fixed`: a fixed amount per event."
    )
    amount: NonNegCents = Field(description="Integer cents per event (≥ 0).")


class RatePenalty(StrictModel):
    """A penalty proportional to the payment amount."""

    noun = "a rate penalty"
    mode: Annotated[Literal["rate"], EnumSpelling(["rate"])] = Field(
        description="`rate`: basis points of the amount per event."
    )
    bps_per_event: Bps = Field(description="Basis points of the amount (0..10^4).")


_PENALTY_TAGS = {"fixed": "FixedPenalty", "rate": "RatePenalty"}
register_tags("Cents", *_PENALTY_TAGS.values())


def _penalty_mode(value: Mapping[object, object]) -> str | None:
    mode = value.get("mode")
    return mode.lower() if isinstance(mode, str) else None


def _penalty_tag(value: object) -> str:
    if isinstance(value, FixedPenalty | RatePenalty):
        return "FixedPenalty" if isinstance(value, FixedPenalty) else "RatePenalty"
    if isinstance(value, Mapping):
        return _PENALTY_TAGS.get(_penalty_mode(value) or "", "FixedPenalty")
    return "Cents"


def _check_penalty(value: object) -> object:
    expected = "an integer (fixed cents), {mode: fixed, amount} or {mode: rate, bps_per_event}"
    if isinstance(value, Mapping):
        if "mode" not in value:
            raise config_error(
                "missing", f"a penalty mapping needs `mode`; expected {expected}", at=["mode"]
            )
        if _penalty_mode(value) not in _PENALTY_TAGS:
            mode = value["mode"]
            raise config_error(
                "unknown_mode",
                f"unknown penalty mode: expected {expected}; found {describe(mode)}",
                at=["mode"],
                suggestion=did_you_mean(mode, _PENALTY_TAGS) if isinstance(mode, str) else None,
            )
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value  # an int is fixed cents; a float gets the integer-cents message
    raise config_error("penalty_type", f"expected a penalty: {expected}; found {describe(value)}")


Penalty = Annotated[
    Annotated[NonNegCents, Tag("Cents")]
    | Annotated[FixedPenalty, Tag("FixedPenalty")]
    | Annotated[RatePenalty, Tag("RatePenalty")],
    Discriminator(_penalty_tag),
    BeforeValidator(_check_penalty),
]
"""A penalty: integer cents, ``{mode: fixed, amount}`` or ``{mode: rate, bps_per_event}``."""

DelayRate = Annotated[float, Field(ge=0.0, le=MAX_DELAY_RATE, allow_inf_nan=False)]


class PriorityDelayMultipliers(StrictModel):
    """Delay-cost multipliers by priority band."""

    noun = "`priority_delay_multipliers`"
    urgent_multiplier: CostMultiplier = Field(default=1.0, description="Band 8–10 (0..1000).")
    normal_multiplier: CostMultiplier = Field(default=1.0, description="Band 4–7 (0..1000).")
    low_multiplier: CostMultiplier = Field(default=1.0, description="Band 0–3 (0..1000).")


class CostRates(StrictModel):
    """The cost model (ENGINE.md §8); every key has the engine's default."""

    noun = "`cost_rates`"
    input_aliases = {"eod_penalty_per_transaction": "eod_penalty"}

    overdraft_bps_per_tick: Bps = Field(
        default=0.001, description="Bps of the negative balance, per tick (0..10^4)."
    )
    delay_cost_per_tick_per_cent: DelayRate = Field(
        default=0.0001, description="Cents per cent of queued remaining amount, per tick (0..1)."
    )
    collateral_cost_per_tick_bps: Bps = Field(
        default=0.0002, description="Bps of posted collateral, per tick (0..10^4)."
    )
    liquidity_cost_per_tick_bps: Bps = Field(
        default=0.0, description="Bps of allocated pool liquidity, per tick (0..10^4; Castro r_c)."
    )
    deadline_penalty: Penalty = Field(
        default=50_000, description="Once per payment that becomes overdue (default 50,000 fixed)."
    )
    eod_penalty: Penalty = Field(
        default=10_000,
        description="Per overdue unsettled payment at each end of day (default 10,000 fixed; "
        "alias `eod_penalty_per_transaction`).",
    )
    drop_penalty: Penalty | None = Field(
        default=None,
        description="Per dropped payment; absent: the EOD penalty plus the deadline penalty "
        "if not yet charged.",
    )
    split_friction_cost: NonNegCents = Field(
        default=1000, description="Integer cents per extra child of a split."
    )
    overdue_delay_multiplier: CostMultiplier = Field(
        default=5.0, description="Delay multiplier once overdue (0..1000)."
    )
    priority_delay_multipliers: PriorityDelayMultipliers = Field(
        default_factory=PriorityDelayMultipliers,
        description="Delay multipliers by priority band.",
    )
