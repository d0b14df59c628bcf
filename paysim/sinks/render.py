"""Human renderings of a run summary and of a day summary, as rich tables.

Shared by the ``summary`` and ``verbose`` console modes (and by anything that re-renders a stored
run), so the human form of a summary is defined once. Amounts are currency units with two
decimals; counts are plain integers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import cast

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from paysim.sinks.verbose import money

_COST_LABELS = {
    "overdraft": "overdraft",
    "delay": "delay",
    "collateral": "collateral",
    "liquidity": "liquidity",
    "deadline_penalty": "deadline penalty",
    "eod_penalty": "end-of-day penalty",
    "drop_penalty": "drop penalty",
    "split_friction": "split friction",
}


# Day counts shown only when they are not zero (most days drop nothing).
_DAY_EXTRAS = (("lsm_settled", "by the LSM"), ("dropped", "dropped"), ("overdue", "newly overdue"))


def _map(value: object) -> Mapping[str, object]:
    return cast(Mapping[str, object], value)


def _int(value: object) -> int:
    return value if isinstance(value, int) else 0


def _pct(rate: object) -> str:
    return f"{rate:.1%}" if isinstance(rate, float | int) else "?"


def days_text(n: object) -> str:
    """``1 day``, ``3 days``."""
    return f"{n} day" if n == 1 else f"{n} days"


# Columns of the agents table: header, how a value is shown, whether the column has a total.
_AGENT_COLUMNS: tuple[tuple[str, Callable[[int], str], bool], ...] = (
    ("Opening", money, True),
    ("Final", money, True),
    ("Min", money, False),
    ("Sent", str, True),
    ("Settled", str, True),
    ("Unsettled", str, True),
    ("Dropped", str, True),
    ("Received", str, True),
    ("Cost", money, True),
)


def _agent_values(a: Mapping[str, object]) -> list[int]:
    """An agent's numbers in the order of :data:`_AGENT_COLUMNS`."""
    sent, settled, dropped = _int(a["sent"]), _int(a["settled_sent"]), _int(a["dropped"])
    return [
        _int(a["opening_balance"]),
        _int(a["final_balance"]),
        _int(a["min_balance"]),
        sent,
        settled,
        sent - settled - dropped,
        dropped,
        _int(a["received"]),
        _int(_map(a["costs"])["total"]),
    ]


def agents_table(summary: Mapping[str, object]) -> Table:
    """One row per agent (balances, payments, cost) and a totals row."""
    rows = {agent_id: _agent_values(_map(a)) for agent_id, a in _map(summary["agents"]).items()}
    sums = [sum(column) for column in zip(*rows.values(), strict=True)] or [0] * len(_AGENT_COLUMNS)
    table = Table(title="Agents", title_justify="left", show_footer=True)
    table.add_column("Agent", footer="Total", no_wrap=True)
    for (header, show, totalled), total in zip(_AGENT_COLUMNS, sums, strict=True):
        table.add_column(header, footer=show(total) if totalled else "", justify="right")
    for agent_id, values in rows.items():
        table.add_row(
            agent_id, *(show(v) for (_, show, _), v in zip(_AGENT_COLUMNS, values, strict=True))
        )
    return table


def totals_table(summary: Mapping[str, object]) -> Table:
    """The system-wide totals and the cost components that are not zero."""
    t = _map(summary["totals"])
    costs = _map(summary["costs"])
    table = Table(title="Totals", title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("arrivals", str(t["arrivals"]))
    table.add_row("settled", f"{t['settled']}  ({_pct(t['settlement_rate'])})")
    table.add_row(
        "settled value", f"{money(t['settled_value'])}  ({_pct(t['value_settlement_rate'])})"
    )
    table.add_row("unsettled", str(t["unsettled"]))
    table.add_row("dropped", str(t["dropped"]))
    table.add_row("overdue", str(t["overdue"]))
    table.add_row("settled by the LSM", str(t["lsm_settled"]))
    for key, label in _COST_LABELS.items():
        if _int(costs.get(key)):
            table.add_row(f"cost: {label}", money(costs[key]))
    table.add_row(Text("total cost", style="bold"), Text(money(costs["total"]), style="bold"))
    return table


def summary_renderable(summary: Mapping[str, object]) -> RenderableType:
    """The whole human summary: a header line, the agents table and the totals."""
    head = Text.assemble(
        ("Run summary", "bold"),
        f"  {summary.get('scenario') or '<scenario>'} · seed {summary['seed']} · "
        f"{days_text(summary['days'])} × {summary['ticks_per_day']} ticks · "
        f"{float(cast(float, summary['wall_seconds'])):.3f} s in the engine · "
        "amounts in currency units",
    )
    return Group(head, agents_table(summary), totals_table(summary))


def print_summary(console: Console, summary: Mapping[str, object]) -> None:
    console.print(summary_renderable(summary))


def print_day(console: Console, day_summary: Mapping[str, object]) -> None:
    """The end-of-day block of the verbose rendering."""
    d = day_summary
    parts = [f"{d['arrivals']} arrivals", f"{d['settled']} settled ({money(d['settled_value'])})"]
    parts += [f"{d[k]} {label}" for k, label in _DAY_EXTRAS if _int(d.get(k))]
    parts.append(f"{d['unsettled']} unsettled")
    console.print(
        Text(f"End of day {d['day']}: {', '.join(parts)}; cost {money(d['cost'])}", style="bold")
    )
    table = Table(show_edge=False, pad_edge=False, box=None)
    for header in ("agent", "balance", "Q1", "Q2", "cost today"):
        table.add_column(header, justify="left" if header == "agent" else "right")
    for agent_id, raw in _map(d["agents"]).items():
        a = _map(raw)
        table.add_row(agent_id, money(a["balance"]), str(a["q1"]), str(a["q2"]), money(a["cost"]))
    console.print(table)
