"""Where a run's time went: plain numbers that the engine measures and the views explain.

The engine feeds an :class:`InsightsRecorder` as it goes (O(1) per batch of
results, never per item) and a :class:`~poolside.engine.sampler.TreeSampler` samples
the run's tree's memory; at the end, :meth:`InsightsRecorder.finish` makes
the :class:`Insights` that the run's ``Summary`` carries::

    Done / Lost batches --> recorder: per worker items and busy time,
                            first start, last end, worker-reported CPU
    chunks read ---------> recorder: chunk sizes
    first outcome out ---> recorder: time to first outcome
    TreeSampler ---------> peak RSS, USS at the peak and at the end, our CPU
                                   \\
                                    --> Insights (numbers only; the CLI and
                                        the window turn them into words)

Definitions, so that every view says the same thing:

* ``busy_share`` = the workers' summed item time / (workers x wall): how much
  of the time the workers had, they spent inside the task.
* ``cpu_utilisation`` = the process tree's CPU / (wall x usable cores).
* ``busy_threads`` = summed item time / wall: how many workers were inside the
  task at once, on average.  ``process_cores`` = this process's CPU / wall.
* ``free_cores`` = usable cores minus what other programs on the machine
  used meanwhile (at least a tenth of one): what the run could have had.
* ``task_cores`` (in-process backends) = the CPU time the worker threads
  spent inside items (each thread's own ``thread_time``) / wall.  Unlike the
  process's CPU, it leaves out the engine, the sampler and the caller, so a
  run of sleeping threads reads ~0 however busy the rest of the process was.
* ``gil_bound`` (in-process backends only): two or more threads were busy
  while their items used at most about one core between them, and computed
  while busy (on a machine busy with other work, a GIL-bound process gets
  less than one core).  Threads that sleep are busy with almost no CPU of
  their own; that is waiting, not the GIL.
  With less than 1.5 cores free, threads that release the GIL could not have
  used more than one core either: there the signal says only that the run
  used one core's worth, as a GIL-bound run does (``free_cores`` tells).
* ``peak_rss_bytes`` is *the* run's peak memory, which the CLI, the history
  and the window all report: the largest RSS summed over the run's tree at one
  sample; ``peak_uss_bytes`` the tree's USS at that sample (see
  :mod:`poolside.proctree` for the tree and for when USS is read).
* ``overhead_per_item_s`` = (wall - summed item time / workers) / items:
  what the run cost beyond the items' own time if it had been spread evenly,
  per item (start-up, hand-over, results, the tail).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..records import Record

# The GIL signal (these thresholds are the one copy; the study reads the
# engine's ``gil_bound``): at least this many threads busy on average, halfway
# between one thread and two, because one thread cannot contend for the GIL.
# Measured on 2 cores at load 3 (threads over 80 pure-Python items): one worker
# read 0.88-0.96 busy threads, two 1.78-1.91, four and eight 3.3-7.3 ...
GIL_MIN_BUSY_THREADS = 1.5
# ... while their items used at most about one core: in the same runs, 2-8
# GIL-bound threads used 0.52-0.96 cores (the GIL lets one run at a time); the
# margin up to 1.4 absorbs the hand-over's own CPU and the clocks' granularity,
# and stays below the 2 cores that two threads free of the GIL use ...
GIL_MAX_CORES = 1.4
# ... and clearly computed: the items' own threads used at least this many
# cores.  Sleeping threads use ~0.01 (measured: 8 threads in 50 ms sleeps,
# 0.003-0.013 with the machine idle or at load 10); GIL-bound threads use
# ~0.9-1.0 on a quiet machine and, measured at load 10 on 2 cores, no less
# than 0.2 (the GIL hand-over waits for the OS to run the next thread).  The
# process's own CPU was the first measure tried: on a loaded machine the
# engine's and the sampler's share of it made 8 sleeping threads look busy.
GIL_MIN_TASK_CORES = 0.05
# ... and clearly less than the busy threads could have used on free cores
# (which can only be seen with this many cores free).
GIL_MAX_CORES_PER_THREAD = 0.75
GIL_CLEAR_FREE_CORES = 1.5
# Fewer free cores than this are counted as this many: a machine that busy
# says little either way.
MIN_FREE_CORES = 0.1


class WorkerInsight(Record):
    """One worker slot over the run."""

    worker: int
    items: int = 0
    busy_s: float = 0.0  #: summed item time
    idle_s: float = 0.0  #: wall minus busy
    share: float = 0.0  #: busy / wall


class Insights(Record):
    """Where a finished run's time and memory went.  Seconds, bytes, fractions of 1."""

    _factories = {"per_worker": list}

    wall_s: float
    workers: int
    cores: int
    in_process: bool  #: the workers are threads of this process (threads, async kinds)
    items: int
    cpu_user_s: float  #: this process, user
    cpu_system_s: float  #: this process, system
    cpu_workers_s: float  #: what worker processes reported (user + system); 0 for in-process
    peak_rss_bytes: int  #: the run's peak memory (see the module's docstring)
    peak_uss_bytes: int | None  #: None on runs shorter than proctree.USS_MIN_RUN_S (RSS only)
    end_uss_bytes: int | None
    startup_s: float | None  #: run start to the first item started
    first_outcome_s: float | None  #: run start to the first outcome delivered
    drain_s: float | None  #: the last item finished to run end
    busy_s: float  #: summed item time
    busy_share: float
    cpu_utilisation: float
    busy_threads: float
    process_cores: float
    free_cores: float
    task_cores: float  #: in-process: the worker threads' own CPU in items / wall (0 for processes)
    gil_bound: bool | None  #: ``None`` for backends whose workers are processes
    chunk_min: int | None
    chunk_median: float | None
    chunk_max: int | None
    overhead_per_item_s: float | None
    per_worker: list[WorkerInsight]
    #: The largest USS of the process that ran the job, and of any one process under it
    #: (a worker; ``None`` on in-process backends or unread), at the sampler's USS reads.
    parent_uss_bytes: int | None = None
    worker_uss_bytes: int | None = None

    @property
    def cpu_s(self) -> float:
        """CPU time of the whole process tree."""
        return self.cpu_user_s + self.cpu_system_s + self.cpu_workers_s


class InsightsRecorder:
    """Accumulates a run's measurements; touched only by the engine's thread."""

    def __init__(self, workers: int, cores: int, in_process: bool, sampler: Any) -> None:
        self.workers = workers
        self.cores = cores
        self.in_process = in_process
        self.sampler = sampler
        self._busy: dict[int, list[float]] = {}  # worker -> [items, busy seconds]
        self._first_start: float | None = None
        self._last_end: float | None = None
        self._first_outcome: float | None = None
        self._worker_cpu = 0.0
        self._task_cpu = 0.0  # in-process: the worker threads' own CPU inside items
        self.chunks: Counter[int] = Counter()
        #: The library's own chunk sizes, when the backend batches items itself.
        self.library_chunks: tuple[int, ...] | None = None

    def ran(self, worker: Any, n: int, busy_s: float, first_start: float, last_end: float,
            cpu_s: float, pid: int | None) -> None:
        """``n`` items ran on ``worker`` (process ``pid``) between ``first_start`` and ``last_end``."""
        self.sampler.watch(pid)
        if isinstance(worker, int) and worker >= 0:
            entry = self._busy.get(worker)
            if entry is None:
                entry = self._busy[worker] = [0, 0.0]
            entry[0] += n
            entry[1] += busy_s
        if self._first_start is None or first_start < self._first_start:
            self._first_start = first_start
        if self._last_end is None or last_end > self._last_end:
            self._last_end = last_end
        if self.in_process:
            self._task_cpu += cpu_s
        else:
            self._worker_cpu += cpu_s

    def outcome_out(self, at_s: float) -> None:
        if self._first_outcome is None:
            self._first_outcome = at_s

    def finish(self, wall_s: float, items: int) -> Insights:
        user, system = self.sampler.cpu()
        busy = sum(b for _, b in self._busy.values())
        wall = wall_s if wall_s > 0 else float("nan")
        busy_threads = busy / wall if wall_s > 0 else 0.0
        process_cores = (user + system) / wall if wall_s > 0 else 0.0
        task_cores = self._task_cpu / wall if wall_s > 0 else 0.0
        tree_cpu = user + system + self._worker_cpu
        machine = self.sampler.machine_cpu_s
        others = 0.0 if machine is None else max(0.0, machine - tree_cpu)
        free = max(MIN_FREE_CORES, self.cores - others / wall) if wall_s > 0 else float(self.cores)
        sizes = self.library_chunks or tuple(self.chunks.elements())
        parent_uss, worker_uss = self.sampler.uss_split()
        return Insights(
            wall_s=wall_s, workers=self.workers, cores=self.cores, in_process=self.in_process,
            items=items, cpu_user_s=user, cpu_system_s=system, cpu_workers_s=self._worker_cpu,
            peak_rss_bytes=self.sampler.peak_rss, peak_uss_bytes=self.sampler.peak_uss,
            end_uss_bytes=self.sampler.end_uss,
            parent_uss_bytes=parent_uss, worker_uss_bytes=worker_uss,
            startup_s=self._first_start,
            first_outcome_s=self._first_outcome,
            drain_s=None if self._last_end is None else max(0.0, wall_s - self._last_end),
            busy_s=busy,
            busy_share=busy / (self.workers * wall) if wall_s > 0 else 0.0,
            cpu_utilisation=tree_cpu / (wall * self.cores) if wall_s > 0 else 0.0,
            busy_threads=busy_threads, process_cores=process_cores, free_cores=free, task_cores=task_cores,
            gil_bound=_gil_bound(busy_threads, task_cores, free) if self.in_process else None,
            chunk_min=min(sizes) if sizes else None,
            chunk_median=_median(sizes) if sizes else None,
            chunk_max=max(sizes) if sizes else None,
            overhead_per_item_s=(max(0.0, wall_s - busy / self.workers) / items) if items else None,
            per_worker=[WorkerInsight(w, int(n), b, max(0.0, wall_s - b), b / wall if wall_s > 0 else 0.0)
                        for w, (n, b) in sorted(self._busy.items())],
        )


def _median(values: tuple[int, ...]) -> float:
    """``statistics.median``, without its import (fractions, decimal: ~5 ms a run would pay up front)."""
    ordered = sorted(values)
    mid = len(ordered) // 2
    return float(ordered[mid]) if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _gil_bound(busy_threads: float, task_cores: float, free_cores: float) -> bool:
    """Two or more threads busy while their items used about one core (see the module docstring)."""
    if busy_threads < GIL_MIN_BUSY_THREADS:
        return False
    if task_cores > GIL_MAX_CORES or task_cores < GIL_MIN_TASK_CORES:
        return False
    if free_cores < GIL_CLEAR_FREE_CORES:
        # No second core was free: threads that release the GIL could not have
        # shown it either.  One core's worth is what a GIL-bound run uses.
        return True
    return task_cores < GIL_MAX_CORES_PER_THREAD * min(busy_threads, free_cores)
