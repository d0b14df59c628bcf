"""paysim plugin ``tabular``: the ``tabular`` arrival generator and the ``parquet`` sink.

This module is what the entry point loads at ``paysim`` start-up, so it imports nothing heavy:
DuckDB and pyarrow are imported by the generator and the sink when they are used.
"""

from __future__ import annotations

from collections.abc import Callable

from paysim.hookspecs import ArrivalGenerator, OutputSink, hookimpl

__version__ = "0.1.0"


@hookimpl
def paysim_register_arrival_generators(register: Callable[[ArrivalGenerator], None]) -> None:
    from paysim_tabular.replay import TabularArrivals

    register(TabularArrivals())


@hookimpl
def paysim_register_sinks(register: Callable[[str, Callable[..., OutputSink]], None]) -> None:
    from paysim_tabular.parquet_sink import ParquetSink

    register(ParquetSink.name, ParquetSink)
