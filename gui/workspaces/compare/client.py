"""How the window drives a study without running it: the :class:`StudyClient` interface.

A client starts a study from a *plan* (a plain dict, below), calls back in the
GUI thread as it goes, and can be cancelled.  The window never knows where the
study runs: :class:`ProcessStudyClient` runs it in a child process today; the
run host will offer the same four calls; tests use a fake.

A plan::

    {"spec": JobSpec.to_dict(), "mode": "auto" | "grid",
     "backends": [str], "workers": [int], "chunk_sizes": [int | "auto"], "methods": [str | None],
     "sample": int | None, "repeats": int, "budget_s": float}

Callbacks: ``on_progress({"label", "repeat", "repeats", "done", "total"})``,
``on_result(config record)`` after each configuration,
``on_round({"round", "repeats", "configs": [config record, ...]})`` after each
interleaved round (the numbers so far; optional: without it each record goes to
``on_result``), and once at the end ``on_finished(study record or None, error text or None)``.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from PySide6.QtCore import QObject, QTimer

Progress = Callable[[dict[str, Any]], None]
Result = Callable[[dict[str, Any]], None]
Finished = Callable[[dict[str, Any] | None, str | None], None]
RoundDone = Callable[[dict[str, Any]], None]


#: The settings a study process takes from the window's environment when it starts.
ENVIRONMENT = ("POOLSIDE_HOME", "POOLSIDE_HISTORY", "POOLSIDE_HISTORY_MAX_MB", "POOLSIDE_LOG")


class StudyClient(Protocol):
    """Starts and cancels studies somewhere else; calls back in the GUI thread."""

    @property
    def running(self) -> bool: ...

    def start(self, plan: Mapping[str, Any], on_progress: Progress, on_result: Result, on_finished: Finished,
              on_round: RoundDone | None = None) -> None:
        ...

    def cancel(self) -> None: ...


class ProcessStudyClient(QObject):
    """Runs each study in a child process (forkserver or spawn: never a fork of this threaded process)."""

    #: How long a cancelled study may take to stop on its own before it is terminated.
    CANCEL_GRACE_S = 10.0
    #: Time per timer tick for handing events to the window: the rest waits for the next tick,
    #: so a burst of results never stalls the event loop.
    TICK_BUDGET_S = 0.012

    def __init__(self, parent: QObject | None = None, *, interval_ms: int = 50,
                 target: Callable[..., None] | None = None) -> None:
        """``target(plan, events, cancel)``: what the child runs (``study_process.study_main`` unless given)."""
        super().__init__(parent)
        self._target = target
        self._process: Any = None
        self._start_error: BaseException | None = None
        self._starter: threading.Thread | None = None
        self._events: Any = None
        self._parts: list[dict[str, Any]] = []
        self._held: tuple | None = None  # an event read but not yet handed over
        self._cancel: Any = None
        self._callbacks: tuple[Progress, Result, Finished] | None = None
        self._on_round: RoundDone | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._drain)
        # The rest of a tick's work, in a later turn: a timer of its own (zero-delay), not
        # QTimer.singleShot(0), which posts an event that runs before any timer already due
        # (a window's heartbeat measured the held event's reading and handling as one stall).
        self._soon = QTimer(self)
        self._soon.setSingleShot(True)
        self._soon.setInterval(0)
        self._soon.timeout.connect(self._drain)
        self._kill_timer = QTimer(self)
        self._kill_timer.setSingleShot(True)
        self._kill_timer.timeout.connect(self._terminate)

    @property
    def running(self) -> bool:
        return self._callbacks is not None

    def start(self, plan: Mapping[str, Any], on_progress: Progress, on_result: Result, on_finished: Finished,
              on_round: RoundDone | None = None) -> None:
        if self.running:
            raise RuntimeError("a study is already running")
        from poolside.backends.workers import start_method

        from .study_process import run_target, study_main

        target = self._target or study_main
        ctx: Any = mp.get_context(start_method())
        self._events, self._cancel = ctx.Queue(), ctx.Event()
        self._callbacks = (on_progress, on_result, on_finished)
        self._on_round = on_round
        # The forkserver keeps the environment it started with: the study gets this process's own now.
        plan = {**plan, "env": {k: os.environ.get(k) for k in ENVIRONMENT}, "window_pid": os.getpid()}
        # Not a daemon: a study starts worker processes of its own, which a daemon may not.
        # It ends with the window all the same: it watches the window's pid (study_process).
        self._parts = []  # the final record's configurations, sent one by one
        self._process = ctx.Process(target=run_target, args=(target, plan, self._events, self._cancel),
                                    name="poolside-study")
        # Started off the GUI thread: the first start also starts the forkserver
        # (~0.3-1.3 s measured on a busy 2-core machine), which would freeze the window.
        self._start_error = None
        self._starter = threading.Thread(target=self._start_process, name="poolside-study-start", daemon=True)
        self._starter.start()
        self._timer.start()

    def cancel(self) -> None:
        if self._process is not None and not self._cancel.is_set():
            self._cancel.set()
            self._kill_timer.start(int(self.CANCEL_GRACE_S * 1000))

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the study process ends (shutdown only); True if it did."""
        if self._process is None:
            return True
        if self._starter is not None:
            self._starter.join(timeout)
        self._process.join(timeout)
        end = time.monotonic() + (timeout if timeout is not None else 60.0)
        while self._callbacks is not None and time.monotonic() < end:
            self._drain()
        return self._process is None

    def _start_process(self) -> None:
        try:
            self._process.start()
        except BaseException as exc:  # reported by the next tick, in the GUI thread
            self._start_error = exc

    def _started(self) -> bool:
        """The process has been started (its start, off this thread, has returned)."""
        return self._starter is not None and not self._starter.is_alive()

    def _drain(self) -> None:
        if self._held is not None:  # read in the turn before: handed over alone in this one
            event, self._held = self._held, None
            self._deliver(event)
            if self._callbacks is not None:
                self._soon.start()  # the rest in the next turn, not the next tick
            return
        deadline = time.perf_counter() + self.TICK_BUDGET_S
        first = True  # one read a turn at least, whatever the budget
        while self._callbacks is not None and (first or time.perf_counter() < deadline):
            first = False
            try:
                event = self._events.get_nowait()  # unpickled here, in the GUI thread
            except queue.Empty:
                break
            if time.perf_counter() >= deadline:
                # Reading it used up the turn (a round of 24 configurations with 2,000-item
                # timelines took 12-20 ms to unpickle, handling the final record 10-15 ms):
                # handed over in a later event-loop turn, so the two never add up.
                self._held = event
                self._soon.start()
                return
            self._deliver(event)
        if self._process is not None and self._started() and self._start_error is not None:
            self._process = None  # never started: nothing to join
            self._end(None, f"could not start the study process: {self._start_error}")
        elif (self._process is not None and self._started() and not self._process.is_alive()
                and self._held is None and self._events.empty()):
            why = f"the study process ended unexpectedly (exit code {self._process.exitcode})"
            self._end(None, None if self._cancel.is_set() else why)

    def _deliver(self, event: tuple) -> None:
        assert self._callbacks is not None
        on_progress, on_result, _ = self._callbacks
        kind = event[0]
        if kind == "progress":
            on_progress(event[1])
        elif kind == "result":
            on_result(event[1])
        elif kind == "round":
            if self._on_round is not None:
                self._on_round(event[1])
            else:
                for config in event[1]["configs"]:
                    on_result(config)
        elif kind == "record-config":
            self._parts.append(event[1])
        elif kind == "finished":
            record = event[1]
            if record is not None and len(event) > 3:  # sent in parts (study_process.RecordInParts)
                record = {**record, "configs": self._parts[:event[3]]}
            self._parts = []
            self._end(record, event[2])

    def _end(self, record: dict[str, Any] | None, error: str | None) -> None:
        callbacks, process = self._callbacks, self._process
        self._held = None
        if self._starter is not None:
            self._starter.join()
            self._starter = None
        self._timer.stop()
        self._soon.stop()
        self._kill_timer.stop()
        self._callbacks = None
        self._process = None
        if process is not None:
            process.join(5)
        if callbacks is not None:
            callbacks[2](record, error)

    def _terminate(self) -> None:
        if self._process is not None and self._started() and self._process.is_alive():
            self._process.terminate()
