"""Policies on the Python side: where documents come from (sources), how references in a
scenario resolve to them, and validation through the engine. The language itself (validation
rules, compilation, evaluation) lives in the engine."""

from paysim.policy.sources import library_dir, resolve_policy
from paysim.policy.validation import ValidationReport, validate_policy

__all__ = ["ValidationReport", "library_dir", "resolve_policy", "validate_policy"]
