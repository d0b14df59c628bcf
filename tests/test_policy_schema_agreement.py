"""The generated policy JSON Schema and the engine's validator agree (POLICY_DSL.md §12).

Documents are generated from a small grammar of the language and then optionally broken in one
place (a misspelt field or action, an unknown key, a wrong type, an action from another tree).
The generator keeps to what a schema can judge: node ids are unique, parameters referenced are
declared, trees are shallow, so both must accept or both reject every document.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import jsonschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paysim import _core

SCHEMA = json.loads(
    (Path(__file__).resolve().parent.parent / "schemas" / "policy.schema.json").read_text()
)
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)

PAYMENT_FIELDS = ["amount", "ticks_to_deadline", "balance", "priority", "is_overdue"]
BANK_FIELDS = ["balance", "queue1_total_value", "available_liquidity", "day_progress_fraction"]
OPS = ["<", "<=", "==", "!=", ">", ">="]


def engine_valid(doc: dict[str, Any]) -> bool:
    report, _ = _core.validate_policy(json.dumps(doc).encode())
    return bool(json.loads(report)["valid"])


def schema_valid(doc: dict[str, Any]) -> bool:
    return VALIDATOR.is_valid(doc)


@st.composite
def condition(draw: st.DrawFn, fields: list[str]) -> dict[str, Any]:
    return {
        "op": draw(st.sampled_from(OPS)),
        "left": {"field": draw(st.sampled_from(fields))},
        "right": draw(
            st.one_of(
                st.builds(lambda v: {"value": v}, st.integers(-1000, 1000)),
                st.just({"param": "threshold"}),
                st.builds(
                    lambda f: {"compute": {"op": "*", "left": {"field": f}, "right": {"value": 2}}},
                    st.sampled_from(fields),
                ),
            )
        ),
    }


@st.composite
def payment_tree(draw: st.DrawFn, ids: itertools.count[int], depth: int = 0) -> dict[str, Any]:
    if depth >= 2 or draw(st.booleans()):
        action = draw(st.sampled_from(["Release", "Hold", "Drop", "Reprioritize"]))
        node: dict[str, Any] = {"type": "action", "node_id": f"n{next(ids)}", "action": action}
        if action == "Reprioritize":
            node["parameters"] = {"new_priority": {"value": draw(st.integers(0, 10))}}
        return node
    return {
        "type": "condition",
        "node_id": f"n{next(ids)}",
        "condition": draw(condition(PAYMENT_FIELDS)),
        "on_true": draw(payment_tree(ids, depth + 1)),
        "on_false": draw(payment_tree(ids, depth + 1)),
    }


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    ids = itertools.count()
    doc: dict[str, Any] = {
        "version": "1.0",
        "policy_id": "generated",
        "parameters": {"threshold": {"value": 5, "min": 0, "max": 10}},
        "payment_tree": draw(payment_tree(ids)),
    }
    if draw(st.booleans()):
        doc["bank_tree"] = {
            "type": "condition",
            "node_id": f"n{next(ids)}",
            "condition": draw(condition(BANK_FIELDS)),
            "on_true": {
                "type": "action",
                "node_id": f"n{next(ids)}",
                "action": "SetReleaseBudget",
                "parameters": {"max_value_to_release": {"field": "available_liquidity"}},
            },
            "on_false": {"type": "action", "node_id": f"n{next(ids)}", "action": "NoAction"},
        }
    # Keep the parameter used so no warning-only difference matters (warnings never invalidate).
    return doc


def _nodes(tree: dict[str, Any]) -> list[dict[str, Any]]:
    out = [tree]
    if tree.get("type") == "condition":
        out += _nodes(tree["on_true"]) + _nodes(tree["on_false"])
    return out


@st.composite
def broken(draw: st.DrawFn) -> dict[str, Any]:
    doc = draw(documents())
    nodes = _nodes(doc["payment_tree"])
    node = draw(st.sampled_from(nodes))
    how = draw(st.sampled_from(["field", "action", "key", "type", "tree", "none"]))
    if how == "field" and node["type"] == "condition":
        node["condition"]["left"] = {"field": "tiks_to_deadline"}
    elif how == "action" and node["type"] == "action":
        node["action"] = "Relase"
        node.pop("parameters", None)
    elif how == "key":
        node["colour"] = "blue"
    elif how == "type":
        node["node_id"] = 7
    elif how == "tree" and node["type"] == "action":
        node["action"] = "SetReleaseBudget"
        node["parameters"] = {"max_value_to_release": {"value": 5}}
    return doc


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(broken())
def test_schema_and_validator_agree(doc: dict[str, Any]) -> None:
    assert schema_valid(doc) == engine_valid(doc), json.dumps(doc)


def test_every_library_policy_passes_both() -> None:
    for path in sorted((Path(__file__).resolve().parent.parent / "policies").glob("*.json")):
        doc = json.loads(path.read_text())
        assert schema_valid(doc) and engine_valid(doc), path.name
