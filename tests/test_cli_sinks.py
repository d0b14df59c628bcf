"""Output sinks: the plugin registry, the run driver, the renderings and the filters."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import pyarrow as pa
import pytest

import paysim
from paysim.events import EVENT_SCHEMA
from paysim.hookspecs import hookimpl
from paysim.plugins import plugin_manager
from paysim.sinks import (
    ConsoleSink,
    EventFilter,
    JsonlSink,
    SinkError,
    create_sink,
    event_lines,
    parse_sink_spec,
    run_with_sinks,
    sink_factories,
)
from paysim.sinks.verbose import describe, money
from tests.cli_support import DEMO, SCENARIOS, invoke


class Recorder:
    """A sink that remembers every call."""

    name = "recorder"

    def __init__(self, label: str = "") -> None:
        self.label = label
        self.calls: list[tuple[str, Any]] = []
        self.rows = 0
        self.largest = 0

    def open(self, run_info: Mapping[str, object]) -> None:
        self.calls.append(("open", dict(run_info)))

    def write_events(self, batch: pa.RecordBatch) -> None:
        assert isinstance(batch, pa.RecordBatch) and batch.schema.equals(EVENT_SCHEMA)
        self.rows += batch.num_rows
        self.largest = max(self.largest, batch.num_rows)
        self.calls.append(("events", batch.column("seq").to_pylist()))

    def end_of_day(self, day: int, day_summary: Mapping[str, object]) -> None:
        self.calls.append(("day", (day, dict(day_summary))))

    def close(self, summary: Mapping[str, object]) -> None:
        self.calls.append(("close", dict(summary)))


class RecorderPlugin:
    last: Recorder | None = None

    @hookimpl
    def paysim_register_sinks(self, register: Any) -> None:
        def make(label: str = "") -> Recorder:
            RecorderPlugin.last = Recorder(label)
            return RecorderPlugin.last

        register("recorder", make)


@pytest.fixture
def recorder_plugin() -> Iterator[type[RecorderPlugin]]:
    plugin = RecorderPlugin()
    plugin_manager().register(plugin, name="test-recorder")
    try:
        yield RecorderPlugin
    finally:
        plugin_manager().unregister(name="test-recorder")


def test_builtin_sinks_are_registered_as_plugins() -> None:
    assert {"console", "jsonl"} <= set(sink_factories())
    assert any("sinks" in name for name, _ in plugin_manager().list_name_plugin())


def test_a_plugin_sink_receives_the_whole_run_through_the_cli(
    recorder_plugin: type[RecorderPlugin],
) -> None:
    result = invoke("run", SCENARIOS / "castro_2period.yaml", "--sink", "recorder:label=x")
    assert result.exit_code == 0, result.stderr
    rec = recorder_plugin.last
    assert rec is not None and rec.label == "x"
    kinds = [kind for kind, _ in rec.calls]
    assert kinds[0] == "open" and kinds[-1] == "close"
    days = [payload for kind, payload in rec.calls if kind == "day"]
    # castro_2period.yaml is one day: 7 payments settle, B's liquidity costs 2,000.
    assert [d for d, _ in days] == [0]
    assert all(s["cost"] == 2000 and s["settled"] == 7 for _, s in days)
    info = rec.calls[0][1]
    assert info["agents"] == ["BANK_A", "BANK_B"] and info["ticks_per_day"] == 2
    seqs = [s for kind, payload in rec.calls if kind == "events" for s in payload]
    assert seqs == list(range(len(seqs)))
    assert rec.calls[-1][1]["totals"]["settled"] == 7


def test_driver_batches_are_bounded_and_events_are_released() -> None:
    sim = paysim.Simulation(str(DEMO))
    rec = Recorder()
    summary = run_with_sinks(sim, [rec], batch_rows=50)
    assert rec.largest <= 50 and rec.rows == 678
    assert summary["totals"] == sim.summary()["totals"]
    with pytest.raises(paysim.SimulationError, match="released"):
        sim.events(0)


def test_driver_exports_nothing_when_no_sink_wants_events() -> None:
    sim = paysim.Simulation(str(DEMO))
    quiet = ConsoleSink(mode="json")
    assert quiet.wants_events is False

    class Blind(Recorder):
        wants_events = False

    rec = Blind()
    run_with_sinks(sim, [rec])
    assert rec.rows == 0 and [k for k, _ in rec.calls].count("day") == 1


def test_sink_specs() -> None:
    assert parse_sink_spec("jsonl") == ("jsonl", {})
    assert parse_sink_spec("jsonl:path=a.jsonl, x = 1") == ("jsonl", {"path": "a.jsonl", "x": "1"})
    for bad in ("", ":path=x", "jsonl:path"):
        with pytest.raises(SinkError):
            parse_sink_spec(bad)
    assert isinstance(create_sink("jsonl", {"path": "-"}), JsonlSink)
    with pytest.raises(SinkError, match="known sinks"):
        create_sink("nope")
    with pytest.raises(SinkError, match="mode must be one of"):
        create_sink("console", {"mode": "loud"})


def _batch(rows: list[dict[str, object]]) -> pa.RecordBatch:
    full = [
        {
            "seq": i,
            "tick": 3,
            "day": 0,
            "tx_id": None,
            "agent_id": None,
            "counterparty_id": None,
            "amount": None,
            **row,
        }
        for i, row in enumerate(rows)
    ]
    return pa.RecordBatch.from_pylist(full, schema=EVENT_SCHEMA)


def test_jsonl_lines_keep_nulls_and_splice_details() -> None:
    batch = _batch([{"event_type": "EndOfDay", "details": '{"day":0,"note":"a \\"q\\""}'}])
    (line,) = event_lines(batch)
    assert line.endswith("\n")
    assert json.loads(line) == {
        "seq": 0,
        "tick": 3,
        "day": 0,
        "event_type": "EndOfDay",
        "tx_id": None,
        "agent_id": None,
        "counterparty_id": None,
        "amount": None,
        "details": {"day": 0, "note": 'a "q"'},
    }


def test_filter_matches_ids_inside_details() -> None:
    batch = _batch(
        [
            {
                "event_type": "LsmCycleSettlement",
                "agent_id": "A",
                "details": '{"agents":["A","B"]}',
            },
            {"event_type": "Arrival", "agent_id": "C", "counterparty_id": "D", "details": "{}"},
            {"event_type": "Arrival", "agent_id": "C", "counterparty_id": "B", "details": "{}"},
        ]
    )
    kept = EventFilter.of(agent="B").apply(batch)
    assert kept.column("seq").to_pylist() == [0, 2]
    kept = EventFilter.of(agent="B", event_types=["Arrival"]).apply(batch)
    assert kept.column("seq").to_pylist() == [2]
    assert EventFilter.of(tick_range=(4, None)).apply(batch).num_rows == 0
    assert not EventFilter().active


def test_money_renders_cents_as_units() -> None:
    assert money(0) == "0.00" and money(5) == "0.05" and money(-123456) == "-1,234.56"


def _line(event_type: str, details: dict[str, object], **cols: object) -> str:
    row = {"event_type": event_type, "details": json.dumps(details), **cols}
    line = describe(row)
    assert line is not None
    return line.text


def test_verbose_renders_offsets_and_cycles_with_members_and_amounts() -> None:
    # These events appear once the LSM lands; their rendering is checked on synthetic rows.
    pair = _line(
        "LsmBilateralOffset",
        {"amount_ab": 200000, "amount_ba": 180000, "tx_ids": ["t1", "t2"], "net_payer": "C"},
        agent_id="C",
        counterparty_id="D",
        amount=380000,
    )
    assert "C ⇄ D" in pair and "C → D 2,000.00" in pair and "D → C 1,800.00" in pair
    assert "2 payments" in pair
    cycle = _line(
        "LsmCycleSettlement",
        {
            "agents": ["A", "B", "C"],
            "edge_amounts": [250000, 250000, 250000],
            "net_positions": [0, 0, 0],
            "tx_ids": ["t1", "t2", "t3"],
        },
        agent_id="A",
        amount=750000,
    )
    assert "A → B → C → A" in cycle and "7,500.00" in cycle and "A +0.00" in cycle
    offset = _line(
        "OffsetSettlement",
        {"mechanism": "cycle", "group_seq": 10, "deferred": False},
        tx_id="t1",
        agent_id="A",
        counterparty_id="B",
        amount=250000,
    )
    assert "t1  A → B  2,500.00" in offset and "cycle offset" in offset
    entry = _line(
        "EntryDispositionOffset",
        {
            "queued_tx_id": "t0",
            "incoming_amount": 500,
            "queued_amount": 300,
            "net_payer": "A",
            "net": 200,
        },
        tx_id="t9",
        agent_id="A",
        counterparty_id="B",
        amount=600,
    )
    assert "t9 against queued t0" in entry and "A pays the net 2.00" in entry


def test_verbose_shows_unknown_events_and_skips_repeats() -> None:
    assert describe({"event_type": "SimulationStarted", "details": "{}"}) is None
    assert _line("SomethingNew", {"x": 1}, agent_id="A").startswith("SomethingNew")
    # A known type with a missing detail falls back to the raw event instead of failing.
    assert _line("PriorityEscalated", {}, tx_id="t").startswith("PriorityEscalated")


def test_progress_only_for_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from paysim.cli.progress import wanted

    class Tty:
        def __init__(self, tty: bool) -> None:
            self.tty = tty

        def isatty(self) -> bool:
            return self.tty

    monkeypatch.setattr(sys, "stderr", Tty(False))
    assert not wanted(disabled=False, streams_to_stdout=False)
    monkeypatch.setattr(sys, "stderr", Tty(True))
    monkeypatch.setattr(sys, "stdout", Tty(False))
    assert wanted(disabled=False, streams_to_stdout=True)
    assert not wanted(disabled=True, streams_to_stdout=False)
    monkeypatch.setattr(sys, "stdout", Tty(True))
    assert wanted(disabled=False, streams_to_stdout=False)
    assert not wanted(disabled=False, streams_to_stdout=True)


def test_progress_bar_appears_only_after_the_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    from paysim.cli import progress

    with progress.progress_bar("x", enabled=False) as update:
        assert update is None
    monkeypatch.setattr(progress, "DELAY", 3600.0)
    with progress.progress_bar("x", enabled=True) as update:
        assert update is not None
        update(5, 10)  # too early: nothing is started
    monkeypatch.setattr(progress, "DELAY", 0.0)
    with progress.progress_bar("x", enabled=True) as update:
        assert update is not None
        update(10, 10)  # already done: no bar for finished work
        update(5, 10)
        update(10, 10)


@pytest.mark.parametrize("name", ["demo.yaml", "target2_features.yaml", "lsm_designs.yaml"])
def test_verbose_plain_text_path_matches_what_rich_prints(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """For a file or pipe the verbose sink writes its lines directly instead of through rich;
    the bytes must be the ones rich would print there (same rules, no styles, no wrapping)."""
    import io

    from rich.console import Console
    from rich.rule import Rule
    from rich.text import Text

    sim = paysim.Simulation(str(SCENARIOS / name))
    sim.run()
    batch = sim.events(0)
    plain = io.StringIO()
    monkeypatch.setattr("sys.stdout", plain)
    sink = ConsoleSink(mode="verbose")
    sink._tick = None
    sink.write_events(batch)

    rich_out = io.StringIO()
    console = Console(file=rich_out, width=120, highlight=False)
    tick = None
    for row in batch.to_pylist():
        line = describe(row)
        if line is None:
            continue
        if row["tick"] != tick:
            tick = row["tick"]
            console.print(Rule(f"tick {row['tick']} · day {row['day']}", align="left"))
        console.print(Text("  " + line.text, style=line.style), soft_wrap=True)
    expected = rich_out.getvalue()
    assert expected.count("\n") > 50
    assert plain.getvalue() == expected
