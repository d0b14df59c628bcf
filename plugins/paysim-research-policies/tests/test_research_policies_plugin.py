"""paysim-research-policies, installed with pip (``make plugins``), used through the real
``paysim`` command: every shipped policy validates without warnings and behaves as its
description says, on scenarios whose outcome is computed by hand."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest
import yaml

PAYSIM = Path(sys.executable).with_name("paysim")
NAMES = [
    "bech_garratt_timing",
    "castro_release_fraction",
    "mm_balance_reactive",
    "mm_receipt_reactive",
]


def paysim(*args: object, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PAYSIM), *map(str, args)], capture_output=True, text=True, cwd=cwd, check=False
    )


def test_installed_and_listed_as_a_policy_source(tmp_path: Path) -> None:
    dist = importlib.metadata.distribution("paysim-research-policies")
    assert [(e.group, e.name) for e in dist.entry_points] == [("paysim", "research")]
    listing = paysim(
        "plugins", "--format", "json", "--hook", "paysim_register_policy_sources", cwd=tmp_path
    )
    assert listing.returncode == 0, listing.stderr
    (entry,) = [e for e in json.loads(listing.stdout) if e["name"] == "research"]
    assert entry["registers"] == {"paysim_register_policy_sources": ["research"]}
    assert entry["distribution"] == "paysim-research-policies"


@pytest.mark.parametrize("name", NAMES)
def test_every_policy_validates_strictly_and_declares_search_ranges(
    tmp_path: Path, name: str
) -> None:
    folder = resources.files("paysim_research_policies").joinpath("policies")
    text = folder.joinpath(f"{name}.json").read_text("utf-8")
    (tmp_path / f"{name}.json").write_text(text)
    run = paysim("validate-policy", "--strict", "--format", "json", f"{name}.json", cwd=tmp_path)
    assert run.returncode == 0, run.stdout
    report = json.loads(run.stdout)
    assert report["valid"] and report["errors"] == [] and report["warnings"] == []
    document = json.loads(text)
    assert document["policy_id"] == name
    for param in document["parameters"].values():
        assert {"min", "max", "description"} <= set(param)
    assert document["metadata"]["references"]


def write(tmp: Path, agents: list[dict[str, object]], events: list[dict[str, object]]) -> Path:
    doc = {
        "simulation": {"ticks_per_day": 20, "num_days": 1, "rng_seed": 1},
        "agents": agents,
        "scenario_events": events,
    }
    path = tmp / "s.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def pay(tick: int, sender: str, receiver: str, amount: int, priority: int = 5) -> dict[str, object]:
    return {
        "type": "CustomTransactionArrival",
        "schedule": "OneTime",
        "tick": tick,
        "from_agent": sender,
        "to_agent": receiver,
        "amount": amount,
        "priority": priority,
        "deadline": 15,
    }


def settlement_ticks(tmp: Path, path: Path, *args: str) -> dict[tuple[str, int], list[int]]:
    """``(sender, amount) → ticks`` of its gross settlements."""
    run = paysim("run", path, "--format", "events", *args, cwd=tmp)
    assert run.returncode == 0, run.stderr
    out: dict[tuple[str, int], list[int]] = {}
    for line in run.stdout.splitlines():
        e = json.loads(line)
        if e["event_type"] in ("RtgsImmediateSettlement", "Queue2LiquidityRelease"):
            out.setdefault((e["agent_id"], e["amount"]), []).append(e["tick"])
    return out


def test_mm_balance_reactive_pays_time_critical_at_once_and_the_rest_after_inflows(
    tmp_path: Path,
) -> None:
    agents = [
        {
            "id": "A",
            "opening_balance": 100_000,
            "unsecured_cap": 1_000_000,
            "policy": "research:mm_balance_reactive",
        },
        {"id": "B", "opening_balance": 1_000_000},
    ]
    # Tick 0: A owes 150,000 twice; only the priority-9 one is time-critical. Its balance
    # (100,000) does not cover the other. B pays A 300,000 at tick 5, settled in tick 5; A's
    # payment tree sees the new balance (250,000 - 150,000 = 100,000 > 0) from tick 6.
    events = [pay(0, "A", "B", 150_001, 5), pay(0, "A", "B", 150_000, 9), pay(5, "B", "A", 300_000)]
    ticks = settlement_ticks(tmp_path, write(tmp_path, agents, events))
    assert ticks[("A", 150_000)] == [0]
    assert ticks[("A", 150_001)] == [6]
    assert ticks[("B", 300_000)] == [5]


def test_mm_receipt_reactive_waits_for_the_counterparty(tmp_path: Path) -> None:
    agents = [
        {
            "id": "A",
            "opening_balance": 1_000_000,
            "policy": "research:mm_receipt_reactive",
            "policy_parameters": {"receipt_ratio": 0.5},
        },
        {"id": "B", "opening_balance": 1_000_000},
        {"id": "C", "opening_balance": 1_000_000},
    ]
    # A owes B 100,000 at tick 0 though it is rich; B pays A 60,000 at tick 3 (≥ 0.5 x
    # 100,000), seen from tick 4. C's payment from A never sees a receipt: it goes when 2 ticks
    # remain before its deadline (tick 15 - 2 = 13).
    events = [pay(0, "A", "B", 100_000), pay(3, "B", "A", 60_000), pay(0, "A", "C", 70_000)]
    ticks = settlement_ticks(tmp_path, write(tmp_path, agents, events))
    assert ticks[("A", 100_000)] == [4]
    assert ticks[("A", 70_000)] == [13]


@pytest.mark.parametrize(("afternoon_start", "expected"), [(0.5, 10), (0.25, 5), (0.0, 1)])
def test_bech_garratt_holds_until_the_afternoon(
    tmp_path: Path, afternoon_start: float, expected: int
) -> None:
    agents = [
        {"id": "A", "opening_balance": 1_000_000, "policy": "research:bech_garratt_timing"},
        {"id": "B", "opening_balance": 0},
    ]
    path = write(tmp_path, agents, [pay(1, "A", "B", 5_000)])
    # 20 ticks a day: the afternoon starts at the first tick with tick/20 ≥ afternoon_start.
    ticks = settlement_ticks(tmp_path, path, "--param", f"A.afternoon_start={afternoon_start}")
    assert ticks[("A", 5_000)] == [expected]


def test_bech_garratt_pays_funded_payments_in_the_morning_when_asked(tmp_path: Path) -> None:
    agents = [
        {
            "id": "A",
            "opening_balance": 10_000,
            "unsecured_cap": 100_000,
            "policy": "research:bech_garratt_timing",
            "policy_parameters": {"pay_funded_in_morning": 1},
        },
        {"id": "B", "opening_balance": 0},
    ]
    path = write(tmp_path, agents, [pay(1, "A", "B", 5_000), pay(1, "A", "B", 50_000)])
    ticks = settlement_ticks(tmp_path, path)
    assert ticks[("A", 5_000)] == [1]  # covered by the balance: paid in the morning
    assert ticks[("A", 50_000)] == [10]  # needs credit: waits for the afternoon


def test_castro_release_fraction_sends_a_share_of_the_queue_each_tick(tmp_path: Path) -> None:
    agents = [
        {
            "id": "A",
            "opening_balance": 1_000_000,
            "policy": "research:castro_release_fraction",
            "policy_parameters": {
                "early_release_fraction": 0.5,
                "late_release_fraction": 1.0,
                "switch_fraction": 0.25,
            },
        },
        {"id": "B", "opening_balance": 0},
    ]
    events = [pay(0, "A", "B", 100 + i) for i in range(4)]  # 100, 101, 102, 103 in queue order
    ticks = settlement_ticks(tmp_path, write(tmp_path, agents, events))
    # Tick 0: budget 0.5 x 406 = 203 -> 100 and 101 fit (201), 102 does not.
    # Tick 1: budget 0.5 x 205 = 102 -> 102 fits, then 103 does not.
    # Ticks 2-4: 0.5 x 103 = 51 -> nothing. Tick 5 (5/20 = 0.25): the late fraction, all.
    assert {amount: t for (_, amount), t in ticks.items()} == {
        100: [0],
        101: [0],
        102: [1],
        103: [5],
    }


def test_unknown_research_policy_is_bad_input_with_a_suggestion(tmp_path: Path) -> None:
    agents = [
        {"id": "A", "opening_balance": 1, "policy": "research:bech_garat_timing"},
        {"id": "B", "opening_balance": 1},
    ]
    run = paysim("run", write(tmp_path, agents, []), cwd=tmp_path)
    assert run.returncode == 2
    assert "no research policy named `bech_garat_timing`" in run.stderr
    assert "did you mean `bech_garratt_timing`?" in run.stderr
