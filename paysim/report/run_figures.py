"""The figures of a run: one function per figure, taking data and returning a ``Figure``.

Each function takes only the data it draws (built by :mod:`paysim.report.run_data`), so it can
be called on its own, e.g. in a notebook, and tested without a store. Per-tick series arrive
folded into the buckets of a :class:`~paysim.report.axis.TickAxis`; with many banks the ``top``
banks are drawn one by one and the others as one aggregate.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from paysim.report.axis import OTHERS, FloatArray, TickAxis
from paysim.report.run_data import COMPONENTS, Balances, Costs, Delays, Flows, Queues
from paysim.report.run_events import MECHANISMS, LsmGroups
from paysim.report.style import (
    COLLATERAL_COLOUR,
    COMPONENT_COLOURS,
    MECHANISM_COLOURS,
    UNSECURED_COLOUR,
    bank_colours,
    day_lines,
    money_axis,
    new_figure,
    note,
    tick_label,
)


def _edges(axis: TickAxis) -> FloatArray:
    starts = axis.starts().astype(np.float64)
    return np.append(starts, float(axis.t0 + axis.buckets * axis.width))


def _fill(
    ax: Axes,
    edges: FloatArray,
    top: object,
    base: object = 0.0,
    *,
    color: str,
    alpha: float = 1.0,
    label: str | None = None,
) -> None:
    """A filled band between two per-bucket series drawn as steps (``fill_between`` is much
    cheaper for matplotlib than ``stairs`` on long series)."""
    n = edges.size - 1
    hi = np.broadcast_to(np.asarray(top, dtype=np.float64), (n,))
    lo = np.broadcast_to(np.asarray(base, dtype=np.float64), (n,))
    ax.fill_between(
        edges,
        np.append(lo, lo[-1]),
        np.append(hi, hi[-1]),
        step="post",
        linewidth=0,
        color=color,
        alpha=alpha,
        label=label,
    )


def _steps(
    ax: Axes,
    edges: FloatArray,
    values: FloatArray,
    *,
    color: str,
    linewidth: float = 1.2,
    label: str | None = None,
) -> None:
    """A per-bucket series as a step line."""
    ax.plot(
        edges,
        np.append(values, values[-1]),
        drawstyle="steps-post",
        color=color,
        linewidth=linewidth,
        label=label,
    )


def _label(name: str) -> str:
    return name.replace("_", " ")


def balances_figure(data: Balances) -> Figure:
    """End-of-tick balance per bank, one panel per bank shown, with its credit lines as bands:
    unsecured intraday credit from 0 down to ``-unsecured_cap``, then the credit its collateral
    gives. A last panel shows the other banks' range and median."""
    axis = data.axis
    panels = len(data.banks) + (1 if data.others is not None else 0)
    if panels == 0 or axis.buckets == 0:
        fig = new_figure(2.0)
        note(fig.add_subplot(), "no complete day stored: no balances to show")
        return fig
    cols = min(3, panels)
    rows = math.ceil(panels / cols)
    fig = new_figure(0.6 + 2.3 * rows)
    axes = fig.subplots(rows, cols, sharex=True, squeeze=False).ravel()
    edges = _edges(axis)
    colours = bank_colours([b.agent_id for b in data.banks])
    folded = axis.width > 1
    bands = {"unsecured": False, "collateral": False}
    for ax, bank in zip(axes, data.banks, strict=False):
        cap, coll = bank.unsecured_cap, bank.collateral_credit
        if np.any(cap > 0):
            _fill(ax, edges, -cap, 0.0, color=UNSECURED_COLOUR, alpha=0.3)
            bands["unsecured"] = True
        if np.any(coll > 0):
            _fill(ax, edges, -(cap + coll), -cap, color=COLLATERAL_COLOUR, alpha=0.4)
            bands["collateral"] = True
        colour = colours[bank.agent_id]
        if folded:
            _fill(ax, edges, bank.high, bank.low, color=colour, alpha=0.3)
        _steps(ax, edges, bank.low, color=colour, linewidth=1.2)
        ax.axhline(0.0, color="#333333", linewidth=0.6)
        ax.set_title(bank.agent_id, loc="left")
        money_axis(ax)
        day_lines(ax, axis)
    if data.others is not None:
        ax = axes[len(data.banks)]
        o = data.others
        _fill(ax, edges, o.high, o.low, color="#b0b0b0", alpha=0.5)
        _steps(ax, edges, o.median, color="#555555", linewidth=1.0)
        ax.axhline(0.0, color="#333333", linewidth=0.6)
        ax.set_title(f"{o.count} other banks: range and median", loc="left")
        money_axis(ax)
        day_lines(ax, axis)
    for ax in axes[panels:]:
        ax.set_visible(False)
    for i, ax in enumerate(axes[:panels]):
        tick_label(ax, axis)
        below = i + cols < panels  # a panel below shows the tick axis
        if below:
            ax.set_xlabel("")
        ax.tick_params(labelbottom=not below)
    handles = []
    if bands["unsecured"]:
        handles.append(_patch(UNSECURED_COLOUR, 0.3, "unsecured credit (below 0)"))
    if bands["collateral"]:
        handles.append(_patch(COLLATERAL_COLOUR, 0.4, "credit from collateral"))
    if folded:
        handles.append(_patch("#888888", 0.3, f"lowest–highest balance {axis.unit()}"))
    if handles:
        fig.legend(handles=handles, loc="outside upper right", ncols=len(handles), frameon=False)
    line = "lowest end-of-tick balance" if folded else "end-of-tick balance"
    fig.suptitle(f"Balances ({line}, currency units)", x=0.01, ha="left")
    return fig


def _patch(colour: str, alpha: float, label: str) -> Patch:
    return Patch(facecolor=colour, alpha=alpha, label=label)


def _stacked(ax: Axes, edges: FloatArray, series: list[tuple[str, FloatArray, str]]) -> None:
    base = np.zeros(edges.size - 1)
    for label, values, colour in series:
        top = base + values
        _fill(ax, edges, top, base, color=colour, label=label, alpha=0.85)
        base = top


def queues_figure(data: Queues) -> Figure:
    """Payments waiting (arrived, neither settled nor dropped) at the end of each tick, by
    sender: their number and their value, stacked."""
    axis = data.axis
    if axis.buckets == 0 or not any(np.any(data.count[g] > 0) for g in data.groups):
        fig = new_figure(2.0)
        why = "no complete day stored" if axis.buckets == 0 else "no payment ever waited"
        note(fig.add_subplot(), f"{why}: no queue at the end of any tick")
        fig.suptitle("Queued payments", x=0.01, ha="left")
        return fig
    fig = new_figure(5.6)
    top, bottom = fig.subplots(2, 1, sharex=True)
    edges = _edges(axis)
    colours = bank_colours([g for g in data.groups if g != OTHERS])
    series = [(g, data.count[g], colours[g]) for g in data.groups]
    _stacked(top, edges, series)
    _stacked(bottom, edges, [(g, data.value[g], colours[g]) for g in data.groups])
    fold = "" if axis.width == 1 else f" (largest {axis.unit()})"
    top.set_ylabel("payments waiting" + fold)
    bottom.set_ylabel("value waiting" + fold)
    money_axis(bottom)
    for ax in (top, bottom):
        day_lines(ax, axis)
        ax.set_ylim(bottom=0)
    tick_label(bottom, axis)
    top.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), title="sender", frameon=False)
    fig.suptitle("Queued payments (banks' queues and the central queue)", x=0.01, ha="left")
    return fig


def settlement_figure(data: Flows) -> Figure:
    """Value arriving and value settled per bucket, and the cumulative settlement rate of
    original payments by count and by value."""
    axis = data.axis
    fig = new_figure(5.6)
    if axis.buckets == 0:
        note(fig.add_subplot(), "no complete day stored: no settlements to show")
        return fig
    top, bottom = fig.subplots(2, 1, sharex=True)
    edges = _edges(axis)
    _steps(top, edges, axis.fold_sum(data.arrival_value), color="#7f7f7f", label="arriving")
    _steps(
        top, edges, axis.fold_sum(data.moved_value), color="#1f77b4", label="settled (pieces too)"
    )
    top.set_ylabel(f"value {axis.unit()}")
    money_axis(top)
    top.legend(loc="upper right", frameon=False)
    arrived = np.cumsum(data.arrivals)
    arrived_value = np.cumsum(data.arrival_value)
    with np.errstate(divide="ignore", invalid="ignore"):
        by_count = np.where(arrived > 0, np.cumsum(data.settled) / arrived, np.nan) * 100.0
        by_value = (
            np.where(arrived_value > 0, np.cumsum(data.settled_value) / arrived_value, np.nan)
            * 100.0
        )
    _steps(bottom, edges, axis.fold_last(by_count), color="#2ca02c", label="by count")
    _steps(bottom, edges, axis.fold_last(by_value), color="#9467bd", label="by value")
    bottom.set_ylabel("settled so far (% of arrived)")
    finite = np.concatenate([by_count[np.isfinite(by_count)], by_value[np.isfinite(by_value)]])
    low = float(finite.min()) if finite.size else 0.0
    bottom.set_ylim(max(0.0, min(low - 2.0, 95.0)), 100.5)
    bottom.legend(loc="lower right", frameon=False)
    for ax in (top, bottom):
        day_lines(ax, axis)
    tick_label(bottom, axis)
    fig.suptitle("Settlement: value by tick and cumulative settlement rate", x=0.01, ha="left")
    return fig


def costs_figure(costs: Costs, shown: list[str], others: list[str]) -> Figure:
    """Costs by component: per bank over the run (the banks shown one by one, and the mean of
    the others per bank, so that one bar stays comparable with another), per day over all
    banks, and each bank's total cost per day."""
    used = [c for c in COMPONENTS if any(cell.get(c, 0) for cell in costs.cells.values())]
    if not used:
        fig = new_figure(2.0)
        note(fig.add_subplot(), "no bank paid any cost in this run")
        return fig
    rows = [*shown, *([OTHERS] if others else [])]
    per_bank: dict[str, dict[str, float]] = {
        b: {k: float(v) for k, v in costs.by_agent(b).items()} for b in shown
    }
    if others:
        mean = dict.fromkeys((*COMPONENTS, "total"), 0.0)
        for b in others:
            for key, value in costs.by_agent(b).items():
                mean[key] += value / len(others)
        per_bank[OTHERS] = mean
    labels = [b if b != OTHERS else f"{len(others)} others (mean)" for b in rows]
    height = max(3.2, 1.2 + 0.28 * len(rows))
    fig = new_figure(height + 0.6 + max(1.6, 0.3 * len(costs.days)) + 1.0)
    grid = fig.add_gridspec(2, 2, height_ratios=[height, max(1.6, 0.3 * len(costs.days)) + 1.0])
    ax_bank = fig.add_subplot(grid[0, 0])
    ax_day = fig.add_subplot(grid[0, 1])
    ax_heat = fig.add_subplot(grid[1, :])
    y = np.arange(len(rows))
    left = np.zeros(len(rows))
    for comp in used:
        width = np.asarray([per_bank[b][comp] for b in rows], dtype=np.float64)
        ax_bank.barh(y, width, left=left, color=COMPONENT_COLOURS[comp], label=_label(comp))
        left += width
    ax_bank.set_yticks(y, labels)
    ax_bank.invert_yaxis()
    money_axis(ax_bank, "x")
    ax_bank.set_title("per bank, whole run", loc="left")
    days = costs.days
    x = np.arange(len(days))
    bottom = np.zeros(len(days))
    for comp in used:
        h = np.asarray([costs.by_day(d)[comp] for d in days], dtype=np.float64)
        ax_day.bar(x, h, bottom=bottom, color=COMPONENT_COLOURS[comp])
        bottom += h
    ax_day.set_xticks(x, [str(d) for d in days])
    ax_day.set_xlabel("day")
    money_axis(ax_day)
    ax_day.set_title("per day, all banks", loc="left")
    fig.legend(loc="outside upper right", ncols=len(used), frameon=False)
    matrix = np.asarray(
        [[_day_total(costs, d, b, others) for d in days] for b in rows], dtype=np.float64
    ).T
    image = ax_heat.imshow(matrix, aspect="auto", cmap="Reds", interpolation="nearest")
    ax_heat.set_xticks(np.arange(len(rows)), labels, rotation=30, ha="right")
    ax_heat.set_yticks(np.arange(len(days)), [f"day {d}" for d in days])
    ax_heat.grid(False)
    ax_heat.set_title("total cost per bank per day", loc="left")
    bar = fig.colorbar(image, ax=ax_heat, fraction=0.025, pad=0.01)
    money_axis(bar.ax)
    fig.suptitle("Costs by component (currency units)", x=0.01, ha="left")
    return fig


def _day_total(costs: Costs, day: int, bank: str, others: list[str]) -> float:
    banks = others if bank == OTHERS else [bank]
    total = sum(costs.cells.get((day, b), {}).get("total", 0) for b in banks)
    return total / len(banks) if banks else 0.0


def lsm_figure(groups: LsmGroups, flows: Flows) -> Figure:
    """What the liquidity-saving mechanism did: groups settled per bucket by mechanism, the
    payments they settled, and the liquidity they saved (gross value minus the liquidity the
    settlement needed), with its running total."""
    axis = flows.axis
    if groups.ticks.size == 0:
        fig = new_figure(2.0)
        note(fig.add_subplot(), "the liquidity-saving mechanism settled nothing in this run")
        fig.suptitle("LSM activity", x=0.01, ha="left")
        return fig
    fig = new_figure(5.6)
    top, bottom = fig.subplots(2, 1, sharex=True)
    edges = _edges(axis)
    buckets = (groups.ticks - axis.t0) // axis.width
    inside = (buckets >= 0) & (buckets < axis.buckets)
    mechs = [m for m in MECHANISMS if m in set(groups.mechanisms)]
    counts: list[tuple[str, FloatArray, str]] = []
    saved: list[tuple[str, FloatArray, str]] = []
    names = np.asarray(groups.mechanisms)
    for mech in mechs:
        sel = inside & (names == mech)
        colour = MECHANISM_COLOURS[mech]
        n = np.bincount(buckets[sel], minlength=axis.buckets).astype(np.float64)
        value = np.bincount(
            buckets[sel], weights=groups.saved[sel].astype(np.float64), minlength=axis.buckets
        ).astype(np.float64)
        counts.append((mech, n, colour))
        saved.append((mech, value, colour))
    _stacked(top, edges, counts)
    twin = top.twinx()
    _steps(
        twin,
        edges,
        axis.fold_sum(flows.lsm_settled),
        color="#333333",
        linewidth=0.8,
        label="payments settled by offsetting (right)",
    )
    twin.set_ylabel("payments")
    twin.grid(False)
    top.set_ylabel(f"groups settled {axis.unit()}")
    for ax in (top, twin):
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylim(bottom=0)
    _stacked(bottom, edges, saved)
    total: FloatArray = np.cumsum(np.sum([s for _, s, _ in saved], axis=0))
    run = bottom.twinx()
    _steps(run, edges, total, color="#333333", linewidth=1.0, label="saved so far (right)")
    run.set_ylabel("saved so far")
    run.set_ylim(bottom=0)
    run.grid(False)
    money_axis(run)
    handles = [
        *(_patch(MECHANISM_COLOURS[m], 0.85, m) for m in mechs),
        *twin.get_legend_handles_labels()[0],
        *run.get_legend_handles_labels()[0],
    ]
    fig.legend(handles=handles, loc="outside upper right", ncols=len(handles), frameon=False)
    bottom.set_ylabel(f"liquidity saved {axis.unit()}")
    money_axis(bottom)
    for ax in (top, bottom):
        day_lines(ax, axis)
    tick_label(bottom, axis)
    fig.suptitle("LSM activity (offsets, cycles and multilateral groups)", x=0.01, ha="left")
    return fig


def delays_figure(delays: Delays) -> Figure:
    """The payments that waited longest (settled late, or still waiting when the stored days
    end) with their deadlines, and the distribution of settlement delays."""
    fig = new_figure(max(4.0, 1.2 + 0.22 * len(delays.largest)))
    if not delays.largest:
        note(fig.add_subplot(), "no payment settled or waited in this run")
        return fig
    left, right = fig.subplots(1, 2, width_ratios=[3, 2])
    rows = delays.largest
    y = np.arange(len(rows))
    colours = ["#d62728" if r.status == "unsettled" else "#1f77b4" for r in rows]
    left.barh(y, [r.delay for r in rows], color=colours)
    allowed = [r.deadline_tick - r.arrival_tick for r in rows]
    left.scatter(allowed, y, marker="|", s=120, color="#222222", zorder=3, label="deadline")
    left.set_yticks(y, [f"{r.tx_id} {r.sender}→{r.receiver}" for r in rows], fontsize=7)
    left.invert_yaxis()
    left.set_xlabel("ticks from arrival")
    left.set_title(f"{len(rows)} largest delays", loc="left")
    left.legend(
        handles=[
            _patch("#1f77b4", 1.0, "settled"),
            _patch("#d62728", 1.0, "still waiting at the end"),
            left.collections[0],
        ],
        loc="lower right",
        frameon=False,
    )
    if delays.histogram:
        values = np.asarray([d for d, _ in delays.histogram], dtype=np.float64)
        counts = np.asarray([n for _, n in delays.histogram], dtype=np.float64)
        bins = min(40, int(values.max()) + 1)
        right.hist(values, bins=bins, weights=counts, color="#1f77b4")
        right.set_yscale("log")
        right.set_xlabel("settlement delay (ticks)")
        right.set_ylabel("settled payments")
        right.set_title("all settled payments", loc="left")
    else:
        note(right, "no payment settled")
    fig.suptitle("Largest delays", x=0.01, ha="left")
    return fig
