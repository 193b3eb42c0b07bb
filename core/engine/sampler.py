"""The run's peak memory and CPU totals, measured where the job runs: the figure every view reports.

No thread of its own: the engine's dispatcher calls :meth:`TreeSampler.tick`
after each poll of the backend (it polls at least every 0.1 s), and ::

    at the start:    look at this process's tree (proctree.own_tree: the pids new
                     since the last look), so what was there before is not the run's
    every SAMPLE_S:  the run's tree (proctree.RUN_ROLES) -> summed RSS -> PeakMemory
                     (USS on a new peak, when proctree.uss_due)
    at the end:      the last sample, and the tree's USS once more

A process with no child at all (``childless``: one system call) is its own
whole tree, the usual case on threads: then no look at the tree is needed.

What the run's tree is and what its peak memory means are
:mod:`poolside.proctree`'s (its docstring): the process that runs the job, the
workers that this run started or adopted (``watch``: the pid each batch of
results carries) and what their tasks started; not the helpers (zygote,
forkserver) nor the parked workers.  ``usage.Monitor`` samples the same tree
with the same USS policy for the window's and ``--trace``'s graphs, and takes
this sampler's peak (``Insights.peak_rss_bytes``) as the run's when it ends.

The parent's CPU time (user and system) is read at the start and at the end,
and so is the whole machine's (how busy other programs kept the cores,
``proctree.machine_busy_s``); worker processes report their own CPU with their
results (a forkserver worker is not this process's child, and replaced or
per-item processes are gone before any sample could see them), so the sampler
does not sum CPU.
"""

from __future__ import annotations

import os
import sys
import time
from typing import TYPE_CHECKING

from .. import proctree
from ..proctree import RUN_ROLES, USS_MIN_RUN_S, PeakMemory, RunProcesses, machine_busy_s, own_tree, read_uss

if TYPE_CHECKING:
    import psutil

# A tenth of a second: a peak that lasts less is missed.  A sample costs the dispatcher
# ~0.1 ms (the pids new since the last look, then ~15 us a process), ~0.1 % of a core.
SAMPLE_S = 0.1

# USS_MIN_RUN_S: proctree's, named here too for the CLI's words.
__all__ = ["SAMPLE_S", "USS_MIN_RUN_S", "TreeSampler"]

def childless() -> bool:
    """Whether this process has no child process now: then its tree is itself alone.

    One system call, where a look at the tree lists every process on the
    machine (psutil.pids(), ~0.15-0.5 ms): a run on threads looks twice, at
    its start and its end, ~1 % of a 40 ms run.  ``waitid`` with ``WNOWAIT``
    reaps nothing; it fails with ECHILD only when there is no child at all.
    """
    try:
        os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return True
    except (AttributeError, OSError):  # no waitid (Windows): look at the tree
        return False
    return False


class TreeSampler:
    """Samples the memory of the run's tree (see the module's docstring), when ticked."""

    def __init__(self) -> None:
        import psutil  # at the first run, not at `from poolside import run`

        self._psutil = psutil
        self._me = psutil.Process()
        self._tree = own_tree()
        if not childless():
            self._tree.update()  # what is under this process already is not this run's (parked, helpers)
        self._procs: dict[int, psutil.Process] = {self._me.pid: self._me}
        self._workers: set[int] = set()  # as their first results arrive
        cpu = self._me.cpu_times()
        self.cpu_start = (cpu.user, cpu.system)
        self._machine_start = machine_busy_s()
        #: CPU seconds every program on the machine used from start to end().
        self.machine_cpu_s: float | None = None
        self._began = time.perf_counter()
        self._memory = PeakMemory(self._began)
        self.end_uss: int | None = None
        self._next = self._began + SAMPLE_S

    @property
    def peak_rss(self) -> int:
        """The run's peak memory: the largest summed RSS of its tree at one sample (bytes)."""
        return self._memory.peak_rss

    @property
    def peak_uss(self) -> int | None:
        """The tree's USS at that peak (``None``: not read; the run was shorter than USS_MIN_RUN_S)."""
        return self._memory.peak_uss

    def watch(self, pid: int | None) -> None:
        """A worker process ran items: one of this run's (cheap; call per batch)."""
        if pid and pid not in self._workers:
            self._workers.add(pid)

    def tick(self) -> None:
        """Sample if ``SAMPLE_S`` has passed since the last sample (a clock read otherwise)."""
        now = time.perf_counter()
        if now >= self._next:
            self._next = now + SAMPLE_S
            self._sample(now)

    def _run_tree(self) -> list[psutil.Process]:
        if childless():  # the usual threads run: this process is the whole tree
            return [self._me]
        # The zygote, if this process has one: only a process that imported the backend can.
        launch = sys.modules.get(__name__.split(".")[0] + ".backends._launch")
        helpers = launch.helper_pids() if launch is not None else ()
        roles = self._tree.roles(helpers, RunProcesses(self._began, tuple(self._workers) or None))
        for pid in [p for p in self._procs if p not in roles]:
            del self._procs[pid]  # ended
        procs = []
        for pid, role in roles.items():
            if role in RUN_ROLES:
                proc = self._procs.get(pid)
                if proc is None:
                    try:
                        proc = self._procs[pid] = self._psutil.Process(pid)
                    except self._psutil.Error:
                        continue  # ended since the look
                procs.append(proc)
        return procs

    def _sample(self, now: float) -> bool:
        """RSS of the tree (and USS on a new peak, if due); whether USS was read."""
        procs = self._run_tree()
        rss = 0
        for p in procs:
            try:
                rss += p.memory_info().rss
            except self._psutil.Error:  # it ended (a replaced or per-item process)
                self._procs.pop(p.pid, None)
        read = self._memory.uss_read_at
        self._memory.add(now, rss, lambda: read_uss(procs))
        return self._memory.uss_read_at != read

    def end(self) -> None:
        """The work is over (before the backend shuts down): take the last sample and the USS now."""
        self.machine_cpu_s = machine_busy_s() - self._machine_start
        now = time.perf_counter()
        fresh = self._sample(now)
        if now - self._began < proctree.USS_MIN_RUN_S:
            return  # too short to pay for USS (see proctree.USS_MIN_RUN_S): RSS only
        # A peak found by this last sample read the USS just now: it is the end's too.
        if fresh:
            self.end_uss = self.peak_uss
        else:
            uss = read_uss(self._run_tree())
            self.end_uss = None if uss is None else sum(uss.values())
            self._memory.note_uss(uss)

    def uss_split(self) -> tuple[int | None, int | None]:
        """(this process's largest USS, the largest of any one process under it: a worker's), at the reads."""
        return self._memory.split(self._me.pid)

    def cpu(self) -> tuple[float, float]:
        """This process's user and system CPU seconds since the sampler started."""
        cpu = self._me.cpu_times()
        return cpu.user - self.cpu_start[0], cpu.system - self.cpu_start[1]
