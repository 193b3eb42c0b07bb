"""The run host: a process that runs jobs with the engine and streams their outcomes back.

    client pipe ──► main thread: StartRun / CancelRun / PauseRun / StopRun / Shutdown
                      │ poolside.run(Marked(task), Indexed(items), on_outcomes=outbox.push)
                      ▼
                    engine thread ──► Outbox (a lock and a list) ──► sender thread
                                                                      │ coalesce, cap, pickle
    client pipe ◄─────────────────────────────────────────────────────┘ Outcomes ... Finished

Its life as a process (a process group of its own, ending with its parent,
the socket kept out of forks, the warm-up) is :mod:`.hosting`'s, shared with
the study host.  It runs at a lower scheduling priority that its workers
inherit, so on a small machine the window keeps the CPU it needs.

The outbox coalesces the engine's batches (one message per ~10 ms at most,
unless a full message is waiting) and checks that every result pickles: a
result that does not becomes a ``failed`` outcome that says so, and the run's
summary counts it there.
"""

from __future__ import annotations

import pickle
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from ..log import get_logger
from ..records import ErrorInfo, Outcome, Status, Summary
from .hosting import Server, Wire, serve
from .marks import Marked
from .protocol import (
    MAX_MESSAGE_BYTES,
    MAX_OUTCOMES_PER_MESSAGE,
    CancelRun,
    Finished,
    Held,
    ItemFrames,
    Outcomes,
    PauseRun,
    RunFailed,
    Started,
    StartRun,
    StopRun,
    dumps,
    portable_error,
)

log = get_logger("poolside.host")

# How much lower the host runs than the window: at nice 10 the kernel gives a
# nice-0 process ~9 times the host's share of a contended core (CFS weights
# 1024 vs 110), so on 2 cores a run that keeps every core busy still leaves
# the event loop its few milliseconds a frame.
HOST_NICE = 10
# At most one outcome message per this many seconds (unless a full one is
# waiting): 10 ms keeps the first result prompt and the message count low.
COALESCE_S = 0.01

def _unpicklable(outcome: Outcome, exc: BaseException) -> Outcome:
    what = type(outcome.value).__name__
    error = ErrorInfo("PicklingError", f"the result ({what}) cannot be sent to the window: it does not "
                      f"pickle ({type(exc).__name__}: {exc}); return plain data (numbers, text, "
                      "lists, dicts) or a picklable object")
    return outcome._replace(status=Status.FAILED, value=None, error=error)


class Outbox:
    """Outcome batches from the engine's thread, sent as capped messages by a thread of its own."""

    def __init__(self, wire: Wire, run_id: int, history: Any = None) -> None:
        self._wire = wire
        self._run_id = run_id
        self.history = history  # a RunRecorder: the window's runs go into the history as the CLI's do
        self._cond = threading.Condition()
        self._pending: list[Outcome] = []
        self._final: Summary | None = None
        #: The run was told to stop after its current items (and not cancelled): the history says "stopped".
        self.stopped = False
        self.repaired = 0  # ok outcomes turned failed: their results did not pickle
        self._abandoned = False
        self._thread = threading.Thread(target=self._send_loop, name="poolside-host-outbox", daemon=True)
        self._thread.start()

    # -- the engine's thread ---------------------------------------------------
    def push(self, batch: list[Outcome]) -> None:
        # Items travel as (index, item) pairs (see marks): give back the item.
        batch = [tuple.__new__(Outcome, (o[0], o[1][1], *o[2:])) for o in batch]
        if self.history is not None:
            self.history.on_outcomes(batch)
        with self._cond:
            self._pending.extend(batch)
            self._cond.notify()

    def finish(self, summary: Summary) -> None:
        if self.history is not None:
            interrupted = summary.counts.get("cancelled", 0) > 0
            self.history.finish(summary, interrupted=interrupted, stopped=interrupted and self.stopped)
        with self._cond:
            self._final = summary
            self._cond.notify()

    def join(self) -> None:
        self._thread.join()

    def abandon(self) -> None:
        """The run never started: end the sender thread without a word."""
        with self._cond:
            self._abandoned = True
            self._cond.notify()

    # -- the sender thread -------------------------------------------------------
    def _send_loop(self) -> None:
        last = 0.0
        while True:
            with self._cond:
                while not self._pending and self._final is None and not self._abandoned:
                    self._cond.wait()
                if self._abandoned:
                    return
                wait = last + COALESCE_S - time.monotonic()
                if wait > 0 and self._final is None and len(self._pending) < MAX_OUTCOMES_PER_MESSAGE:
                    self._cond.wait(wait)  # let more arrive: fewer, fuller messages
                batch = self._pending[:MAX_OUTCOMES_PER_MESSAGE]
                del self._pending[:MAX_OUTCOMES_PER_MESSAGE]
                final = self._final if not self._pending else None
            if batch:
                self._send_outcomes(batch)
                last = time.monotonic()
            if final is not None:
                summary = self._settled(final)
                log.info("run %d ended: %s", self._run_id, summary.line())
                error = getattr(self.history, "error", None)
                self._wire.send(Finished(self._run_id, summary, error))
                return

    def _send_outcomes(self, batch: list[Outcome]) -> None:
        try:
            data = dumps(Outcomes(self._run_id, batch))
        except Exception:  # a result that does not pickle: _checked fails that outcome, saying why
            batch = [self._checked(o) for o in batch]
            data = dumps(Outcomes(self._run_id, batch))
        if len(data) > MAX_MESSAGE_BYTES and len(batch) > 1:
            half = len(batch) // 2
            self._send_outcomes(batch[:half])
            self._send_outcomes(batch[half:])
            return
        self._wire.send(data)

    def _checked(self, outcome: Outcome) -> Outcome:
        try:
            pickle.dumps(outcome, 5)
            return outcome
        except Exception as exc:
            if outcome.status is Status.OK:
                self.repaired += 1
                return _unpicklable(outcome, exc)
            return outcome._replace(item=repr(outcome.item), value=None)

    def _settled(self, summary: Summary) -> Summary:
        if self.repaired:
            summary.counts["ok"] -= self.repaired
            summary.counts["failed"] += self.repaired
        return summary


class Host(Server):
    """One run at a time, on the commands of one client."""

    noun = "run host"

    def __init__(self, conn: Connection) -> None:
        super().__init__(conn)
        self.job: Any = None
        self.run_id = -1
        self.outbox: Outbox | None = None

    def handle(self, message: Any) -> None:
        if isinstance(message, StartRun):
            if isinstance(message.items, ItemFrames):
                message = message._replace(items=self._read_items(message.items.frames))
            self.start(message)
        elif self.job is None or getattr(message, "run_id", None) != self.run_id:
            return  # a control for a run that has ended
        elif isinstance(message, CancelRun):
            if self.outbox is not None:
                self.outbox.stopped = False  # a cancel after a stop: the run was cancelled
            self.job.cancel()
        elif isinstance(message, PauseRun):
            if message.paused:
                self.job.pause()
                self._say_when_held()
            else:
                self.job.resume()
            if self.outbox is not None and self.outbox.history is not None:
                self.outbox.history.set_paused(message.paused and not self.job.done)
        elif isinstance(message, StopRun):
            if self.outbox is not None and not self.job.cancelled:
                self.outbox.stopped = True
            self.job.stop_after_current()
            self._say_when_held()

    def _say_when_held(self) -> None:
        """Send ``Held`` once the pause or stop is in effect (the window then says "Paused").

        A thread, as the engine says so only by ``wait_held``; it returns when the run ends at
        the latest, so it never outlives the run.
        """
        job, run_id, wire = self.job, self.run_id, self.wire

        def wait() -> None:
            if job.wait_held() and not job.done and (job.paused or job.stopping):
                wire.send(Held(run_id))

        threading.Thread(target=wait, name="poolside-host-held", daemon=True).start()

    def _read_items(self, frames: int) -> list[Any]:
        items: list[Any] = []
        for _ in range(frames):
            items.extend(pickle.loads(self.conn.recv_bytes()))
        return items

    def start(self, request: StartRun) -> None:
        self.finish_previous()  # (the client starts a run only after the last one's Finished)
        self.run_id = request.run_id
        try:
            task, items, options = _prepare(request)
            outbox = self.outbox = Outbox(self.wire, request.run_id, _history_for(request, task))
            self.job = _run(task, items, options, outbox.push, outbox.finish)
        except BaseException as exc:
            log.info("run %d could not start: %s", request.run_id, exc)
            if self.outbox is not None:
                self.outbox.abandon()
            self.job = self.outbox = None
            self.wire.send(RunFailed(request.run_id, portable_error(exc)))
            return
        log.info("run %d started: %s on %s x%d", request.run_id, request.spec.plugin,
                 self.job.summary.backend, self.job.summary.workers)
        history_id = getattr(outbox.history, "run_id", None)
        self.wire.send(Started(request.run_id, self.job.summary.workers, self.job.started, history_id,
                               _worker_pids(self.job.backend)))

    def finish_previous(self) -> None:
        if self.job is not None:
            self.job.wait()
            if self.outbox is not None:
                self.outbox.join()
        self.job = self.outbox = None

    def stop(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.job.wait(5.0)
        from ..backends.workers import stop_idle_workers

        stop_idle_workers()


def _prepare(request: StartRun) -> tuple[Callable[[Any], Any], Any, dict[str, Any]]:
    """The task, the items and ``run`` options a request asks for (raises with a clear message)."""
    spec = request.spec
    if request.task is not None:
        if request.items is None:
            raise ValueError("a task given as a callable needs its items")
        task, options, items = request.task, spec.run_options(request.bound), request.items
    elif request.items is not None:  # the caller listed the items (the window's files)
        plugin, task = spec.bind()
        options, items = spec.run_options(plugin.bound), request.items
    else:
        prepared = spec.prepare()
        task, options, items = prepared.task, prepared.run_options(), list(prepared.items)
    # A list, not a lazy view: the engine reads an input in memory inline (no
    # reader thread), and only a list, tuple or range is known to be one.
    # Workers on other machines cannot write this machine's marks file: on a
    # cluster the task only unpacks the pairs.
    return Marked(task, "" if _on_a_cluster(options["backend"]) else request.marks), list(enumerate(items)), options


def _on_a_cluster(backend: str) -> bool:
    from ..backends import entry

    found = entry(backend)
    return found is not None and found.kind == "cluster"


def _worker_pids(backend: Any) -> tuple[int, ...] | None:
    """The run's worker processes, as ``Started.pids`` says them (the workers have started by now)."""
    from ..backends import runs_in_caller

    if runs_in_caller(backend):
        return ()
    pids = getattr(backend, "pids", None)
    return None if pids is None else tuple(pids())


def _history_for(request: StartRun, task: Any) -> Any:
    """A recorder for a plugin run (what the window starts); a bare callable (benchmarks) is not a job."""
    if request.task is not None:
        return None
    from ..history import RunRecorder

    return RunRecorder(request.spec, getattr(task, "task", task))


def _run(task: Callable[[Any], Any], items: Any, options: dict[str, Any],
         on_outcomes: Callable[[list[Outcome]], None], on_finish: Callable[[Summary], None]) -> Any:
    from ..engine.job import run

    return run(task, items, on_outcomes=on_outcomes, on_finish=on_finish, **options)


def main(argv: list[str]) -> int:
    """``python -m poolside.host FD PARENT_PID``: serve the client on the inherited socket ``FD``."""
    return serve(argv, "run host", Host, nice=HOST_NICE)
