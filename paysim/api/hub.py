"""Fan-out of a simulation's live messages to its WebSocket clients, with back-pressure.

Each client has a :class:`Subscriber`: a queue of already-encoded messages (encoded once per
tick and shared by every client, so fifty clients cost one encoding). What happens when a
client reads more slowly than the simulation produces depends on what it asked for:

* ``events=true`` (the default): the stream is **lossless or closed**. Messages wait in the
  client's queue; when more than ``ws_max_pending_bytes`` are waiting, the queue is dropped and
  the connection closed with code 1013 ("try again later") and a reason naming the seq to
  resume from (``since_seq``). A slow client never grows memory past that bound and never sees
  a gap it does not know about.
* ``events=false``: summaries only, **conflated**: a tick message still waiting when the next
  one arrives is replaced by it, so a slow client skips to the latest summary. Control messages
  (``stopped``, ``done``, ``error``) are never skipped; a client that lets more than the bound
  of them pile up is closed (1013) like a slow event client.

The hub itself never blocks the simulation: :meth:`Hub.publish` only appends to queues.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Message:
    """One message for clients; ``end_seq`` is the seq after its last event (if it has any)."""

    text: str
    tick: bool = False
    end_seq: int | None = None
    close: tuple[int, str] | None = None


@dataclass(frozen=True)
class Frame:
    """One tick as clients receive it: with and without its events."""

    with_events: str | None
    without_events: str
    end_seq: int


class Subscriber:
    """One client's queue."""

    def __init__(self, *, events: bool, max_pending: int, since_seq: int) -> None:
        self.events = events
        self.max_pending = max_pending
        self.delivered_seq = since_seq
        self.backlog_end = since_seq
        self._items: deque[Message] = deque()
        self._pending = 0
        self._wake = asyncio.Event()
        self._overflow: Message | None = None

    @property
    def pending_bytes(self) -> int:
        return self._pending

    def push(self, message: Message) -> None:
        if self._overflow is not None:
            return
        if message.tick and not self.events and self._items and self._items[-1].tick:
            dropped = self._items.pop()
            self._pending -= len(dropped.text)
        if self._pending + len(message.text) > self.max_pending:
            self._items.clear()
            self._pending = 0
            reason = f"too slow; reconnect with since_seq={self.delivered_seq}"
            self._overflow = Message("", close=(1013, reason))
        else:
            self._items.append(message)
            self._pending += len(message.text)
        self._wake.set()

    def sent(self, message: Message) -> None:
        """Records that ``message`` reached the client (for the resume hint)."""
        if message.end_seq is not None:
            self.delivered_seq = message.end_seq

    async def next(self) -> Message:
        """The next message to send (waits for one)."""
        while not self._items and self._overflow is None:
            self._wake.clear()
            await self._wake.wait()
        if self._overflow is not None:
            return self._overflow
        message = self._items.popleft()
        self._pending -= len(message.text)
        return message


class Hub:
    """The subscribers of one simulation."""

    def __init__(self) -> None:
        self._subscribers: set[Subscriber] = set()

    def __len__(self) -> int:
        return len(self._subscribers)

    @property
    def wants_ticks(self) -> bool:
        return bool(self._subscribers)

    @property
    def wants_events(self) -> bool:
        return any(s.events for s in self._subscribers)

    def add(self, subscriber: Subscriber) -> None:
        self._subscribers.add(subscriber)

    def discard(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)

    def publish_frames(self, frames: list[Frame]) -> None:
        for frame in frames:
            full = Message(frame.with_events or frame.without_events, True, frame.end_seq)
            lean = Message(frame.without_events, True, frame.end_seq)
            for s in self._subscribers:
                s.push(full if s.events and frame.with_events is not None else lean)

    def publish(self, text: str, close: tuple[int, str] | None = None) -> None:
        """A control message for every client (closing the connection after it if asked)."""
        message = Message(text, close=close)
        for s in self._subscribers:
            s.push(message)
        if close is not None:
            self._subscribers.clear()
