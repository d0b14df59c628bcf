"""Ids of stored runs and checkpoints: UUIDv7 (RFC 9562), so they sort by creation time.

Layout: 48 bits of Unix time in milliseconds, the version (7), 12 bits of ``rand_a`` used as a
counter, the RFC variant, and 62 random bits. Within one process ids are strictly increasing:
two ids made in the same millisecond differ in the counter (which starts at a random value
below 2^11, leaving room to count), and when the counter runs out the timestamp moves on by one
millisecond. The canonical text form (lowercase hex, fixed width) therefore sorts like the ids,
which is what ``ORDER BY simulation_id`` and ``paysim db list`` rely on.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
import uuid

_lock = threading.Lock()
_last_ms = -1
_counter = 0
_COUNTER_MAX = (1 << 12) - 1


def _next(now_ms: int) -> tuple[int, int]:
    global _last_ms, _counter
    with _lock:
        if now_ms > _last_ms:
            _last_ms, _counter = now_ms, secrets.randbelow(1 << 11)
        elif _counter < _COUNTER_MAX:
            _counter += 1
        else:
            _last_ms, _counter = _last_ms + 1, 0
        return _last_ms, _counter


def new_id(now_ms: int | None = None) -> str:
    """A new UUIDv7 as text (``now_ms`` overrides the clock, for tests)."""
    ms, counter = _next(time.time_ns() // 1_000_000 if now_ms is None else now_ms)
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= counter << 64
    value |= 0b10 << 62
    value |= secrets.randbits(62)
    return str(uuid.UUID(int=value))


def id_time_ms(text: str) -> int:
    """The creation time (Unix milliseconds) encoded in a UUIDv7."""
    return uuid.UUID(text).int >> 80


def run_key(simulation_id: str) -> int:
    """The number a run's events are stored under (``event_rows.run_key``): the first 60 bits
    of the SHA-256 of its id. Storing millions of copies of a number costs DuckDB a fifth less
    than of a 36-character id; the key follows from the id alone, so a run has the same key in
    every file (``paysim db merge``), and SQL computes it with ``paysim_run_key(id)``."""
    return int(hashlib.sha256(simulation_id.encode()).hexdigest()[:15], 16)
