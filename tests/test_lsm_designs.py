"""LSM designs (docs/lsm.md): ``scenarios/lsm_designs.yaml`` run through ``paysim run`` under
each algorithm list its header compares, checking the numbers it claims; and the
``lsm_config.algorithms`` key through the scenario model, the CLI's errors and the engine
config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paysim.config import ResolvedPolicy, load_scenario, scenario_from_dict, to_engine_config
from paysim.config.models import LsmConfig
from paysim.exceptions import ScenarioError
from tests.cli_support import SCENARIOS, balances_from_events, invoke, jsonl

DESIGNS = SCENARIOS / "lsm_designs.yaml"
# Payments in creation order: tick 5 → 1..5, tick 15 → 6..9, tick 25 → 10..12.
CIRCUIT_5 = {f"tx_{i:08d}" for i in range(1, 6)}
CYCLE_15 = {f"tx_{i:08d}" for i in range(6, 9)}
LEFT_OVER = "tx_00000009"  # A → B 1,000.00, which A can never cover
CYCLE_25 = {f"tx_{i:08d}" for i in range(10, 13)}


def _variant(tmp_path: Path, algorithms: str | None) -> Path:
    """The scenario with ``lsm_config.algorithms`` set (``None``: as committed)."""
    if algorithms is None:
        return DESIGNS
    text = DESIGNS.read_text(encoding="utf-8")
    assert text.count("\nlsm_config:\n") == 1
    text = text.replace("\nlsm_config:\n", f"\nlsm_config:\n  algorithms: {algorithms}\n")
    path = tmp_path / "designs.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _run(path: Path) -> tuple[dict[str, object], list[dict[str, object]]]:
    summary = invoke("run", path, "-f", "json")
    assert summary.exit_code == 0, summary.stderr
    events = invoke("run", path, "-f", "events")
    assert events.exit_code == 0, events.stderr
    data = json.loads(summary.stdout)
    assert isinstance(data, dict)
    return data, jsonl(events.stdout)


# (algorithms, settled payments, group events as (tick, event_type, algorithm or None))
DESIGNS_CLAIMED: list[tuple[str | None, set[str], list[tuple[int, str, str | None]]]] = [
    (None, CYCLE_25, [(25, "LsmCycleSettlement", None)]),
    ("[bilateral, cycles]", CYCLE_25, [(25, "LsmCycleSettlement", None)]),
    ("[multilateral]", CIRCUIT_5, [(5, "LsmMultilateralSettlement", "multilateral")]),
    (
        "[partial]",
        CIRCUIT_5 | CYCLE_15 | CYCLE_25,
        [
            (5, "LsmMultilateralSettlement", "partial"),
            (15, "LsmMultilateralSettlement", "partial"),
            (25, "LsmMultilateralSettlement", "partial"),
        ],
    ),
    (
        "[multilateral, partial]",
        CIRCUIT_5 | CYCLE_15 | CYCLE_25,
        [
            (5, "LsmMultilateralSettlement", "multilateral"),
            (15, "LsmMultilateralSettlement", "partial"),
            (25, "LsmMultilateralSettlement", "partial"),
        ],
    ),
]


@pytest.mark.parametrize(("algorithms", "settled", "groups"), DESIGNS_CLAIMED)
def test_each_design_settles_what_the_scenario_claims(
    tmp_path: Path,
    algorithms: str | None,
    settled: set[str],
    groups: list[tuple[int, str, str | None]],
) -> None:
    summary, rows = _run(_variant(tmp_path, algorithms))
    totals = summary["totals"]
    assert isinstance(totals, dict)
    assert totals["arrivals"] == 12
    assert totals["settled"] == totals["lsm_settled"] == len(settled)
    assert totals["unsettled"] == 12 - len(settled)
    offsets = {str(r["tx_id"]) for r in rows if r["event_type"] == "OffsetSettlement"}
    assert offsets == settled
    gross = {"RtgsImmediateSettlement", "Queue2LiquidityRelease"}
    assert not any(r["event_type"] in gross for r in rows)
    assert LEFT_OVER not in offsets
    got = [
        (
            int(str(r["tick"])),
            str(r["event_type"]),
            r["details"].get("algorithm") if isinstance(r["details"], dict) else None,
        )
        for r in rows
        if str(r["event_type"]).startswith("Lsm")
    ]
    assert got == groups
    agents = summary["agents"]
    assert isinstance(agents, dict)
    final = {k: a["final_balance"] for k, a in agents.items()}
    assert balances_from_events(rows) == final
    # Every circuit nets zero for every bank, so balances never move.
    assert set(final.values()) == {50_000}


def test_partial_group_summary_names_the_payment_left_queued(tmp_path: Path) -> None:
    _, rows = _run(_variant(tmp_path, "[partial]"))
    at_15 = [r for r in rows if r["event_type"] == "LsmMultilateralSettlement" and r["tick"] == 15]
    assert len(at_15) == 1
    group = at_15[0]
    assert group["amount"] == 900_000
    assert group["details"] == {
        "algorithm": "partial",
        "settled_count": 3,
        "removed_count": 1,
        "agents": ["A", "B", "C"],
        "net_positions": [0, 0, 0],
    }
    members = [
        r
        for r in rows
        if r["event_type"] == "OffsetSettlement"
        and isinstance(r["details"], dict)
        and r["details"]["group_seq"] == group["seq"]
    ]
    assert {str(r["tx_id"]) for r in members} == CYCLE_15
    assert all(
        isinstance(r["details"], dict) and r["details"]["mechanism"] == "partial" for r in members
    )
    verbose = invoke("run", _variant(tmp_path, "[partial]"), "-f", "verbose", "--no-progress")
    assert "LSM partial  3 payments, total 9,000.00; 1 left queued" in verbose.stdout


@pytest.mark.parametrize(
    ("lsm", "pointer", "text"),
    [
        ("{algorithms: [multilateral, partiall]}", "/lsm_config/algorithms/1", "`partial`"),
        ("{algorithms: [partial, cycles, partial]}", "/lsm_config/algorithms/2", "twice"),
        ("{algorithms: [cycles], enable_cycles: false}", "/lsm_config/enable_cycles", "lists"),
        (
            "{algorithms: [partial], enable_bilateral: true}",
            "/lsm_config/enable_bilateral",
            "does not list",
        ),
        ("{algorithms: partial}", "/lsm_config/algorithms", "list"),
    ],
)
def test_bad_algorithm_lists_are_located_errors(
    tmp_path: Path, lsm: str, pointer: str, text: str
) -> None:
    source = DESIGNS.read_text(encoding="utf-8")
    start = source.index("\nlsm_config:\n")
    end = source.index("\ncost_rates:")
    bad = tmp_path / "bad.yaml"
    bad.write_text(source[:start] + f"\nlsm_config: {lsm}" + source[end:], encoding="utf-8")
    result = invoke("run", bad)
    assert result.exit_code == 2
    assert f"bad.yaml at {pointer}" in result.stderr
    assert text in result.stderr
    assert "Traceback" not in result.stderr


def _resolve(ref: object, base_dir: Path | None) -> ResolvedPolicy:
    return ResolvedPolicy({"version": "1.0", "policy_id": "fifo"}, {}, "test")


def test_engine_config_has_the_list_only_when_the_scenario_gives_it() -> None:
    scenario = load_scenario(DESIGNS)
    assert scenario.lsm_config.algorithms is None
    assert scenario.lsm_config.effective_algorithms() == ["bilateral", "cycles"]
    lsm = to_engine_config(scenario, _resolve)["lsm_config"]
    assert lsm == {
        "enable_bilateral": True,
        "enable_cycles": True,
        "max_cycle_length": 4,
        "max_cycles_per_tick": 10,
        "max_iterations": 3,
    }
    data = scenario.to_dict()
    data["lsm_config"] = {"algorithms": ["partial", "cycles"]}
    listed = scenario_from_dict(data)
    lsm = to_engine_config(listed, _resolve)["lsm_config"]
    assert isinstance(lsm, dict)
    assert lsm["algorithms"] == ["partial", "cycles"]
    assert (lsm["enable_bilateral"], lsm["enable_cycles"]) == (False, True)
    # The scenario's own dump loads back to an equal model (switches now given, and agreeing).
    again = scenario_from_dict(listed.to_dict())
    assert again.lsm_config == listed.lsm_config
    assert again.lsm_config.effective_algorithms() == ["partial", "cycles"]


def test_switches_alone_and_an_empty_list() -> None:
    assert LsmConfig(enable_cycles=False).effective_algorithms() == ["bilateral"]
    off = LsmConfig(algorithms=[])
    assert off.effective_algorithms() == []
    assert (off.enable_bilateral, off.enable_cycles) == (False, False)
    agreeing = LsmConfig(algorithms=["bilateral"], enable_bilateral=True)
    assert (agreeing.enable_bilateral, agreeing.enable_cycles) == (True, False)
    with pytest.raises(ValueError, match="contradicts"):
        LsmConfig(algorithms=["bilateral"], enable_cycles=True)


def test_a_scenario_error_names_the_file() -> None:
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(
            {**load_scenario(DESIGNS).to_dict(), "lsm_config": {"algorithms": ["x"]}},
            source="inline.yaml",
        )
    assert "/lsm_config/algorithms/0" in str(info.value)
