"""The tables of the store, as pydantic models: the one source of their DDL and documentation.

Each model is one table (``table``), its fields the columns in order. The SQL type of a column
follows from its annotation (``int`` → ``BIGINT``, ``str`` → ``VARCHAR``, ``float`` →
``DOUBLE``, ``bool`` → ``BOOLEAN``, ``datetime`` → ``TIMESTAMP`` in UTC, ``bytes`` → ``BLOB``;
an :class:`Sql` marker overrides it, e.g. ``JSON`` or ``UBIGINT``); a column is ``NOT NULL``
unless its annotation admits ``None``. ``since`` says in which schema version a table or a
column appeared: the migrations (:mod:`paysim.store.migrations`) create and add exactly those,
so a fresh database and a migrated one are built by the same steps.

Adding a table (the optimiser's ``studies``, ``trials``, ``trial_runs``) is: a model here with
``since = N``, listed in :data:`TABLES`, and ``Migration(N, "...")`` in the migrations. Adding a
column is a field at the end of its model with ``col(..., since=N)``; it must be nullable or
have a default, because existing rows get it too. See ``docs/store.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field


@dataclass(frozen=True)
class Sql:
    """The SQL type of a column, where the Python type alone does not say it."""

    type: str


Json = Annotated[str, Sql("JSON")]
"""JSON text, stored exactly as written (DuckDB's ``JSON`` type keeps the text)."""
UBigInt = Annotated[int, Sql("UBIGINT")]
Int32 = Annotated[int, Sql("INTEGER")]
TextList = Annotated[list[str], Sql("VARCHAR[]")]


def col(description: str, *, since: int = 1, default: object = ...) -> Any:  # noqa: ANN401
    """A column: its description (documentation) and the schema version it appeared in."""
    return Field(default, description=description, json_schema_extra={"since": since})


class Table(BaseModel):
    """Base of the table models."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    table: ClassVar[str]
    key: ClassVar[tuple[str, ...]] = ()
    """The natural key: one row per value of these columns."""
    primary_key: ClassVar[bool] = True
    """Whether ``key`` is declared ``PRIMARY KEY`` (an index: only on small tables, since DuckDB
    maintains it on every insert)."""
    since: ClassVar[int] = 1
    view_since: ClassVar[int | None] = None
    """From this schema version on, the name is a view (made by that version's migration) that
    shows these columns; the generated DDL then leaves it alone."""
    exported: ClassVar[bool] = True
    """Whether ``paysim db export`` writes it by default (not the storage behind a view)."""
    doc: ClassVar[str] = ""


class SchemaVersionRow(Table):
    table = "schema_version"
    key = ("version",)
    doc = "One row per migration applied to this file, the newest last."

    version: Int32 = col("Schema version reached by this migration.")
    applied_at: datetime = col("When it was applied (UTC).")
    paysim_version: str = col("The paysim that applied it (and reads this version).")
    description: str = col("What the migration did.")


class SimulationRow(Table):
    table = "simulations"
    key = ("simulation_id",)
    doc = "One row per stored run: what was run, how far it got, and its run summary."

    simulation_id: str = col("UUIDv7 of the run; sorts by creation time.")
    status: str = col("`running`, `completed`, `interrupted` or `failed`.")
    started_at: datetime = col("When the run opened (UTC).")
    updated_at: datetime = col("When its last day was committed (UTC).")
    ended_at: datetime | None = col(
        "When it completed or failed; for a run found interrupted, its last commit (UTC)."
    )
    scenario: str | None = col("Scenario path as given (`null` for an in-memory scenario).")
    scenario_text: str | None = col("The scenario file's text at run time.")
    scenario_hash: str | None = col("SHA-256 of `scenario_text`.")
    description: str | None = col("The scenario's description.")
    config_json: Json = col("The normalized engine config the run used (canonical JSON).")
    config_hash: str = col("SHA-256 of `config_json`, as in checkpoints and `SimulationStarted`.")
    seed: UBigInt = col("The seed.")
    ticks_per_day: Int32 = col("Ticks per day.")
    days: Int32 = col("Days of the run.")
    total_ticks: int = col("Ticks of the run.")
    start_tick: int = col("First tick run here: 0, or the checkpoint tick of a resumed run.")
    ticks_done: int = col("Ticks committed: the end of the last complete day.")
    days_done: Int32 = col("Days committed (`ticks_done / ticks_per_day`).")
    event_count: int = col("Events committed.")
    overrides: Json = col("Run-time overrides: `{seed, days, policies, params}`.")
    parent_simulation_id: str | None = col("The run a resumed run continues.")
    resumed_from: str | None = col("The checkpoint a resumed run started from.")
    paysim_version: str = col("paysim version that ran it.")
    engine_version: str = col("Engine version that ran it.")
    writer_pid: int = col("Process id of the writer (diagnostics).")
    run_info: Json = col("What the sinks were told when the run opened (replay uses it).")
    summary: Json | None = col("The run summary (INTERFACES.md §1) once completed.")
    total_cost: int | None = col("`summary.totals.total_cost`, cents.")
    settlement_rate: float | None = col("`summary.totals.settlement_rate`.")
    error: str | None = col("Why a run failed or was interrupted.")


class AgentRow(Table):
    table = "agents"
    key = ("simulation_id", "agent_id")
    doc = "The banks of each run with their opening set-up."

    simulation_id: str = col("The run.")
    agent_id: str = col("Bank id.")
    position: Int32 = col("Order of the bank in the scenario.")
    opening_balance: int = col("Opening balance, cents.")
    unsecured_cap: int = col("Unsecured intraday credit, cents.")
    posted_collateral: int = col("Collateral posted at the start, cents.")
    collateral_haircut: float = col("Haircut on collateral.")
    liquidity_pool: int = col("External liquidity pool, cents.")
    policy_id: str | None = col("`policy_id` of its initial policy.")
    policy_source: str | None = col("Where that policy came from (`library:fifo`, a path, ...).")
    policy_parameters: Json = col("Parameter overrides of the initial policy.")


class EventRow(Table):
    table = "events"
    view_since = 3
    doc = (
        "Every event of every run, as `paysim run --format events` prints them (`details` is "
        "the engine's JSON text, byte for byte); `ORDER BY seq` gives a run's order. Since "
        "version 3 a view over `event_data` that renders the ids."
    )

    simulation_id: str = col("The run.")
    seq: int = col("Event number in its run, from 0.")
    tick: int = col("Tick.")
    day: int = col("Day.")
    event_type: str = col("ENGINE.md §12.1.")
    tx_id: str | None = col("Payment.")
    agent_id: str | None = col("Agent (the sender for payments).")
    counterparty_id: str | None = col("Counterparty (the receiver for payments).")
    amount: int | None = col("Amount, cents.")
    details: str = col(
        "Details object: JSON text (a VARCHAR, cheaper to append than DuckDB's JSON type; "
        "JSON functions and `details->>'$.key'` work on it as on JSON)."
    )


class EventDataRow(Table):
    table = "event_data"
    since = 3
    view_since = 4
    exported = False
    doc = (
        "The events with their ids as numbers (the `events` view renders them). A table in "
        "version 3; since version 4 a view over `event_rows` and `event_shapes` with the same "
        "columns. Use it to look payments up fast, e.g. "
        "`WHERE tx_key = paysim_tx_key('tx_00012345')`."
    )

    simulation_id: str = col("The run.")
    seq: int = col("Event number in its run, from 0.")
    tick: int = col("Tick.")
    day: int = col("Day.")
    event_type: str = col("ENGINE.md §12.1.")
    tx_key: UBigInt | None = col(
        "Payment: `paysim_tx_id(tx_key)` is its `tx_id` (`tx_` + `tx_key >> 8` in 8 digits, "
        "then `.i` for piece `i = tx_key & 255` of a split)."
    )
    agent_index: Int32 | None = col("Agent: its `position` in the run's `agents`.")
    counterparty_index: Int32 | None = col("Counterparty: its `position` in the run's `agents`.")
    amount: int | None = col("Amount, cents.")
    details: str = col("Details object: the engine's JSON text.")


class EventStoredRow(Table):
    table = "event_rows"
    since = 4
    primary_key = False
    exported = False
    doc = (
        "What the events are stored as (version 4): the ids as numbers, and the details as "
        "the number of their shape (`event_shapes`: event type and the details text with its "
        "integers left out) plus those integers. Storing millions of events this way costs "
        "DuckDB about half of what their details text did. Query `events` (or `event_data`)."
    )

    run_key: int = col("The run: `paysim_run_key(simulation_id)` (as in `event_shapes`).", since=4)
    seq: int = col("Event number in its run, from 0.", since=4)
    tick: int = col("Tick.", since=4)
    day: int = col("Day.", since=4)
    shape: Int32 = col("The event's `event_shapes.shape` in its run.", since=4)
    tx_key: UBigInt | None = col("Payment, as in `event_data`.", since=4)
    agent_index: Int32 | None = col("Agent: its `position` in the run's `agents`.", since=4)
    counterparty_index: Int32 | None = col(
        "Counterparty: its `position` in the run's `agents`.", since=4
    )
    amount: int | None = col("Amount, cents.", since=4)
    n0: int | None = col("First integer left out of the details (null when none).", since=4)
    n1: int | None = col("Second one.", since=4)
    n2: int | None = col("Third one.", since=4)


class EventShapeRow(Table):
    table = "event_shapes"
    key = ("simulation_id", "shape")
    since = 4
    exported = False
    doc = (
        "The details shapes of a run's stored events: an event type and its details text cut "
        "where integers were left out. `paysim_details(parts, n0, n1, n2)` puts an event's "
        "integers back: `parts[1] || n0 || parts[2] || n1 || ...`. The engine leaves out the "
        "first three non-zero integers that are not list items, so the events of one kind "
        "share few shapes."
    )

    simulation_id: str = col("The run.", since=4)
    run_key: int = col(
        "`paysim_run_key(simulation_id)`: the first 60 bits of the SHA-256 of the id, what "
        "`event_rows` stores instead of the id (a number is cheaper to store millions of times).",
        since=4,
    )
    shape: Int32 = col("Shape number within its run, from 0.", since=4)
    event_type: str = col("ENGINE.md §12.1.", since=4)
    parts: TextList = col("The details text, cut at the left-out integers.", since=4)


class DailyMetricsRow(Table):
    table = "daily_metrics"
    key = ("simulation_id", "day")
    doc = "One row per committed day: the system's counts and cost of that day."

    simulation_id: str = col("The run.")
    day: Int32 = col("Day.")
    arrivals: int = col("Original payments that arrived this day.")
    settled: int = col("Original payments fully settled this day.")
    settled_value: int = col("Their value, cents.")
    dropped: int = col("Original payments dropped this day.")
    overdue: int = col("Original payments newly overdue this day.")
    lsm_settled: int = col("Payments and pieces settled by offsetting this day.")
    unsettled: int = col("Original payments unsettled at the end of the day.")
    cost: int = col("Cost booked this day over all banks, cents.")
    events: int = col("Events of the day.")
    day_summary: Json = col("The day summary the sinks received (verbose replay prints it).")
    committed_at: datetime = col("When the day was committed (UTC).")


class DailyAgentMetricsRow(Table):
    table = "daily_agent_metrics"
    key = ("simulation_id", "day", "agent_id")
    doc = (
        "One row per bank per committed day. Balances are end-of-tick balances; `min_balance` "
        "includes the balance the day opened with, so the minimum over a run's days is the run "
        "summary's `min_balance`."
    )

    simulation_id: str = col("The run.")
    day: Int32 = col("Day.")
    agent_id: str = col("Bank.")
    opening_balance: int = col("Balance when the day opened, cents.")
    closing_balance: int = col("Balance at the end of the day, cents.")
    min_balance: int = col("Lowest end-of-tick balance of the day (opening included), cents.")
    peak_overdraft: int = col("`max(0, -min_balance)`, cents.")
    sent: int = col("Original payments it sent that arrived this day.")
    settled_sent: int = col("Of its original payments, those fully settled this day.")
    received: int = col("Original payments settled to it this day.")
    dropped: int = col("Of its original payments, those dropped this day.")
    q1: int = col("Payments and pieces in its own queue at the end of the day.")
    q2: int = col("Its payments and pieces in the central queue at the end of the day.")
    cost_overdraft: int = col("Overdraft cost of the day, cents.")
    cost_delay: int = col("Delay cost, cents.")
    cost_collateral: int = col("Collateral cost, cents.")
    cost_liquidity: int = col("Liquidity cost, cents.")
    cost_deadline_penalty: int = col("Deadline penalties, cents.")
    cost_eod_penalty: int = col("End-of-day penalties, cents.")
    cost_drop_penalty: int = col("Drop penalties, cents.")
    cost_split_friction: int = col("Split friction, cents.")
    cost_total: int = col("Sum of the components, cents.")


class TickMetricsRow(Table):
    primary_key = False
    table = "tick_metrics"
    key = ("simulation_id", "tick")
    doc = "One row per tick of every committed day (ticks without events included)."

    simulation_id: str = col("The run.")
    tick: int = col("Tick.")
    day: Int32 = col("Day.")
    arrivals: int = col("`Arrival` events.")
    settlements: int = col("Settlement events (RTGS, queue releases, offsets): pieces count.")
    settled_value: int = col("Value moved by those settlements, cents.")
    lsm_settled: int = col("`OffsetSettlement` events.")
    overdue: int = col("`TransactionWentOverdue` events.")
    dropped: int = col("`PolicyDrop` events.")
    cost: int = col("Cost booked (sum of `CostAccrual`), cents.")
    events: int = col("All events of the tick.")


class AgentTickMetricsRow(Table):
    primary_key = False
    table = "agent_tick_metrics"
    key = ("simulation_id", "agent_id", "tick")
    view_since = 4
    doc = (
        "One row per bank per tick in which its balance moved or it was charged a cost (a bank "
        "absent from a tick kept its balance). `balance` is the end-of-tick balance rebuilt from "
        "the events as ENGINE.md §12.2 says. Since version 4 a view over `agent_tick_rows`."
    )

    simulation_id: str = col("The run.")
    agent_id: str = col("Bank.")
    tick: int = col("Tick.")
    day: Int32 = col("Day.")
    outflow: int = col("Paid out this tick (settlements, transfers, liquidity returned), cents.")
    inflow: int = col("Received this tick (settlements, transfers, liquidity brought in), cents.")
    balance: int = col("Balance at the end of the tick, cents.")
    cost: int = col("Cost booked this tick, cents.")


class AgentTickStoredRow(Table):
    primary_key = False
    table = "agent_tick_rows"
    key = ("run_key", "agent_index", "tick")
    since = 4
    exported = False
    doc = (
        "What `agent_tick_metrics` is stored as (version 4): the run as its key and the bank as "
        "its position, numbers that cost DuckDB half of what the two id strings did on every "
        "row. Query `agent_tick_metrics`."
    )

    run_key: int = col("The run: `paysim_run_key(simulation_id)`.", since=4)
    agent_index: Int32 = col("Bank: its `position` in the run's `agents`.", since=4)
    tick: int = col("Tick.", since=4)
    day: Int32 = col("Day.", since=4)
    outflow: int = col("Paid out this tick, cents.", since=4)
    inflow: int = col("Received this tick, cents.", since=4)
    balance: int = col("Balance at the end of the tick, cents.", since=4)
    cost: int = col("Cost booked this tick, cents.", since=4)


class PaymentRow(Table):
    primary_key = False
    table = "payments"
    view_since = 3
    key = ("simulation_id", "tx_id")
    doc = (
        "One row per original payment (split pieces are folded into their payment), with its "
        "state at the end of the run's stored days. Since version 3 a view computed from "
        "`event_data` when it is read."
    )

    simulation_id: str = col("The run.")
    tx_id: str = col("Payment id.")
    sender_id: str = col("Sender.")
    receiver_id: str = col("Receiver.")
    amount: int = col("Amount, cents.")
    arrival_tick: int = col("Tick it arrived.")
    deadline_tick: int = col("Deadline tick.")
    priority: Int32 = col("Priority (0-10).")
    divisible: bool = col("Whether it could be split.")
    rtgs_priority: str = col("Declared RTGS priority.")
    source: str = col("`generated`, `injected`, `scenario`, ...")
    status: str = col("`settled`, `dropped` or `unsettled` at the end of the stored days.")
    pieces: Int32 = col("1, or the number of pieces it was split into.")
    settled_tick: int | None = col("Tick its last piece settled.")
    dropped_tick: int | None = col("Tick it (or a piece) was dropped.")
    overdue_tick: int | None = col("Tick it (or a piece) became overdue.")
    delay_ticks: int | None = col("`settled_tick - arrival_tick`.")


class CheckpointRow(Table):
    table = "checkpoints"
    key = ("checkpoint_id",)
    doc = (
        "Engine checkpoints (`Simulation.checkpoint()` bytes) with their run, tick and config "
        "hash: `start` when a run opens, `end_of_day` after each day but the last, `manual` from "
        "`paysim checkpoint save`."
    )

    checkpoint_id: str = col("UUIDv7 of the checkpoint.")
    simulation_id: str = col("The run it belongs to.")
    tick: int = col("`current_tick` of the state (the next tick to run).")
    day: Int32 = col("Day of that tick.")
    kind: str = col("`start`, `end_of_day` or `manual`.")
    config_hash: str = col("SHA-256 of the engine config; restore checks it.")
    size_bytes: int = col("Length of `data`.")
    created_at: datetime = col("When it was stored (UTC).")
    data: bytes = col("The checkpoint bytes.")


class StudyRow(Table):
    table = "studies"
    key = ("study_id",)
    since = 2
    doc = (
        "One row per `paysim optimize` run: the spec, where its Optuna study lives, and its "
        "result (the content of result.json)."
    )

    study_id: str = col("UUIDv7 of this optimisation run; sorts by creation time.", since=2)
    study_name: str = col("The Optuna study's name in its storage.", since=2)
    storage: str = col("The Optuna storage (a journal file or a URL, password masked).", since=2)
    mode: str = col("`joint`, `best_response` or `both`.", since=2)
    status: str = col("`completed` or `interrupted`.", since=2)
    spec_file: str = col("The spec file as given.", since=2)
    spec: Json = col("The validated spec.", since=2)
    scenario: str = col("The scenario file.", since=2)
    seeds: Json = col("The seeds every candidate runs on (common random numbers).", since=2)
    objectives: Json = col("Objectives: label, direction, aggregate (and alpha).", since=2)
    created_at: datetime = col("When the rows were written (UTC).", since=2)
    wall_seconds: float = col("Wall time of the optimisation.", since=2)
    result: Json = col("The result: best trial or Pareto front, equilibrium, timings.", since=2)


class TrialRow(Table):
    table = "trials"
    key = ("study_id", "study", "number")
    since = 2
    doc = (
        "One row per Optuna trial: the joint study's, and every best-response step's (each "
        "step is a study of its own, `<study_name>.br.r<round>.<agent>`)."
    )

    study_id: str = col("The optimisation run (`studies.study_id`).", since=2)
    study: str = col("The Optuna study the trial belongs to.", since=2)
    phase: str = col("`joint` or `best_response`.", since=2)
    number: Int32 = col("Trial number within its study.", since=2)
    state: str = col("`complete`, `pruned`, `fail`, `running` or `waiting`.", since=2)
    objective_values: Json | None = col("Objective values (aggregated over seeds).", since=2)
    params: Json = col("The trial's parameters (dimension name → value).", since=2)
    constraints: Json | None = col("Constraint values (≤ 0 feasible).", since=2)
    feasible: bool | None = col("Whether every constraint holds.", since=2)
    engine_seconds: float | None = col("Engine time of its runs, summed.", since=2)
    trial_seconds: float | None = col("Wall time of the trial.", since=2)
    started_at: datetime | None = col("When the trial started (UTC).", since=2)
    completed_at: datetime | None = col("When it finished (UTC).", since=2)


class TrialRunRow(Table):
    table = "trial_runs"
    key = ("study_id", "study", "number", "seed_index")
    primary_key = False
    since = 2
    doc = "One row per seed a trial ran: its objective values and summary numbers."

    study_id: str = col("The optimisation run (`studies.study_id`).", since=2)
    study: str = col("The Optuna study.", since=2)
    number: Int32 = col("Trial number within its study.", since=2)
    seed_index: Int32 = col("Index of the seed in the study's seed list.", since=2)
    seed: UBigInt = col("The seed.", since=2)
    objective_values: Json = col("Objective values of this run.", since=2)
    total_cost: int | None = col("Total cost of the run, cents.", since=2)
    settlement_rate: float | None = col("Settled / arrived payments.", since=2)
    avg_settlement_delay: float | None = col("Average settlement delay, ticks.", since=2)
    peak_net_debit: int | None = col("Peak net debits summed over agents, cents.", since=2)
    unsettled: int | None = col("Payments unsettled at the end.", since=2)
    engine_seconds: float | None = col("Engine time of the run.", since=2)


TABLES: tuple[type[Table], ...] = (
    SchemaVersionRow,
    SimulationRow,
    AgentRow,
    EventRow,
    EventDataRow,
    EventStoredRow,
    EventShapeRow,
    DailyMetricsRow,
    DailyAgentMetricsRow,
    TickMetricsRow,
    AgentTickMetricsRow,
    AgentTickStoredRow,
    PaymentRow,
    CheckpointRow,
    StudyRow,
    TrialRow,
    TrialRunRow,
)
"""Every table, in creation order."""

RUN_TABLES: tuple[type[Table], ...] = tuple(t for t in TABLES if "simulation_id" in t.model_fields)
"""The tables with rows per run (what ``paysim db export --simulation`` writes)."""
