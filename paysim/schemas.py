"""The generated JSON Schemas of ``schemas/`` (``make schemas``; never edited by hand).

Each schema comes from its single source of truth (the pydantic scenario models today; the
engine's policy registry and the run-summary model as they land), rendered canonically so a diff
shows exactly what changed. ``tests/test_schemas.py`` fails when a committed file drifts.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from paysim import _core
from paysim.config import canonical_schema_text
from paysim.optimize.spec import spec_schema_text
from paysim.summary_model import run_summary_schema_text

GENERATORS: dict[str, Callable[[], str]] = {
    "policy.schema.json": _core.policy_json_schema,
    "scenario.schema.json": canonical_schema_text,
    "run_summary.schema.json": run_summary_schema_text,
    "optimize.schema.json": spec_schema_text,
}


def generated() -> dict[str, str]:
    """File name → canonical text of every generated schema."""
    return {name: make() for name, make in GENERATORS.items()}


def write_all(directory: Path) -> list[Path]:
    """Writes every schema into ``directory``; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in generated().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("schemas")
    for p in write_all(target):
        print(p)
