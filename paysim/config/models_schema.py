"""The scenario JSON Schema, generated from the pydantic models (never written by hand).

pydantic's schema describes the canonical shapes. The loader accepts a few more spellings that
SCENARIO.md allows, so they are added here to keep the schema and the loader in agreement for
editors and external validators: settlement keys at the top level, input aliases such as
``eod_penalty_per_transaction``, and the flat schedule form (``schedule: OneTime`` beside
``tick``). :func:`canonical_schema_text` is what ``make schemas`` writes to
``schemas/scenario.schema.json``; it is canonical (sorted keys, two-space indent, final newline),
so a diff shows exactly what changed.
"""

from __future__ import annotations

import json

from paysim.config.models import Scenario
from paysim.config.models_base import StrictModel
from paysim.config.models_events import SCHEDULE_TYPES
from paysim.config.models_settlement import SETTLEMENT_KEYS

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_FLAT_SCHEDULE = {
    "tick": "Flat schedule form: the tick of `schedule: OneTime`.",
    "start_tick": "Flat schedule form: the first tick of `schedule: Repeating`.",
    "interval": "Flat schedule form: the interval of `schedule: Repeating` (> 0).",
}


def scenario_json_schema() -> dict[str, object]:
    """The JSON Schema (draft 2020-12) of a scenario file."""
    schema: dict[str, object] = dict(Scenario.model_json_schema(mode="validation"))
    defs = _obj(schema, "$defs")
    properties = _obj(schema, "properties")
    settlement = _obj(_obj(defs, "Settlement"), "properties")
    for key in sorted(SETTLEMENT_KEYS):
        entry = dict(_obj(settlement, key))
        entry["description"] = (
            f"Same as `settlement.{key}` (SimCash compatibility; not both). "
            + str(entry.get("description", ""))
        ).strip()
        properties[key] = entry
    for model in _models():
        definition = defs.get(model.__name__)
        if not isinstance(definition, dict):
            continue
        props = _obj(definition, "properties")
        for alias, canonical in model.input_aliases.items():
            entry = dict(_obj(props, canonical))
            entry["description"] = f"Alias of `{canonical}` (not both)."
            props[alias] = entry
        if "schedule" in props:
            _allow_flat_schedule(props)
    schema["$schema"] = SCHEMA_DIALECT
    schema["title"] = "paysim scenario"
    return schema


def canonical_schema_text() -> str:
    """:func:`scenario_json_schema` as canonical text: sorted keys, two-space indent, newline."""
    return json.dumps(scenario_json_schema(), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def _allow_flat_schedule(props: dict[str, object]) -> None:
    nested = dict(_obj(props, "schedule"))
    description = nested.pop("description", None)
    props["schedule"] = {
        "anyOf": [nested, {"type": "string", "enum": list(SCHEDULE_TYPES)}],
        "description": description,
    }
    for key, text in _FLAT_SCHEDULE.items():
        props[key] = {
            "type": "integer",
            "minimum": 1 if key == "interval" else 0,
            "description": text,
        }


def _models() -> list[type[StrictModel]]:
    found: list[type[StrictModel]] = []
    stack: list[type[StrictModel]] = [StrictModel]
    while stack:
        model = stack.pop()
        found.append(model)
        stack.extend(model.__subclasses__())
    return found


def _obj(container: dict[str, object], key: str) -> dict[str, object]:
    value = container.get(key)
    if not isinstance(value, dict):
        raise KeyError(f"generated schema has no object at {key!r}")
    return value
