"""Every command's errors, handled in one place: exception → message on stderr → exit code.

The exit codes are those of INTERFACES.md §1: ``0`` success; ``1`` the checked thing is invalid or
the run failed at run time; ``2`` bad usage or bad input (unreadable file, invalid scenario,
invalid policy, unknown agent), reported as one paragraph naming the file and the JSON Pointer;
``130`` interrupted. No traceback is shown unless ``--debug`` is given (on the command or before
it) or ``PAYSIM_DEBUG=1`` is set.

:class:`PaysimGroup` is the root command group of the Typer app; it wraps the invocation of every
subcommand, nested groups included, so a new command gets this behaviour without doing anything.
Click's own usage errors keep their standard rendering and exit code 2.

``--debug`` is taken out of the command line wherever it stands (before the ``--`` that ends the
options), so it works before the command name, after it, and on every command, including
commands that do not declare it (plugin commands, new command groups). Commands may still declare
:data:`DebugOption` so that their ``--help`` lists it.
"""

import os
import sys
import traceback
from collections.abc import Sequence
from typing import Annotated

import typer

# Typer vendors Click as `typer._click`; TyperGroup.invoke takes that Click's Context.
from typer import _click
from typer.core import TyperGroup

from paysim.exceptions import (
    ArgumentError,
    PaysimError,
    PolicyError,
    PolicyEvaluationError,
    ScenarioError,
    SimulationError,
    StoreError,
    StoreNotFoundError,
)
from paysim.outputs import OutputError

EXIT_INVALID = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
_DEBUG_KEY = "paysim.debug"


def set_debug(ctx: typer.Context, value: bool) -> bool:
    """Callback of every ``--debug`` option; ``ctx.meta`` is shared by nested contexts."""
    if value:
        ctx.meta[_DEBUG_KEY] = True
    return value


DebugOption = Annotated[
    bool,
    typer.Option(
        "--debug",
        callback=set_debug,
        is_eager=True,
        help="Show the traceback when the command fails.",
    ),
]
"""The ``--debug`` option; every command takes it, and so does ``paysim`` itself."""


def _debug(ctx: _click.Context) -> bool:
    return bool(ctx.meta.get(_DEBUG_KEY)) or os.environ.get("PAYSIM_DEBUG", "") in ("1", "true")


def debug_requested(ctx: typer.Context) -> bool:
    """Whether ``--debug`` (or ``PAYSIM_DEBUG=1``) is in force for the running command; for
    commands that report some errors themselves and want to show the traceback too."""
    return _debug(ctx)


def take_debug(args: Sequence[str]) -> tuple[list[str], bool]:
    """``args`` without the ``--debug`` flags that stand before ``--``, and whether one did."""
    out: list[str] = []
    found = False
    for i, arg in enumerate(args):
        if arg == "--":
            out.extend(args[i:])
            break
        if arg == "--debug":
            found = True
        else:
            out.append(arg)
    return out, found


def short_pointer(pointer: str, limit: int = 120) -> str:
    """A JSON Pointer cut in the middle when it is very long (hostile nesting makes pointers of
    thousands of characters): its start, an ellipsis, its end and its depth."""
    if len(pointer) <= limit:
        return pointer
    depth = pointer.count("/")
    return f"{pointer[: limit // 2]}…{pointer[-limit // 4 :]} ({depth} levels deep)"


def describe_policy_error(exc: PolicyError) -> str:
    """An invalid policy as a paragraph: the file, then each problem with its pointer."""
    whose = f" (policy of agent `{exc.agent_id}`)" if exc.agent_id else ""
    if exc.file:
        # A file-level problem without details concerns the document as a whole: its root.
        at = "" if exc.problems else " at /"
        lines = [f"invalid policy: {exc.file}{whose}{at}: {exc.message}"]
    else:
        lines = [f"invalid policy{whose}: {exc.message}"]
    for problem in exc.problems:
        pointer = short_pointer(str(problem.get("pointer") or "/"))
        text = f"  at {pointer}: {problem.get('message')}"
        if problem.get("suggestion"):
            text += f" ({problem['suggestion']})"
        lines.append(text)
    return "\n".join(lines)


def _describe_evaluation_error(exc: PolicyEvaluationError) -> str:
    where = [
        f"{label} {value}"
        for label, value in (
            ("agent", exc.agent_id),
            ("policy", exc.policy_id),
            ("tree", exc.tree),
            ("node", exc.node_id),
            ("at", exc.pointer),
            ("payment", exc.tx_id),
            ("tick", exc.tick),
        )
        if value is not None
    ]
    suffix = f" ({', '.join(where)})" if where else ""
    return f"policy evaluation failed: {exc.message}{suffix}"


def describe(exc: BaseException) -> tuple[int, str]:
    """The exit code and the message (one paragraph) for an exception that ended a command."""
    if isinstance(exc, ScenarioError):
        return EXIT_USAGE, str(exc)
    if isinstance(exc, PolicyError):
        return EXIT_USAGE, describe_policy_error(exc)
    if isinstance(exc, PolicyEvaluationError):
        return EXIT_INVALID, _describe_evaluation_error(exc)
    if isinstance(exc, SimulationError):
        return EXIT_INVALID, f"the run failed: {exc}"
    if isinstance(exc, OutputError | ArgumentError):
        return EXIT_USAGE, str(exc)
    if isinstance(exc, StoreNotFoundError):
        return EXIT_USAGE, f"database: {exc}"
    if isinstance(exc, StoreError):
        return EXIT_INVALID, f"database: {exc}"
    if isinstance(exc, PaysimError):
        return EXIT_INVALID, str(exc)
    if isinstance(exc, OSError):
        name = exc.filename if exc.filename is not None else "?"
        return EXIT_USAGE, f"cannot use {name}: {exc.strerror or exc}"
    return EXIT_INVALID, (
        f"unexpected {type(exc).__name__}: {exc} (this is a bug in paysim; run with "
        "--debug for the traceback and please report it)"
    )


class PaysimGroup(TyperGroup):
    """The root group: maps every command's exceptions to a message and an exit code, and takes
    ``--debug`` wherever it stands."""

    debug_requested = False

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: object,
    ) -> object:
        argv, self.debug_requested = take_debug(sys.argv[1:] if args is None else args)
        return super().main(
            argv, prog_name, complete_var, standalone_mode, windows_expand_args, **extra
        )

    def invoke(self, ctx: _click.Context) -> object:
        if self.debug_requested:
            ctx.meta[_DEBUG_KEY] = True
        try:
            return super().invoke(ctx)
        except (typer.TyperException, typer.Exit, typer.Abort):
            # Typer's own control flow (usage errors, exits): its standard handling applies.
            raise
        except BrokenPipeError:
            # The reader of our output went away (`paysim run ... | head`); Typer stops quietly.
            raise
        except KeyboardInterrupt:
            if _debug(ctx):
                traceback.print_exc()
            typer.echo("interrupted", err=True)
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except Exception as exc:
            if _debug(ctx):
                traceback.print_exc()
            code, message = describe(exc)
            typer.echo(f"error: {message}", err=True)
            raise typer.Exit(code) from None
