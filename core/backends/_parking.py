"""Parked workers: worker processes kept between runs, for the next run to adopt.

    run ends normally ──► ProcessBackend.shutdown() ── _park(proc) ──► _parked[method]
    next run's start() ◄── _unpark(method, count) ◄── (alive ones only) ──┘
    a parked worker ends ◄── IDLE_EXIT_S unused (its own timer, in _worker),
                         ◄── stop_idle_workers(): at exit, or when asked

A run of a few milliseconds of work then does not pay ~20 ms of process
start-up each time.  A cancelled run kills its workers: they are never parked.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
from typing import TYPE_CHECKING

from ..log import get_logger
from ._kill import _STOP_GRACE_S, kill_worker

if TYPE_CHECKING:
    from ._launch import _Proc

# The lines keep the backend's logger name: it is what users filter on.
log = get_logger("poolside.backends.processes")

# How long a parked worker waits for another run before it ends itself: long
# enough for a user who runs, looks, tweaks and runs again; short enough not
# to hold ~20 MB a worker for long after the last run.
IDLE_EXIT_S = 120.0

# Workers between runs, by start method.
_parked: dict[str, list[_Proc]] = {}
_parked_lock = threading.Lock()


def _unpark(method: str, count: int) -> list[_Proc]:
    taken: list[_Proc] = []
    with _parked_lock:
        pool = _parked.get(method, [])
        while pool and len(taken) < count:
            proc = pool.pop()
            if proc.process.is_alive():
                taken.append(proc)
            else:  # it ended itself while parked
                proc.process.join()
                proc.close()
    return taken


def _park(proc: _Proc) -> None:
    with _parked_lock:
        _parked.setdefault(proc.method, []).append(proc)


def parked_count(method: str) -> int:
    """Workers parked for ``method`` (alive or not: adoption checks)."""
    with _parked_lock:
        return len(_parked.get(method, ()))


def parked_pids() -> list[int]:
    """The worker processes waiting for the next run."""
    with _parked_lock:
        return [p.process.pid for pool in _parked.values() for p in pool if p.process.is_alive()]


def release_idle_workers() -> None:
    """Tell every parked worker to end, and return at once; :func:`stop_idle_workers` reaps them.

    For a program that will run nothing more (the CLI after its run): the
    workers end while it writes its summary and exits, instead of one join
    at exit after the other (~3 ms for two, which a one-shot call pays).
    """
    with _parked_lock:
        procs = [p for pool in _parked.values() for p in pool]
        _parked.clear()
        _released.extend(procs)
    for proc in procs:
        proc.tasks.close()  # EOF: the worker ends itself
    if procs:
        log.debug("%d parked workers told to end (reaped at exit)", len(procs))


# Workers told to end by release_idle_workers(), reaped by stop_idle_workers().
_released: list[_Proc] = []


def _forget_in_child() -> None:
    # A forked child (a worker that starts a run of its own) has none of its
    # parent's workers: their Process objects are not its children.
    global _parked_lock
    _parked.clear()
    _released.clear()
    _parked_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)


@atexit.register
def stop_idle_workers() -> None:
    """End every parked worker now, all at once (the window calls this when it quits).

    Every worker is told first and then all are awaited against one deadline,
    so ending N workers takes as long as the slowest, not the sum: ~1.5 ms for
    2 workers, ~12 ms for 16 (measured), and at most ``_STOP_GRACE_S`` for any
    number that do not answer (they are then killed together).
    """
    with _parked_lock:
        procs = [p for pool in _parked.values() for p in pool] + _released
        _parked.clear()
        _released.clear()
    if not procs:
        return
    for proc in procs:
        proc.tasks.close()  # EOF: the worker ends itself (a second close does nothing)
    deadline = time.monotonic() + _STOP_GRACE_S
    for proc in procs:
        proc.process.join(max(0.0, deadline - time.monotonic()))
    stuck = [proc for proc in procs if proc.process.is_alive()]
    for proc in stuck:
        kill_worker(proc.process)
    for proc in procs:
        proc.process.join()
        proc.close()
    log.debug("%d parked workers stopped (%d killed after %g s)", len(procs), len(stuck), _STOP_GRACE_S)
