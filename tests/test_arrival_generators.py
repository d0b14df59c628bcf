"""Streams with a `generator` get their payments from a registered arrival-generator plugin."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Mapping
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import paysim
from paysim import _core
from paysim.arrivals import GeneratorRecordError
from paysim.events import events_table
from paysim.hookspecs import hookimpl
from paysim.plugins import plugin_manager
from paysim.simulation import RUN_METADATA_KEYS

SCENARIO = """
simulation: {ticks_per_day: 20, num_days: 2, rng_seed: 5}
agents:
  - id: A
    opening_balance: 1000000
    arrival_config:
      generator: {name: every_few_ticks, options: {every: 3, receiver: B}}
  - {id: B, opening_balance: 0}
"""


class EveryFewTicks:
    """One payment every `every` ticks to `receiver`, amounts drawn from the given seed."""

    name = "every_few_ticks"

    def generate(
        self, scenario: object, agent_id: str, options: Mapping[str, object], seed: int
    ) -> Iterator[list[Mapping[str, object]]]:
        rng = random.Random(seed)
        every = int(str(options["every"]))
        for tick in range(0, 60, every):  # deliberately past a 40-tick run
            yield [
                {
                    "tick": tick,
                    "sender": agent_id,
                    "receiver": options["receiver"],
                    "amount": rng.randint(100, 1000),
                    "deadline_tick": tick + 5,
                }
            ]


class Plugin:
    @hookimpl
    def paysim_register_arrival_generators(self, register: object) -> None:
        assert callable(register)
        register(EveryFewTicks())


@pytest.fixture
def generator_plugin() -> Iterator[None]:
    pm = plugin_manager()
    plugin = Plugin()
    pm.register(plugin, name="test-every-few-ticks")
    try:
        yield
    finally:
        pm.unregister(plugin)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gen.yaml"
    path.write_text(text)
    return path


def test_generator_arrivals_are_injected_and_reproducible(
    tmp_path: Path, generator_plugin: None
) -> None:
    path = write(tmp_path, SCENARIO)
    sim = paysim.Simulation(path)
    sim.run()
    rows = [r for r in sim.events().to_pylist() if r["event_type"] == "Arrival"]
    assert [r["tick"] for r in rows] == list(range(0, 40, 3))
    assert {r["counterparty_id"] for r in rows} == {"B"}
    assert all('"source":"injected"' in r["details"] for r in rows)
    assert any("after the end of the run" in w for w in sim.warnings)
    again = paysim.Simulation(path)
    again.run()
    assert again.events().equals(sim.events())
    other = paysim.Simulation(path, seed=6)
    other.run()
    other_amounts = [
        r["amount"] for r in other.events().to_pylist() if r["event_type"] == "Arrival"
    ]
    assert other_amounts != [r["amount"] for r in rows]
    # run_many injects the same records in its engine threads.
    (summary,) = paysim.run_many(path, [5])
    assert isinstance(summary, dict)
    strip = {k: v for k, v in sim.summary().items() if k not in RUN_METADATA_KEYS}
    assert {k: v for k, v in summary.items() if k not in RUN_METADATA_KEYS} == strip
    # A checkpoint holds the generated arrivals still to come.
    half = paysim.Simulation(path)
    half.run_until(10)
    restored = paysim.Simulation.restore(path, half.checkpoint())
    restored.run()
    assert restored.summary()["totals"] == sim.summary()["totals"]


def test_unknown_generator_is_a_scenario_error(tmp_path: Path) -> None:
    path = write(tmp_path, SCENARIO.replace("every_few_ticks", "every_few_tiks"))
    with pytest.raises(paysim.ScenarioError) as info:
        paysim.Simulation(path)
    assert info.value.pointer == "/agents/0/arrival_config/generator/name"
    assert "unknown arrival generator `every_few_tiks`" in str(info.value)


# --- Bulk (columnar) batches ---------------------------------------------------------------

BULK = """
simulation: {ticks_per_day: 10, num_days: 2, rng_seed: 5}
agents:
  - {id: A, opening_balance: 5000, arrival_config: {generator: {name: bulk, options: {}}}}
  - {id: B, opening_balance: 100, arrival_config: {generator: {name: bulk, options: {}}}}
  - {id: C, opening_balance: 0}
"""


class Bulk:
    """Yields whatever the test puts in ``batches`` (per agent), then stops."""

    name = "bulk"
    batches: dict[str, list[object]] = {}

    def generate(
        self, scenario: object, agent_id: str, options: Mapping[str, object], seed: int
    ) -> Iterator[object]:
        yield from self.batches.get(agent_id, [])


class BulkPlugin:
    @hookimpl
    def paysim_register_arrival_generators(self, register: object) -> None:
        assert callable(register)
        register(Bulk())


@pytest.fixture
def bulk(tmp_path: Path) -> Iterator[tuple[type[Bulk], Path]]:
    pm = plugin_manager()
    plugin = BulkPlugin()
    pm.register(plugin, name="test-bulk")
    Bulk.batches = {}
    try:
        yield Bulk, write(tmp_path, BULK)
    finally:
        pm.unregister(plugin)


RECORDS = [
    {"tick": 0, "sender": "A", "receiver": "B", "amount": 700, "deadline_tick": 4},
    {
        "tick": 0,
        "sender": "A",
        "receiver": "C",
        "amount": 300,
        "deadline_tick": 9,
        "priority": 9,
        "divisible": True,
        "rtgs_priority": "Urgent",
    },
    {
        "tick": 3,
        "sender": "A",
        "receiver": "B",
        "amount": 4500,
        "deadline_tick": 12,
        "priority": None,
    },
    {"tick": 12, "sender": "A", "receiver": "C", "amount": 25, "deadline_tick": 19},
]


def as_columns(records: list[dict[str, object]]) -> dict[str, list[object]]:
    fields = [
        "tick",
        "sender",
        "receiver",
        "amount",
        "deadline_tick",
        "priority",
        "divisible",
        "rtgs_priority",
    ]
    return {f: [r.get(f) for r in records] for f in fields}


def arrivals(sim: paysim.Simulation) -> list[tuple[object, ...]]:
    rows = [r for r in sim.events().to_pylist() if r["event_type"] == "Arrival"]
    return [
        (r["tick"], r["agent_id"], r["counterparty_id"], r["amount"], r["details"]) for r in rows
    ]


def test_records_columns_numpy_and_record_batches_give_the_same_run(bulk) -> None:
    import numpy as np

    gen, path = bulk
    forms: list[list[object]] = [
        [RECORDS[:2], RECORDS[2:]],
        [as_columns(RECORDS)],
        [pa.RecordBatch.from_pydict(as_columns(RECORDS))],
        [pa.Table.from_pydict(as_columns(RECORDS[:3])), as_columns(RECORDS[3:])],
        [
            {
                **as_columns(RECORDS),
                "tick": np.array([0, 0, 3, 12], dtype=np.uint16),
                "amount": np.array([700, 300, 4500, 25]),
            }
        ],
    ]
    runs = []
    for batches in forms:
        gen.batches = {"A": batches}
        sim = paysim.Simulation(path)
        sim.run()
        runs.append((arrivals(sim), sim.summary()["totals"]))
    assert all(run == runs[0] for run in runs[1:])
    got = runs[0][0]
    assert [(t, a, c, m) for t, a, c, m, _ in got] == [
        (0, "A", "B", 700),
        (0, "A", "C", 300),
        (3, "A", "B", 4500),
        (12, "A", "C", 25),
    ]
    assert '"priority":9' in str(got[1][4]) and '"divisible":true' in str(got[1][4])
    assert '"rtgs_priority":"Urgent"' in str(got[1][4]) and '"priority":5' in str(got[2][4])


def test_batches_are_the_same_as_json_records_into_the_engine(bulk) -> None:
    """The columnar path and the engine's JSON path queue identical payments."""
    gen, path = bulk
    gen.batches = {"A": [as_columns(RECORDS)]}
    sim = paysim.Simulation(path)
    sim.run()
    engine = _core.Engine(sim.config_json)
    engine.inject_arrivals(json.dumps(RECORDS))
    engine.run()
    reference = events_table(engine).to_pylist()
    assert sim.events().to_pylist() == reference


@pytest.mark.parametrize(
    ("batch", "where"),
    [
        (
            {"tick": [1], "sender": ["A"], "receiver": ["B"], "amount": [5], "deadline": [3]},
            "batch 0, field `deadline`: unknown field `deadline`; fields are tick, sender, "
            "receiver, amount, deadline_tick, priority, divisible, rtgs_priority (did you mean "
            "`deadline_tick`?)",
        ),
        (
            [RECORDS[0], {**RECORDS[0], "amount": 12.5}],
            "batch 0, record 1, field `amount`: expected an integer, found 12.5 (float)",
        ),
        (
            [RECORDS[0], {k: v for k, v in RECORDS[0].items() if k != "deadline_tick"}],
            "batch 0, record 1, field `deadline_tick`: missing",
        ),
        (
            [RECORDS[0], {**RECORDS[0], "receiver": 7}],
            "batch 0, record 1, field `receiver`: expected a string, found 7 (int)",
        ),
        (
            [RECORDS[0], {**RECORDS[0], "divisible": 1}],
            "batch 0, record 1, field `divisible`: expected true or false, found 1 (int)",
        ),
        (
            [RECORDS[0], {**RECORDS[0], "amount": 2**64}],
            "batch 0, record 1, field `amount`: 18446744073709551616 is outside the 64-bit range",
        ),
        (
            {
                "tick": [1, 2],
                "sender": ["A"],
                "receiver": ["B"],
                "amount": [5],
                "deadline_tick": [3],
            },
            "batch 0: columns of different lengths (tick: 2, sender: 1, receiver: 1, amount: 1, "
            "deadline_tick: 1)",
        ),
        (
            {
                "tick": pa.array([1.0]),
                "sender": ["A"],
                "receiver": ["B"],
                "amount": [5],
                "deadline_tick": [3],
            },
            "batch 0, field `tick`: expected integers, found a column of double",
        ),
        (
            "not a batch",
            "batch 0: expected a list of records, a dict of columns or a "
            "pyarrow.RecordBatch, found str",
        ),
        (
            [RECORDS[0], {**RECORDS[0], "receiver": "Z"}],
            "batch 0, record 1, field `receiver`: unknown agent `Z`",
        ),
        (
            [RECORDS[0], {**RECORDS[0], "deadline_tick": -1, "tick": 2}],
            "batch 0, record 1, field `deadline_tick`: the deadline is before the arrival tick",
        ),
        (
            [{**RECORDS[0], "tick": 25}, {**RECORDS[0], "rtgs_priority": "Now"}],
            "batch 0, record 1, field `rtgs_priority`: expected HighlyUrgent, Urgent or Normal, "
            "found `Now`",
        ),
    ],
)
def test_a_bad_batch_or_record_is_located(bulk, batch: object, where: str) -> None:
    gen, path = bulk
    gen.batches = {"B": [batch]}
    with pytest.raises(GeneratorRecordError) as info:
        paysim.Simulation(path)
    error = info.value
    assert error.file == str(path) and error.pointer == "/agents/1/arrival_config/generator"
    assert str(error) == (
        f"{path} at /agents/1/arrival_config/generator: plugin `test-bulk`, hook "
        f"`paysim_register_arrival_generators`: generator `bulk` for agent `B` yielded a bad "
        f"record ({where})"
    )
    # run_many reports the same record: from its engine threads in the run's slot (what the
    # engine rejects), or before starting them (what Python rejects), like other bad input.
    result: object
    try:
        (result,) = paysim.run_many(path, [5])
    except GeneratorRecordError as exc:
        result = exc
    assert isinstance(result, GeneratorRecordError)
    assert f"({where})" in str(result)


def test_a_late_record_is_dropped_and_indices_still_point_at_the_yielded_batch(bulk) -> None:
    gen, path = bulk
    late = {**RECORDS[0], "tick": 20}
    gen.batches = {"A": [[late, RECORDS[0], {**RECORDS[0], "amount": 0}]]}
    with pytest.raises(GeneratorRecordError) as info:
        paysim.Simulation(path)
    assert info.value.record == 2 and info.value.field == "amount" and info.value.batch == 0
    gen.batches = {"A": [[late, RECORDS[0]], [late]]}
    sim = paysim.Simulation(path)
    assert sim.warnings == ["2 generated arrival(s) fall after the end of the run and are ignored"]
    sim.run()
    assert sim.summary()["totals"]["arrivals"] == 1  # type: ignore[index]


def test_an_endless_generator_stops_at_the_first_batch_after_the_end(bulk) -> None:
    import itertools

    gen, path = bulk

    def endless() -> Iterator[object]:
        for day in itertools.count():
            yield [{**RECORDS[0], "tick": 10 * day, "deadline_tick": 10 * day + 5}]

    gen.batches = {"A": endless()}  # 2 days of 10 ticks: days 0 and 1, then day 2 ends it
    sim = paysim.Simulation(path)
    assert sim.warnings == ["1 generated arrival(s) fall after the end of the run and are ignored"]
    sim.run()
    assert sim.summary()["totals"]["arrivals"] == 2  # type: ignore[index]


def test_a_generator_that_raises_is_a_plugin_error(bulk) -> None:
    from paysim.plugins import PluginError

    gen, path = bulk

    def broken() -> Iterator[object]:
        yield RECORDS[:1]
        raise KeyError("rate")

    gen.batches = {"A": broken()}
    with pytest.raises(PluginError) as info:
        paysim.Simulation(path)
    assert str(info.value) == (
        "plugin `test-bulk`, hook `paysim_register_arrival_generators`: generator `bulk` for "
        "agent `A` raised KeyError: 'rate' after 1 batch(es)"
    )


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "tick": st.integers(0, 19),
                "sender": st.sampled_from(["A", "B", "C"]),
                "receiver": st.sampled_from(["A", "B", "C"]),
                "amount": st.integers(1, 10_000),
                "offset": st.integers(0, 10),
            },
            optional={
                "priority": st.none() | st.integers(0, 10),
                "divisible": st.none() | st.booleans(),
                "rtgs_priority": st.none() | st.sampled_from(["HighlyUrgent", "Urgent", "Normal"]),
            },
        ),
        max_size=30,
    )
)
def test_columnar_batches_equal_json_records_for_any_records(records) -> None:
    """Property: for any valid records, a RecordBatch and the engine's JSON path queue the same
    payments (same events over the whole run)."""
    from paysim.arrival_columns import to_engine_batch

    rows = []
    for r in records:
        if r["sender"] == r["receiver"]:
            continue
        row = {k: v for k, v in r.items() if k != "offset"}
        row["deadline_tick"] = r["tick"] + r["offset"]
        rows.append(row)
    config = _engine_config(
        {
            "simulation": {"ticks_per_day": 10, "num_days": 2, "rng_seed": 1},
            "agents": [{"id": a, "opening_balance": 3000} for a in "ABC"],
        }
    )
    by_json = _core.Engine(config)
    by_json.inject_arrivals(json.dumps(rows))
    by_batch = _core.Engine(config)
    batch, kept, late = to_engine_batch(rows, 20)
    assert late == 0 and kept is None
    if batch is not None:
        _core.inject_arrival_batch(by_batch, batch)
    by_json.run()
    by_batch.run()
    assert events_table(by_json).equals(events_table(by_batch))


def _engine_config(data: dict[str, object]) -> str:
    from paysim.config.loader import scenario_from_dict
    from paysim.simulation import engine_config

    return engine_config(scenario_from_dict(data))[0]
