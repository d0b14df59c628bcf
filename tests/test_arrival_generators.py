"""Streams with a `generator` get their payments from a registered arrival-generator plugin."""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

import paysim
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
