"""A per-worker memory cap: a worker process that holds more than the cap is killed, and its item told why.

    MemoryCap thread, every EVERY_S:
        backend.pids() ─► RSS of each (cheap) ─ above the cap? ─► USS (what it alone holds)
                                                                  └─ above the cap ─► kill_tree(pid),
                                                                     remember {pid: USS}
    the backend's worker-death path (poll sees the dead worker)
        ─► died(pid, exit code) ─► "used 1.3 GB, above the 1 GB cap" (MemoryCap), else "worker process died"

The backend then does what it does for any dead worker: the item it was
running ends ``failed`` with that message, the items it held are handed back,
and a new worker takes its place, so the rest of the run goes on
(``processes``, ``process-per-item``; ``mp-pool`` replaces the worker itself
and fails the call it lost, a whole chunk with ``chunk_size`` above 1).
``ProcessPoolExecutor`` and joblib's loky break or restart the whole pool on a
killed worker, and threads cannot be killed: they take no cap.

What is capped is the USS of the worker process: the pages it alone holds.
Its RSS also counts the pages a forked worker shares with its parent (the
imports the zygote loaded), which would charge every worker for the parent's
memory.  RSS is read first because it is cheap (~30 µs a process) and never
below the USS: only a worker whose RSS is above the cap has its USS read
(``/proc/PID/smaps_rollup``, 0.3-0.5 ms).  The processes a task started itself
are not counted (listing them each tick would cost more than the check); they
die with their worker.

The check runs in its own thread of the process that owns the workers, not
in the workers (as loky's memory-leak check does between tasks): a worker
busy in one item that keeps growing would never reach the check.  A worker
that allocates faster than one tick can overshoot the cap by that much (or
meet the kernel's OOM killer first, which ends its item as a plain death).

pebble and loky were weighed: pebble has no cap (its maintainer declined
one), loky recycles workers above a fixed ~300 MB between tasks only; neither
can say which item was running.  psutil reads the memory, as everywhere in
Poolside (``poolside.proctree``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from ..log import get_logger
from ..proctree import kill_tree
from ..records import ErrorInfo
from ..words.memory import above_cap
from ._kill import worker_died

log = get_logger(__name__)

#: How often the workers' memory is read.  8 workers' RSS every 50 ms is ~0.5 % of a
#: core (30 µs each, measured on this 2-core VM); a worker growing by 1 GB/s overshoots
#: the cap by ~50 MB before it is seen.
EVERY_S = 0.05

#: The error type of an item whose worker went above the cap.
MEMORY_CAP = "MemoryCap"


class MemoryCap:
    """Kills a worker process whose USS goes above ``cap`` bytes; tells the death path why.

    ``pids()``: the worker processes alive now (called from the cap's thread;
    it must be thread-safe).  ``start()`` after the first workers are started
    (never fork with this thread running), ``stop()`` before the backend's
    shutdown returns: no thread outlives its run.
    """

    def __init__(self, cap: int, pids: Callable[[], Iterable[int]], *, every_s: float = EVERY_S) -> None:
        if cap <= 0:
            raise ValueError(f"a memory cap must be above 0 bytes, got {cap!r}")
        self.cap = cap
        self._pids = pids
        self._every_s = every_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._procs: dict[int, Any] = {}  # pid -> psutil.Process, kept: creating one reads /proc
        self._killed: dict[int, int] = {}  # pid -> its USS when it was killed
        self._unreadable: set[int] = set()  # not ours to read: said once, then left alone
        self._lock = threading.Lock()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._watch, name="poolside-memcap", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def died(self, pid: int | None, code: int | None) -> ErrorInfo:
        """The error for the item of a worker that died: above the cap if this killed it, else a plain death."""
        reason = self.reason(pid)
        return ErrorInfo("WorkerDied", worker_died(code)) if reason is None else ErrorInfo(MEMORY_CAP, reason)

    def reason(self, pid: int | None) -> str | None:
        """``"used 1.3 GB, above the 1 GB cap"`` if this cap killed ``pid`` (said once), else ``None``."""
        with self._lock:
            used = self._killed.pop(pid, None) if pid is not None else None
        return None if used is None else above_cap(used, self.cap)

    def check(self) -> list[int]:
        """One look at every worker: kill those above the cap; the pids killed."""
        import psutil

        killed = []
        alive = set()
        for pid in list(self._pids()):
            alive.add(pid)
            if pid in self._unreadable:
                continue
            try:
                proc = self._procs.get(pid) or self._procs.setdefault(pid, psutil.Process(pid))
                if proc.memory_info().rss <= self.cap:
                    continue
                uss = proc.memory_full_info().uss
            except psutil.AccessDenied as e:  # not ours to read: the cap cannot hold, say so once
                log.warning("memory cap: cannot read worker process %d's memory (%s); it is not capped", pid, e)
                self._unreadable.add(pid)
                continue
            except psutil.Error:
                continue  # it ended: the death path has it
            if uss > self.cap:
                with self._lock:
                    self._killed[pid] = uss
                log.info("worker process %d killed: %s", pid, above_cap(uss, self.cap))
                kill_tree(pid)
                killed.append(pid)
        for pid in [p for p in self._procs if p not in alive]:
            del self._procs[pid]
        self._unreadable &= alive
        return killed

    def _watch(self) -> None:
        while not self._stop.wait(self._every_s):
            try:
                self.check()
            except Exception as e:  # a cap that stops checking must say so, not go quiet
                log.error("memory cap: the check failed and stops: %s", e, exc_info=True)
                return


def memory_cap(cap: int | None, pids: Callable[[], Iterable[int]]) -> MemoryCap | None:
    """A :class:`MemoryCap` when a cap was asked for (``None``: none)."""
    return None if cap is None else MemoryCap(cap, pids)


def died(cap: MemoryCap | None, pid: int | None, code: int | None) -> ErrorInfo:
    """The dead worker's error, with or without a cap (the one call in a backend's death path)."""
    return cap.died(pid, code) if cap is not None else ErrorInfo("WorkerDied", worker_died(code))
