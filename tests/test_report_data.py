"""What the run report reads from the store, against numbers worked out by hand from the
scenarios (gridlock.yaml, crisis.yaml), against independent computations over the store's
tables (folding of long runs), and the helpers' rules (tick axis, top banks, formatting)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import paysim.store
from paysim.report.axis import OTHERS, BankRank, TickAxis, top_banks
from paysim.report.run_data import RunData, read_run
from paysim.report.run_events import _group
from paysim.report.style import compact, money
from tests.cli_support import SCENARIOS
from tests.store_support import LONG_DAYS, persisted


def _read(db: Path, sid: str, top: int = 8) -> RunData:
    with paysim.store.open(db) as store:
        return read_run(store, sid, top=top)


def _steps(changes: dict[int, int], ticks: int, start: int = 0) -> list[int]:
    """A per-tick level that starts at ``start`` and jumps to ``changes[t]`` at tick ``t``."""
    out, level = [], start
    for t in range(ticks):
        level = changes.get(t, level)
        out.append(level)
    return out


@pytest.fixture(scope="module")
def gridlock(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    db = tmp_path_factory.mktemp("gridlock") / "g.duckdb"
    sid, _ = persisted(db, SCENARIOS / "gridlock.yaml", "--quiet", "-f", "json")
    return db, sid


@pytest.fixture(scope="module")
def gridlock_without_lsm(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    tmp = tmp_path_factory.mktemp("nolsm")
    text = (SCENARIOS / "gridlock.yaml").read_text()
    text = text.replace("enable_bilateral: true", "enable_bilateral: false")
    text = text.replace("enable_cycles: true", "enable_cycles: false")
    scenario = tmp / "gridlock_off.yaml"
    scenario.write_text(text)
    db = tmp / "g.duckdb"
    sid, _ = persisted(db, scenario, "--quiet", "-f", "json")
    return db, sid


def test_lsm_groups_and_liquidity_saved_of_the_gridlock_day(gridlock: tuple[Path, str]) -> None:
    data = _read(*gridlock)
    # gridlock.yaml: cycles at ticks 5 (3 × 2,500.00), 25 (4 × 4,000.00), 35 (3 × 1,500.00),
    # each net zero for its members, so the whole gross value is saved; bilateral pairs at
    # tick 15 (2,500.00 ⇄ 2,300.00, net 200.00) and tick 40 (1,000.00 ⇄ 1,400.00, net 400.00).
    assert data.lsm.totals() == {
        "bilateral": {"groups": 2, "payments": 4, "gross": 720_000, "saved": 660_000},
        "cycle": {"groups": 3, "payments": 10, "gross": 2_800_000, "saved": 2_800_000},
    }
    assert data.lsm.ticks.tolist() == [5, 15, 25, 35, 40]
    assert data.flows.lsm_settled.sum() == 14
    assert data.flows.lsm_settled[[5, 15, 25, 35, 40]].tolist() == [3, 2, 4, 3, 2]
    # Nothing ever waits at the end of a tick: each circuit settles in the tick it completes.
    assert all(not v.any() for v in data.queues.count.values())


def test_balances_move_by_the_net_of_each_offset(gridlock: tuple[Path, str]) -> None:
    data = _read(*gridlock)
    by_bank = {b.agent_id: b for b in data.balances.banks}
    assert data.balances.axis == TickAxis(0, 50, 1, 50)
    assert data.balances.others is None  # four banks: all shown
    # C pays the net 200.00 of the pair at tick 15 (D receives it); B pays the net 400.00 at 40.
    expected = {
        "BANK_A": _steps({40: 90_000}, 50, 50_000),
        "BANK_B": _steps({40: 10_000}, 50, 50_000),
        "BANK_C": _steps({15: 30_000}, 50, 50_000),
        "BANK_D": _steps({15: 70_000}, 50, 50_000),
    }
    for bank, path in expected.items():
        assert by_bank[bank].low.tolist() == path, bank
        assert by_bank[bank].high.tolist() == path, bank
        assert not by_bank[bank].unsecured_cap.any() and not by_bank[bank].collateral_credit.any()


def test_queues_of_the_gridlock_day_without_the_lsm(
    gridlock_without_lsm: tuple[Path, str],
) -> None:
    data = _read(*gridlock_without_lsm)
    q = data.queues
    assert q.groups == sorted(q.groups, key=data.top.index) and OTHERS not in q.groups
    total_count = np.sum([q.count[g] for g in q.groups], axis=0)
    total_value = np.sum([q.value[g] for g in q.groups], axis=0)
    # Every payment stays queued from its arrival to the end of the day.
    assert total_count.tolist() == _steps({5: 3, 15: 5, 25: 9, 35: 12, 40: 14}, 50)
    assert total_value.tolist() == _steps(
        {5: 750_000, 15: 1_230_000, 25: 2_830_000, 35: 3_280_000, 40: 3_520_000}, 50
    )
    # BANK_D sends D→C 2,300.00 at tick 15 and D→A 4,000.00 at tick 25.
    assert q.count["BANK_D"].tolist() == _steps({15: 1, 25: 2}, 50)
    assert q.value["BANK_D"].tolist() == _steps({15: 230_000, 25: 630_000}, 50)
    assert data.lsm.totals() == {}
    largest = data.delays.largest
    # Unsettled payments have waited from arrival to the end of the stored day (tick 50).
    assert [(d.tx_id, d.delay, d.status) for d in largest[:3]] == [
        ("tx_00000001", 45, "unsettled"),
        ("tx_00000002", 45, "unsettled"),
        ("tx_00000003", 45, "unsettled"),
    ]
    assert data.delays.histogram == []


def test_credit_lines_follow_the_crisis_scenario_events(tmp_path: Path) -> None:
    db = tmp_path / "c.duckdb"
    sid, _ = persisted(db, SCENARIOS / "crisis.yaml", "--quiet", "-f", "json")
    data = _read(db, sid)
    by_bank = {b.agent_id: b for b in data.balances.banks}
    # BANK_C: unsecured cap 6,000.00, cut by 4,000.00 at tick 65, restored at tick 120.
    assert by_bank["BANK_C"].unsecured_cap.tolist() == _steps(
        {65: 200_000, 120: 600_000}, 180, 600_000
    )
    # BANK_B: 2,000.00 of collateral at a 10% haircut (1,800.00 of credit), 5,000.00 more
    # posted at tick 75 (7,000.00 → 6,300.00 of credit); its cap stays 1,000.00.
    assert by_bank["BANK_B"].collateral_credit.tolist() == _steps({75: 630_000}, 180, 180_000)
    assert set(by_bank["BANK_B"].unsecured_cap.tolist()) == {100_000.0}


def test_long_runs_are_folded_and_others_aggregated(tmp_path: Path) -> None:
    db = tmp_path / "l.duckdb"
    sid, _ = persisted(db, LONG_DAYS, "--quiet", "-f", "json")
    data = _read(db, sid, top=3)
    axis = data.balances.axis
    assert (axis.ticks, axis.width, axis.buckets) == (600, 2, 300)
    assert len(data.top) == 3 and len(data.others) == 17
    with paysim.store.open(db) as store:
        moves = store.agent_tick_metrics(sid).to_pylist()
        opening = {r["agent_id"]: r["opening_balance"] for r in store.agents(sid).to_pylist()}
        payments = store.payments(sid).to_pylist()
    # Every bank's end-of-tick balance, carried forward in Python from its rows.
    per_tick: dict[str, list[int]] = {}
    for bank, start in opening.items():
        changes = {int(r["tick"]): int(r["balance"]) for r in moves if r["agent_id"] == bank}
        per_tick[str(bank)] = _steps(changes, 600, int(start))
    for series in data.balances.banks:
        path = np.asarray(per_tick[series.agent_id]).reshape(300, 2)
        assert series.low.tolist() == path.min(axis=1).tolist()
        assert series.high.tolist() == path.max(axis=1).tolist()
    others = data.balances.others
    assert others is not None and others.count == 17
    stacked = np.asarray([per_tick[b] for b in data.others]).reshape(17, 300, 2)
    assert others.low.tolist() == stacked.min(axis=(0, 2)).tolist()
    assert others.high.tolist() == stacked.max(axis=(0, 2)).tolist()
    assert others.median.tolist() == np.median(stacked.min(axis=2), axis=0).tolist()
    # Queues: the others' level per tick from the payments rows, folded to its bucket maximum.
    waiting = np.zeros(600, dtype=np.int64)
    for p in payments:
        if p["sender_id"] in data.others:
            end = p["settled_tick"] if p["status"] == "settled" else p["dropped_tick"]
            waiting[p["arrival_tick"] : 600 if end is None else end] += 1
    assert data.queues.count[OTHERS].tolist() == waiting.reshape(300, 2).max(axis=1).tolist()
    # Flows keep one value per tick; the figure folds them by summing.
    assert data.flows.arrivals.sum() == len(payments)
    assert axis.fold_sum(data.flows.arrivals).sum() == len(payments)


@pytest.mark.parametrize(
    ("event_type", "amount", "details", "expected"),
    [
        # bilateral: gross minus the net the net payer pays
        (
            "LsmBilateralOffset",
            480_000,
            {"net": 20_000, "tx_ids": ["a", "b"]},
            ("bilateral", 460_000, 2),
        ),
        # entry offset: the same rule, two payments
        ("EntryDispositionOffset", 300_000, {"net": 100_000}, ("entry", 200_000, 2)),
        # a cycle with net positions: the debtors' needs are what it cost
        (
            "LsmCycleSettlement",
            12_984_029,
            {"net_positions": [-9_457_444, 7_674_106, 745_543, 1_037_795], "tx_ids": [1, 2, 3, 4]},
            ("cycle", 3_526_585, 4),
        ),
        (
            "LsmMultilateralSettlement",
            1_000_000,
            {
                "algorithm": "partial",
                "settled_count": 7,
                "net_positions": [-150_000, -50_000, 200_000],
            },
            ("partial", 800_000, 7),
        ),
        (
            "LsmMultilateralSettlement",
            500_000,
            {"algorithm": "multilateral", "settled_count": 3, "net_positions": [0, 0, 0]},
            ("multilateral", 500_000, 3),
        ),
    ],
)
def test_liquidity_saved_by_each_kind_of_group(
    event_type: str, amount: int, details: dict[str, object], expected: tuple[str, int, int]
) -> None:
    assert _group(event_type, amount, details) == expected


@pytest.mark.parametrize(
    ("ranks", "top", "shown", "others"),
    [
        # largest cost first
        ([("A", 0, 5, 0), ("B", 1, 9, 0), ("C", 2, 1, 0)], 8, ["B", "A", "C"], []),
        # equal costs: the lower minimum balance first, then scenario order
        ([("A", 0, 0, 10), ("B", 1, 0, -5), ("C", 2, 0, 10)], 8, ["B", "A", "C"], []),
        # one bank left over is shown rather than folded
        ([(f"X{i}", i, 10 - i, 0) for i in range(3)], 2, ["X0", "X1", "X2"], []),
        ([(f"X{i}", i, 10 - i, 0) for i in range(4)], 2, ["X0", "X1"], ["X2", "X3"]),
    ],
)
def test_top_banks(
    ranks: list[tuple[str, int, int, int]], top: int, shown: list[str], others: list[str]
) -> None:
    assert top_banks([BankRank(*r) for r in ranks], top) == (shown, others)


@given(
    t0=st.integers(0, 10_000),
    span=st.integers(0, 20_000),
    tpd=st.integers(1, 2_000),
    seed=st.integers(0, 2**32 - 1),
)
def test_tick_axis_folds_without_losing_anything(t0: int, span: int, tpd: int, seed: int) -> None:
    axis = TickAxis.of(t0, t0 + span, tpd, max_points=500)
    assert axis.buckets <= 500 and axis.buckets * axis.width >= span
    assert axis.buckets == 0 or (axis.buckets - 1) * axis.width < span
    values = np.random.default_rng(seed).integers(-1000, 1000, size=span)
    assert axis.fold_sum(values).sum() == values.sum()
    last = axis.fold_last(values.astype(np.float64))
    if span:
        assert last[-1] == values[-1]
        assert last[0] == values[min(axis.width, span) - 1]
    assert all(t0 < d < t0 + span and d % tpd == 0 for d in axis.day_starts())


@pytest.mark.parametrize(
    ("cents", "text"),
    [
        (0, "0.00"),
        (5, "0.05"),
        (-5, "-0.05"),
        (123_456, "1,234.56"),
        (-100_000_000, "-1,000,000.00"),
    ],
)
def test_money(cents: int, text: str) -> None:
    assert money(cents) == text


@pytest.mark.parametrize(
    ("units", "text"),
    [(0.0, "0"), (950.0, "950"), (12_500.0, "12.5k"), (-3_100_000.0, "-3.1M"), (2e9, "2bn")],
)
def test_compact_axis_labels(units: float, text: str) -> None:
    assert compact(units) == text
