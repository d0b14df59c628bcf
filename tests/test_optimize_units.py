"""Units of paysim.optimize that need no engine run: constraint expressions, aggregation over
seeds, dimensions and grids. Numbers are computed by hand."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paysim.optimize.constraints import ConstraintSyntaxError, compare, parse_constraint
from paysim.optimize.evaluate import aggregate
from paysim.optimize.space import Dimension, grid_of, start_value

AGENTS = ["BANK_A", "BANK.B", "BANK-C"]


def summary(rate: float, eod_a: int, total: int) -> dict[str, object]:
    costs = {"eod_penalty": eod_a, "total": total}
    return {
        "totals": {"settlement_rate": rate, "total_cost": total, "avg_settlement_delay": 2.5},
        "costs": {"delay": 7, "eod_penalty": eod_a},
        "agents": {
            "BANK_A": {"costs": costs, "peak_net_debit": 300},
            "BANK.B": {"costs": {"total": 11}, "settlement_delay": 4},
            "BANK-C": {"costs": {"total": 5}},
        },
    }


@pytest.mark.parametrize(
    ("text", "summaries", "expected"),
    [
        # mean rate 0.9995 >= 0.999 → 0.999 − 0.9995 = −0.0005 (feasible)
        ("settlement_rate >= 0.999", [summary(1.0, 0, 10), summary(0.999, 0, 10)], -0.0005),
        # mean rate 0.995 → 0.004 (infeasible)
        ("totals.settlement_rate >= 0.999", [summary(0.99, 0, 1), summary(1.0, 0, 1)], 0.004),
        # |mean(0, 40) − 0| = 20
        ("agents.BANK_A.costs.eod_penalty == 0", [summary(1, 0, 1), summary(1, 40, 1)], 20.0),
        # an agent id with a dot, matched whole: 11 <= 10 → 1
        ("agents.BANK.B.costs.total <= 10", [summary(1, 0, 1)], 1.0),
        # brackets for an id with a dash; arithmetic: 5 * 2 + 1 = 11 < 12 → −1
        ('agents["BANK-C"].costs.total * 2 + 1 < 12', [summary(1, 0, 1)], -1.0),
        # parentheses and unary minus: −(7 − 10) = 3 > 2 → −1
        ("-(costs.delay - 10) > 2", [summary(1, 0, 1)], -1.0),
        # both sides metrics: 300 <= 2.5 * 100 → 50
        ("agents.BANK_A.peak_net_debit <= avg_settlement_delay * 100", [summary(1, 0, 1)], 50.0),
    ],
)
def test_constraint_values(text: str, summaries: list[dict[str, object]], expected: float) -> None:
    c = parse_constraint(text, AGENTS)
    assert c.value(summaries) == pytest.approx(expected)


def test_strict_comparisons_make_equality_infeasible() -> None:
    assert compare("<", 1.0, 1.0) > 0
    assert compare(">", 1.0, 1.0) > 0
    assert compare("<=", 1.0, 1.0) == 0
    assert compare("<", 0.5, 1.0) == -0.5


@pytest.mark.parametrize(
    ("text", "column", "fragment", "suggestion"),
    [
        ("settlment_rate >= 0.999", 1, "not a key of the summary's totals", "settlement_rate"),
        ("agents.BANK_Z.costs.total <= 1", 1, "no agent `BANK_Z.costs.total`", "BANK_A"),
        ("agents.BANK_A.costs.eod <= 1", 1, "not a number of an agent", None),
        ("settlement_rate", 16, "expected a comparison", None),
        ("settlement_rate >= ", 20, "the text ended", None),
        ("settlement_rate >= 1 1", 22, "unexpected text after", None),
        ("settlement_rate >= __import__('os')", 20, "not a key of the summary", None),
        ("settlement_rate >= 1; x", 21, "unexpected character ';'", None),
        ("(settlement_rate >= 1", 18, "expected `)`", None),
        ("", 1, "empty constraint", None),
    ],
)
def test_constraint_errors_name_the_column(
    text: str, column: int, fragment: str, suggestion: str | None
) -> None:
    with pytest.raises(ConstraintSyntaxError) as info:
        parse_constraint(text, AGENTS)
    assert fragment in info.value.message
    assert info.value.column == column
    if suggestion is not None:
        assert suggestion in (info.value.suggestion or "")


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    with pytest.raises(ConstraintSyntaxError, match="nested too deeply"):
        parse_constraint("(" * 100 + "1" + ")" * 100 + " <= 1", AGENTS)


@given(st.text(max_size=80))
def test_any_text_parses_or_fails_cleanly(text: str) -> None:
    try:
        c = parse_constraint(text, AGENTS)
    except ConstraintSyntaxError as exc:
        assert exc.column >= 1
    else:
        assert c.op in ("<=", ">=", "==", "<", ">")


@pytest.mark.parametrize(
    ("values", "how", "alpha", "direction", "expected"),
    [
        ([1.0, 2.0, 3.0, 10.0], "mean", 0.1, "minimize", 4.0),
        ([1.0, 2.0, 3.0, 10.0], "median", 0.1, "minimize", 2.5),
        # worst 10% of 4 seeds = ceil(0.4) = 1 seed: the highest cost
        ([1.0, 2.0, 3.0, 10.0], "cvar", 0.1, "minimize", 10.0),
        # worst half: mean of 10 and 3
        ([1.0, 2.0, 3.0, 10.0], "cvar", 0.5, "minimize", 6.5),
        # maximised quantity: the worst are the lowest
        ([0.9, 1.0, 0.5, 0.7], "cvar", 0.5, "maximize", 0.6),
        ([5.0], "cvar", 1.0, "minimize", 5.0),
    ],
)
def test_aggregates(
    values: list[float], how: str, alpha: float, direction: str, expected: float
) -> None:
    assert aggregate(values, how, alpha, direction) == pytest.approx(expected)


def test_dimension_grids_and_samples() -> None:
    d = Dimension("A.x", "A", "x", "float", 0.0, 1.0, 0.25)
    assert d.grid() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert d.sample(0.6) == 0.5
    assert d.sample(0.99) == 1.0
    i = Dimension("A.n", "A", "n", "int", 2, 10, 4)
    assert i.grid() == [2.0, 6.0, 10.0]
    c = Dimension("A.p", "A", "policy", "categorical", choices=("fifo", "deadline"))
    assert c.grid() == ["fifo", "deadline"]
    assert c.distance("fifo", "fifo") == 0 and c.distance("fifo", "deadline") == 1
    cont = Dimension("A.y", "A", "y", "float", 1.0, 100.0, None, True)
    assert cont.grid() is None
    assert cont.sample(0.5) == pytest.approx(10.0)
    assert grid_of([d, i], 100) is not None and len(grid_of([d, i], 100) or []) == 15
    assert grid_of([d, i], 10) is None
    assert grid_of([d, cont], 100) is None
    assert start_value(d, 0.6) == 0.5
    assert start_value(d, 7.0) == 1.0
    assert start_value(cont, None) == 1.0
    assert math.isclose(float(start_value(cont, 50.0)), 50.0)
