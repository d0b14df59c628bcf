"""Finding sinks by name and building them from ``NAME:key=value,...`` specifications.

The specification syntax is the one of ``paysim run --sink``; it lives here rather than in the
CLI so the API and scripts build sinks the same way. Problems are :class:`SinkError`, a
``ValueError`` carrying a message meant for the user (the CLI reports it as bad usage).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping

import pluggy

from paysim.config.suggest import did_you_mean
from paysim.hookspecs import OutputSink

SinkFactory = Callable[..., OutputSink]


class SinkError(ValueError):
    """An unknown sink, a malformed specification or options the sink does not accept."""


def sink_factories(pm: pluggy.PluginManager | None = None) -> dict[str, SinkFactory]:
    """Every registered sink factory by name (a later registration of a name wins, as for
    policy sources)."""
    from paysim.plugins import registered_sinks

    return {name: reg.value for name, reg in registered_sinks(pm).items()}


def parse_sink_spec(spec: str) -> tuple[str, dict[str, str]]:
    """``"jsonl:path=out.jsonl,x=1"`` → ``("jsonl", {"path": "out.jsonl", "x": "1"})``."""
    name, _, rest = spec.partition(":")
    name = name.strip()
    if not name:
        raise SinkError(f"expected NAME or NAME:key=value,..., found {spec!r}")
    options: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise SinkError(f"sink `{name}`: expected key=value, found {item!r} (in {spec!r})")
        options[key.strip()] = value.strip()
    return name, options


def create_sink(
    name: str,
    options: Mapping[str, str] | None = None,
    *,
    factories: Mapping[str, SinkFactory] | None = None,
) -> OutputSink:
    """Builds the sink ``name`` with ``options``; :class:`SinkError` names the known sinks when
    ``name`` is unknown, and the options the sink takes when it is given another one."""
    known = dict(factories) if factories is not None else sink_factories()
    factory = known.get(name)
    if factory is None:
        listed = ", ".join(f"`{n}`" for n in sorted(known)) or "none"
        hint = did_you_mean(name, sorted(known))
        raise SinkError(
            f"unknown sink `{name}`; known sinks: {listed}" + (f" ({hint})" if hint else "")
        )
    given = dict(options or {})
    accepted = _options_of(factory)
    unknown = sorted(set(given) - accepted) if accepted is not None else []
    if unknown:
        takes = ", ".join(f"`{o}`" for o in sorted(accepted or ())) or "no options"
        raise SinkError(f"sink `{name}` takes {takes}; found `{unknown[0]}`")
    return factory(**given)


def _options_of(factory: SinkFactory) -> set[str] | None:
    """The keyword options a factory takes (``None`` when it takes any, or cannot be told)."""
    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return None
    kinds = (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return {p.name for p in params if p.kind in kinds}
