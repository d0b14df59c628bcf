"""SimCash's own scenario files: the forms paysim reads, and the keys it refuses with a fix.

SimCash's models ignored keys they did not define, so its files carry keys that changed
nothing there. paysim sorts them in two groups (docs/simcash.md lists every form):

- keys that carry a meaning paysim has — ``params`` of a ``{type: FromJson}`` reference (the
  policy's parameter values) and ``bilateral_limits``/``multilateral_limit`` written on the
  agent (its ``limits``) — are read, and :func:`simcash_notes` says in a warning what that
  changes against a SimCash run, which ignored them;
- keys that mean nothing here, or whose meaning is ambiguous (:data:`RENAMED`), stay errors
  whose message names the key to write instead.

The models look :data:`RENAMED` up by class name, so the table lives here, in one place,
rather than on models other modules own.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

Loc = tuple[str | int, ...]

_AS_SIMCASH = "or remove it to run as SimCash did, which ignored it"
_REMOVE = "remove it: SimCash ignored it too"
_LSM_OFF = (
    "the LSM is set in `lsm_config`: write `lsm_config: {enable_bilateral: false, "
    "enable_cycles: false}` to turn it off, " + _AS_SIMCASH + " (its LSM ran)"
)

RENAMED: Mapping[str, Mapping[str, tuple[str | None, str]]] = {
    "Agent": {
        "credit_limit": (
            "unsecured_cap",
            "write `unsecured_cap: <cents>` for intraday credit, "
            + _AS_SIMCASH
            + " (SimCash's schema has no `credit_limit`: its agents got no credit from it)",
        ),
        "overdraft_rate": (
            "cost_rates.overdraft_bps_per_tick",
            "overdraft costs are set for every agent in `cost_rates.overdraft_bps_per_tick` "
            "(basis points per tick): write it there, " + _AS_SIMCASH,
        ),
        "delay_cost_per_tick": (
            "cost_rates.delay_cost_per_tick_per_cent",
            "delay costs are set for every agent in `cost_rates.delay_cost_per_tick_per_cent`: "
            "write it there, " + _AS_SIMCASH,
        ),
    },
    "Scenario": {
        "cost_model": (
            "cost_rates",
            "the cost model is `cost_rates` (keys `overdraft_bps_per_tick`, "
            "`delay_cost_per_tick_per_cent`, `deadline_penalty`, `eod_penalty`, "
            "`split_friction_cost`, ...): move the values there, " + _AS_SIMCASH,
        ),
        "events": (
            "scenario_events",
            "scheduled events go in `scenario_events`: rename the key, " + _AS_SIMCASH,
        ),
        "lsm_enabled": ("lsm_config", _LSM_OFF),
        "lsm_frequency_ticks": (None, "the LSM runs in every tick here; " + _REMOVE),
    },
    "Simulation": {
        "lsm_enabled": ("lsm_config", _LSM_OFF),
        "lsm_frequency_ticks": (None, "the LSM runs in every tick here; " + _REMOVE),
    },
    "LsmConfig": {
        "bilateral_offsetting": ("enable_bilateral", "write `enable_bilateral`, " + _AS_SIMCASH),
        "cycle_detection": ("enable_cycles", "write `enable_cycles`, " + _AS_SIMCASH),
    },
    "PriorityEscalation": {
        "threshold_ticks": (
            "start_escalating_at_ticks",
            "write `start_escalating_at_ticks`, "
            + _AS_SIMCASH
            + " (escalation started at its default, 20 ticks)",
        ),
    },
    "TimeWindow": {
        "tick_range": (
            "start_tick",
            "write `start_tick` (first tick of day inside the window) and `end_tick` (first "
            "tick after it), " + _AS_SIMCASH,
        ),
    },
}
"""Per model (class name): SimCash key → (key to write instead, or ``None``; what to do)."""


def renamed_message(model: str, key: str) -> tuple[str, str] | None:
    """``(message, suggestion)`` for a SimCash key ``model`` refuses, or ``None``."""
    entry = RENAMED.get(model, {}).get(key)
    if entry is None:
        return None
    replacement, fix = entry
    message = (
        f"`{key}` is not a paysim key, and SimCash's own schema ignored it too, so it changed "
        f"nothing there: {fix}"
    )
    suggestion = f"write `{replacement}` instead" if replacement else f"remove `{key}`"
    return message, suggestion


def simcash_notes(raw: object) -> Iterator[tuple[Loc, str]]:
    """Warnings for the SimCash forms paysim reads with a meaning SimCash did not give them.

    ``raw`` is the scenario as written (already known to validate); locations are as written.
    """
    if not isinstance(raw, Mapping):
        return
    agents = raw.get("agents")
    for i, agent in enumerate(agents if isinstance(agents, list) else []):
        if not isinstance(agent, Mapping):
            continue
        for key in ("bilateral_limits", "multilateral_limit"):
            if key in agent:
                yield (
                    ("agents", i, key),
                    f"`{key}` on the agent is read as `limits.{key}` and applied; SimCash "
                    "ignored it at this level, so a SimCash run had no such limit (write it "
                    "under `limits` to silence this warning)",
                )
        yield from _params_note(agent.get("policy"), ("agents", i, "policy"))
    events = raw.get("scenario_events")
    for k, event in enumerate(events if isinstance(events, list) else []):
        if isinstance(event, Mapping):
            yield from _params_note(event.get("policy"), ("scenario_events", k, "policy"))


def _params_note(policy: object, loc: Loc) -> Iterator[tuple[Loc, str]]:
    if isinstance(policy, Mapping) and policy.get("type") == "FromJson" and "params" in policy:
        yield (
            (*loc, "params"),
            "`params` of a `FromJson` reference are applied as the policy's parameter values; "
            "SimCash ignored them and ran the file's own values (move them to "
            "`policy_parameters` to silence this warning)",
        )
