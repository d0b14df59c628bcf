"""The 200-bank scenario of the loading benchmark (benches/loading_bench.py): the generator
writes the ~1 MB file of issue #10, and it loads to what the generator wrote."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import yaml

from paysim.config import load_scenario

BENCH = Path(__file__).resolve().parent.parent / "benches" / "loading_bench.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("loading_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_wide_scenario_is_the_issues_shape_and_loads(tmp_path: Path) -> None:
    path = tmp_path / "wide.yaml"
    size = _bench().write_wide_scenario(path)
    assert 900_000 <= size <= 1_100_000
    scenario = load_scenario(path)
    assert len(scenario.agents) == 200
    weights = [a.arrival_config.counterparty_weights for a in scenario.agents if a.arrival_config]
    assert len(weights) == 200 and all(len(w) == 199 for w in weights)
    # Same values as PyYAML's C loader reads (the file has no YAML 1.1 forms).
    raw = yaml.load(path.read_text(), Loader=yaml.CSafeLoader)
    assert weights[7] == raw["agents"][7]["arrival_config"]["counterparty_weights"]
