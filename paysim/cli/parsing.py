"""Parsers for the option values of ``paysim run`` that have a syntax of their own.

Each turns the strings Typer collected into the values the library takes and raises
:class:`typer.BadParameter` naming the option and the offending text, so bad syntax is a usage
error (exit 2) reported by Click in its usual form. They do no domain checks: whether an agent
or a parameter exists is for the library to say, with its own suggestions. The one check of
form beyond syntax is the payment id of ``--filter-tx``, whose shape the engine fixes.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from paysim.sinks import EventFilter

_INT = re.compile(r"[+-]?\d+")
_RANGE = re.compile(r"(\d+)?-(\d+)?|(\d+)")
# The engine's payment ids (core/src/state.rs): `tx_` and at least 8 digits; a split piece adds
# `.N` with N in 1..255.
_TX_ID = re.compile(r"tx_\d{8,}(?:\.(?:[1-9]\d?|1\d\d|2[0-4]\d|25[0-5]))?")


def parse_policies(values: list[str]) -> dict[str, str]:
    """``["BANK_A=fifo", ...]`` → ``{"BANK_A": "fifo"}`` (the last one for an agent wins)."""
    policies: dict[str, str] = {}
    for text in values:
        agent, eq, ref = text.partition("=")
        if not eq or not agent.strip() or not ref.strip():
            raise typer.BadParameter(
                f"expected AGENT=REF (e.g. BANK_A=fifo), found {text!r}", param_hint="'--policy'"
            )
        policies[agent.strip()] = ref.strip()
    return policies


def parse_number(text: str) -> int | float:
    """An integer when the text is one, else a finite float; ``ValueError`` otherwise."""
    text = text.strip()
    if _INT.fullmatch(text):
        return int(text)
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {text!r}")
    return value


def parse_params(values: list[str]) -> dict[str, dict[str, float]]:
    """``["BANK.A.urgency=3"]`` → ``{"BANK.A": {"urgency": 3}}``: the key splits at its last
    dot, because agent ids may contain dots and parameter names may not."""
    params: dict[str, dict[str, float]] = {}
    for text in values:
        key, eq, raw = text.partition("=")
        agent, dot, name = key.strip().rpartition(".")
        if not eq or not dot or not agent or not name or not raw.strip():
            raise typer.BadParameter(
                f"expected AGENT.NAME=VALUE (e.g. BANK_A.initial_liquidity_fraction=0.4), "
                f"found {text!r}",
                param_hint="'--param'",
            )
        try:
            value = parse_number(raw)
        except ValueError:
            raise typer.BadParameter(
                f"the value of {key.strip()!r} must be a number, found {raw.strip()!r}",
                param_hint="'--param'",
            ) from None
        params.setdefault(agent, {})[name] = value
    return params


def parse_tick_range(text: str | None) -> tuple[int | None, int | None]:
    """``"10-20"`` → ``(10, 20)``; ``"10-"`` and ``"-20"`` leave one end open; ``"7"`` is one
    tick. Both ends are inclusive."""
    if text is None:
        return None, None
    match = _RANGE.fullmatch(text.strip())
    if match is None or text.strip() == "-":
        raise typer.BadParameter(
            f"expected MIN-MAX (e.g. 10-20, 10- or -20), found {text!r}",
            param_hint="'--filter-tick-range'",
        )
    low, high, single = match.groups()
    if single is not None:
        return int(single), int(single)
    lo = None if low is None else int(low)
    hi = None if high is None else int(high)
    if lo is not None and hi is not None and lo > hi:
        raise typer.BadParameter(
            f"the range {text!r} is empty (MIN > MAX)", param_hint="'--filter-tick-range'"
        )
    return lo, hi


def parse_filter(
    event_types: str | None, agent: str | None, tx: str | None, tick_range: str | None
) -> EventFilter:
    """The event filter of the ``--filter-*`` options (an inactive one when none is given)."""
    from paysim import _core
    from paysim.config.suggest import did_you_mean
    from paysim.sinks import EventFilter

    types = None
    if event_types is not None:
        types = [t.strip() for t in event_types.split(",") if t.strip()]
        if not types:
            raise typer.BadParameter(
                "expected event types separated by commas", param_hint="'--filter-event-type'"
            )
        known = _core.event_types()
        for t in types:
            if t not in known:
                hint = did_you_mean(t, known)
                raise typer.BadParameter(
                    f"unknown event type `{t}`" + (f"; {hint}" if hint else ""),
                    param_hint="'--filter-event-type'",
                )
    if tx is not None and not _TX_ID.fullmatch(tx.strip()):
        raise typer.BadParameter(
            f"expected a payment id such as tx_00000042 (or tx_00000042.1 for a split piece), "
            f"found {tx!r}",
            param_hint="'--filter-tx'",
        )
    return EventFilter.of(
        event_types=types,
        agent=agent,
        tx=None if tx is None else tx.strip(),
        tick_range=parse_tick_range(tick_range),
    )
