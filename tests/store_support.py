"""Helpers shared by the store tests: persisted runs through the CLI, and their ids."""

from __future__ import annotations

import json
import re
from pathlib import Path

from paysim.simulation import RUN_METADATA_KEYS
from tests.cli_support import invoke

ID_LINE = re.compile(r"simulation ([0-9a-f-]{36}) → ")
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "store"
LONG_DAYS = FIXTURES / "long_days.yaml"


def persisted(db: Path, scenario: Path, *args: str) -> tuple[str, str]:
    """Runs ``paysim run SCENARIO --persist --db DB ARGS`` in this process; returns the run's id
    (from the line on stderr) and what it printed on stdout."""
    result = invoke("run", scenario, "--persist", "--db", db, *args)
    assert result.exit_code == 0, result.stderr
    match = ID_LINE.search(result.stderr)
    if match is None:  # --quiet: the id is in the JSON summary
        sid = json.loads(result.stdout)["simulation_id"]
        assert isinstance(sid, str)
        return sid, result.stdout
    return match.group(1), result.stdout


def without_metadata(summary: object) -> dict[str, object]:
    assert isinstance(summary, dict)
    return {k: v for k, v in summary.items() if k not in RUN_METADATA_KEYS}
