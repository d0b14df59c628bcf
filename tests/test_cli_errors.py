"""Every error path of INTERFACES.md §1: exit code, a message naming the file and the path inside
it, and no traceback unless ``--debug``."""

from __future__ import annotations

from pathlib import Path

import pytest

import paysim
from tests.cli_support import DEMO, INVALID, REPO, flat, invoke, jsonl, subprocess_cli

BAD_POLICY = REPO / "tests" / "fixtures" / "policies" / "not_an_object.json"


def _no_traceback(*texts: str) -> None:
    for text in texts:
        assert "Traceback" not in text


@pytest.mark.parametrize(
    ("scenario", "needles"),
    [
        ("does_not_exist.yaml", ["does_not_exist.yaml", "cannot read the scenario file"]),
        (INVALID / "malformed_yaml.yaml", ["malformed_yaml.yaml", "malformed YAML at line 15"]),
        (
            INVALID / "unknown_key.yaml",
            [
                "unknown_key.yaml at /agents/1/opening_balanc",
                "unknown key `opening_balanc`",
                "did you mean `opening_balance`?",
            ],
        ),
        (
            INVALID / "float_money.yaml",
            ["float_money.yaml at /agents/0/opening_balance", "expected integer cents"],
        ),
        (
            INVALID / "unknown_agent_event.yaml",
            [
                "unknown_agent_event.yaml at /scenario_events/0/to_agent",
                "unknown agent `BANK_Z`",
                "did you mean `BANK_B`?",
            ],
        ),
    ],
    ids=["unreadable", "malformed-yaml", "unknown-key", "float-money", "unknown-agent"],
)
def test_bad_scenarios_exit_2_with_file_and_pointer(
    scenario: Path | str, needles: list[str]
) -> None:
    result = invoke("run", scenario)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    for needle in needles:
        assert needle in result.stderr
    _no_traceback(result.stdout, result.stderr)


def test_real_process_reports_without_traceback() -> None:
    proc = subprocess_cli("run", INVALID / "unknown_key.yaml")
    assert proc.returncode == 2
    assert "did you mean `opening_balance`?" in proc.stderr
    _no_traceback(proc.stdout, proc.stderr)


def test_engine_errors_name_the_scenario_file(tmp_path: Path) -> None:
    # A log-space LogNormal mean of 800 passes the scenario models but the engine rejects it
    # (exp(800) overflows): its error has a pointer but no file, and the CLI names the file.
    scenario = tmp_path / "huge_mu.yaml"
    scenario.write_text(
        "simulation: {ticks_per_day: 5, num_days: 1, rng_seed: 1}\n"
        "agents:\n"
        "  - id: A\n"
        "    opening_balance: 100\n"
        "    arrival_config:\n"
        "      rate_per_tick: 0.5\n"
        "      amount_distribution: {type: LogNormal, mu: 800.0, sigma: 1.0}\n"
        "  - {id: B, opening_balance: 100}\n"
    )
    result = invoke("run", scenario)
    assert result.exit_code == 2
    assert f"{scenario} at /agents/0/arrival_config/amount_distribution/mu" in result.stderr
    assert "[-700, 700]" in result.stderr


def test_a_deadline_of_zero_is_due_in_the_arrival_tick(tmp_path: Path) -> None:
    scenario = tmp_path / "zero_deadline.yaml"
    scenario.write_text(
        "simulation: {ticks_per_day: 5, num_days: 1, rng_seed: 1}\n"
        "agents: [{id: A, opening_balance: 100}, {id: B, opening_balance: 100}]\n"
        "scenario_events:\n"
        "  - {type: CustomTransactionArrival, schedule: OneTime, tick: 1, from_agent: A,"
        " to_agent: B, amount: 10, deadline: 0}\n"
    )
    result = invoke("run", scenario, "--format", "events")
    assert result.exit_code == 0
    (arrival,) = [e for e in jsonl(result.stdout) if e["event_type"] == "Arrival"]
    assert arrival["details"]["deadline_tick"] == 1  # type: ignore[index]


def test_unknown_agent_in_an_override_exits_2_with_a_suggestion() -> None:
    result = invoke("run", DEMO, "--policy", "BANK_Z=fifo")
    assert result.exit_code == 2
    assert "demo.yaml" in result.stderr and "unknown agent `BANK_Z`" in result.stderr
    assert "did you mean `BANK_C`?" in result.stderr
    result = invoke("run", DEMO, "--param", "BANK_Q.initial_liquidity_fraction=0.5")
    assert result.exit_code == 2 and "unknown agent `BANK_Q`" in result.stderr


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ("BANK_A=3", "expected AGENT.NAME=VALUE"),
        ("BANK_A.fraction", "expected AGENT.NAME=VALUE"),
        (".fraction=1", "expected AGENT.NAME=VALUE"),
        ("BANK_A.fraction=high", "must be a number"),
        ("BANK_A.fraction=nan", "must be a number"),
    ],
)
def test_bad_param_syntax_is_a_usage_error(value: str, needle: str) -> None:
    result = invoke("run", DEMO, "--param", value)
    assert result.exit_code == 2
    assert "--param" in result.stderr and needle in flat(result.stderr)
    _no_traceback(result.stderr)


def test_unknown_param_name_is_bad_input() -> None:
    result = invoke("run", DEMO, "--param", "BANK_C.no_such_parameter=1")
    assert result.exit_code == 2
    assert "no_such_parameter" in result.stderr and "castro_liquidity" in result.stderr


def test_bad_policy_option_syntax_is_a_usage_error() -> None:
    result = invoke("run", DEMO, "--policy", "BANK_A")
    assert result.exit_code == 2 and "expected AGENT=REF" in flat(result.stderr)


def test_unknown_sink_names_the_known_ones() -> None:
    result = invoke("run", DEMO, "--sink", "jsnol:path=x.jsonl")
    assert result.exit_code == 2
    for needle in ("unknown sink `jsnol`", "`console`", "`jsonl`", "did you mean `jsonl`?"):
        assert needle in flat(result.stderr)
    result = invoke("run", DEMO, "--sink", "jsonl:file=x.jsonl")
    assert result.exit_code == 2 and "takes `overwrite`, `path`" in flat(result.stderr)


def test_invalid_policy_file_exits_2_naming_the_file_and_the_path() -> None:
    result = invoke("run", DEMO, "--policy", f"BANK_A={BAD_POLICY}")
    assert result.exit_code == 2
    # The engine's validator judges it, as `validate-policy` does: file, pointer, message.
    assert f"invalid policy: {BAD_POLICY}: 1 error" in result.stderr
    assert "at /: a policy document must be an object, not a list" in result.stderr
    _no_traceback(result.stdout, result.stderr)


def test_missing_policy_file_exits_2() -> None:
    result = invoke("run", DEMO, "--policy", "BANK_A=policies/nope.json")
    assert result.exit_code == 2 and "policies/nope.json` not found" in result.stderr


def test_bad_tick_range_is_a_usage_error() -> None:
    for value in ("a-b", "20-10", "-"):
        result = invoke("run", DEMO, "--filter-tick-range", value)
        assert result.exit_code == 2 and "--filter-tick-range" in flat(result.stderr)


def test_run_time_failure_exits_1(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(self: paysim.Simulation, tick: int) -> None:
        raise paysim.SimulationError("the engine gave up")

    monkeypatch.setattr(paysim.Simulation, "run_until", fail)
    result = invoke("run", DEMO)
    assert result.exit_code == 1
    assert result.stderr == "error: the run failed: the engine gave up\n"


def test_policy_evaluation_error_exits_1_with_its_location(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(self: paysim.Simulation, tick: int) -> None:
        raise paysim.PolicyEvaluationError(
            "division by zero", agent_id="BANK_A", node_id="n3", pointer="/payment_tree", tick=4
        )

    monkeypatch.setattr(paysim.Simulation, "run_until", fail)
    result = invoke("run", DEMO)
    assert result.exit_code == 1
    assert "division by zero (agent BANK_A, node n3, at /payment_tree, tick 4)" in result.stderr


def test_interrupt_exits_130(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupt(self: paysim.Simulation, tick: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(paysim.Simulation, "run_until", interrupt)
    result = invoke("run", DEMO)
    assert result.exit_code == 130
    assert "interrupted" in result.stderr
    _no_traceback(result.stderr)


def test_unexpected_errors_have_no_traceback_unless_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    def bug(self: paysim.Simulation, tick: int) -> None:
        raise ZeroDivisionError("oops")

    monkeypatch.setattr(paysim.Simulation, "run_until", bug)
    plain = invoke("run", DEMO)
    assert plain.exit_code == 1
    assert "unexpected ZeroDivisionError: oops" in plain.stderr and "--debug" in plain.stderr
    _no_traceback(plain.stderr)
    for args in (("run", DEMO, "--debug"), ("--debug", "run", DEMO)):
        debug = invoke(*args)
        assert debug.exit_code == 1
        assert "Traceback" in debug.stderr and "ZeroDivisionError: oops" in debug.stderr
    monkeypatch.setenv("PAYSIM_DEBUG", "1")
    assert "Traceback" in invoke("run", DEMO).stderr


def test_debug_shows_the_traceback_of_a_scenario_error() -> None:
    result = invoke("run", INVALID / "float_money.yaml", "--debug")
    assert result.exit_code == 2
    assert "Traceback" in result.stderr and "expected integer cents" in result.stderr


def test_unwritable_sink_path_exits_2(tmp_path: Path) -> None:
    target = tmp_path / "missing_dir" / "events.jsonl"
    result = invoke("run", DEMO, "--sink", f"jsonl:path={target}")
    assert result.exit_code == 2
    assert str(target) in result.stderr
    _no_traceback(result.stderr)


def test_unknown_event_type_filter_is_a_usage_error_with_a_suggestion() -> None:
    result = invoke("run", DEMO, "--format", "events", "--filter-event-type", "Arrival,Setled")
    assert result.exit_code == 2
    assert "unknown event type `Setled`" in flat(result.stderr)
    ok = invoke("run", DEMO, "--format", "events", "--filter-event-type", "EndOfDay")
    assert ok.exit_code == 0 and ok.stdout.count("\n") == 1
