"""The study report's data: the cost matrices of the Castro et al. two-period game against the
paper's closed form, the stored-trials fallback cell by cell, the joint study rebuilt from the
store against ``result.json``, and the command line (study directories, study ids, unknown
studies, ``paysim optimize --report``)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from paysim.report.grid_game import GridGame
from paysim.report.study_data import StudyData
from paysim.report.study_report import read_study
from tests import castro_model as castro
from tests.cli_support import invoke
from tests.report_support import CASTRO_SPEC, PARETO_SPEC, optimize, small_both_spec

GRID = [k / castro.GRID for k in range(castro.GRID + 1)]


@pytest.fixture(scope="module")
def castro_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("castro") / "study"
    optimize(CASTRO_SPEC, out)
    return out


def _game(data: StudyData) -> GridGame:
    assert isinstance(data.game, GridGame), data.game_note
    return data.game


def test_cost_matrices_are_the_papers_closed_form(castro_study: Path) -> None:
    data = read_study(castro_study)
    game = _game(data)
    assert game.source == "engine" and "21 × 21 grid" in data.game_note
    assert game.agents == ("BANK_A", "BANK_B")
    assert game.dims == ("BANK_A.initial_liquidity_fraction", "BANK_B.initial_liquidity_fraction")
    assert game.x == GRID and game.y == GRID
    for k_b in range(castro.GRID + 1):
        for k_a in range(castro.GRID + 1):
            cost_a, cost_b = castro.costs(castro.PAPER, k_a, k_b)
            assert game.costs["BANK_A"][k_b, k_a] == cost_a, (k_a, k_b)
            assert game.costs["BANK_B"][k_b, k_a] == cost_b, (k_a, k_b)
            # Best response only: the planner objective is the mean total cost.
            assert game.costs["planner"][k_b, k_a] == cost_a + cost_b
    ((k_a, k_b),) = castro.pure_equilibria(castro.PAPER)
    assert game.equilibrium == (GRID[k_a], GRID[k_b]) == (0.0, 0.2)
    total = {(a, b): sum(castro.costs(castro.PAPER, a, b)) for a in range(21) for b in range(21)}
    best = min(total, key=lambda ab: (total[ab], ab[1], ab[0]))
    assert game.planner == (GRID[best[0]], GRID[best[1]])
    # Best response starts from the declared values (0.5 each: castro_liquidity's default),
    # A answers 0.5 with 0, B answers 0 with 0.2, and nothing moves in round 2.
    assert game.path == [(0.5, 0.5), (0.0, 0.5), (0.0, 0.2), (0.0, 0.2), (0.0, 0.2)]
    assert data.start == {
        "BANK_A.initial_liquidity_fraction": 0.5,
        "BANK_B.initial_liquidity_fraction": 0.5,
    }


def test_without_running_the_grid_the_matrices_are_the_stored_steps(castro_study: Path) -> None:
    data = read_study(castro_study, evaluate=False)
    game = _game(data)
    assert game.source == "trials" and "from the stored trials" in data.game_note
    a, b = game.costs["BANK_A"], game.costs["BANK_B"]
    # A's steps ran its whole grid against B at 0.2 (round 2); round 1 held B at its start,
    # which only the spec knows, so that row stays blank here. B's steps ran against A = 0.
    filled_a = {(j, i) for j, i in zip(*np.nonzero(np.isfinite(a)), strict=True)}
    filled_b = {(j, i) for j, i in zip(*np.nonzero(np.isfinite(b)), strict=True)}
    assert filled_a == {(4, i) for i in range(21)}
    assert filled_b == {(j, 0) for j in range(21)}
    for i in range(21):
        assert a[4, i] == castro.cost(castro.PAPER, "A", i, 4)
    for j in range(21):
        assert b[j, 0] == castro.cost(castro.PAPER, "B", j, 0)
    assert np.isnan(game.costs["planner"]).all()  # no joint study in best-response mode
    assert game.path == [(0.0, 0.2), (0.0, 0.2), (0.0, 0.2)]  # from A's first step on


def test_the_stored_spec_stands_in_for_a_moved_spec_file(
    castro_study: Path, tmp_path: Path
) -> None:
    spec = tmp_path / "moved.yaml"
    shutil.copy(CASTRO_SPEC, spec)
    study = tmp_path / "study"
    shutil.copytree(castro_study, study)
    result = json.loads((study / "result.json").read_text())
    result["spec"] = str(tmp_path / "gone.yaml")
    (study / "result.json").write_text(json.dumps(result))
    data = read_study(study)
    assert _game(data).source == "engine" and data.stored_spec is not None
    assert data.start["BANK_A.initial_liquidity_fraction"] == 0.5


def test_planner_study_rebuilt_from_the_store(tmp_path: Path) -> None:
    out = tmp_path / "both"
    result = optimize(small_both_spec(tmp_path), out)
    data = read_study(out)
    study = data.study
    assert study is not None
    assert len(study.trials) == 36 == len([t for t in data.trials if t.phase == "joint"])
    planner = result["planner"]
    assert isinstance(planner, dict)
    assert study.best_value == planner["values"][0]
    assert study.best_trial.number == planner["trial"]
    game = _game(data)
    assert game.x == game.y == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
    # The planner's matrix run again equals every stored joint trial's value.
    for t in data.trials:
        if t.phase == "joint":
            i = game.x.index(float(t.params["BANK_A.initial_liquidity_fraction"]))
            j = game.y.index(float(t.params["BANK_B.initial_liquidity_fraction"]))
            assert t.values is not None and game.costs["planner"][j, i] == t.values[0]
    assert game.planner == (0.0, 0.2) == game.equilibrium


def test_pareto_study_rebuilt_from_the_store(tmp_path: Path) -> None:
    out = tmp_path / "pareto"
    result = optimize(PARETO_SPEC, out, "--trials", "16")
    data = read_study(out)
    study = data.study
    assert study is not None and len(study.directions) == 2
    front = result["pareto"]
    assert isinstance(front, list)
    assert sorted(t.number for t in study.best_trials) == sorted(e["trial"] for e in front)
    assert data.game is None and "4 dimensions" in data.game_note


def test_study_directory_and_study_id_on_the_command_line(
    castro_study: Path, tmp_path: Path
) -> None:
    out = tmp_path / "r"
    result = invoke("report", castro_study, "--output", out)
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["br_path.svg", "game.svg", "report.html"]
    study_id = json.loads((castro_study / "result.json").read_text())["study_id"]
    by_id = tmp_path / "by-id"
    result = invoke("report", study_id[:13], "--db", castro_study / "paysim.duckdb", "-o", by_id)
    assert result.exit_code == 0, result.stderr
    assert f"report of study {study_id}" in result.stderr
    page = (by_id / "report.html").read_text()
    assert "paysim study castro_equilibrium" in page


def test_unknown_studies_exit_2(castro_study: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = invoke("report", empty)
    assert result.exit_code == 2
    assert f"{empty} is not a study directory: it has no result.json" in result.stderr
    (empty / "result.json").write_text("{not json")
    result = invoke("report", empty)
    assert result.exit_code == 2 and "not a readable result.json" in result.stderr
    result = invoke("report", "ffffffff", "--db", castro_study / "paysim.duckdb")
    assert result.exit_code == 2
    assert "no run or study `ffffffff`" in result.stderr
    lost = tmp_path / "lost"
    shutil.copytree(castro_study, lost)
    (lost / "paysim.duckdb").unlink()
    moved = json.loads((lost / "result.json").read_text())
    moved["db"] = str(tmp_path / "elsewhere" / "paysim.duckdb")
    (lost / "result.json").write_text(json.dumps(moved))
    result = invoke("report", lost)
    assert result.exit_code == 2 and "the trial database of study" in result.stderr
    assert not (lost / "report").exists()


def test_optimize_report_option(tmp_path: Path) -> None:
    out = tmp_path / "study"
    result = invoke("optimize", CASTRO_SPEC, "--output", out, "--no-progress", "--report")
    assert result.exit_code == 0, result.stderr
    assert f"report → {out / 'report' / 'report.html'}" in result.stderr
    assert sorted(p.name for p in (out / "report").iterdir()) == [
        "br_path.svg",
        "game.svg",
        "report.html",
    ]
    before = (out / "result.json").read_bytes()
    again = invoke("optimize", CASTRO_SPEC, "--output", out, "--no-progress", "--report")
    assert again.exit_code == 2 and "already exists" in again.stderr
    assert (out / "result.json").read_bytes() == before
    replaced = invoke(
        "optimize", CASTRO_SPEC, "--output", out, "--no-progress", "--report", "--overwrite"
    )
    assert replaced.exit_code == 0, replaced.stderr
