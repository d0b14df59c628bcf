"""Policies on the Python side: where documents come from (sources) and how references in a
scenario resolve to them. The language itself (validation, compilation, evaluation) lives in
the engine."""

from paysim.policy.sources import library_dir, resolve_policy

__all__ = ["library_dir", "resolve_policy"]
