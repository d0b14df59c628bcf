"""Best response on the Castro et al. two-period game converges to the equilibrium the paper's
closed form gives (``tests/castro_model.py``): the paper's game (ℓA = 0, ℓB = 0.20·B) and other
demand and cost settings, each encoded as a scenario and searched on the paper's grid."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import tests.castro_model as castro
from paysim.optimize import load_plan, optimize

GAMES = {
    "paper": castro.PAPER,
    "symmetric": castro.SYMMETRIC,
    "front_loaded": castro.FRONT_LOADED,
}
STEP = 1 / castro.GRID


@pytest.mark.parametrize("name", list(GAMES))
def test_best_response_reaches_the_closed_form_equilibrium(tmp_path: Path, name: str) -> None:
    game = GAMES[name]
    assert castro.is_exact(game)
    (expected,) = castro.pure_equilibria(game)  # the closed form: one equilibrium
    scenario = tmp_path / "game.yaml"
    # Start away from the equilibrium: both banks bring in half their pool.
    scenario.write_text(yaml.safe_dump(castro.scenario(game, 10, 10)))
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        f"scenario: {scenario}\nmode: best_response\n"
        "agents:\n  BANK_A: {policy: castro_liquidity}\n  BANK_B: {policy: castro_liquidity}\n"
        "evaluation: {seeds: 1}\nbest_response: {tolerance: 0.0}\n"
        f"output: {tmp_path / 'out'}\n"
    )
    result = optimize(load_plan(spec))
    eq = result["equilibrium"]
    assert isinstance(eq, dict)
    assert eq["status"] == "converged"
    found_a = eq["profile"]["BANK_A"]["BANK_A.initial_liquidity_fraction"]
    found_b = eq["profile"]["BANK_B"]["BANK_B.initial_liquidity_fraction"]
    assert abs(found_a - castro.fraction(expected[0])) <= STEP + 1e-12
    assert abs(found_b - castro.fraction(expected[1])) <= STEP + 1e-12
    # The engine's costs are the closed form's to the cent here, so the grid equilibrium is
    # exactly the paper's, and no bank gains by deviating anywhere on the grid.
    assert (found_a, found_b) == (castro.fraction(expected[0]), castro.fraction(expected[1]))
    assert eq["certificate"]["epsilon"] == 0.0
    values = {c["agent"]: c["value"] for c in eq["certificate"]["agents"]}
    cost_a, cost_b = castro.costs(game, *expected)
    assert values == {"BANK_A": float(cost_a), "BANK_B": float(cost_b)}


def test_the_papers_equilibrium_is_the_one_in_the_paper() -> None:
    assert castro.pure_equilibria(castro.PAPER) == [(0, 4)]  # ℓA = 0, ℓB = 0.20·B
