"""The engine through the extension: runs, summaries, events as Arrow, checkpoints in a new
process, and engine errors arriving as paysim exceptions."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from paysim import PolicyError, ScenarioError, _core
from paysim.events import EVENT_SCHEMA, events_table
from tests.engine_configs import three_banks

SETTLEMENT_TYPES = ("RtgsImmediateSettlement", "Queue2LiquidityRelease", "OffsetSettlement")


def make(seed: int = 7) -> _core.Engine:
    return _core.Engine(json.dumps(three_banks(seed)))


def test_run_summary_money_adds_up() -> None:
    engine = make()
    engine.run()
    assert engine.done and engine.current_tick == engine.total_ticks == 40
    summary = json.loads(engine.summary_json())
    agents = summary["agents"]
    assert sum(a["final_balance"] for a in agents.values()) == sum(
        a["opening_balance"] for a in agents.values()
    )
    totals = summary["totals"]
    assert totals["arrivals"] > 20
    assert totals["arrivals"] == totals["settled"] + totals["dropped"] + totals["unsettled"]
    assert summary["costs"]["total"] == sum(a["costs"]["total"] for a in agents.values())


def test_events_table_columns_and_balance_reconstruction() -> None:
    engine = make()
    engine.run()
    table = events_table(engine)
    assert table.schema == EVENT_SCHEMA
    assert table.num_rows == engine.next_seq
    assert table.column("seq").to_pylist() == list(range(table.num_rows))
    rows = table.to_pylist()
    balances: dict[str, int] = {}
    for row in rows:
        json.loads(row["details"])
        if row["event_type"] == "AgentOpened":
            balances[row["agent_id"]] = row["amount"]
        elif row["event_type"] in SETTLEMENT_TYPES:
            balances[row["agent_id"]] -= row["amount"]
            balances[row["counterparty_id"]] += row["amount"]
    summary = json.loads(engine.summary_json())
    assert balances == {k: v["final_balance"] for k, v in summary["agents"].items()}
    assert rows[0]["event_type"] == "SimulationStarted"
    assert rows[0]["tx_id"] is None


def test_events_since_and_release() -> None:
    engine = make()
    engine.run_until(10)
    mid = engine.next_seq
    engine.run()
    tail = events_table(engine, since_seq=mid)
    assert tail.column("seq")[0].as_py() == mid
    assert events_table(engine, since_seq=mid, max_rows=3).num_rows == 3
    engine.release_events_before(mid)
    with pytest.raises(Exception, match="released"):
        events_table(engine, since_seq=0)


def test_same_seed_same_events_other_seed_differs() -> None:
    a, b, c = make(7), make(7), make(8)
    for e in (a, b, c):
        e.run()
    assert events_table(a).equals(events_table(b))
    assert not events_table(a).equals(events_table(c))


def test_checkpoint_restored_in_a_new_process_continues_identically(tmp_path: Path) -> None:
    cfg = json.dumps(three_banks())
    full = _core.Engine(cfg)
    full.run_until(17)
    (tmp_path / "ck.bin").write_bytes(full.checkpoint())
    (tmp_path / "cfg.json").write_text(cfg)
    seq = full.next_seq
    full.run()
    expected = events_table(full, since_seq=seq)
    script = (
        "import json, sys, pyarrow as pa\n"
        "from pathlib import Path\n"
        "from paysim import _core\n"
        "from paysim.events import events_table\n"
        "d = Path(sys.argv[1])\n"
        "e = _core.Engine.restore((d / 'cfg.json').read_text(), (d / 'ck.bin').read_bytes())\n"
        "seq = e.next_seq\n"
        "e.run()\n"
        "t = events_table(e, since_seq=seq)\n"
        "with pa.OSFile(str(d / 'out.arrow'), 'wb') as f:\n"
        "    w = pa.ipc.new_file(f, t.schema); w.write_table(t); w.close()\n"
        "(d / 'summary.json').write_text(e.summary_json())\n"
    )
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=True)
    with pa.memory_map(str(tmp_path / "out.arrow")) as source:
        got = pa.ipc.open_file(source).read_all()
    assert got.equals(expected)
    assert json.loads((tmp_path / "summary.json").read_text()) == json.loads(full.summary_json())


def test_config_errors_are_scenario_errors_with_pointer() -> None:
    cfg = three_banks()
    agents = cfg["agents"]
    assert isinstance(agents, list)
    agents[1]["limits"]["bilateral_limits"] = {"NOPE": 5}
    with pytest.raises(ScenarioError) as info:
        _core.Engine(json.dumps(cfg))
    assert info.value.pointer == "/agents/1/limits/bilateral_limits/NOPE"
    assert "unknown agent" in info.value.message


def test_hostile_inputs_raise_not_crash() -> None:
    for text in ["", "[]", "{", json.dumps({"simulation": 5}), "\x00" * 10]:
        with pytest.raises(ScenarioError):
            _core.Engine(text)
    engine = make()
    with pytest.raises(ScenarioError) as info:
        engine.inject_arrivals(
            json.dumps(
                [
                    {
                        "tick": 1,
                        "sender": "BANK_A",
                        "receiver": "BANK_A",
                        "amount": 5,
                        "deadline_tick": 3,
                    }
                ]
            )
        )
    assert info.value.pointer == "/0/receiver"
    with pytest.raises(PolicyError):
        engine.set_policy("BANK_A", json.dumps({"document": [], "parameters": {}, "source": "x"}))
    with pytest.raises(Exception, match="unknown agent"):
        engine.agent_json("NOBODY")
    with pytest.raises(Exception, match="restore|Corrupt|magic|checkpoint"):
        _core.Engine.restore(json.dumps(three_banks()), b"not a checkpoint")


def test_injected_arrivals_settle_and_appear_in_queues() -> None:
    cfg = three_banks()
    engine = _core.Engine(json.dumps(cfg))
    engine.inject_arrivals(
        json.dumps(
            [
                {
                    "tick": 0,
                    "sender": "BANK_C",
                    "receiver": "BANK_A",
                    "amount": 10_000_000,
                    "deadline_tick": 5,
                }
            ]
        )
    )
    engine.tick()
    # Injected arrivals enter after the tick's generated ones, so the id comes last.
    (queued,) = engine.queue2()
    payment = json.loads(engine.payment_json(queued))
    assert payment["location"] == "Q2" and payment["sender"] == "BANK_C"
    assert payment["amount"] == 10_000_000 and payment["source"] == "injected"
