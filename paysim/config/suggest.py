"""Did-you-mean suggestions for unknown keys, agent ids and type names.

One helper serves every place that reports a name it does not know (an unknown key, an agent id
that no agent has, a misspelt ``type``), so suggestions look the same everywhere. Case-only
differences win outright; otherwise the closest name by :mod:`difflib` similarity is offered when
it is close enough to be a plausible typo.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

# Below this similarity ratio a "suggestion" is more likely to confuse than to help.
_CUTOFF = 0.6


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate ``name`` was most likely meant to be, or ``None`` when none is close."""
    pool = sorted(set(candidates))
    if not pool or name in pool:
        return None
    folded = _fold(name)
    for candidate in pool:
        if _fold(candidate) == folded:
            return candidate
    matches = difflib.get_close_matches(name, pool, n=1, cutoff=_CUTOFF)
    if matches:
        return matches[0]
    # Compare case-insensitively too: `lognormal` is close to `LogNormal`.
    by_fold = {_fold(c): c for c in pool}
    matches = difflib.get_close_matches(folded, list(by_fold), n=1, cutoff=_CUTOFF)
    return by_fold[matches[0]] if matches else None


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """``"did you mean `x`?"`` for the closest candidate, or ``None``."""
    match = closest(name, candidates)
    return None if match is None else f"did you mean `{match}`?"


def _fold(name: str) -> str:
    return name.replace("_", "").replace("-", "").lower()
