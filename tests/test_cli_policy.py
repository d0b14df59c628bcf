"""``paysim validate-policy`` and ``paysim policy-schema`` through the real CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LIBRARY = sorted((REPO / "policies").glob("*.json"))


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "paysim", *args], capture_output=True, text=True, check=False
    )


def write(tmp_path: Path, name: str, doc: object) -> Path:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path


def test_library_is_valid() -> None:
    result = cli("validate-policy", *map(str, LIBRARY))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(": valid (0 errors, 0 warnings)") == len(LIBRARY)


def test_invalid_policy_exit_1_with_pointer_and_suggestion(tmp_path: Path) -> None:
    bad = write(
        tmp_path,
        "bad.json",
        {
            "version": "1.0",
            "policy_id": "bad",
            "parameters": {"min_buffer": 5},
            "payment_tree": {
                "type": "condition",
                "node_id": "N1",
                "condition": {
                    "op": "<=",
                    "left": {"field": "tiks_to_deadline"},
                    "right": {"value": 3},
                },
                "on_true": {"type": "action", "node_id": "A1", "action": "Release"},
                "on_false": {"type": "action", "node_id": "A2", "action": "Hold"},
            },
        },
    )
    text = cli("validate-policy", str(bad))
    assert text.returncode == 1
    assert f"{bad}: invalid (1 error, 1 warning)" in text.stdout
    assert (
        "error   UNKNOWN_FIELD at /payment_tree/condition/left/field: unknown field "
        "`tiks_to_deadline`; did you mean `ticks_to_deadline`?"
    ) in text.stdout
    as_json = cli("validate-policy", str(bad), "--format", "json")
    assert as_json.returncode == 1
    report = json.loads(as_json.stdout)
    assert report["valid"] is False and report["policy_id"] == "bad"
    assert report["errors"][0]["pointer"] == "/payment_tree/condition/left/field"
    assert report["warnings"][0]["code"] == "UNUSED_PARAMETER"


def test_exit_codes_highest_wins_and_strict(tmp_path: Path) -> None:
    warn = write(
        tmp_path,
        "warn.json",
        {"version": "1.0", "policy_id": "warn", "parameters": {"unused": 1}},
    )
    assert cli("validate-policy", str(warn)).returncode == 0
    assert cli("validate-policy", str(warn), "--strict").returncode == 1
    malformed = write(tmp_path, "malformed.json", "{not json")
    assert cli("validate-policy", str(malformed)).returncode == 1
    missing = tmp_path / "missing.json"
    result = cli("validate-policy", str(warn), str(missing))
    assert result.returncode == 2
    assert "missing.json" in result.stderr and "Traceback" not in result.stderr
    several = cli("validate-policy", str(warn), str(malformed), "--format", "json")
    reports = json.loads(several.stdout)
    assert [r["valid"] for r in reports] == [True, False]
    assert reports[1]["errors"][0]["code"] == "INVALID_JSON"


def test_scenario_aware_checks(tmp_path: Path) -> None:
    split = write(
        tmp_path,
        "split.json",
        {
            "version": "1.0",
            "policy_id": "split",
            "payment_tree": {
                "type": "action",
                "node_id": "s",
                "action": "Split",
                "parameters": {"num_splits": {"value": 3}},
            },
        },
    )
    plain = cli("validate-policy", str(split), "--format", "json")
    assert json.loads(plain.stdout)["warnings"] == []
    with_scenario = cli(
        "validate-policy",
        str(split),
        "--scenario",
        str(REPO / "scenarios" / "demo.yaml"),
        "--format",
        "json",
    )
    codes = [w["code"] for w in json.loads(with_scenario.stdout)["warnings"]]
    assert "SPLIT_NEVER_POSSIBLE" in codes


@pytest.mark.parametrize(
    ("args", "needle", "absent"),
    [
        (["--tree", "bank_tree", "--section", "actions"], "SetReleaseBudget", "PostCollateral"),
        (["--tree", "payment_tree", "--section", "fields"], "ticks_to_deadline", "PostCollateral"),
        (["--section", "actions"], "PostCollateral", "ticks_to_deadline"),
    ],
)
def test_policy_schema_markdown_filters(args: list[str], needle: str, absent: str) -> None:
    result = cli("policy-schema", *args)
    assert result.returncode == 0
    assert needle in result.stdout and absent not in result.stdout


def test_policy_schema_json_and_output_file(tmp_path: Path) -> None:
    out = tmp_path / "fields.json"
    result = cli("policy-schema", "--format", "json", "--section", "fields", "--output", str(out))
    assert result.returncode == 0 and result.stdout == ""
    data = json.loads(out.read_text())
    names = json.dumps(data)
    assert "available_liquidity" in names and "bank_state_" in names
    bad = cli("policy-schema", "--tree", "nonsense")
    assert bad.returncode == 2
