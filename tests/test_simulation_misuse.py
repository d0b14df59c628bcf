"""Misuse of the Python API (ISSUE 10) is a ``PaysimError`` with a message, never a silent no-op
and never a bare ``ValueError``, ``OverflowError`` or ``RecursionError``."""

from __future__ import annotations

import pytest

import paysim
from paysim import ArgumentError
from paysim.config import Scenario
from tests.cli_support import DEMO


@pytest.fixture(scope="module")
def demo() -> Scenario:
    return paysim.load_scenario(DEMO)


def test_run_many_refuses_unknown_override_keys(demo: Scenario) -> None:
    with pytest.raises(ArgumentError) as info:
        paysim.run_many(demo, seeds=[1, 2], overrides=[{"polices": {"BANK_A": "fifo"}}, None])
    text = str(info.value)
    assert "overrides[0]" in text and "'polices'" in text and "did you mean `policies`?" in text
    with pytest.raises(ArgumentError, match=r"overrides\[1\] must be a mapping"):
        paysim.run_many(demo, seeds=[1, 2], overrides=[None, ["policies"]])  # type: ignore[list-item]
    with pytest.raises(ArgumentError, match=r"overrides\[0\]\['params'\]\['BANK_A'\]: `x`"):
        paysim.run_many(demo, seeds=[1], overrides=[{"params": {"BANK_A": {"x": "high"}}}])


def test_run_many_with_known_keys_still_works(demo: Scenario) -> None:
    [plain, overridden] = paysim.run_many(
        demo,
        seeds=[7, 7],
        overrides=[None, {"policies": {"BANK_C": "fifo"}, "params": {}}],
    )
    assert isinstance(plain, dict) and isinstance(overridden, dict)
    assert plain["totals"] != overridden["totals"]


def test_mismatched_overrides_length_is_an_argument_error(demo: Scenario) -> None:
    with pytest.raises(ArgumentError, match="3 seeds, 2 overrides") as info:
        paysim.run_many(demo, seeds=[1, 2, 3], overrides=[None, None])
    assert isinstance(info.value, paysim.PaysimError) and isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("call", "needle"),
    [
        (lambda sim: sim.run_until(2**40), "beyond the end of the episode"),
        (lambda sim: sim.run_until(2**70), "tick must be in [0, 18446744073709551615]"),
        (lambda sim: sim.run_until(-1), "tick must be in"),
        (lambda sim: sim.run_until(2.5), "tick must be an integer, not float"),
        (lambda sim: sim.events(since_seq=-1), "since_seq must be in"),
        (lambda sim: sim.events(since_seq=2**64), "since_seq must be in"),
        (lambda sim: sim.events(max_rows=-5), "max_rows must be in"),
        (lambda sim: sim.release_events_before(-1), "seq must be in"),
        (lambda sim: sim.set_policy("BANK_A", "fifo", {"x": float("inf")}), "finite number"),
        (lambda sim: sim.set_policy("BANK_A", 42), "not int"),
    ],
)
def test_out_of_range_arguments_are_argument_errors(call: object, needle: str) -> None:
    sim = paysim.Simulation(DEMO)
    with pytest.raises(ArgumentError) as info:
        call(sim)  # type: ignore[operator]
    assert needle in str(info.value)
    assert not isinstance(info.value, OverflowError)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"seeds": [-1]}, "a seed must be in"),
        ({"seeds": [2**70]}, "a seed must be in"),
        ({"seeds": [1], "threads": -1}, "threads must be in"),
        ({"seeds": [1], "threads": 2**80}, "threads must be in"),
    ],
)
def test_run_many_integers_out_of_range(
    demo: object, kwargs: dict[str, object], needle: str
) -> None:
    with pytest.raises(ArgumentError, match=needle):
        paysim.run_many(demo, **kwargs)  # type: ignore[arg-type]


def test_run_until_a_tick_already_passed_is_an_error() -> None:
    sim = paysim.Simulation(DEMO)
    sim.run_until(40)
    sim.run_until(40)  # the current tick: nothing to do, no error
    with pytest.raises(ArgumentError, match="tick 39 has already passed .* at tick 40"):
        sim.run_until(39)
    with pytest.raises(ArgumentError, match="beyond the end of the episode \\(100 ticks\\)"):
        sim.run_until(101)
    assert sim.current_tick == 40
    sim.run_until(100)
    assert sim.done


def test_events_of_a_restored_simulation_with_default_arguments() -> None:
    reference = paysim.Simulation(DEMO)
    reference.run_until(30)
    data = reference.checkpoint()
    cut = reference.next_seq
    restored = paysim.Simulation.restore(DEMO, data)
    assert restored.oldest_retained_seq == cut
    assert restored.events().num_rows == 0  # nothing retained yet, and no error
    reference.run()
    restored.run()
    tail = reference.events(since_seq=cut)
    assert restored.events().equals(tail)
    assert restored.events(max_rows=3).column("seq").to_pylist() == [cut, cut + 1, cut + 2]
    with pytest.raises(paysim.SimulationError, match=f"events below seq {cut} were released"):
        restored.events(since_seq=0)


def test_a_drained_simulation_returns_what_it_still_holds() -> None:
    sim = paysim.Simulation(DEMO)
    sim.run()
    sim.release_events_before(100)
    assert sim.events().column("seq")[0].as_py() == 100


def test_validate_policy_of_a_5000_deep_dict_is_a_report_not_a_recursion_error() -> None:
    deep: dict[str, object] = {}
    inner = deep
    for _ in range(5000):
        inner["a"] = {}
        inner = inner["a"]  # type: ignore[assignment]
    report = paysim.validate_policy(deep)
    assert not report.valid
    assert report.errors[0]["code"] == "NESTING_TOO_DEEP"
    with pytest.raises(paysim.PolicyError, match="found set"):
        paysim.validate_policy({"version": "1.0", "policy_id": {1, 2}})
