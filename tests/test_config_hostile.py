"""Hostile scenario files: each fails fast with a located message, exit 2, in under 1 GB.

Every file in ``tests/fixtures/hostile/scenarios/`` is run through ``paysim run`` in a child
process limited to 1 GB of address space, with a timeout; the child's own peak RSS is read with
``wait4``. Cases too big to commit are generated here. The in-process checks pin what each
error says and where it points.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

import paysim
from paysim.config import parse_scenario_text, scenario_from_dict
from paysim.config.reading import MAX_DOCUMENT_BYTES
from paysim.exceptions import ScenarioError

HOSTILE = Path(__file__).parent / "fixtures" / "hostile" / "scenarios"
# The corpus holds other cases too (scenarios whose *policy* is at fault, which must name the
# policy file instead; their first line names tests/test_hostile_corpus.py, which runs every
# file): these are the loader's own.

_CORPUS_MARK = "tests/test_hostile_corpus.py"


def _own(path: Path) -> bool:
    head = path.read_bytes()[:400].decode("utf-8", "replace")
    return path.suffix in (".yaml", ".json") and _CORPUS_MARK not in head


FILES = sorted(p for p in HOSTILE.iterdir() if _own(p))
PAYSIM = Path(sys.executable).parent / "paysim"
GIGABYTE = 1 << 30
TIMEOUT = 60.0


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str
    peak_rss: int  # bytes, this child only


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (GIGABYTE, GIGABYTE))


def run_limited(*args: str, cwd: Path) -> Outcome:
    """Runs ``paysim ARGS`` under a 1 GB address-space limit and a timeout."""
    out_path, err_path = cwd / "stdout.txt", cwd / "stderr.txt"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        proc = subprocess.Popen(
            [str(PAYSIM), *args], stdout=out, stderr=err, cwd=cwd, preexec_fn=_limit_memory
        )
        timer = threading.Timer(TIMEOUT, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
    return Outcome(
        proc.returncode,
        out_path.read_text(errors="replace"),
        err_path.read_text(errors="replace"),
        usage.ru_maxrss * 1024,
    )


def assert_clean_refusal(outcome: Outcome, path: Path) -> None:
    text = outcome.stdout + outcome.stderr
    assert outcome.code == 2, text
    assert str(path) in outcome.stderr
    assert "Traceback" not in text and "bug in paysim" not in text, text
    assert outcome.peak_rss < GIGABYTE


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_run_refuses_every_hostile_file(path: Path, tmp_path: Path) -> None:
    assert_clean_refusal(run_limited("run", str(path), cwd=tmp_path), path)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_loading_raises_a_scenario_error_naming_the_file(path: Path) -> None:
    with pytest.raises(ScenarioError) as caught:
        paysim.Simulation(str(path))
    assert caught.value.file == str(path)


def test_scenario_validate_refuses_the_worst_cases(tmp_path: Path) -> None:
    for name in ("billion_laughs.yaml", "deep_nesting_flow.yaml", "nul_byte.yaml"):
        path = HOSTILE / name
        outcome = run_limited("scenario", "validate", str(path), cwd=tmp_path)
        text = outcome.stdout + outcome.stderr
        assert outcome.code in (1, 2) and str(path) in text and "Traceback" not in text, text
        assert outcome.peak_rss < GIGABYTE


# Where each committed file is refused: (file, pointer or None, line or None, fragment).
EXPECTED = [
    ("billion_laughs.yaml", "/lol5/3", 11, "once its aliases are expanded"),
    ("recursive_alias.yaml", "/description/0", 6, "recursive alias"),
    ("recursive_alias_mapping.yaml", "/simulation/again", 2, "recursive alias"),
    ("undefined_alias.yaml", "/description", 6, "no anchor `&nowhere`"),
    ("deep_nesting_flow.yaml", None, 6, "nests deeper than 200 levels"),
    ("deep_nesting_block.yaml", None, 206, "nests deeper than 200 levels"),
    ("alias_depth.yaml", None, 7, "the alias `*x` makes the document nest deeper"),
    ("nul_byte.yaml", None, 2, "NUL (U+0000)"),
    ("control_character.yaml", None, 5, "ESC (U+001B)"),
    ("invalid_utf8.yaml", None, 6, "byte 0xe9 that is not valid UTF-8"),
    ("bom_inside.yaml", None, 6, "byte-order mark (U+FEFF) inside the text"),
    ("tab_indentation.yaml", None, 7, "holds a tab"),
    ("duplicate_key_nested.yaml", "/agents/1/opening_balance", 7, "duplicate key"),
    ("merge_key_not_a_mapping.yaml", "/agents/1/<<", 6, "takes a mapping or a list"),
    ("two_documents.yaml", None, 6, "second document"),
    ("yaml11_directive.yaml", None, 2, "`%YAML 1.1`"),
    ("python_tag.yaml", "/description", 6, "unsupported tag"),
    ("huge_integer.yaml", "/simulation/rng_seed", 2, "integer of 5000 digits"),
    ("ticks_per_day_billion.yaml", "/simulation/ticks_per_day", 2, "less than or equal to"),
    ("num_days_too_many.yaml", "/simulation/num_days", 2, "less than or equal to 10000"),
    ("episode_too_long.yaml", "/simulation/num_days", 2, "= 1,000,000,000"),
    ("opening_below_overdraft.yaml", "/agents/0/opening_balance", 4, "at least 0 cents"),
    ("money_yaml11_sexagesimal.yaml", "/agents/0/opening_balance", 4, "base-60 number 5400"),
    ("money_yaml11_binary.yaml", "/agents/0/opening_balance", 4, "binary number 10"),
    ("flag_yaml11_yes.yaml", "/deferred_crediting", 6, "write true"),
    ("simcash_credit_limit.yaml", "/agents/0/credit_limit", 4, "`unsecured_cap"),
    ("deep_nesting.json", None, None, "nests deeper than 200 levels"),
    ("nan.json", None, None, "`NaN`, which is not JSON"),
    ("duplicate_key.json", None, None, "duplicate key `opening_balance`"),
]


def test_every_hostile_file_has_an_expectation() -> None:
    assert sorted(name for name, *_ in EXPECTED) == [p.name for p in FILES]


@pytest.mark.parametrize(("name", "pointer", "line", "fragment"), EXPECTED, ids=lambda v: str(v))
def test_each_refusal_points_at_the_problem(
    name: str, pointer: str | None, line: int | None, fragment: str
) -> None:
    with pytest.raises(ScenarioError) as caught:
        paysim.load_scenario(HOSTILE / name)
    error = caught.value
    assert fragment in error.message, error.message
    assert error.pointer == pointer, error.message
    if line is not None:
        assert f"line {line}," in error.message, error.message


# ---------------------------------------------------------------------------------------------
# Generated cases
# ---------------------------------------------------------------------------------------------
def test_a_file_over_the_size_limit_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as handle:
        handle.write(b"# padding\n")
        handle.truncate(MAX_DOCUMENT_BYTES + 1)
    assert_clean_refusal(run_limited("run", str(path), cwd=tmp_path), path)
    with pytest.raises(ScenarioError, match="larger than 16 MiB"):
        paysim.load_scenario(path)


def test_an_endless_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="larger than 16 MiB"):
        paysim.load_scenario("/dev/zero")


def test_too_many_agents_are_refused_fast(tmp_path: Path) -> None:
    path = tmp_path / "agents.yaml"
    rows = "".join(f"  - {{id: A{i}, opening_balance: 0}}\n" for i in range(10_001))
    path.write_text("simulation: {ticks_per_day: 10, num_days: 1, rng_seed: 1}\nagents:\n" + rows)
    outcome = run_limited("run", str(path), cwd=tmp_path)
    assert_clean_refusal(outcome, path)
    assert "at most 10,000 agents, found 10,001" in outcome.stderr


def test_too_many_values_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "values.yaml"
    path.write_text("description: [" + ", ".join(["0"] * 500_001) + "]\n")
    outcome = run_limited("run", str(path), cwd=tmp_path)
    assert_clean_refusal(outcome, path)
    assert "more than 500,000 values" in outcome.stderr


def test_a_byte_order_mark_at_the_start_is_allowed(tmp_path: Path) -> None:
    body = (
        "simulation: {ticks_per_day: 10, num_days: 1, rng_seed: 1}\n"
        "agents: [{id: A, opening_balance: 0}, {id: B, opening_balance: 0}]\n"
    )
    yaml_path, json_path = tmp_path / "bom.yaml", tmp_path / "bom.json"
    yaml_path.write_bytes(b"\xef\xbb\xbf" + body.encode())
    json_path.write_bytes(
        b"\xef\xbb\xbf"
        + b'{"simulation": {"ticks_per_day": 10, "num_days": 1, "rng_seed": 1},'
        + b' "agents": [{"id": "A", "opening_balance": 0}, {"id": "B", "opening_balance": 0}]}'
    )
    assert paysim.load_scenario(yaml_path).to_dict() == paysim.load_scenario(json_path).to_dict()


def test_data_parsed_elsewhere_obeys_the_same_bounds() -> None:
    deep: object = 0
    for _ in range(5_000):
        deep = [deep]
    data = {"simulation": {"ticks_per_day": 10, "num_days": 1, "rng_seed": 1}, "agents": deep}
    with pytest.raises(ScenarioError, match="nests deeper than 200 levels") as caught:
        scenario_from_dict(data, source="api-request")
    assert caught.value.file == "api-request"
    with pytest.raises(ScenarioError, match="longer than the 16,777,216 bytes"):
        parse_scenario_text(" " * (MAX_DOCUMENT_BYTES + 1))
