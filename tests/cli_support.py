"""Helpers shared by the CLI tests: invoking ``paysim`` in-process and as a real process,
reading JSON Lines, and rebuilding balances from events (ENGINE.md §12.2)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner, Result

from paysim.cli.main import app

REPO = Path(__file__).resolve().parent.parent
SCENARIOS = REPO / "scenarios"
DEMO = SCENARIOS / "demo.yaml"
INVALID = REPO / "tests" / "fixtures" / "scenarios" / "invalid"
SETTLEMENT_TYPES = {"RtgsImmediateSettlement", "Queue2LiquidityRelease", "OffsetSettlement"}
EVENT_KEYS = [
    "seq",
    "tick",
    "day",
    "event_type",
    "tx_id",
    "agent_id",
    "counterparty_id",
    "amount",
    "details",
]


def invoke(*args: str | Path) -> Result:
    """``paysim ARGS`` in this process (stdout and stderr captured separately)."""
    return CliRunner().invoke(app, [str(a) for a in args])


def subprocess_cli(*args: str | Path, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    """``python -m paysim ARGS`` as a real process."""
    return subprocess.run(
        [sys.executable, "-m", "paysim", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    )


def jsonl(text: str) -> list[dict[str, object]]:
    """Every line of ``text`` parsed as one JSON object (fails on anything else)."""
    rows = [json.loads(line) for line in text.splitlines()]
    assert all(isinstance(r, dict) for r in rows)
    return rows


def balances_from_events(rows: list[dict[str, object]]) -> dict[str, int]:
    """Every agent's balance after the events, rebuilt as ENGINE.md §12.2 says."""
    balances: dict[str, int] = {}
    for row in rows:
        et, ag, cp, amt = row["event_type"], row["agent_id"], row["counterparty_id"], row["amount"]
        details = row["details"]
        assert isinstance(details, dict)
        if et == "AgentOpened":
            assert isinstance(ag, str) and isinstance(amt, int)
            balances[ag] = amt
            continue
        if et == "LiquidityAllocation":
            balances[str(ag)] += int(str(amt))
        elif et == "LiquidityReturn":
            balances[str(ag)] -= int(str(amt))
        elif et in SETTLEMENT_TYPES or (
            et == "ScenarioEventExecuted"
            and (
                details["event_type"] == "DirectTransfer"
                or (details["event_type"] == "ScheduledSettlement" and details["settled"])
            )
        ):
            balances[str(ag)] -= int(str(amt))
            balances[str(cp)] += int(str(amt))
    return balances


def flat(text: str) -> str:
    """``text`` without rich's box drawing and line breaks, whitespace collapsed: usage errors
    come in a box whose width depends on the terminal."""
    return " ".join(text.translate({ord(c): " " for c in "│╭╮╰╯─"}).split())
