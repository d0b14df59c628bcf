"""paysim-networks, installed with pip (``make plugins``): the networks themselves, and their
payments through the real ``paysim`` command."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from paysim_networks import flows, topology

PAYSIM = Path(sys.executable).with_name("paysim")


def paysim(*args: object, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PAYSIM), *map(str, args)], capture_output=True, text=True, cwd=cwd, check=False
    )


def scenario(tmp: Path, kind: str, options: dict[str, object], n: int = 30, days: int = 2) -> Path:
    agents = [
        {
            "id": f"B{i:02d}",
            "opening_balance": 50_000_000,
            "arrival_config": {"generator": {"name": kind, "options": options}},
        }
        for i in range(n)
    ]
    doc = {"simulation": {"ticks_per_day": 100, "num_days": days, "rng_seed": 4}, "agents": agents}
    path = tmp / f"{kind}.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def arrivals(tmp: Path, path: Path, *args: str) -> list[dict[str, object]]:
    run = paysim(
        "run", path, "--format", "events", "--filter-event-type", "Arrival", *args, cwd=tmp
    )
    assert run.returncode == 0, run.stderr
    return [json.loads(line) for line in run.stdout.splitlines()]


def test_installed_with_both_generators(tmp_path: Path) -> None:
    dist = importlib.metadata.distribution("paysim-networks")
    assert [(e.group, e.name) for e in dist.entry_points] == [("paysim", "networks")]
    run = paysim("plugins", "--format", "json", cwd=tmp_path)
    (entry,) = [e for e in json.loads(run.stdout) if e["name"] == "networks"]
    assert entry["registers"] == {
        "paysim_register_arrival_generators": ["scale_free", "core_periphery"]
    }


def test_scale_free_network_has_hubs_and_a_power_law_tail() -> None:
    net = topology.scale_free(2000, 2, seed=7)
    # Preferential attachment with m = 2: every joining bank adds 2 links.
    assert int(net.degree.sum()) // 2 == 3 + 2 * (2000 - 3)
    assert int(net.degree.min()) >= 2
    # Hubs: the maximum degree is far above the mean (4), and early banks are the hubs.
    assert int(net.degree.max()) > 60
    assert int(np.argmax(net.degree)) < 50
    # The tail of P(degree >= k) falls roughly like k^-2 (BA's exponent 3 for the density):
    # from k = 8 to k = 32 the share drops by a factor of about 16 (allow 6..40).
    share = [(net.degree >= k).mean() for k in (8, 32)]
    assert 6 < share[0] / share[1] < 40
    again = topology.scale_free(2000, 2, seed=7)
    assert all(np.array_equal(a, b) for a, b in zip(net.neighbours, again.neighbours, strict=True))


def test_core_periphery_network_by_hand() -> None:
    net = topology.core_periphery(
        6, core_size=2, periphery_links=1, periphery_density=0.0, core_weight=5.0, seed=1
    )
    assert net.neighbours[0].tolist()[0] == 1 and net.neighbours[1].tolist()[0] == 0
    for bank in range(2, 6):
        (hub,) = net.neighbours[bank].tolist()
        assert hub in (0, 1)
    # Activity: degree x core_weight for the core, degree for the periphery.
    assert net.activity.tolist() == [
        float(d) * (5.0 if i < 2 else 1.0) for i, d in enumerate(net.degree.tolist())
    ]


def test_tick_weights_follow_the_profile_segments() -> None:
    weights = flows.tick_weights((1.0, 3.0), 4)
    assert weights.tolist() == [0.125, 0.125, 0.375, 0.375]
    assert flows.tick_weights((1.0,), 5).tolist() == [0.2] * 5
    uneven = flows.tick_weights((1.0, 1.0, 2.0), 4)  # segments of 2, 1 and 1 ticks
    assert uneven.tolist() == [0.125, 0.125, 0.25, 0.5]


def test_core_periphery_payments_never_join_two_periphery_banks(tmp_path: Path) -> None:
    options = {"payments_per_day": 400, "core_size": 4, "profile": "afternoon"}
    rows = arrivals(tmp_path, scenario(tmp_path, "core_periphery", options))
    core = {f"B{i:02d}" for i in range(4)}
    assert len(rows) > 600
    assert all(r["agent_id"] in core or r["counterparty_id"] in core for r in rows)
    # The afternoon profile puts about 2/3 of the payments in the second half of the day.
    late = sum(1 for r in rows if int(str(r["tick"])) % 100 >= 50)
    assert 0.6 < late / len(rows) < 0.8
    # The core (4 of 30 banks) sends most payments.
    assert sum(1 for r in rows if r["agent_id"] in core) > len(rows) / 2


def test_payments_are_deterministic_per_seed_and_change_with_it(tmp_path: Path) -> None:
    path = scenario(tmp_path, "scale_free", {"payments_per_day": 300, "amount_sigma": 2.0})
    first, again = arrivals(tmp_path, path), arrivals(tmp_path, path)
    assert first == again
    other = arrivals(tmp_path, path, "--seed", "5")
    assert [r["amount"] for r in other] != [r["amount"] for r in first]
    # Heavy tail: the largest tenth of the payments carries most of the value.
    amounts = sorted((int(str(r["amount"])) for r in first), reverse=True)
    assert sum(amounts[: len(amounts) // 10]) > 0.5 * sum(amounts)
    # The network (topology_seed) is the same whatever the run seed: same set of pairs used.
    pairs = {(r["agent_id"], r["counterparty_id"]) for r in first + other}
    net = topology.scale_free(30, 2, seed=1)
    linked = {(f"B{a:02d}", f"B{b:02d}") for a in range(30) for b in net.neighbours[a].tolist()}
    assert pairs <= linked


def test_pareto_amounts_respect_the_minimum(tmp_path: Path) -> None:
    options = {
        "payments_per_day": 200,
        "amount_distribution": "pareto",
        "amount_min": 5_000,
        "pareto_alpha": 1.2,
    }
    rows = arrivals(tmp_path, scenario(tmp_path, "scale_free", options))
    assert rows and min(int(str(r["amount"])) for r in rows) >= 5_000


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"payments_per_dya": 10}, "unknown option `payments_per_dya`"),
        ({"profile": "evening"}, "option `profile`: expected one of uniform, afternoon, u_shaped"),
        ({"deadline_ticks": [5, 2]}, "option `deadline_ticks`"),
        ({"core_size": 2}, "unknown option `core_size` of `scale_free`"),
        ({"amount_sigma": -1}, "option `amount_sigma`: expected a number in [0, 10]"),
    ],
)
def test_bad_options_are_reported_at_the_stream(
    tmp_path: Path, options: dict[str, object], expected: str
) -> None:
    run = paysim("run", scenario(tmp_path, "scale_free", options, n=3), cwd=tmp_path)
    assert run.returncode == 2
    assert "scale_free.yaml at /agents/0/arrival_config/generator/options" in run.stderr
    assert "plugin `networks` (paysim-networks 0.1.0" in run.stderr
    assert expected in run.stderr
