"""Type stubs for the compiled engine extension (checked by ``mypy.stubtest``).

``paysim._core`` is private: the public API wraps it (``paysim.events``, and the ``Simulation``
class as it lands). Engine errors arrive as ``paysim.exceptions`` classes.
"""

from typing import final

__all__ = [
    "ArrivalBatch",
    "DetailShapes",
    "Engine",
    "__version__",
    "core_version",
    "derive_seed",
    "event_types",
    "inject_arrival_batch",
    "policy_json_schema",
    "policy_registry",
    "run_many",
    "validate_policy",
]

__version__: str

def core_version() -> str:
    """Version of the Rust engine crate the extension was built from."""

def derive_seed(rng_seed: int, agent_id: str, name: str) -> int:
    """The seed of an agent's named random stream (for arrival generators)."""

def event_types() -> list[str]:
    """Every event type of the engine's catalogue, in catalogue order."""

@final
class DetailShapes:
    """The details templates of one stored run, and the store position of each agent index."""

    def __new__(cls, positions: list[int]) -> DetailShapes: ...
    def intern(self, event_type: int, template: str) -> int:
        """The number of the shape of ``event_type`` (a code) with ``template``."""
    def take_new(self) -> list[tuple[int, int, str]]:
        """Shapes added since the last call: ``(number, event type code, template)``."""
    def __len__(self) -> int: ...

@final
class Engine:
    """One simulation, created from the normalized engine config (docs/engine-config.md)."""

    def __new__(cls, config_json: str) -> Engine: ...
    def tick(self) -> str:
        """Process one tick; returns its TickSummary as JSON."""
    def run(self) -> None:
        """Run to the end of the episode (the GIL is released; Ctrl-C stops it between ticks)."""
    def run_until(self, tick: int) -> None:
        """Run until ``current_tick == tick`` (clamped to the end; interruptible like ``run``)."""
    @property
    def current_tick(self) -> int: ...
    @property
    def total_ticks(self) -> int: ...
    @property
    def ticks_per_day(self) -> int: ...
    @property
    def done(self) -> bool: ...
    @property
    def next_seq(self) -> int: ...
    @property
    def oldest_retained_seq(self) -> int:
        """The seq of the oldest event still held (events below it were released)."""
    def agent_ids(self) -> list[str]: ...
    def summary_json(self) -> str:
        """The engine part of the run summary, as JSON text."""
    def agent_json(self, agent_id: str) -> str: ...
    def payment_json(self, tx_id: str) -> str: ...
    def queue1(self, agent_id: str) -> list[str]: ...
    def queue2(self) -> list[str]: ...
    def events_buffers(
        self, since: int = 0, max_rows: int | None = None
    ) -> tuple[int, list[tuple[str, tuple[bytes, bytes | None, bytes | None, int]]]]:
        """Retained events with ``seq >= since`` as Arrow buffers per column."""
    def coded_events_buffers(
        self, since: int = 0, max_rows: int | None = None
    ) -> tuple[int, list[tuple[str, tuple[bytes, bytes | None, bytes | None, int]]]]:
        """The same rows with ids as numbers: event type code, payment key, agent indices."""
    def stored_events_buffers(
        self, shapes: DetailShapes, since: int = 0, max_rows: int | None = None
    ) -> tuple[int, list[tuple[str, tuple[bytes, bytes | None, bytes | None, int]]]]:
        """The same rows in the store's compact form: details shape, ids as numbers, agents as
        store positions, the details' integers in ``n0``..``n2``."""
    def tick_aggregates(
        self, since: int, until: int, balances: list[int]
    ) -> tuple[
        int,
        list[tuple[str, tuple[bytes, bytes | None, bytes | None, int]]],
        int,
        list[tuple[str, tuple[bytes, bytes | None, bytes | None, int]]],
        list[int],
    ]:
        """Per-tick counts and per-tick, per-agent balance moves of seqs ``[since, until)``,
        and the agents' balances at its end (``balances``: at its start)."""
    def release_events_before(self, seq: int) -> None: ...
    def checkpoint(self) -> bytes: ...
    @staticmethod
    def restore(config_json: str, data: bytes) -> Engine: ...
    def inject_arrivals(self, records_json: str) -> None: ...
    def set_policy(self, agent_id: str, policy_json: str) -> None: ...

@final
class ArrivalBatch:
    """One batch of arrivals in columnar form (built by ``paysim.arrival_columns``)."""

    def __new__(
        cls,
        rows: int,
        tick: bytes,
        amount: bytes,
        deadline_tick: bytes,
        sender_names: list[str],
        sender: bytes,
        receiver_names: list[str],
        receiver: bytes,
        priority: bytes | None = None,
        priority_valid: bytes | None = None,
        divisible: bytes | None = None,
        divisible_valid: bytes | None = None,
        rtgs_names: list[str] = ...,
        rtgs_priority: bytes | None = None,
    ) -> ArrivalBatch: ...
    def __len__(self) -> int: ...

def inject_arrival_batch(engine: Engine, batch: ArrivalBatch) -> None:
    """Queue one batch in the engine; atomic. A rejected record raises ``ScenarioError`` with
    ``record_index`` and ``record_field``."""

def run_many(
    configs: list[str],
    threads: int | None = None,
    arrivals: list[list[ArrivalBatch]] | None = None,
) -> list[tuple[bool, object]]:
    """Run independent configs on engine threads; per run ``(True, summary_json)`` or
    ``(False, exception)``, in input order."""

def validate_policy(
    document: bytes, file: str = "", scenario_json: str | None = None
) -> tuple[str, str]:
    """Validate a policy document: ``(report_json, report_text)``."""

def policy_json_schema() -> str:
    """The JSON Schema of policy documents, generated from the engine's registry."""

def policy_registry(
    format: str = "markdown", tree_name: str | None = None, section: str | None = None
) -> str:
    """The policy language reference (fields, actions, ...) as markdown or JSON."""
