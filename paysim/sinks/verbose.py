"""One readable line per event, for ``paysim run --format verbose``.

The event catalogue is ENGINE.md §12.1; each event type that tells a reader something gets a
sentence-like line built from its columns and details. Events that only repeat another one
(``RtgsSubmission`` after ``PolicySubmit``, ``SimulationStarted``, ``EndOfDay``, which the end-of-
day block covers) are left out, and an event type this module does not know yet is still shown,
generically, so nothing the engine reports is hidden.

Amounts are shown in currency units with two decimals (integer cents / 100), as everywhere in the
human output; machine output (``json``, ``events``) keeps integer cents.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass

Row = Mapping[str, object]
Details = Mapping[str, object]


def money(cents: object) -> str:
    """Integer cents as currency units: ``123456`` → ``1,234.56``."""
    if not isinstance(cents, int):
        return "?"
    sign = "-" if cents < 0 else ""
    units, rest = divmod(abs(cents), 100)
    return f"{sign}{units:,}.{rest:02d}"


def signed_money(cents: object) -> str:
    text = money(cents)
    return text if text.startswith(("-", "?")) else f"+{text}"


@dataclass(frozen=True)
class Line:
    """A rendered event: the text and a rich style for it."""

    text: str
    style: str = ""


def _who(row: Row) -> str:
    ag, cp = row.get("agent_id"), row.get("counterparty_id")
    return f"{ag} → {cp}" if cp is not None else f"{ag}"


def _pay(row: Row) -> str:
    """``tx  A → B  amount``: the payment an event is about."""
    return f"{row.get('tx_id')}  {_who(row)}  {money(row.get('amount'))}"


def _path(d: Details) -> str:
    path = d.get("decision_path")
    return f"  [path {' > '.join(map(str, path))}]" if isinstance(path, list) and path else ""


def _list(d: Details, key: str) -> list[object]:
    value = d.get(key)
    return list(value) if isinstance(value, list) else []


def _arrival(row: Row, d: Details) -> Line:
    extras = [f"deadline t{d.get('deadline_tick')}", f"priority {d.get('priority')}"]
    if d.get("rtgs_priority") not in (None, "Normal"):
        extras.append(str(d.get("rtgs_priority")))
    if d.get("divisible"):
        extras.append("divisible")
    if d.get("source") not in (None, "generated"):
        extras.append(f"from {d.get('source')}")
    return Line(f"arrival     {_pay(row)}  ({', '.join(extras)})")


def _settled(row: Row, d: Details) -> Line:
    deferred = ", credit deferred" if d.get("deferred") else ""
    after = money(d.get("sender_balance_after"))
    return Line(f"settled     {_pay(row)}  ({row.get('agent_id')} now {after}{deferred})", "green")


def _released(row: Row, d: Details) -> Line:
    how = " by an LSM retry" if d.get("pass") == "lsm_retry" else ""
    waited = d.get("queue_wait_ticks")
    ticks = "tick" if waited == 1 else "ticks"
    return Line(f"released    {_pay(row)}  from the queue{how} after {waited} {ticks}", "green")


def _limit(kind: str) -> Callable[[Row, Details], Line]:
    def render(row: Row, d: Details) -> Line:
        return Line(
            f"limit       {_pay(row)}  {kind} limit {money(d.get('limit'))}, "
            f"already sent today {money(d.get('current_outflow'))}",
            "yellow",
        )

    return render


def _entry_offset(row: Row, d: Details) -> Line:
    return Line(
        f"offset      {row.get('tx_id')} against queued {d.get('queued_tx_id')}: "
        f"{row.get('agent_id')} ⇄ {row.get('counterparty_id')}  "
        f"{money(d.get('incoming_amount'))} vs {money(d.get('queued_amount'))}; "
        f"{d.get('net_payer')} pays the net {money(d.get('net'))}",
        "cyan",
    )


def _lsm_pair(row: Row, d: Details) -> Line:
    a, b = row.get("agent_id"), row.get("counterparty_id")
    return Line(
        f"LSM pair    {a} ⇄ {b}: {a} → {b} {money(d.get('amount_ab'))}, "
        f"{b} → {a} {money(d.get('amount_ba'))}; {d.get('net_payer')} pays the net "
        f"{money(d.get('net'))} ({len(_list(d, 'tx_ids'))} payments)",
        "bold cyan",
    )


def _lsm_cycle(row: Row, d: Details) -> Line:
    members = [str(a) for a in _list(d, "agents")]
    ring = " → ".join([*members, members[0]]) if members else "?"
    edges = ", ".join(money(x) for x in _list(d, "edge_amounts"))
    nets = ", ".join(
        f"{agent} {signed_money(net)}"
        for agent, net in zip(members, _list(d, "net_positions"), strict=False)
    )
    return Line(
        f"LSM cycle   {ring}  total {money(row.get('amount'))}; edges {edges}; net {nets} "
        f"({len(_list(d, 'tx_ids'))} payments)",
        "bold cyan",
    )


def _costs(row: Row, d: Details) -> Line:
    parts = [
        f"{key.replace('_', ' ')} {money(value)}"
        for key, value in d.items()
        if isinstance(value, int) and value
    ]
    return Line(
        f"cost        {row.get('agent_id')}  {money(row.get('amount'))}: {', '.join(parts)}"
    )


def _scenario(row: Row, d: Details) -> Line:
    kind = d.get("event_type")
    if kind in ("DirectTransfer", "CustomTransactionArrival", "ScheduledSettlement"):
        what = f"{_who(row)}  {money(row.get('amount'))}"
        if kind == "ScheduledSettlement":
            what += "  settled" if d.get("settled") else "  not settled (RTGS rule failed)"
    elif kind == "AgentOutage":
        what = (
            f"{row.get('agent_id')} {'goes down' if d.get('phase') == 'start' else 'is back'} "
            f"(outage ticks {d.get('start_tick')}–{d.get('end_tick')})"
        )
    else:
        fields = [f"{k}={v}" for k, v in d.items() if k not in ("event_index", "event_type")]
        what = " ".join(([str(row["agent_id"])] if row.get("agent_id") else []) + fields)
    return Line(f"scenario    {kind}  {what}", "magenta")


def _simple(template: str, style: str = "") -> Callable[[Row, Details], Line]:
    """A line from a format string over the row (``{tx_id}``, ``{pay}``, ...) and details."""

    def render(row: Row, d: Details) -> Line:
        values = {**d, **row, "pay": _pay(row), "who": _who(row), "amt": money(row.get("amount"))}
        return Line(template.format_map(values) + _path(d), style)

    return render


def _skip(row: Row, d: Details) -> None:
    return None


_RENDERERS: dict[str, Callable[[Row, Details], Line | None]] = {
    "SimulationStarted": _skip,
    "EndOfDay": _skip,
    "AgentOpened": _simple("opened      {agent_id}  balance {amt}"),
    "Arrival": _arrival,
    "PriorityEscalated": _simple(
        "escalated   {tx_id}  priority {old_priority} → {new_priority} "
        "({ticks_to_deadline} ticks to deadline)"
    ),
    "PolicySubmit": _simple("release     {pay}"),
    "PolicyHold": _simple("hold        {tx_id}  {agent_id}: {reason}"),
    "PolicyDrop": _simple("drop        {pay}", "red"),
    "PolicySplit": _simple("split       {pay}  into {num_splits} pieces {child_amounts}"),
    "TransactionReprioritized": _simple("priority    {tx_id}  {old_priority} → {new_priority}"),
    "RtgsSubmission": lambda row, d: (
        Line(f"submit      {_pay(row)}  (scheduled piece)") if d.get("scheduled") else None
    ),
    "RtgsImmediateSettlement": _settled,
    "QueuedRtgs": lambda row, d: Line(
        f"queued      {_pay(row)}  ({str(d.get('reason', '')).replace('_', ' ')})", "yellow"
    ),
    "BilateralLimitExceeded": _limit("bilateral"),
    "MultilateralLimitExceeded": _limit("multilateral"),
    "Queue2LiquidityRelease": _released,
    "RtgsWithdrawal": _simple("withdrawn   {pay}  from the central queue"),
    "RtgsResubmission": _simple(
        "resubmitted {pay}  as {new_rtgs_priority} (was {old_rtgs_priority})"
    ),
    "EntryDispositionOffset": _entry_offset,
    "LsmBilateralOffset": _lsm_pair,
    "LsmCycleSettlement": _lsm_cycle,
    "LsmMultilateralSettlement": _simple(
        "LSM {algorithm}  {settled_count} payments, total {amt}; {removed_count} left queued",
        "bold cyan",
    ),
    "OffsetSettlement": _simple("offset      {pay}  settled ({mechanism} offset)", "cyan"),
    "AlgorithmExecution": _simple("algorithm   {algorithm}: {settled_count} settled", "cyan"),
    "OverdueTransactionSettled": _simple(
        "late        {tx_id}  settled {ticks_late} ticks after its deadline t{deadline_tick}"
    ),
    "SplitParentSettled": _simple("completed   {pay}  (all {num_children} pieces settled)"),
    "CollateralPost": _simple("collateral  {agent_id} posts {amt} ({reason}); posted {new_total}"),
    "CollateralWithdraw": _simple(
        "collateral  {agent_id} withdraws {amt} ({reason}); posted {new_total}"
    ),
    "CollateralTimerWithdrawn": _simple(
        "collateral  {agent_id} timer withdraws {amt}; posted {new_total}"
    ),
    "CollateralTimerBlocked": _simple("collateral  {agent_id} timer could withdraw nothing"),
    "StateRegisterSet": _simple(
        "register    {agent_id} {key}: {old_value} → {new_value} ({reason})"
    ),
    "BankBudgetSet": _simple("budget      {agent_id} may release at most {amt} this tick"),
    "DeferredCreditApplied": _simple(
        "credited    {agent_id} +{amt} ({source_count} deferred payments)"
    ),
    "TransactionWentOverdue": _simple(
        "overdue     {pay}  past its deadline t{deadline_tick}", "red"
    ),
    "CostAccrual": _costs,
    "ScenarioEventExecuted": _scenario,
    "PolicyReplaced": _simple(
        "policy      {agent_id}: {old_policy_id} → {new_policy_id} ({source})", "magenta"
    ),
    "PolicyWarning": _simple("warning     {agent_id} {code}: {message}", "yellow"),
    "PolicyEvaluationError": _simple(
        "policy error {agent_id} {policy_id} at {pointer}: {message}", "red"
    ),
    "LiquidityAllocation": _simple(
        "liquidity   {agent_id} brings in {amt} from its pool (fraction {fraction})"
    ),
    "LiquidityReturn": _simple("liquidity   {agent_id} returns {amt} to its pool"),
}


def describe(row: Row) -> Line | None:
    """The line for one event row (columns of ``Simulation.events()``), or ``None`` to skip."""
    raw = row.get("details")
    details: dict[str, object] = json.loads(raw) if isinstance(raw, str) and raw else {}
    event_type = str(row.get("event_type"))
    render = _RENDERERS.get(event_type)
    if render is None:
        return Line(f"{event_type}  {_who(row)}  {row.get('amount')}  {raw}")
    try:
        return render(row, details)
    except (KeyError, IndexError, ValueError):
        # A detail this renderer expects is missing (an engine newer than this module):
        # show the raw event rather than fail the run.
        return Line(f"{event_type}  {_who(row)}  {row.get('amount')}  {raw}")
