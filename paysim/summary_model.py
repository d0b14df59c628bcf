"""The run summary (INTERFACES.md §1) as pydantic models: the one source of its JSON Schema.

``Simulation.summary()``, ``paysim run --format json``, the API and stored runs all produce this
shape. The engine builds the numbers; these models exist so the shape is written down once, with
a description per key, and so ``make schemas`` can publish ``schemas/run_summary.schema.json``
for consumers in other languages. Every model forbids extra keys: a key added to the summary
without being added here makes the schema test fail instead of drifting silently.
"""

from __future__ import annotations

import json
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

Count = Annotated[int, Field(ge=0)]
Cents = Annotated[int, Field(ge=-(2**63), le=2**63 - 1, description="Integer cents.")]
CostCents = Annotated[int, Field(ge=0, le=2**63 - 1, description="Integer cents (≥ 0).")]
Rate = Annotated[float, Field(ge=0.0, le=1.0)]


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Costs(_Closed):
    """Costs per component, cumulative over the run; ``total`` is the sum of the others."""

    overdraft: CostCents = Field(description="Charged on negative balances, per tick.")
    delay: CostCents = Field(description="Charged on queued payments, per tick.")
    collateral: CostCents = Field(description="Opportunity cost of posted collateral, per tick.")
    liquidity: CostCents = Field(description="Opportunity cost of allocated pool liquidity.")
    deadline_penalty: CostCents = Field(description="Once per payment that became overdue.")
    eod_penalty: CostCents = Field(description="Per overdue unsettled payment at each end of day.")
    drop_penalty: CostCents = Field(description="Per dropped payment.")
    split_friction: CostCents = Field(description="Per extra piece of a split payment.")
    total: CostCents = Field(description="The sum of the other components.")


class Totals(_Closed):
    """System-wide counts; ``arrivals = settled + dropped + unsettled``."""

    arrivals: Count = Field(description="Original payments that arrived (split pieces excluded).")
    settled: Count = Field(description="Original payments fully settled.")
    settled_value: Count = Field(description="Their amounts, integer cents.")
    unsettled: Count = Field(description="Original payments neither settled nor dropped.")
    dropped: Count = Field(description="Original payments dropped.")
    overdue: Count = Field(description="Original payments marked overdue at any point.")
    lsm_settled: Count = Field(
        description="Pieces and payments settled by an offset mechanism (OffsetSettlement)."
    )
    settlement_rate: Rate = Field(description="settled / arrivals (1.0 with no arrivals).")
    value_settlement_rate: Rate = Field(description="The same by value.")
    total_cost: CostCents = Field(description="Equals costs.total.")
    settlement_delay: Count = Field(
        description="Settlement tick minus arrival tick, summed over settled original payments."
    )
    avg_settlement_delay: Annotated[float, Field(ge=0.0)] = Field(
        description="settlement_delay / settled, in ticks (0.0 when nothing settled)."
    )
    peak_net_debit: Count = Field(
        description="The agents' peak_net_debit summed: the liquidity the payments absorbed."
    )


class AgentSummary(_Closed):
    """One bank at the end of the run."""

    opening_balance: Cents
    final_balance: Cents
    min_balance: Cents = Field(
        description="Lowest end-of-tick balance over the run (opening balance included)."
    )
    sent: Count = Field(description="Original payments the agent sent.")
    settled_sent: Count = Field(description="Of those, settled.")
    received: Count = Field(description="Original payments settled to the agent.")
    q1: Count = Field(description="Payments and pieces in its internal queue at the end.")
    q2: Count = Field(description="Payments and pieces in the central queue at the end.")
    dropped: Count = Field(description="Original payments of the agent that were dropped.")
    settlement_delay: Count = Field(
        description="Settlement delay in ticks summed over its sent original payments that settled."
    )
    peak_net_debit: Count = Field(
        description="Largest end-of-tick value of (value settled out − value settled in) since "
        "the start of the run, integer cents (0 if it never paid out more than it received)."
    )
    costs: Costs


class PluginRecord(_Closed):
    """A plugin loaded in the process that produced the run (built-ins are not listed)."""

    name: str = Field(description="The name it is registered under (its entry-point name).")
    distribution: str | None = Field(
        description="The installed distribution, or null for a plugin registered at run time."
    )
    version: str | None = Field(description="Version of the distribution, or null.")


class RunSummary(_Closed):
    """The run summary. Run metadata (``paysim_version``, ``scenario``, ``simulation_id``,
    ``wall_seconds``, ``plugins``) is excluded whenever summaries are compared for identity."""

    paysim_version: str = Field(description="Version of paysim that produced the run.")
    scenario: str | None = Field(description="The scenario file as given, or null.")
    seed: Annotated[int, Field(ge=0, le=2**64 - 1)] = Field(description="The seed of the run.")
    ticks: Count = Field(description="Ticks processed.")
    ticks_per_day: Annotated[int, Field(ge=1)]
    days: Count = Field(description="Days in the episode.")
    simulation_id: str | None = Field(description="Id of a stored run, or null.")
    wall_seconds: Annotated[float, Field(ge=0.0)] = Field(
        description="Wall time spent in the engine, seconds."
    )
    plugins: list[PluginRecord] = Field(
        description="Installed plugins loaded when the run was made, sorted by name."
    )
    totals: Totals
    costs: Costs = Field(description="Cumulative costs summed over agents.")
    agents: dict[str, AgentSummary] = Field(description="Per agent, in scenario order.")


def run_summary_json_schema() -> dict[str, object]:
    """The JSON Schema (draft 2020-12) of the run summary."""
    schema: dict[str, object] = dict(RunSummary.model_json_schema(mode="serialization"))
    schema["$schema"] = SCHEMA_DIALECT
    schema["title"] = "paysim run summary"
    return schema


def run_summary_schema_text() -> str:
    """:func:`run_summary_json_schema` as canonical text (sorted keys, two-space indent)."""
    return (
        json.dumps(run_summary_json_schema(), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    )
