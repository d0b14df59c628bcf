"""Hook specifications: how Python packages extend paysim (INTERFACES.md §3).

A plugin is any object (usually a module) with functions marked ``@paysim.hookimpl`` and named
like the specs below; installed distributions announce theirs under the entry-point group
``paysim``. Built-in features register through exactly these hooks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Protocol, runtime_checkable

import pluggy

PROJECT = "paysim"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@runtime_checkable
class PolicySource(Protocol):
    """A named place policies come from (the library, files, a team's package, ...)."""

    name: str

    def resolve(self, ref: str) -> dict[str, object]:
        """The policy document for ``ref`` (the part after ``name:``)."""
        ...

    def names(self) -> list[str]:
        """The references this source can resolve (for listings; may be empty)."""
        ...


ArrivalBatch = list[Mapping[str, object]]
"""Records ``{tick, sender, receiver, amount, deadline_tick, priority?, divisible?,
rtgs_priority?}`` that the engine ingests in bulk."""


@runtime_checkable
class ArrivalGenerator(Protocol):
    """Produces an agent's payments instead of the built-in Poisson stream."""

    name: str

    def generate(
        self,
        scenario: object,
        agent_id: str,
        options: Mapping[str, object],
        seed: int,
    ) -> Iterable[ArrivalBatch]:
        """Batches of arrivals, in tick order."""
        ...


@runtime_checkable
class OutputSink(Protocol):
    """Receives a run's events and summaries (console, JSONL, DuckDB, Parquet, ...)."""

    name: str

    def open(self, run_info: Mapping[str, object]) -> None: ...

    def write_events(self, batch: object) -> None:
        """A ``pyarrow.RecordBatch`` of events."""
        ...

    def end_of_day(self, day: int, day_summary: Mapping[str, object]) -> None: ...

    def close(self, summary: Mapping[str, object]) -> None: ...

    # Optional (not part of the structural check): ``abort(error: BaseException) -> None`` is
    # called instead of ``close`` when the run fails, is interrupted or another sink raises. A
    # sink writing a file must then leave nothing that looks complete (paysim.outputs).


class HookSpecs:
    """The hooks paysim calls; each receives a ``register`` callback or the Typer app."""

    @hookspec
    def paysim_register_policy_sources(self, register: Callable[[PolicySource], None]) -> None:
        """Register policy sources."""

    @hookspec
    def paysim_register_arrival_generators(
        self, register: Callable[[ArrivalGenerator], None]
    ) -> None:
        """Register arrival generators."""

    @hookspec
    def paysim_register_sinks(
        self, register: Callable[[str, Callable[..., OutputSink]], None]
    ) -> None:
        """Register output sink factories by name (called with the sink's options)."""

    @hookspec
    def paysim_register_commands(self, app: object) -> None:
        """Add commands to the Typer app."""

    @hookspec
    def paysim_register_objectives(
        self, register: Callable[[str, Callable[[Mapping[str, object]], float]], None]
    ) -> None:
        """Register named metrics that ``paysim optimize`` can minimise."""
