"""``paysim.validate_policy``: the engine's validator, with file handling and scenario context.

The rules, codes, pointers and suggestions are the engine's (POLICY_DSL.md §8); this module
only reads the document (through :mod:`paysim.policy.loader`, the reader every run uses, so
``validate-policy`` and a run cannot disagree), describes the scenario to the engine when one is
given, and wraps the report.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from paysim.config import Scenario, load_scenario
from paysim.exceptions import PolicyError
from paysim.policy.loader import INLINE, check_policy_bytes, document_bytes, read_policy_bytes


@dataclass(frozen=True)
class ValidationReport:
    """The outcome of validating one policy document."""

    file: str
    valid: bool
    policy_id: str | None
    errors: list[dict[str, object]] = field(default_factory=list)
    warnings: list[dict[str, object]] = field(default_factory=list)
    text: str = ""

    def to_dict(self) -> dict[str, object]:
        """The JSON shape of ``paysim validate-policy --format json``."""
        return {
            "file": self.file,
            "valid": self.valid,
            "policy_id": self.policy_id,
            "errors": self.errors,
            "warnings": self.warnings,
        }


def scenario_info(scenario: Scenario) -> dict[str, object]:
    """What the engine's scenario-aware checks need to know about a scenario."""
    streams: list[object] = []
    for agent in scenario.agents:
        if agent.arrival_config is not None:
            streams.append(agent.arrival_config)
        if agent.arrival_bands is not None:
            streams.extend(
                s
                for s in (
                    agent.arrival_bands.urgent,
                    agent.arrival_bands.normal,
                    agent.arrival_bands.low,
                )
                if s is not None
            )
    divisible = any(getattr(s, "divisible", False) for s in streams) or any(
        getattr(e, "is_divisible", False) for e in scenario.scenario_events
    )
    has_limits = any(
        a.limits is not None
        and (bool(a.limits.bilateral_limits) or a.limits.multilateral_limit is not None)
        for a in scenario.agents
    )
    costs = json.loads(json.dumps(scenario.to_dict().get("cost_rates", {})))
    penalties = [costs.get(k) for k in ("deadline_penalty", "eod_penalty", "drop_penalty")]
    rate = all(isinstance(p, dict) and p.get("mode") == "rate" for p in penalties if p is not None)
    lsm = scenario.lsm_config
    return {
        "agent_ids": [a.id for a in scenario.agents],
        "any_divisible": divisible,
        "lsm_enabled": bool(lsm.effective_algorithms()),
        "has_limits": has_limits,
        "has_pools": any(a.liquidity_pool > 0 for a in scenario.agents),
        "rate_penalties": rate and any(p is not None for p in penalties),
        "parameter_overrides": {},
    }


def _read(policy: str | Path | Mapping[str, object]) -> tuple[bytes, str]:
    if isinstance(policy, Mapping):
        return document_bytes(policy, INLINE), INLINE
    return read_policy_bytes(Path(policy), str(policy)), str(policy)


def validate_policy(
    policy: str | Path | Mapping[str, object],
    scenario: Scenario | str | Path | None = None,
) -> ValidationReport:
    """Validates a policy document (a path or a document) with the engine's validator.

    With ``scenario``, the scenario-aware checks run too (unknown counterparties, splitting
    where no payment is divisible, fields the scenario pins). An unreadable file (missing, a
    directory) raises :class:`~paysim.exceptions.ScenarioError`; an invalid document is a report
    with ``valid=False``, not an exception. A mapping that is not made of JSON values (a set, an
    object) raises :class:`~paysim.exceptions.PolicyError`; one nested 5,000 deep is a report
    (``NESTING_TOO_DEEP``), exactly as the same document in a file would be.
    """
    try:
        data, name = _read(policy)
    except PolicyError as exc:
        if not exc.problems or exc.file is None:
            raise
        return _refused(exc.file, exc.problems)
    info = None
    if scenario is not None:
        sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        info = json.dumps(scenario_info(sc))
    report, text = check_policy_bytes(data, name, info)
    policy_id = report.get("policy_id")
    errors, warnings = report.get("errors"), report.get("warnings")
    return ValidationReport(
        file=name,
        valid=bool(report["valid"]),
        policy_id=policy_id if isinstance(policy_id, str) else None,
        errors=list(errors) if isinstance(errors, list) else [],
        warnings=list(warnings) if isinstance(warnings, list) else [],
        text=text,
    )


def _refused(name: str, errors: list[dict[str, object]]) -> ValidationReport:
    """The report on a file refused before the engine saw it (larger than anything the engine
    would read), worded as the engine words its reports."""
    lines = [f"{name}: invalid ({len(errors)} error{'' if len(errors) == 1 else 's'}, 0 warnings)"]
    for e in errors:
        lines.append(
            f"  error   {e.get('code')} at {e.get('pointer') or '(document)'}: {e.get('message')}"
        )
    return ValidationReport(
        file=name, valid=False, policy_id=None, errors=errors, text="\n".join(lines) + "\n"
    )
