"""Arrival streams: amount and priority distributions, time windows, bands, plugin generators.

These mirror ENGINE.md §9 and the "Arrivals stream" table of SCENARIO.md. The checks that need
only the stream itself live here (pairs of keys, ranges, λ cap of a stream's own windows); the
ones that need the rest of the scenario (agent ids, ticks per day, rate-change events) are in
:mod:`paysim.config.models_checks`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Discriminator, Field, JsonValue, model_validator

from paysim.config.models_base import (
    MAX_LAMBDA,
    MAX_TICKS,
    AgentId,
    FiniteFloat,
    PaymentAmount,
    PositiveFloat,
    Priority,
    StrictModel,
    Tick,
    Weight,
    config_error,
    tagged,
)

# ---------------------------------------------------------------------------------------------
# Amount distributions
# ---------------------------------------------------------------------------------------------


class UniformAmount(StrictModel):
    """Uniform integer amounts: ``min + bounded(max − min + 1)``."""

    noun = "a Uniform amount distribution"
    type: Literal["Uniform"] = Field(description="Distribution type.")
    min: PaymentAmount = Field(description="Smallest amount, integer cents (1..10^15).")
    max: PaymentAmount = Field(description="Largest amount, integer cents (min..10^15).")

    @model_validator(mode="after")
    def _ordered(self) -> UniformAmount:
        if self.min > self.max:
            raise config_error(
                "range_order",
                f"expected `min` ≤ `max`, found min {self.min} > max {self.max}",
                at=["max"],
            )
        return self


class NormalAmount(StrictModel):
    """Normal amounts, rounded to cents and clamped to [1, 10^15]."""

    noun = "a Normal amount distribution"
    type: Literal["Normal"] = Field(description="Distribution type.")
    mean: FiniteFloat = Field(description="Mean, in cents.")
    std_dev: Weight = Field(description="Standard deviation, in cents (≥ 0).")


class LogNormalAmount(StrictModel):
    """Log-normal amounts, given either in log space or by arithmetic moments (not both)."""

    noun = "a LogNormal amount distribution"
    type: Literal["LogNormal"] = Field(description="Distribution type.")
    mu: FiniteFloat | None = Field(
        default=None,
        description="Log-space mean (with `sigma`): amount = round(exp(mu + sigma·z)).",
    )
    sigma: Weight | None = Field(
        default=None, description="Log-space standard deviation (with `mu`)."
    )
    mean: PositiveFloat | None = Field(
        default=None, description="Arithmetic mean in cents (with `std_dev`), > 0."
    )
    std_dev: Weight | None = Field(
        default=None, description="Arithmetic standard deviation in cents (with `mean`), ≥ 0."
    )

    @model_validator(mode="after")
    def _one_form(self) -> LogNormalAmount:
        log_space = {k for k in ("mu", "sigma") if getattr(self, k) is not None}
        moments = {k for k in ("mean", "std_dev") if getattr(self, k) is not None}
        forms = "either `{mu, sigma}` (log space) or `{mean, std_dev}` (arithmetic, in cents)"
        if log_space and moments:
            raise config_error(
                "lognormal_form",
                f"LogNormal takes {forms}, not keys of both: found "
                + ", ".join(f"`{k}`" for k in sorted(log_space | moments)),
                at=[sorted(moments)[0]],
            )
        for pair, given in ((("mu", "sigma"), log_space), (("mean", "std_dev"), moments)):
            if given and len(given) == 1:
                missing = next(k for k in pair if k not in given)
                raise config_error(
                    "missing",
                    f"LogNormal with `{next(iter(given))}` also needs `{missing}`; "
                    f"it takes {forms}",
                    at=[missing],
                )
        if not log_space and not moments:
            raise config_error("missing", f"LogNormal needs {forms}; neither is given", at=["mu"])
        return self

    @property
    def suspicious_moments(self) -> bool:
        """``{mean, std_dev}`` with a mean below 1,000 cents: probably meant as log space."""
        return self.mean is not None and self.mean < 1000


class ExponentialAmount(StrictModel):
    """Exponential amounts: ``round(−mean × ln(1 − u))``; give `mean` or `lambda`."""

    noun = "an Exponential amount distribution"
    type: Literal["Exponential"] = Field(description="Distribution type.")
    mean: PositiveFloat | None = Field(
        default=None, description="Mean in cents (> 0); or `lambda`."
    )
    lambda_: PositiveFloat | None = Field(
        default=None, alias="lambda", description="Rate (> 0), mean = 1/lambda; or `mean`."
    )

    @model_validator(mode="after")
    def _one_form(self) -> ExponentialAmount:
        if self.mean is not None and self.lambda_ is not None:
            raise config_error(
                "exponential_form",
                "Exponential takes either `mean` or `lambda`, not both",
                at=["lambda"],
            )
        if self.mean is None and self.lambda_ is None:
            raise config_error(
                "missing",
                "Exponential needs `mean` (cents) or `lambda`; neither is given",
                at=["mean"],
            )
        return self


class FixedAmount(StrictModel):
    """Every payment has the same amount (no draw)."""

    noun = "a Fixed amount distribution"
    type: Literal["Fixed"] = Field(description="Distribution type.")
    amount: PaymentAmount = Field(description="The amount, integer cents (1..10^15).")


AMOUNT_TYPES = ("Uniform", "Normal", "LogNormal", "Exponential", "Fixed")
AmountDistribution = Annotated[
    UniformAmount | NormalAmount | LogNormalAmount | ExponentialAmount | FixedAmount,
    Discriminator("type"),
    tagged("type", AMOUNT_TYPES, "an amount distribution"),
]

# ---------------------------------------------------------------------------------------------
# Priority distributions
# ---------------------------------------------------------------------------------------------


class FixedPriority(StrictModel):
    """Every payment gets this internal priority."""

    noun = "a Fixed priority distribution"
    type: Literal["Fixed"] = Field(description="Distribution type.")
    value: Priority = Field(description="The priority, 0..10.")


class UniformPriority(StrictModel):
    """Priority drawn uniformly in ``min..max``."""

    noun = "a Uniform priority distribution"
    type: Literal["Uniform"] = Field(description="Distribution type.")
    min: Priority = Field(description="Lowest priority, 0..10.")
    max: Priority = Field(description="Highest priority, min..10.")

    @model_validator(mode="after")
    def _ordered(self) -> UniformPriority:
        if self.min > self.max:
            raise config_error(
                "range_order",
                f"expected `min` ≤ `max`, found min {self.min} > max {self.max}",
                at=["max"],
            )
        return self


class CategoricalPriority(StrictModel):
    """Priority drawn from ``values`` with the given ``weights``."""

    noun = "a Categorical priority distribution"
    type: Literal["Categorical"] = Field(description="Distribution type.")
    values: list[Priority] = Field(min_length=1, description="Priorities, each 0..10.")
    weights: list[Weight] = Field(
        min_length=1, description="One weight ≥ 0 per value; the total must be > 0."
    )

    @model_validator(mode="after")
    def _matching(self) -> CategoricalPriority:
        if len(self.values) != len(self.weights):
            raise config_error(
                "length_mismatch",
                f"expected one weight per value: found {len(self.values)} values and "
                f"{len(self.weights)} weights",
                at=["weights"],
            )
        if sum(self.weights) <= 0:
            raise config_error(
                "zero_total_weight", "expected a positive total weight, found 0", at=["weights"]
            )
        return self


PRIORITY_TYPES = ("Fixed", "Uniform", "Categorical")
PriorityDistribution = Annotated[
    FixedPriority | UniformPriority | CategoricalPriority,
    Discriminator("type"),
    tagged("type", PRIORITY_TYPES, "a priority distribution"),
]

# ---------------------------------------------------------------------------------------------
# Streams
# ---------------------------------------------------------------------------------------------

DeadlineOffset = Annotated[int, Field(ge=1, le=MAX_TICKS)]
StreamRate = Annotated[float, Field(ge=0.0, le=MAX_LAMBDA, allow_inf_nan=False)]


class TimeWindow(StrictModel):
    """A rate multiplier applied when ``start_tick ≤ tick_within_day < end_tick``."""

    noun = "a time window"
    start_tick: Tick = Field(description="First tick of day the window covers.")
    end_tick: Tick = Field(description="Tick of day after the window (≤ ticks_per_day).")
    rate_multiplier: StreamRate = Field(
        description="Multiplies the rate inside the window (≥ 0; overlapping windows multiply)."
    )

    @model_validator(mode="after")
    def _ordered(self) -> TimeWindow:
        if self.start_tick >= self.end_tick:
            raise config_error(
                "window_order",
                f"expected `start_tick` < `end_tick`, found {self.start_tick} ≥ {self.end_tick}",
                at=["end_tick"],
            )
        return self


class Generator(StrictModel):
    """A plugin arrival generator used instead of the built-in Poisson stream."""

    noun = "a generator"
    name: str = Field(min_length=1, description="Registered arrival-generator name.")
    options: dict[str, JsonValue] = Field(
        default_factory=dict, description="Options passed to the generator."
    )


class _StreamBase(StrictModel):
    rate_per_tick: StreamRate | None = Field(
        default=None,
        description="Poisson mean per tick (≥ 0; λ with multipliers is capped at 10^6). "
        "Required unless `generator` is given, which excludes it.",
    )
    amount_distribution: AmountDistribution | None = Field(
        default=None,
        description="Amount distribution. Required unless `generator` is given, which "
        "excludes it. LogNormal `{mean, std_dev}` with mean < 1000 cents loads with a warning.",
    )
    counterparty_weights: dict[AgentId, Weight] = Field(
        default_factory=dict,
        description="Receiver weights; {} = uniform over the other agents; unlisted agents get "
        "0 when a map is given; the total must be > 0.",
    )
    divisible: bool = Field(default=False, description="May the payments be split.")
    time_windows: list[TimeWindow] = Field(
        default_factory=list, description="Rate multipliers over tick-of-day."
    )
    generator: Generator | None = Field(
        default=None,
        description="Plugin arrival generator; excludes `rate_per_tick` and `amount_distribution`.",
    )

    def _check_stream(self) -> None:
        if self.generator is not None:
            for key in ("rate_per_tick", "amount_distribution"):
                if getattr(self, key) is not None:
                    raise config_error(
                        "generator_conflict",
                        f"`{key}` is not allowed together with `generator`: the generator "
                        f"supplies every attribute of its payments; remove `{key}`",
                        at=[key],
                    )
        else:
            for key in ("rate_per_tick", "amount_distribution"):
                if getattr(self, key) is None:
                    raise config_error(
                        "missing",
                        f"an arrivals stream needs `{key}` (or a `generator`); it is missing",
                        at=[key],
                    )
        if self.counterparty_weights and sum(self.counterparty_weights.values()) <= 0:
            raise config_error(
                "zero_total_weight",
                "expected `counterparty_weights` with a positive total (or {} for uniform), "
                "found a total of 0",
                at=["counterparty_weights"],
            )
        peak = peak_window_multiplier(self.time_windows)
        if self.rate_per_tick is not None and self.rate_per_tick * peak > MAX_LAMBDA:
            raise config_error(
                "lambda_cap",
                f"expected λ ≤ 10^6, found rate_per_tick {self.rate_per_tick} × peak time-window "
                f"multiplier {peak} = {self.rate_per_tick * peak}",
                at=["rate_per_tick"],
            )


def peak_window_multiplier(windows: list[TimeWindow]) -> float:
    """The largest product of overlapping window multipliers at any tick of day (≥ 1.0)."""
    peak = 1.0
    for window in windows:
        t = window.start_tick
        product = 1.0
        for other in windows:
            if other.start_tick <= t < other.end_tick:
                product *= other.rate_multiplier
        peak = max(peak, product)
    return peak


class ArrivalStream(_StreamBase):
    """One arrivals stream of an agent (``arrival_config``)."""

    noun = "an arrivals stream"
    deadline_range: list[DeadlineOffset] = Field(
        default_factory=lambda: [10, 50],
        min_length=2,
        max_length=2,
        description="[min, max] deadline offset in ticks after arrival, 1 ≤ min ≤ max.",
    )
    priority_distribution: PriorityDistribution | None = Field(
        default=None, description="Internal priority distribution; default {type: Fixed, value: 5}."
    )
    priority: Priority | None = Field(
        default=None, description="Legacy fixed priority 0..10 (excludes `priority_distribution`)."
    )

    @model_validator(mode="after")
    def _valid(self) -> ArrivalStream:
        self._check_stream()
        low, high = self.deadline_range
        if low > high:
            raise config_error(
                "range_order",
                f"expected `deadline_range` [min, max] with min ≤ max, found [{low}, {high}]",
                at=["deadline_range", 1],
            )
        if self.priority is not None and self.priority_distribution is not None:
            raise config_error(
                "priority_conflict",
                "give either `priority_distribution` or the legacy `priority`, not both",
                at=["priority"],
            )
        return self


class ArrivalBand(_StreamBase):
    """A priority band's stream: priority is uniform within the band."""

    noun = "an arrival band"
    deadline_offset_min: DeadlineOffset | None = Field(
        default=None,
        description="Smallest deadline offset in ticks (≥ 1; required without generator).",
    )
    deadline_offset_max: DeadlineOffset | None = Field(
        default=None,
        description="Largest deadline offset in ticks (≥ min; required without generator).",
    )

    @model_validator(mode="after")
    def _valid(self) -> ArrivalBand:
        self._check_stream()
        low, high = self.deadline_offset_min, self.deadline_offset_max
        if self.generator is None:
            for key, value in (("deadline_offset_min", low), ("deadline_offset_max", high)):
                if value is None:
                    raise config_error(
                        "missing", f"an arrival band needs `{key}`; it is missing", at=[key]
                    )
        if low is not None and high is not None and low > high:
            raise config_error(
                "range_order",
                f"expected `deadline_offset_min` ≤ `deadline_offset_max`, found {low} > {high}",
                at=["deadline_offset_max"],
            )
        return self


class ArrivalBands(StrictModel):
    """Separate streams per priority band: urgent 8–10, normal 4–7, low 0–3."""

    noun = "`arrival_bands`"
    urgent: ArrivalBand | None = Field(default=None, description="Band of priorities 8–10.")
    normal: ArrivalBand | None = Field(default=None, description="Band of priorities 4–7.")
    low: ArrivalBand | None = Field(default=None, description="Band of priorities 0–3.")

    def streams(self) -> list[tuple[str, ArrivalBand]]:
        """The given bands, in engine order (urgent, normal, low)."""
        pairs = (("urgent", self.urgent), ("normal", self.normal), ("low", self.low))
        return [(name, band) for name, band in pairs if band is not None]
