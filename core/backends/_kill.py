"""Killing a worker process, the whole tree its task started (``poolside.proctree.kill_tree``); its death told.

    kill_worker(process) ──► proctree.kill_tree(pid): its group, it, the tree below it;
                             back once each is dead or a zombie

Used by every backend that owns processes (``poolside.backends.processes``,
``per_item``) and by the parked workers' stop (``_parking``).  No worker
imports this module.
"""

from __future__ import annotations

from typing import Any

from ..proctree import describe_exit, kill_tree
from ._process_main import EXIT_RECURSION_LIMIT

# How long a worker asked to stop may take before it is killed instead.
_STOP_GRACE_S = 2.0


def kill_worker(process: Any) -> None:
    """SIGKILL a worker process and every process its task started, and wait until they are gone.

    The worker leads a process group of its own (``_process_main.lead_own_group``),
    which ``kill_tree`` kills at once.
    """
    pid = getattr(process, "pid", None)
    if pid is None:  # never started: nothing below it
        process.kill()
        return
    kill_tree(pid)


def join_or_kill(processes: list[Any], grace_s: float = _STOP_GRACE_S) -> int:
    """Wait for worker processes asked to stop; kill (with their trees) those still alive after ``grace_s``.

    A library pool's worker that was told to stop ends within milliseconds,
    unless a task left a thread that is not a daemon: Python's exit then waits
    for that thread forever, and so would the pool's ``join``.  Returns how
    many had to be killed.
    """
    import time

    deadline = time.monotonic() + grace_s
    killed = 0
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            kill_worker(process)
            process.join()
            killed += 1
    return killed


def worker_died(code: int | None) -> str:
    """The message of the items a worker took with it: ``worker process died (exit code -9, SIGKILL)``."""
    if code == EXIT_RECURSION_LIMIT:
        return (f"worker process ended ({describe_exit(code)}): a task set the recursion limit "
                "(sys.setrecursionlimit) too low for the worker to go on")
    return f"worker process died ({describe_exit(code)})"
