"""The rows the store sink writes, built from the simulation and its run summaries.

A day's per-bank numbers come from the run summaries at the day's start and end (the engine's
own counters: payments sent, settled, received, dropped, queue sizes, costs by component), so
they agree with the run summary by construction; only the lowest end-of-tick balance of the day
comes from the events (:func:`paysim.store.derive.min_balances`).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import duckdb
import pyarrow as pa

from paysim.simulation import Simulation
from paysim.store.ddl import column_names
from paysim.store.ids import new_id
from paysim.store.models import AgentRow, DailyAgentMetricsRow, Table

COST_KEYS = (
    "overdraft",
    "delay",
    "collateral",
    "liquidity",
    "deadline_penalty",
    "eod_penalty",
    "drop_penalty",
    "split_friction",
)
_DAY_KEYS = ("arrivals", "settled", "settled_value", "dropped", "overdue", "lsm_settled")


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def d(value: object) -> dict[str, object]:
    return cast(dict[str, object], value)


def i(value: object) -> int:
    assert isinstance(value, int)
    return value


def json_text(value: Mapping[str, object]) -> str:
    return json.dumps(dict(value))


def columns_table(model: type[Table], rows: list[dict[str, object]]) -> pa.Table:
    """Rows as an Arrow table with the model's columns, in order."""
    names = column_names(model)
    return pa.table({name: [row[name] for row in rows] for name in names})


def insert_table(con: duckdb.DuckDBPyConnection, table: str, data: pa.Table) -> None:
    """Appends an Arrow table through DuckDB's Arrow scan."""
    name = f"_paysim_{table}"
    con.register(name, data)
    try:
        cols = ", ".join(data.column_names)
        con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {name}")
    finally:
        con.unregister(name)


def insert_row(con: duckdb.DuckDBPyConnection, table: str, row: Mapping[str, object]) -> None:
    cols = list(row)
    marks = ", ".join("?" for _ in cols)
    con.execute(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})", list(row.values()))


def store_checkpoint(
    con: duckdb.DuckDBPyConnection,
    sid: str,
    data: bytes,
    *,
    tick: int,
    ticks_per_day: int,
    kind: str,
    config_hash: str,
) -> str:
    """Stores checkpoint bytes; returns the checkpoint id."""
    ck_id = new_id()
    insert_row(
        con,
        "checkpoints",
        {
            "checkpoint_id": ck_id,
            "simulation_id": sid,
            "tick": tick,
            "day": tick // ticks_per_day,
            "kind": kind,
            "config_hash": config_hash,
            "size_bytes": len(data),
            "created_at": utcnow(),
            "data": data,
        },
    )
    return ck_id


def simulation_row(
    sim: Simulation,
    sid: str,
    run_info: Mapping[str, object],
    head: Mapping[str, object],
    *,
    config_hash: str,
    overrides: Mapping[str, object],
    parent_simulation_id: str | None,
    resumed_from: str | None,
) -> dict[str, object]:
    """The ``simulations`` row of a run that opens (status ``running``)."""
    from paysim import __version__, _core

    now = utcnow()
    source = sim.scenario.source
    text: str | None = None
    if source is not None:
        try:
            text = Path(source).read_text(encoding="utf-8")
        except OSError:
            text = None
    return {
        "simulation_id": sid,
        "status": "running",
        "started_at": now,
        "updated_at": now,
        "scenario": None if source is None else str(source),
        "scenario_text": text,
        "scenario_hash": None if text is None else hashlib.sha256(text.encode()).hexdigest(),
        "description": sim.scenario.description,
        "config_json": sim.config_json,
        "config_hash": config_hash,
        "seed": head["seed"],
        "ticks_per_day": sim.ticks_per_day,
        "days": head["days"],
        "total_ticks": sim.total_ticks,
        "start_tick": sim.current_tick,
        "ticks_done": sim.current_tick,
        "days_done": sim.current_tick // sim.ticks_per_day,
        "event_count": 0,
        "overrides": json.dumps(dict(overrides)),
        "parent_simulation_id": parent_simulation_id,
        "resumed_from": resumed_from,
        "paysim_version": __version__,
        "engine_version": _core.core_version(),
        "writer_pid": os.getpid(),
        "run_info": json.dumps(dict(run_info)),
    }


def agent_rows(sim: Simulation, sid: str) -> pa.Table:
    """The ``agents`` rows: each bank's opening set-up, in engine order."""
    config = json.loads(sim.config_json)
    rows = []
    for position, agent in enumerate(config["agents"]):
        policy = agent.get("policy") or {}
        document = policy.get("document")
        rows.append(
            {
                "simulation_id": sid,
                "agent_id": agent["id"],
                "position": position,
                "opening_balance": agent["opening_balance"],
                "unsecured_cap": agent["unsecured_cap"],
                "posted_collateral": agent["posted_collateral"],
                "collateral_haircut": float(agent["collateral_haircut"]),
                "liquidity_pool": agent["liquidity_pool"],
                "policy_id": document.get("policy_id") if isinstance(document, dict) else None,
                "policy_source": policy.get("source"),
                "policy_parameters": json.dumps(policy.get("parameters") or {}),
            }
        )
    return columns_table(AgentRow, rows)


def agent_day_rows(
    sid: str,
    day: int,
    before: Mapping[str, object],
    after: Mapping[str, object],
    lows: Mapping[str, int],
) -> pa.Table:
    """The ``daily_agent_metrics`` rows of a day, from the run summaries at its start and end
    and each bank's lowest end-of-tick balance of the day (absent: the balance never moved)."""
    rows = []
    then_agents = d(before["agents"])
    for agent_id, raw in d(after["agents"]).items():
        now, then = d(raw), d(then_agents[agent_id])
        c1, c0 = d(now["costs"]), d(then["costs"])
        opening = i(then["final_balance"])
        low = min(opening, lows.get(agent_id, opening))
        row: dict[str, object] = {
            "simulation_id": sid,
            "day": day,
            "agent_id": agent_id,
            "opening_balance": opening,
            "closing_balance": now["final_balance"],
            "min_balance": low,
            "peak_overdraft": max(0, -low),
            "q1": now["q1"],
            "q2": now["q2"],
        }
        for key in ("sent", "settled_sent", "received", "dropped"):
            row[key] = i(now[key]) - i(then[key])
        for key in (*COST_KEYS, "total"):
            row[f"cost_{key}"] = i(c1[key]) - i(c0[key])
        rows.append(row)
    return columns_table(DailyAgentMetricsRow, rows)


def day_row(
    sid: str,
    day: int,
    before: Mapping[str, object],
    after: Mapping[str, object],
    day_summary: Mapping[str, object],
    events: int,
) -> dict[str, object]:
    """The ``daily_metrics`` row of a day."""
    t1, t0 = d(after["totals"]), d(before["totals"])
    row: dict[str, object] = {"simulation_id": sid, "day": day}
    for key in _DAY_KEYS:
        row[key] = i(t1[key]) - i(t0[key])
    row["unsettled"] = t1["unsettled"]
    row["cost"] = i(t1["total_cost"]) - i(t0["total_cost"])
    row["events"] = events
    row["day_summary"] = json.dumps(dict(day_summary))
    row["committed_at"] = utcnow()
    return row
