"""Hook specifications: how Python packages extend paysim (INTERFACES.md §3, docs/plugins.md).

A plugin is any object (usually a module) with functions marked ``@paysim.hookspecs.hookimpl``
and named like the specs below; installed distributions announce theirs under the entry-point
group ``paysim``. Built-in features register through exactly these hooks, from the modules of
:data:`paysim.plugins.DEFAULT_PLUGINS`.

Every hook but ``paysim_register_commands`` receives a ``register`` callback: a plugin calls it
once per thing it contributes. paysim calls each plugin's hook itself (built-ins first, then
installed plugins in a fixed order), so whatever a plugin registers, and whatever fails in it
later, is attributed to that plugin in messages and in ``paysim plugins``.

This module stays cheap to import (``paysim --help`` loads it): heavy types only under
``TYPE_CHECKING``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import pluggy

if TYPE_CHECKING:
    import pyarrow as pa
    import typer

    from paysim.objectives import ObjectiveParam

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


ArrivalRecords = Sequence[Mapping[str, object]]
"""A list of records ``{tick, sender, receiver, amount, deadline_tick, priority?, divisible?,
rtgs_priority?}`` (the compatible, slow form: one dict per payment)."""

ArrivalColumns = Mapping[str, object]
"""The same fields as columns: each value a list, a NumPy array or a ``pyarrow.Array`` of one
length (the fast form)."""


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
    ) -> Iterable[object]:
        """Batches of arrivals in tick order, each :data:`ArrivalRecords`,
        :data:`ArrivalColumns` or a ``pyarrow.RecordBatch`` with those columns, a day or more
        of payments per batch (:mod:`paysim.arrivals` turns each into engine records in one
        call)."""
        ...


@runtime_checkable
class OutputSink(Protocol):
    """Receives a run's events and summaries (console, JSONL, DuckDB, Parquet, ...)."""

    name: str

    def open(self, run_info: Mapping[str, object]) -> None: ...

    def write_events(self, batch: pa.RecordBatch) -> None:
        """A ``pyarrow.RecordBatch`` of events."""
        ...

    def end_of_day(self, day: int, day_summary: Mapping[str, object]) -> None: ...

    def close(self, summary: Mapping[str, object]) -> None: ...

    # Optional (not part of the structural check): ``abort(error: BaseException) -> None`` is
    # called instead of ``close`` when the run fails, is interrupted or another sink raises. A
    # sink writing a file must then leave nothing that looks complete (paysim.outputs).


ObjectiveFunction = Callable[..., float]
"""``function(summary, **params) -> float`` over a run summary (INTERFACES.md §1)."""


class RegisterObjective(Protocol):
    """The ``register`` callback of ``paysim_register_objectives``."""

    def __call__(
        self,
        name: str,
        function: ObjectiveFunction,
        *,
        params: Sequence[ObjectiveParam] = (),
        description: str = "",
        direction: str = "minimize",
    ) -> None: ...


class HookSpecs:
    """The hooks paysim calls (each documented with an example in docs/plugins.md)."""

    @hookspec
    def paysim_register_policy_sources(self, register: Callable[[PolicySource], None]) -> None:
        """Register policy sources: ``register(source)`` with an object that has ``name``,
        ``resolve(ref) -> dict`` and ``names() -> list[str]``. A policy reference
        ``NAME:REF`` is resolved by the source called ``NAME``. Called whenever policy
        references are resolved (loading a scenario, ``--policy``, ``set_policy``)."""

    @hookspec
    def paysim_register_arrival_generators(
        self, register: Callable[[ArrivalGenerator], None]
    ) -> None:
        """Register arrival generators: ``register(generator)`` with an object that has
        ``name`` and ``generate(scenario, agent_id, options, seed)``. Called when a simulation
        whose scenario has a ``generator:`` stream is created."""

    @hookspec
    def paysim_register_sinks(
        self, register: Callable[[str, Callable[..., OutputSink]], None]
    ) -> None:
        """Register output sink factories: ``register(name, factory)``; ``--sink
        NAME:key=value`` calls ``factory(key="value")`` and the run drives the sink it
        returns."""

    @hookspec
    def paysim_register_commands(self, app: typer.Typer) -> None:
        """Add commands to the ``paysim`` Typer app (``@app.command()``,
        ``app.add_typer(...)``). Called once when the ``paysim`` command starts; a plugin
        cannot replace a built-in command."""

    @hookspec
    def paysim_register_objectives(self, register: RegisterObjective) -> None:
        """Register objectives for ``paysim optimize``: ``register(name, function,
        params=(...), description=..., direction="minimize"|"maximize")`` where
        ``function(summary, **params) -> float`` reads a run summary."""
