"""Shared building blocks of the scenario models: the strict base class, value types, errors.

Every scenario model derives from :class:`StrictModel`. It is strict (no silent coercion: a
string is never a number, a float is never an int) and rejects unknown keys itself, before
pydantic does, so the error can name the key and suggest the nearest allowed one. The value
types (:data:`Cents`, :data:`Bps`, ...) carry the bounds of ENGINE.md once, so every field that
holds the same kind of value is checked the same way and documented the same way in the schema.

Validators report problems with :func:`config_error`: a pydantic custom error whose context
holds ``at`` (the path below the validator's own location, for pointers that name the exact
offending value) and ``suggestion``. :mod:`paysim.config.loader` turns those into
:class:`~paysim.exceptions.ScenarioError`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Annotated, ClassVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from paysim.config.simcash import renamed_message
from paysim.config.suggest import did_you_mean

# ---------------------------------------------------------------------------------------------
# Bounds (ENGINE.md): money is i64 cents, payments are 1..10^15, ticks fit a u32 below 2^31.
# ---------------------------------------------------------------------------------------------
I64_MAX = 2**63 - 1
MONEY_SUM_MAX = 2**62
MAX_PAYMENT = 10**15
MAX_TICKS = 2**31 - 1
# Clock bounds (README "Scenario files", docs/engine-config.md; the engine checks the same):
# a day of at most 100,000 ticks (finer than one a second over 24 hours), at most 10,000 days,
# and at most 10,000,000 ticks in all, so every run ends in bounded time.
MAX_TICKS_PER_DAY = 100_000
MAX_DAYS = 10_000
MAX_EPISODE_TICKS = 10_000_000
# At most 10,000 banks (TARGET2 has about a thousand direct participants): every bank costs
# memory in the config and the engine, so this bound keeps a hostile scenario under 1 GB.
MAX_AGENTS = 10_000
U32_MAX = 2**32 - 1
SEED_MAX = 2**64 - 1
MAX_LAMBDA = 1e6
MAX_BPS = 1e4
MAX_MULTIPLIER = 1000.0
MAX_DELAY_RATE = 1.0
MAX_PRIORITY = 10

AGENT_ID_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
PARAMETER_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"

# SimCash keys that have no effect here; they are rejected wherever they appear.
REJECTED_KEYS: Mapping[str, str] = {
    "policy_feature_toggles": "paysim has no policy feature toggles: every policy feature is "
    "always available",
    "cost_feature_toggles": "paysim has no cost feature toggles: set a rate to 0 to turn a "
    "cost off",
    "auto_balance_others": "paysim does not auto-balance agents: give every agent an explicit "
    "opening_balance",
}

# Tags of the tagged unions; pydantic puts them into error locations, the loader drops them.
UNION_TAGS: set[str] = set()


def register_tags(*tags: str) -> None:
    """Records union tags so error locations can be turned into file pointers."""
    UNION_TAGS.update(tags)


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------
def config_error(
    code: str,
    message: str,
    *,
    at: Sequence[str | int] = (),
    suggestion: str | None = None,
    others: Sequence[tuple[Sequence[str | int], str, str | None]] = (),
) -> PydanticCustomError:
    """A validation error whose ``at`` extends the location to the exact offending value.

    ``others`` lists further problems found by the same check as ``(at, message, suggestion)``
    triples, so one error can report everything a whole-scenario check found.
    """
    context: dict[str, object] = {"at": list(at), "suggestion": suggestion}
    if others:
        context["others"] = [(list(path), text, hint) for path, text, hint in others]
    return PydanticCustomError(code, message, context)


def describe(value: object) -> str:
    """A short, typed rendering of a found value for messages: ``the float 100.0``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {'true' if value else 'false'}"
    if isinstance(value, int):
        return f"the integer {value}"
    if isinstance(value, float):
        return f"the float {value!r}"
    if isinstance(value, str):
        text = value if len(value) <= 60 else value[:57] + "..."
        return f"the string {text!r}"
    if isinstance(value, Mapping):
        keys = ", ".join(str(k) for k in list(value)[:6])
        return f"a mapping with keys {{{keys}}}" if keys else "an empty mapping"
    if isinstance(value, list | tuple):
        return f"a list of {len(value)} item{'s' if len(value) != 1 else ''}"
    return f"a value of type {type(value).__name__}"


# ---------------------------------------------------------------------------------------------
# Value types
# ---------------------------------------------------------------------------------------------
def _integer_cents(value: object) -> object:
    if isinstance(value, bool) or isinstance(value, float):
        hint = ""
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            hint = f" (write {int(value)})"
        raise config_error(
            "money_not_integer",
            f"expected integer cents, found {describe(value)}: money is always an integer "
            f"number of cents, never a float{hint}",
        )
    return value


def _integer(value: object) -> object:
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        raise config_error(
            "int_type",
            f"expected an integer, found {describe(value)} (write {int(value)})",
        )
    return value


Cents = Annotated[int, BeforeValidator(_integer_cents), Field(ge=-I64_MAX, le=I64_MAX)]
"""Integer cents, any sign (opening balances, deltas)."""
NonNegCents = Annotated[int, BeforeValidator(_integer_cents), Field(ge=0, le=I64_MAX)]
"""Integer cents, ``≥ 0`` (caps, pools, limits, fixed penalties)."""
PositiveCents = Annotated[int, BeforeValidator(_integer_cents), Field(ge=1, le=I64_MAX)]
"""Integer cents, ``≥ 1`` (transfers)."""
PaymentAmount = Annotated[int, BeforeValidator(_integer_cents), Field(ge=1, le=MAX_PAYMENT)]
"""A payment amount: integer cents in ``1..10^15``."""
Tick = Annotated[int, BeforeValidator(_integer), Field(ge=0, le=MAX_TICKS)]
"""A tick (or a tick count), ``0..2^31 − 1``."""
Priority = Annotated[int, BeforeValidator(_integer), Field(ge=0, le=MAX_PRIORITY)]
"""An internal priority, ``0..10``."""
Count = Annotated[int, BeforeValidator(_integer), Field(ge=1, le=U32_MAX)]
"""A positive count that fits a u32."""

Rate = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
"""A finite rate ``≥ 0``."""
Bps = Annotated[float, Field(ge=0.0, le=MAX_BPS, allow_inf_nan=False)]
"""Basis points, finite, ``0..10^4``."""
CostMultiplier = Annotated[float, Field(ge=0.0, le=MAX_MULTIPLIER, allow_inf_nan=False)]
"""A cost multiplier, finite, ``0..1000``."""
Fraction = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
"""A fraction in ``[0, 1]``."""
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
"""Any finite number."""
PositiveFloat = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
"""A finite number ``> 0``."""
Weight = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
"""A finite weight ``≥ 0``."""
RateMultiplier = Annotated[float, Field(gt=0.0, le=MAX_LAMBDA, allow_inf_nan=False)]
"""An arrival-rate multiplier, ``0 < m ≤ 10^6`` (λ is capped at 10^6)."""

AgentId = Annotated[str, Field(pattern=AGENT_ID_PATTERN)]
"""An agent id: 1..64 of ``A-Z a-z 0-9 _ . -``."""
ParameterName = Annotated[str, Field(pattern=PARAMETER_NAME_PATTERN)]
"""A policy parameter name."""
PolicyParameters = dict[ParameterName, FiniteFloat]
"""Policy parameter overrides: name → finite number."""


def _fold(text: str) -> str:
    return re.sub(r"[\s_-]", "", text).lower()


class EnumSpelling:
    """Accepts any spelling of ``canonical`` values that differs only in case or ``_``/``-``.

    SimCash writes ``Fifo`` and ``PriorityDeadline`` where the canonical form is ``fifo`` and
    ``priority_deadline``; both are meant, so both load (SCENARIO.md) and the model stores the
    canonical one. The JSON Schema lists the canonical and the SimCash (CamelCase) spellings.
    """

    def __init__(self, canonical: Sequence[str]) -> None:
        self.canonical = tuple(canonical)
        self.table = {_fold(c): c for c in self.canonical}
        spellings: list[str] = []
        for value in self.canonical:
            camel = "".join(part[:1].upper() + part[1:] for part in value.split("_"))
            snake = re.sub(r"(?<!^)(?=[A-Z])", "_", value).lower()
            for spelling in (value, camel, snake):
                if spelling not in spellings:
                    spellings.append(spelling)
        self.spellings = spellings

    def canonicalize(self, value: object) -> object:
        if isinstance(value, str):
            return self.table.get(_fold(value), value)
        return value

    def __get_pydantic_core_schema__(
        self, source: object, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_before_validator_function(self.canonicalize, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        generated = dict(handler(schema))
        generated.pop("const", None)
        generated["enum"] = list(self.spellings)
        generated["type"] = "string"
        return generated


# ---------------------------------------------------------------------------------------------
# The base model
# ---------------------------------------------------------------------------------------------
class StrictModel(BaseModel):
    """Base of every scenario model: strict types, unknown keys rejected with a suggestion.

    Subclasses may accept extra input spellings through ``input_aliases`` (alias → canonical
    key; giving both is an error) and may rewrite their input in :meth:`prepare_input` (moving
    keys, expanding short forms) before the key check runs.
    """

    model_config = ConfigDict(extra="forbid", strict=True)

    input_aliases: ClassVar[Mapping[str, str]] = {}
    noun: ClassVar[str] = "this object"

    @model_validator(mode="before")
    @classmethod
    def _check_keys(cls, data: object) -> object:
        if not isinstance(data, Mapping):
            return data
        prepared = cls.prepare_input(dict(data))
        for alias, canonical in cls.input_aliases.items():
            if alias in prepared:
                if canonical in prepared:
                    raise config_error(
                        "duplicate_key",
                        f"`{alias}` and `{canonical}` are the same setting and both are given; "
                        f"keep only `{canonical}`",
                        at=[alias],
                    )
                prepared[canonical] = prepared.pop(alias)
        allowed = cls.allowed_keys()
        for key in prepared:
            if not isinstance(key, str):
                raise config_error(
                    "key_type", f"expected string keys, found the key {describe(key)}"
                )
            if key in allowed:
                continue
            simcash = renamed_message(cls.__name__, key)
            if simcash is not None:
                raise config_error("simcash_key", simcash[0], at=[key], suggestion=simcash[1])
            if key in REJECTED_KEYS:
                raise config_error(
                    "rejected_key",
                    f"`{key}` is a SimCash setting with no effect in paysim; remove it "
                    f"({REJECTED_KEYS[key]})",
                    at=[key],
                    suggestion=f"remove `{key}`",
                )
            if key not in allowed:
                keys = ", ".join(f"`{k}`" for k in sorted(allowed))
                raise config_error(
                    "unknown_key",
                    f"unknown key `{key}` in {cls.noun}; expected one of {keys}",
                    at=[key],
                    suggestion=did_you_mean(key, allowed),
                )
        return prepared

    @classmethod
    def prepare_input(cls, data: dict[str, object]) -> dict[str, object]:
        """Rewrites raw input before the key check (short forms, relocated keys)."""
        return data

    @classmethod
    def allowed_keys(cls) -> set[str]:
        """The keys this model accepts in input (fields and aliases)."""
        names = {field.alias or name for name, field in cls.model_fields.items()}
        return names | set(cls.input_aliases)


def tagged(field: str, tags: Sequence[str], noun: str) -> BeforeValidator:
    """Checks the tag of a tagged union before pydantic dispatches on it.

    pydantic's own message for an unknown tag lists the tags but cannot suggest one; this one
    names what was found, what is expected and the nearest tag (``Lognormal`` → ``LogNormal``).
    """
    register_tags(*tags)
    expected = ", ".join(f"`{t}`" for t in tags)

    def check(value: object) -> object:
        if not isinstance(value, Mapping):
            raise config_error(
                "tagged_type",
                f"expected {noun}: a mapping with `{field}` one of {expected}; "
                f"found {describe(value)}",
            )
        if field not in value:
            raise config_error(
                "missing",
                f"{noun} needs `{field}`, one of {expected}; it is missing",
                at=[field],
            )
        tag = value[field]
        if not isinstance(tag, str) or tag not in tags:
            raise config_error(
                "unknown_type",
                f"unknown {field} of {noun}: expected one of {expected}; found {describe(tag)}",
                at=[field],
                suggestion=did_you_mean(tag, tags) if isinstance(tag, str) else None,
            )
        return value

    return BeforeValidator(check)
