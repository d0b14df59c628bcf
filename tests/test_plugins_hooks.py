"""One test per hook of paysim/hookspecs.py (the meta-test in test_plugins_docs.py checks that
each hook has its ``test_hook_<name>`` here): a plugin registered at run time uses the hook and
paysim uses what it registered, through the library or the CLI."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import typer
from typer.testing import CliRunner

import paysim
from paysim.arrivals import registered_generators
from paysim.hookspecs import hookimpl
from paysim.objectives import ObjectiveParam, bind_objective, objectives
from paysim.plugins import (
    PluginError,
    current_manager,
    plugin_manager,
    policy_sources,
    register_commands,
)
from tests.cli_support import DEMO, invoke

TWO_BANKS = """
simulation: {ticks_per_day: 10, num_days: 1, rng_seed: 3}
agents:
  - {id: A, opening_balance: 1000, policy: "team:patient"}
  - {id: B, opening_balance: 1000}
scenario_events:
  - {type: CustomTransactionArrival, schedule: OneTime, tick: 0, from_agent: A, to_agent: B,
     amount: 500, deadline: 8}
"""


@pytest.fixture
def registered() -> Iterator[list[object]]:
    """Plugins registered here are unregistered after the test."""
    plugins: list[object] = []
    yield plugins
    for plugin in plugins:
        for pm in (plugin_manager(), current_manager()):
            if pm.is_registered(plugin):
                pm.unregister(plugin)


def add(registered: list[object], plugin: object, name: str) -> None:
    plugin_manager().register(plugin, name=name)
    registered.append(plugin)


class TeamSource:
    name = "team"

    def names(self) -> list[str]:
        return ["patient"]

    def resolve(self, ref: str) -> dict[str, object]:
        if ref != "patient":
            raise paysim.ScenarioError(f"no team policy `{ref}`")
        return {
            "version": "1.0",
            "policy_id": "patient",
            "payment_tree": {
                "type": "condition",
                "node_id": "late",
                "condition": {
                    "op": "<=",
                    "left": {"field": "ticks_to_deadline"},
                    "right": {"value": 2},
                },
                "on_true": {"type": "action", "node_id": "go", "action": "Release"},
                "on_false": {"type": "action", "node_id": "wait", "action": "Hold"},
            },
        }


def test_hook_paysim_register_policy_sources(registered: list[object], tmp_path: Path) -> None:
    class Plugin:
        @hookimpl
        def paysim_register_policy_sources(self, register: Any) -> None:
            register(TeamSource())

    add(registered, Plugin(), "test-team")
    assert {"library", "file", "team"} <= set(policy_sources())
    path = tmp_path / "team.yaml"
    path.write_text(TWO_BANKS)
    sim = paysim.Simulation(path)
    sim.run()
    settled = [e for e in sim.events().to_pylist() if e["event_type"] == "RtgsImmediateSettlement"]
    assert [e["tick"] for e in settled] == [6]  # held until 2 ticks remain before tick 8

    class Broken:
        @hookimpl
        def paysim_register_policy_sources(self, register: Any) -> None:
            register(object())

    add(registered, Broken(), "test-broken-source")
    with pytest.raises(PluginError) as info:
        policy_sources()
    assert "plugin `test-broken-source`" in str(info.value)
    assert "hook `paysim_register_policy_sources`" in str(info.value)
    assert "has no `name`" in str(info.value)


def test_hook_paysim_register_arrival_generators(registered: list[object], tmp_path: Path) -> None:
    class Pulse:
        name = "pulse"

        def generate(
            self, scenario: object, agent_id: str, options: Mapping[str, object], seed: int
        ) -> Iterator[pa.RecordBatch]:
            yield pa.RecordBatch.from_pydict(
                {
                    "tick": [2, 4],
                    "sender": [agent_id] * 2,
                    "receiver": ["B", "B"],
                    "amount": [100, 200],
                    "deadline_tick": [5, 9],
                }
            )

    class Plugin:
        @hookimpl
        def paysim_register_arrival_generators(self, register: Any) -> None:
            register(Pulse())

    add(registered, Plugin(), "test-pulse")
    assert registered_generators()["pulse"].plugin.name == "test-pulse"
    path = tmp_path / "pulse.yaml"
    path.write_text(
        "simulation: {ticks_per_day: 10, num_days: 1, rng_seed: 3}\n"
        "agents:\n"
        "  - {id: A, opening_balance: 1000, arrival_config: {generator: {name: pulse}}}\n"
        "  - {id: B, opening_balance: 0}\n"
    )
    sim = paysim.Simulation(path)
    sim.run()
    assert sim.summary()["agents"]["B"]["final_balance"] == 300  # type: ignore[index]


class Exploding:
    name = "exploding"

    def __init__(self, when: str = "write_events") -> None:
        self.when = when

    def _maybe(self, method: str) -> None:
        if method == self.when:
            raise OSError(28, "No space left on device")

    def open(self, run_info: Mapping[str, object]) -> None:
        self._maybe("open")

    def write_events(self, batch: pa.RecordBatch) -> None:
        self._maybe("write_events")

    def end_of_day(self, day: int, day_summary: Mapping[str, object]) -> None:
        self._maybe("end_of_day")

    def close(self, summary: Mapping[str, object]) -> None:
        self._maybe("close")


@pytest.mark.parametrize("when", ["open", "write_events", "end_of_day", "close"])
def test_hook_paysim_register_sinks(registered: list[object], tmp_path: Path, when: str) -> None:
    class Plugin:
        @hookimpl
        def paysim_register_sinks(self, register: Any) -> None:
            register("exploding", Exploding)

    add(registered, Plugin(), "test-exploding")
    out = tmp_path / "events.parquet"
    result = invoke(
        "run",
        DEMO,
        "--sink",
        f"parquet:path={out}",
        "--sink",
        f"exploding:when={when}",
        "--format",
        "events",
    )
    assert result.exit_code == 1
    message = result.stderr.strip()
    assert message.startswith("error: plugin `test-exploding`, hook `paysim_register_sinks`: ")
    assert f"sink `exploding` failed in {when}(): OSError" in message
    assert "Traceback" not in result.stderr
    assert not list(tmp_path.glob(".*partial"))
    if when == "close":
        # The parquet sink closed before the failing one: its file is complete (every event
        # and the summary), so it stays.
        import pyarrow.parquet as pq

        assert b"paysim.summary" in pq.read_metadata(out).metadata
    else:
        # The other sink was aborted: nothing looks complete, nothing half-written is left.
        assert not out.exists()
    bad = invoke("run", DEMO, "--sink", "exploding:whenever=1")
    assert bad.exit_code == 2 and "takes `when`" in bad.stderr


def test_hook_paysim_register_commands(registered: list[object]) -> None:
    class Hello:
        @hookimpl
        def paysim_register_commands(self, app: typer.Typer) -> None:
            @app.command("hello")
            def hello(name: str = "world") -> None:
                typer.echo(f"hello {name}")

    class Shadow:
        @hookimpl
        def paysim_register_commands(self, app: typer.Typer) -> None:
            app.command("run")(lambda: None)

    class Raising:
        @hookimpl
        def paysim_register_commands(self, app: typer.Typer) -> None:
            raise RuntimeError("no commands today")

    for plugin, name in (
        (Hello(), "test-hello"),
        (Shadow(), "test-shadow"),
        (Raising(), "test-raising"),
    ):
        current_manager().register(plugin, name=name)
        registered.append(plugin)
    app = typer.Typer()
    app.command("run")(lambda: None)
    app.command("other")(lambda: None)
    problems = register_commands(app)
    assert sorted(str(p) for p in problems) == [
        "plugin `test-raising`, hook `paysim_register_commands`: RuntimeError: no commands today",
        "plugin `test-shadow`, hook `paysim_register_commands`: tried to replace the command "
        "`run`; its commands are left out",
    ]
    result = CliRunner().invoke(app, ["hello", "--name", "plugins"])
    assert result.exit_code == 0 and result.stdout == "hello plugins\n"
    assert [c.name for c in app.registered_commands] == ["run", "other", "hello"]


def test_hook_paysim_register_objectives(registered: list[object]) -> None:
    def late_share(summary: Mapping[str, Any], agent: str) -> float:
        a = summary["agents"][agent]
        return float((a["sent"] - a["settled_sent"]) / max(1, a["sent"]))

    class Plugin:
        @hookimpl
        def paysim_register_objectives(self, register: Any) -> None:
            register(
                "late_share",
                late_share,
                params=[ObjectiveParam("agent", "agent")],
                description="unsettled share",
            )

    add(registered, Plugin(), "test-objectives")
    known = objectives()
    assert {"total_cost", "agent_cost", "late_share"} <= set(known)
    assert known["late_share"].plugin == "test-objectives"
    assert known["total_cost"].plugin == "paysim.objectives"
    sim = paysim.Simulation(DEMO)
    sim.run()
    summary = sim.summary()
    bound = bind_objective({"metric": "late_share", "agent": "BANK_B"}, agents=["BANK_B"])
    agent = summary["agents"]["BANK_B"]  # type: ignore[index]
    assert bound(summary) == (agent["sent"] - agent["settled_sent"]) / agent["sent"]
