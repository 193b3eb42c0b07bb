"""One observation from start to end, for the CLI and the observe host alike.

::

    launch(argv) ─ subprocess.Popen (fork+exec: the command shares nothing of ours but the stdio)
        └─► Observer(pid).start() ─► wait for the command to exit, *not* reaping it (waitid WNOWAIT):
              the zombie's stat still holds its final CPU and its reaped children's ─► stop()
              ─► reap ─► the exit code (a signal's: 128 + its number, as a shell says it)
    attach(pid) ─► Observer(pid).start() ─► until the process is gone, or stop() (Ctrl-C, Stop)
    finish() ─► observation_record() ─► --json, --trace, the history (kind "observe")

An attached program is never touched: the observation ends, the program goes on.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Callable, Sequence
from typing import Any

from ..log import get_logger
from ..usage import DEFAULT_INTERVAL_S
from . import procfs
from .record import observation_record
from .sampler import Observer, boot_now

log = get_logger(__name__)


class ObserveError(Exception):
    """The observation cannot start: no such command or process, or /proc cannot be read (the message says)."""


class Session:
    """An observation of a launched command (``launch``) or of a running process (``attach``)."""

    def __init__(self, observer: Observer, command: Sequence[str] | str, child: subprocess.Popen | None) -> None:
        self.observer = observer
        self.command = command
        self.child = child
        self.exit_code: int | None = None
        self.interrupted = False
        self._stopped = threading.Event()
        self._wall_s: float | None = None

    @classmethod
    def launch(cls, argv: Sequence[str], *, interval_s: float = DEFAULT_INTERVAL_S,
               on_sample: Callable[[Observer], None] | None = None, new_session: bool = False) -> Session:
        """``new_session``: the command in a session of its own, for the window's host (the CLI keeps it
        in the terminal's, where Ctrl-C is the command's to handle); its stdin is then the null device."""
        _need_proc()
        if not argv:
            raise ObserveError("no command to observe")
        began = boot_now()
        try:
            # Popen forks and execs at once (posix_spawn where it can): no Python of ours runs in the child.
            child = subprocess.Popen(list(argv), start_new_session=new_session,
                                     stdin=subprocess.DEVNULL if new_session else None)
        except FileNotFoundError:
            raise ObserveError(f"command not found: {argv[0]}") from None
        except PermissionError:
            raise ObserveError(f"{argv[0]} cannot be run: permission denied") from None
        except OSError as e:
            raise ObserveError(f"{argv[0]} cannot be run: {e.strerror or e}") from None
        observer = Observer(child.pid, interval_s=interval_s, began=began, on_sample=on_sample)
        observer.start()
        return cls(observer, list(argv), child)

    @classmethod
    def attach(cls, pid: int, *, interval_s: float = DEFAULT_INTERVAL_S,
               on_sample: Callable[[Observer], None] | None = None) -> Session:
        _need_proc()
        if pid == os.getpid():
            raise ObserveError("poolside cannot observe itself")
        try:
            observer = Observer(pid, interval_s=interval_s, on_sample=on_sample)
        except ProcessLookupError:
            raise ObserveError(f"no process {pid} is running") from None
        except procfs.Unreadable as e:
            raise ObserveError(f"process {pid} cannot be observed: {e.path} cannot be read ({e.reason}); "
                               "it belongs to another user, or /proc is mounted with hidepid") from None
        observer.start()
        import psutil

        try:
            command: Sequence[str] | str = psutil.Process(pid).cmdline() or str(pid)
        except psutil.Error:
            command = str(pid)
        return cls(observer, command, None)

    def wait(self, timeout: float | None = None) -> bool:
        """Until the program ends (or ``stop()``); whether it is over."""
        if self.child is not None:
            return self._wait_child(timeout)
        done = self.observer.root_ended.wait(timeout)
        if done or self._stopped.is_set():
            self._end()
            return True
        return False

    def _wait_child(self, timeout: float | None) -> bool:
        assert self.child is not None
        if timeout is None:
            try:
                os.waitid(os.P_PID, self.child.pid, os.WEXITED | os.WNOWAIT)
            except ChildProcessError:
                pass  # reaped already (a wait of ours before)
        elif not self.observer.root_ended.wait(timeout):
            return self._stopped.is_set() and self._end()
        self._end()
        return True

    def stop(self) -> None:
        """End the observation now; the program goes on (a launched command is left running)."""
        self.interrupted = True
        self._stopped.set()
        self.observer.root_ended.set()

    def _end(self) -> bool:
        if self._wall_s is not None:
            return True
        self._wall_s = self.observer.wall_s()
        self.observer.stop()
        if self.child is not None and not self.interrupted:
            code = self.child.wait()
            self.exit_code = 128 - code if code < 0 else code
        return True

    @property
    def wall_s(self) -> float:
        return self._wall_s if self._wall_s is not None else self.observer.wall_s()

    def record(self) -> dict[str, Any]:
        """The observation's record (``record.observation_record``); call after ``wait``."""
        return observation_record(self.command, self.exit_code, self.wall_s, list(self.observer.processes.values()),
                                  list(self.observer.not_seen.values()))


def _need_proc() -> None:
    if not procfs.available():
        raise ObserveError("observe reads Linux's /proc (per-thread schedstat), which this system does not have")
