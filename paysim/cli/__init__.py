"""The ``paysim`` command line (Typer); the app is built in :mod:`paysim.cli.main`.

:func:`main` is the console-script entry point. It answers ``paysim --version`` on its own, before
Typer is even imported (importing Typer and building the command line is most of the start-up
time); everything else goes to the Typer app.
"""

from __future__ import annotations

import sys


def version_text() -> str:
    """What ``paysim --version`` prints."""
    from paysim import __version__, _core

    return f"paysim {__version__} (engine {_core.core_version()})"


def main() -> None:
    """Console-script entry point."""
    if sys.argv[1:] == ["--version"]:
        print(version_text())
        return
    from paysim.cli.main import main as run_app

    run_app()
