"""The WebSocket stream over a real loopback server: fifty clients each get every event in
order; a slow client is cut off at the documented bound and resumes without a gap; a
summaries-only client skips to the latest tick. Every wait is bounded."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

import paysim
from tests.api_support import DEMO_TEXT, LiveServer, live_server, make_app
from tests.cli_support import DEMO, jsonl

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _library_events(days: int) -> list[dict[str, Any]]:
    """Every event of the demo run, as ``paysim run --format events`` writes them."""
    from paysim.sinks import event_lines

    sim = paysim.Simulation(DEMO, days=days)
    sim.run()
    table = sim.events()
    return jsonl("".join(line for b in table.to_batches() for line in event_lines(b)))


async def _collect(ws: ClientConnection) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Reads until ``done``: every event received (backlog and ticks), and the summary."""
    events: list[dict[str, Any]] = []
    async for raw in ws:
        message = json.loads(raw)
        if message["type"] in ("events", "tick"):
            events.extend(message.get("events", []))
        elif message["type"] == "done":
            return events, message["summary"]
    raise AssertionError("the stream ended without `done`")


async def _fifty_clients(server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        created = await http.post("/api/simulations", json={"example": "demo", "days": 3})
        assert created.status_code == 201
        sim_id = created.json()["id"]
        url = f"{server.ws_url}/ws/simulations/{sim_id}"
        clients = [await connect(url, open_timeout=20) for _ in range(50)]
        try:
            hellos = [json.loads(await c.recv()) for c in clients]
            assert {h["type"] for h in hellos} == {"hello"}
            started = await http.post(f"/api/simulations/{sim_id}/run", json={"wait": False})
            assert started.status_code == 202
            results = await asyncio.gather(*(_collect(c) for c in clients))
        finally:
            for c in clients:
                await c.close()
    expected = _library_events(days=3)
    assert len(expected) > 1500
    summaries = {json.dumps(s["totals"], sort_keys=True) for _, s in results}
    assert len(summaries) == 1
    for events, _summary in results:
        assert [e["seq"] for e in events] == list(range(len(expected)))
        assert events == expected


def test_fifty_clients_each_receive_every_event_in_order() -> None:
    with live_server(make_app()) as server:
        asyncio.run(asyncio.wait_for(_fifty_clients(server), timeout=120))


async def _slow_client(server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        created = await http.post("/api/simulations", json={"example": "demo", "days": 10})
        sim_id = created.json()["id"]
        url = f"{server.ws_url}/ws/simulations/{sim_id}"
        # A small receive buffer and no reading: the server's queue for this client fills.
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow = await connect(url, sock=sock, max_queue=1, open_timeout=20)
        assert json.loads(await slow.recv())["type"] == "hello"
        ran = await http.post(f"/api/simulations/{sim_id}/run", json={})
        assert ran.status_code == 200 and ran.json()["done"]
        received: list[dict[str, Any]] = []
        with pytest.raises(ConnectionClosed) as closed:
            async for raw in slow:
                received.extend(json.loads(raw).get("events", []))
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1013
        reason = closed.value.rcvd.reason
        resume = int(reason.rsplit("since_seq=", 1)[1])
        assert [e["seq"] for e in received] == list(range(resume))
        # Reconnecting from the seq in the reason gives the rest, ending on `done`.
        async with connect(f"{url}?since_seq={resume}", open_timeout=20) as again:
            assert json.loads(await again.recv())["type"] == "hello"
            rest, summary = await _collect(again)
    expected = _library_events(days=10)
    assert received + rest == expected
    assert summary["totals"]["arrivals"] > 0


def test_slow_client_is_cut_off_at_the_bound_and_resumes_without_gap() -> None:
    app = make_app(ws_max_pending_bytes=64 * 1024)
    with live_server(app) as server:
        asyncio.run(asyncio.wait_for(_slow_client(server), timeout=180))


async def _summaries_only(server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        created = await http.post("/api/simulations", json={"scenario": DEMO_TEXT})
        sim_id = created.json()["id"]
        async with connect(f"{server.ws_url}/ws/simulations/{sim_id}?events=false") as ws:
            assert json.loads(await ws.recv())["type"] == "hello"
            assert (await http.post(f"/api/simulations/{sim_id}/run", json={})).status_code == 200
            ticks, done = [], None
            async for raw in ws:
                message = json.loads(raw)
                assert "events" not in message
                if message["type"] == "tick":
                    ticks.append(message)
                elif message["type"] == "done":
                    done = message["summary"]
    assert done is not None
    # The run outpaced this reader: it skipped ticks, never went backwards, and its last tick
    # shows the final state.
    numbers = [t["tick"] for t in ticks]
    assert numbers == sorted(set(numbers)) and numbers[-1] == 99
    last = ticks[-1]
    assert last["totals"] == done["totals"]
    for agent_id, a in done["agents"].items():
        assert last["agents"][agent_id] == {
            "balance": a["final_balance"],
            "q1": a["q1"],
            "q2": a["q2"],
            "cost": a["costs"]["total"],
        }


def test_summaries_only_client_skips_to_the_latest_tick() -> None:
    with live_server(make_app()) as server:
        asyncio.run(asyncio.wait_for(_summaries_only(server), timeout=60))


async def _failure(server: LiveServer) -> None:
    from tests.test_api_rest import BOOM

    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        created = await http.post(
            "/api/simulations", json={"example": "demo", "policies": {"BANK_A": BOOM}}
        )
        sim_id = created.json()["id"]
        async with connect(f"{server.ws_url}/ws/simulations/{sim_id}") as ws:
            assert json.loads(await ws.recv())["type"] == "hello"
            assert (await http.post(f"/api/simulations/{sim_id}/run", json={})).status_code == 422
            kinds: list[str] = []
            while not kinds or kinds[-1] != "stopped":
                message = json.loads(await ws.recv())
                kinds.append(message["type"])
                if message["type"] == "error":
                    assert message["error"]["code"] == "simulation_failed"
    assert kinds[-2:] == ["error", "stopped"]


def test_a_failed_run_is_reported_on_the_stream() -> None:
    with live_server(make_app()) as server:
        asyncio.run(asyncio.wait_for(_failure(server), timeout=60))
