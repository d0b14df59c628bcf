"""Hostile input and the server's limits: body size (413), scenario size (422), simulations per
client (429), policy files outside the allowed directory, tokens (401), loopback-only access
without a token, and conflicts between drivers (409). Nothing here may produce a 5xx."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from paysim.api import ApiSettings, settings_from_env
from paysim.api.hub import Message, Subscriber
from paysim.exceptions import PaysimError
from tests.api_support import DEMO_TEXT, client, create_demo, make_app

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

DEMO = yaml.safe_load(DEMO_TEXT)
REPO = Path(__file__).resolve().parent.parent


def _error(response: Any) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    assert error["status"] == response.status_code
    return error


def test_body_size_limit_declared_and_streamed() -> None:
    with client(make_app(max_body_bytes=2000)) as api:
        big = json.dumps({"scenario": "x" * 5000})
        declared = api.post(
            "/api/simulations", content=big, headers={"content-type": "application/json"}
        )
        assert declared.status_code == 413
        assert _error(declared)["code"] == "too_large"

        def chunks() -> Iterator[bytes]:
            for _ in range(10):
                yield b" " * 500

        streamed = api.post(
            "/api/simulations", content=chunks(), headers={"content-type": "application/json"}
        )
        assert streamed.status_code == 413
        assert "2000 bytes" in _error(streamed)["message"]


@pytest.mark.parametrize(
    ("settings", "pointer", "words"),
    [
        ({"max_agents": 2}, "/agents", "3 agents; this server accepts at most 2"),
        ({"max_ticks": 99}, "/simulation", "100 ticks"),
        ({"max_arrivals": 100}, "/agents", "payments expected"),
    ],
)
def test_scenario_size_limits(settings, pointer, words) -> None:
    with client(make_app(**settings)) as api:
        refused = api.post("/api/simulations", json={"example": "demo"})
        assert refused.status_code == 422
        error = _error(refused)
        assert error["code"] == "limit_exceeded" and error["pointer"] == pointer
        assert words in error["message"]


def test_expected_arrivals_count_peak_rates_and_scheduled_payments() -> None:
    # demo: rates 0.6 + 0.5 + 0.4 = 1.5 per tick over 100 ticks = 150 (151 arrived).
    with client(make_app(max_arrivals=150)) as api:
        assert api.post("/api/simulations", json={"example": "demo"}).status_code == 201
    surge = dict(DEMO)
    surge["scenario_events"] = [
        *DEMO["scenario_events"],
        {"type": "GlobalArrivalRateChange", "schedule": "OneTime", "tick": 50, "multiplier": 4},
        {
            "type": "CustomTransactionArrival",
            "schedule": {"type": "Repeating", "start_tick": 0, "interval": 10},
            "from_agent": "BANK_A",
            "to_agent": "BANK_B",
            "amount": 100,
        },
    ]
    # 1.5 × 4 × 100 + 10 scheduled = 610
    with client(make_app(max_arrivals=609)) as api:
        refused = api.post("/api/simulations", json={"scenario": surge})
        assert refused.status_code == 422 and "610" in _error(refused)["message"]
    with client(make_app(max_arrivals=610)) as api:
        assert api.post("/api/simulations", json={"scenario": surge}).status_code == 201


def test_yaml_alias_bomb_is_refused_quickly() -> None:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, 9):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    lines.append("description: *a8")
    bomb = "\n".join(lines)  # 10^9 values once expanded
    with client(make_app()) as api:
        start = time.monotonic()
        refused = api.post("/api/simulations", json={"scenario": bomb})
        assert time.monotonic() - start < 10
        assert refused.status_code == 422
        assert "aliases are expanded" in _error(refused)["message"]


@pytest.mark.parametrize(
    "body",
    [
        '{"scenario": ' + "[" * 100_000 + "]" * 100_000 + "}",
        '{"scenario": "' + "[" * 50_000 + '"}',
        '{"scenario": "\\u0001"}',
        b'{"scenario": "\xff\xfe"}',
        '{"scenario": {"simulation": 1e999}}',
        '{"policies": {"BANK_A": {}}, "example": "demo"}',
        '{"example": "../../etc/passwd"}',
        '{"scenario": null, "example": null}',
        "[]",
        "",
    ],
)
def test_hostile_bodies_get_4xx_not_5xx(body) -> None:
    with client(make_app(), raise_server_exceptions=False) as api:
        answer = api.post(
            "/api/simulations", content=body, headers={"content-type": "application/json"}
        )
        assert 400 <= answer.status_code < 500, answer.text
        assert _error(answer)["message"]


def test_simulations_per_client_limit() -> None:
    with client(make_app(max_simulations_per_client=2)) as api:
        first = create_demo(api)
        create_demo(api)
        refused = api.post("/api/simulations", json={"example": "demo"})
        assert refused.status_code == 429 and _error(refused)["code"] == "too_many"
        api.delete(f"/api/simulations/{first['id']}")
        assert api.post("/api/simulations", json={"example": "demo"}).status_code == 201


def test_idle_simulations_expire() -> None:
    with client(make_app(idle_seconds=1, max_simulations_per_client=1)) as api:
        sim_id = create_demo(api)["id"]
        assert api.post("/api/simulations", json={"example": "demo"}).status_code == 429
        time.sleep(1.2)
        assert api.post("/api/simulations", json={"example": "demo"}).status_code == 201
        assert api.get(f"/api/simulations/{sim_id}").status_code == 404


def _with_policy(ref: object) -> dict[str, Any]:
    scenario: dict[str, Any] = json.loads(json.dumps(DEMO))
    scenario["agents"][1]["policy"] = ref
    return scenario


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    fifo = (REPO / "policies" / "fifo.json").read_text()
    (allowed / "mine.json").write_text(fifo.replace('"fifo"', '"mine"', 1))
    (tmp_path / "secret.json").write_text(fifo.replace('"fifo"', '"secret"', 1))
    (allowed / "link.json").symlink_to(tmp_path / "secret.json")
    return allowed


@pytest.mark.parametrize(
    ("ref", "words"),
    [
        ("../secret.json", "outside the policy directory"),
        ("link.json", "outside the policy directory"),
        ("{dir}/../secret.json", "outside the policy directory"),
        ("file:../secret.json", "outside the policy directory"),
        ("library:../allowed/mine", "named without a path"),
        ("nothere.json", "not found in the policy directory"),
        ({"type": "FromJson", "json_path": "../secret.json"}, "outside the policy directory"),
    ],
)
def test_policy_files_outside_the_directory_are_refused(policy_dir: Path, ref, words) -> None:
    if isinstance(ref, str):
        ref = ref.replace("{dir}", str(policy_dir))
    with client(make_app(policy_dir=policy_dir)) as api:
        refused = api.post("/api/simulations", json={"scenario": _with_policy(ref)})
        assert refused.status_code == 422
        error = _error(refused)
        assert words in error["message"] and error["pointer"] == "/agents/1/policy"
        override = api.post(
            "/api/simulations", json={"example": "demo", "policies": {"BANK_B": ref}}
        )
        assert override.status_code == 422 and words in _error(override)["message"]


def test_policy_files_inside_the_directory_are_read(policy_dir: Path) -> None:
    with client(make_app(policy_dir=policy_dir)) as api:
        for ref in ("mine.json", "file:mine.json", "./mine.json"):
            made = api.post("/api/simulations", json={"scenario": _with_policy(ref)})
            assert made.status_code == 201, made.text
            agent = api.get(f"/api/simulations/{made.json()['id']}/agents/BANK_B").json()
            assert agent["policy_id"] == "mine"
            api.delete(f"/api/simulations/{made.json()['id']}")
        sim_id = create_demo(api)["id"]
        changed = api.put(
            f"/api/simulations/{sim_id}/agents/BANK_A/policy", json={"policy": "mine.json"}
        )
        assert changed.status_code == 200 and changed.json()["policy_id"] == "mine"
        outside = api.put(
            f"/api/simulations/{sim_id}/agents/BANK_A/policy", json={"policy": "../secret.json"}
        )
        assert outside.status_code == 422


def test_without_a_policy_directory_no_file_is_read() -> None:
    with client(make_app()) as api:
        refused = api.post(
            "/api/simulations", json={"scenario": _with_policy("policies/fifo.json")}
        )
        assert refused.status_code == 422
        assert "reads no policy files" in _error(refused)["message"]


def test_token_is_required_when_configured() -> None:
    app = make_app(token="s3cret")
    with client(app) as api:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret"}):
            refused = api.get("/api/info", headers=headers)
            assert refused.status_code == 401
            assert refused.headers["www-authenticate"] == "Bearer"
        ok = api.get("/api/info", headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200 and ok.json()["token_required"] is True
        assert api.get("/").status_code == 200  # the page itself is public
        schema = api.get("/openapi.json").json()
        assert schema["security"] == [{"bearer": []}]
        with api.websocket_connect("/ws/simulations/" + "0" * 32) as ws:
            with pytest.raises(Exception) as closed:
                ws.receive_text()
            assert getattr(closed.value, "code", None) == 4401


def test_without_a_token_only_loopback_is_served() -> None:
    app = make_app()
    with TestClient(app, base_url="http://192.168.1.20") as remote:
        refused = remote.get("/api/info")
        assert refused.status_code == 401 and "loopback" in _error(refused)["message"]
    with client(app) as api:
        rebinding = api.get("/api/info", headers={"host": "evil.example:8000"})
        assert rebinding.status_code == 401
        assert api.get("/api/info", headers={"host": "localhost:8000"}).status_code == 200
    assert make_app(token="t").openapi().get("security") == [{"bearer": []}]
    assert "security" not in make_app().openapi()


def test_one_driver_at_a_time() -> None:
    with client(make_app()) as api:
        sim_id = create_demo(api)["id"]
        started = api.post(
            f"/api/simulations/{sim_id}/run", json={"wait": False, "tick_delay_ms": 20}
        )
        assert started.status_code == 202 and started.json()["running"] is True
        for method, path, kwargs in (
            ("post", "/tick", {}),
            ("post", "/run", {"json": {}}),
            ("get", "/checkpoint", {}),
            ("put", "/agents/BANK_A/policy", {"json": {"policy": "fifo"}}),
        ):
            answer = getattr(api, method)(f"/api/simulations/{sim_id}{path}", **kwargs)
            assert answer.status_code == 409, (path, answer.text)
            assert _error(answer)["code"] == "conflict"
        # Reads still work while it runs.
        assert api.get(f"/api/simulations/{sim_id}/summary").status_code == 200
        assert api.delete(f"/api/simulations/{sim_id}").status_code == 204


def test_settings_from_the_environment() -> None:
    env = {"PAYSIM_API_MAX_AGENTS": "7", "PAYSIM_API_TOKEN": "abc", "PAYSIM_API_DB": "x.duckdb"}
    settings = settings_from_env(env)
    assert settings.max_agents == 7 and settings.token == "abc"
    assert settings.db == Path("x.duckdb")
    with pytest.raises(PaysimError, match="PAYSIM_API_MAX_TICKS"):
        settings_from_env({"PAYSIM_API_MAX_TICKS": "many"})
    assert ApiSettings().token is None


def test_lossless_subscriber_is_closed_at_its_bound() -> None:
    sub = Subscriber(events=True, max_pending=100, since_seq=0)
    sub.push(Message("x" * 60, tick=True, end_seq=5))
    sub.sent(Message("", end_seq=5))
    sub.push(Message("y" * 60, tick=True, end_seq=9))
    sub.push(Message("z" * 60, tick=True, end_seq=12))
    assert sub.pending_bytes == 0
    import asyncio

    message = asyncio.run(sub.next())
    assert message.close == (1013, "too slow; reconnect with since_seq=5")


def test_summary_subscriber_keeps_only_the_latest_tick() -> None:
    import asyncio

    sub = Subscriber(events=False, max_pending=100, since_seq=0)
    for i in range(50):
        sub.push(Message(f"tick{i}", tick=True))
    sub.push(Message("stopped"))
    sub.push(Message("tick50", tick=True))
    sub.push(Message("tick51", tick=True))
    got = [asyncio.run(sub.next()).text for _ in range(3)]
    assert got == ["tick49", "stopped", "tick51"]
    assert sub.pending_bytes == 0
