"""A background thread that runs a run's database work in order, while the engine goes on.

The engine releases the GIL while it simulates and DuckDB releases it while it inserts, so the
store sink hands its database work (append these events, derive and commit this day) to one
thread: on a machine with two cores the engine simulates while events are appended. (The sink
waits for each day's commit before the next day starts.) The queue is short (:data:`DEPTH`
jobs), so a slow disk slows the run down instead of letting events pile up in memory.

The worker is the only user of the connection while it runs; jobs run in the order they were
submitted, so "one transaction per day" holds exactly as it would on the calling thread. The
first job that fails stops the worker: its error is raised by the next :meth:`Worker.submit` or
:meth:`Worker.wait`, and later jobs are dropped.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

import duckdb

from paysim.exceptions import StoreError

Job = Callable[[], None]
DEPTH = 1
_STOP = None


class Worker:
    """Runs :data:`Job`s on one thread, in submission order."""

    def __init__(self, con: duckdb.DuckDBPyConnection, *, depth: int = DEPTH) -> None:
        self._con = con
        self._queue: queue.Queue[Job | None] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._loop, name="paysim-store", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            job = self._queue.get()
            try:
                if job is _STOP:
                    return
                if self._error is None:
                    try:
                        job()
                    except BaseException as exc:  # handed to the submitting thread
                        self._error = exc
            finally:
                self._queue.task_done()

    def _raise(self) -> None:
        error = self._error
        if error is None:
            return
        if isinstance(error, StoreError):
            raise error
        raise StoreError(f"the database work failed: {error}") from error

    def submit(self, job: Job) -> None:
        """Queues ``job`` (waits while the queue is full); raises an earlier job's error."""
        self._raise()
        if not self._thread.is_alive():
            raise StoreError("the database worker has stopped")
        self._queue.put(job)

    def wait(self) -> None:
        """Returns once every submitted job has run; raises the first error."""
        self._queue.join()
        self._raise()

    def stop(self) -> None:
        """Runs what is queued, then ends the thread."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join()
