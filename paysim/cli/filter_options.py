"""The event filters of ``paysim run`` and ``paysim replay``: one definition of their options.

Typer reads a command's options from its signature, so each command names these aliases as the
types of its ``filter_*`` parameters (default ``None``).
"""

from typing import Annotated

import typer

FilterEventTypeOption = Annotated[
    str | None,
    typer.Option("--filter-event-type", metavar="A,B", help="Only these event types."),
]
FilterAgentOption = Annotated[
    str | None,
    typer.Option("--filter-agent", metavar="ID", help="Only events involving this agent."),
]
FilterTxOption = Annotated[
    str | None,
    typer.Option("--filter-tx", metavar="ID", help="Only events about this payment."),
]
FilterTickRangeOption = Annotated[
    str | None,
    typer.Option("--filter-tick-range", metavar="MIN-MAX", help="Only ticks MIN..MAX (inclusive)."),
]
