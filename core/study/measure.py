"""One engine run of the sample, measured: the only place a study touches the engine.

    measure(task, sample, config) ──poolside.run(...)──► outcomes (counted, item times summed)
                                 ──summary──► insights(summary) ──► RunNumbers
                                 (start-up, the tree's CPU, peak memory, the GIL signal:
                                  the engine's run insights)

:func:`insights` is the single adapter between the engine's run insights and
the study: only this function reads them.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from ..backends import runs_in_caller
from .plan import Config
from .record import RunNumbers


def insights(summary: Any) -> dict[str, Any]:
    """The run insights a study uses, read from ``summary.insights`` when the engine has them.

    Keys returned (any may be missing): ``startup_s``, ``peak_mb``, ``cpu_s``
    (of the whole process tree), ``gil`` (bool), ``parent_mb`` and ``worker_mb``
    (the largest USS of the parent and of one worker process).  Nothing else in the study
    reads insights (``poolside.engine.insights.Insights``).
    """
    raw = getattr(summary, "insights", None)
    if raw is None:
        return {}
    found = {"startup_s": raw.startup_s, "cpu_s": raw.cpu_s, "gil": raw.gil_bound,
             "peak_mb": raw.peak_rss_bytes / 1e6 if raw.peak_rss_bytes else None,
             "parent_mb": raw.parent_uss_bytes / 1e6 if raw.parent_uss_bytes else None,
             "worker_mb": raw.worker_uss_bytes / 1e6 if raw.worker_uss_bytes else None}
    return {k: v for k, v in found.items() if v is not None}


_SCHEDSTAT = "/proc/thread-self/schedstat"
_sched_ok: list[bool] = []


def sched_clocks() -> tuple[float, float] | None:
    """(seconds on a CPU, seconds runnable but waiting for one) of the calling thread; None off Linux.

    The second number is what tells a starved thread from a blocked one: on a
    shared machine a CPU-bound thread waits on the run queue, while a thread
    waiting for the GIL, the disk or a sleep is not runnable at all.
    """
    if _sched_ok and not _sched_ok[0]:
        return None
    try:
        fd = os.open(_SCHEDSTAT, os.O_RDONLY)
        try:
            fields = os.read(fd, 128).split()
        finally:
            os.close(fd)
        clocks = int(fields[0]) / 1e9, int(fields[1]) / 1e9
    except (OSError, ValueError, IndexError):
        _sched_ok[:] = [False]
        return None
    _sched_ok[:] = [True]
    return clocks


# Whether a backend runs items on threads of this process (where the GIL is shared): the
# study measures such backends' busy threads against the cores the process used.
in_process = runs_in_caller


class Current:
    """The job running now, so that a cancel from another thread reaches it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._job: Any = None
        self.cancelled = False

    def set(self, job: Any) -> None:
        with self._lock:
            self._job = job
            if self.cancelled and job is not None:
                job.cancel()

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
            if self._job is not None:
                self._job.cancel()


def measure(task: Callable[[Any], Any], sample: Sequence[Any], config: Config, *, timeout: float | None,
            current: Current, backend_options: dict[str, Any] | None = None) -> RunNumbers:
    """Run ``sample`` once under ``config`` and return what it cost.

    ``gil`` is the engine's own signal (``Insights.gil_bound``, thresholds in
    ``poolside.engine.insights``); it is set for the backends whose workers are
    threads of this process, and ``None`` for the others.
    """
    from ..engine.job import run

    busy = [0.0]
    first_start: list[float] = []

    def take(batch: list) -> None:
        busy[0] += sum(o.elapsed_s for o in batch)
        starts = [o.started_s for o in batch if o.started_s is not None]
        if starts:
            first_start.append(min(starts))

    options: dict[str, Any] = {}
    if config.library_threads is not None:
        options["library_threads"] = config.library_threads
    if backend_options or config.method is not None:
        options["backend_options"] = {**(backend_options or {}),
                                      **({"method": config.method} if config.method is not None else {})}
    job = run(task, sample, backend=config.backend, workers=config.workers, timeout=timeout,
              chunk_size=config.chunk_size, on_outcomes=take, **options)
    current.set(job)
    try:
        job.wait()
    finally:
        current.set(None)
    summary = job.summary
    found = insights(summary)
    numbers = RunNumbers(summary.wall_s, found.get("cpu_s", summary.cpu_s), busy[0], dict(summary.counts),
                         found.get("startup_s", min(first_start) if first_start else None),
                         found.get("peak_mb"), parent_mb=found.get("parent_mb"), worker_mb=found.get("worker_mb"))
    if "gil" in found:
        numbers.gil = bool(found["gil"])
    return numbers


class Handoff:
    """What handing items and results to a worker process would move: pickled bytes and the time to pickle.

    The sampling pass adds each item and its result; a value that cannot be
    pickled (only in-process backends can run such a task) is left out and logged once.
    """

    def __init__(self) -> None:
        self.bytes = 0
        self.seconds = 0.0
        self.items = 0
        self._warned = False

    @property
    def per_item(self) -> tuple[float, float]:
        """(bytes, seconds) per item added."""
        return (self.bytes / self.items, self.seconds / self.items) if self.items else (0.0, 0.0)

    def add(self, item: Any, value: Any) -> None:
        import pickle

        start = time.perf_counter()
        self.items += 1
        try:
            for obj in (item, value):
                data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
                pickle.loads(data)
                self.bytes += len(data)
        except Exception as e:  # an unpicklable value: the process backends report it as the run's error
            if not self._warned:
                from ..log import get_logger

                get_logger(__name__).info("the hand-off cost is not measured: %s", e)
                self._warned = True
        self.seconds += time.perf_counter() - start


# Threads in the GIL probe.  Held by the GIL, N threads each run ~1/N of the time
# they could; four separate that from free-running C code on any core count.
# Measured on 2 cores at load 6-7, pure-Python loop vs hashlib over 4 MB:
# 2 threads 0.39-0.60 vs 0.98-1.0; 4 threads 0.19-0.27 vs 0.89-0.98.
GIL_PROBE_THREADS = 4


def gil_probe(task: Callable[[Any], Any], items: Sequence[Any], current: Current,
              threads: int = GIL_PROBE_THREADS) -> float | None:
    """On-CPU share of runnable time when ``threads`` plain threads run ``items``: ~1 free, ~1/threads held.

    Plain threads, not an engine run: the engine's own Python (the dispatcher,
    the flusher) competes for the GIL and would blur the signal (measured, per
    item: a GIL-free hashlib task read 0.96-0.99 on plain threads, 0.75-0.8
    through the engine).
    Each thread reads its clocks (/proc/thread-self/schedstat, ~5 us) at its
    start and end; a machine busy with other programs does not count, since
    their time shows as run-queue wait.  None off Linux.
    """
    if sched_clocks() is None or not items:
        return None
    feed = iter(items)
    lock = threading.Lock()
    totals: list[tuple[float, float]] = []  # per thread: (on-CPU s, runnable s)

    def work() -> None:
        # Clocked per thread, not per item: a GIL wait between two items counts too.
        start, before = time.perf_counter(), sched_clocks()
        while not current.cancelled:
            with lock:
                item = next(feed, _END)
            if item is _END:
                break
            try:
                task(item)
            except Exception:  # a failing item is workload too: its outcome shows in the timed runs
                pass
        after, wall = sched_clocks(), time.perf_counter() - start
        if before is not None and after is not None:
            totals.append((after[0] - before[0], wall - (after[1] - before[1])))

    pool = [threading.Thread(target=work, name="poolside-study-gil", daemon=True) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    runnable = sum(r for _, r in totals)
    return sum(c for c, _ in totals) / runnable if runnable > 0 else None


_END = object()
