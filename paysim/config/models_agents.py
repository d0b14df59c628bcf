"""Agents (banks): liquidity, collateral, limits, policy and arrivals (SCENARIO.md "Agents")."""

from __future__ import annotations

import math
from collections.abc import Mapping

from pydantic import Field, model_validator

from paysim.config.models_arrivals import ArrivalBand, ArrivalBands, ArrivalStream
from paysim.config.models_base import (
    AgentId,
    Cents,
    Fraction,
    NonNegCents,
    PolicyParameters,
    StrictModel,
    config_error,
)
from paysim.config.models_policy import PolicySpec, check_form_conflict

_LIMIT_KEYS = ("bilateral_limits", "multilateral_limit")


class Limits(StrictModel):
    """Daily gross outflow limits; absent means unlimited."""

    noun = "`limits`"
    bilateral_limits: dict[AgentId, NonNegCents] = Field(
        default_factory=dict, description="Per receiver: cents per day (≥ 0)."
    )
    multilateral_limit: NonNegCents | None = Field(
        default=None, description="Total cents per day to all receivers (≥ 0); null = unlimited."
    )


class Agent(StrictModel):
    """One bank."""

    noun = "an agent"
    id: AgentId = Field(description="Unique id: 1..64 of A-Z a-z 0-9 _ . -")
    opening_balance: Cents = Field(
        description="Integer cents; may be negative within the overdraft limit."
    )
    unsecured_cap: NonNegCents = Field(default=0, description="Unsecured intraday credit, cents.")
    posted_collateral: NonNegCents = Field(
        default=0, description="Collateral posted at start, cents."
    )
    collateral_haircut: Fraction = Field(default=0.02, description="Haircut on collateral (0..1).")
    max_collateral_capacity: NonNegCents | None = Field(
        default=None,
        description="Ceiling for posting, cents; default 10 × unsecured_cap, raised to "
        "posted_collateral if that is larger.",
    )
    liquidity_pool: NonNegCents = Field(
        default=0, description="External liquidity that can be brought in each day, cents."
    )
    liquidity_allocation_fraction: Fraction = Field(
        default=1.0,
        description="Share of the pool allocated (0..1) when the policy has no "
        "`initial_liquidity_fraction`.",
    )
    liquidity_buffer: NonNegCents = Field(
        default=0, description="Target buffer visible to policies, cents."
    )
    limits: Limits = Field(default_factory=Limits, description="Daily gross outflow limits.")
    policy: PolicySpec = Field(
        default="fifo",
        description="Policy reference: library name, path, `source:name`, inline document or "
        "a SimCash `{type: ...}` form.",
    )
    policy_parameters: PolicyParameters = Field(
        default_factory=dict, description="Overrides of the policy's parameter values."
    )
    arrival_config: ArrivalStream | None = Field(
        default=None, description="One arrivals stream (exclusive with `arrival_bands`)."
    )
    arrival_bands: ArrivalBands | None = Field(
        default=None, description="Streams per priority band (exclusive with `arrival_config`)."
    )

    @classmethod
    def prepare_input(cls, data: dict[str, object]) -> dict[str, object]:
        # SimCash files write the limits on the agent; they are the agent's `limits`
        # (paysim.config.simcash warns that SimCash ignored them there).
        moved = {key: data.pop(key) for key in _LIMIT_KEYS if key in data}
        if not moved:
            return data
        limits = data.get("limits", {})
        if not isinstance(limits, Mapping):
            return {**data, **moved}  # `limits` itself is reported as malformed
        for key in moved:
            if key in limits:
                raise config_error(
                    "duplicate_key",
                    f"`{key}` is given both on the agent and in `limits`; keep the one in `limits`",
                    at=[key],
                    suggestion=f"remove the agent's `{key}`",
                )
        data["limits"] = {**limits, **moved}
        return data

    @classmethod
    def allowed_keys(cls) -> set[str]:
        return super().allowed_keys() | set(_LIMIT_KEYS)

    @model_validator(mode="after")
    def _valid(self) -> Agent:
        if self.arrival_config is not None and self.arrival_bands is not None:
            raise config_error(
                "arrivals_conflict",
                "give either `arrival_config` or `arrival_bands`, not both",
                at=["arrival_bands"],
            )
        check_form_conflict(self.policy, self.policy_parameters)
        limit = self.opening_overdraft_limit
        if self.opening_balance < -limit:
            credit = limit - self.unsecured_cap
            raise config_error(
                "balance_below_limit",
                f"expected an opening balance of at least {-limit} cents, minus the overdraft "
                f"limit at the start (unsecured_cap {self.unsecured_cap} + collateral credit "
                f"{credit} from posted_collateral {self.posted_collateral} at haircut "
                f"{self.collateral_haircut}); found {self.opening_balance}: a balance may be "
                "negative only within the overdraft limit",
                at=["opening_balance"],
                suggestion=f"raise unsecured_cap to at least {-self.opening_balance - credit} "
                "or post collateral, or start from a higher balance",
            )
        return self

    @property
    def opening_overdraft_limit(self) -> int:
        """``L`` at the start (ENGINE.md §3.2): ``unsecured_cap + ⌊posted × K / 10^9⌋``, where
        ``K = round((1 − haircut) × 10^9)``, rounded half up as the engine does."""
        scaled = (1.0 - self.collateral_haircut) * 1e9
        whole = math.floor(scaled)
        k = whole + (1 if scaled - whole >= 0.5 else 0)
        return self.unsecured_cap + self.posted_collateral * k // 1_000_000_000

    @property
    def collateral_capacity(self) -> int:
        """The effective ``max_collateral_capacity`` (the default rule applied)."""
        if self.max_collateral_capacity is not None:
            return max(self.max_collateral_capacity, self.posted_collateral)
        return max(10 * self.unsecured_cap, self.posted_collateral)

    def streams(self) -> list[tuple[tuple[str, ...], ArrivalStream | ArrivalBand]]:
        """Every configured stream with its path below the agent, in engine order."""
        out: list[tuple[tuple[str, ...], ArrivalStream | ArrivalBand]] = []
        if self.arrival_config is not None:
            out.append((("arrival_config",), self.arrival_config))
        if self.arrival_bands is not None:
            for name, band in self.arrival_bands.streams():
                out.append((("arrival_bands", name), band))
        return out
