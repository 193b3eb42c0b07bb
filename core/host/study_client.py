"""The client side of a study host: start it, hand it a study, read what it streams, end it.

    caller thread                              reader thread (one per host process)
      StudyHostClient.study(plan, ...) ──►  StartStudy ──► study host
                                            recv_bytes ◄── StudyProgress / StudyRound / StudyPart / StudyFinished
                                              └─► on_progress(Progress), on_round(Round),
                                                  on_finished(StudyResult | None, error, history_error)
      cancel() ──► CancelStudy; the host is ended if the study has not returned in CANCEL_GRACE_S
      shutdown() ──► Shutdown; the host and its tree are ended after a grace

The callbacks run on the reader thread, where every message is decoded (each
capped, so one decode holds the GIL a millisecond or two): the window hands
them on to its GUI thread (``gui.bridge.BatchPump``).  If the host dies, the
study ends with ``on_finished(None, why)`` (``why`` is ``None`` after a cancel);
the next study starts a fresh host.  Start it from a thread that lives as long
as the host should (``PR_SET_PDEATHSIG`` follows the thread that started it).
"""

from __future__ import annotations

import atexit
import dataclasses
import itertools
import subprocess
import sys
import threading
import weakref
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from ..log import get_logger
from ..proctree import descendants, describe_exit, kill_tree
from .client import spawn_host
from .protocol import (
    CancelStudy,
    Ready,
    Shutdown,
    StartStudy,
    StudyFinished,
    StudyPart,
    StudyProgress,
    StudyRound,
    dumps,
    loads,
)

log = get_logger("poolside.host")

#: How long a cancelled study may take to return what it has before its host is ended.
CANCEL_GRACE_S = 10.0
#: How long a host asked to shut down may take before it is killed.
SHUTDOWN_GRACE_S = 2.0

OnFinished = Callable[[Any, "str | None", "str | None"], None]


class HostStudy:
    """One study in a host, as the client sees it."""

    def __init__(self, study_id: int, on_progress: Callable[[Any], None], on_round: Callable[[Any], None],
                 on_finished: OnFinished) -> None:
        self.study_id = study_id
        self.on_progress, self.on_round, self.on_finished = on_progress, on_round, on_finished
        self.parts: list[Any] = []
        self.cancel_requested = False
        self.ended = False
        self._lock = threading.Lock()
        self.done = threading.Event()

    def end(self, record: Any, error: str | None, history_error: str | None = None) -> None:
        with self._lock:  # the reader and a caller that found the host gone may both end it
            if self.ended:
                return
            self.ended = True
        try:
            self.on_finished(record, error, history_error)
        finally:
            self.done.set()  # after the callback: whoever waits on it finds the end handed on


class _StudyProcess:
    def __init__(self, proc: subprocess.Popen, conn: Connection) -> None:
        self.proc, self.pid, self.conn = proc, proc.pid, conn
        self.ready = threading.Event()
        self.gone = threading.Event()
        self.helpers: tuple[int, ...] = ()
        self.study: HostStudy | None = None
        self.exit_code: int | None = None
        self.closing = False
        self._send_lock = threading.Lock()

    def send(self, message: Any) -> bool:
        with self._send_lock:
            try:
                self.conn.send_bytes(dumps(message))  # a plan is small: no writer thread needed
                return True
            except OSError:
                return False


_clients: weakref.WeakSet[StudyHostClient] = weakref.WeakSet()


@atexit.register
def _end_every_host() -> None:
    for client in list(_clients):
        client.shutdown(grace=0.0)


class StudyHostClient:
    """Keeps one study host and runs studies in it, one at a time."""

    def __init__(self, *, python: str | None = None) -> None:
        self._python = python or sys.executable
        self._lock = threading.Lock()
        self._host: _StudyProcess | None = None
        self._ids = itertools.count(1)
        _clients.add(self)

    # -- the host's life ----------------------------------------------------------
    def start(self) -> int:
        """Start a host unless one is up (it warms up in the background); its pid."""
        with self._lock:
            host = self._host
            if host is None or host.gone.is_set():
                proc, conn = spawn_host(self._python, "--study")
                host = self._host = _StudyProcess(proc, conn)
                threading.Thread(target=self._read, args=(host,), name=f"poolside-study-reader-{proc.pid}",
                                 daemon=True).start()
                log.info("study host %d starting", proc.pid)
            return host.pid

    @property
    def host_pid(self) -> int | None:
        host = self._host
        return None if host is None or host.gone.is_set() else host.pid

    @property
    def helpers(self) -> tuple[int, ...]:
        """The host's processes that start workers and run no item (its zygote)."""
        host = self._host
        return () if host is None else host.helpers

    def pids(self) -> set[int]:
        """The host and every process under it."""
        pid = self.host_pid
        return set() if pid is None else {pid, *(p.pid for p in descendants(pid))}

    def wait_ready(self, timeout: float | None = None) -> bool:
        host = self._host
        return host is not None and host.ready.wait(timeout)

    @property
    def running(self) -> bool:
        host = self._host
        return host is not None and host.study is not None and not host.study.done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the current study (if any) has ended; True if it has."""
        host = self._host
        study = None if host is None else host.study
        return study is None or study.done.wait(timeout)

    def shutdown(self, grace: float = SHUTDOWN_GRACE_S) -> None:
        """End the host and everything under it; a study in progress ends as cancelled."""
        with self._lock:
            host, self._host = self._host, None
        if host is None or host.gone.is_set():
            return
        if host.study is not None:
            host.study.cancel_requested = True
        host.closing = True
        if grace > 0 and host.send(Shutdown()):
            host.gone.wait(grace)
        kill_tree(host.pid, sweep_group=True)
        host.gone.wait(5.0)

    # -- studies ------------------------------------------------------------------
    def study(self, plan: Any, *, on_progress: Callable[[Any], None], on_round: Callable[[Any], None],
              on_finished: OnFinished) -> HostStudy:
        """Start a study of ``plan`` (a ``StudyPlan``) in the host; returns at once, calls back on the reader thread."""
        self.start()
        host = self._host
        assert host is not None
        if host.study is not None and not host.study.done.is_set():
            raise RuntimeError("the study host is already running a study")
        study = host.study = HostStudy(next(self._ids), on_progress, on_round, on_finished)
        try:
            data = dumps(StartStudy(study.study_id, plan))
        except Exception as exc:
            host.study = None
            raise TypeError(f"the study cannot be sent to the study host: {exc}") from exc
        with host._send_lock:
            try:
                host.conn.send_bytes(data)
            except OSError:
                pass  # the host is gone: the reader ends the study, saying so
        if host.gone.is_set():  # its reader may have finished before the study was there to end
            study.end(None, f"the study host ended before the study started ({describe_exit(host.exit_code)})")
        return study

    def cancel(self) -> None:
        """Stop the study: it returns what it measured; its host is ended if it takes too long."""
        host = self._host
        study = None if host is None else host.study
        if host is None or study is None or study.done.is_set() or study.cancel_requested:
            return
        study.cancel_requested = True
        host.send(CancelStudy(study.study_id))
        timer = threading.Timer(CANCEL_GRACE_S, self._kill_if_running, args=(host, study))
        timer.daemon = True
        timer.start()

    def _kill_if_running(self, host: _StudyProcess, study: HostStudy) -> None:
        if not study.done.is_set():
            log.warning("study host %d did not cancel in %.0f s: ending it", host.pid, CANCEL_GRACE_S)
            with self._lock:
                if self._host is host:
                    self._host = None
            kill_tree(host.pid, sweep_group=True)

    # -- the reader thread --------------------------------------------------------
    def _read(self, host: _StudyProcess) -> None:
        while True:
            try:
                data = host.conn.recv_bytes()
            except (EOFError, OSError):
                break
            try:
                self._dispatch(host, loads(data))
            except Exception:  # a bug here must not leave the study without an end
                log.exception("study host %d: a message could not be handled", host.pid)
        host.conn.close()
        if host.closing:
            try:
                host.proc.wait(SHUTDOWN_GRACE_S)
            except subprocess.TimeoutExpired:
                pass
        kill_tree(host.pid, sweep_group=True)
        host.exit_code = host.proc.wait()
        with self._lock:
            if self._host is host:
                self._host = None
        host.gone.set()
        study = host.study
        if study is not None and not study.done.is_set():
            why = None if study.cancel_requested else (
                f"the study host ended unexpectedly ({describe_exit(host.exit_code)})")
            study.end(None, why)
        log.info("study host %d ended (%s)", host.pid, describe_exit(host.exit_code))

    def _dispatch(self, host: _StudyProcess, message: Any) -> None:
        kind = type(message)
        if kind is Ready:
            host.helpers = message.helpers
            host.ready.set()
            return
        study = host.study
        if study is None or getattr(message, "study_id", None) != study.study_id or study.done.is_set():
            return  # a late message of a study that ended otherwise
        if kind is StudyProgress:
            study.on_progress(message.progress)
        elif kind is StudyRound:
            study.on_round(message.round)
        elif kind is StudyPart:
            study.parts.append(message.config)
        elif kind is StudyFinished:
            record = message.record
            if record is not None:
                record = dataclasses.replace(record, configs=study.parts[:message.parts])
            study.parts = []
            study.end(record, message.error, message.history_error)
