"""Run controls: pause, resume and stop after the current items, asked from any thread.

Their part of the engine's data flow (see ``poolside.engine``)::

    caller (any thread) ── pause() / resume() / stop() ──► RunControls ──wake──► dispatcher
    dispatcher, each turn ── follow(backend) ──► Backend.hold() on a new hold: the chunks
                                                 not started come back (Retry), and wait
                                                 in the ledger's retry queue until resumed
                          ◄── holding: hand the backend no chunk
    caller ── wait_held() ◄── held: the backend has given back all it could

The caller's side holds a lock for the pause clock only; the dispatcher alone
calls ``follow``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ..backends.base import Backend
from ..backends.protocol import Event


class RunControls:
    """One job's pause and stop requests, and the paused time they add up to."""

    def __init__(self, wake: Callable[[], None]) -> None:
        self._wake = wake
        self._lock = threading.Lock()
        self._paused_at: float | None = None  # perf_counter() when the current pause began
        self._paused_s = 0.0  # pauses that have ended
        self._ended = False
        #: ``stop()`` was called: the run ends once nothing runs.
        self.stop_requested = False
        self._asked = False  # the dispatcher has asked the backend to hold
        self._held = threading.Event()  # ... and the hold is in effect (Backend.held)

    # -- the caller's side -----------------------------------------------------

    def pause(self) -> bool:
        """Hold new work from now on; False if already paused or ended."""
        with self._lock:
            if self._ended or self._paused_at is not None:
                return False
            self._paused_at = time.perf_counter()
        self._wake()
        return True

    def resume(self) -> bool:
        """Let new work go again; False if not paused."""
        with self._lock:
            if self._paused_at is None:
                return False
            self._paused_s += time.perf_counter() - self._paused_at
            self._paused_at = None
            if not self.stop_requested and not self._ended:
                self._held.clear()  # a wait_held() from now on waits for the next hold
        self._wake()
        return True

    def stop(self) -> None:
        self.stop_requested = True
        self._wake()

    @property
    def paused(self) -> bool:
        return self._paused_at is not None and not self._ended

    @property
    def holding(self) -> bool:
        """Paused or stopping: no new chunk goes to the backend."""
        return self._paused_at is not None or self.stop_requested

    def wait_held(self, timeout: float | None) -> bool:
        return self._held.wait(timeout)

    def paused_s(self) -> float:
        """Seconds paused so far, the pause going on now included."""
        with self._lock:
            ongoing = 0.0 if self._paused_at is None else time.perf_counter() - self._paused_at
            return self._paused_s + ongoing

    # -- the dispatcher's side ---------------------------------------------------

    def follow(self, backend: Backend) -> list[Event]:
        """Each turn of the dispatcher: start or end a hold; the backend's events it gave back."""
        holding = self.holding
        events: list[Event] = []
        if holding != self._asked:
            self._asked = holding
            if holding:
                events = backend.hold()
            else:
                self._held.clear()
        if holding and not self._held.is_set() and backend.held():
            self._held.set()
        return events

    def end(self) -> float:
        """The run has ended: a pause going on ends with it, and waits for a hold return.  Seconds paused."""
        with self._lock:
            self._ended = True
            if self._paused_at is not None:
                self._paused_s += time.perf_counter() - self._paused_at
                self._paused_at = None
            self._held.set()
            return self._paused_s
