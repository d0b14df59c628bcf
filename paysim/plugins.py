"""The plugin manager: built-in plugins, installed plugins, and who registered what.

The shape is the one of llm and datasette. Built-in features are plugins too: the modules of
:data:`DEFAULT_PLUGINS` implement the same hooks as third-party code. Installed distributions
announce a plugin object (usually a module) under the entry-point group ``paysim``.

Environment switches, read when the manager is first created:

* ``PAYSIM_DISABLE_PLUGIN_AUTOLOAD=1`` loads no installed plugin (built-ins still load);
* ``PAYSIM_LOAD_PLUGINS=a,b`` loads only the installed plugins named there (a distribution name
  such as ``paysim-tabular`` or an entry-point name such as ``tabular``); set but empty, it
  loads none.

paysim calls every hook implementation itself, one plugin at a time (built-ins first, in
:data:`DEFAULT_PLUGINS` order, then installed plugins sorted by distribution and entry-point
name, then plugins registered at run time), handing each a ``register`` callback that knows the
plugin. So a later registration of a name wins (an installed plugin can replace a built-in
sink or source), and everything a plugin registers or breaks is reported with its distribution,
entry point and hook (:class:`PluginError`). A plugin that cannot be imported is recorded, and
every operation that needs the plugins raises its error: results never silently depend on a
plugin that failed to load.

Built-ins are imported on first need rather than at start-up, so that ``paysim --help`` (which
only asks installed plugins for commands) stays fast.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

import pluggy

from paysim.exceptions import PaysimError
from paysim.hookspecs import PROJECT, HookSpecs, PolicySource

if TYPE_CHECKING:
    import typer

    from paysim.hookspecs import OutputSink

DEFAULT_PLUGINS: tuple[str, ...] = (
    "paysim.policy.sources",
    "paysim.sinks.builtin",
    "paysim.objectives",
)
"""Modules of the built-in plugins, registered in this order before any installed plugin."""

ENV_LOAD = "PAYSIM_LOAD_PLUGINS"
ENV_DISABLE = "PAYSIM_DISABLE_PLUGIN_AUTOLOAD"
_TRUE = ("1", "true", "yes", "on")

T = TypeVar("T")


@dataclass(frozen=True)
class PluginInfo:
    """Where a plugin comes from."""

    name: str
    """The name it is registered under: its entry-point name, or the module of a built-in."""
    distribution: str | None = None
    version: str | None = None
    entry_point: str | None = None
    """``module:attr`` the entry point loads (``None`` for built-ins and run-time plugins)."""
    builtin: bool = False

    def describe(self) -> str:
        """``plugin `tabular` (paysim-tabular 0.1.0, entry point `tabular =
        paysim_tabular.plugin`)``, for messages."""
        if self.builtin:
            return f"built-in plugin `{self.name}`"
        parts = []
        if self.distribution:
            parts.append(f"{self.distribution} {self.version or '?'}".strip())
        if self.entry_point:
            parts.append(f"entry point `{self.name} = {self.entry_point}`")
        where = f" ({', '.join(parts)})" if parts else ""
        return f"plugin `{self.name}`{where}"

    def record(self) -> dict[str, str | None]:
        """What a run summary records about the plugin (``plugins`` metadata key)."""
        return {"name": self.name, "distribution": self.distribution, "version": self.version}


class PluginError(PaysimError):
    """A plugin failed: it could not be loaded, a hook raised, or something it registered (a
    generator, a sink, an objective) failed at run time. A run-time failure (exit code 1)."""

    def __init__(
        self,
        message: str,
        *,
        plugin: PluginInfo | None = None,
        hook: str | None = None,
    ) -> None:
        self.message = message
        self.plugin = plugin
        self.hook = hook
        super().__init__(self.__str__())

    def __str__(self) -> str:
        head = self.plugin.describe() if self.plugin is not None else "a plugin"
        if self.hook:
            head += f", hook `{self.hook}`"
        return f"{head}: {self.message}"


@dataclass(frozen=True)
class Registration(Generic[T]):
    """One thing a plugin registered through a hook."""

    name: str
    value: T
    plugin: PluginInfo


class PaysimPluginManager(pluggy.PluginManager):
    """A pluggy manager that knows where each plugin comes from and the order to call them."""

    def __init__(self) -> None:
        super().__init__(PROJECT)
        self.add_hookspecs(HookSpecs)
        self.infos: dict[str, PluginInfo] = {}
        self.load_failures: list[PluginError] = []
        self.load_warnings: list[str] = []
        self.builtins_loaded = False
        self._rank: dict[str, float] = {}
        self._next = 0

    def register(self, plugin: object, name: str | None = None) -> str | None:
        registered = super().register(plugin, name)
        if registered is not None and registered not in self._rank:
            self._rank[registered] = self._next
            self._next += 1
        return registered

    def unregister(self, plugin: object | None = None, name: str | None = None) -> object | None:
        removed = super().unregister(plugin, name)
        for key in [k for k in self._rank if self.get_plugin(k) is None]:
            del self._rank[key]
        return removed

    def rank(self, plugin_name: str) -> float:
        """The plugin's place in calling order (built-ins first; unknown last)."""
        return self._rank.get(plugin_name, float("inf"))

    def info(self, plugin_name: str) -> PluginInfo:
        """Where the plugin registered as ``plugin_name`` comes from."""
        return self.infos.get(plugin_name) or PluginInfo(plugin_name)

    def ordered_impls(self, hook_name: str) -> list[pluggy.HookImpl]:
        """The implementations of a hook in calling order: built-ins, then installed plugins,
        then plugins registered at run time."""
        caller = getattr(self.hook, hook_name)
        impls = [i for i in caller.get_hookimpls() if not (i.hookwrapper or i.wrapper)]
        return sorted(impls, key=lambda i: self.rank(i.plugin_name))

    def load_builtins(self) -> None:
        """Imports and registers the built-in plugins (once); they are called first."""
        if self.builtins_loaded:
            return
        self.builtins_loaded = True
        for index, module_name in enumerate(DEFAULT_PLUGINS):
            module = importlib.import_module(module_name)
            if self.get_plugin(module_name) is None:
                super().register(module, name=module_name)
                self._rank[module_name] = index - len(DEFAULT_PLUGINS)
                self.infos[module_name] = PluginInfo(
                    module_name, "paysim", _paysim_version(), None, builtin=True
                )

    def check_loaded(self) -> None:
        """Raises the first load failure: nothing may run without a plugin that was asked for."""
        if self.load_failures:
            raise self.load_failures[0]


def _paysim_version() -> str | None:
    try:
        return importlib.metadata.version("paysim")
    except importlib.metadata.PackageNotFoundError:
        return None


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _entry_points() -> list[importlib.metadata.EntryPoint]:
    """The installed ``paysim`` entry points, in a fixed order (distribution, name)."""
    found = importlib.metadata.entry_points(group=PROJECT)

    def key(ep: importlib.metadata.EntryPoint) -> tuple[str, str]:
        dist = ep.dist.name if ep.dist is not None else ""
        return (_normalize(dist), ep.name)

    return sorted(found, key=key)


def _allow_list() -> set[str] | None:
    raw = os.environ.get(ENV_LOAD)
    if raw is None:
        return None
    return {_normalize(n.strip()) for n in raw.split(",") if n.strip()}


def _load_installed(pm: PaysimPluginManager, *, force: bool = False) -> None:
    if not force and os.environ.get(ENV_DISABLE, "").strip().lower() in _TRUE:
        return
    wanted = _allow_list()
    seen: set[str] = set()
    for ep in _entry_points():
        dist = ep.dist.name if ep.dist is not None else None
        names = {_normalize(ep.name)} | ({_normalize(dist)} if dist else set())
        seen |= names
        if wanted is not None and not (names & wanted):
            continue
        info = PluginInfo(ep.name, dist, ep.dist.version if ep.dist is not None else None, ep.value)
        if ep.name in pm.infos or pm.get_plugin(ep.name) is not None:
            other = pm.infos.get(ep.name)
            pm.load_failures.append(
                PluginError(
                    "its entry-point name is already taken"
                    + (f" by {other.describe()}" if other else ""),
                    plugin=info,
                )
            )
            continue
        pm.infos[ep.name] = info
        try:
            plugin = ep.load()
        except Exception as exc:
            pm.load_failures.append(
                PluginError(
                    f"failed to load: {type(exc).__name__}: {exc} (uninstall it, or leave it out "
                    f"with {ENV_LOAD} or {ENV_DISABLE}=1)",
                    plugin=info,
                )
            )
            continue
        _register_checked(pm, plugin, info)
    if wanted:
        for name in sorted(wanted - seen):
            pm.load_warnings.append(f"{ENV_LOAD} names `{name}`, which is not an installed plugin")


def _register_checked(pm: PaysimPluginManager, plugin: object, info: PluginInfo) -> None:
    """Registers ``plugin``, refusing one that implements a hook paysim does not have."""
    try:
        pm.register(plugin, name=info.name)
    except Exception as exc:
        pm.load_failures.append(PluginError(f"cannot be registered: {exc}", plugin=info))
        return
    known = sorted(name for name in dir(HookSpecs) if name.startswith(f"{PROJECT}_"))
    for caller in pm.get_hookcallers(plugin) or []:
        if caller.spec is None:
            # Imported here: paysim.config is heavy, and start-up loads plugins.
            from paysim.config.suggest import did_you_mean

            hint = did_you_mean(caller.name, known)
            pm.unregister(plugin)
            pm.load_failures.append(
                PluginError(
                    f"implements `{caller.name}`, which is not a paysim hook"
                    + (f" ({hint})" if hint else ""),
                    plugin=info,
                )
            )
            return


_lock = threading.RLock()
_manager: PaysimPluginManager | None = None


def current_manager() -> PaysimPluginManager:
    """The process-wide manager with the installed plugins (built-ins not yet imported)."""
    global _manager
    with _lock:
        if _manager is None:
            pm = PaysimPluginManager()
            _load_installed(pm)
            _manager = pm
        return _manager


def plugin_manager() -> PaysimPluginManager:
    """The process-wide manager, built-ins and installed plugins loaded. Raises
    :class:`PluginError` when an installed plugin failed to load."""
    pm = current_manager()
    with _lock:
        pm.load_builtins()
    pm.check_loaded()
    return pm


def reset_plugin_manager() -> None:
    """Forgets the process-wide manager: the next use re-reads the environment and the
    installed entry points (for tests and long-lived processes after an install)."""
    global _manager
    with _lock:
        _manager = None


def create_plugin_manager(*, autoload: bool | None = None) -> PaysimPluginManager:
    """A fresh manager with the built-ins and the installed plugins: ``autoload=None`` follows
    the environment switches, ``False`` loads no installed plugin, ``True`` ignores
    ``PAYSIM_DISABLE_PLUGIN_AUTOLOAD`` (the allow-list still applies). Load failures are
    recorded in ``load_failures``, not raised."""
    pm = PaysimPluginManager()
    if autoload is not False:
        _load_installed(pm, force=bool(autoload))
    pm.load_builtins()
    return pm


def call_hook(
    hook_name: str,
    kwargs_for: Callable[[PluginInfo], Mapping[str, object]],
    pm: pluggy.PluginManager | None = None,
) -> None:
    """Calls each implementation of ``hook_name`` in order with the arguments
    ``kwargs_for(plugin)`` gives; an exception from a plugin becomes a :class:`PluginError`
    naming it and the hook (a :class:`PaysimError` it raises on purpose passes through)."""
    pm = pm or plugin_manager()
    for impl in _ordered_impls(pm, hook_name):
        info = pm.info(impl.plugin_name) if isinstance(pm, PaysimPluginManager) else None
        info = info or PluginInfo(impl.plugin_name)
        kwargs = kwargs_for(info)
        try:
            impl.function(**{name: kwargs[name] for name in impl.argnames})
        except PaysimError:
            raise
        except Exception as exc:
            if info.builtin:
                raise
            raise PluginError(f"{type(exc).__name__}: {exc}", plugin=info, hook=hook_name) from exc


def _ordered_impls(pm: pluggy.PluginManager, hook_name: str) -> list[pluggy.HookImpl]:
    if isinstance(pm, PaysimPluginManager):
        return pm.ordered_impls(hook_name)
    caller = getattr(pm.hook, hook_name)
    return [i for i in caller.get_hookimpls() if not (i.hookwrapper or i.wrapper)]


def collect(
    hook_name: str,
    adapt: Callable[..., tuple[str, T]],
    pm: pluggy.PluginManager | None = None,
) -> dict[str, Registration[T]]:
    """What every plugin registers through ``hook_name``, by name (a later registration of a
    name wins). ``adapt`` turns the arguments of one ``register(...)`` call into
    ``(name, value)``; a ``TypeError`` or ``ValueError`` it raises is the plugin's fault."""
    found: dict[str, Registration[T]] = {}

    def kwargs_for(info: PluginInfo) -> dict[str, object]:
        def register(*args: object, **kwargs: object) -> None:
            try:
                name, value = adapt(*args, **kwargs)
            except (TypeError, ValueError, AttributeError) as exc:
                raise PluginError(
                    f"invalid registration: {exc}", plugin=info, hook=hook_name
                ) from exc
            found[name] = Registration(name, value, info)

        return {"register": register}

    call_hook(hook_name, kwargs_for, pm)
    return found


def _named(obj: T) -> tuple[str, T]:
    name = getattr(obj, "name", None)
    if not isinstance(name, str) or not name:
        raise ValueError(f"{obj!r} has no `name` (a non-empty string)")
    return name, obj


def policy_sources(pm: pluggy.PluginManager | None = None) -> dict[str, PolicySource]:
    """Every registered policy source by name."""
    found = collect("paysim_register_policy_sources", _named, pm)
    return {name: reg.value for name, reg in found.items()}


def registered_sinks(
    pm: pluggy.PluginManager | None = None,
) -> dict[str, Registration[Callable[..., OutputSink]]]:
    """Every registered sink factory by name. The factories of installed plugins are guarded:
    their sinks' failures become :class:`PluginError` naming the plugin (see
    :mod:`paysim.plugin_guards`)."""
    from paysim.plugin_guards import guarded_factory

    def adapt(name: object, factory: object) -> tuple[str, Callable[..., OutputSink]]:
        if not isinstance(name, str) or not name or not callable(factory):
            raise TypeError("expected register(name: str, factory: callable)")
        return name, factory

    found = collect("paysim_register_sinks", adapt, pm)
    return {
        name: reg
        if reg.plugin.builtin
        else Registration(name, guarded_factory(name, reg.value, reg.plugin), reg.plugin)
        for name, reg in found.items()
    }


def register_commands(app: typer.Typer) -> list[PluginError]:
    """Lets installed plugins add commands to ``app`` (``paysim_register_commands``). A plugin
    whose hook raises, or that tries to replace an existing command, is left out; the problems
    are returned for the caller to report. Built-ins are not imported for this."""
    pm = current_manager()
    problems: list[PluginError] = []
    for impl in pm.ordered_impls("paysim_register_commands"):
        info = pm.info(impl.plugin_name)
        before = (list(app.registered_commands), list(app.registered_groups))
        taken = command_names(app)
        try:
            impl.function(app=app)
        except Exception as exc:
            app.registered_commands[:], app.registered_groups[:] = before
            problems.append(
                PluginError(
                    f"{type(exc).__name__}: {exc}", plugin=info, hook="paysim_register_commands"
                )
            )
            continue
        clashes = sorted(command_names(app, skip=before) & taken)
        if clashes:
            app.registered_commands[:], app.registered_groups[:] = before
            problems.append(
                PluginError(
                    f"tried to replace the command `{clashes[0]}`; its commands are left out",
                    plugin=info,
                    hook="paysim_register_commands",
                )
            )
    return problems


def command_names(
    app: typer.Typer, skip: tuple[Sequence[object], Sequence[object]] = ((), ())
) -> set[str]:
    """Names of the commands and groups of ``app`` (those not in ``skip``)."""
    names = set()
    for command in app.registered_commands:
        if any(command is s for s in skip[0]):
            continue
        callback = command.callback
        names.add(command.name or (callback.__name__ if callback else "").lower().replace("_", "-"))
    for group in app.registered_groups:
        if any(group is s for s in skip[1]):
            continue
        name = group.name or (group.typer_instance.info.name if group.typer_instance else None)
        if isinstance(name, str):
            names.add(name)
    return names


def loaded_plugins() -> list[dict[str, str | None]]:
    """The plugins loaded in this process other than the built-ins, sorted by name, as the
    run summary records them (``plugins`` metadata key). Raises :class:`PluginError` when an
    installed plugin failed to load: no run is reported without a plugin that was asked for."""
    pm = current_manager()
    pm.check_loaded()
    out = []
    for name, _ in pm.list_name_plugin():
        info = pm.info(name)
        if not info.builtin:
            out.append(info.record())
    return sorted(out, key=lambda r: str(r["name"]))


def iter_plugins(pm: PaysimPluginManager) -> Iterator[tuple[PluginInfo, object | None]]:
    """Every plugin the manager knows, with its object (``None`` when it failed to load), in
    calling order; failed ones last."""
    ranked = sorted(pm.list_name_plugin(), key=lambda item: pm.rank(item[0]))
    for name, plugin in ranked:
        yield pm.info(name), plugin
    for failure in pm.load_failures:
        if failure.plugin is not None and pm.get_plugin(failure.plugin.name) is None:
            yield failure.plugin, None
