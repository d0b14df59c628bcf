"""``paysim run`` through the real command line: formats, overrides, filters, sinks."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from paysim.summary_model import RunSummary
from tests.cli_support import (
    DEMO,
    EVENT_KEYS,
    REPO,
    SCENARIOS,
    balances_from_events,
    invoke,
    jsonl,
    subprocess_cli,
)

SUMMARY_SCHEMA = json.loads((REPO / "schemas" / "run_summary.schema.json").read_text())
SMALL_SCENARIOS = sorted(p for p in SCENARIOS.glob("*.yaml") if p.name != "large.yaml")


def _json_summary(*args: str | Path) -> dict[str, object]:
    result = invoke("run", *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)  # the whole of stdout is one JSON object
    assert isinstance(summary, dict)
    return summary


def _agents(summary: dict[str, object]) -> dict[str, dict[str, object]]:
    agents = summary["agents"]
    assert isinstance(agents, dict)
    return agents


def test_summary_format_is_a_table_per_agent_with_totals() -> None:
    result = invoke("run", DEMO)
    assert result.exit_code == 0
    out = result.stdout
    for needle in ("Run summary", "BANK_A", "BANK_B", "BANK_C", "Total", "total cost", "4,266.22"):
        assert needle in out
    assert result.stderr == ""  # no progress bar and no messages when stderr is not a terminal


@pytest.mark.parametrize("path", SMALL_SCENARIOS, ids=lambda p: p.name)
def test_json_format_is_one_summary_object_valid_against_the_schema(path: Path) -> None:
    summary = _json_summary(path)
    jsonschema.validate(summary, SUMMARY_SCHEMA)
    RunSummary.model_validate(summary)
    assert summary["scenario"] == str(path)


def test_json_format_matches_the_library_summary() -> None:
    import paysim
    from paysim.simulation import RUN_METADATA_KEYS

    sim = paysim.Simulation(str(DEMO))
    sim.run()
    expected = {k: v for k, v in sim.summary().items() if k not in RUN_METADATA_KEYS}
    got = {k: v for k, v in _json_summary(DEMO).items() if k not in RUN_METADATA_KEYS}
    assert got == expected


@pytest.mark.parametrize("path", SMALL_SCENARIOS, ids=lambda p: p.name)
def test_events_reproduce_every_final_balance(path: Path) -> None:
    result = invoke("run", path, "--format", "events")
    assert result.exit_code == 0, result.stderr
    rows = jsonl(result.stdout)
    assert [r["seq"] for r in rows] == list(range(len(rows)))
    for row in rows:
        assert list(row) == EVENT_KEYS
        assert isinstance(row["details"], dict)
    summary = _json_summary(path)
    finals = {a: v["final_balance"] for a, v in _agents(summary).items()}
    assert balances_from_events(rows) == finals


def test_events_of_the_large_scenario_reproduce_balances_over_one_day() -> None:
    path = SCENARIOS / "large.yaml"
    rows = jsonl(invoke("run", path, "--days", "1", "--format", "events").stdout)
    finals = _agents(_json_summary(path, "--days", "1"))
    assert balances_from_events(rows) == {a: v["final_balance"] for a, v in finals.items()}


def test_events_as_a_real_process_are_clean_json_lines() -> None:
    proc = subprocess_cli("run", "scenarios/demo.yaml", "--format", "events")
    assert proc.returncode == 0 and proc.stderr == ""
    rows = jsonl(proc.stdout)
    assert rows[0]["event_type"] == "SimulationStarted" and rows[-1]["event_type"] == "EndOfDay"
    assert rows[0]["tx_id"] is None and rows[0]["amount"] is None


def test_seed_changes_the_run_and_is_reported() -> None:
    seven, eight = _json_summary(DEMO), _json_summary(DEMO, "--seed", "8")
    assert seven["seed"] == 7 and eight["seed"] == 8
    assert seven["totals"] != eight["totals"]
    assert _json_summary(DEMO, "--seed", "7")["totals"] == seven["totals"]


def test_days_shortens_the_run_and_warns_about_later_events() -> None:
    result = invoke("run", SCENARIOS / "crisis.yaml", "--days", "1", "--format", "json")
    assert result.exit_code == 0
    summary = json.loads(result.stdout)
    assert summary["days"] == 1 and summary["ticks"] == 60
    assert "warning:" in result.stderr and "AgentOutage" in result.stderr
    quiet = invoke("run", SCENARIOS / "crisis.yaml", "--days", "1", "-f", "json", "--quiet")
    assert quiet.stderr == ""


def test_param_and_policy_overrides_reach_the_engine() -> None:
    def allocation(*args: str) -> int:
        rows = jsonl(
            invoke(
                "run", DEMO, *args, "-f", "events", "--filter-event-type", "LiquidityAllocation"
            ).stdout
        )
        assert len(rows) == 1 and rows[0]["agent_id"] == "BANK_C"
        return int(str(rows[0]["amount"]))

    assert allocation() == 900_000  # the scenario's 0.6 of 1,500,000
    assert allocation("--param", "BANK_C.initial_liquidity_fraction=0.2") == 300_000
    # fifo declares no initial_liquidity_fraction: the agent's allocation fraction (1.0) applies.
    assert allocation("--policy", "BANK_C=fifo") == 1_500_000


def test_param_splits_at_the_last_dot_for_dotted_agent_ids(tmp_path: Path) -> None:
    scenario = tmp_path / "dotted.yaml"
    scenario.write_text(
        "simulation: {ticks_per_day: 5, num_days: 1, rng_seed: 1}\n"
        "agents:\n"
        "  - {id: bank.one, opening_balance: 1000, liquidity_pool: 10000,"
        " policy: castro_liquidity}\n"
        "  - {id: bank.two, opening_balance: 1000}\n"
    )
    result = invoke(
        "run",
        scenario,
        "--param",
        "bank.one.initial_liquidity_fraction=0.25",
        "-f",
        "events",
        "--filter-event-type",
        "LiquidityAllocation",
    )
    assert result.exit_code == 0, result.stderr
    assert [r["amount"] for r in jsonl(result.stdout)] == [2500]


def test_filters_select_events() -> None:
    def rows(*args: str) -> list[dict[str, object]]:
        result = invoke("run", DEMO, "-f", "events", *args)
        assert result.exit_code == 0
        return jsonl(result.stdout)

    everything = rows()
    settlements = rows("--filter-event-type", "RtgsImmediateSettlement, Queue2LiquidityRelease")
    assert settlements and {r["event_type"] for r in settlements} == {
        "RtgsImmediateSettlement",
        "Queue2LiquidityRelease",
    }
    assert len(settlements) == sum(
        r["event_type"] in ("RtgsImmediateSettlement", "Queue2LiquidityRelease") for r in everything
    )
    for row in rows("--filter-agent", "BANK_C"):
        assert "BANK_C" in (row["agent_id"], row["counterparty_id"]) or "BANK_C" in json.dumps(
            row["details"]
        )
    lifecycle = [r["event_type"] for r in rows("--filter-tx", "tx_00000004")]
    assert lifecycle[:4] == ["Arrival", "PolicySubmit", "RtgsSubmission", "QueuedRtgs"]
    assert "Queue2LiquidityRelease" in lifecycle
    window = rows("--filter-tick-range", "10-12")
    assert window and {r["tick"] for r in window} == {10, 11, 12}
    assert {r["tick"] for r in rows("--filter-tick-range", "98-")} == {98, 99}
    assert {r["tick"] for r in rows("--filter-tick-range", "-1")} == {0, 1}
    both = rows("--filter-agent", "BANK_A", "--filter-tick-range", "0-0")
    assert both and all(r["tick"] == 0 for r in both)


def test_filters_with_summary_format_warn_and_change_nothing() -> None:
    result = invoke("run", DEMO, "--filter-agent", "BANK_A")
    assert result.exit_code == 0
    assert "apply to --format verbose and events" in result.stderr

    def timeless(text: str) -> str:
        return re.sub(r"\d+\.\d+ s in the engine", "", text)

    assert timeless(result.stdout) == timeless(invoke("run", DEMO).stdout)


def test_verbose_tells_the_day_tick_by_tick() -> None:
    result = invoke("run", DEMO, "--format", "verbose")
    assert result.exit_code == 0 and result.stderr == ""
    out = result.stdout
    assert out.index("tick 0 · day 0") < out.index("tick 1 · day 0") < out.index("End of day 0")
    assert out.index("End of day 0") < out.index("Run summary")
    for needle in (
        "opened      BANK_A",
        "liquidity   BANK_C brings in 9,000.00",
        "arrival     tx_00000001  BANK_A → BANK_B  797.61",
        "settled     tx_00000001",
        "queued      tx_00000004",
        "released    tx_00000004",
        "scenario    AgentOutage  BANK_B goes down",
        "scenario    DirectTransfer  BANK_A → BANK_C  2,500.00",
        "overdue     tx_00000127",
        "cost        BANK_B",
    ):
        assert needle in out, needle


def test_verbose_filtered_to_one_payment() -> None:
    out = invoke("run", DEMO, "-f", "verbose", "--filter-tx", "tx_00000004").stdout
    lines = [line for line in out.splitlines() if line.startswith("  ")]
    payment_lines = [line for line in lines if "tx_" in line]
    assert payment_lines and all("tx_00000004" in line for line in payment_lines)
    assert "End of day 0" in out and "Run summary" in out


def test_jsonl_sink_writes_the_events_to_a_file(tmp_path: Path) -> None:
    target = tmp_path / "events.jsonl"
    result = invoke("run", DEMO, "--sink", f"jsonl:path={target}")
    assert result.exit_code == 0
    assert "Run summary" in result.stdout  # the summary still goes to stdout
    assert f"events to {target}" in result.stderr
    on_stdout = invoke("run", DEMO, "-f", "events").stdout
    assert target.read_text() == on_stdout


def test_jsonl_sink_is_not_filtered_but_the_stdout_rendering_is(tmp_path: Path) -> None:
    target = tmp_path / "all.jsonl"
    result = invoke(
        "run", DEMO, "-f", "events", "--filter-agent", "BANK_A", "--sink", f"jsonl:path={target}"
    )
    assert len(jsonl(target.read_text())) > len(jsonl(result.stdout)) > 0
