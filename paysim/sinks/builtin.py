"""The built-in sinks as a plugin: registered through ``paysim_register_sinks`` like any other,
so ``--sink`` and third-party code see them exactly as they see installed sinks."""

from __future__ import annotations

from collections.abc import Callable

from paysim.hookspecs import OutputSink, hookimpl
from paysim.sinks.console import ConsoleSink
from paysim.sinks.jsonl import JsonlSink


@hookimpl
def paysim_register_sinks(register: Callable[[str, Callable[..., OutputSink]], None]) -> None:
    register(ConsoleSink.name, ConsoleSink)
    register(JsonlSink.name, JsonlSink)
