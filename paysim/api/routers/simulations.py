"""``/api/simulations``: create, drive, read, checkpoint, restore, re-policy and delete.

Each route parses its input, makes one library call in a worker thread (under the session's
engine lock) and renders the result; the session (:mod:`paysim.api.sessions`) provides the
one-driver-at-a-time rule and the live stream.
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

from anyio import to_thread
from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import JSONResponse

from paysim.api.deps import RegistryDep, SettingsDep
from paysim.api.errors import ApiError, from_library, not_found, responses
from paysim.api.examples import example_text
from paysim.api.inputs import Recipe, parse_scenario, prepare
from paysim.api.models import (
    AgentState,
    CreateSimulation,
    EventsPage,
    Queues,
    RunRequest,
    RunSummary,
    SetPolicy,
    SimulationId,
    SimulationState,
    TickResult,
)
from paysim.api.security import client_key
from paysim.api.sessions import Session
from paysim.api.settings import ApiSettings
from paysim.api.stepping import events_json
from paysim.exceptions import PaysimError, SimulationError
from paysim.simulation import Simulation

router = APIRouter(prefix="/api/simulations", tags=["simulations"])


def _build(body: CreateSimulation, settings: ApiSettings) -> tuple[Recipe, Simulation, list[str]]:
    """Parses, checks and builds (in a worker thread)."""
    base = settings.policy_dir.resolve() if settings.policy_dir is not None else None
    if body.example is not None:
        source = f"{body.example}.yaml"
        text = example_text(settings, body.example)
        scenario, notes = parse_scenario(text, source=source, base_dir=base, settings=settings)
    else:
        assert body.scenario is not None
        scenario, notes = parse_scenario(
            body.scenario, source=None, base_dir=base, settings=settings
        )
    recipe = prepare(
        scenario,
        seed=body.seed,
        days=body.days,
        policies=body.policies,
        params=body.params,
        settings=settings,
    )
    sim = recipe.build()
    return recipe, sim, [*notes, *sim.warnings]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=SimulationState,
    responses=responses(404, 429),
    summary="Create a simulation from a scenario",
)
async def create(
    body: CreateSimulation, request: Request, registry: RegistryDep, settings: SettingsDep
) -> JSONResponse:
    """Validates the scenario (the CLI's checks and messages), checks the server's limits and
    every policy reference, and builds the simulation at tick 0."""
    if (body.scenario is None) == (body.example is None):
        raise ApiError(
            422, "invalid_request", "give exactly one of `scenario` and `example`", pointer=""
        )
    owner = client_key(request)
    registry.check_room(owner)
    try:
        recipe, sim, notes = await to_thread.run_sync(lambda: _build(body, settings))
    except PaysimError as exc:
        raise from_library(exc) from None
    session = Session(
        recipe, sim, owner=owner, warnings=notes, max_retained=settings.max_retained_events
    )
    registry.add(session)
    state = session.state()
    return JSONResponse(
        state.model_dump(mode="json"),
        status_code=201,
        headers={"Location": f"/api/simulations/{session.id}"},
    )


@router.get("", response_model=list[SimulationState], summary="List the live simulations")
async def list_simulations(registry: RegistryDep) -> list[SimulationState]:
    return [s.state() for s in registry.sessions()]


@router.get(
    "/{sim_id}", response_model=SimulationState, responses=responses(404), summary="Its state"
)
async def get_state(sim_id: SimulationId, registry: RegistryDep) -> SimulationState:
    return registry.get(sim_id).state()


@router.delete(
    "/{sim_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=responses(404),
    summary="Delete it (stops a run in progress)",
)
async def delete(sim_id: SimulationId, registry: RegistryDep) -> Response:
    registry.remove(sim_id)
    return Response(status_code=204)


@router.post(
    "/{sim_id}/tick",
    response_model=TickResult,
    responses=responses(404, 409),
    summary="Process ticks, one by one",
)
async def tick(
    sim_id: SimulationId,
    registry: RegistryDep,
    settings: SettingsDep,
    count: Annotated[int, Query(ge=1, description="How many ticks.")] = 1,
) -> TickResult:
    """Processes ``count`` ticks (fewer at the end of the episode) and returns each tick's
    summary. Clients on the WebSocket receive them as they happen."""
    if count > settings.max_ticks_per_request:
        raise ApiError(
            422,
            "limit_exceeded",
            f"/count: at most {settings.max_ticks_per_request} ticks per request",
            pointer="/count",
        )
    session = registry.get(sim_id)
    session.claim()
    try:
        until = min(session.total_ticks, session.current_tick + count)
        step = await session.step(until, whole=True)
    except PaysimError as exc:
        session.error = from_library(exc, code="simulation_failed").info
        raise from_library(exc, code="simulation_failed") from None
    finally:
        session.release()
        await session.finish()
    return TickResult(ticks=step.summaries, simulation=session.state())


@router.post(
    "/{sim_id}/run",
    response_model=SimulationState,
    responses={**responses(404, 409), 202: {"model": SimulationState, "description": "Started."}},
    summary="Run until a tick or to the end",
)
async def run(
    sim_id: SimulationId,
    registry: RegistryDep,
    settings: SettingsDep,
    body: RunRequest | None = None,
) -> JSONResponse:
    """Runs to ``until`` (default: the end). With ``wait: false`` the answer (202) comes at
    once and the run goes on; watch it on ``/ws/simulations/{id}``. ``tick_delay_ms`` paces
    the run for people watching."""
    req = body or RunRequest()
    session = registry.get(sim_id)
    if req.tick_delay_ms > settings.max_tick_delay_ms:
        raise ApiError(
            422,
            "limit_exceeded",
            f"/tick_delay_ms: at most {settings.max_tick_delay_ms} ms",
            pointer="/tick_delay_ms",
        )
    until = session.total_ticks if req.until is None else req.until
    if until > session.total_ticks:
        raise ApiError(
            422,
            "invalid_request",
            f"/until: the simulation has {session.total_ticks} ticks; found {until}",
            pointer="/until",
        )
    if until <= session.current_tick and not session.done:
        raise ApiError(
            422,
            "invalid_request",
            f"/until: the simulation is at tick {session.current_tick} already; found {until}",
            pointer="/until",
        )
    session.claim()
    task = session.start(until, req.tick_delay_ms)
    if not req.wait:
        return JSONResponse(session.state().model_dump(mode="json"), status_code=202)
    # The run belongs to the session: a client that goes away does not stop it.
    await asyncio.shield(task)
    if session.error is not None:
        raise ApiError(session.error.status, session.error.code, session.error.message)
    return JSONResponse(session.state().model_dump(mode="json"))


@router.get(
    "/{sim_id}/summary",
    response_model=RunSummary,
    responses=responses(404),
    summary="The run summary so far",
)
async def summary(sim_id: SimulationId, registry: RegistryDep) -> dict[str, object]:
    return await registry.get(sim_id).call(lambda sim: sim.summary())


@router.get(
    "/{sim_id}/agents",
    response_model=dict[str, AgentState],
    responses=responses(404),
    summary="Every bank's current state",
)
async def agents(sim_id: SimulationId, registry: RegistryDep) -> dict[str, object]:
    session = registry.get(sim_id)
    ids = session.agent_ids
    return await session.call(lambda sim: {a: sim.agent(a) for a in ids})


@router.get(
    "/{sim_id}/agents/{agent_id}",
    response_model=AgentState,
    responses=responses(404),
    summary="One bank's current state",
)
async def agent(sim_id: SimulationId, agent_id: str, registry: RegistryDep) -> dict[str, object]:
    session = registry.get(sim_id)
    if agent_id not in session.agent_ids:
        raise not_found(f"no agent `{agent_id}` in simulation {sim_id}")
    return await session.call(lambda sim: sim.agent(agent_id))


@router.get(
    "/{sim_id}/queues",
    response_model=Queues,
    responses=responses(404),
    summary="Payment ids in the queues",
)
async def queues(sim_id: SimulationId, registry: RegistryDep) -> Queues:
    session = registry.get(sim_id)
    ids = session.agent_ids

    def read(sim: Simulation) -> Queues:
        engine = sim._engine
        return Queues(queue1={a: engine.queue1(a) for a in ids}, queue2=engine.queue2())

    return await session.call(read)


@router.get(
    "/{sim_id}/events",
    response_model=EventsPage,
    responses=responses(404, 410),
    summary="Events in seq order, a page at a time",
)
async def events(
    sim_id: SimulationId,
    registry: RegistryDep,
    settings: SettingsDep,
    since_seq: Annotated[int, Query(ge=0, description="The first seq wanted.")] = 0,
    limit: Annotated[int, Query(ge=1, description="Most events in the page.")] = 1000,
) -> Response:
    session = registry.get(sim_id)
    limit = min(limit, settings.max_events_page)

    def read(sim: Simulation) -> tuple[str, int, bool]:
        newest = sim.next_seq
        start = min(since_seq, newest)  # asking past the newest event gives an empty page
        end = min(newest, start + limit)
        return events_json(sim, start, end), end, end < newest

    if since_seq < session.floor:
        raise ApiError(
            410,
            "gone",
            f"events below seq {session.floor} are no longer retained (the server keeps the "
            f"newest {settings.max_retained_events}, and none from before a restore); ask from "
            f"since_seq={session.floor}",
        )
    try:
        text, end, more = await session.call(read)
    except SimulationError as exc:
        raise ApiError(410, "gone", str(exc)) from None
    next_seq = max(end, since_seq)
    body = f'{{"events":{text},"next_seq":{next_seq},"more":{json.dumps(more)}}}'
    return Response(body, media_type="application/json")


@router.get(
    "/{sim_id}/checkpoint",
    response_class=Response,
    responses={
        **responses(404, 409),
        200: {"content": {"application/octet-stream": {}}, "description": "The state, as bytes."},
    },
    summary="The complete state, as bytes",
)
async def checkpoint(sim_id: SimulationId, registry: RegistryDep) -> Response:
    session = registry.get(sim_id)
    session.claim(advancing=False)
    try:
        data = await session.call(lambda sim: sim.checkpoint())
    finally:
        session.release()
    return Response(data, media_type="application/octet-stream")


@router.post(
    "/{sim_id}/restore",
    response_model=SimulationState,
    responses=responses(404, 409),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
    summary="Continue from a checkpoint of this simulation",
)
async def restore(sim_id: SimulationId, request: Request, registry: RegistryDep) -> SimulationState:
    """Replaces the state with a checkpoint taken from this simulation (same scenario and
    overrides; the engine checks the config hash). WebSocket clients are disconnected, since
    the event stream starts again from the checkpoint."""
    session = registry.get(sim_id)
    data = await request.body()
    session.claim(advancing=False)
    try:
        async with session.lock:
            recipe = session.recipe
            try:
                restored = await to_thread.run_sync(lambda: recipe.restore(data))
            except PaysimError as exc:
                raise from_library(exc, code="invalid_checkpoint") from None
            session.sim = restored
            session.error = None
            session.refresh()
            session.floor = session.next_seq
            session.hub.publish('{"type":"restored"}', close=(1012, "restored from a checkpoint"))
    finally:
        session.release()
    return session.state()


@router.put(
    "/{sim_id}/agents/{agent_id}/policy",
    response_model=AgentState,
    responses=responses(404, 409),
    summary="Replace a bank's policy from the next tick",
)
async def set_policy(
    sim_id: SimulationId,
    agent_id: str,
    body: SetPolicy,
    registry: RegistryDep,
    settings: SettingsDep,
) -> dict[str, object]:
    from paysim.api.inputs import PolicyGuard

    session = registry.get(sim_id)
    if agent_id not in session.agent_ids:
        raise not_found(f"no agent `{agent_id}` in simulation {sim_id}")
    guard = PolicyGuard(settings.policy_dir)
    try:
        ref = guard.detach(body.policy)
    except PaysimError as exc:
        raise from_library(exc) from None
    session.claim(advancing=False)
    try:

        def apply(sim: Simulation) -> dict[str, object]:
            sim.set_policy(agent_id, ref, body.params)
            return sim.agent(agent_id)

        try:
            return await session.call(apply)
        except PaysimError as exc:
            raise from_library(exc) from None
    finally:
        session.release()
