"""Committed schemas equal what their sources generate, byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from paysim.schemas import generated

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"


@pytest.mark.parametrize("name", sorted(generated()))
def test_no_drift(name: str) -> None:
    committed = (SCHEMAS / name).read_text(encoding="utf-8")
    assert committed == generated()[name], f"schemas/{name} is stale: run `make schemas`"


def test_example_scenarios_validate_against_the_scenario_schema() -> None:
    import yaml

    schema = json.loads((SCHEMAS / "scenario.schema.json").read_text())
    for path in sorted((SCHEMAS.parent / "scenarios").glob("*.yaml")):
        jsonschema.validate(yaml.safe_load(path.read_text()), schema)


def test_library_policies_validate_against_the_policy_schema() -> None:
    schema = json.loads((SCHEMAS / "policy.schema.json").read_text())
    library = sorted((SCHEMAS.parent / "policies").glob("*.json"))
    assert library
    for path in library:
        jsonschema.validate(json.loads(path.read_text()), schema)
