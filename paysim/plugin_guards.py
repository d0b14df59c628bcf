"""Wrappers that attribute the failures of what installed plugins registered.

A sink from an installed plugin runs inside ``paysim run`` long after its hook returned; when it
raises, the user must learn which plugin broke, not read "unexpected OSError". The factory
registered under ``paysim_register_sinks`` is wrapped so that:

* building the sink with bad options (``ValueError``/``TypeError``) is a
  :class:`~paysim.sinks.registry.SinkError` (bad usage, exit 2) naming the plugin;
* any other exception from the factory or from a sink method is a
  :class:`~paysim.plugins.PluginError` (run-time failure, exit 1) naming the plugin, the hook
  and the method. ``run_with_sinks`` then aborts every sink, the failing one included, so a
  file it was writing is discarded.

Errors a plugin raises on purpose as :class:`~paysim.exceptions.PaysimError` (for example
:class:`~paysim.outputs.OutputError` for a path it refuses) pass through unchanged.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from paysim.exceptions import PaysimError
from paysim.plugins import PluginError, PluginInfo

if TYPE_CHECKING:
    import pyarrow as pa

    from paysim.hookspecs import OutputSink

_HOOK = "paysim_register_sinks"


class GuardedSink:
    """Delegates to a plugin's sink, turning its unexpected exceptions into
    :class:`PluginError`."""

    def __init__(self, inner: OutputSink, plugin: PluginInfo) -> None:
        self.inner = inner
        self.plugin = plugin
        self.name = inner.name

    @property
    def wants_events(self) -> bool:
        return bool(getattr(self.inner, "wants_events", True))

    def _fail(self, method: str, exc: Exception) -> PluginError:
        return PluginError(
            f"sink `{self.name}` failed in {method}(): {type(exc).__name__}: {exc}",
            plugin=self.plugin,
            hook=_HOOK,
        )

    def open(self, run_info: Mapping[str, object]) -> None:
        try:
            self.inner.open(run_info)
        except PaysimError:
            raise
        except Exception as exc:
            raise self._fail("open", exc) from exc

    def write_events(self, batch: pa.RecordBatch) -> None:
        try:
            self.inner.write_events(batch)
        except PaysimError:
            raise
        except Exception as exc:
            raise self._fail("write_events", exc) from exc

    def end_of_day(self, day: int, day_summary: Mapping[str, object]) -> None:
        try:
            self.inner.end_of_day(day, day_summary)
        except PaysimError:
            raise
        except Exception as exc:
            raise self._fail("end_of_day", exc) from exc

    def close(self, summary: Mapping[str, object]) -> None:
        try:
            self.inner.close(summary)
        except PaysimError:
            raise
        except Exception as exc:
            raise self._fail("close", exc) from exc

    def abort(self, error: BaseException) -> None:
        abort = getattr(self.inner, "abort", None)
        if abort is not None:
            abort(error)


def guarded_factory(
    name: str, factory: Callable[..., OutputSink], plugin: PluginInfo
) -> Callable[..., OutputSink]:
    """``factory`` wrapped so the sink it builds is a :class:`GuardedSink`; its signature (the
    options ``--sink`` checks) is the factory's own."""

    @functools.wraps(factory, updated=())
    def build(**options: str) -> OutputSink:
        from paysim.sinks.registry import SinkError

        try:
            sink = factory(**options)
        except PaysimError:
            raise
        except (TypeError, ValueError) as exc:
            raise SinkError(f"sink `{name}` of {plugin.describe()}: {exc}") from exc
        except Exception as exc:
            raise PluginError(
                f"sink `{name}` could not be created: {type(exc).__name__}: {exc}",
                plugin=plugin,
                hook=_HOOK,
            ) from exc
        return GuardedSink(sink, plugin)

    return build
