"""The plugin manager: built-ins first, then installed plugins from the ``paysim`` entry points.

``PAYSIM_DISABLE_PLUGIN_AUTOLOAD=1`` loads no installed plugin; ``PAYSIM_LOAD_PLUGINS=a,b``
loads only the named ones. Built-in features are plugins too, so they use the same hooks as
third-party code.
"""

from __future__ import annotations

import importlib.metadata
import os
from functools import lru_cache

import pluggy

from paysim.hookspecs import PROJECT, HookSpecs, PolicySource


def _builtin_plugins() -> list[object]:
    from paysim.policy import sources

    return [sources]


def create_plugin_manager(*, autoload: bool | None = None) -> pluggy.PluginManager:
    """A fresh manager with the built-ins and (unless disabled) the installed plugins."""
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(HookSpecs)
    for plugin in _builtin_plugins():
        pm.register(plugin, name=f"paysim.builtin.{getattr(plugin, '__name__', 'plugin')}")
    if autoload is None:
        autoload = os.environ.get("PAYSIM_DISABLE_PLUGIN_AUTOLOAD", "") not in ("1", "true")
    if autoload:
        wanted = {
            n.strip() for n in os.environ.get("PAYSIM_LOAD_PLUGINS", "").split(",") if n.strip()
        }
        for ep in importlib.metadata.entry_points(group=PROJECT):
            if wanted and ep.name not in wanted:
                continue
            if pm.get_plugin(ep.name) is None:
                pm.register(ep.load(), name=ep.name)
    return pm


@lru_cache(maxsize=1)
def plugin_manager() -> pluggy.PluginManager:
    """The process-wide manager (created on first use)."""
    return create_plugin_manager()


def policy_sources(pm: pluggy.PluginManager | None = None) -> dict[str, PolicySource]:
    """Every registered policy source by name; a later registration of a name wins."""
    found: dict[str, PolicySource] = {}

    def register(source: PolicySource) -> None:
        found[source.name] = source

    (pm or plugin_manager()).hook.paysim_register_policy_sources(register=register)
    return found
