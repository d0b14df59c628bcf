"""Best-response dynamics on games whose payoffs are written down directly: the engine is
replaced by an evaluator that prices a candidate by formula, so the dynamics (turns, ties,
convergence, cycle detection, the certificate) are checked against hand-derived answers."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from paysim.optimize import Plan, load_plan
from paysim.optimize.equilibrium import BestResponseSearch
from paysim.optimize.evaluate import Batch, Evaluator
from paysim.optimize.space import Candidate
from tests.cli_support import REPO

CASTRO = REPO / "scenarios" / "castro_2period.yaml"
Costs = Callable[[float, float], tuple[float, float]]


class FormulaEvaluator(Evaluator):
    """Prices (a, b) = the two banks' initial liquidity fractions by ``costs``."""

    def __init__(self, costs: Costs) -> None:
        self.costs = costs
        self.calls = 0

    def run(self, candidates: Sequence[Candidate], seeds: Sequence[int]) -> Batch:
        self.calls += 1
        rows: list[list[Mapping[str, object]]] = []
        for c in candidates:
            a = c.params["BANK_A"]["initial_liquidity_fraction"]
            b = c.params["BANK_B"]["initial_liquidity_fraction"]
            ca, cb = self.costs(a, b)
            summary: dict[str, object] = {
                "totals": {"total_cost": ca + cb},
                "agents": {"BANK_A": {"costs": {"total": ca}}, "BANK_B": {"costs": {"total": cb}}},
            }
            rows.append([summary for _ in seeds])
        return Batch(rows, 0.0, 0.0)


def plan_for(tmp_path: Path, search: str, mode: str = "best_response") -> Plan:
    spec = tmp_path / "game.yaml"
    entry = f"{{policy: castro_liquidity, search: {{initial_liquidity_fraction: {search}}}}}"
    spec.write_text(
        f"scenario: {CASTRO}\nmode: {mode}\nagents:\n"
        f"  BANK_A: {entry}\n  BANK_B: {entry}\n"
        "evaluation: {seeds: 1}\nbest_response: {tolerance: 0.0, max_rounds: 10}\n"
        f"output: {tmp_path / 'out'}\n"
    )
    return load_plan(spec)


def test_matching_pennies_cycles_and_the_certificate_says_so(tmp_path: Path) -> None:
    # A wants to match B, B wants to differ. From (0, 0): round 1 ends at (0, 1) (A already
    # matches; B moves), round 2 at (1, 0), round 3 at (0, 1) again: a cycle of two profiles.
    plan = plan_for(tmp_path, "[0.0, 1.0]")

    def pennies(a: float, b: float) -> tuple[float, float]:
        return (0.0, 1.0) if a == b else (1.0, 0.0)

    eq = BestResponseSearch(plan, FormulaEvaluator(pennies)).run()
    assert eq.status == "cycle"
    assert eq.rounds == 3
    assert eq.cycle == [
        {
            "BANK_A": {"BANK_A.initial_liquidity_fraction": 0.0},
            "BANK_B": {"BANK_B.initial_liquidity_fraction": 1.0},
        },
        {
            "BANK_A": {"BANK_A.initial_liquidity_fraction": 1.0},
            "BANK_B": {"BANK_B.initial_liquidity_fraction": 0.0},
        },
    ]
    assert [
        (s.round, s.agent, s.assignment[f"{s.agent}.initial_liquidity_fraction"]) for s in eq.path
    ] == [
        (1, "BANK_A", 0.0),
        (1, "BANK_B", 1.0),
        (2, "BANK_A", 1.0),
        (2, "BANK_B", 0.0),
        (3, "BANK_A", 0.0),
        (3, "BANK_B", 1.0),
    ]
    # At (0, 1) A gains 1 by switching to 1: an ε-equilibrium with ε = 1, not an equilibrium.
    assert eq.epsilon == 1.0
    gains = {c.agent: c.gain for c in eq.agents}
    assert gains == {"BANK_A": 1.0, "BANK_B": 0.0}


def test_best_responses_on_a_grid_converge_to_the_fixed_point(tmp_path: Path) -> None:
    # cost_A = (a − (0.5·b + 0.2))², cost_B = (b − 0.5·a)²: best responses a = 0.5·b + 0.2 and
    # b = 0.5·a, which meet at (0.8/3, 0.4/3). On the grid of step 0.05, from the policy's
    # value (0.5, 0.5): A → 0.45; B's target 0.225 is halfway between 0.2 and 0.25, a tie
    # broken towards B's current 0.5 → 0.25; A's 0.325 → 0.35 (towards 0.45); B's 0.175 →
    # 0.2; A → 0.3, B → 0.15; then A's 0.275 ties 0.25/0.3 → stays 0.3, B stays: converged.
    plan = plan_for(tmp_path, "{min: 0.0, max: 1.0, step: 0.05}")

    def quadratic(a: float, b: float) -> tuple[float, float]:
        return (a - (0.5 * b + 0.2)) ** 2, (b - 0.5 * a) ** 2

    evaluator = FormulaEvaluator(quadratic)
    eq = BestResponseSearch(plan, evaluator).run()
    assert eq.status == "converged"
    a = eq.profile["BANK_A"]["BANK_A.initial_liquidity_fraction"]
    b = eq.profile["BANK_B"]["BANK_B.initial_liquidity_fraction"]
    assert (a, b) == (0.3, 0.15)
    assert abs(float(a) - 0.8 / 3) <= 0.05 and abs(float(b) - 0.4 / 3) <= 0.05
    moves = [s.assignment[f"{s.agent}.initial_liquidity_fraction"] for s in eq.path]
    assert moves == [0.45, 0.25, 0.35, 0.2, 0.3, 0.15, 0.3, 0.15]
    assert eq.rounds == 4
    assert eq.epsilon == 0.0
    # Each step is one engine call for the whole grid (21 candidates), not 21 calls.
    assert evaluator.calls == len(eq.path) + 1 + 2  # steps, the profile, one per certificate
