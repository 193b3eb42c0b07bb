"""The client side of a run host: hand it runs, read what it streams, outlive it.

    caller thread                         reader thread (one per host process, :mod:`.keeper`)
      HostClient.run(spec, items, ...) ──►  StartRun ──► host (items in frames, on a writer thread)
                                            recv_bytes ◄── Started / Outcomes / Finished / RunFailed
                                              └─► on_outcomes(batch), on_finish(summary), on_error(exc)
                                            EOF (the host died or was killed):
                                              settle the run's items from the marks file

The callbacks run on the reader thread, as the engine's run on its own: the
caller hands them on (the window's bridge pushes them into its timer-driven
pump).  Messages are capped so one decode holds the GIL for a millisecond or
two.  Starting, reading and ending the host process is :mod:`.keeper`'s,
shared with the study host's client.

A host that dies mid-run costs the run nothing it had: every outcome already
received stands; items that were running end ``failed`` and name the cause
(and the item, when it ran alone); items never started end ``cancelled``; the
counts add up.  The next run starts a fresh host.
"""

from __future__ import annotations

import itertools
import queue
import subprocess
import threading
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any

from ..backends._unpickle import loads_lenient, unrebuilt_in
from ..log import get_logger
from ..proctree import RunProcesses, kill_tree
from ..records import ErrorInfo, Outcome, Status, describe_error
from ..spec import JobSpec
from .keeper import HostKeeper, HostProcess
from .protocol import (
    CancelRun,
    Finished,
    Held,
    ItemFrames,
    Outcomes,
    RunFailed,
    Shutdown,
    Started,
    StartRun,
    dumps,
    item_frames,
    loads,
)
from .run import Callback, HostRun
from .tree import HostProcesses

log = get_logger("poolside.host")

# How long a cancel on the other backends may take in the host before the
# host is ended instead: the run must end within half a second.
CANCEL_GRACE_S = 0.3
# How long a host asked to shut down may take before it is killed.
SHUTDOWN_GRACE_S = 1.0

class _Process(HostProcess):
    """One run host process: its writer thread, and the run it is doing.

    Messages go out on a writer thread: a run's items (200,000 of them are a
    few megabytes) fill the socket until the host has read them, and the
    caller (the GUI thread) must not wait on that.
    """

    def __init__(self, proc: subprocess.Popen, conn: Connection) -> None:
        super().__init__(proc, conn)
        self.run: HostRun | None = None
        self.last_run: HostRun | None = None  # the current run, or the one before
        self._outbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._writer = threading.Thread(target=self._write, name=f"poolside-host-writer-{proc.pid}", daemon=True)
        self._writer.start()

    def send(self, message: Any, run: HostRun | None = None) -> None:
        """Queue ``message``; if it cannot be pickled, ``run`` fails with the reason."""
        self._outbox.put((message, run))

    def _write(self) -> None:
        while True:
            message, run = self._outbox.get()
            run = run if isinstance(run, HostRun) else None
            if message is None:
                return
            try:
                frames = self._frames(message)
            except Exception as exc:
                if run is not None and self.run is run:
                    self.run = None  # before fail(): a new run may start from its callback
                    run.fail(TypeError(f"the run cannot be sent to the run host: {exc}"))
                continue
            try:
                for frame in frames:
                    self.conn.send_bytes(frame)
            except OSError:
                return  # it is gone: the reader settles the run

    @staticmethod
    def _frames(message: Any) -> list[bytes]:
        """``message`` as frames: a StartRun's items go in frames of their own, pickled a slice at a time."""
        if type(message) is StartRun and message.items is not None:
            items = item_frames(message.items)
            return [dumps(message._replace(items=ItemFrames(len(items)))), *items]
        return [dumps(message)]

    def stop(self) -> None:
        self._outbox.put((None, None))


class HostClient(HostKeeper[_Process]):
    """Keeps one warm run host and runs jobs in it, one at a time."""

    noun = "run host"

    def __init__(self, *, python: str | None = None) -> None:
        super().__init__(python=python)
        self._run_ids = itertools.count(1)

    def _new_process(self, proc: subprocess.Popen, conn: Connection) -> _Process:
        return _Process(proc, conn)

    def processes(self) -> HostProcesses | None:
        """What the host said about its processes (for the CPU views' pid source; ``None``: no host)."""
        host = self._host
        if host is None or host.gone.is_set():
            return None
        run = host.last_run
        said = RunProcesses() if run is None else RunProcesses(run.begun, run.pids)
        return HostProcesses(host.pid, host.helpers, said, host.ready.is_set())

    def shutdown(self, grace: float = SHUTDOWN_GRACE_S) -> None:
        """End the host and everything under it; a run in progress ends as cancelled."""
        super().shutdown(grace)

    def _cancel_for_shutdown(self, host: _Process) -> None:
        if host.run is not None:
            host.run.cancel_requested = True

    def _ask_to_shut_down(self, host: _Process) -> bool:
        if host.run is not None:  # a run in progress: the host is ended, not asked
            return False
        host.send(Shutdown())
        return True

    # -- runs -------------------------------------------------------------------
    def run(self, spec: JobSpec, items: Sequence[Any], *, on_outcomes: Callback, on_finish: Callback,
            on_error: Callback, task: Callable[[Any], Any] | None = None, bound: str = "mixed") -> HostRun:
        """Start ``spec`` over ``items`` in the host (one started if need be); returns at once.

        ``on_outcomes`` gets batches of outcomes, then ``on_finish`` the
        summary, or ``on_error`` the reason the run could not start; all on the
        reader thread.  ``task``: a picklable callable to run instead of the
        spec's plugin.
        """
        self.start()
        host = self._host
        assert host is not None
        if host.run is not None and not host.run.done.is_set():
            raise RuntimeError("the run host is already running a job")
        run = HostRun(self, next(self._run_ids), spec, items, on_outcomes, on_finish, on_error)
        host.run = host.last_run = run
        host.send(StartRun(run.run_id, spec, run.items, task, bound, run.marks_path), run)
        return run

    def _cancel(self, run: HostRun) -> None:
        host = self._host
        if host is None or host.run is not run:
            return
        from ..backends import runs_in_caller

        # A running item on a thread of the host cannot be stopped there: a cancel ends the
        # host itself, so no busy thread lingers into the next run.
        if runs_in_caller(run.backend):
            self._kill(host)
            return
        host.send(CancelRun(run.run_id))
        timer = threading.Timer(CANCEL_GRACE_S, self._kill_if_running, args=(host, run))
        timer.daemon = True
        timer.start()

    def _control(self, run: HostRun, message: Any) -> None:
        """Pause, resume or stop-after-current ``run``: the host's engine does it, nothing is killed."""
        host = self._host
        if host is not None and host.run is run:
            host.send(message)

    def _kill_if_running(self, host: _Process, run: HostRun) -> None:
        if not run.done.is_set():
            log.warning("run host %d did not cancel in %.1f s: ending it", host.pid, CANCEL_GRACE_S)
            self._kill(host)

    def _kill(self, host: _Process) -> None:
        """End ``host`` now (signals only: its reader thread reaps it and settles the run)."""
        self._forget(host)
        if not host.gone.is_set():
            kill_tree(host.pid, wait_s=0, sweep_group=False)  # its reader thread waits, and sweeps

    # -- the reader thread ------------------------------------------------------
    def _handle(self, host: _Process, data: bytes) -> None:
        self._dispatch(host, *_decode(data))

    def _settle(self, host: _Process) -> None:
        run = host.run
        if run is not None and not run.done.is_set():
            run.settle_after_death(host.exit_code)

    def _dispatch(self, host: _Process, message: Any, unreadable: int = 0) -> None:
        if self._took_ready(host, message):
            return
        run = host.run
        kind = type(message)
        if run is None or getattr(message, "run_id", None) != run.run_id or run.done.is_set():
            return  # a late message of a run that ended otherwise
        if kind is Outcomes:
            run.repaired += unreadable  # the host counted them ok
            run.take(message.outcomes)
        elif kind is Started:
            run.workers, run.started, run.history_id = message.workers, message.origin, message.history_id
            run.pids = message.pids
        elif kind is Finished:
            host.run = None
            run.history_error = message.history_error
            run.finish(message.summary)
        elif kind is Held:
            run.held()
        elif kind is RunFailed:
            host.run = None
            run.fail(message.error)


def _decode(data: bytes) -> tuple[Any, int]:
    """A message, and how many ok outcomes in it end failed: their results cannot be read here.

    A result the host pickled may not unpickle here: its class does not
    import in the window, or rebuilding it raises.  ``loads`` then loses the
    whole message; read leniently, only the outcomes holding such a result fail.
    """
    try:
        return loads(data), 0
    except Exception as exc:
        message = loads_lenient(data)
        if type(message) is not Outcomes:
            raise
        outcomes = [_readable(o) for o in message.outcomes]
        if all(new is old for new, old in zip(outcomes, message.outcomes)):
            # No outcome can be blamed: none is dropped, each ok one fails with the reason.
            outcomes = [_readable(o, f"{type(exc).__name__}: {describe_error(exc)}") for o in outcomes]
        repaired = sum(1 for new, old in zip(outcomes, message.outcomes) if new is not old and old.ok)
        log.warning("%d result(s) could not be read in the window: %s: %s",
                    repaired, type(exc).__name__, describe_error(exc))
        return message._replace(outcomes=outcomes), repaired


def _readable(outcome: Outcome, blame: str | None = None) -> Outcome:
    """``outcome``, or failed if its result cannot be read here (or ``blame`` says why, when ok)."""
    stand_in = unrebuilt_in(outcome.value)
    if stand_in is not None and stand_in.missing:
        message = f"the result cannot be read in the window: {stand_in.reason}"
    elif stand_in is not None:
        message = f"its result could not be read back in the window: {stand_in.reason}"
    elif blame is not None and outcome.ok:
        message = f"its result could not be read back in the window: {blame}"
    else:
        return outcome
    return outcome._replace(status=Status.FAILED, value=None, error=ErrorInfo("UnpicklingError", message))
