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
import logging
import mmap
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from operator import itemgetter
from typing import Any

from ..inputs import display
from ..records import ErrorInfo, Outcome, Status, Summary
from ..spec import JobSpec
from . import marks as marks_file
from .protocol import (
    CancelRun,
    Finished,
    Outcomes,
    Ready,
    RunFailed,
    Shutdown,
    Started,
    StartRun,
    dumps,
    loads,
    loads_lenient,
    unreadable_in,
)

log = logging.getLogger("poolside.host")

# Backends whose running items cannot be stopped inside the host (threads):
# a cancel ends the host itself, so no busy thread lingers into the next run.
_UNSTOPPABLE = frozenset({"threads", "sequential"})
# How long a cancel on the other backends may take in the host before the
# host is ended instead: the run must end within half a second.
CANCEL_GRACE_S = 0.3
# How long a host asked to shut down may take before it is killed.
SHUTDOWN_GRACE_S = 1.0

_CANCELLED = ErrorInfo("Cancelled", "the run was cancelled before this item finished")


def describe_exit(code: int | None) -> str:
    """``exit code -11, SIGSEGV`` for a process ended by a signal."""
    if code is None:
        return "exit code unknown"
    if code < 0:
        try:
            return f"exit code {code}, {signal.Signals(-code).name}"
        except ValueError:
            pass
    return f"exit code {code}"


Callback = Callable[[Any], None]


class HostRun:
    """One run in a host, as the client sees it: what arrived, and how to end it."""

    def __init__(self, client: HostClient, run_id: int, spec: JobSpec, items: Sequence[Any],
                 on_outcomes: Callback, on_finish: Callback, on_error: Callback) -> None:
        self.client = client
        self.run_id = run_id
        self.backend = spec.backend
        self.workers = spec.workers or 0
        self.items = list(items)
        self.on_outcomes = on_outcomes
        self.on_finish = on_finish
        self.on_error = on_error
        self.got = bytearray(len(self.items))
        self.counts: Counter[str] = Counter()
        self.repaired = 0
        self.started = time.perf_counter()
        self.marks_path, self.marks = marks_file.create(len(self.items))
        self.cancel_requested = False
        self.done = threading.Event()

    def cancel(self) -> None:
        """End the run: within half a second, every item without an outcome ends ``cancelled``."""
        if self.done.is_set() or self.cancel_requested:
            return
        self.cancel_requested = True
        self.client._cancel(self)

    def wait(self, timeout: float | None = None) -> bool:
        return self.done.wait(timeout)

    # -- the reader thread ----------------------------------------------------
    def take(self, batch: list[Outcome]) -> None:
        got = self.got
        for o in batch:
            got[o[0]] = 1
        self.counts.update(map(itemgetter(2), batch))  # Status keys (equal to their str values)
        self.on_outcomes(batch)

    def finish(self, summary: Summary) -> None:
        if self.repaired:
            summary.counts["ok"] -= self.repaired
            summary.counts["failed"] += self.repaired
        self._end()
        self.on_finish(summary)

    def fail(self, error: BaseException) -> None:
        self._end()
        self.on_error(error)

    def settle_after_death(self, exit_code: int | None) -> None:
        """The host is gone: give every item without an outcome its outcome, then finish."""
        cancelled = self.cancel_requested
        marks = self.marks[:]  # one copy, then read as bytes
        missing = [i for i, g in enumerate(self.got) if not g]
        running = [i for i in missing if marks[i] == marks_file.RUNNING]
        cause = f"run host died ({describe_exit(exit_code)})"
        rest: list[Outcome] = []
        for i in missing:
            if cancelled:
                status, error = Status.CANCELLED, _CANCELLED
            elif marks[i] == marks_file.RUNNING:
                others = len(running) - 1
                where = f"while running {display(self.items[i])}" if not others else (
                    f"while running this item and {others} other{'s' if others > 1 else ''}")
                status, error = Status.FAILED, ErrorInfo("HostDied", f"{cause} {where}")
            elif marks[i] == marks_file.ENDED:
                status, error = Status.FAILED, ErrorInfo(
                    "HostDied", f"{cause} before this item's result reached the window")
            else:
                status, error = Status.CANCELLED, ErrorInfo(
                    "HostDied", f"{cause} before this item started")
            rest.append(Outcome(i, self.items[i], status, None, error))
        if rest:
            self.take(rest)
        counts = {s.value: self.counts.get(s, 0) for s in Status}
        counts["ok"] -= self.repaired
        counts["failed"] += self.repaired
        summary = Summary(backend=self.backend, workers=self.workers, counts=counts,
                          wall_s=time.perf_counter() - self.started, done=True)
        if running and not cancelled:
            log.warning("%s; %d item(s) were running", cause, len(running))
        self._end()
        self.on_finish(summary)

    def _end(self) -> None:
        marks_file.remove(self.marks_path, self.marks)
        self.marks = mmap.mmap(-1, 1)  # a late reader finds an empty, harmless map
        self.done.set()


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
        self.run: HostRun | None = None
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
            if message is None:
                return
            try:
                data = dumps(message)
            except Exception as exc:
                if run is not None and self.run is run:
                    self.run = None
                    run.fail(TypeError(f"the run cannot be sent to the run host: {exc}"))
                continue
            try:
                self.conn.send_bytes(data)
            except OSError:
                return  # it is gone: the reader settles the run

    def stop_writer(self) -> None:
        self._outbox.put((None, None))


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
        mine, theirs = socket.socketpair()
        try:
            proc = subprocess.Popen(
                [self._python, "-m", "poolside.host", str(theirs.fileno()), str(os.getpid())],
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
        host = _Process(proc, Connection(mine.detach()))
        threading.Thread(target=self._read, args=(host,), name=f"poolside-host-reader-{proc.pid}",
                         daemon=True).start()
        log.info("run host %d starting", proc.pid)
        return host

    @property
    def host_pid(self) -> int | None:
        host = self._host
        return None if host is None or host.gone.is_set() else host.pid

    def pids(self) -> set[int]:
        """The host and every process under it (workers, forkserver, resource tracker)."""
        pid = self.host_pid
        if pid is None:
            return set()
        return {pid, *(p.pid for p in _descendants(pid))}

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
        _end_tree(host)
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
        host.run = run
        host.send(StartRun(run.run_id, spec, run.items, task, bound, run.marks_path), run)
        return run

    def _cancel(self, run: HostRun) -> None:
        host = self._host
        if host is None or host.run is not run:
            return
        if run.backend in _UNSTOPPABLE:
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
        with self._lock:
            if self._host is host:
                self._host = None  # the next run starts a fresh host
        _end_tree(host)

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
        _end_tree(host, reap=False)
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
            host.ready.set()
            return
        if run is None or getattr(message, "run_id", None) != run.run_id or run.done.is_set():
            return  # a late message of a run that ended otherwise
        if kind is Outcomes:
            run.repaired += unreadable  # the host counted them ok
            run.take(message.outcomes)
        elif kind is Started:
            run.workers = message.workers
        elif kind is Finished:
            host.run = None
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


def _descendants(pid: int) -> list[Any]:
    import psutil  # sampled only when asked: the client itself does not need it

    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def _end_tree(host: _Process, reap: bool = True) -> None:
    """SIGKILL the host's process group and every process under it; wait until they are gone."""
    import psutil

    procs = _descendants(host.pid)
    try:
        procs.append(psutil.Process(host.pid))
    except psutil.Error:
        pass
    try:
        os.killpg(host.pid, signal.SIGKILL)  # the group: what the tree no longer shows (orphans)
    except (ProcessLookupError, PermissionError):
        pass
    for p in procs:
        try:
            p.kill()
        except psutil.Error:
            pass
    _wait_dead([p for p in procs if p.pid != host.pid], timeout=2.0)
    if reap:
        host.gone.wait(5.0)


def _wait_dead(procs: list[Any], timeout: float) -> None:
    """Until every process in ``procs`` is gone or a zombie (what is left is its parent's to reap).

    Not ``psutil.wait_procs``: orphans belong to PID 1 and, in a container
    whose PID 1 does not reap, stay zombies that it would wait on for ever.
    """
    import psutil

    deadline = time.monotonic() + timeout
    while procs and time.monotonic() < deadline:
        alive = []
        for p in procs:
            try:
                if p.status() != psutil.STATUS_ZOMBIE:
                    alive.append(p)
            except psutil.Error:
                pass
        procs = alive
        if procs:
            time.sleep(0.005)  # SIGKILL was sent: the kernel takes a moment to end them
