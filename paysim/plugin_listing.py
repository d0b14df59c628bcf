"""What ``paysim plugins`` (and the HTTP API) shows: each plugin, where it comes from, the hooks
it implements and the names it registers through each.

Listing never raises for a broken plugin: a plugin that failed to load, or whose hook raises when
asked what it registers, is listed with its ``error``, so the listing is where a user finds out
what is wrong.
"""

from __future__ import annotations

from collections.abc import Callable

from paysim.hookspecs import HookSpecs
from paysim.plugins import (
    PaysimPluginManager,
    PluginInfo,
    current_manager,
    iter_plugins,
)

PluginEntry = dict[str, object]


def hook_names() -> list[str]:
    """Every hook paysim defines, sorted."""
    return sorted(n for n in dir(HookSpecs) if n.startswith("paysim_"))


def _name_of(hook: str, args: tuple[object, ...], kwargs: dict[str, object]) -> str:
    if hook in ("paysim_register_sinks", "paysim_register_objectives"):
        first = args[0] if args else kwargs.get("name")
        return str(first)
    obj = args[0] if args else next(iter(kwargs.values()), None)
    return str(getattr(obj, "name", "?"))


def _registers(pm: PaysimPluginManager, plugin: object, info: PluginInfo) -> dict[str, list[str]]:
    """The names ``plugin`` registers through each hook it implements (raises what it raises)."""
    out: dict[str, list[str]] = {}
    for caller in pm.get_hookcallers(plugin) or []:
        impls = [i for i in caller.get_hookimpls() if i.plugin is plugin]
        names: list[str] = []
        for impl in impls:
            if caller.name == "paysim_register_commands":
                import typer

                from paysim.plugins import command_names

                scratch = typer.Typer()
                impl.function(app=scratch)
                names.extend(sorted(command_names(scratch)))
                continue

            def register(
                *args: object,
                _hook: str = caller.name,
                _names: list[str] = names,
                **kwargs: object,
            ) -> None:
                _names.append(_name_of(_hook, args, kwargs))

            impl.function(**dict.fromkeys(impl.argnames, register))
        out[caller.name] = names
    return out


def describe_plugins(
    *,
    include_builtins: bool = False,
    hook: str | None = None,
    pm: PaysimPluginManager | None = None,
) -> tuple[list[PluginEntry], list[str]]:
    """The plugin entries in calling order, and warnings (allow-list names that match nothing).

    Each entry: ``name``, ``distribution``, ``version``, ``entry_point``, ``builtin``,
    ``hooks`` (sorted), ``registers`` (hook → names), ``error`` (``None`` when healthy)."""
    if pm is None:
        pm = current_manager()
    if include_builtins:
        pm.load_builtins()
    failures = {f.plugin.name: f for f in pm.load_failures if f.plugin is not None}
    entries: list[PluginEntry] = []
    for info, plugin in iter_plugins(pm):
        if info.builtin and not include_builtins:
            continue
        error: str | None = None
        registers: dict[str, list[str]] = {}
        if plugin is None:
            failure = failures.get(info.name)
            error = failure.message if failure is not None else "not loaded"
        else:
            try:
                registers = _registers(pm, plugin, info)
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
                registers = {c.name: [] for c in pm.get_hookcallers(plugin) or []}
        hooks = sorted(registers)
        if hook is not None and hook not in hooks:
            continue
        entries.append(
            {
                "name": info.name,
                "distribution": info.distribution,
                "version": info.version,
                "entry_point": info.entry_point,
                "builtin": info.builtin,
                "hooks": hooks,
                "registers": {h: registers[h] for h in hooks},
                "error": error,
            }
        )
    return entries, list(pm.load_warnings)


def entry_text(entry: PluginEntry, bullet: Callable[[str], str] = lambda s: f"  {s}") -> list[str]:
    """The lines ``paysim plugins`` prints for one entry."""
    head = str(entry["name"])
    if entry.get("distribution"):
        head += f"  {entry['distribution']} {entry.get('version') or ''}".rstrip()
    if entry.get("entry_point"):
        head += f"  (entry point {entry['name']} = {entry['entry_point']})"
    if entry.get("builtin"):
        head += "  (built in)"
    lines = [head]
    registers = entry.get("registers")
    if isinstance(registers, dict):
        for hook, names in registers.items():
            listed = ", ".join(names) if isinstance(names, list) and names else "—"
            lines.append(bullet(f"{hook}: {listed}"))
    if entry.get("error"):
        lines.append(bullet(f"error: {entry['error']}"))
    return lines
