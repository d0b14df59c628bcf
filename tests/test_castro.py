"""The Castro et al. two-period game, pinned cell by cell against the paper's closed form.

``tests/castro_model.py`` holds the closed form and the scenario builder;
``scenarios/castro_2period.yaml`` is the paper's game written out. Every engine cost here must
equal the closed form to the cent (the games are chosen so that no rounding can occur:
``castro_model.is_exact``).
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import paysim
from paysim.config import Scenario, load_scenario
from paysim.config.loader import scenario_from_dict
from tests import castro_model as cm
from tests.cli_support import SCENARIOS

CASTRO = SCENARIOS / "castro_2period.yaml"
CELLS = [(k_a, k_b) for k_a in range(cm.GRID + 1) for k_b in range(cm.GRID + 1)]


def _engine_costs(summary: object) -> tuple[int, int]:
    assert isinstance(summary, dict), summary
    agents = summary["agents"]
    a, b = agents["BANK_A"]["costs"]["total"], agents["BANK_B"]["costs"]["total"]
    assert isinstance(a, int) and isinstance(b, int)
    return a, b


def _run_cells(
    scenario: Scenario | str, cells: list[tuple[int, int]]
) -> dict[tuple[int, int], tuple[int, int]]:
    overrides: list[dict[str, object] | None] = [cm.overrides(*c) for c in cells]
    results = paysim.run_many(scenario, [1] * len(cells), overrides=overrides)
    return {c: _engine_costs(r) for c, r in zip(cells, results, strict=True)}


@pytest.fixture(scope="module")
def paper_grid() -> dict[tuple[int, int], tuple[int, int]]:
    """Both banks' engine costs in every cell of the grid, from the scenario file."""
    return _run_cells(str(CASTRO), CELLS)


def test_the_scenario_file_is_the_papers_game() -> None:
    from_file = load_scenario(CASTRO).model_dump(exclude={"description"})
    built = scenario_from_dict(cm.scenario(cm.PAPER, 0, 4)).model_dump(exclude={"description"})
    assert from_file == built
    assert cm.unit(cm.PAPER) == 5_000 and cm.is_exact(cm.PAPER)


def test_every_cell_of_the_grid_matches_the_closed_form(
    paper_grid: dict[tuple[int, int], tuple[int, int]],
) -> None:
    engine = paper_grid
    mismatches = {
        cell: (got, cm.costs(cm.PAPER, *cell))
        for cell, got in engine.items()
        if tuple(Fraction(c) for c in got) != cm.costs(cm.PAPER, *cell)
    }
    assert mismatches == {}
    # A few cells by hand (cents, B = 100,000): at the equilibrium (0, 0.2) A pays nothing
    # and B 0.1 × 20,000; with B at 0.1, B delays 5,000 (× 0.2) and borrows 10,000 (× 0.4)
    # on top of 0.1 × 10,000, and A borrows the 5,000 B did not send it (× 0.4).
    assert engine[(0, 4)] == (0, 2_000)
    assert engine[(0, 2)] == (2_000, 1_000 + 1_000 + 4_000)
    assert engine[(20, 0)] == (10_000, 3_000 + 8_000)
    assert engine[(3, 3)] == (1_500, 1_500 + 2_000)


def test_the_papers_equilibrium_is_the_only_one_and_the_engine_agrees(
    paper_grid: dict[tuple[int, int], tuple[int, int]],
) -> None:
    assert cm.pure_equilibria(cm.PAPER) == [(0, 4)]
    # The best responses of §4: A's is 0.15 − min(ℓB, 0.15), B's is always 0.20.
    br = cm.best_responses(cm.PAPER)
    assert br["A"] == [3, 2, 1] + [0] * 18 and br["B"] == [4] * 21
    engine = paper_grid
    for k_other in range(cm.GRID + 1):
        row_a = [engine[(k, k_other)][0] for k in range(cm.GRID + 1)]
        row_b = [engine[(k_other, k)][1] for k in range(cm.GRID + 1)]
        assert row_a.index(min(row_a)) == br["A"][k_other]
        assert row_b.index(min(row_b)) == br["B"][k_other]


@pytest.mark.parametrize(
    ("game", "equilibrium"),
    [(cm.SYMMETRIC, (2, 2)), (cm.FRONT_LOADED, (2, 6))],
    ids=["symmetric", "front_loaded"],
)
def test_other_settings_best_responses_from_the_engine(
    game: cm.Game, equilibrium: tuple[int, int]
) -> None:
    assert cm.is_exact(game)
    assert cm.pure_equilibria(game) == [equilibrium]
    scenario = scenario_from_dict(cm.scenario(game))
    engine = _run_cells(scenario, CELLS)
    br = cm.best_responses(game)
    for cell, got in engine.items():
        assert tuple(Fraction(c) for c in got) == cm.costs(game, *cell), cell
    for k_other in range(cm.GRID + 1):
        row_a = [engine[(k, k_other)][0] for k in range(cm.GRID + 1)]
        row_b = [engine[(k_other, k)][1] for k in range(cm.GRID + 1)]
        assert row_a.index(min(row_a)) == br["A"][k_other]
        assert row_b.index(min(row_b)) == br["B"][k_other]


@st.composite
def exact_games(draw: st.DrawFn) -> tuple[cm.Game, int, int]:
    """Random demands and rates r_c < r_d < r_b (basis points), with a unit of a multiple of
    200.00 so that every cost is whole cents, and random choices."""
    unit = draw(st.sampled_from([20_000, 40_000, 100_000]))
    per_step = draw(st.sampled_from([1, 2]))
    units = st.integers(min_value=0, max_value=12 * per_step)
    p = [draw(units) * unit for _ in range(4)]
    rates = sorted(draw(st.sets(st.integers(1, 10_000), min_size=3, max_size=3)))
    game = cm.Game(
        pool=cm.GRID * per_step * unit,
        a=cm.Demand(p[0], p[1]),
        b=cm.Demand(p[2], p[3]),
        r_c_bps=rates[0],
        r_d_bps=rates[1],
        r_b_bps=rates[2],
    )
    k = st.integers(min_value=0, max_value=cm.GRID)
    return game, draw(k), draw(k)


@settings(max_examples=60, deadline=None)
@given(exact_games())
def test_random_games_match_the_closed_form(case: tuple[cm.Game, int, int]) -> None:
    game, k_a, k_b = case
    assert cm.is_exact(game)
    scenario = scenario_from_dict(cm.scenario(game, k_a, k_b))
    (result,) = paysim.run_many(scenario, [1])
    got = _engine_costs(result)
    assert tuple(Fraction(c) for c in got) == cm.costs(game, k_a, k_b)
    # The closed form's best response is the paper's formula P_1 + max(P_2 − R_1, 0), capped
    # at the pool: exactly when that is on the grid, else one of the two grid points around it.
    step = game.pool // cm.GRID
    cases: list[tuple[cm.BankId, cm.Demand, int]] = [("A", game.b, k_b), ("B", game.a, k_a)]
    for bank, other, k_other in cases:
        own = game.demand(bank)
        received = min(cm.liquidity(game, k_other), other.p1)
        want = min(own.p1 + max(own.p2 - received, 0), game.pool)
        best = cm.liquidity(game, cm.best_response(game, bank, k_other))
        if want % step == 0:
            assert best == want
        else:
            assert best in (want // step * step, (want // step + 1) * step)
