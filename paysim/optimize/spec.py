"""The ``paysim optimize`` specification (INTERFACES.md §5) as pydantic models.

The models check shapes and bounds only: everything that needs the scenario (agents, the
parameters each policy declares and their ranges, objectives, constraints) is checked by
:func:`paysim.optimize.plan.make_plan`, which turns a valid spec into what the search runs.
Files are read with the scenario loader's own YAML reader, so duplicate keys, YAML 1.2 numbers
and line numbers behave exactly as for scenarios, and errors are
:class:`~paysim.exceptions.ScenarioError` naming the file and the JSON Pointer (exit 2).

Short forms, all expanded before validation:

* ``search: {NAME: 0.3}`` fixes a parameter (``{value: 0.3}``);
* ``search: {NAME: [a, b, c]}`` is a categorical choice (``{choices: [a, b, c]}``);
* ``objective: total_cost`` is ``{metric: total_cost}``; a list of objectives is a Pareto search;
* ``evaluation: {seeds: 16}`` derives 16 seeds from ``evaluation.seed`` (default: the
  scenario's ``rng_seed``); a list gives the seeds themselves.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, ClassVar, Literal

from pydantic import BeforeValidator, Field, JsonValue, ValidationError

from paysim.config.models_base import (
    AGENT_ID_PATTERN,
    PARAMETER_NAME_PATTERN,
    SEED_MAX,
    FiniteFloat,
    StrictModel,
    config_error,
    describe,
)
from paysim.exceptions import ScenarioError

SAMPLERS = ("tpe", "cmaes", "nsga2", "gp", "grid", "random", "qmc")
PRUNERS = ("wilcoxon", "median", "none")
MODES = ("joint", "best_response", "both")
AGGREGATES = ("mean", "median", "cvar")
MAX_SEEDS = 100_000
MAX_TRIALS = 10_000_000
MAX_WORKERS = 64

Sampler = Literal["tpe", "cmaes", "nsga2", "gp", "grid", "random", "qmc"]
Pruner = Literal["wilcoxon", "median", "none"]
Mode = Literal["joint", "best_response", "both"]
Seed = Annotated[int, Field(ge=0, le=SEED_MAX)]


class SpecError(ScenarioError):
    """A ``paysim optimize`` specification is invalid (file, JSON Pointer, message)."""


def _range_short_form(value: object) -> object:
    if isinstance(value, bool):
        return value  # let the model reject it with the usual message
    if isinstance(value, int | float):
        return {"value": value}
    if isinstance(value, list):
        return {"choices": value}
    return value


class ParameterSearch(StrictModel):
    """How one policy parameter is searched: a range, a choice, or a fixed value.

    Unset keys come from the parameter's declaration in the policy document. A range outside
    the declared ``min``/``max`` is an error unless ``widen: true`` says it is meant.
    """

    noun: ClassVar[str] = "a parameter search"

    min: FiniteFloat | None = Field(default=None, description="Lower bound of the search.")
    max: FiniteFloat | None = Field(default=None, description="Upper bound of the search.")
    step: Annotated[float, Field(gt=0.0, allow_inf_nan=False)] | None = Field(
        default=None, description="Grid spacing: the search proposes min + k·step."
    )
    log: bool | None = Field(default=None, description="Search on a log scale (min > 0).")
    kind: Literal["float", "int"] | None = Field(
        default=None, description="`int` proposes integers."
    )
    choices: Annotated[list[FiniteFloat], Field(min_length=1, max_length=10_000)] | None = Field(
        default=None, description="A categorical choice among these values."
    )
    value: FiniteFloat | None = Field(
        default=None, description="Fix the parameter at this value (not searched)."
    )
    widen: bool = Field(
        default=False, description="Allow a range beyond the bounds the policy declares."
    )


SearchEntry = Annotated[ParameterSearch, BeforeValidator(_range_short_form)]


def _policy_form(value: object) -> object:
    if value is None or isinstance(value, str | dict):
        return value
    if isinstance(value, list):
        return value
    raise config_error(
        "policy_type",
        "expected a policy reference (library name or file), an inline policy document, or a "
        f"list of references to choose from; found {describe(value)}",
    )


class AgentSearch(StrictModel):
    """One searched agent: its policy (or a choice of policies) and parameter overrides."""

    noun: ClassVar[str] = "a searched agent"

    policy: Annotated[JsonValue, BeforeValidator(_policy_form)] = Field(
        default=None,
        description="A policy reference, an inline document, or a list of references: the "
        "choice of policy becomes a categorical dimension. Default: the scenario's policy.",
    )
    search: dict[Annotated[str, Field(pattern=PARAMETER_NAME_PATTERN)], SearchEntry] = Field(
        default_factory=dict,
        description="Parameter name → search override. Default: every parameter with a "
        "declared range is searched over it.",
    )


def _seeds_form(value: object) -> object:
    """``seeds`` is a count or a list of seeds; checked here so an error names the value
    itself rather than pydantic's union members."""
    if isinstance(value, bool) or not isinstance(value, int | list):
        raise config_error(
            "seeds_type",
            f"expected a number of seeds (1..{MAX_SEEDS}) or a list of seeds; found "
            f"{describe(value)}",
        )
    if isinstance(value, int):
        if not 1 <= value <= MAX_SEEDS:
            raise config_error(
                "seeds_range", f"expected 1..{MAX_SEEDS} seeds; found {describe(value)}"
            )
        return value
    if not 1 <= len(value) <= MAX_SEEDS:
        raise config_error(
            "seeds_length", f"expected 1..{MAX_SEEDS} seeds; found {describe(value)}"
        )
    seen: set[int] = set()
    for i, seed in enumerate(value):
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= SEED_MAX:
            raise config_error(
                "seed_type", f"expected a seed in [0, 2^64); found {describe(seed)}", at=[i]
            )
        if seed in seen:
            raise config_error("seed_duplicate", f"seed {seed} is listed twice", at=[i])
        seen.add(seed)
    return value


class Evaluation(StrictModel):
    """Common random numbers: every candidate is run on the same seeds."""

    noun: ClassVar[str] = "the evaluation settings"

    seeds: Annotated[int | list[int], BeforeValidator(_seeds_form)] = Field(
        default=8,
        description="How many seeds (derived from `seed`), or the list of seeds itself.",
    )
    seed: Seed | None = Field(
        default=None,
        description="Base of the derived seeds (default: the scenario's rng_seed).",
    )
    batch: Annotated[int, Field(ge=1, le=MAX_SEEDS)] | None = Field(
        default=None,
        description="Seeds per engine call; the pruner sees the values after each batch. "
        "Default: all seeds at once without a pruner, else the engine threads.",
    )
    threads: Annotated[int, Field(ge=1, le=1024)] | None = Field(
        default=None,
        description="Engine threads per worker (default: the cores divided among workers).",
    )


class Certificate(StrictModel):
    """The closing check of a best-response equilibrium."""

    noun: ClassVar[str] = "the certificate settings"

    samples: Annotated[int, Field(ge=1, le=100_000)] = Field(
        default=64,
        description="Deviations sampled per agent when its space is not a small grid.",
    )
    max_grid: Annotated[int, Field(ge=1, le=1_000_000)] = Field(
        default=1_000,
        description="An agent's space with at most this many grid points is checked whole.",
    )


class BestResponse(StrictModel):
    """Settings of ``mode: best_response`` (and the equilibrium half of ``both``)."""

    noun: ClassVar[str] = "the best-response settings"

    tolerance: Annotated[float, Field(ge=0.0, allow_inf_nan=False)] = Field(
        default=1e-9,
        description="Stop when no parameter moved more than this in a whole round.",
    )
    max_rounds: Annotated[int, Field(ge=1, le=10_000)] = Field(
        default=20, description="Give up (not converged) after this many rounds."
    )
    trials: Annotated[int, Field(ge=1, le=MAX_TRIALS)] | None = Field(
        default=None,
        description="Trials per best-response step (default: the agent's whole grid when it "
        "is finite and at most certificate.max_grid points, else 64).",
    )
    certificate: Certificate = Field(default_factory=Certificate)


class OptimizeSpec(StrictModel):
    """A ``paysim optimize`` specification (INTERFACES.md §5)."""

    noun: ClassVar[str] = "the optimisation spec"

    scenario: str = Field(description="The scenario file (relative to this spec's directory).")
    mode: Mode = Field(
        default="joint",
        description="joint: minimise the objective over all searched agents together; "
        "best_response: agents in turn minimise their own cost; both: equilibrium, planner's "
        "optimum and price of anarchy.",
    )
    agents: Annotated[
        dict[Annotated[str, Field(pattern=AGENT_ID_PATTERN)], AgentSearch], Field(min_length=1)
    ] = Field(description="The searched agents (others keep their scenario policies).")
    objective: JsonValue = Field(
        default=None,
        description="An objective name, a mapping {metric, aggregate, alpha, params...}, or a "
        "list of them (a Pareto front). Default: total_cost (agent_cost per agent in "
        "best_response).",
    )
    constraints: Annotated[list[str], Field(max_length=100)] = Field(
        default_factory=list,
        description="Expressions over summary metrics, e.g. `settlement_rate >= 0.999`.",
    )
    evaluation: Evaluation = Field(default_factory=Evaluation)
    sampler: Sampler = Field(default="tpe", description="The Optuna sampler.")
    sampler_options: dict[str, JsonValue] = Field(
        default_factory=dict, description="Keyword arguments of the sampler's constructor."
    )
    pruner: Pruner | None = Field(
        default=None,
        description="The Optuna pruner (default: wilcoxon for one objective, none for a "
        "Pareto search, which cannot prune).",
    )
    pruner_options: dict[str, JsonValue] = Field(
        default_factory=dict, description="Keyword arguments of the pruner's constructor."
    )
    trials: Annotated[int, Field(ge=1, le=MAX_TRIALS)] | None = Field(
        default=None,
        description="Trials of the study (default 100; the grid size with sampler grid).",
    )
    workers: Annotated[int, Field(ge=1, le=MAX_WORKERS)] = Field(
        default=1, description="Worker processes on this machine."
    )
    seed: Seed | None = Field(
        default=None,
        description="Seed of the sampler: with one worker the study is then reproducible.",
    )
    storage: str | None = Field(
        default=None,
        description="Optuna storage: a journal file path, or postgresql://… / sqlite:///…; "
        "default: study.journal under output.",
    )
    study_name: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        default=None, description="The study's name in its storage (default: the spec's stem)."
    )
    output: str = Field(description="Directory of the outputs (created when missing).")
    db: str | None = Field(
        default=None,
        description="DuckDB store of trial rows (default: paysim.duckdb under output).",
    )
    best_response: BestResponse = Field(default_factory=BestResponse)
    timeout: Annotated[float, Field(gt=0.0, allow_inf_nan=False)] | None = Field(
        default=None, description="Stop starting new trials after this many seconds."
    )
    heartbeat_interval: Annotated[int, Field(ge=1, le=86_400)] = Field(
        default=30,
        description="Database storages: seconds between the heartbeats of a running trial "
        "(docs/distributed.md).",
    )
    grace_period: Annotated[int, Field(ge=1, le=86_400)] | None = Field(
        default=None,
        description="Database storages: a running trial without a heartbeat for this many "
        "seconds belongs to a dead worker; it is failed and run again. Default: four "
        "heartbeat intervals; more than one interval.",
    )
    max_retry: Annotated[int, Field(ge=0, le=1_000)] = Field(
        default=3, description="Database storages: how often a dead worker's trial is rerun."
    )


Lines = Callable[[tuple[str | int, ...]], "tuple[int, int] | None"]
"""Where a location of the spec file is written (line, column), as the scenario loader gives."""


def load_spec_data(path: str | Path) -> tuple[object, Lines]:
    """Reads a spec file (YAML, or JSON for ``.json``) with the scenario loader's bounded
    reader (size, UTF-8, YAML 1.2, duplicate keys); returns the data and its line finder."""
    from paysim.config import loader
    from paysim.config.reading import decode, read_limited
    from paysim.config.yaml12 import TextError

    file = str(path)
    location = Path(path)
    try:
        text = decode(read_limited(location))
    except OSError as exc:
        raise SpecError(
            f"cannot read the spec file: {exc.strerror or type(exc).__name__}", file=file
        ) from None
    except TextError as exc:
        raise SpecError(exc.message, file=file) from None
    fmt = "json" if location.suffix.lower() == ".json" else "yaml"
    try:
        return loader.parse_text_with_lines(text, source=file, fmt=fmt)
    except ScenarioError as exc:
        raise SpecError(exc.message, file=file, pointer=exc.pointer) from None


def validate_spec(data: object, *, file: str | None, lines: Lines) -> OptimizeSpec:
    """Validates parsed spec data; every problem becomes a :class:`SpecError`."""
    from paysim.config import loader

    if not isinstance(data, Mapping):
        found = "an empty document" if data is None else describe(data)
        raise SpecError(
            f"expected an optimisation spec: a mapping with `scenario`, `agents` and `output`; "
            f"found {found}",
            file=file,
            pointer="",
        )
    try:
        return OptimizeSpec.model_validate(data)
    except ValidationError as exc:
        err = loader._scenario_error(exc, data, file, lines)
        raise SpecError(
            err.message, file=file, pointer=err.pointer, suggestion=err.suggestion
        ) from None


def line_suffix(lines: Lines, loc: tuple[str | int, ...]) -> str:
    """`` (line L, column C)`` for a location of the spec file, or ``""``."""
    found = lines(loc)
    return f" (line {found[0]}, column {found[1]})" if found is not None else ""


def spec_schema() -> dict[str, object]:
    """The JSON Schema of the spec (``schemas/optimize.schema.json``)."""
    schema = OptimizeSpec.model_json_schema()
    out: dict[str, object] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://paysim.dev/schemas/optimize.schema.json",
        "title": "paysim optimize specification",
    }
    out.update(schema)
    return out


def spec_schema_text() -> str:
    """The schema rendered canonically (sorted keys, two-space indent, final newline)."""
    return json.dumps(spec_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
