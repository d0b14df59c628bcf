"""``/ws/simulations/{id}``: a simulation's events and per-tick summaries, live.

Protocol (server → client, JSON text; the client sends nothing):

* ``{"type": "hello", "simulation": {...state}}`` once;
* ``{"type": "events", "events": [...]}`` — the backlog, in pages: retained events from
  ``since_seq`` (default 0) up to where the live stream starts; only with ``events=true``;
* ``{"type": "tick", "tick", "day", "summary": {TickSummary}, "agents": {id: {balance, q1, q2,
  cost}}, "totals": {...}, "first_seq", "next_seq", "events": [...]}`` per tick while something
  drives the simulation (``events`` only with ``events=true``);
* ``{"type": "stopped", "simulation"}`` when a run stops before the end,
  ``{"type": "error", "error"}`` when it fails, ``{"type": "done", "summary": {RunSummary}}``
  at the end, after which the server closes (1000).

Close codes: 1000 finished or deleted; 1012 restored from a checkpoint (reconnect); 1013 too
slow (reconnect with the ``since_seq`` in the reason); 4401 no or wrong token; 4404 unknown
simulation; 4410 the events asked for were released. Back-pressure: see :mod:`paysim.api.hub`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect

from paysim.api.hub import Message, Subscriber
from paysim.api.security import access_problem, bearer, settings_of
from paysim.api.sessions import Registry, Session
from paysim.api.stepping import events_json
from paysim.exceptions import SimulationError
from paysim.simulation import Simulation

router = APIRouter(tags=["stream"])

_PAGE = 2000


def _page(sim: Simulation, *, start: int, end: int) -> str:
    return events_json(sim, start, end)


async def _backlog(ws: WebSocket, session: Session, sub: Subscriber, start: int) -> bool:
    """Sends the retained events ``start ≤ seq < sub.backlog_end``; False if they are gone."""
    seq = start
    while seq < sub.backlog_end:
        end = min(sub.backlog_end, seq + _PAGE)
        if seq < session.floor:
            return False
        try:
            text = await session.call(partial(_page, start=seq, end=end))
        except SimulationError:
            return False
        message = Message('{"type":"events","events":' + text + "}", end_seq=end)
        await ws.send_text(message.text)
        sub.sent(message)
        seq = end
    return True


async def _wait_for_disconnect(ws: WebSocket) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return


@router.websocket("/ws/simulations/{sim_id}")
async def stream(
    ws: WebSocket,
    sim_id: str,
    since_seq: Annotated[int, Query(ge=0)] = 0,
    events: bool = True,
    token: str | None = None,
) -> None:
    settings = settings_of(ws)
    await ws.accept()
    problem = access_problem(ws, settings, token or bearer(ws))
    if problem is not None:
        await ws.close(4401, problem[:120])
        return
    registry: Registry = ws.app.state.registry
    session = registry.find(sim_id)
    if session is None or session.deleted:
        await ws.close(4404, f"no simulation {sim_id}"[:120])
        return
    session.touch()
    sub = Subscriber(events=events, max_pending=settings.ws_max_pending_bytes, since_seq=since_seq)
    async with session.lock:
        if events and since_seq < session.floor:
            await ws.close(4410, f"events below seq {session.floor} were released")
            return
        sub.backlog_end = max(session.next_seq, since_seq) if events else since_seq
        finished = session.done and not session.driving
        if not finished:
            session.hub.add(sub)
        hello = json.dumps({"type": "hello", "simulation": session.state().model_dump(mode="json")})
    watcher = asyncio.create_task(_wait_for_disconnect(ws))
    sender = asyncio.create_task(_send(ws, session, sub, since_seq, hello, finished))
    try:
        await asyncio.wait({watcher, sender}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        session.hub.discard(sub)
        for task in (watcher, sender):
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
            await sender
        session.touch()


async def _send(
    ws: WebSocket, session: Session, sub: Subscriber, since: int, hello: str, finished: bool
) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
        await ws.send_text(hello)
        if sub.events and not await _backlog(ws, session, sub, since):
            await ws.close(4410, f"events below seq {session.floor} were released")
            return
        if finished:
            summary = await session.call(lambda sim: sim.summary())
            done = {"type": "done", "summary": summary}
            await ws.send_text(json.dumps(done, separators=(",", ":")))
            await ws.close(1000, "simulation finished")
            return
        while True:
            message = await sub.next()
            if message.text:
                await ws.send_text(message.text)
                sub.sent(message)
            if message.close is not None:
                await ws.close(*message.close)
                return
