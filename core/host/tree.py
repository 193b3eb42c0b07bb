"""A run host's process tree: list it, end it, say how its root ended.

The host leads a process group of its own, so one ``killpg`` reaches it and
everything it started that stayed in the group (workers, forkserver, resource
tracker, a task's children); the tree, listed first, also reaches what left
the group.  psutil is imported only here, when a tree is listed or ended.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from typing import Any, NamedTuple

from ..proctree import Descendants, RunProcesses, classify


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


def descendants(pid: int) -> list[Any]:
    """``psutil.Process`` objects of every process under ``pid`` (none if it is gone)."""
    import psutil

    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


class HostProcesses(NamedTuple):
    """What a run host said about its processes: its pid, its helpers (``Ready``), its run's (``Started``).

    ``ready``: it has said ``Ready``; until then it has started no run, so
    whatever it started is a helper (its zygote, forked while it warms up).
    """

    pid: int
    helpers: tuple[int, ...]
    run: RunProcesses
    ready: bool = True


class HostTree:
    """A pid source for sampling (``poolside.usage.Monitor``): {pid: role} for the host and every process under it.

    ``processes`` gives what the current host said (``HostClient.processes``;
    ``None`` when there is none).  The tree is looked at on every call, for
    the price of listing the pids (see :mod:`poolside.proctree`, which also
    says what each role means): a run's workers count from the first sample
    after their fork.
    """

    def __init__(self, processes: Callable[[], HostProcesses | None]) -> None:
        self._processes = processes
        self._tree: Descendants | None = None

    def __call__(self) -> dict[int, str]:
        said = self._processes()
        if said is None:
            self._tree = None
            return {}
        if self._tree is None or self._tree.root != said.pid:
            self._tree = Descendants(said.pid)
        parents = self._tree.update()
        helpers = said.helpers if said.ready else [p for p, parent in parents.items() if parent == said.pid]
        return classify(said.pid, parents, self._tree.first_seen, helpers, said.run, self._tree.command)


def end_tree(pid: int) -> None:
    """:func:`kill_tree`, then wait until the processes under ``pid`` are gone.

    ``pid`` itself is left for its parent to reap (``Popen.wait``): until
    then its number cannot be reused, so the group it names stays ours.
    """
    wait_dead(kill_tree(pid), timeout=2.0)


def group(pgid: int) -> list[Any]:
    """The processes in process group ``pgid``: orphans too, which no tree shows any more."""
    import psutil

    members = []
    for p in psutil.process_iter():
        try:
            if os.getpgid(p.pid) == pgid:
                members.append(p)
        except (OSError, psutil.Error):
            pass
    return members


def kill_tree(pid: int) -> list[Any]:
    """SIGKILL ``pid``, its process group and every process under it, and return at once (the others).

    Run at a host's end, so the few milliseconds of listing every process
    for its group are paid once.
    """
    import psutil

    procs = {p.pid: p for p in [*descendants(pid), *group(pid)] if p.pid != pid}.values()
    try:
        os.killpg(pid, signal.SIGKILL)  # the group: orphans the tree no longer shows
    except (ProcessLookupError, PermissionError):
        pass
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    for p in procs:
        try:
            p.kill()
        except psutil.Error:
            pass
    return list(procs)


def wait_dead(procs: list[Any], timeout: float) -> None:
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
