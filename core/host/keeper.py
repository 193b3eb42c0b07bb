"""What every host client shares: start a host process, read it on a thread, outlive it.

    caller thread                          reader thread (one per host process)
      HostKeeper.start() ──► spawn_host() ──► python -m poolside.host [mode] FD PID
                                             recv_bytes ◄── messages ──► subclass._handle(host, data)
                                             EOF (the host ended, died or was killed):
                                               reap it (exit code), sweep its process group,
                                               subclass._settle(host): end what it was doing
      shutdown() ──► Shutdown, a grace, then the host's whole tree is ended

The run host's client (:mod:`.client`) and the study host's client
(:mod:`.study_client`) differ in what they send and what a message means; the
life of the process is this one module.  Reading on a plain thread rather than
the caller's event loop means a host's death is noticed at once whatever the
caller is doing, blocked reads release the GIL, and decoding stays off the
caller's thread.

Start hosts from a thread that lives as long as they should (the window's GUI
thread): Linux ties ``PR_SET_PDEATHSIG``, the host's guard against a parent
that is killed, to the *thread* that started it.
"""

from __future__ import annotations

import atexit
import os
import socket
import subprocess
import sys
import threading
import weakref
from multiprocessing.connection import Connection
from typing import Any, ClassVar, Generic, TypeVar

from ..log import get_logger
from ..proctree import descendants, describe_exit, kill_tree
from .protocol import Ready

log = get_logger("poolside.host")

#: How long the reader lets a host that was asked to shut down finish exiting before the sweep.
EXIT_GRACE_S = 1.0


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


class HostProcess:
    """One host process as its client keeps it: the pipe, and what the host said of itself."""

    def __init__(self, proc: subprocess.Popen, conn: Connection) -> None:
        self.proc = proc
        self.pid = proc.pid
        self.conn = conn
        self.ready = threading.Event()
        self.helpers: tuple[int, ...] = ()  # its zygote (Ready)
        self.exit_code: int | None = None
        self.gone = threading.Event()
        self.closing = False  # asked to shut down: its end is expected

    def stop(self) -> None:
        """The reader has seen the end of the pipe: stop whatever else serves this process."""


P = TypeVar("P", bound=HostProcess)

_keepers: weakref.WeakSet[HostKeeper[Any]] = weakref.WeakSet()


@atexit.register
def _end_every_host() -> None:
    for keeper in list(_keepers):
        keeper.shutdown(grace=0.0)


class HostKeeper(Generic[P]):
    """Keeps one host process of a kind; a subclass says what the host is for."""

    #: The host's switch on ``python -m poolside.host`` (none: the run host).
    mode: ClassVar[tuple[str, ...]] = ()
    #: What the log calls it ("run host", "study host").
    noun: ClassVar[str] = "host"

    def __init__(self, *, python: str | None = None) -> None:
        self._python = python or sys.executable
        self._lock = threading.Lock()
        self._host: P | None = None
        _keepers.add(self)

    # -- what a subclass says ---------------------------------------------------
    def _new_process(self, proc: subprocess.Popen, conn: Connection) -> P:
        raise NotImplementedError

    def _handle(self, host: P, data: bytes) -> None:
        """One message from ``host``, on the reader thread (Ready is handled here first)."""
        raise NotImplementedError

    def _settle(self, host: P) -> None:
        """``host`` has ended and been reaped: end what it was doing, saying why."""
        raise NotImplementedError

    def _cancel_for_shutdown(self, host: P) -> None:
        """A shutdown is coming: mark what ``host`` is doing as cancelled, so it ends as such."""
        raise NotImplementedError

    def _ask_to_shut_down(self, host: P) -> bool:
        """Send ``host`` a Shutdown if it can take one now; whether it was sent."""
        raise NotImplementedError

    # -- the host's life ----------------------------------------------------------
    def start(self) -> int:
        """Start a host unless one is up (it warms up in the background); its pid."""
        with self._lock:
            host = self._host
            if host is None or host.gone.is_set():
                proc, conn = spawn_host(self._python, *self.mode)
                host = self._host = self._new_process(proc, conn)
                threading.Thread(target=self._read, args=(host,), daemon=True,
                                 name=f"poolside-{self.noun.replace(' ', '-')}-reader-{proc.pid}").start()
                log.info("%s %d starting", self.noun, proc.pid)
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
        """The host and every process under it (workers, zygote, a task's children)."""
        pid = self.host_pid
        return set() if pid is None else {pid, *(p.pid for p in descendants(pid))}

    def wait_ready(self, timeout: float | None = None) -> bool:
        host = self._host
        return host is not None and host.ready.wait(timeout)

    def shutdown(self, grace: float = 1.0) -> None:
        """End the host and everything under it; what it is doing ends as cancelled."""
        with self._lock:
            host, self._host = self._host, None
        if host is None or host.gone.is_set():
            return
        self._cancel_for_shutdown(host)
        host.closing = True
        if grace > 0 and self._ask_to_shut_down(host):
            host.gone.wait(grace)
        kill_tree(host.pid, sweep_group=True)
        host.gone.wait(5.0)

    def _forget(self, host: P) -> None:
        """The next job starts a fresh host."""
        with self._lock:
            if self._host is host:
                self._host = None

    # -- the reader thread ------------------------------------------------------
    def _read(self, host: P) -> None:
        while True:
            try:
                data = host.conn.recv_bytes()
            except (EOFError, OSError):
                break
            try:
                self._handle(host, data)
            except Exception:  # a bug here must not leave the run or study without an end
                log.exception("%s %d: a message could not be handled", self.noun, host.pid)
        host.stop()
        host.conn.close()
        if host.closing:  # asked to shut down: let it finish exiting before the sweep
            try:
                host.proc.wait(EXIT_GRACE_S)
            except subprocess.TimeoutExpired:
                log.info("%s %d still exiting after %.1f s: ending it", self.noun, host.pid, EXIT_GRACE_S)
        kill_tree(host.pid, sweep_group=True)
        host.exit_code = host.proc.wait()
        self._forget(host)
        host.gone.set()
        self._settle(host)
        log.info("%s %d ended (%s)", self.noun, host.pid, describe_exit(host.exit_code))

    @staticmethod
    def _took_ready(host: HostProcess, message: Any) -> bool:
        """Take the host's Ready (its helpers); whether ``message`` was it."""
        if type(message) is not Ready:
            return False
        host.helpers = message.helpers
        host.ready.set()
        return True
