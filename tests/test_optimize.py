"""``paysim optimize`` end to end on real scenarios: the example specs, reproducibility,
outputs, resume, workers, interruption, pruning and constraints."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest

import paysim
from paysim.optimize.study import attrs, open_storage
from tests.cli_support import REPO, invoke

EXAMPLES = REPO / "scenarios" / "optimize"
CASTRO_SPEC = EXAMPLES / "castro_equilibrium.yaml"
JOINT_SPEC = EXAMPLES / "liquidity_delay_joint.yaml"
PARETO_SPEC = EXAMPLES / "cost_delay_pareto.yaml"


def run(spec: Path, out: Path, *args: str) -> dict[str, object]:
    result = invoke("optimize", spec, "--output", out, "--format", "json", "--no-progress", *args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


def trials(out: Path, name: str) -> list[optuna.trial.FrozenTrial]:
    study = optuna.load_study(study_name=name, storage=open_storage(str(out / "study.journal")))
    return study.get_trials()


def test_castro_example_reaches_the_papers_equilibrium(tmp_path: Path) -> None:
    result = run(CASTRO_SPEC, tmp_path)
    eq = result["equilibrium"]
    assert isinstance(eq, dict)
    assert eq["status"] == "converged"
    assert eq["profile"] == {
        "BANK_A": {"BANK_A.initial_liquidity_fraction": 0.0},
        "BANK_B": {"BANK_B.initial_liquidity_fraction": 0.2},
    }
    cert = eq["certificate"]
    assert cert["epsilon"] == 0.0
    assert [a["deviations"] for a in cert["agents"]] == [21, 21]
    # The written policy documents reproduce the equilibrium when used in the scenario.
    doc = json.loads((tmp_path / "BANK_B.json").read_text())
    assert doc["parameters"]["initial_liquidity_fraction"]["value"] == 0.2
    assert doc["parameters"]["initial_liquidity_fraction"]["step"] == 0.05
    assert doc["metadata"]["paysim_optimize"]["result"] == "equilibrium"
    assert paysim.validate_policy(doc).valid
    path = eq["path"]
    assert isinstance(path, list) and path[-1]["round"] == eq["rounds"]


def test_both_mode_reports_planner_and_price_of_anarchy(tmp_path: Path) -> None:
    spec = tmp_path / "both.yaml"
    spec.write_text(
        CASTRO_SPEC.read_text()
        .replace("mode: best_response", "mode: both\nsampler: grid")
        .replace("../castro_2period.yaml", str(REPO / "scenarios/castro_2period.yaml"))
    )
    result = run(spec, tmp_path / "out")
    eq = result["equilibrium"]
    planner = result["planner"]
    assert isinstance(eq, dict) and isinstance(planner, dict)
    # The grid sampler visits all 21 × 21 profiles. The planner's optimum is the equilibrium
    # here (the paper's closed form): A brings in nothing, B 0.20·B at r_c = 0.1, a total cost
    # of 0.02 × 1,000.00 = 20.00 (2,000 cents).
    assert result["trials"]["complete"] == 441  # type: ignore[index]
    assert planner["values"] == [2000.0]
    assert eq["planner_objective_at_equilibrium"] == 2000.0
    assert result["price_of_anarchy"] == 1.0
    assert (tmp_path / "out" / "equilibrium" / "BANK_A.json").exists()
    assert (tmp_path / "out" / "planner" / "BANK_B.json").exists()


def test_seeded_single_worker_run_is_reproducible(tmp_path: Path) -> None:
    first = run(JOINT_SPEC, tmp_path / "a", "--trials", "12")
    second = run(JOINT_SPEC, tmp_path / "b", "--trials", "12")
    ta = trials(tmp_path / "a", "liquidity_delay_joint")
    tb = trials(tmp_path / "b", "liquidity_delay_joint")
    assert len(ta) == len(tb) == 12
    for x, y in zip(ta, tb, strict=True):
        assert (x.state, x.params, x.values, x.intermediate_values) == (
            y.state,
            y.params,
            y.values,
            y.intermediate_values,
        )
    assert first["best"]["params"] == second["best"]["params"]  # type: ignore[index]
    assert first["best"]["values"] == second["best"]["values"]  # type: ignore[index]
    assert first["best"]["recheck"]["matches"] is True  # type: ignore[index]


def test_trials_record_seeds_engine_time_and_pruning(tmp_path: Path) -> None:
    run(JOINT_SPEC, tmp_path, "--trials", "30")
    found = trials(tmp_path, "liquidity_delay_joint")
    states = {t.state for t in found}
    assert optuna.trial.TrialState.COMPLETE in states
    assert optuna.trial.TrialState.PRUNED in states  # the Wilcoxon pruner stopped some
    for t in found:
        record = attrs(t)
        runs = record["runs"]
        assert isinstance(runs, list)
        assert float(record["engine_seconds"]) > 0  # type: ignore[arg-type]
        assert float(record["trial_seconds"]) >= float(record["engine_seconds"]) / 8  # type: ignore[arg-type]
        if t.state == optuna.trial.TrialState.COMPLETE:
            assert sorted(r["seed_index"] for r in runs) == list(range(8))
            # the objective is the mean of the per-seed values reported to the pruner
            assert t.values[0] == pytest.approx(sum(t.intermediate_values.values()) / 8)
        else:
            assert len(runs) < 8
        assert all(r["engine_seconds"] > 0 for r in runs)


def test_constraint_excludes_infeasible_best(tmp_path: Path) -> None:
    spec = tmp_path / "strict.yaml"
    spec.write_text(
        JOINT_SPEC.read_text()
        .replace("settlement_rate >= 0.95", "settlement_rate >= 0.999")
        .replace("four_banks.scenario.yaml", str(EXAMPLES / "four_banks.scenario.yaml"))
    )
    result = run(spec, tmp_path / "out", "--trials", "20")
    best = result["best"]
    assert isinstance(best, dict)
    assert best["constraints"][0] <= 0
    for t in trials(tmp_path / "out", "strict"):
        if t.state == optuna.trial.TrialState.COMPLETE and t.values[0] < best["values"][0]:
            assert attrs(t)["constraints"][0] > 0  # type: ignore[index]


def test_pareto_example(tmp_path: Path) -> None:
    result = run(PARETO_SPEC, tmp_path, "--trials", "12")
    front = result["pareto"]
    assert isinstance(front, list) and front
    # No front member is dominated by another.
    for a in front:
        for b in front:
            assert not (
                b["values"][0] <= a["values"][0]
                and b["values"][1] <= a["values"][1]
                and b["values"] != a["values"]
            )
    for entry in front:
        assert (tmp_path / "pareto" / str(entry["trial"]) / "BANK_D.json").exists()


def test_outputs_are_never_overwritten_without_permission(tmp_path: Path) -> None:
    run(CASTRO_SPEC, tmp_path)
    again = invoke("optimize", CASTRO_SPEC, "--output", tmp_path, "--no-progress")
    assert again.exit_code == 2
    assert "already exists" in again.stderr
    run(CASTRO_SPEC, tmp_path, "--overwrite")


def test_resume_continues_the_study(tmp_path: Path) -> None:
    run(JOINT_SPEC, tmp_path, "--trials", "4")
    refused = invoke("optimize", JOINT_SPEC, "--output", tmp_path, "--trials", "6")
    assert refused.exit_code == 2
    assert "--resume" in refused.stderr
    before = trials(tmp_path, "liquidity_delay_joint")
    run(JOINT_SPEC, tmp_path, "--trials", "7", "--resume")
    after = trials(tmp_path, "liquidity_delay_joint")
    assert len(after) == 7
    assert [t.params for t in after[:4]] == [t.params for t in before]


def test_two_workers_share_one_study(tmp_path: Path) -> None:
    result = run(JOINT_SPEC, tmp_path, "--trials", "8", "--workers", "2")
    found = trials(tmp_path, "liquidity_delay_joint")
    assert len(found) == 8
    assert all(t.state.is_finished() for t in found)
    assert result["best"] is not None


def test_interrupt_keeps_finished_trials(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "paysim",
            "optimize",
            str(JOINT_SPEC),
            "--output",
            str(tmp_path),
            "--trials",
            "5000",
            "--no-progress",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=env,
    )
    journal = tmp_path / "study.journal"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        # Optuna's journal writes compact JSON: a finished trial is a `"state":1` record.
        if journal.exists() and re.subn(r'"state":\s*1\b', "", journal.read_text())[1] >= 3:
            break
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    assert "Traceback" not in err
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["status"] == "interrupted"
    found = trials(tmp_path, "liquidity_delay_joint")
    done = [t for t in found if t.state.is_finished()]
    assert len(done) >= 3
    assert not [t for t in found if t.state == optuna.trial.TrialState.RUNNING]


def test_rdb_storage_and_joining_an_existing_study(tmp_path: Path) -> None:
    # The PostgreSQL path, on SQLite: Optuna's RDB storage with a heartbeat. A second process
    # with --resume and the same storage and study name joins the study.
    url = f"sqlite:///{tmp_path / 'studies.db'}"
    run(JOINT_SPEC, tmp_path / "a", "--storage", url, "--study-name", "shared", "--trials", "3")
    result = run(
        JOINT_SPEC,
        tmp_path / "b",
        "--storage",
        url,
        "--study-name",
        "shared",
        "--trials",
        "5",
        "--resume",
    )
    assert result["trials"]["complete"] + result["trials"]["pruned"] == 5  # type: ignore[index]
    assert result["storage"] == url
    study = optuna.load_study(study_name="shared", storage=url)
    assert len(study.trials) == 5


def test_trials_left_running_by_a_dead_worker_are_retried(tmp_path: Path) -> None:
    run(JOINT_SPEC, tmp_path, "--trials", "2")
    storage = open_storage(str(tmp_path / "study.journal"))
    study = optuna.load_study(study_name="liquidity_delay_joint", storage=storage)
    orphan = study.ask()  # as if a worker died in the middle of this trial
    for name in ("BANK_A", "BANK_B", "BANK_C", "BANK_D"):
        orphan.suggest_float(f"{name}.initial_liquidity_fraction", 0.0, 1.0, step=0.05)
    result = run(JOINT_SPEC, tmp_path, "--trials", "4", "--resume")
    found = trials(tmp_path, "liquidity_delay_joint")
    assert found[orphan.number].state == optuna.trial.TrialState.FAIL
    retried = [t for t in found if t.system_attrs.get("retried_trial") == orphan.number]
    assert len(retried) == 1 and retried[0].params == found[orphan.number].params
    assert retried[0].state.is_finished()
    notes = result["warnings"]
    assert isinstance(notes, list)
    assert any("queued again" in w for w in notes)


def test_trial_and_seed_rows_in_the_store(tmp_path: Path) -> None:
    import paysim.store

    result = run(JOINT_SPEC, tmp_path, "--trials", "6")
    found = trials(tmp_path, "liquidity_delay_joint")
    with paysim.store.open(tmp_path / "paysim.duckdb") as db:
        (study,) = db.rows("SELECT * FROM studies")
        assert study["study_id"] == result["study_id"]
        assert (study["mode"], study["status"]) == ("joint", "completed")
        assert json.loads(str(study["seeds"])) == result["seeds"]
        rows = db.rows("SELECT * FROM trials ORDER BY number")
        assert [r["number"] for r in rows] == [t.number for t in found]
        assert [r["state"] for r in rows] == [t.state.name.lower() for t in found]
        for row, t in zip(rows, found, strict=True):
            assert float(str(row["engine_seconds"])) > 0
            assert float(str(row["trial_seconds"])) > 0
            if t.values is not None:
                assert json.loads(str(row["objective_values"])) == t.values
        runs = db.rows("SELECT number, seed_index, seed, total_cost FROM trial_runs")
        per_trial = [attrs(t)["runs"] for t in found]
        assert len(runs) == sum(len(r) for r in per_trial if isinstance(r, list))
        complete = [t for t in found if t.state == optuna.trial.TrialState.COMPLETE]
        first = complete[0]
        costs = [int(str(r["total_cost"])) for r in runs if r["number"] == first.number]
        assert len(costs) == 8
        assert first.values[0] == pytest.approx(sum(costs) / 8)
    # A best-response run records every step's trials.
    run(CASTRO_SPEC, tmp_path / "castro")
    with paysim.store.open(tmp_path / "castro" / "paysim.duckdb") as db:
        steps = db.rows("SELECT study, count(*) AS n FROM trials GROUP BY study ORDER BY study")
        assert [s["n"] for s in steps] == [21] * len(steps)
        assert len(steps) == 4  # two rounds of two banks
        assert steps[0]["study"] == "castro_equilibrium.br.r1.BANK_A"


@pytest.mark.parametrize(
    ("sampler", "pruner"),
    [("cmaes", "median"), ("qmc", "none"), ("random", "wilcoxon"), ("nsga2", "none")],
)
def test_every_sampler_and_pruner_runs(tmp_path: Path, sampler: str, pruner: str) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        JOINT_SPEC.read_text()
        .replace("four_banks.scenario.yaml", str(EXAMPLES / "four_banks.scenario.yaml"))
        .replace("sampler: tpe", f"sampler: {sampler}")
        .replace("pruner: wilcoxon", f"pruner: {pruner}")
    )
    result = run(spec, tmp_path / "out", "--trials", "8")
    found = trials(tmp_path / "out", "spec")
    assert len(found) == 8 and all(t.state.is_finished() for t in found)
    assert result["best"] is not None
    if pruner == "median":
        # The median pruner sees the running mean after each batch of seeds.
        complete = [t for t in found if t.state == optuna.trial.TrialState.COMPLETE]
        assert complete and all(len(t.intermediate_values) >= 1 for t in complete)


def test_gp_sampler_needs_pytorch(tmp_path: Path) -> None:
    import importlib.util

    spec = tmp_path / "spec.yaml"
    spec.write_text(
        JOINT_SPEC.read_text()
        .replace("four_banks.scenario.yaml", str(EXAMPLES / "four_banks.scenario.yaml"))
        .replace("sampler: tpe", "sampler: gp")
    )
    result = invoke("optimize", "validate", spec)
    if importlib.util.find_spec("torch") is not None:  # paysim does not install it
        assert result.exit_code == 0, result.stderr
        return
    assert result.exit_code == 2
    assert f"{spec} at /sampler:" in result.stderr and "needs PyTorch" in result.stderr


def test_a_db_that_is_not_a_store_is_refused_before_any_work(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    not_a_store = tmp_path / "notes.txt"
    not_a_store.write_text("my notes\n")
    spec.write_text(
        CASTRO_SPEC.read_text().replace(
            "../castro_2period.yaml", str(REPO / "scenarios/castro_2period.yaml")
        )
        + f"db: {not_a_store}\n"
    )
    result = invoke("optimize", spec, "--output", tmp_path / "out", "--no-progress")
    assert result.exit_code == 1, result.output
    assert "database" in result.stderr and "Traceback" not in result.stderr
    assert not_a_store.read_text() == "my notes\n"
    assert not (tmp_path / "out" / "result.json").exists()
    inputs = spec.read_text().replace(f"db: {not_a_store}", f"db: {spec}")
    spec.write_text(inputs)
    result = invoke("optimize", spec, "--output", tmp_path / "out2", "--no-progress")
    assert result.exit_code == 2
    assert "is an input of this run" in result.stderr
