"""The few event types the run report reads, streamed with an event-type filter.

No derived table holds the LSM's groups, the credit lines' changes or policy changes, so these
come from the events, through :meth:`paysim.store.Store.event_batches` (one pass, in record
batches, filtered by type in the database): a run of millions of events has at most a few
thousand of them, and only their ``details`` are parsed.

* LSM groups (figure ``lsm``, table ``lsm``): ``EntryDispositionOffset``,
  ``LsmBilateralOffset``, ``LsmCycleSettlement``, ``LsmMultilateralSettlement``. The
  **liquidity saved** by a group is its gross value minus the liquidity its settlement needed:
  ``amount - net`` for an entry or bilateral offset, ``amount - Σ max(0, -n_i)`` over the net
  positions of a cycle or a multilateral group (ENGINE.md §7, docs/lsm.md).
* Credit lines of the banks shown one by one (figure ``balances``): ``CollateralPost``,
  ``CollateralWithdraw``, ``CollateralTimerWithdrawn`` (``new_total``) and the scenario's
  ``CollateralAdjustment`` and ``UnsecuredCapChange`` (``applied_delta``). Collateral gives
  ``⌊posted × K / 10^9⌋`` of credit, ``K = round((1 − haircut) × 10^9)`` (ENGINE.md §3.2).
* ``PolicyReplaced`` (table ``policies``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from paysim.report.axis import FloatArray, IntArray
from paysim.store import Store

MECHANISMS = ("entry", "bilateral", "cycle", "multilateral", "partial")
"""LSM mechanisms, in the order the figure and table list them."""

_GROUP_TYPES = {
    "EntryDispositionOffset": "entry",
    "LsmBilateralOffset": "bilateral",
    "LsmCycleSettlement": "cycle",
    "LsmMultilateralSettlement": "multilateral",
}
_COLLATERAL_TYPES = ("CollateralPost", "CollateralWithdraw", "CollateralTimerWithdrawn")
_TYPES = (*_GROUP_TYPES, *_COLLATERAL_TYPES, "ScenarioEventExecuted", "PolicyReplaced")


@dataclass
class CreditLines:
    """A bank's unsecured cap and posted collateral over time, as steps."""

    haircut: float
    ticks: list[int] = field(default_factory=list)
    caps: list[int] = field(default_factory=list)
    posted: list[int] = field(default_factory=list)

    @classmethod
    def start(cls, cap: int, posted: int, haircut: float) -> CreditLines:
        return cls(haircut, [-(2**62)], [cap], [posted])

    def change(self, tick: int, *, cap: int | None = None, posted: int | None = None) -> None:
        self.ticks.append(tick)
        self.caps.append(self.caps[-1] if cap is None else cap)
        self.posted.append(self.posted[-1] if posted is None else posted)

    def credit(self, posted: int) -> int:
        k = round((1.0 - self.haircut) * 10**9)
        return posted * k // 10**9

    def at(self, ticks: IntArray) -> tuple[FloatArray, FloatArray]:
        """Unsecured cap and collateral credit in force at the end of each of ``ticks``."""
        idx = np.searchsorted(np.asarray(self.ticks, dtype=np.int64), ticks, side="right") - 1
        caps = np.asarray(self.caps, dtype=np.float64)[idx]
        credit = np.asarray([self.credit(p) for p in self.posted], dtype=np.float64)[idx]
        return caps, credit


@dataclass(frozen=True)
class LsmGroups:
    """One entry per settled LSM group."""

    ticks: IntArray
    mechanisms: list[str]
    gross: IntArray
    saved: IntArray
    payments: IntArray

    def totals(self) -> dict[str, dict[str, int]]:
        """Per mechanism: groups, payments settled, gross value, liquidity saved."""
        out: dict[str, dict[str, int]] = {}
        for i, mech in enumerate(self.mechanisms):
            row = out.setdefault(mech, {"groups": 0, "payments": 0, "gross": 0, "saved": 0})
            row["groups"] += 1
            row["payments"] += int(self.payments[i])
            row["gross"] += int(self.gross[i])
            row["saved"] += int(self.saved[i])
        return {m: out[m] for m in MECHANISMS if m in out}


@dataclass(frozen=True)
class PolicyChange:
    tick: int
    agent_id: str
    old_policy_id: str
    new_policy_id: str
    source: str


@dataclass(frozen=True)
class SparseEvents:
    lsm: LsmGroups
    credit: dict[str, CreditLines]
    policy_changes: list[PolicyChange]


def _net_need(positions: object) -> int:
    if not isinstance(positions, list):
        return 0
    return sum(-int(n) for n in positions if isinstance(n, int) and n < 0)


def _group(event_type: str, amount: int, d: dict[str, object]) -> tuple[str, int, int]:
    """Mechanism, liquidity saved and payments settled of one LSM group event."""
    mech = _GROUP_TYPES[event_type]
    if mech in ("entry", "bilateral"):
        net = d.get("net")
        saved = amount - (abs(int(net)) if isinstance(net, int) else amount)
        ids = d.get("tx_ids")
        count = len(ids) if isinstance(ids, list) else 2
        return mech, saved, count
    if mech == "multilateral":
        algorithm = d.get("algorithm")
        mech = "partial" if algorithm == "partial" else "multilateral"
        count_value = d.get("settled_count")
        count = int(count_value) if isinstance(count_value, int) else 0
        return mech, amount - _net_need(d.get("net_positions")), count
    ids = d.get("tx_ids")
    return (
        mech,
        amount - _net_need(d.get("net_positions")),
        len(ids) if isinstance(ids, list) else 0,
    )


def read_sparse_events(
    store: Store, sid: str, setup: dict[str, tuple[int, int, float]]
) -> SparseEvents:
    """LSM groups of the run, credit lines of the banks in ``setup`` (``agent → (unsecured cap,
    posted collateral, haircut)`` when the run opened), and policy changes."""
    credit = {a: CreditLines.start(cap, posted, h) for a, (cap, posted, h) in setup.items()}
    ticks: list[int] = []
    mechs: list[str] = []
    gross: list[int] = []
    saved: list[int] = []
    payments: list[int] = []
    changes: list[PolicyChange] = []
    for batch in store.event_batches(sid, event_types=list(_TYPES)):
        cols = batch.to_pydict()
        for tick, etype, agent, amount, details in zip(
            cols["tick"],
            cols["event_type"],
            cols["agent_id"],
            cols["amount"],
            cols["details"],
            strict=True,
        ):
            if etype in _GROUP_TYPES:
                mech, s, n = _group(etype, int(amount or 0), json.loads(details))
                ticks.append(int(tick))
                mechs.append(mech)
                gross.append(int(amount or 0))
                saved.append(s)
                payments.append(n)
            elif etype == "PolicyReplaced":
                d = json.loads(details)
                changes.append(
                    PolicyChange(
                        int(tick),
                        str(agent),
                        str(d.get("old_policy_id")),
                        str(d.get("new_policy_id")),
                        str(d.get("source")),
                    )
                )
            elif agent in credit:
                _credit_change(credit[agent], int(tick), etype, json.loads(details))
    lsm = LsmGroups(
        ticks=np.asarray(ticks, dtype=np.int64),
        mechanisms=mechs,
        gross=np.asarray(gross, dtype=np.int64),
        saved=np.asarray(saved, dtype=np.int64),
        payments=np.asarray(payments, dtype=np.int64),
    )
    return SparseEvents(lsm, credit, changes)


def _credit_change(lines: CreditLines, tick: int, etype: str, d: dict[str, object]) -> None:
    if etype in _COLLATERAL_TYPES:
        total = d.get("new_total")
        if isinstance(total, int):
            lines.change(tick, posted=total)
        return
    kind, delta = d.get("event_type"), d.get("applied_delta")
    if not isinstance(delta, int):
        return
    if kind == "CollateralAdjustment":
        lines.change(tick, posted=lines.posted[-1] + delta)
    elif kind == "UnsecuredCapChange":
        lines.change(tick, cap=lines.caps[-1] + delta)
