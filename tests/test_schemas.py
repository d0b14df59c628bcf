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


def _validator(name: str) -> jsonschema.protocols.Validator:
    """A validator for a committed schema, the schema itself checked once (``jsonschema.validate``
    re-checks it against the metaschema on every call: seconds for the policy schema)."""
    schema = json.loads((SCHEMAS / name).read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def test_example_scenarios_validate_against_the_scenario_schema() -> None:
    import yaml

    validator = _validator("scenario.schema.json")
    for path in sorted((SCHEMAS.parent / "scenarios").glob("*.yaml")):
        validator.validate(yaml.safe_load(path.read_text()))


def test_library_policies_validate_against_the_policy_schema() -> None:
    validator = _validator("policy.schema.json")
    library = sorted((SCHEMAS.parent / "policies").glob("*.json"))
    assert library
    for path in library:
        validator.validate(json.loads(path.read_text()))
