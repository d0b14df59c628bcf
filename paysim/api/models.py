"""Request and response bodies of the API.

Where the library already has the model, the API uses it: the run summary is
:class:`paysim.summary_model.RunSummary`, a tick is :class:`paysim.TickSummary`, a policy
reference is :data:`paysim.config.PolicyRef`. The models here only wrap them in what HTTP needs
(which simulation, which page of events). Scenarios are taken as YAML/JSON text or as an object
and validated by :mod:`paysim.config` itself, so an invalid one gets the CLI's message and
pointer rather than a generic validation error.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, FiniteFloat, JsonValue

from paysim.api.errors import ErrorInfo, Problem
from paysim.simulation import TickSummary
from paysim.summary_model import RunSummary

SimulationId = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$", description="A simulation id.")]
Seed = Annotated[int, Field(ge=0, le=2**64 - 1)]
ScenarioInput = Annotated[
    str | dict[str, JsonValue],
    Field(
        description="The scenario: YAML (or JSON) text, or the scenario as an object "
        "(the format of scenarios/*.yaml; its JSON Schema is schemas/scenario.schema.json)."
    ),
]
PolicyInput = Annotated[
    str | dict[str, JsonValue],
    Field(
        description="A library name, `source:name`, a file in the server's policy "
        "directory, or an inline policy document."
    ),
]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreateSimulation(_Request):
    """A new simulation: a scenario (or the name of an example) and run-time overrides."""

    scenario: ScenarioInput | None = None
    example: str | None = Field(
        default=None, description="Name of an example scenario (GET /api/scenarios) instead."
    )
    seed: Seed | None = Field(default=None, description="Overrides simulation.rng_seed.")
    days: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="Overrides simulation.num_days."
    )
    policies: dict[str, PolicyInput] = Field(
        default_factory=dict, description="Replace agents' policies (as `paysim run --policy`)."
    )
    params: dict[str, dict[str, FiniteFloat]] = Field(
        default_factory=dict,
        description="Policy-parameter overrides per agent (as `paysim run --param`).",
    )


class RunRequest(_Request):
    """Run a simulation until a tick, or to its end."""

    until: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="Stop when current_tick reaches this tick; default the end."
    )
    tick_delay_ms: Annotated[int, Field(ge=0)] = Field(
        default=0, description="Pause between ticks, so people can watch (≤ the server's limit)."
    )
    wait: bool = Field(
        default=True,
        description="true: answer when the run stops (200); false: answer at once (202) and "
        "let the run go on (watch it over the WebSocket).",
    )


class SetPolicy(_Request):
    """A new policy for one agent, from the next tick."""

    policy: PolicyInput
    params: dict[str, FiniteFloat] = Field(default_factory=dict, description="Parameter overrides.")


class ValidatePolicy(_Request):
    """A policy document to check, optionally against a scenario."""

    policy: dict[str, JsonValue] = Field(description="The policy document.")
    scenario: ScenarioInput | None = Field(
        default=None, description="Also run the checks that depend on this scenario."
    )


class SimulationState(BaseModel):
    """Where a simulation stands."""

    id: str
    scenario: str | None = Field(description="The example's file name, or null.")
    description: str | None
    current_tick: int = Field(description="Ticks processed so far.")
    total_ticks: int
    ticks_per_day: int
    day: int = Field(description="The day the next tick belongs to.")
    done: bool
    running: bool = Field(description="A request or a background run is driving it now.")
    next_seq: int = Field(description="The seq the next event will get.")
    first_seq: int = Field(description="The oldest event still retained.")
    agents: list[str]
    warnings: list[str]
    error: ErrorInfo | None = Field(default=None, description="Why the last run stopped early.")


class TickResult(BaseModel):
    """What a /tick request did."""

    ticks: list[TickSummary]
    simulation: SimulationState


class Event(BaseModel):
    """One event: the fields of `paysim run --format events`."""

    seq: int
    tick: int
    day: int
    event_type: str
    tx_id: str | None
    agent_id: str | None
    counterparty_id: str | None
    amount: int | None
    details: dict[str, JsonValue]


class EventsPage(BaseModel):
    """A page of events in seq order."""

    events: list[Event]
    next_seq: int = Field(description="Ask for since_seq=next_seq to continue.")
    more: bool = Field(description="More events are retained after this page.")


class Queues(BaseModel):
    """Payment ids waiting in each queue."""

    queue1: dict[str, list[str]] = Field(description="Each agent's internal queue.")
    queue2: list[str] = Field(description="The central (RTGS) queue.")


class AgentState(BaseModel):
    """The current state of one bank, as the engine reports it."""

    model_config = ConfigDict(extra="allow")

    id: str
    balance: int
    opening_balance: int
    q1_count: int
    q2_count: int
    policy_id: str | None = None
    costs: dict[str, int]


class LibraryPolicy(BaseModel):
    """A policy of the built-in library."""

    name: str
    policy_id: str | None
    description: str | None
    parameters: dict[str, JsonValue]


class ExampleScenario(BaseModel):
    """An example scenario the server offers."""

    name: str
    description: str | None
    text: str | None = Field(default=None, description="The YAML text (one scenario only).")


class PluginInfo(BaseModel):
    """A plugin, as ``paysim plugins --all --format json`` lists it."""

    name: str
    distribution: str | None
    version: str | None
    entry_point: str | None
    builtin: bool
    hooks: list[str]
    registers: dict[str, list[str]]
    error: str | None


class PolicyReport(BaseModel):
    """The validator's report (as `paysim validate-policy --format json`)."""

    file: str
    valid: bool
    policy_id: str | None
    errors: list[Problem]
    warnings: list[Problem]


class ServerInfo(BaseModel):
    """The server's version and limits."""

    paysim_version: str
    engine_version: str
    token_required: bool
    limits: dict[str, int]


__all__ = [
    "AgentState",
    "CreateSimulation",
    "Event",
    "EventsPage",
    "ExampleScenario",
    "LibraryPolicy",
    "PluginInfo",
    "PolicyReport",
    "Queues",
    "RunRequest",
    "RunSummary",
    "ServerInfo",
    "SetPolicy",
    "SimulationId",
    "SimulationState",
    "TickResult",
    "TickSummary",
    "ValidatePolicy",
]
