"""The look shared by every figure: sizes, colours, money on axes, day separators.

Figures are plain :class:`matplotlib.figure.Figure` objects (no pyplot, so no global figure
state and no interactive backend): a figure function builds one and returns it, and
:mod:`paysim.report.render` saves it. Money is stored in integer cents and shown in currency
units, compactly on axes (``12.5k``, ``3.1M``) and with separators in tables (``1,234.56``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter
from matplotlib.typing import RcKeyType

from paysim.report.axis import OTHERS, TickAxis

WIDTH = 11.0
"""Figure width in inches (the page shows figures at up to 1,100 CSS pixels)."""

BANK_COLOURS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
)
OTHERS_COLOUR = "#b0b0b0"

COMPONENT_COLOURS = {
    "overdraft": "#d62728",
    "delay": "#ff7f0e",
    "collateral": "#1f77b4",
    "liquidity": "#17becf",
    "deadline_penalty": "#9467bd",
    "eod_penalty": "#8c564b",
    "drop_penalty": "#e377c2",
    "split_friction": "#bcbd22",
}
MECHANISM_COLOURS = {
    "entry": "#17becf",
    "bilateral": "#1f77b4",
    "cycle": "#ff7f0e",
    "multilateral": "#2ca02c",
    "partial": "#9467bd",
}
UNSECURED_COLOUR = "#f4a259"
COLLATERAL_COLOUR = "#7fb3d5"

RC: dict[RcKeyType, Any] = {
    "font.size": 9.0,
    "axes.titlesize": 10.0,
    "axes.labelsize": 9.0,
    "legend.fontsize": 8.0,
    "xtick.labelsize": 8.0,
    "ytick.labelsize": 8.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "svg.fonttype": "path",
}
"""matplotlib settings the report renders with (:func:`paysim.report.render.rendering`)."""


def new_figure(height: float, width: float = WIDTH) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


def bank_colours(banks: Sequence[str]) -> dict[str, str]:
    """A colour per bank shown one by one (in ranking order), grey for the others."""
    colours = {b: BANK_COLOURS[i % len(BANK_COLOURS)] for i, b in enumerate(banks)}
    colours[OTHERS] = OTHERS_COLOUR
    return colours


def compact(units: float) -> str:
    """``1234567.0`` → ``1.23M``: an axis label in currency units."""
    magnitude = abs(units)
    for limit, suffix in ((1e12, "T"), (1e9, "bn"), (1e6, "M"), (1e3, "k")):
        if magnitude >= limit:
            return f"{units / limit:.3g}{suffix}"
    return f"{units:.3g}" if magnitude else "0"


def money_axis(ax: Axes, which: str = "y") -> None:
    """Labels an axis holding cents in compact currency units."""
    formatter = FuncFormatter(lambda v, _pos: compact(v / 100.0))
    (ax.yaxis if which == "y" else ax.xaxis).set_major_formatter(formatter)


def money(cents: int) -> str:
    """``123456`` → ``1,234.56`` (as the CLI's tables show amounts)."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole:,}.{part:02d}"


def day_lines(ax: Axes, axis: TickAxis) -> None:
    """Dotted vertical lines where days start."""
    for tick in axis.day_starts():
        ax.axvline(tick, color="#555555", linewidth=0.6, linestyle=":", zorder=0.5)


def tick_label(ax: Axes, axis: TickAxis) -> None:
    days = axis.ticks // axis.ticks_per_day if axis.ticks_per_day else 0
    suffix = f" ({days} days of {axis.ticks_per_day} ticks)" if days > 1 else ""
    ax.set_xlabel(f"tick{suffix}")
    ax.set_xlim(axis.t0, max(axis.t1, axis.t0 + 1))


def note(ax: Axes, text: str) -> None:
    """An axes that only says why it is empty (a figure is never blank)."""
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#444444")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
