"""Killing a worker process: the whole tree its task started, and waiting until it is gone.

    kill_worker(process) ──► the tree below it, listed first (psutil)
                         ──► killpg: the worker's own process group, at once
                         ──► SIGKILL each listed one that left the group
                         ──► wait until each is dead or a zombie (_KILL_WAIT_S)

Used by every backend that owns processes (``poolside.backends.processes``,
``per_item``) and by the parked workers' stop (``_parking``).  No worker
imports this module.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Any

# How long a worker asked to stop may take before it is killed instead.
_STOP_GRACE_S = 2.0


def kill_worker(process: Any) -> None:
    """SIGKILL a worker process and every process its task started.

    The worker leads a process group of its own (``_process_main.lead_own_session``):
    one ``killpg`` reaches the whole group at once, a task's children and
    theirs included, even those already orphaned.  Descendants that left the
    group (a daemon that started its own session) are found in the process
    tree first, while they are still below the worker, and killed too.
    """
    pid = getattr(process, "pid", None)
    if pid is None:  # never started: nothing below it
        process.kill()
        return
    below = _descendants(pid)
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, AttributeError):
        process.kill()  # not a group leader yet (it just started), or no killpg here
    for child in below:
        try:
            if os.getpgid(child.pid) != pid:  # it left the group (a daemon): the killpg missed it
                child.kill()
        except Exception:
            pass  # gone already
    _wait_dead(below)


def _descendants(pid: int) -> list[Any]:
    try:
        import psutil  # the parent has it; workers never import this module

        return psutil.Process(pid).children(recursive=True)
    except Exception:
        return []  # gone, or no process table to read: the group kill is what there is


# SIGKILL is delivered when the killed process next runs; on a loaded machine
# a task's child could still be listed as running for some milliseconds after
# the worker is gone.  The run must not end before its processes have, so the
# kill waits for them (dead or a zombie awaiting its reaper), up to this long.
_KILL_WAIT_S = 1.0


def _wait_dead(procs: list[Any]) -> None:
    if not procs:
        return
    import psutil

    deadline = time.monotonic() + _KILL_WAIT_S
    pending = list(procs)
    while pending and time.monotonic() < deadline:
        alive = []
        for p in pending:
            try:
                if p.status() != psutil.STATUS_ZOMBIE:
                    alive.append(p)
            except psutil.Error:
                pass  # gone
        pending = alive
        if pending:
            time.sleep(0.002)
