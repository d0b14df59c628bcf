"""``paysim report`` of stored example runs, opened in headless Chromium: every figure is on
the page and drawn, the page loads nothing from elsewhere, and the numbers of its tables are the
store's. Screenshots of the pages and of each figure are written under the test's temporary
directory (or ``$PAYSIM_REPORT_SHOTS`` when set, to look at them)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver

import paysim.store
from paysim.report.run_report import RUN_FIGURES
from tests.cli_support import SCENARIOS, subprocess_cli
from tests.report_support import (
    PARETO_SPEC,
    chromium,
    figures,
    foreign_resources,
    open_page,
    optimize,
    small_both_spec,
    tables,
)
from tests.store_support import persisted

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

COMPONENTS = (
    "overdraft",
    "delay",
    "collateral",
    "liquidity",
    "deadline_penalty",
    "eod_penalty",
    "drop_penalty",
    "split_friction",
)


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    with chromium() as driver:
        yield driver


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    kept = os.environ.get("PAYSIM_REPORT_SHOTS")
    return Path(kept) if kept else tmp_path_factory.mktemp("shots")


def _report(tmp: Path, scenario: Path, *formats: str) -> tuple[Path, str, Path]:
    """Persists ``scenario`` and writes its report with the real ``paysim report`` process."""
    db = tmp / "runs.duckdb"
    sid, _ = persisted(db, scenario, "--quiet", "-f", "json")
    out = tmp / scenario.stem
    args = [a for f in formats for a in ("--format", f)]
    result = subprocess_cli("report", sid[:13], "--db", db, "--output", out, *args)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(out / "report.html")
    assert f"report of run {sid}" in result.stderr
    return db, sid, out


def _num(text: str) -> float:
    return float(text)


def test_run_report_in_chromium(browser: webdriver.Chrome, shots: Path, tmp_path: Path) -> None:
    db, sid, out = _report(tmp_path, SCENARIOS / "crisis.yaml")
    names = [f.name for f in RUN_FIGURES]
    for name in names:  # each figure on its own (other formats: the gridlock test)
        assert (out / f"{name}.svg").read_bytes().startswith(b"<?xml")
    open_page(browser, out / "report.html", shots, "run-crisis")
    assert foreign_resources(browser) == []
    shown = figures(browser, shots, "run-crisis")
    assert list(shown) == names
    for fig in shown.values():
        assert fig.width > 800 and fig.height > 150, fig
        assert fig.paths > 20, fig
        assert fig.ink > 0.01, fig

    page = tables(browser)
    with paysim.store.open(db) as store:
        run = store.simulation(sid)
        agents = {r["agent_id"]: r for r in store.agents(sid).to_pylist()}
        daily = store.daily_metrics(sid).to_pylist()
        costs = store.costs(sid).to_pylist()
        payments = store.payments(sid).to_pylist()
    summary = run["summary"]
    assert isinstance(summary, dict)

    totals = page["totals"]["run"]
    for key, value in summary["totals"].items():
        assert _num(totals[key]) == value, key

    banks = page["banks"]
    assert list(banks) == list(agents)  # scenario order
    for bank, expected in summary["agents"].items():
        row = banks[bank]
        for key in (
            "opening_balance",
            "final_balance",
            "min_balance",
            "sent",
            "settled_sent",
            "received",
            "dropped",
            "q1",
            "q2",
        ):
            assert int(row[key]) == expected[key], (bank, key)
        assert int(row["cost"]) == expected["costs"]["total"], bank
        assert int(row["unsecured_cap"]) == agents[bank]["unsecured_cap"]
        assert int(row["posted_collateral"]) == agents[bank]["posted_collateral"]
        bank_costs = page["bank_costs"][bank]
        assert {c: int(bank_costs[c]) for c in (*COMPONENTS, "total")} == expected["costs"]

    assert list(page["daily"]) == [str(d["day"]) for d in daily]
    for d in daily:
        row = page["daily"][str(d["day"])]
        for key in ("arrivals", "settled", "settled_value", "dropped", "overdue", "unsettled"):
            assert int(row[key]) == d[key], (d["day"], key)
        assert int(row["cost"]) == d["cost"]

    for comp in (*COMPONENTS, "total"):
        row = page["costs"][comp]
        for day in {int(c["day"]) for c in costs}:
            assert int(row[f"day_{day}"]) == sum(c[comp] for c in costs if c["day"] == day)
        assert int(row["run"]) == summary["costs"][comp]

    ticks_done = int(str(run["ticks_done"]))

    def waited(p: dict[str, object]) -> int:
        delay = p["delay_ticks"]
        return int(str(delay)) if delay is not None else ticks_done - int(str(p["arrival_tick"]))

    waiting = [p for p in payments if p["status"] in ("settled", "unsettled")]
    waiting.sort(key=lambda p: (-waited(p), -int(str(p["amount"])), str(p["tx_id"])))
    assert list(page["delays"]) == [str(p["tx_id"]) for p in waiting[:20]]
    for p in waiting[:20]:
        row = page["delays"][str(p["tx_id"])]
        assert int(row["delay"]) == waited(p)
        assert int(row["amount"]) == p["amount"] and row["status"] == p["status"]

    assert page["lsm"] == {}  # crisis.yaml settles nothing by offsetting
    # The plugins the run loaded (the summary's `plugins`: whatever is installed here).
    shown_plugins = browser.execute_script(
        "return [...document.querySelectorAll('#meta dt')]"
        ".find(dt => dt.textContent === 'plugins').nextElementSibling.textContent"
    )
    loaded = summary["plugins"]
    assert isinstance(loaded, list)
    if loaded:
        for plugin in loaded:
            assert (
                f"{plugin['name']} ({plugin['distribution']} {plugin['version']})" in shown_plugins
            )
    else:
        assert shown_plugins == "none"
    policies = page["policies"]
    assert policies["BANK_E"]["policy_id"] == "castro_liquidity"
    assert '"initial_liquidity_fraction": 0.6' in policies["BANK_E"]["policy_parameters"]


def test_lsm_table_of_the_gridlock_day(
    browser: webdriver.Chrome, shots: Path, tmp_path: Path
) -> None:
    _, _, out = _report(tmp_path, SCENARIOS / "gridlock.yaml", "html", "png", "pdf")
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["report.html", *(f"{f.name}.{ext}" for f in RUN_FIGURES for ext in ("svg", "png", "pdf"))]
    )
    for f in RUN_FIGURES:  # each figure on its own, in every format asked for
        assert (out / f"{f.name}.svg").read_bytes().startswith(b"<?xml")
        assert (out / f"{f.name}.png").read_bytes().startswith(b"\x89PNG")
        assert (out / f"{f.name}.pdf").read_bytes().startswith(b"%PDF")
    open_page(browser, out / "report.html", shots, "run-gridlock")
    shown = figures(browser, shots, "run-gridlock")
    assert shown["lsm"].height > 400 and shown["lsm"].ink > 0.05  # the full figure, not a note
    lsm = tables(browser)["lsm"]
    # By hand from gridlock.yaml: three net-zero cycles, two bilateral pairs (nets 200.00 and
    # 400.00).
    assert lsm == {
        "bilateral": {
            "mechanism": "bilateral",
            "groups": "2",
            "payments": "4",
            "gross": "720000",
            "saved": "660000",
        },
        "cycle": {
            "mechanism": "cycle",
            "groups": "3",
            "payments": "10",
            "gross": "2800000",
            "saved": "2800000",
        },
    }


def _study_numbers(out: Path) -> tuple[dict[str, Any], dict[int, dict[str, object]]]:
    """``result.json`` and the joint study's trial rows, straight from the store."""
    result = json.loads((out / "result.json").read_text())
    with paysim.store.open(out / "paysim.duckdb") as store:
        rows = store.rows(
            "SELECT number, state, objective_values::VARCHAR AS v, params::VARCHAR AS p "
            "FROM trials WHERE study_id = ? AND phase = 'joint'",
            [result["study_id"]],
        )
    return result, {int(str(r["number"])): r for r in rows}


@pytest.mark.parametrize("kind", ["both", "pareto"])
def test_study_report_in_chromium(
    browser: webdriver.Chrome, shots: Path, tmp_path: Path, kind: str
) -> None:
    """A two-agent grid game in mode ``both`` and a two-objective study, each optimised for
    real, reported by the ``paysim report`` process and checked in the browser."""
    if kind == "both":
        out = tmp_path / "castro_both"
        optimize(small_both_spec(tmp_path), out)
        names = ["history", "importances", "slices", "br_path", "game"]
    else:
        out = tmp_path / "cost_delay_pareto"
        optimize(PARETO_SPEC, out, "--trials", "16")
        names = ["history", "history_2", "importances", "importances_2", "slices", "pareto"]
    result = subprocess_cli("report", out, "--format", "html", "--format", "png")
    assert result.returncode == 0, result.stderr
    page = out / "report" / "report.html"
    assert result.stdout.strip() == str(page)
    for name in names:
        assert (out / "report" / f"{name}.png").read_bytes().startswith(b"\x89PNG")
    open_page(browser, page, shots, f"study-{out.name}")
    assert foreign_resources(browser) == []
    shown = figures(browser, shots, f"study-{out.name}")
    assert list(shown) == names
    for fig in shown.values():
        assert fig.width > 800 and fig.height > 150, fig
        assert fig.paths > 20 and fig.ink > 0.03, fig
    tables_ = tables(browser)
    result_json, rows = _study_numbers(out)
    trials = tables_["trials"]
    assert len(trials) == min(25, len(rows))
    for key, row in trials.items():
        stored = rows[int(key)]
        assert row["state"] == stored["state"]
        values = json.loads(str(stored["v"])) if stored["v"] is not None else []
        for i, v in enumerate(values):
            assert _num(row[f"value_{i}"]) == v
        for name, value in json.loads(str(stored["p"])).items():
            assert _num(row[name]) == value
    if kind == "both":
        planner = result_json["planner"]
        row = tables_["planner"][str(planner["trial"])]
        assert _num(row["value_0"]) == planner["values"][0]
        assert _num(row["BANK_B.initial_liquidity_fraction"]) == 0.2
        certificate = result_json["equilibrium"]["certificate"]
        for entry in certificate["agents"]:
            row = tables_["equilibrium"][entry["agent"]]
            assert _num(row["value"]) == entry["value"]
            assert _num(row["gain"]) == entry["gain"]
            assert int(row["deviations"]) == entry["deviations"]
        path = result_json["equilibrium"]["path"]
        assert len(tables_["br_path"]) == len(path)
        for i, step in enumerate(path):
            row = tables_["br_path"][str(i + 1)]
            assert row["agent"] == step["agent"] and _num(row["value"]) == step["value"]
    else:
        front = {str(e["trial"]): e for e in result_json["pareto"]}
        assert set(tables_["pareto"]) == set(front)
        for key, entry in front.items():
            for i, v in enumerate(entry["values"]):
                assert _num(tables_["pareto"][key][f"value_{i}"]) == v
