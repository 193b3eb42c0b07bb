"""The zygote: a single-threaded copy of the caller that forks worker processes on demand.

Data flow::

    caller, while it runs ONE thread (its first processes run, or prestart())
      │ os.fork()                                   (about a millisecond)
      ▼
    zygote: multiprocessing.forkserver.main() on an inherited socket; it never
      │     starts a thread, so every fork it makes is from a one-thread process
      │ fork per worker, and per replacement after a crash or a timeout kill
      ▼
    worker: spawn._main(): unpickles process_main and its pipes, runs it

Why: a worker must never be forked from a process that runs threads (the
window, the engine's own dispatcher: a lock held by another thread at the fork
stays held in the child forever).  The forkserver start method is safe, but
starting it costs a fresh interpreter: ~110 ms measured here before the first
worker exists, for a CLI call whose work may be 60 ms.  ``fork`` from a process
that runs one thread is safe (the forkserver and Android's zygote rely on it),
so when the caller runs one thread, *it* becomes the server: one fork, and the
workers it forks later inherit the caller's imports (the task's module
included), so a cold run starts its workers in a few milliseconds.

"One thread" is checked in ``/proc/self/task``, which counts native threads too
(Qt's, a BLAS pool's), not only Python's.  When the caller runs threads, the
zygote is not made and the backend uses Poolside's light forkserver
(``poolside.backends._forkserver``): a fresh interpreter, safe at any time.

The protocol, the server loop and the exit-status reporting are the standard
library's forkserver (``multiprocessing.forkserver``): only how the server
starts differs (``os.fork`` instead of exec'ing a new interpreter), so a worker
forked here is a forkserver child in every other way (pipes passed as file
descriptors, its exit code read from a sentinel pipe, ``kill()``, ``join()``).

What it costs: the zygote and its workers share the caller's memory pages
copy-on-write, but RSS counts them in every process; and they inherit the
caller's open file descriptors, as ``fork`` children do (they end with the
caller: the zygote when its "alive" pipe closes, workers when their task pipe
does).  The zygote drops the resource tracker: workers start one only if a
task needs it, as ``fork`` children of a caller without one do.
"""

from __future__ import annotations

import atexit
import gc
import os
import socket
import sys
import time
from multiprocessing import context, forkserver, reduction
from typing import Any

from ._forkserver import ServerPopen, TrackerlessServer, reap_or_kill, serve_without_tracker, threads_running

# The forkserver's internals this module builds on, untyped in typeshed.
_connection: Any = __import__("multiprocessing.connection", fromlist=["_"])
_util: Any = __import__("multiprocessing.util", fromlist=["_"])
_forkserver: Any = forkserver


class ZygoteUnavailable(RuntimeError):
    """The zygote is not running and cannot be forked now (the caller runs threads)."""


def supported() -> bool:
    return sys.platform.startswith("linux") and hasattr(os, "fork") and reduction.HAVE_SEND_HANDLE


class _Zygote(TrackerlessServer):
    """The standard library's fork server, started by forking the caller instead of exec'ing Python."""

    def available(self) -> bool:
        """Running, or it can be forked now."""
        return supported() and (self.running() or threads_running() == 1)

    def ensure_running(self) -> None:
        with self._lock:
            if self._alive_unlocked():
                return
            if not supported() or threads_running() != 1:
                raise ZygoteUnavailable("the zygote can only be forked from a process that runs one thread")
            self._fork_unlocked()

    def _fork_unlocked(self) -> None:
        address = _connection.arbitrary_address("AF_UNIX")
        with socket.socket(socket.AF_UNIX) as listener:
            listener.bind(address)
            if not _util.is_abstract_socket_namespace(address):
                os.chmod(address, 0o600)
            listener.listen()
            alive_r, alive_w = os.pipe()
            _util._flush_std_streams()  # else the zygote's copy of a buffer is written twice
            pid = os.fork()
            if pid == 0:
                _zygote_main(listener.fileno(), alive_r, alive_w)  # never returns
            os.close(alive_r)
        self._forkserver_address = address
        self._forkserver_alive_fd = alive_w
        self._forkserver_pid = pid

    def release(self) -> None:
        """Tell the zygote to end and return at once (it ends as its "alive" pipe closes).

        For a program that will start no more workers (the CLI after its run):
        the zygote's exit overlaps the program's own.  Reaped at exit, when the
        program ends anyway.
        """
        with self._lock:
            if self._forkserver_pid is not None:
                os.close(self._forkserver_alive_fd)
                _released.append(self._forkserver_pid)
                self._forkserver_address = self._forkserver_alive_fd = self._forkserver_pid = None


def _zygote_main(listener_fd: int, alive_r: int, alive_w: int) -> None:
    """The zygote's whole life: serve fork requests until the caller goes away."""
    code = 0
    try:
        os.close(alive_w)  # else it never sees the caller's end close
        # Objects inherited from the caller are never collected here or in the
        # workers: a finaliser of the caller's (a file, a socket) must not run
        # in a copy and close a descriptor number the copy reuses.
        gc.freeze()
        serve_without_tracker()
        forkserver.main(listener_fd, alive_r, [])
    except SystemExit:
        pass  # main()'s way of saying the caller is gone
    except BaseException:
        code = 1
        sys.excepthook(*sys.exc_info())
    finally:
        os._exit(code)


_zygote = _Zygote()


class _Popen(ServerPopen):
    """A forkserver child whose server is the zygote."""

    method = "zygote"
    server = _zygote


class ZygoteProcess(context.ForkServerProcess):
    # What the child sets as its own default start method: a zygote child is a
    # forkserver child in every way, and a pool it starts itself uses the
    # real forkserver, safe whatever threads it runs.
    _start_method = "forkserver"

    @staticmethod
    def _Popen(process_obj: Any) -> _Popen:
        return _Popen(process_obj)


class ZygoteContext(context.ForkServerContext):
    """A multiprocessing context whose processes are forked by the zygote."""

    _name = "zygote"
    Process = ZygoteProcess


def ensure_running() -> None:
    """Fork the zygote now if it is not running; :class:`ZygoteUnavailable` if threads run."""
    _zygote.ensure_running()


def available() -> bool:
    return _zygote.available()


def running() -> bool:
    return _zygote.running()


def pid() -> int | None:
    return _zygote.pid if _zygote.running() else None


def stop() -> None:
    _zygote.stop()


def release() -> None:
    _zygote.release()


# Zygotes told to end by release(), reaped at exit.
_released: list[int] = []


# How long the exit of this process waits for its zygote to end (it ends as
# soon as it sees its "alive" pipe close: ~1-2 ms), before it is killed.
_EXIT_WAIT_S = 2.0


@atexit.register
def _end_at_exit() -> None:
    """Nothing outlives its caller: the zygote is told to end, and waited for, before this process exits.

    Without the wait it ended a moment *after* its caller (when the caller's
    exit closed its pipe), and a caller that checks its whole process tree at
    the end (the window, after a study process) could still see it.
    """
    _zygote.release()
    deadline = time.monotonic() + _EXIT_WAIT_S
    for pid in _released:
        reap_or_kill(pid, deadline)
    _released.clear()


def _forget_in_child() -> None:
    """After a fork, in the child: the zygote is the parent's, not ours.

    A worker forked directly from the caller must not keep the zygote's
    "alive" pipe open: the zygote would outlive the caller for as long as that
    worker lives (and a caller that releases the zygote would wait for it).
    """
    _zygote.forget_in_child()
    _released.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)
