"""paysim-tabular, installed with pip into the project venv (``make plugins``), used through the
real ``paysim`` command: CSV/Parquet replay and the Parquet event sink."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

PAYSIM = Path(sys.executable).with_name("paysim")
AGENTS = ("A", "B", "C")


def paysim(*args: object, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PAYSIM), *map(str, args)], capture_output=True, text=True, cwd=cwd, check=False
    )


def test_the_distribution_is_installed_by_pip_not_imported_from_the_source_tree() -> None:
    dist = importlib.metadata.distribution("paysim-tabular")
    assert dist.version == "0.1.0"
    (ep,) = [e for e in dist.entry_points if e.group == "paysim"]
    assert (ep.name, ep.value) == ("tabular", "paysim_tabular")
    import paysim_tabular

    assert "site-packages" in str(Path(paysim_tabular.__file__).resolve())


def scenario(tmp: Path, csv_options: dict[str, object], *, balances: tuple[int, ...]) -> Path:
    agents = []
    for agent_id, opening in zip(AGENTS, balances, strict=True):
        agents.append(
            {
                "id": agent_id,
                "opening_balance": opening,
                "unsecured_cap": 20_000,
                "arrival_config": {"generator": {"name": "tabular", "options": csv_options}},
            }
        )
    doc = {
        "simulation": {"ticks_per_day": 100, "num_days": 2, "rng_seed": 9},
        "cost_rates": {"delay_cost_per_tick_per_cent": 0.0001},
        "agents": agents,
    }
    path = tmp / "replay.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


CSV = """timestamp,sender,receiver,amount,deadline,priority,divisible
2024-03-04 08:00:00,A,B,1500.00,2024-03-04 10:00:00,5,false
2024-03-04 08:00:00,B,C,800.25,,7,
2024-03-04 08:05:59,C,A,300,,,true
2024-03-04 09:12:00,B,A,2000.5,2024-03-04 18:00:00,,
2024-03-04 17:59:59,A,C,42.42,,2,
2024-03-06 08:30:00,C,B,999.99,,,
2024-03-06 12:00:00,A,B,123.45,,,
"""
# By hand, with opening 08:00 and 6-minute ticks (100 ticks: 08:00-18:00), amounts x 100:
# (tick, sender, receiver, cents, deadline tick, priority, divisible)
EXPECTED = [
    (0, "A", "B", 150_000, 19, 5, False),  # deadline 10:00 -> ceil(7200/360) - 1 = 19
    (0, "B", "C", 80_025, 99, 7, None),  # no deadline: the last tick of its day
    (0, "C", "A", 30_000, 99, None, True),  # 359 s after opening: still tick 0
    (12, "B", "A", 200_050, 99, None, None),  # 09:12 = 4320 s = tick 12; 18:00 -> tick 99
    (99, "A", "C", 4_242, 99, 2, None),  # 17:59:59 is the last tick
    (105, "C", "B", 99_999, 199, None, None),  # 2024-03-06 is the second date: day 1
    (140, "A", "B", 12_345, 199, None, None),
]
OPTIONS = {
    "path": "payments.csv",
    "opening_time": "08:00",
    "tick_seconds": 360,
    "amount_scale": 100,
}


def arrivals_of(events: list[dict[str, object]]) -> list[tuple[object, ...]]:
    out: list[tuple[object, ...]] = []
    for e in events:
        if e["event_type"] != "Arrival":
            continue
        d = e["details"]
        assert isinstance(d, dict)
        out.append(
            (e["tick"], e["agent_id"], e["counterparty_id"], e["amount"], d["deadline_tick"])
        )
    return out


def test_csv_replay_maps_timestamps_and_amounts_onto_the_clock(tmp_path: Path) -> None:
    (tmp_path / "payments.csv").write_text(CSV)
    path = scenario(tmp_path, OPTIONS, balances=(500_000, 500_000, 500_000))
    run = paysim("run", path, "--format", "events", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    events = [json.loads(line) for line in run.stdout.splitlines()]
    got = sorted(arrivals_of(events), key=lambda a: (a[0], AGENTS.index(str(a[1]))))
    assert got == sorted([e[:5] for e in EXPECTED], key=lambda a: (a[0], AGENTS.index(str(a[1]))))
    by_tx = {
        (e["tick"], e["agent_id"], e["amount"]): e["details"]
        for e in events
        if e["event_type"] == "Arrival"
    }
    for tick, sender, _, cents, _, priority, divisible in EXPECTED:
        details = by_tx[(tick, sender, cents)]
        assert isinstance(details, dict)
        assert details["priority"] == (5 if priority is None else priority)
        assert details["divisible"] is bool(divisible)
        assert details["source"] == "injected"


def as_custom_events(tmp_path: Path, balances: tuple[int, ...]) -> Path:
    """The same payments as CustomTransactionArrival events (deadline: ticks after arrival)."""
    doc = {
        "simulation": {"ticks_per_day": 100, "num_days": 2, "rng_seed": 9},
        "cost_rates": {"delay_cost_per_tick_per_cent": 0.0001},
        "agents": [
            {"id": a, "opening_balance": b, "unsecured_cap": 20_000}
            for a, b in zip(AGENTS, balances, strict=True)
        ],
        "scenario_events": [
            {
                "type": "CustomTransactionArrival",
                "schedule": "OneTime",
                "tick": tick,
                "from_agent": sender,
                "to_agent": receiver,
                "amount": cents,
                "deadline": deadline - tick,
                "priority": 5 if priority is None else priority,
                "is_divisible": bool(divisible),
            }
            for tick, sender, receiver, cents, deadline, priority, divisible in EXPECTED
        ],
    }
    path = tmp_path / "custom.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.mark.parametrize("balances", [(500_000, 500_000, 500_000), (10_000, 50_000, 0)])
def test_parquet_sink_holds_exactly_the_events_and_balances_match_custom_arrivals(
    tmp_path: Path, balances: tuple[int, ...]
) -> None:
    """The issue's must: same events as --format events, same balances as the same payments
    given as CustomTransactionArrival events (ample liquidity, and tight liquidity where
    payments queue and some stay unsettled)."""
    (tmp_path / "payments.csv").write_text(CSV)
    path = scenario(tmp_path, OPTIONS, balances=balances)
    out = tmp_path / "events.parquet"
    run = paysim("run", path, "--sink", f"parquet:path={out}", "--format", "events", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    jsonl = [json.loads(line) for line in run.stdout.splitlines()]
    table = pq.read_table(out)
    rows = table.to_pylist()
    for row in rows:
        row["details"] = json.loads(row["details"])
    assert len(rows) == len(jsonl) > 0
    assert rows == jsonl
    metadata = pq.read_metadata(out).metadata
    summary = json.loads(metadata[b"paysim.summary"])
    assert json.loads(metadata[b"paysim.run_info"])["seed"] == 9
    assert table.schema.field("amount").type == pa.int64()
    assert pq.read_metadata(out).row_group(0).column(0).compression == "ZSTD"
    assert not list(tmp_path.glob(".*partial"))

    custom = paysim("run", as_custom_events(tmp_path, balances), "--format", "json", cwd=tmp_path)
    assert custom.returncode == 0, custom.stderr
    expected = json.loads(custom.stdout)
    for agent in AGENTS:
        mine, theirs = summary["agents"][agent], expected["agents"][agent]
        assert mine["final_balance"] == theirs["final_balance"]
        assert mine["settled_sent"] == theirs["settled_sent"]
    assert summary["totals"] == expected["totals"]


def test_parquet_input_and_tick_columns(tmp_path: Path) -> None:
    pq.write_table(
        pa.table(
            {
                "tick": [3, 3, 150],
                "sender": ["A", "B", "C"],
                "receiver": ["B", "A", "A"],
                "amount": [100, 200, 300],
                "deadline": [10, None, 160],
            }
        ),
        tmp_path / "p.parquet",
    )
    path = scenario(tmp_path, {"path": "p.parquet"}, balances=(1_000, 1_000, 1_000))
    run = paysim("run", path, "--format", "events", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    got = arrivals_of([json.loads(line) for line in run.stdout.splitlines()])
    assert sorted(got, key=str) == sorted(
        [(3, "A", "B", 100, 10), (3, "B", "A", 200, 99), (150, "C", "A", 300, 160)], key=str
    )


@pytest.mark.parametrize(
    ("row", "options", "expected"),
    [
        ("2024-03-04 08:00:00,A,Z,10,,,", {}, "row 2, column `receiver`: unknown bank `Z`"),
        ("2024-03-04 08:00:00,A,a,10,,,", {}, "(did you mean `A`?)"),
        ("2024-03-04 08:00:00,A,B,ten,,,", {}, "row 2, column `amount`: not a number"),
        ("2024-03-04 08:00:00,A,B,0.001,,,", {}, "row 2, column `amount`: 0.001 is not a whole"),
        ("2024-03-04 08:00:00,A,B,-5,,,", {}, "row 2, column `amount`: -5: expected 1 to 10^15"),
        (
            "2024-03-04 18:00:00,A,B,1,,,",
            {},
            "row 2, column `timestamp`: 2024-03-04 18:00:00 is "
            "outside the business day (opens 08:00, closes 18:00)",
        ),
        ("2024-03-04 07:59:59,A,B,1,,,", {}, "outside the business day"),
        ("yesterday,A,B,1,,,", {}, "row 2, column `timestamp`: not a timestamp"),
        (
            "2024-03-04 09:00:00,A,B,1,2024-03-04 08:00:00,,",
            {},
            "column `deadline`: 2024-03-04 08:00:00 is before the arrival",
        ),
        (
            "2024-03-04 09:00:00,A,B,1,,11,",
            {},
            "row 2, column `priority`: expected an integer 0..10",
        ),
        ("2024-03-04 09:00:00,A,B,1,,,maybe", {}, "row 2, column `divisible`"),
        (
            "2024-03-04 09:00:00,A,A,1,,,",
            {},
            "row 2, column `receiver`: the receiver is the sender",
        ),
        (
            "2024-03-01 09:00:00,A,B,1,,,",
            {"start_date": "2024-03-04"},
            "row 2, column `timestamp`: 2024-03-01 09:00:00 is before start_date",
        ),
    ],
)
def test_bad_rows_are_reported_with_file_row_and_column(
    tmp_path: Path, row: str, options: dict[str, object], expected: str
) -> None:
    header, first = CSV.splitlines()[:2]
    (tmp_path / "payments.csv").write_text(f"{header}\n{first}\n{row}\n")
    path = scenario(tmp_path, {**OPTIONS, **options}, balances=(1, 1, 1))
    out = tmp_path / "never.parquet"
    run = paysim("run", path, "--sink", f"parquet:path={out}", cwd=tmp_path)
    assert run.returncode == 2, run.stderr
    assert run.stderr.startswith("error: payments.csv: plugin `tabular` (paysim-tabular 0.1.0")
    assert expected in run.stderr
    assert "Traceback" not in run.stderr
    assert not out.exists() and not list(tmp_path.glob(".*partial"))


def test_bad_options_point_into_the_scenario(tmp_path: Path) -> None:
    (tmp_path / "payments.csv").write_text(CSV)
    path = scenario(tmp_path, {**OPTIONS, "tick_secs": 360}, balances=(1, 1, 1))
    run = paysim("run", path, cwd=tmp_path)
    assert run.returncode == 2
    assert "replay.yaml at /agents/0/arrival_config/generator/options" in run.stderr
    assert (
        "unknown option `tick_secs`" in run.stderr and "did you mean `tick_seconds`?" in run.stderr
    )
    missing = scenario(tmp_path, {"path": "nope.csv"}, balances=(1, 1, 1))
    run = paysim("run", missing, cwd=tmp_path)
    assert run.returncode == 2 and "nope.csv" in run.stderr and "not found" in run.stderr


def test_calendar_days_leave_gaps_and_dates_do_not(tmp_path: Path) -> None:
    (tmp_path / "payments.csv").write_text(CSV)
    calendar = scenario(tmp_path, {**OPTIONS, "days": "calendar"}, balances=(10**6,) * 3)
    run = paysim("run", calendar, "--days", "3", "--format", "events", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    ticks = sorted(
        int(str(a[0])) for a in arrivals_of([json.loads(x) for x in run.stdout.splitlines()])
    )
    # 2024-03-06 is two calendar days after 2024-03-04: day 2, ticks 205 and 240.
    assert ticks == [0, 0, 0, 12, 99, 205, 240]


def test_parquet_sink_refuses_to_overwrite_and_keeps_the_old_file_when_the_run_fails(
    tmp_path: Path,
) -> None:
    (tmp_path / "payments.csv").write_text(CSV)
    path = scenario(tmp_path, OPTIONS, balances=(500_000,) * 3)
    out = tmp_path / "events.parquet"
    out.write_bytes(b"keep me")
    run = paysim("run", path, "--sink", f"parquet:path={out}", cwd=tmp_path)
    assert run.returncode == 2 and "already exists" in run.stderr
    assert out.read_bytes() == b"keep me"
    run = paysim("run", path, "--sink", f"parquet:path={out},compression=zip", cwd=tmp_path)
    assert run.returncode == 2 and "compression" in run.stderr and "paysim-tabular" in run.stderr
    run = paysim("run", path, "--sink", f"parquet:path={path}", cwd=tmp_path)
    assert run.returncode == 2 and "already exists" in run.stderr
    run = paysim("run", path, "--sink", f"parquet:path={path},overwrite=true", cwd=tmp_path)
    assert run.returncode == 2 and "is an input of this run" in run.stderr
    assert yaml.safe_load(path.read_text())["agents"]
    run = paysim("run", path, "--sink", f"parquet:path={out},overwrite=true", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert pq.read_table(out).num_rows > 0
