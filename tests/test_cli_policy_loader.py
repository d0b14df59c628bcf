"""One policy loader (ISSUE 10): ``validate-policy`` and every path a run takes to a policy —
``--policy``, a scenario's ``policy:``, ``Simulation.set_policy``, a ``PolicyChange`` event —
read documents through the engine's reader, so each file gets one verdict everywhere; errors
name the policy file and the JSON Pointer inside it, never the scenario."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

import paysim
from paysim.policy.loader import document_bytes, load_policy_document
from tests.cli_support import REPO, invoke

HOSTILE = REPO / "tests" / "fixtures" / "hostile" / "policies"
FIFO = (REPO / "policies" / "fifo.json").read_text()


def two_banks(folder: Path, policy: str = "fifo", events: str = "") -> Path:
    path = folder / "two_banks.yaml"
    path.write_text(
        "simulation: {ticks_per_day: 10, num_days: 1, rng_seed: 1}\n"
        "agents:\n"
        f"  - {{id: A, opening_balance: 1000, policy: {json.dumps(policy)}}}\n"
        "  - {id: B, opening_balance: 500}\n" + events
    )
    return path


def _paths(folder: Path, policy: Path) -> dict[str, Callable[[], object]]:
    """Every way a run reaches a policy file, each a thunk that builds (or changes) a run."""

    def set_policy() -> object:
        sim = paysim.Simulation(two_banks(folder))
        sim.set_policy("A", str(policy))
        return sim

    change = (
        "scenario_events:\n"
        f"  - {{type: PolicyChange, schedule: OneTime, tick: 3, agent: A, "
        f"policy: {json.dumps(str(policy))}}}\n"
    )
    return {
        "--policy": lambda: paysim.Simulation(two_banks(folder), policies={"A": str(policy)}),
        "policy:": lambda: paysim.Simulation(two_banks(folder, str(policy))),
        "set_policy": set_policy,
        "PolicyChange": lambda: paysim.Simulation(two_banks(folder, events=change)),
    }


def _generated(folder: Path) -> list[Path]:
    padded = folder / "padded_1_2mb.json"
    padded.write_text(FIFO + " " * 1_200_000)
    deep = folder / "deep_5000.json"
    deep.write_text('{"a":' * 5000 + "1" + "}" * 5000)
    return [padded, deep]


def test_every_hostile_policy_gets_one_verdict_everywhere(tmp_path: Path) -> None:
    files = sorted(HOSTILE.iterdir()) + _generated(tmp_path)
    for policy in files:
        report = paysim.validate_policy(policy)
        assert not report.valid, policy.name
        first = report.errors[0]
        for path, build in _paths(tmp_path, policy).items():
            with pytest.raises(paysim.PolicyError) as info:
                build()
            err = info.value
            assert err.file is not None and Path(err.file).name == policy.name, (path, err)
            assert err.problems[0]["code"] == first["code"], (policy.name, path)
            assert err.problems[0]["pointer"] == first["pointer"], (policy.name, path)


def _deep_valid_policy() -> dict[str, object]:
    """Valid, and nested about 180 levels: deeper than serde_json's default limit of 128."""

    def cond(n: int) -> dict[str, object]:
        leaf: dict[str, object] = {
            "op": ">=",
            "left": {"field": "balance"},
            "right": {"value": 0},
        }
        return leaf if n == 0 else {"op": "not", "condition": cond(n - 1)}

    def node(d: int) -> dict[str, object]:
        if d == 0:
            return {"type": "action", "node_id": "a0", "action": "Release"}
        return {
            "type": "condition",
            "node_id": f"c{d}",
            "condition": cond(40 if d == 1 else 0),
            "on_true": node(d - 1),
            "on_false": {"type": "action", "node_id": f"h{d}", "action": "Hold"},
        }

    return {"version": "1.0", "policy_id": "deep_valid", "payment_tree": node(95)}


@pytest.mark.parametrize(
    "content",
    [
        b"\xef\xbb\xbf" + FIFO.encode(),  # a UTF-8 byte-order mark: the engine's reader skips it
        json.dumps(_deep_valid_policy()).encode(),
    ],
    ids=["bom", "deep-valid"],
)
def test_valid_policies_are_accepted_everywhere(tmp_path: Path, content: bytes) -> None:
    policy = tmp_path / "valid.json"
    policy.write_bytes(content)
    assert paysim.validate_policy(policy).valid
    for path, build in _paths(tmp_path, policy).items():
        sim = build()
        assert isinstance(sim, paysim.Simulation), path
        sim.run()
        assert sim.done, path
    result = invoke("run", two_banks(tmp_path), "--policy", f"A={policy}", "-f", "json")
    assert result.exit_code == 0, result.stderr


def test_a_directory_given_as_a_policy_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # relative references on the command line start here
    (tmp_path / "mine").mkdir()
    scenario = two_banks(tmp_path)
    for ref in ("mine", "mine/", "./mine", "file:mine"):
        result = invoke("run", scenario, "--policy", f"A={ref}")
        assert result.exit_code == 2, ref
        assert "is a directory" in result.stderr and "mine" in result.stderr, ref
    result = invoke("validate-policy", tmp_path / "mine")
    assert result.exit_code == 2 and "is a directory" in result.stderr


def test_a_bad_escape_is_blamed_on_the_policy_file_not_the_scenario(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    policy = tmp_path / "escape.json"
    policy.write_text(FIFO.replace('"fifo"', '"fifo \\q"'))
    scenario = two_banks(tmp_path, "escape.json")
    result = invoke("run", scenario)
    assert result.exit_code == 2
    first_line = result.stderr.splitlines()[0]
    assert first_line == "error: invalid policy: escape.json: 1 error"
    assert "at /policy_id: invalid JSON at line 3" in result.stderr
    assert "invalid escape" in result.stderr and "two_banks.yaml" not in result.stderr


def test_an_engine_rejection_names_the_policy_and_the_agent(tmp_path: Path) -> None:
    result = invoke("run", two_banks(tmp_path), "--param", "A.no_such_parameter=1")
    assert result.exit_code == 2
    assert "invalid policy: library:fifo (policy of agent `A`)" in result.stderr
    assert "at /parameters: override of `no_such_parameter`" in result.stderr


def test_inline_documents_are_judged_like_files(tmp_path: Path) -> None:
    doc = json.loads(FIFO)
    doc["description"] = float("nan")
    with pytest.raises(paysim.PolicyError) as info:
        load_policy_document(doc)
    assert info.value.problems[0]["pointer"] == "/description"
    sim = paysim.Simulation(two_banks(tmp_path))
    with pytest.raises(paysim.PolicyError) as info:
        sim.set_policy("A", doc)
    assert info.value.problems[0]["code"] == "INVALID_JSON"
    # The writer is iterative: 5,000 levels reach the engine's limit, not Python's recursion.
    deep: dict[str, object] = {}
    inner = deep
    for _ in range(5000):
        inner["a"] = {}
        inner = inner["a"]  # type: ignore[assignment]
    assert document_bytes(deep).startswith(b'{"a":{"a":')
    with pytest.raises(paysim.PolicyError) as info:
        sim.set_policy("A", deep)
    assert info.value.problems[0]["code"] == "NESTING_TOO_DEEP"
    with pytest.raises(paysim.PolicyError, match="found set"):
        sim.set_policy("A", {**json.loads(FIFO), "description": {1, 2}})
