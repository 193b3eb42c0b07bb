"""The client side of a run host: start it, hand it runs, read what it streams, outlive it.

    caller thread                         reader thread (one per host process)
      HostClient.run(spec, items, ...) ──►  StartRun ──► host
                                            recv_bytes ◄── Started / Outcomes / Finished / RunFailed
                                              └─► on_outcomes(batch), on_finish(summary), on_error(exc)
                                            EOF (the host died or was killed):
                                              reap it (exit code), sweep its process group,
                                              settle the run's items from the marks file

The callbacks run on the reader thread, as the engine's run on its own: the
caller hands them on (the window's bridge pushes them into its timer-driven
pump).  Reading on a plain thread rather than the caller's event loop means a
host's death is noticed at once whatever the caller is doing, blocked reads
release the GIL, and decoding stays off the caller's thread; messages are
capped so one decode holds the GIL for a millisecond or two.

A host that dies mid-run costs the run nothing it had: every outcome already
received stands; items that were running end ``failed`` and name the cause
(and the item, when it ran alone); items never started end ``cancelled``; the
counts add up.  The next run starts a fresh host.

Start hosts from a thread that lives as long as they should (the window's GUI
thread): Linux ties ``PR_SET_PDEATHSIG``, the host's guard against a parent
that is killed, to the *thread* that started it.
"""

from __future__ import annotations

import atexit
import itertools
import os
import queue
import socket
import subprocess
import sys
import threading
import weakref
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any

from ..log import get_logger
from ..proctree import RunProcesses, descendants, describe_exit, kill_tree
from ..records import ErrorInfo, Outcome, Status
from ..spec import JobSpec
from .protocol import (
    CancelRun,
    Finished,
    ItemFrames,
    Outcomes,
    Ready,
    RunFailed,
    Shutdown,
    Started,
    StartRun,
    dumps,
    item_frames,
    loads,
    loads_lenient,
    unreadable_in,
)
from .run import Callback, HostRun
from .tree import HostProcesses

log = get_logger("poolside.host")

# How long a cancel on the other backends may take in the host before the
# host is ended instead: the run must end within half a second.
CANCEL_GRACE_S = 0.3
# How long a host asked to shut down may take before it is killed.
SHUTDOWN_GRACE_S = 1.0

class _Process:
    """One host process: its pipe, its reader and writer threads, the run it is doing.

    Messages go out on a writer thread: a run's items (200,000 of them are a
    few megabytes) fill the socket until the host has read them, and the
    caller (the GUI thread) must not wait on that.
    """

    def __init__(self, proc: subprocess.Popen, conn: Connection) -> None:
        self.proc = proc
        self.pid = proc.pid
        self.conn = conn
        self.ready = threading.Event()
        self.helpers: tuple[int, ...] = ()  # its zygote (Ready)
        self.run: HostRun | None = None
        self.last_run: HostRun | None = None  # the current run, or the one before
        self.exit_code: int | None = None
        self.gone = threading.Event()
        self.closing = False
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

    def stop_writer(self) -> None:
        self._outbox.put((None, None))

    def end(self) -> None:
        """Kill it and everything under it; return once the reader has reaped it."""
        kill_tree(self.pid, sweep_group=True)
        self.gone.wait(5.0)


def spawn_host(python: str, *mode: str) -> tuple[subprocess.Popen, Connection]:
    """Start ``python -m poolside.host [mode] FD PID`` on a socket pair; the process and our end of the pipe."""
    mine, theirs = socket.socketpair()
    try:
        proc = subprocess.Popen(
            [python, "-m", "poolside.host", *mode, str(theirs.fileno()), str(os.getpid())],
            pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL,
            # A process group of its own (one killpg ends the host and all it
            # started), but not a session of its own: Linux's autogroup
            # scheduler shares the CPU fairly between *sessions* and applies
            # nice only within one, so a host in a new session would compete
            # with the window as an equal whatever its nice value.
            process_group=0,
        )
    finally:
        theirs.close()
    return proc, Connection(mine.detach())


_clients: weakref.WeakSet[HostClient] = weakref.WeakSet()


@atexit.register
def _end_every_host() -> None:
    for client in list(_clients):
        client.shutdown(grace=0.0)


class HostClient:
    """Keeps one warm run host and runs jobs in it, one at a time."""

    def __init__(self, *, python: str | None = None) -> None:
        self._python = python or sys.executable
        self._lock = threading.Lock()
        self._host: _Process | None = None
        self._run_ids = itertools.count(1)
        _clients.add(self)

    # -- the host's life ----------------------------------------------------------
    def start(self) -> int:
        """Start a host unless one is up (it warms up in the background); its pid."""
        with self._lock:
            host = self._host
            if host is None or host.gone.is_set():
                host = self._host = self._spawn()
            return host.pid

    def _spawn(self) -> _Process:
        proc, conn = spawn_host(self._python)
        host = _Process(proc, conn)
        threading.Thread(target=self._read, args=(host,), name=f"poolside-host-reader-{proc.pid}",
                         daemon=True).start()
        log.info("run host %d starting", proc.pid)
        return host

    @property
    def host_pid(self) -> int | None:
        host = self._host
        return None if host is None or host.gone.is_set() else host.pid

    def processes(self) -> HostProcesses | None:
        """What the host said about its processes (for the CPU views' pid source; ``None``: no host)."""
        host = self._host
        if host is None or host.gone.is_set():
            return None
        run = host.last_run
        said = RunProcesses() if run is None else RunProcesses(run.begun, run.pids)
        return HostProcesses(host.pid, host.helpers, said, host.ready.is_set())

    def pids(self) -> set[int]:
        """The host and every process under it (workers, forkserver, resource tracker)."""
        pid = self.host_pid
        if pid is None:
            return set()
        return {pid, *(p.pid for p in descendants(pid))}

    def wait_ready(self, timeout: float | None = None) -> bool:
        host = self._host
        return host is not None and host.ready.wait(timeout)

    def shutdown(self, grace: float = SHUTDOWN_GRACE_S) -> None:
        """End the host and everything under it; a run in progress ends as cancelled."""
        with self._lock:
            host, self._host = self._host, None
        if host is None or host.gone.is_set():
            return
        if host.run is not None:
            host.run.cancel_requested = True
        host.closing = True
        if grace > 0 and host.run is None:
            host.send(Shutdown())
            host.gone.wait(grace)
        host.end()
        host.gone.wait()

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

    def _kill_if_running(self, host: _Process, run: HostRun) -> None:
        if not run.done.is_set():
            log.warning("run host %d did not cancel in %.1f s: ending it", host.pid, CANCEL_GRACE_S)
            self._kill(host)

    def _kill(self, host: _Process) -> None:
        """End ``host`` now (signals only: its reader thread reaps it and settles the run)."""
        with self._lock:
            if self._host is host:
                self._host = None  # the next run starts a fresh host
        if not host.gone.is_set():
            kill_tree(host.pid, wait_s=0, sweep_group=False)  # its reader thread waits, and sweeps

    # -- the reader thread ------------------------------------------------------
    def _read(self, host: _Process) -> None:
        while True:
            try:
                data = host.conn.recv_bytes()
            except (EOFError, OSError):
                break
            try:
                self._dispatch(host, *_decode(data))
            except Exception:  # a bug here must not leave the run without an end
                log.exception("run host %d: a message could not be handled", host.pid)
        host.stop_writer()
        host.conn.close()
        if host.closing:  # asked to shut down: let it finish exiting before the sweep
            try:
                host.proc.wait(SHUTDOWN_GRACE_S)
            except subprocess.TimeoutExpired:
                pass
        kill_tree(host.pid, sweep_group=True)
        host.exit_code = host.proc.wait()
        with self._lock:
            if self._host is host:
                self._host = None
        run = host.run
        host.gone.set()
        if run is not None and not run.done.is_set():
            run.settle_after_death(host.exit_code)
        log.info("run host %d ended (%s)", host.pid, describe_exit(host.exit_code))

    def _dispatch(self, host: _Process, message: Any, unreadable: int = 0) -> None:
        run = host.run
        kind = type(message)
        if kind is Ready:
            host.helpers = message.helpers
            host.ready.set()
            return
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
        elif kind is RunFailed:
            host.run = None
            run.fail(message.error)


def _decode(data: bytes) -> tuple[Any, int]:
    """A message, and how many ok outcomes in it end failed: their results cannot be read here."""
    try:
        return loads(data), 0
    except Exception as exc:
        message = loads_lenient(data)
        if type(message) is not Outcomes:
            raise
        outcomes = [_readable(o, exc) for o in message.outcomes]
        repaired = sum(1 for new, old in zip(outcomes, message.outcomes) if new is not old and old.ok)
        return message._replace(outcomes=outcomes), repaired


def _readable(outcome: Outcome, exc: BaseException) -> Outcome:
    stand_in = unreadable_in(outcome.value)
    if stand_in is None:
        return outcome
    return outcome._replace(status=Status.FAILED, value=None, error=ErrorInfo(
        "UnpicklingError", f"the result cannot be read in the window: its class {stand_in.missing} "
        f"does not import here ({type(exc).__name__}: {exc})"))


