"""The figures of a study: one function per figure, taking data and returning a ``Figure``.

Optimisation history, parameter importances, slices and the Pareto front are Optuna's own
matplotlib plots (``optuna.visualization.matplotlib``) of the study rebuilt from the store
(:func:`paysim.report.study_data.joint_study`), resized to the report's width; Optuna sets its
``ggplot`` style globally, so each call runs inside its own ``rc_context``, which restores the
settings afterwards. The best-response path and the cost matrices of a two-agent grid game are
drawn here.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import matplotlib
import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from paysim.report.grid_game import GridGame
from paysim.report.style import WIDTH, new_figure, note

if TYPE_CHECKING:
    import optuna


def _optuna_figure(draw: Callable[[], object], height: float, what: str) -> Figure:
    """Runs one of Optuna's matplotlib plots and returns its figure at the report's size; a
    plot Optuna refuses (too few trials, one parameter, ...) becomes a figure saying why."""
    with matplotlib.rc_context(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ExperimentalWarning of optuna.visualization.matplotlib
        try:
            drawn = draw()
        except Exception as exc:  # Optuna's own checks, e.g. importances of one trial
            fig = new_figure(1.6)
            note(fig.add_subplot(), f"no {what}: {exc}")
            return fig
    axes = drawn.ravel()[0] if isinstance(drawn, np.ndarray) else drawn
    assert isinstance(axes, Axes)
    drawn_on = axes.figure
    assert isinstance(drawn_on, Figure)
    drawn_on.set_size_inches(WIDTH, height)
    drawn_on.set_layout_engine("constrained")
    return drawn_on


def _target(index: int, n: int) -> Callable[[optuna.trial.FrozenTrial], float] | None:
    if n == 1:
        return None
    return lambda t: float(t.values[index])


def history_figure(study: optuna.Study, index: int = 0, label: str = "objective") -> Figure:
    """Objective value of every trial and the best so far (Optuna)."""
    from optuna.visualization.matplotlib import plot_optimization_history

    n = len(study.directions)
    return _optuna_figure(
        lambda: plot_optimization_history(study, target=_target(index, n), target_name=label),
        4.2,
        "optimisation history",
    )


def importances_figure(study: optuna.Study, index: int = 0, label: str = "objective") -> Figure:
    """How much each parameter matters to the objective (Optuna's default evaluator,
    PED-ANOVA: deterministic, and needs no scikit-learn)."""
    from optuna.visualization.matplotlib import plot_param_importances

    n = len(study.directions)
    params = {k for t in study.trials for k in t.params}
    return _optuna_figure(
        lambda: plot_param_importances(study, target=_target(index, n), target_name=label),
        max(2.6, 1.4 + 0.35 * len(params)),
        "parameter importances",
    )


def slices_figure(
    study: optuna.Study, params: Sequence[str], index: int = 0, label: str = "objective"
) -> Figure:
    """The objective against each parameter, one panel per parameter (Optuna)."""
    from optuna.visualization.matplotlib import plot_slice

    n = len(study.directions)
    return _optuna_figure(
        lambda: plot_slice(study, params=list(params), target=_target(index, n), target_name=label),
        3.6,
        "slices",
    )


def pareto_figure(study: optuna.Study, labels: Sequence[str]) -> Figure:
    """The trials in objective space with the Pareto front highlighted; infeasible trials (a
    constraint above 0) are shown apart (Optuna)."""
    from optuna.visualization.matplotlib import plot_pareto_front

    def constraints(t: optuna.trial.FrozenTrial) -> Sequence[float]:
        found = [v for k, v in sorted(t.system_attrs.items()) if k.startswith("constraints")]
        return [float(v) for v in found]

    constrained = any(constraints(t) for t in study.trials)
    return _optuna_figure(
        lambda: plot_pareto_front(
            study,
            target_names=list(labels),
            constraints_func=constraints if constrained else None,
        ),
        5.0,
        "Pareto front",
    )


def br_path_figure(
    path: list[dict[str, object]],
    names: Sequence[str],
    start: dict[str, float | str] | None = None,
) -> Figure:
    """Best-response dynamics step by step: each searched parameter after every step (step 0:
    where the dynamics started, when known), and the moving agent's own objective after its
    step."""
    if not path:
        fig = new_figure(1.6)
        note(fig.add_subplot(), "no best-response step was recorded")
        return fig
    fig = new_figure(5.2)
    top, bottom = fig.subplots(2, 1, sharex=True)
    begin = start or {}
    known = all(isinstance(begin.get(n), int | float) for n in names) and bool(names)
    steps = np.arange(0 if known else 1, len(path) + 1)
    for name in names:
        first = begin.get(name)
        values: list[float] = [float(first)] if known and isinstance(first, int | float) else []
        last = values[0] if values else np.nan
        for entry in path:
            params = entry.get("params")
            if isinstance(params, dict) and isinstance(params.get(name), int | float):
                last = float(params[name])
            values.append(last)
        top.plot(steps, values, marker="o", markersize=3, drawstyle="steps-post", label=name)
    top.set_ylabel("parameter value")
    top.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    agents = list(dict.fromkeys(str(e.get("agent")) for e in path))
    for agent in agents:
        xs = [i + 1 for i, e in enumerate(path) if str(e.get("agent")) == agent]
        ys = [float(str(e.get("value"))) for e in path if str(e.get("agent")) == agent]
        bottom.plot(xs, ys, marker="o", label=agent)
    bottom.set_ylabel("own objective after its step")
    bottom.set_xlabel("step (round by round, agents in turn)")
    bottom.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    rounds = [int(str(e.get("round"))) for e in path]
    for i in range(1, len(rounds)):
        if rounds[i] != rounds[i - 1]:
            for ax in (top, bottom):
                ax.axvline(i + 0.5, color="#555555", linewidth=0.6, linestyle=":")
    bottom.set_xticks(steps)
    fig.suptitle("Best-response path", x=0.01, ha="left")
    return fig


def _mark(ax: Axes, game: GridGame) -> None:
    if len(game.path) > 1:
        xs, ys = zip(*game.path, strict=True)
        ax.plot(xs, ys, color="#222222", linewidth=1.0, alpha=0.8)
        for (x0, y0), (x1, y1) in zip(game.path, game.path[1:], strict=False):
            if (x0, y0) != (x1, y1):
                ax.annotate(
                    "",
                    xy=(x1, y1),
                    xytext=(x0, y0),
                    arrowprops={"arrowstyle": "->", "color": "#222222", "lw": 1.0},
                )
        ax.plot([xs[0]], [ys[0]], "o", color="#222222", markersize=4, label="best response: start")
    if game.planner is not None:
        ax.plot(
            *game.planner,
            "D",
            markersize=9,
            markerfacecolor="none",
            markeredgecolor="#1f77b4",
            markeredgewidth=2.0,
            label="planner's optimum",
        )
    if game.equilibrium is not None:
        ax.plot(
            *game.equilibrium,
            "*",
            markersize=13,
            color="#ffd700",
            markeredgecolor="#222222",
            label="equilibrium",
        )


def game_figure(game: GridGame) -> Figure:
    """Each agent's own cost and the planner objective over the grid, with each agent's best
    response to the other (the lowest cost in each row or column), the best-response path, the
    equilibrium and the planner's optimum."""
    fig = new_figure(4.4)
    panels = [*game.agents, "planner"]
    axes = fig.subplots(1, 3, sharey=True)
    dx = (game.x[1] - game.x[0]) / 2 if len(game.x) > 1 else 0.5
    dy = (game.y[1] - game.y[0]) / 2 if len(game.y) > 1 else 0.5
    extent = (game.x[0] - dx, game.x[-1] + dx, game.y[0] - dy, game.y[-1] + dy)
    for ax, key in zip(axes, panels, strict=True):
        matrix = game.costs[key]
        image = ax.imshow(
            matrix,
            origin="lower",
            extent=extent,
            aspect="auto",
            cmap="viridis",
            interpolation="nearest",
        )
        fig.colorbar(image, ax=ax, fraction=0.05, pad=0.02)
        if key in game.agents:
            _best_responses(ax, game, key)
        _mark(ax, game)
        title = f"{key}'s cost" if key in game.agents else f"planner: {game.planner_label}"
        ax.set_title(title, loc="left")
        ax.set_xlabel(game.dims[0])
        ax.grid(False)
    axes[0].set_ylabel(game.dims[1])
    seen: dict[str, Artist] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            seen.setdefault(label, handle)
    fig.legend(list(seen.values()), list(seen), loc="outside upper right", ncols=3, frameon=False)
    fig.suptitle("Cost matrices of the two-agent grid game", x=0.01, ha="left")
    return fig


def _best_responses(ax: Axes, game: GridGame, agent: str) -> None:
    matrix = game.costs[agent]
    if agent == game.agents[0]:  # x answers each y: the lowest cost in each row
        pts = [
            (game.x[int(np.nanargmin(row))], y)
            for row, y in zip(matrix, game.y, strict=True)
            if np.isfinite(row).any()
        ]
    else:  # y answers each x: the lowest cost in each column
        pts = [
            (x, game.y[int(np.nanargmin(col))])
            for col, x in zip(matrix.T, game.x, strict=True)
            if np.isfinite(col).any()
        ]
    if pts:
        xs, ys = zip(*pts, strict=True)
        ax.plot(
            xs,
            ys,
            "s",
            markersize=3,
            color="#ffffff",
            markeredgecolor="#444444",
            markeredgewidth=0.4,
            label=f"{agent}'s best response",
            alpha=0.9,
        )
