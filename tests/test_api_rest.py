"""The REST API against the library: the same numbers, events and error messages as
``paysim run`` and ``paysim.Simulation`` give for the same scenario."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

import paysim
from paysim.simulation import RUN_METADATA_KEYS
from tests.api_support import DEMO_TEXT, client, create_demo, make_app
from tests.cli_support import DEMO, INVALID, invoke

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _identity(summary: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in summary.items() if k not in RUN_METADATA_KEYS}


def _library_summary(**kwargs: Any) -> dict[str, Any]:
    sim = paysim.Simulation(DEMO, **kwargs)
    sim.run()
    return _identity(sim.summary())


@pytest.fixture
def api():
    with client(make_app()) as c:
        yield c


@pytest.mark.parametrize(
    "body",
    [
        {"example": "demo"},
        {"scenario": DEMO_TEXT},
        {"scenario": yaml.safe_load(DEMO_TEXT)},
        {"scenario": json.dumps(yaml.safe_load(DEMO_TEXT))},
    ],
    ids=["example", "yaml-text", "object", "json-text"],
)
def test_create_then_run_gives_the_library_summary(api, body) -> None:
    created = api.post("/api/simulations", json=body)
    assert created.status_code == 201
    state = created.json()
    assert created.headers["location"] == f"/api/simulations/{state['id']}"
    assert state["current_tick"] == 0 and state["total_ticks"] == 100
    assert state["agents"] == ["BANK_A", "BANK_B", "BANK_C"]
    ran = api.post(f"/api/simulations/{state['id']}/run", json={})
    assert ran.status_code == 200 and ran.json()["done"]
    summary = api.get(f"/api/simulations/{state['id']}/summary").json()
    assert _identity(summary) == _library_summary()
    assert summary["totals"]["settled"] == 143 and summary["totals"]["arrivals"] == 151


def test_seed_days_and_overrides_apply_as_on_the_command_line(api) -> None:
    body = {
        "example": "demo",
        "seed": 8,
        "days": 2,
        "policies": {"BANK_B": "deadline"},
        "params": {"BANK_C": {"initial_liquidity_fraction": 0.2}},
    }
    state = create_demo(api, **{k: v for k, v in body.items() if k != "example"})
    assert state["total_ticks"] == 200
    api.post(f"/api/simulations/{state['id']}/run", json={})
    summary = api.get(f"/api/simulations/{state['id']}/summary").json()
    expected = _library_summary(
        seed=8,
        days=2,
        policies={"BANK_B": "deadline"},
        params={"BANK_C": {"initial_liquidity_fraction": 0.2}},
    )
    assert _identity(summary) == expected
    assert summary["seed"] == 8


def test_ticks_are_the_engines_ticks(api) -> None:
    sim_id = create_demo(api)["id"]
    got = api.post(f"/api/simulations/{sim_id}/tick", params={"count": 5}).json()
    assert got["simulation"]["current_tick"] == 5
    sim = paysim.Simulation(DEMO)
    assert got["ticks"] == [vars(sim.tick()) for _ in range(5)]
    # Runs until a tick, then to the end; a finished simulation cannot be advanced (409).
    assert (
        api.post(f"/api/simulations/{sim_id}/run", json={"until": 40}).json()["current_tick"] == 40
    )
    assert api.post(f"/api/simulations/{sim_id}/run", json={"until": 30}).status_code == 422
    assert api.post(f"/api/simulations/{sim_id}/run", json={"until": 101}).status_code == 422
    assert api.post(f"/api/simulations/{sim_id}/run").json()["done"] is True
    attempts: list[tuple[str, dict[str, Any]]] = [("tick", {}), ("run", {"json": {}})]
    for path, kwargs in attempts:
        refused = api.post(f"/api/simulations/{sim_id}/{path}", **kwargs)
        assert refused.status_code == 409
        assert "finished" in refused.json()["error"]["message"]


def test_events_pages_concatenate_to_the_event_stream(api) -> None:
    sim_id = create_demo(api)["id"]
    api.post(f"/api/simulations/{sim_id}/run", json={})
    pages, seq = [], 0
    while True:
        page = api.get(f"/api/simulations/{sim_id}/events", params={"since_seq": seq, "limit": 97})
        body = page.json()
        pages.extend(body["events"])
        seq = body["next_seq"]
        if not body["more"]:
            break
    got = invoke("run", DEMO, "--format", "events")
    assert pages == [json.loads(line) for line in got.stdout.splitlines()]
    past = api.get(f"/api/simulations/{sim_id}/events", params={"since_seq": 10_000}).json()
    assert past == {"events": [], "next_seq": 10_000, "more": False}


def test_released_events_answer_410() -> None:
    with client(make_app(max_retained_events=50)) as api:
        sim_id = create_demo(api)["id"]
        api.post(f"/api/simulations/{sim_id}/run", json={})
        state = api.get(f"/api/simulations/{sim_id}").json()
        assert state["first_seq"] == state["next_seq"] - 50
        gone = api.get(f"/api/simulations/{sim_id}/events", params={"since_seq": 0})
        assert gone.status_code == 410
        assert f"since_seq={state['first_seq']}" in gone.json()["error"]["message"]
        kept = api.get(
            f"/api/simulations/{sim_id}/events", params={"since_seq": state["first_seq"]}
        )
        assert len(kept.json()["events"]) == 50


def test_agents_and_queues_show_the_engine_state(api) -> None:
    sim_id = create_demo(api)["id"]
    api.post(f"/api/simulations/{sim_id}/run", json={"until": 95})
    sim = paysim.Simulation(DEMO)
    sim.run_until(95)
    agents = api.get(f"/api/simulations/{sim_id}/agents").json()
    assert agents == {a: sim.agent(a) for a in ("BANK_A", "BANK_B", "BANK_C")}
    one = api.get(f"/api/simulations/{sim_id}/agents/BANK_B").json()
    assert one == sim.agent("BANK_B")
    queues = api.get(f"/api/simulations/{sim_id}/queues").json()
    assert queues["queue2"] == sim._engine.queue2()
    assert len(queues["queue2"]) == sum(a["q2_count"] for a in agents.values()) > 0
    assert api.get(f"/api/simulations/{sim_id}/agents/BANK_Z").status_code == 404


def test_checkpoint_and_restore_continue_exactly(api) -> None:
    sim_id = create_demo(api)["id"]
    api.post(f"/api/simulations/{sim_id}/run", json={"until": 50})
    data = api.get(f"/api/simulations/{sim_id}/checkpoint")
    assert data.headers["content-type"] == "application/octet-stream"
    api.post(f"/api/simulations/{sim_id}/run", json={})
    first = api.get(f"/api/simulations/{sim_id}/summary").json()
    restored = api.post(
        f"/api/simulations/{sim_id}/restore",
        content=data.content,
        headers={"content-type": "application/octet-stream"},
    )
    assert restored.status_code == 200
    assert restored.json()["current_tick"] == 50 and not restored.json()["done"]
    api.post(f"/api/simulations/{sim_id}/run", json={})
    again = api.get(f"/api/simulations/{sim_id}/summary").json()
    assert _identity(again) == _identity(first)
    # Garbage, and a checkpoint of another configuration, are refused with the engine's reason.
    other = api.get(f"/api/simulations/{create_demo(api, seed=9)['id']}/checkpoint").content
    for bad in (b"not a checkpoint", other):
        refused = api.post(f"/api/simulations/{sim_id}/restore", content=bad)
        assert refused.status_code == 422
        assert refused.json()["error"]["message"].startswith("the run failed: checkpoint rejected")


def test_set_policy_applies_from_the_next_tick(api) -> None:
    sim_id = create_demo(api)["id"]
    api.post(f"/api/simulations/{sim_id}/tick", params={"count": 10})
    changed = api.put(
        f"/api/simulations/{sim_id}/agents/BANK_B/policy", json={"policy": "hold_all"}
    )
    assert changed.status_code == 200 and changed.json()["policy_id"] == "hold_all"
    api.post(f"/api/simulations/{sim_id}/run", json={})
    sim = paysim.Simulation(DEMO)
    sim.run_until(10)
    sim.set_policy("BANK_B", "hold_all")
    sim.run()
    summary = api.get(f"/api/simulations/{sim_id}/summary").json()
    assert _identity(summary) == _identity(sim.summary())
    fresh = create_demo(api)["id"]
    bad = api.put(
        f"/api/simulations/{fresh}/agents/BANK_A/policy",
        json={
            "policy": {
                "policy_id": "x",
                "version": "1.0",
                "payment_tree": {"type": "action", "node_id": "a", "action": "Relase"},
            }
        },
    )
    assert bad.status_code == 422
    error = bad.json()["error"]
    assert error["code"] == "invalid_policy"
    assert [p["code"] for p in error["problems"]] == ["UNKNOWN_ACTION"]
    assert error["problems"][0]["pointer"] == "/payment_tree/action"
    unknown = api.put(f"/api/simulations/{fresh}/agents/BANK_A/policy", json={"policy": "fifoo"})
    assert unknown.status_code == 422
    assert unknown.json()["error"]["suggestion"] == "did you mean `fifo`?"


def test_validate_policy_reports_like_the_cli(api) -> None:
    document = {
        "policy_id": "x",
        "version": "1.0",
        "payment_tree": {"type": "action", "node_id": "a", "action": "Relase"},
    }
    report = api.post("/api/policies/validate", json={"policy": document})
    assert report.status_code == 200
    body = report.json()
    assert body["valid"] is False
    assert body["errors"] == [
        {
            "code": "UNKNOWN_ACTION",
            "message": "unknown action `Relase`",
            "pointer": "/payment_tree/action",
            "suggestion": "did you mean `Release`?",
        }
    ]
    library = json.loads((Path("policies") / "deadline.json").read_text())
    ok = api.post("/api/policies/validate", json={"policy": library, "scenario": DEMO_TEXT})
    assert ok.json() == paysim.validate_policy(library, scenario=DEMO).to_dict()


def test_catalog(api) -> None:
    names = [p["name"] for p in api.get("/api/policies").json()]
    assert "fifo" in names and "deadline" in names
    assert api.get("/api/policies/deadline").json()["policy_id"] == "deadline"
    assert api.get("/api/policies/nope").status_code == 404
    examples = {e["name"]: e for e in api.get("/api/scenarios").json()}
    assert examples["demo"]["description"] == "Three banks, one day, a mix of funding situations"
    assert api.get("/api/scenarios/demo").json()["text"] == DEMO_TEXT
    assert api.get("/api/scenarios/..%2Fpyproject").status_code == 404
    plugins = {p["name"]: p for p in api.get("/api/plugins").json()}
    assert plugins["paysim.policy.sources"]["hooks"] == ["paysim_register_policy_sources"]
    info = api.get("/api/info").json()
    assert info["paysim_version"] == paysim.__version__ and info["token_required"] is False


def test_unknown_ids_and_delete(api) -> None:
    missing = "0" * 32
    for method, path in (("get", ""), ("post", "/tick"), ("get", "/summary"), ("delete", "")):
        answer = getattr(api, method)(f"/api/simulations/{missing}{path}")
        assert answer.status_code == 404
        assert answer.json()["error"]["code"] == "not_found"
    sim_id = create_demo(api)["id"]
    assert [s["id"] for s in api.get("/api/simulations").json()] == [sim_id]
    assert api.delete(f"/api/simulations/{sim_id}").status_code == 204
    assert api.get(f"/api/simulations/{sim_id}").status_code == 404
    assert api.get("/api/simulations/not-an-id").status_code == 422


def _invalid_fixtures() -> list[Path]:
    return sorted(INVALID.glob("*.yaml"))


@pytest.mark.parametrize("path", _invalid_fixtures(), ids=lambda p: p.stem)
def test_invalid_scenarios_get_the_cli_message(api, path: Path) -> None:
    cli = invoke("run", path)
    assert cli.exit_code == 2
    expected = cli.stderr.strip().removeprefix("error: ").replace(str(path), "<scenario>")
    answer = api.post("/api/simulations", json={"scenario": path.read_text(encoding="utf-8")})
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["message"] == expected
    assert error["code"] in ("invalid_scenario", "invalid_policy")


BOOM = {
    "version": "1.0",
    "policy_id": "boom",
    "payment_tree": {
        "type": "condition",
        "node_id": "c",
        "condition": {
            "op": ">",
            "left": {
                "compute": {
                    "op": "/",
                    "left": {"value": 1},
                    "right": {
                        "compute": {
                            "op": "-",
                            "left": {"field": "balance"},
                            "right": {"field": "balance"},
                        }
                    },
                }
            },
            "right": {"value": 0},
        },
        "on_true": {"type": "action", "node_id": "a", "action": "Release"},
        "on_false": {"type": "action", "node_id": "b", "action": "Release"},
    },
}
"""Divides by ``balance - balance``: every evaluation fails at run time."""


def test_a_run_that_fails_at_run_time_reports_where(api) -> None:
    sim_id = create_demo(api, policies={"BANK_A": BOOM})["id"]
    failed = api.post(f"/api/simulations/{sim_id}/run", json={})
    assert failed.status_code == 422
    error = failed.json()["error"]
    assert error["code"] == "simulation_failed"
    assert error["message"].startswith("policy evaluation failed:")
    assert "(agent BANK_A, policy boom, tree payment_tree, node c" in error["message"]
    state = api.get(f"/api/simulations/{sim_id}").json()
    assert state["error"] == error and state["running"] is False
    again = api.post(f"/api/simulations/{sim_id}/tick")
    assert again.status_code == 422 and "refuses further work" in again.json()["error"]["message"]


def test_the_environment_app_is_built_once() -> None:
    import paysim.api

    first = paysim.api.app
    assert first is paysim.api.app
    assert first.state.settings.max_agents == paysim.api.ApiSettings().max_agents
