"""Scenario configuration: load and validate scenario files, produce the engine config.

The one direction data flows (ARCHITECTURE.md): a scenario file is read and validated here
(:func:`load_scenario`, strict pydantic models in :mod:`paysim.config.models`), then turned
into the one normalized JSON object the engine accepts (:func:`to_engine_config`, see
``docs/engine-config.md``). Every user error is a :class:`~paysim.exceptions.ScenarioError`
naming the file and the JSON Pointer of the offending value.
"""

from __future__ import annotations

from paysim.config.loader import (
    ScenarioWarning,
    load_scenario,
    parse_scenario_text,
    scenario_from_dict,
    to_pointer,
)
from paysim.config.models import Agent, ArrivalBand, ArrivalStream, Scenario, ScenarioEvent
from paysim.config.models_policy import (
    PolicyRef,
    PolicySpec,
    reduce_policy,
    simcash_form_to_ref,
)
from paysim.config.models_schema import canonical_schema_text, scenario_json_schema
from paysim.config.normalize import (
    NormalizeResult,
    PolicyResolver,
    ResolvedPolicy,
    canonical_json,
    config_hash,
    normalize,
    to_engine_config,
)
from paysim.config.suggest import did_you_mean

__all__ = [
    "Agent",
    "ArrivalBand",
    "ArrivalStream",
    "NormalizeResult",
    "PolicyRef",
    "PolicyResolver",
    "PolicySpec",
    "ResolvedPolicy",
    "Scenario",
    "ScenarioEvent",
    "ScenarioWarning",
    "canonical_json",
    "canonical_schema_text",
    "config_hash",
    "did_you_mean",
    "load_scenario",
    "normalize",
    "parse_scenario_text",
    "reduce_policy",
    "scenario_from_dict",
    "scenario_json_schema",
    "simcash_form_to_ref",
    "to_engine_config",
    "to_pointer",
]
