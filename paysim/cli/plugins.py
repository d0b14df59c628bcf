"""``paysim plugins``: the installed plugins, their versions and hooks (INTERFACES.md §3).

:func:`register` adds the command and lets installed plugins add theirs
(``paysim_register_commands``); ``paysim/cli/main.py`` calls it once, after the built-in
commands, so a plugin cannot replace one. Only installed plugins are imported for that, never
the built-ins, which keeps ``paysim --help`` fast.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer

from paysim.cli.errors import DebugOption

EXIT_BROKEN = 1


class ListFormat(StrEnum):
    text = "text"
    json = "json"


def plugins_cmd(
    show_all: Annotated[bool, typer.Option("--all", help="Include the built-in plugins.")] = False,
    hook: Annotated[
        str | None,
        typer.Option("--hook", metavar="NAME", help="Only plugins implementing this hook."),
    ] = None,
    output_format: Annotated[
        ListFormat, typer.Option("--format", help="text or json (a list of objects).")
    ] = ListFormat.text,
    debug: DebugOption = False,
) -> None:
    """List installed plugins: name, version, hooks and what each registers.

    Exit 1 when a plugin is broken (it is listed with its error).
    """
    from paysim.config.suggest import did_you_mean
    from paysim.plugin_listing import describe_plugins, entry_text, hook_names

    if hook is not None and hook not in hook_names():
        hint = did_you_mean(hook, hook_names())
        raise typer.BadParameter(
            f"unknown hook `{hook}`; hooks: {', '.join(hook_names())}"
            + (f" ({hint})" if hint else ""),
            param_hint="'--hook'",
        )
    entries, warnings = describe_plugins(include_builtins=show_all, hook=hook)
    for warning in warnings:
        typer.echo(f"warning: {warning}", err=True)
    if output_format is ListFormat.json:
        typer.echo(json.dumps(entries, indent=2))
    elif not entries:
        typer.echo("no plugins" + ("" if show_all else " installed (--all shows the built-ins)"))
    else:
        for entry in entries:
            typer.echo("\n".join(entry_text(entry)))
    if any(entry["error"] for entry in entries):
        raise typer.Exit(EXIT_BROKEN)


def register(app: typer.Typer) -> None:
    """Adds ``paysim plugins``, then the commands of installed plugins; a plugin whose
    ``paysim_register_commands`` fails is reported on stderr and left out."""
    from paysim.plugins import register_commands

    app.command("plugins")(plugins_cmd)
    for problem in register_commands(app):
        typer.echo(f"warning: {problem}", err=True)
