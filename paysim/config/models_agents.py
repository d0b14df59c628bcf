"""Agents (banks): liquidity, collateral, limits, policy and arrivals (SCENARIO.md "Agents")."""

from __future__ import annotations

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

    @model_validator(mode="after")
    def _valid(self) -> Agent:
        if self.arrival_config is not None and self.arrival_bands is not None:
            raise config_error(
                "arrivals_conflict",
                "give either `arrival_config` or `arrival_bands`, not both",
                at=["arrival_bands"],
            )
        check_form_conflict(self.policy, self.policy_parameters)
        return self

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
