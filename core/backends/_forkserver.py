"""The light forkserver: workers for a caller that already runs threads, from a lean fresh interpreter.

Data flow::

    caller (runs threads, so it never forks)
      │ spawnv: python -c "...forkserver import main; main(...)"       (no fork: exec)
      ▼
    server: imports only what a worker runs (preload: the caller's main module,
      │     run once as a worker would; poolside.backends._process_main; the
      │     task's module), then serves fork requests with the standard
      │     library's loop.  It runs one thread: should a preloaded module
      │     start one, it execs itself again with Poolside's modules only
      │ fork per worker, and per replacement after a crash or a timeout kill
      ▼
    worker: spawn._main(): unpickles process_main and its pipes, runs it

The caller does not wait for the server: ServerPopen reads a worker's pid
(the first thing on its sentinel pipe) when first asked, so the backend sends
the task and the first chunks while the server is still starting.

Why not ``multiprocessing.get_context("forkserver")``: its server is the same
loop, but before it starts it, it starts the resource tracker, a second fresh
interpreter (~25 ms of a core here, on a 2-core machine, while the server and
the caller need both), and every worker is handed that tracker's pipe.  A
Poolside worker shares memory only through ``multiprocessing.heap`` (an
unlinked file: nothing to track) and pipes, so neither the server nor its
workers get a tracker; a task that needs one (a ``shared_memory`` block, a
semaphore) starts its own, as a ``fork`` child of a caller without one does.

The protocol, the server loop and the exit-status reporting are the standard
library's forkserver (``multiprocessing.forkserver``), as for the zygote
(``poolside.backends._zygote``, which shares :class:`TrackerlessServer` and
:class:`ServerPopen` with this module): a worker forked here is a forkserver
child in every other way.  The server's command line names ``forkserver``, so
``poolside.proctree`` and ``poolside.observe`` tell it from a worker as they
tell the standard library's.
"""

from __future__ import annotations

import atexit
import io
import os
import signal
import socket
import sys
import threading
import time
from multiprocessing import context, forkserver, popen_forkserver, reduction, spawn
from typing import Any, ClassVar

# The forkserver's internals this module builds on, untyped in typeshed.
_connection: Any = __import__("multiprocessing.connection", fromlist=["_"])
_util: Any = __import__("multiprocessing.util", fromlist=["_"])
_stdlib: Any = forkserver



def reap_or_kill(pid: int, deadline: float) -> None:
    """Reap the child ``pid`` once it ends; past ``deadline`` (``time.monotonic()``) kill it, then reap it.

    Polled every millisecond: a server told to end (its pipe closed) ends in 1-2 ms.
    """
    while True:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return  # reaped already, or not ours
        if done:
            return
        if time.monotonic() >= deadline:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            return
        time.sleep(0.001)

class TrackerlessServer(forkserver.ForkServer):
    """The standard library's fork server, minus the resource tracker; how it starts is the subclass's."""

    _lock: threading.Lock
    _forkserver_address: Any
    _forkserver_alive_fd: Any
    _forkserver_pid: int | None
    _preload_modules: list[str]

    @property
    def pid(self) -> int | None:
        return self._forkserver_pid

    def running(self) -> bool:
        with self._lock:
            return self._alive_unlocked()

    def _alive_unlocked(self) -> bool:
        if self._forkserver_pid is None:
            return False
        pid, _ = os.waitpid(self._forkserver_pid, os.WNOHANG)
        if not pid:
            return True
        os.close(self._forkserver_alive_fd)  # it died (killed): forget it
        self._forget_unlocked()
        return False

    def _forget_unlocked(self) -> None:
        self._forkserver_address = self._forkserver_alive_fd = self._forkserver_pid = None

    def connect_to_new_process(self, fds: Any) -> tuple[int, int]:
        """As the standard library's, minus starting a resource tracker (see serve_without_tracker)."""
        self.ensure_running()
        if len(fds) + 4 >= forkserver.MAXFDS_TO_SEND:
            raise ValueError("too many fds")
        with socket.socket(socket.AF_UNIX) as client:
            client.connect(self._forkserver_address)
            parent_r, child_w = os.pipe()
            child_r, parent_w = os.pipe()
            # The fourth fd is the resource tracker's in the standard protocol;
            # the server drops it (a placeholder: the alive fd again).
            allfds = [child_r, child_w, self._forkserver_alive_fd, self._forkserver_alive_fd, *fds]
            try:
                reduction.sendfds(client, allfds)
                return parent_r, parent_w
            except BaseException:
                os.close(parent_r)
                os.close(parent_w)
                raise
            finally:
                os.close(child_r)
                os.close(child_w)

    def stop(self, wait_s: float | None = None) -> None:
        """End the server: it ends as its "alive" pipe closes (~1-2 ms); killed after ``wait_s``."""
        with self._lock:
            if self._forkserver_pid is None:
                return
            pid = self._forkserver_pid
            os.close(self._forkserver_alive_fd)
            self._forget_unlocked()
        if wait_s is None:
            os.waitpid(pid, 0)
            return
        reap_or_kill(pid, time.monotonic() + wait_s)

    def forget_in_child(self) -> None:
        """After a fork, in the child: the server is the parent's; its "alive" pipe is not ours to hold."""
        if self._forkserver_alive_fd is not None:
            try:
                os.close(self._forkserver_alive_fd)
            except OSError:
                pass
        self._forget_unlocked()
        self._lock = threading.Lock()


def serve_without_tracker() -> None:
    """In a server: each child keeps the server's own resource tracker (none, unless it had one).

    The request's tracker fd is the placeholder sent by
    :meth:`TrackerlessServer.connect_to_new_process`: closed, not handed on.
    """
    original = _stdlib._serve_one

    def serve_one(child_r: int, fds: list[int], unused: list[int], handlers: dict) -> int:
        os.close(fds[1])
        from multiprocessing import resource_tracker

        tracker: Any = resource_tracker._resource_tracker
        return original(child_r, [fds[0], tracker._fd, *fds[2:]], unused, handlers)

    _stdlib._serve_one = serve_one


class LightServer(TrackerlessServer):
    """A fresh interpreter that preloads the worker's modules: safe whatever threads the caller runs."""

    def ensure_running(self) -> None:
        with self._lock:
            if not self._alive_unlocked():
                self._launch_unlocked()

    def _launch_unlocked(self) -> None:
        # As ForkServer.ensure_running, without the resource tracker, and with
        # this module's main() (it imports poolside, so sys.path comes first).
        data = spawn.get_preparation_data("forkserver")
        data = {key: data[key] for key in _PREPARED if key in data}
        address = _connection.arbitrary_address("AF_UNIX")
        with socket.socket(socket.AF_UNIX) as listener:
            listener.bind(address)
            if not _util.is_abstract_socket_namespace(address):
                os.chmod(address, 0o600)
            listener.listen()
            alive_r, alive_w = os.pipe()
            try:
                cmd = (f"import sys; sys.path[:] = {data.get('sys_path', [])!r}; "
                       "from poolside.backends._forkserver import main; "
                       f"main({listener.fileno()}, {alive_r}, {self._preload_modules!r}, {data!r})")
                exe = spawn.get_executable()
                args = [exe, *_util._args_from_interpreter_flags(), "-c", cmd]
                pid = _util.spawnv_passfds(exe, args, [listener.fileno(), alive_r])
            except BaseException:
                os.close(alive_w)
                raise
            finally:
                os.close(alive_r)
        self._forkserver_address = address
        self._forkserver_alive_fd = alive_w
        self._forkserver_pid = pid


# What the server takes from the caller's preparation data (spawn.get_preparation_data):
# what a worker's own ``spawn.prepare`` would set, so that it finds it done.  Not the
# authkey: the command line is visible to every user of the machine (ps).
_PREPARED = ("sys_path", "sys_argv", "dir", "orig_dir", "init_main_from_name", "init_main_from_path")


def main(listener_fd: int, alive_r: int, preload: list[str], data: dict[str, Any]) -> None:
    """The server's whole life (in the new interpreter): preload, then serve until the caller goes away.

    With ``__main__`` in ``preload``, the caller's main module is run here once
    (as ``__mp_main__``, as a worker's ``spawn.prepare`` runs it), so each worker
    finds it in place instead of running it itself.  The standard library's
    server means to do the same, but its ``main_path`` is never filled in (3.11:
    the preparation data calls it ``init_main_from_path``), so there every
    worker runs the caller's main module again.

    A server that runs threads once it has preloaded (a module that starts one
    at import: numpy's BLAS pool, a logging thread) never forks: it starts
    again (exec, same pid and sockets) with Poolside's modules only, and each
    worker imports the caller's modules itself.
    """
    serve_without_tracker()
    if "__main__" in preload:
        _prepare_main(data)
    for name in preload:
        try:
            __import__(name)
        except Exception as exc:  # the worker imports it again, and says why it fails
            print(f"poolside forkserver: {name} was not preloaded: {type(exc).__name__}: {exc}",
                  file=sys.stderr, flush=True)
    if threads_running() > 1:
        _restart_lean(listener_fd, alive_r, preload, data)
    _stdlib.main(listener_fd, alive_r, [], None, None)


def _restart_lean(listener_fd: int, alive_r: int, preload: list[str], data: dict[str, Any]) -> None:
    """Exec this server again with Poolside's modules only (exec is safe with threads; fork is not)."""
    lean = [name for name in preload if name.startswith("poolside.")]
    if lean == preload:
        raise RuntimeError(f"the forkserver runs {threads_running()} threads with Poolside's modules alone")
    print(f"poolside forkserver: preloading the caller's modules started {threads_running() - 1} "
          "thread(s); the server starts again without them (each worker imports them itself)",
          file=sys.stderr, flush=True)
    for fd in (listener_fd, alive_r):
        os.set_inheritable(fd, True)
    cmd = (f"import sys; sys.path[:] = {sys.path!r}; from poolside.backends._forkserver import main; "
           f"main({listener_fd}, {alive_r}, {lean!r}, {data!r})")
    sys.stdout.flush()
    os.execv(sys.executable, [sys.executable, *_util._args_from_interpreter_flags(), "-c", cmd])


def threads_running() -> int:
    """How many threads this process runs, native ones included (Linux); Python's elsewhere."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return max(threading.active_count(), 2)  # unknown: assume "not alone", never fork blind


def _prepare_main(data: dict[str, Any]) -> None:
    from multiprocessing import process

    current: Any = process.current_process()
    current._inheriting = True  # a run started by the main module at import fails there, not here
    try:
        spawn.prepare(data)
    except BaseException as exc:
        # Each worker prepares on its own then, and one that fails says why
        # (the backend names the missing ``if __name__ == "__main__":``).
        print(f"poolside forkserver: the caller's main module was not preloaded: "
              f"{type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
    finally:
        del current._inheriting


_pid_lock = threading.Lock()


class ServerPopen(popen_forkserver.Popen):
    """A forkserver child whose server is ``server`` (a :class:`TrackerlessServer`)."""

    server: ClassVar[TrackerlessServer]

    def _launch(self, process_obj: Any) -> None:
        # As popen_forkserver.Popen._launch, with this class's server.
        prep_data = spawn.get_preparation_data(process_obj._name)
        buf = io.BytesIO()
        context.set_spawning_popen(self)
        try:
            reduction.dump(prep_data, buf)
            reduction.dump(process_obj, buf)
        finally:
            context.set_spawning_popen(None)
        self.sentinel, w = self.server.connect_to_new_process(self._fds)  # type: ignore[attr-defined]
        _parent_w = os.dup(w)
        self.finalizer = _util.Finalize(self, _util.close_fds, (_parent_w, self.sentinel))
        with open(w, "wb", closefd=True) as f:
            f.write(buf.getbuffer())
        # The pid is read when first asked for, not here: a backend that starts
        # several workers sends every request before it waits on the server's
        # first fork (the server may still be importing its preload).
        self._pid: int | None = None

    @property
    def pid(self) -> int:
        if self._pid is None:
            # One reader at a time: the backend's dispatcher and a thread that
            # lists the workers (the memory cap's) may both ask first.
            with _pid_lock:
                if self._pid is None:
                    self._pid = forkserver.read_signed(self.sentinel)
        return self._pid

    @pid.setter
    def pid(self, value: int) -> None:
        self._pid = value

    def poll(self, flag: int = os.WNOHANG) -> int | None:
        # The pid comes first on the sentinel pipe, then the exit code.  Not
        # forked yet is alive, and says so at once: Process.start() polls every
        # earlier child of this process, and would wait here for its fork.
        if self._pid is None and flag == os.WNOHANG and not _connection.wait([self.sentinel], 0):
            return None
        _ = self.pid
        return super().poll(flag)

    def wait(self, timeout: float | None = None) -> int | None:
        _ = self.pid
        return super().wait(timeout)


_server = LightServer()


class _Popen(ServerPopen):
    method = "forkserver"
    server = _server


class LightProcess(context.ForkServerProcess):
    _start_method = "forkserver"  # a pool the worker starts itself uses the standard one

    @staticmethod
    def _Popen(process_obj: Any) -> _Popen:
        return _Popen(process_obj)


class LightContext(context.ForkServerContext):
    """A multiprocessing context whose processes are forked by the light server."""

    Process = LightProcess

    def set_forkserver_preload(self, module_names: list[str]) -> None:
        """What the server imports once it starts (it takes effect only then, once per process)."""
        _server.set_forkserver_preload(module_names)


def ensure_running(preload: list[str]) -> None:
    """Start the server now with ``preload``, unless it runs: it imports while the caller goes on."""
    _server.set_forkserver_preload(preload)
    _server.ensure_running()


def pid() -> int | None:
    return _server.pid if _server.running() else None


def stop() -> None:
    _server.stop()


# How long the exit of this process waits for its server to end (it ends as soon
# as it sees its "alive" pipe close), before it is killed.
_EXIT_WAIT_S = 2.0


@atexit.register
def _end_at_exit() -> None:
    """Nothing outlives its caller: the server is told to end and waited for (bounded) at exit."""
    _server.stop(_EXIT_WAIT_S)


def _forget_in_child() -> None:
    global _pid_lock
    _pid_lock = threading.Lock()  # a thread of the parent may have held it at the fork
    _server.forget_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)
