"""The two-period initial-liquidity game of Castro et al., in closed form and as a scenario.

Castro, Desai, Du, Garratt and Rivadeneyra, "Estimating policy functions in payment systems
using reinforcement learning", ACM Trans. Econ. Comput. 13(1), 2025 (Bank of Canada staff
working paper 2021-7), sections 3, 4 and 6.3. Two banks each hold collateral ``B`` (the
``pool``) and choose, before the day, the initial liquidity ``ℓ0 = x0·B`` on the grid
``x0 ∈ {0, 0.05, …, 1}``. In period ``t = 1, 2`` a bank must pay ``P_t`` and sends as much as
its liquidity allows; what it receives in a period is usable from the next one. A bank's cost
of the day is (§4, §6.1)::

    R = r_c·ℓ0 + r_d·max(P_1 − ℓ0, 0) + r_b·max(P_1 + P_2 − R_1 − ℓ0, 0)

the liquidity cost, the delay cost of the part of period 1's demand it could not send, and the
end-of-day borrowing for what is still unpaid after period 2, where ``R_1 = min(ℓ0', P_1')``
is what the other bank sent in period 1. With ``r_c < r_d < r_b`` the best response is
``ℓ0 = P_1 + max(P_2 − R_1, 0)`` (capped at ``B``) and the equilibrium unique.

:func:`scenario` encodes a game as a paysim scenario (``scenarios/castro_2period.yaml`` is the
paper's game, written out by hand with the reasons): one day of two ticks; each period's demand
split into equal payments of one *unit*, a common divisor of every demand and of the grid step
``B/20``, so that sending "as much as liquidity allows" is exact (all liquidity levels are
multiples of the unit); deferred crediting; no LSM; the engine's costs set so that they are the
paper's three and nothing else (see the scenario file for each key). The engine's cost of a
bank equals :func:`cost` to the cent whenever :func:`is_exact` holds.

Used by ``tests/test_castro.py`` and by the ``paysim optimize`` tests, which check the best
responses and equilibria that :func:`best_response` and :func:`pure_equilibria` derive here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

BankId = Literal["A", "B"]
"""``A`` is ``BANK_A`` in the scenario, ``B`` is ``BANK_B``."""

GRID = 20
"""Grid steps: the initial-liquidity choices are ``k / GRID`` of the pool, ``k = 0..GRID``."""

BANKS: tuple[BankId, BankId] = ("A", "B")
AGENT_IDS: dict[BankId, str] = {"A": "BANK_A", "B": "BANK_B"}


@dataclass(frozen=True)
class Demand:
    """One bank's payment demand, in cents, in periods 1 and 2 (paid to the other bank)."""

    p1: int
    p2: int


@dataclass(frozen=True)
class Game:
    """A two-period game: both banks' collateral ``pool`` (cents, a multiple of ``GRID``),
    their demands and the three rates in basis points (``r = bps / 10,000``)."""

    pool: int
    a: Demand
    b: Demand
    r_c_bps: int
    r_d_bps: int
    r_b_bps: int

    def demand(self, bank: BankId) -> Demand:
        return self.a if bank == "A" else self.b


PAPER = Game(
    pool=100_000,
    a=Demand(p1=0, p2=15_000),
    b=Demand(p1=15_000, p2=5_000),
    r_c_bps=1_000,
    r_d_bps=2_000,
    r_b_bps=4_000,
)
"""§6.3: ``P^A = [0, 0.15]``, ``P^B = [0.15, 0.05]`` of ``B`` (here 1,000.00), ``r_c = 0.1``,
``r_d = 0.2``, ``r_b = 0.4``. Equilibrium ``ℓ0^A = 0``, ``ℓ0^B = 0.2·B``; costs 0 and 0.02·B."""

SYMMETRIC = Game(
    pool=100_000,
    a=Demand(p1=10_000, p2=10_000),
    b=Demand(p1=10_000, p2=10_000),
    r_c_bps=500,
    r_d_bps=1_500,
    r_b_bps=5_000,
)
"""Both banks pay 0.10 in each period: each covers its own period 1, and B's period-1 payment
covers A's period 2 and vice versa. Equilibrium ``(0.10, 0.10)``."""

FRONT_LOADED = Game(
    pool=100_000,
    a=Demand(p1=5_000, p2=30_000),
    b=Demand(p1=25_000, p2=10_000),
    r_c_bps=200,
    r_d_bps=1_000,
    r_b_bps=3_000,
)
"""B pays most in period 1, A in period 2. ``BR_A = 0.05 + max(0.30 − min(ℓB, 0.25), 0)``,
``BR_B = 0.25 + max(0.10 − min(ℓA, 0.05), 0)``: equilibrium ``(0.10, 0.30)``."""


def _rate(bps: int) -> Fraction:
    return Fraction(bps, 10_000)


def liquidity(game: Game, k: int) -> int:
    """``ℓ0`` in cents for grid choice ``k``: ``pool · k / GRID``."""
    if not 0 <= k <= GRID:
        raise ValueError(f"grid choice {k} outside 0..{GRID}")
    return game.pool * k // GRID


def fraction(k: int) -> float:
    """The ``initial_liquidity_fraction`` of grid choice ``k``, as a scenario writes it."""
    return k / GRID


def cost(game: Game, bank: BankId, k_self: int, k_other: int) -> Fraction:
    """The paper's closed-form cost of ``bank`` (cents) when it chooses ``k_self`` and the
    other bank ``k_other``."""
    own = game.demand(bank)
    other = game.demand("B" if bank == "A" else "A")
    l0 = liquidity(game, k_self)
    received = min(liquidity(game, k_other), other.p1)
    delayed = max(own.p1 - l0, 0)
    borrowed = max(own.p1 + own.p2 - received - l0, 0)
    return _rate(game.r_c_bps) * l0 + _rate(game.r_d_bps) * delayed + _rate(game.r_b_bps) * borrowed


def costs(game: Game, k_a: int, k_b: int) -> tuple[Fraction, Fraction]:
    """Both banks' closed-form costs for the choices ``(k_a, k_b)``."""
    return cost(game, "A", k_a, k_b), cost(game, "B", k_b, k_a)


def best_response(game: Game, bank: BankId, k_other: int) -> int:
    """The grid choice minimising ``bank``'s closed-form cost against ``k_other`` (the
    smallest one if several tie; with ``r_c < r_d < r_b`` the minimum is unique)."""
    return min(range(GRID + 1), key=lambda k: (cost(game, bank, k, k_other), k))


def best_responses(game: Game) -> dict[BankId, list[int]]:
    """Each bank's best response to every grid choice of the other: ``[bank][k_other]``."""
    return {bank: [best_response(game, bank, k) for k in range(GRID + 1)] for bank in BANKS}


def pure_equilibria(game: Game) -> list[tuple[int, int]]:
    """Every grid pair ``(k_a, k_b)`` where each choice is a best response to the other."""
    br = best_responses(game)
    return [
        (k_a, k_b)
        for k_a in range(GRID + 1)
        for k_b in range(GRID + 1)
        if br["A"][k_b] == k_a and br["B"][k_a] == k_b
    ]


def unit(game: Game) -> int:
    """The payment size: the greatest common divisor of the grid step and every demand."""
    if game.pool <= 0 or game.pool % GRID:
        raise ValueError(f"pool {game.pool} must be a positive multiple of {GRID}")
    demands = [game.a.p1, game.a.p2, game.b.p1, game.b.p2]
    if any(p < 0 for p in demands):
        raise ValueError("demands must be non-negative")
    return math.gcd(game.pool // GRID, *demands)


def is_exact(game: Game) -> bool:
    """Whether every cost the engine books is a whole number of cents, so that the engine's
    per-tick and per-payment rounding (ENGINE.md §8.2) cannot differ from the closed form:
    half the liquidity cost of every grid level per tick, the delay and the end-of-day rate on
    every unit."""
    step, u = game.pool // GRID, unit(game)
    ordered = 0 < game.r_c_bps < game.r_d_bps < game.r_b_bps <= 10_000
    return (
        ordered
        and step * game.r_c_bps % 20_000 == 0
        and u * game.r_d_bps % 10_000 == 0
        and u * game.r_b_bps % 10_000 == 0
    )


def _payments(game: Game, bank: BankId, period: int, amount: int) -> list[dict[str, object]]:
    u = unit(game)
    sender, receiver = AGENT_IDS[bank], AGENT_IDS["B" if bank == "A" else "A"]
    # Period-1 demand is due in period 1 (normal band, delay multiplier 1); period-2 demand
    # is due at the close, where the paper charges borrowing and no delay (low band, 0).
    priority = 5 if period == 1 else 0
    return [
        {
            "type": "CustomTransactionArrival",
            "schedule": "OneTime",
            "tick": period - 1,
            "from_agent": sender,
            "to_agent": receiver,
            "amount": u,
            "priority": priority,
            "deadline": 0,
        }
        for _ in range(amount // u)
    ]


def scenario(game: Game = PAPER, k_a: int = 0, k_b: int = 4) -> dict[str, object]:
    """The game as a scenario document (the shape of ``scenarios/castro_2period.yaml``), with
    the banks' initial-liquidity choices ``k_a`` and ``k_b`` (grid steps)."""
    events: list[dict[str, object]] = []
    for period in (1, 2):
        for bank in BANKS:
            d = game.demand(bank)
            events += _payments(game, bank, period, d.p1 if period == 1 else d.p2)

    def agent(bank: BankId, k: int) -> dict[str, object]:
        return {
            "id": AGENT_IDS[bank],
            "opening_balance": 0,
            "liquidity_pool": game.pool,
            "policy": "castro_liquidity",
            "policy_parameters": {"initial_liquidity_fraction": fraction(k)},
        }

    return {
        "description": "Castro et al. two-period initial-liquidity game",
        "simulation": {"ticks_per_day": 2, "num_days": 1, "rng_seed": 1},
        "settlement": {"deferred_crediting": True},
        "lsm_config": {"enable_bilateral": False, "enable_cycles": False},
        "cost_rates": {
            "liquidity_cost_per_tick_bps": game.r_c_bps / 2,
            "delay_cost_per_tick_per_cent": game.r_d_bps / 10_000,
            "eod_penalty": {"mode": "rate", "bps_per_event": game.r_b_bps},
            "overdue_delay_multiplier": 0.0,
            "priority_delay_multipliers": {
                "urgent_multiplier": 1.0,
                "normal_multiplier": 1.0,
                "low_multiplier": 0.0,
            },
            "deadline_penalty": 0,
            "overdraft_bps_per_tick": 0,
            "collateral_cost_per_tick_bps": 0,
            "split_friction_cost": 0,
        },
        "agents": [agent("A", k_a), agent("B", k_b)],
        "scenario_events": events,
    }


def overrides(k_a: int, k_b: int) -> dict[str, object]:
    """``run_many`` overrides setting both banks' initial-liquidity choices."""
    return {
        "params": {
            AGENT_IDS["A"]: {"initial_liquidity_fraction": fraction(k_a)},
            AGENT_IDS["B"]: {"initial_liquidity_fraction": fraction(k_b)},
        }
    }
