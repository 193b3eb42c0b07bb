"""The life of a host process, run host and study host alike: born of the window, never outliving it.

    python -m poolside.host [--study] FD PARENT_PID
      serve(): die with the parent ─► nice ─► the socket kept out of forks ─► warm up
               (the zygote forked while one thread runs) ─► Host(Wire(conn)).serve() until EOF
               ─► an orphan ends its whole process group

A host never imports Qt.  It is its own process group (the client starts it
with ``process_group=0``, in the window's session), so the client can end it
and everything it started (workers, forkserver, resource tracker, a task's own
children) in one ``killpg``; and it ends when its pipe closes, or by
``PR_SET_PDEATHSIG`` when its parent dies, whatever holds its GIL.
"""

from __future__ import annotations

import ctypes
import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, ClassVar

from ..log import get_logger
from .protocol import Ready, Shutdown, dumps

log = get_logger("poolside.host")

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """Linux: SIGKILL when the parent (thread) that started us ends, even if our GIL is held."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # it died before the prctl took effect
        os._exit(1)


class Wire:
    """The host's end of the pipe: whole messages, from any thread."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._lock = threading.Lock()

    def send(self, message: Any) -> bool:
        data = message if isinstance(message, bytes) else dumps(message)
        with self._lock:
            try:
                self.conn.send_bytes(data)
                return True
            except OSError:  # the client is gone; the main loop sees EOF and ends
                return False


def helper_pids() -> tuple[int, ...]:
    from ..backends.workers import helper_pids

    return tuple(helper_pids())


def not_in_forks(fd: int) -> None:
    """Close the client's socket in every process forked from this one (the zygote, its workers).

    A fork inherits every descriptor: a worker that held the socket would keep
    the client from seeing EOF when this host dies, for as long as its item
    runs.  Closed once, in the first fork (a flag the later forks inherit), so
    a later fork never closes an unrelated descriptor that reused the number.
    """
    held = [fd]

    def drop() -> None:
        if held:
            try:
                os.close(held.pop())
            except OSError:
                pass

    os.register_at_fork(after_in_child=drop)


def warm_up() -> None:
    """What every first run would otherwise pay: the workers' start, the engine, the plugins.

    Called while the host still runs one thread: the zygote (a copy of this
    process that forks every worker in about a millisecond) can be forked only
    then; without it, the forkserver is started instead.
    """
    from ..backends.workers import prestart, start_method

    if not prestart() and start_method() == "forkserver":
        from ..backends._launch import start_forkserver

        start_forkserver()
    from ..engine.job import run  # noqa: F401
    from ..plugins import discover

    discover()


class Server:
    """What a host serves: its loop reads the client's messages until Shutdown or the pipe's end.

    A subclass handles its own messages (``handle``) and ends what it is doing
    (``stop``); Ready, Shutdown and the client's disappearance are handled here.
    """

    noun: ClassVar[str] = "host"

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.wire = Wire(conn)

    def serve(self) -> bool:
        """Serve until told to shut down (False) or the client is gone (True)."""
        self.wire.send(Ready(os.getpid(), helper_pids()))
        while True:
            try:
                message = pickle.loads(self.conn.recv_bytes())
            except (EOFError, OSError):
                log.info("%s %d: the client is gone", self.noun, os.getpid())
                self.stop()
                return True
            if isinstance(message, Shutdown):
                self.stop()
                return False
            self.handle(message)

    def handle(self, message: Any) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError


def serve(argv: list[str], noun: str, make: Callable[[Connection], Server], *, nice: int = 0) -> int:
    """Be a host: ``argv`` is ``FD PARENT_PID``; ``make`` builds the server on the inherited socket."""
    fd, parent = int(argv[0]), int(argv[1])
    die_with_parent(parent)
    if nice:
        try:
            os.nice(nice)
        except OSError as exc:  # a host at the window's own priority still works; it competes more
            log.info("%s %d keeps its priority: %s", noun, os.getpid(), exc)
    conn = Connection(fd)
    not_in_forks(fd)
    log.info("%s %d started (nice %d)", noun, os.getpid(), os.nice(0))
    try:
        warm_up()
    except Exception as exc:  # the first job pays, and says what is wrong if it still is
        log.warning("%s %d could not warm up: %s", noun, os.getpid(), exc)
    host = make(conn)
    try:
        orphaned = host.serve()
    finally:
        log.info("%s %d ends", noun, os.getpid())
        conn.close()
    if orphaned and os.getpgid(0) == os.getpid():  # only a group of our own
        # Nobody will sweep up after us: end what our tasks started too
        # (our process group), and ourselves with it.
        os.killpg(os.getpgid(0), signal.SIGKILL)
    return 0
