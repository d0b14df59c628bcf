"""Live simulations of the server: who holds them, who drives them, who watches them.

A :class:`Session` wraps one :class:`paysim.Simulation` with

* ``lock`` — an asyncio lock held around **every** engine call (made in a worker thread): the
  engine object may not be touched by two threads at once, and reads (state, events, summary)
  wait at most one short step of a run in progress;
* ``driving`` — set while a request or a background run advances the simulation: one driver at a
  time, anything else that would advance or replace it gets 409;
* ``hub`` — the WebSocket clients (:mod:`paysim.api.hub`).

What the routes show without touching the engine (tick, seq, done) is cached after each step, so
``GET`` of a simulation never waits for the engine. The :class:`Registry` enforces the number of
simulations per client and in all (429) and forgets simulations idle for too long.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from typing import TypeVar

from anyio import to_thread

from paysim.api.errors import ApiError, ErrorInfo, conflict, from_library, not_found
from paysim.api.hub import Hub
from paysim.api.inputs import Recipe
from paysim.api.models import SimulationState
from paysim.api.settings import ApiSettings
from paysim.api.stepping import Step, advance, tick_frames
from paysim.exceptions import PaysimError
from paysim.simulation import Simulation

T = TypeVar("T")


def _dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


class Session:
    """One live simulation."""

    def __init__(
        self,
        recipe: Recipe,
        sim: Simulation,
        *,
        owner: str,
        warnings: list[str],
        max_retained: int,
    ) -> None:
        self.id = uuid.uuid4().hex
        self.owner = owner
        self.recipe = recipe
        self.sim = sim
        self.warnings = warnings
        self.lock = asyncio.Lock()
        self.hub = Hub()
        self.driving = False
        self.deleted = False
        self.task: asyncio.Task[None] | None = None
        self.error: ErrorInfo | None = None
        self.floor = 0
        self.chunk = 64
        self.max_retained = max_retained
        self.last_used = time.monotonic()
        self.total_ticks = sim.total_ticks
        self.ticks_per_day = sim.ticks_per_day
        self.agent_ids = [a.id for a in recipe.scenario.agents]
        self.current_tick = 0
        self.done = False
        self.next_seq = 0
        self.refresh()

    def refresh(self) -> None:
        """Caches the clock (call with the lock held, after the engine changed)."""
        self.current_tick = self.sim.current_tick
        self.done = self.sim.done
        self.next_seq = self.sim.next_seq

    def touch(self) -> None:
        self.last_used = time.monotonic()

    def state(self) -> SimulationState:
        scenario = self.recipe.scenario
        return SimulationState(
            id=self.id,
            scenario=scenario.source,
            description=scenario.description,
            current_tick=self.current_tick,
            total_ticks=self.total_ticks,
            ticks_per_day=self.ticks_per_day,
            day=min(self.current_tick, max(self.total_ticks - 1, 0)) // self.ticks_per_day,
            done=self.done,
            running=self.driving,
            next_seq=self.next_seq,
            first_seq=self.floor,
            agents=self.agent_ids,
            warnings=self.warnings,
            error=self.error,
        )

    async def call(self, fn: Callable[[Simulation], T]) -> T:
        """``fn(sim)`` in a worker thread, with the engine lock held."""
        async with self.lock:
            sim = self.sim
            try:
                return await to_thread.run_sync(lambda: fn(sim))
            finally:
                self.refresh()

    # -- driving ---------------------------------------------------------------------------

    def claim(self, *, advancing: bool = True) -> None:
        """Marks the session as driven by the caller; 409 when it already is, or (for anything
        that advances it) when it is finished."""
        if self.driving:
            raise conflict(f"simulation {self.id} is being driven by another request")
        if advancing and self.done:
            raise conflict(
                f"simulation {self.id} is finished ({self.total_ticks} ticks); create a new one "
                "or restore a checkpoint"
            )
        self.driving = True
        if advancing:
            self.error = None

    def release(self) -> None:
        self.driving = False
        self.touch()

    async def step(self, until: int, *, single: bool = False, whole: bool = False) -> Step:
        """Advances towards ``until`` (the caller holds the claim) and publishes the frames.

        ``whole``: every tick up to ``until`` in one go, each summarised (``/tick``);
        ``single``: one tick (a paced run); otherwise as much as fits in a short step: tick by
        tick when clients watch, else chunks of many ticks in one engine call.
        """
        async with self.lock:
            sim, floor, retained = self.sim, self.floor, self.max_retained
            watched, with_events = self.hub.wants_ticks, self.hub.wants_events
            chunked = not (whole or single or watched)
            chunk = self.chunk
            try:
                if chunked:
                    step = await to_thread.run_sync(
                        lambda: advance(
                            sim, until=until, ticks=chunk, floor=floor, max_retained=retained
                        )
                    )
                    if step.seconds < 0.02:
                        self.chunk = min(chunk * 2, 1 << 20)
                    elif step.seconds > 0.1:
                        self.chunk = max(1, chunk // 2)
                else:
                    step = await to_thread.run_sync(
                        lambda: tick_frames(
                            sim,
                            until=until,
                            floor=floor,
                            max_retained=retained,
                            frames=watched,
                            with_events=with_events,
                            single=single,
                            budget_s=None if (whole or single) else 0.02,
                        )
                    )
            finally:
                self.refresh()
        # No await between releasing the lock and publishing: a client that subscribes next
        # finds these events either in its backlog or in its queue, never in both or neither.
        self.floor = step.floor
        self.hub.publish_frames(step.frames)
        if step.error is not None:
            raise step.error
        return step

    async def finish(self) -> None:
        """Tells the clients how the drive ended: ``done`` (and close) or ``stopped``."""
        if self.deleted:
            return
        if self.error is not None:
            self.hub.publish(_dumps({"type": "error", "error": self.error.model_dump()}))
        if self.done:
            summary = await self.call(lambda sim: sim.summary())
            self.hub.publish(
                _dumps({"type": "done", "summary": summary}), close=(1000, "simulation finished")
            )
        else:
            self.hub.publish(
                _dumps({"type": "stopped", "simulation": self.state().model_dump(mode="json")})
            )

    async def run(self, until: int, delay_ms: int) -> None:
        """Drives the simulation to ``until`` (the caller holds the claim; released here)."""
        try:
            while not self.deleted and self.current_tick < until:
                await self.step(until, single=delay_ms > 0)
                if delay_ms > 0 and self.current_tick < until:
                    await asyncio.sleep(delay_ms / 1000)
        except PaysimError as exc:
            self.error = from_library(exc, code="simulation_failed").info
        finally:
            self.release()
        await self.finish()

    def start(self, until: int, delay_ms: int) -> asyncio.Task[None]:
        """Runs in a task of its own (kept referenced by the session)."""
        self.task = asyncio.create_task(self.run(until, delay_ms))
        return self.task


class Registry:
    """Every live session, with the per-client and total limits."""

    def __init__(self, settings: ApiSettings) -> None:
        self.settings = settings
        self._sessions: dict[str, Session] = {}

    def __len__(self) -> int:
        return len(self._sessions)

    def sessions(self) -> list[Session]:
        self.expire()
        return list(self._sessions.values())

    def expire(self) -> None:
        limit = time.monotonic() - self.settings.idle_seconds
        for session in list(self._sessions.values()):
            if session.last_used < limit and not session.driving and not len(session.hub):
                self.remove(session.id)

    def check_room(self, owner: str) -> None:
        """429 when ``owner`` (or the server) holds as many simulations as allowed."""
        self.expire()
        mine = sum(1 for s in self._sessions.values() if s.owner == owner)
        if mine >= self.settings.max_simulations_per_client:
            raise ApiError(
                429,
                "too_many",
                f"this client holds {mine} simulations, the most this server allows; delete "
                "one first (DELETE /api/simulations/{id})",
            )
        if len(self._sessions) >= self.settings.max_simulations:
            raise ApiError(
                429,
                "too_many",
                f"this server holds {len(self._sessions)} simulations, the most it allows; "
                "try again later",
            )

    def add(self, session: Session) -> None:
        self.check_room(session.owner)
        self._sessions[session.id] = session

    def find(self, sim_id: str) -> Session | None:
        return self._sessions.get(sim_id)

    def get(self, sim_id: str) -> Session:
        session = self._sessions.get(sim_id)
        if session is None:
            raise not_found(f"no simulation {sim_id}")
        session.touch()
        return session

    def remove(self, sim_id: str) -> None:
        session = self._sessions.pop(sim_id, None)
        if session is None:
            raise not_found(f"no simulation {sim_id}")
        session.deleted = True
        session.hub.publish(_dumps({"type": "deleted"}), close=(1000, "simulation deleted"))
