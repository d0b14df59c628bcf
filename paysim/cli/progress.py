"""The progress bar of long commands: rich, on stderr, only when a person is watching.

INTERFACES.md §1: work that takes more than about a second shows a bar on stderr when stderr is
a terminal; ``--no-progress`` and non-terminals turn it off. The bar therefore appears only once
the work has run for :data:`DELAY` seconds (short runs never flash one), and it is transient:
it disappears when the work ends, leaving the terminal to the command's real output.

The bar never redirects stdout (rich's default would route stdout through the stderr console,
corrupting machine output), so callers must not enable it while they stream to the same
terminal on stdout; :func:`wanted` encodes that rule.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

DELAY = 0.5


def wanted(*, disabled: bool, streams_to_stdout: bool) -> bool:
    """Show a bar? Only to a terminal on stderr, and not over output streaming to the same
    terminal on stdout."""
    if disabled or not sys.stderr.isatty():
        return False
    return not (streams_to_stdout and sys.stdout.isatty())


@contextmanager
def progress_bar(label: str, *, enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    """Yields an ``update(done, total)`` callback (``None`` when disabled)."""
    if not enabled:
        yield None
        return
    start = time.monotonic()
    progress: Progress | None = None
    task = None

    def update(done: int, total: int) -> None:
        nonlocal progress, task
        if progress is None:
            if time.monotonic() - start < DELAY or done >= total:
                return
            progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("ticks"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            progress.start()
            task = progress.add_task(label, total=total)
        assert task is not None
        progress.update(task, completed=done, total=total)

    try:
        yield update
    finally:
        if progress is not None:
            progress.stop()
