"""A background thread that runs a run's database work in order, while the engine goes on.

The engine releases the GIL while it simulates (and while it exports events), and DuckDB
releases it while it inserts, so the store sink hands its database work (append these events,
derive and commit this day) to one thread: on a machine with two cores the engine simulates
the next part of the run while the last one is written. The queue is short (:data:`DEPTH`
jobs), so a slow disk slows the run down instead of letting events pile up in memory.

The worker is the only user of the connection while it runs; jobs run in the order they were
submitted, so "one transaction per day" holds exactly as it would on the calling thread.
:meth:`Worker.submit` returns a ticket; :meth:`Worker.wait` returns once the job of a ticket
(and every earlier one) has run. The first job that fails stops the worker: its error is raised
by the next :meth:`Worker.submit` or :meth:`Worker.wait`, and later jobs are dropped.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

from paysim.exceptions import StoreError

Job = Callable[[], None]
DEPTH = 2
"""Jobs waiting to run, at most (each holds at most a row group of events)."""
_STOP = None


class Inline:
    """Runs each job as it is submitted, on the calling thread: the same order and errors as
    :class:`Worker`, without the overlap (for profiling and debugging)."""

    def __init__(self) -> None:
        self._submitted = 0

    def submit(self, job: Job) -> int:
        job()
        self._submitted += 1
        return self._submitted

    def wait(self, ticket: int | None = None) -> None:
        return None

    def stop(self) -> None:
        return None


class Worker:
    """Runs :data:`Job`s on one thread, in submission order."""

    def __init__(self, *, depth: int = DEPTH) -> None:
        self._queue: queue.Queue[Job | None] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._submitted = 0
        self._finished = 0
        self._done = threading.Condition()
        self._thread = threading.Thread(target=self._loop, name="paysim-store", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            job = self._queue.get()
            if job is _STOP:
                return
            if self._error is None:
                try:
                    job()
                except BaseException as exc:  # handed to the submitting thread
                    self._error = exc
            with self._done:
                self._finished += 1
                self._done.notify_all()

    def _raise(self) -> None:
        error = self._error
        if error is None:
            return
        if isinstance(error, StoreError):
            raise error
        raise StoreError(f"the database work failed: {error}") from error

    def submit(self, job: Job) -> int:
        """Queues ``job`` (waits while the queue is full); raises an earlier job's error.
        Returns the job's ticket."""
        self._raise()
        if not self._thread.is_alive():
            raise StoreError("the database worker has stopped")
        self._queue.put(job)
        self._submitted += 1
        return self._submitted

    def wait(self, ticket: int | None = None) -> None:
        """Returns once the job of ``ticket`` and every job before it have run (every job
        submitted so far when ``ticket`` is ``None``); raises the first error."""
        target = self._submitted if ticket is None else ticket
        with self._done:
            while self._finished < target and self._thread.is_alive():
                self._done.wait()
        self._raise()

    def stop(self) -> None:
        """Runs what is queued, then ends the thread."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join()
