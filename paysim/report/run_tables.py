"""The tables of a run's report, and the facts listed at its top.

Numbers come straight from the store: the run summary (``simulations.summary``, the run's own
figures) for totals and costs of a completed run, ``daily_metrics`` for days,
``daily_agent_metrics`` for banks (whose sums over days are the summary's per-bank numbers),
``payments`` for delays, the LSM group events for the LSM. Money stays in integer cents in each
cell's ``data-value``.
"""

from __future__ import annotations

import json

from paysim.report.html import Block, Column, Table, Text
from paysim.report.run_data import COMPONENTS, RunData
from paysim.report.run_events import MECHANISMS

TOTAL_KEYS: tuple[tuple[str, str, str], ...] = (
    ("arrivals", "arrivals", "int"),
    ("settled", "settled", "int"),
    ("settled_value", "settled value", "money"),
    ("unsettled", "unsettled", "int"),
    ("dropped", "dropped", "int"),
    ("overdue", "overdue", "int"),
    ("lsm_settled", "by the LSM", "int"),
    ("settlement_rate", "settlement rate", "rate"),
    ("value_settlement_rate", "by value", "rate"),
    ("settlement_delay", "delay (ticks, sum)", "int"),
    ("avg_settlement_delay", "mean delay (ticks)", "float"),
    ("peak_net_debit", "peak net debit (sum)", "money"),
    ("total_cost", "total cost", "money"),
)


def _dict(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


def _plural(n: object, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def run_meta(data: RunData) -> list[tuple[str, str]]:
    sim = data.simulation
    summary = _dict(sim.get("summary"))
    plugins = summary.get("plugins")
    if isinstance(plugins, list) and plugins:
        shown = ", ".join(
            f"{p.get('name')} ({p.get('distribution') or 'registered at run time'}"
            f"{' ' + str(p.get('version')) if p.get('version') else ''})"
            for p in plugins
            if isinstance(p, dict)
        )
    else:
        shown = "none" if summary else "unknown (the run has no summary)"
    overrides = {k: v for k, v in _dict(sim.get("overrides")).items() if v not in (None, {}, [])}
    wall = summary.get("wall_seconds")
    rows = [
        ("simulation id", str(sim["simulation_id"])),
        ("status", str(sim["status"])),
        ("scenario", str(sim.get("scenario") or "(in memory)")),
        ("description", str(sim.get("description") or "")),
        ("seed", str(sim["seed"])),
        (
            "length",
            f"{_plural(sim['days'], 'day')} × {sim['ticks_per_day']} ticks; "
            f"{_plural(sim['days_done'], 'day')} stored "
            f"(ticks {sim['start_tick']}–{int(str(sim['ticks_done'])) - 1})",
        ),
        ("events", f"{int(str(sim['event_count'])):,}"),
        ("started / ended (UTC)", f"{sim.get('started_at')} / {sim.get('ended_at') or '–'}"),
        ("paysim / engine", f"{sim['paysim_version']} / {sim['engine_version']}"),
        ("plugins", shown),
        ("run-time overrides", json.dumps(overrides, sort_keys=True) if overrides else "none"),
    ]
    if isinstance(wall, int | float):
        rows.append(("engine time", f"{wall:.4f} s"))
    if sim.get("parent_simulation_id"):
        rows.append(("resumed from", f"{sim['parent_simulation_id']} ({sim['resumed_from']})"))
    if sim.get("error"):
        rows.append(("error", str(sim["error"])))
    return rows


def _totals(data: RunData) -> Table:
    summary = _dict(data.simulation.get("summary"))
    totals = _dict(summary.get("totals"))
    note = "From the run summary."
    if not totals:
        days = data.daily
        arrivals = sum(int(str(d["arrivals"])) for d in days)
        settled = sum(int(str(d["settled"])) for d in days)
        totals = {
            "arrivals": arrivals,
            "settled": settled,
            "settled_value": sum(int(str(d["settled_value"])) for d in days),
            "unsettled": int(str(days[-1]["unsettled"])) if days else 0,
            "dropped": sum(int(str(d["dropped"])) for d in days),
            "overdue": None,
            "lsm_settled": sum(int(str(d["lsm_settled"])) for d in days),
            "settlement_rate": settled / arrivals if arrivals else None,
            "value_settlement_rate": None,
            "total_cost": sum(int(str(d["cost"])) for d in days),
        }
        note = "The run has no summary: sums over its stored days (daily_metrics)."
    columns = [Column(k, label, kind) for k, label, kind in TOTAL_KEYS]  # type: ignore[arg-type]
    known = {k for k, _, _ in TOTAL_KEYS}
    columns += [Column(k, k.replace("_", " "), "float") for k in totals if k not in known]
    return Table("totals", "Totals", columns, [("run", dict(totals))], note)


def _daily(data: RunData) -> Table:
    columns = [
        Column("day", "day", "int"),
        Column("arrivals", "arrivals", "int"),
        Column("settled", "settled", "int"),
        Column("settled_value", "settled value", "money"),
        Column("dropped", "dropped", "int"),
        Column("overdue", "newly overdue", "int"),
        Column("lsm_settled", "LSM settled", "int"),
        Column("unsettled", "unsettled at end", "int"),
        Column("cost", "cost", "money"),
        Column("events", "events", "int"),
    ]
    rows = [(str(d["day"]), {c.key: d.get(c.key) for c in columns}) for d in data.daily]
    return Table("daily", "Days", columns, rows, "From daily_metrics.")


def _costs(data: RunData) -> Table:
    days = data.costs.days
    columns = [
        Column("component", "component"),
        *(Column(f"day_{d}", f"day {d}", "money") for d in days),
        Column("run", "run", "money"),
    ]
    per_day = {d: data.costs.by_day(d) for d in days}
    summary_costs = _dict(_dict(data.simulation.get("summary")).get("costs"))
    rows = []
    for comp in (*COMPONENTS, "total"):
        values: dict[str, object] = {"component": comp.replace("_", " ")}
        for d in days:
            values[f"day_{d}"] = per_day[d][comp]
        values["run"] = summary_costs.get(comp, sum(per_day[d][comp] for d in days))
        rows.append((comp, values))
    return Table(
        "costs",
        "Costs by component and day",
        columns,
        rows,
        "Per day: daily_agent_metrics summed over banks; run: the run summary's costs.",
    )


def _banks(data: RunData) -> Table:
    columns = [
        Column("agent_id", "bank"),
        Column("opening_balance", "opening", "money"),
        Column("final_balance", "final", "money"),
        Column("min_balance", "min", "money"),
        Column("unsecured_cap", "unsecured cap", "money"),
        Column("posted_collateral", "collateral", "money"),
        Column("sent", "sent", "int"),
        Column("settled_sent", "settled", "int"),
        Column("received", "received", "int"),
        Column("dropped", "dropped", "int"),
        Column("q1", "queue 1", "int"),
        Column("q2", "queue 2", "int"),
        Column("cost", "cost", "money"),
    ]
    rows = []
    for b in data.banks:
        rows.append((b.agent_id, {c.key: getattr(b, c.key) for c in columns}))
    return Table(
        "banks",
        "Banks",
        columns,
        rows,
        "Sums over the stored days of daily_agent_metrics; queues at the end of the last day; "
        "cap and collateral when the run opened.",
    )


def _bank_costs(data: RunData) -> Table:
    columns = [
        Column("agent_id", "bank"),
        *(Column(c, c.replace("_", " "), "money") for c in (*COMPONENTS, "total")),
    ]
    rows = []
    for b in data.banks:
        values: dict[str, object] = {"agent_id": b.agent_id, **data.costs.by_agent(b.agent_id)}
        rows.append((b.agent_id, values))
    return Table("bank_costs", "Costs per bank by component", columns, rows, "Whole run.")


def _lsm(data: RunData) -> Table:
    columns = [
        Column("mechanism", "mechanism"),
        Column("groups", "groups", "int"),
        Column("payments", "payments settled", "int"),
        Column("gross", "gross value", "money"),
        Column("saved", "liquidity saved", "money"),
    ]
    totals = data.lsm.totals()
    rows = [(m, {"mechanism": m, **totals[m]}) for m in MECHANISMS if m in totals]
    note = "" if rows else "The liquidity-saving mechanism settled nothing in this run."
    return Table("lsm", "LSM", columns, rows, note)


def _delays(data: RunData) -> Table:
    columns = [
        Column("tx_id", "payment"),
        Column("sender", "sender"),
        Column("receiver", "receiver"),
        Column("amount", "amount", "money"),
        Column("arrival_tick", "arrived", "int"),
        Column("deadline_tick", "deadline", "int"),
        Column("status", "status"),
        Column("settled_tick", "settled", "int"),
        Column("delay", "delay (ticks)", "int"),
    ]
    rows = [(d.tx_id, {c.key: getattr(d, c.key) for c in columns}) for d in data.delays.largest]
    return Table(
        "delays",
        "Largest delays",
        columns,
        rows,
        "From payments; an unsettled payment's delay is the ticks it had waited when the "
        "stored days ended.",
    )


def _policies(data: RunData) -> Table:
    columns = [
        Column("agent_id", "bank"),
        Column("policy_id", "policy"),
        Column("policy_source", "source"),
        Column("policy_parameters", "parameters", "code"),
    ]
    rows = [(b.agent_id, {c.key: getattr(b, c.key) for c in columns}) for b in data.banks]
    changes = "; ".join(
        f"tick {c.tick}: {c.agent_id} {c.old_policy_id} → {c.new_policy_id} ({c.source})"
        for c in data.policy_changes
    )
    note = "Policies when the run opened (agents)." + (
        f" Changed during the run: {changes}." if changes else ""
    )
    return Table("policies", "Policies", columns, rows, note)


def policy_documents(data: RunData) -> Text:
    """The policy documents the run started with (from its engine config), each once, with the
    banks that used it."""
    config = _dict(data.simulation.get("config_json"))
    agents = config.get("agents")
    users: dict[str, list[str]] = {}
    for agent in agents if isinstance(agents, list) else []:
        if not isinstance(agent, dict):
            continue
        policy = _dict(agent.get("policy"))
        document = json.dumps(policy.get("document"), indent=2, sort_keys=True)
        users.setdefault(document, []).append(str(agent.get("id")))
    parts = []
    for document, banks in users.items():
        shown = ", ".join(banks[:12]) + (f" and {len(banks) - 12} more" if len(banks) > 12 else "")
        parts.append(f"# used by {shown}\n{document}")
    text = "\n\n".join(parts) if parts else "(the run's engine config has no policies)"
    return Text("policy_documents", "Policy documents", text)


def run_tables(data: RunData) -> tuple[list[Block], list[Block]]:
    """The tables before the figures, and those after them."""
    return [_totals(data)], [
        _daily(data),
        _costs(data),
        _banks(data),
        _bank_costs(data),
        _lsm(data),
        _delays(data),
        _policies(data),
    ]
