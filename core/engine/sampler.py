"""A light sampler of the run's process tree: memory now and at its peak, and our own CPU.

No thread of its own: the engine's dispatcher calls :meth:`TreeSampler.tick`
after each poll of the backend (it polls at least every 0.1 s), and ::

    every SAMPLE_S:  RSS of every process in the run's tree -> peak RSS
    on a new peak:   USS of the tree, at most every USS_EVERY_S (it reads
                     /proc/PID/smaps: ~0.3 ms a process)
    at the end:      USS of the tree once more

A thread of its own used to cost every run its start: ~0.2 ms warm, and 1-3 ms
on a cold run, where the new thread waits for a core while the workers being
born hold both (measured on 2 cores), 5-8 % of a 40 ms run.

The tree is this process and every worker process that has reported a
result (the engine passes on the pid each batch carries, :meth:`watch`).
Asking psutil for this process's descendants instead walks every process on
the machine (~6 ms with 130 of them, holding the GIL), which cost a threads
run of 200,000 tiny items a third of its time; and it would count the
forkserver and the resource trackers, which belong to no run.

The parent's CPU time (user and system) is read at the start and at the end,
and so is the whole machine's (how busy other programs kept the cores);
worker processes report their own CPU with their results (a forkserver worker
is not this process's child, and replaced or per-item processes are gone
before any sample could see them), so the sampler does not sum CPU.
"""

from __future__ import annotations

import time
from typing import Any

import psutil

# A tenth of a second: a peak that lasts less is missed, and a sample costs the
# dispatcher ~20 us a process, well under 1 % of a core.
SAMPLE_S = 0.1
USS_EVERY_S = 0.5
# USS is read only once the run is this old.  It costs ~0.3 ms a process
# (/proc/PID/smaps_rollup walks the page tables): 1-2 ms for a parent and two
# workers, which was 4-5 % of a 40 ms sha256 run of 1,000 files and the margin
# by which its cold start lost to Pool.map's.  Past this age it is well under
# 1 %; a shorter run reports its RSS only.
USS_MIN_RUN_S = 0.25


class TreeSampler:
    """Samples the memory of this process and the run's worker processes, when ticked."""

    def __init__(self) -> None:
        self._me = psutil.Process()
        self._procs: dict[int, psutil.Process] = {self._me.pid: self._me}
        self._pids: set[int] = {self._me.pid}  # workers, as their first results arrive
        self._uss_at = -USS_EVERY_S
        self.peak_rss = 0
        self.peak_uss: int | None = None
        self.end_uss: int | None = None
        cpu = self._me.cpu_times()
        self.cpu_start = (cpu.user, cpu.system)
        self._machine_start = _machine_busy()
        #: CPU seconds every program on the machine used from start to end().
        self.machine_cpu_s: float | None = None
        self._began = time.monotonic()
        self._next = self._began + SAMPLE_S

    def watch(self, pid: int | None) -> None:
        """A worker process ran items: count it in the tree (cheap; call per batch)."""
        if pid and pid not in self._pids:
            self._pids.add(pid)

    def _tree(self) -> list[psutil.Process]:
        for pid in list(self._pids):
            if pid not in self._procs:
                try:
                    self._procs[pid] = psutil.Process(pid)
                except psutil.Error:
                    pass
        return list(self._procs.values())

    def tick(self) -> None:
        """Sample if ``SAMPLE_S`` has passed since the last sample (a clock read otherwise)."""
        now = time.monotonic()
        if now >= self._next:
            self._next = now + SAMPLE_S
            self._sample()

    def _sample(self) -> bool:
        """RSS of the tree (and USS on a new peak, if due); whether USS was read."""
        procs = self._tree()
        rss = 0
        for p in procs:
            try:
                rss += p.memory_info().rss
            except psutil.Error:  # it ended (a replaced or per-item process)
                self._procs.pop(p.pid, None)
        if rss > self.peak_rss:
            self.peak_rss = rss
            now = time.monotonic()
            if now - self._uss_at >= USS_EVERY_S and now - self._began >= USS_MIN_RUN_S:
                self._uss_at = now
                self.peak_uss = _uss(procs)
                return True
        return False

    def end(self) -> None:
        """The work is over (before the backend shuts down): take the last sample and the USS now."""
        self.machine_cpu_s = _machine_busy() - self._machine_start
        fresh = self._sample()
        if time.monotonic() - self._began < USS_MIN_RUN_S:
            return  # too short to pay for USS (see USS_MIN_RUN_S): RSS only
        # A peak found by this last sample read the USS just now: it is the end's too.
        self.end_uss = self.peak_uss if fresh else _uss(self._tree())

    def cpu(self) -> tuple[float, float]:
        """This process's user and system CPU seconds since the sampler started."""
        cpu = self._me.cpu_times()
        return cpu.user - self.cpu_start[0], cpu.system - self.cpu_start[1]


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
