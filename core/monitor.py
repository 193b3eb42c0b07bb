"""A light sampler of the run's process tree: memory now and at its peak, and our own CPU.

One daemon thread per run::

    every SAMPLE_S:  RSS of every process in the tree (this one, its workers,
                     the forkserver and what it forked) -> peak RSS
    on a new peak:   USS of the tree, at most every USS_EVERY_S (it reads
                     /proc/PID/smaps: ~0.3 ms a process)
    every TREE_S:    who is in the tree (psutil walks every process on the
                     machine for that: ~6 ms with 130 of them, so not often)
    at the end:      USS of the tree once more

The parent's CPU time (user and system) is read at the start and at the end,
and so is the whole machine's (how busy other programs kept the cores);
worker processes report their own CPU with their results (a forkserver worker
is not this process's child, and replaced or per-item processes are gone
before any sample could see them), so the sampler does not sum CPU.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import psutil

# A tenth of a second: a peak that lasts less is missed, and the thread costs
# ~20 us a process a sample, well under 1 % of a core.
SAMPLE_S = 0.1
TREE_S = 1.0
USS_EVERY_S = 0.5


class TreeSampler:
    """Samples the memory of this process and its descendants until stopped."""

    def __init__(self) -> None:
        self._me = psutil.Process()
        self._procs: dict[int, psutil.Process] = {}
        self._tree_at = 0.0
        self._uss_at = -USS_EVERY_S
        self.peak_rss = 0
        self.peak_uss: int | None = None
        self.end_uss: int | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        cpu = self._me.cpu_times()
        self.cpu_start = (cpu.user, cpu.system)
        self._machine_start = _machine_busy()
        #: CPU seconds every program on the machine used from start to end().
        self.machine_cpu_s: float | None = None
        self._thread = threading.Thread(target=self._run, name="poolside-monitor", daemon=True)
        self._thread.start()

    def _tree(self) -> list[psutil.Process]:
        now = time.monotonic()
        if now - self._tree_at >= TREE_S:
            self._tree_at = now
            try:
                found = [self._me, *self._me.children(recursive=True)]
            except psutil.Error:
                found = [self._me]
            # Keep the objects already known: psutil checks a pid was not reused through them.
            self._procs = {p.pid: self._procs.get(p.pid, p) for p in found}
        return list(self._procs.values())

    def _run(self) -> None:
        while True:
            self.sample()
            if self._stop.wait(SAMPLE_S):
                return

    def sample(self) -> None:
        with self._lock:
            procs = self._tree()
            rss = 0
            for p in procs:
                try:
                    rss += p.memory_info().rss
                except psutil.Error:
                    self._procs.pop(p.pid, None)
            if rss > self.peak_rss:
                self.peak_rss = rss
                now = time.monotonic()
                if now - self._uss_at >= USS_EVERY_S:
                    self._uss_at = now
                    self.peak_uss = _uss(procs)

    def end(self) -> None:
        """The work is over (before the backend shuts down): take the last sample and the USS now."""
        self._stop.set()
        self._thread.join()
        self.machine_cpu_s = _machine_busy() - self._machine_start
        self._tree_at = 0.0  # see the tree as it is now
        self.sample()
        with self._lock:
            self.end_uss = _uss(self._tree())

    def cpu(self) -> tuple[float, float]:
        """This process's user and system CPU seconds since the sampler started."""
        cpu = self._me.cpu_times()
        return cpu.user - self.cpu_start[0], cpu.system - self.cpu_start[1]

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join()


def _machine_busy() -> float:
    """CPU seconds the whole machine has been busy (guest time is inside user time)."""
    t = psutil.cpu_times()
    return t.user + t.system + getattr(t, "nice", 0.0) + getattr(t, "irq", 0.0) + \
        getattr(t, "softirq", 0.0) + getattr(t, "steal", 0.0)


def _uss(procs: list[Any]) -> int | None:
    total = 0
    for p in procs:
        try:
            total += p.memory_full_info().uss
        except psutil.AccessDenied:
            return None  # not ours to read (another user's process): say nothing rather than less
        except psutil.Error:
            pass
    return total
