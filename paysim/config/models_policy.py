"""Policy references: every form a scenario may use to name an agent's policy.

SCENARIO.md lists them: a string (library name, path, or ``source:name``), an inline policy
document, and the SimCash objects ``{type: Fifo}``, ``{type: Deadline, urgency_threshold}``,
``{type: LiquidityAware, target_buffer, urgency_threshold}``,
``{type: LiquiditySplitting, max_splits, min_split_amount}``,
``{type: FromJson, json_path, params?}``,
``{type: Inline, decision_trees}`` and ``{type: InlineJson, json_string}``.

The config layer does not resolve policies; it reduces each form to a :data:`PolicyRef` (a
string for the policy sources, or an inline document) plus the parameter values the form
carries, and :mod:`paysim.config.normalize` hands that to the resolver.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Literal, TypeAlias

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Discriminator,
    Field,
    JsonValue,
    WithJsonSchema,
    model_validator,
)
from pydantic import Tag as _Tag

from paysim.config.models_base import (
    NonNegCents,
    PolicyParameters,
    StrictModel,
    config_error,
    describe,
    register_tags,
)
from paysim.config.suggest import did_you_mean

PolicyRef: TypeAlias = str | dict[str, JsonValue]
"""What a policy resolver receives: a reference string or an inline policy document."""

POLICY_DOCUMENT_KEYS = (
    "version",
    "policy_id",
    "description",
    "parameters",
    "payment_tree",
    "bank_tree",
    "strategic_collateral_tree",
    "end_of_tick_collateral_tree",
    "metadata",
)

# SimCash reference forms with parameters → the library policy they stand for.
SIMCASH_LIBRARY_NAMES: Mapping[str, str] = {
    "Fifo": "fifo",
    "Deadline": "deadline",
    "LiquidityAware": "liquidity_aware",
    "LiquiditySplitting": "liquidity_splitting",
}


def _check_document(value: dict[str, JsonValue]) -> dict[str, JsonValue]:
    for key in value:
        if key not in POLICY_DOCUMENT_KEYS:
            allowed = ", ".join(f"`{k}`" for k in POLICY_DOCUMENT_KEYS)
            raise config_error(
                "unknown_key",
                f"unknown key `{key}` in an inline policy document; a policy object is either "
                f"a document (keys {allowed}) or a SimCash form with `type`",
                at=[key],
                suggestion=did_you_mean(key, (*POLICY_DOCUMENT_KEYS, "type")),
            )
    return value


_DOCUMENT_SCHEMA: dict[str, object] = {
    "type": "object",
    "description": "An inline policy document (POLICY_DSL.md); the engine validates its content.",
    "properties": {key: {} for key in POLICY_DOCUMENT_KEYS},
    "additionalProperties": False,
}
PolicyDocument = Annotated[
    dict[str, JsonValue], AfterValidator(_check_document), WithJsonSchema(_DOCUMENT_SCHEMA)
]
"""An inline policy document (POLICY_DSL.md §1.1); the engine validates its content."""


class FifoPolicy(StrictModel):
    """SimCash ``{type: Fifo}``: the library policy ``fifo``."""

    noun = "a `Fifo` policy reference"
    type: Literal["Fifo"] = Field(description="Library policy `fifo`.")


class DeadlinePolicy(StrictModel):
    """SimCash ``{type: Deadline, urgency_threshold}``: library ``deadline``."""

    noun = "a `Deadline` policy reference"
    type: Literal["Deadline"] = Field(description="Library policy `deadline`.")
    urgency_threshold: Annotated[float, Field(ge=0, allow_inf_nan=False)] = Field(
        description="Ticks before the deadline at which a payment is released."
    )


class LiquidityAwarePolicy(StrictModel):
    """SimCash ``{type: LiquidityAware, target_buffer, urgency_threshold}``."""

    noun = "a `LiquidityAware` policy reference"
    type: Literal["LiquidityAware"] = Field(description="Library policy `liquidity_aware`.")
    target_buffer: NonNegCents = Field(description="Balance kept after a release, in cents.")
    urgency_threshold: Annotated[float, Field(ge=0, allow_inf_nan=False)] = Field(
        description="Ticks before the deadline at which a payment goes regardless."
    )


class LiquiditySplittingPolicy(StrictModel):
    """SimCash ``{type: LiquiditySplitting, max_splits, min_split_amount}``."""

    noun = "a `LiquiditySplitting` policy reference"
    type: Literal["LiquiditySplitting"] = Field(description="Library policy `liquidity_splitting`.")
    max_splits: Annotated[int, Field(ge=1, le=10_000)] = Field(
        description="Most pieces a payment is split into."
    )
    min_split_amount: NonNegCents = Field(description="Smallest piece, in cents.")


class FromJsonPolicy(StrictModel):
    """SimCash ``{type: FromJson, json_path}``: a policy file."""

    noun = "a `FromJson` policy reference"
    type: Literal["FromJson"] = Field(description="A policy document in a JSON file.")
    json_path: str = Field(
        min_length=1, description="Path, relative to the scenario file, then the working dir."
    )
    params: PolicyParameters = Field(
        default_factory=dict,
        description="The policy's parameter values (SimCash form; like `policy_parameters`).",
    )


class InlinePolicy(StrictModel):
    """SimCash ``{type: Inline, decision_trees}``: the document inline."""

    noun = "an `Inline` policy reference"
    type: Literal["Inline"] = Field(description="The policy document given inline.")
    decision_trees: PolicyDocument = Field(description="The policy document.")


class InlineJsonPolicy(StrictModel):
    """SimCash ``{type: InlineJson, json_string}``: the document as a JSON string."""

    noun = "an `InlineJson` policy reference"
    type: Literal["InlineJson"] = Field(description="The policy document as a JSON string.")
    json_string: str = Field(description="The policy document, JSON text.")

    @model_validator(mode="after")
    def _parses(self) -> InlineJsonPolicy:
        self.document()
        return self

    def document(self) -> dict[str, JsonValue]:
        """The parsed document."""
        try:
            parsed: object = json.loads(self.json_string)
        except json.JSONDecodeError as exc:
            raise config_error(
                "invalid_json",
                f"expected a policy document as JSON text, found invalid JSON: {exc.msg} "
                f"(line {exc.lineno}, column {exc.colno} of the string)",
                at=["json_string"],
            ) from None
        if not isinstance(parsed, dict):
            raise config_error(
                "invalid_json",
                f"expected a JSON object (a policy document), found {describe(parsed)}",
                at=["json_string"],
            )
        return _check_document(parsed)


SimCashPolicy: TypeAlias = (
    FifoPolicy
    | DeadlinePolicy
    | LiquidityAwarePolicy
    | LiquiditySplittingPolicy
    | FromJsonPolicy
    | InlinePolicy
    | InlineJsonPolicy
)
_FORMS: Mapping[str, type[BaseModel]] = {
    "Fifo": FifoPolicy,
    "Deadline": DeadlinePolicy,
    "LiquidityAware": LiquidityAwarePolicy,
    "LiquiditySplitting": LiquiditySplittingPolicy,
    "FromJson": FromJsonPolicy,
    "Inline": InlinePolicy,
    "InlineJson": InlineJsonPolicy,
}
register_tags("PolicyName", "PolicyDocument", *_FORMS)


def _policy_tag(value: object) -> str:
    if isinstance(value, str):
        return "PolicyName"
    if isinstance(value, BaseModel):
        return next(tag for tag, form in _FORMS.items() if isinstance(value, form))
    if isinstance(value, Mapping) and "type" in value:
        return str(value["type"])
    return "PolicyDocument"


def _check_policy(value: object) -> object:
    forms = ", ".join(f"`{t}`" for t in _FORMS)
    if isinstance(value, str | BaseModel):
        return value
    if not isinstance(value, Mapping):
        raise config_error(
            "policy_type",
            "expected a policy reference: a name or path string, an inline policy document, "
            f"or a SimCash form `{{type: ...}}`; found {describe(value)}",
        )
    if "type" in value:
        tag = value["type"]
        if not isinstance(tag, str) or tag not in _FORMS:
            raise config_error(
                "unknown_type",
                f"unknown policy form: expected `type` one of {forms}; found {describe(tag)}",
                at=["type"],
                suggestion=did_you_mean(tag, _FORMS) if isinstance(tag, str) else None,
            )
    return value


PolicyName = Annotated[str, Field(min_length=1, max_length=1024)]

PolicySpec = Annotated[
    Annotated[PolicyName, _Tag("PolicyName")]
    | Annotated[PolicyDocument, _Tag("PolicyDocument")]
    | Annotated[FifoPolicy, _Tag("Fifo")]
    | Annotated[DeadlinePolicy, _Tag("Deadline")]
    | Annotated[LiquidityAwarePolicy, _Tag("LiquidityAware")]
    | Annotated[LiquiditySplittingPolicy, _Tag("LiquiditySplitting")]
    | Annotated[FromJsonPolicy, _Tag("FromJson")]
    | Annotated[InlinePolicy, _Tag("Inline")]
    | Annotated[InlineJsonPolicy, _Tag("InlineJson")],
    Discriminator(_policy_tag),
    BeforeValidator(_check_policy),
]
"""A policy reference in any form SCENARIO.md accepts."""


def form_parameters(spec: object) -> dict[str, float]:
    """The parameter values a SimCash form carries (``{}`` for every other form)."""
    if isinstance(spec, DeadlinePolicy):
        return {"urgency_threshold": float(spec.urgency_threshold)}
    if isinstance(spec, LiquidityAwarePolicy):
        return {
            "target_buffer": float(spec.target_buffer),
            "urgency_threshold": float(spec.urgency_threshold),
        }
    if isinstance(spec, LiquiditySplittingPolicy):
        return {
            "max_splits": float(spec.max_splits),
            "min_split_amount": float(spec.min_split_amount),
        }
    if isinstance(spec, FromJsonPolicy):
        return {name: float(value) for name, value in spec.params.items()}
    return {}


def simcash_form_to_ref(obj: object) -> tuple[str, dict[str, float]]:
    """Maps a SimCash reference form to a reference string and its parameter values.

    ``{type: Deadline, urgency_threshold: 3}`` → ``("deadline", {"urgency_threshold": 3.0})``;
    ``Fifo``, ``LiquidityAware`` and ``LiquiditySplitting`` likewise; ``FromJson`` → its path
    (made explicit as a path when it would otherwise read as a library name). Accepts the
    validated model or the raw mapping. ``Inline``/``InlineJson`` carry a document, not a
    reference string, and raise :class:`ValueError`, as does anything that is not a form.
    """
    form: object = obj
    if isinstance(obj, Mapping):
        model = _FORMS.get(str(obj.get("type")))
        if model is None:
            raise ValueError(f"not a SimCash policy form: {describe(obj)}")
        form = model.model_validate(obj)
    if isinstance(form, FifoPolicy | DeadlinePolicy | LiquidityAwarePolicy):
        return SIMCASH_LIBRARY_NAMES[form.type], form_parameters(form)
    if isinstance(form, LiquiditySplittingPolicy):
        return SIMCASH_LIBRARY_NAMES[form.type], form_parameters(form)
    if isinstance(form, FromJsonPolicy):
        path = form.json_path
        if "/" not in path and not path.endswith(".json"):
            path = "./" + path
        return path, form_parameters(form)
    raise ValueError(f"not a SimCash reference form with a name or path: {describe(obj)}")


def reduce_policy(spec: object) -> tuple[PolicyRef, dict[str, float]]:
    """Any accepted form → what the resolver receives, plus the form's parameter values."""
    if isinstance(spec, str):
        return spec, {}
    if isinstance(spec, InlinePolicy):
        return dict(spec.decision_trees), {}
    if isinstance(spec, InlineJsonPolicy):
        return spec.document(), {}
    if isinstance(spec, BaseModel):
        return simcash_form_to_ref(spec)
    if isinstance(spec, dict):
        return dict(spec), {}
    raise TypeError(f"not a policy reference: {describe(spec)}")


def policy_label(spec: object) -> str:
    """A short human name of a reference, for messages."""
    if isinstance(spec, str):
        return spec
    if isinstance(spec, BaseModel):
        return f"{{type: {getattr(spec, 'type', '?')}}}"
    return "an inline policy document"


def check_form_conflict(spec: object, parameters: Mapping[str, float]) -> None:
    """A name given both by a SimCash form and by ``policy_parameters`` is an error."""
    for name in sorted(form_parameters(spec)):
        if name in parameters:
            raise config_error(
                "parameter_conflict",
                f"`{name}` is given both by the policy form {policy_label(spec)} and in "
                "`policy_parameters`; give it in one place only",
                at=["policy_parameters", name],
            )
