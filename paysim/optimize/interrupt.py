"""Ctrl-C during a search: finish the running trial, then stop.

Raising ``KeyboardInterrupt`` at an arbitrary point can land inside Optuna's storage code (the
journal file's rename-based lock, a database transaction) and leave a lock or a half-written
record behind. So while trials run, the first SIGINT only asks the loop to stop after the trial
in progress (its result is kept); a second one stops at once, as Ctrl-C normally does.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

_FIRST = "interrupt: finishing the running trial, then stopping (Ctrl-C again to stop now)\n"


@contextmanager
def graceful_interrupt() -> Iterator[threading.Event]:
    """An event set by the first SIGINT; the second SIGINT raises ``KeyboardInterrupt``.

    Outside the main thread (where signal handlers cannot be installed) the event is never set
    and Ctrl-C behaves as usual.
    """
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            signal.signal(signal.SIGINT, previous)
            raise KeyboardInterrupt
        stop.set()
        sys.stderr.write(_FIRST)
        sys.stderr.flush()

    signal.signal(signal.SIGINT, handler)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)
