"""The report of one stored run: its figures and tables, assembled into the page and files.

:func:`run_report` reads the run (:func:`paysim.report.run_data.read_run`), draws each figure
of :data:`RUN_FIGURES`, builds the tables (:mod:`paysim.report.run_tables`) and returns a
:class:`~paysim.report.build.Report` that :func:`paysim.report.build.write_report` writes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from matplotlib.figure import Figure

import paysim
from paysim.report.build import FigureSpec, Report
from paysim.report.html import Text
from paysim.report.run_data import RunData, read_run
from paysim.report.run_figures import (
    balances_figure,
    costs_figure,
    delays_figure,
    lsm_figure,
    queues_figure,
    settlement_figure,
)
from paysim.report.run_tables import policy_documents, run_meta, run_tables
from paysim.store import Store


@dataclass(frozen=True)
class RunFigure:
    name: str
    title: str
    caption: str
    draw: Callable[[RunData], Figure]


RUN_FIGURES = (
    RunFigure(
        "balances",
        "Balances per bank",
        "End-of-tick balance of each bank shown, with its unsecured credit and the credit its "
        "collateral gives as bands below zero; with more banks than --top, a last panel shows "
        "the other banks' range and median. Source: agent_tick_metrics carried forward over "
        "tick_metrics; credit lines from the agents table and collateral and credit-line events.",
        lambda d: balances_figure(d.balances),
    ),
    RunFigure(
        "queues",
        "Queue sizes and queued value",
        "Original payments that had arrived and were neither settled nor dropped at the end of "
        "each tick (in a bank's own queue or the central queue), by sender. Source: payments.",
        lambda d: queues_figure(d.queues),
    ),
    RunFigure(
        "settlement",
        "Settlement rate and value by tick",
        "Value arriving and value settled per tick, and the share of original payments (count "
        "and value) settled so far. Source: tick_metrics and payments.",
        lambda d: settlement_figure(d.flows),
    ),
    RunFigure(
        "costs",
        "Costs per bank per day by component",
        "Costs by component per bank over the run and per day over all banks, and each bank's "
        "total cost per day. Source: daily_agent_metrics (Store.costs).",
        lambda d: costs_figure(d.costs, d.top, d.others),
    ),
    RunFigure(
        "lsm",
        "LSM activity",
        "Groups the liquidity-saving mechanism settled (entry offsets, bilateral offsets, "
        "cycles, multilateral groups) and the payments they settled; liquidity saved is a "
        "group's gross value minus the liquidity its settlement needed. Source: LSM group "
        "events (filtered by type) and tick_metrics.",
        lambda d: lsm_figure(d.lsm, d.flows),
    ),
    RunFigure(
        "delays",
        "Largest delays",
        "The payments that waited longest from arrival (to settlement, or to the end of the "
        "stored days when still unsettled), with their deadlines; and the distribution of "
        "settlement delays. Source: payments.",
        lambda d: delays_figure(d.delays),
    ),
)


def run_report(store: Store, ref: str, *, top: int, delays: int = 20) -> Report:
    """The report of run ``ref`` (an id or a unique prefix).

    Raises :class:`paysim.store.NotFoundError` for an unknown or ambiguous id.
    """
    data = read_run(store, ref, top=top, delays=delays)
    sim = data.simulation
    sid = str(sim["simulation_id"])
    figures = [FigureSpec(f.name, f.title, f.caption, f.draw(data)) for f in RUN_FIGURES]
    intro, tables = run_tables(data)
    blocks = [
        *tables,
        Text("scenario", "Scenario file", str(sim.get("scenario_text") or "(not stored)")),
        policy_documents(data),
    ]
    where = sim.get("scenario") or "an in-memory scenario"
    subtitle = f"{where} · seed {sim['seed']} · status {sim['status']}"
    top_note = (
        f"{len(data.top)} banks shown one by one (largest total cost first), "
        f"{len(data.others)} folded into “others”"
        if data.others
        else f"all {len(data.top)} banks shown one by one"
    )
    return Report(
        kind="run",
        ident=sid,
        title=f"paysim run {sid}",
        subtitle=subtitle,
        meta=[*run_meta(data), ("banks in figures", top_note)],
        figures=figures,
        blocks=blocks,
        intro=intro,
        footer=f"Report written by paysim {paysim.__version__}; amounts in currency units "
        "(integer cents / 100).",
    )
