"""What kind of work the task is, from the study's measurements, with the numbers that show it.

    sampling pass (sequential, this thread):
        time per item ─────────────── tiny (< 200 us) ....................... overhead
        CPU / runnable time ───────── < 0.5 ................................. waiting
    GIL probe (4 plain threads, per item):
        CPU / runnable time ───────── well below the sequential ratio ....... cpu-gil
                                      about the same (threads run freely) ... cpu-parallel
    no probe (not Linux): threads' cores used against processes' ........... cpu-gil / cpu-parallel
    anything else ........................................................... mixed

"Runnable time" is wall time minus the time a thread sat on the run queue
(Linux's per-thread schedstat).  That makes the diagnosis hold on a shared,
busy machine: a CPU-bound thread starved by other programs waits *runnable*,
while a thread waiting for the GIL, a disk or a sleep is not runnable at all.
Where schedstat is missing (macOS, Windows) the fallback compares the cores
threads used with the cores processes used in the same study.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .plan import Nature
from .record import ConfigResult, Diagnosis

# Threads are "held" when their on-CPU share of runnable time falls below this
# fraction of the sequential one, and run "freely" above the second.  Four
# threads sharing one GIL read ~1/4 (measured 0.19-0.27 for a pure-Python loop
# on a 2-core machine at load 6-7), a hashlib task that releases it 0.89-0.98;
# between the lines the task holds the GIL part of the time (image decoding
# with Python around it): mixed.
GIL_HELD_BELOW = 0.5
GIL_FREE_ABOVE = 0.7
# Fallback without schedstat: threads used at most this many cores while
# processes, in the same study, used this much more.
GIL_MAX_CORES = 1.25
GIL_PROCESS_GAIN = 1.3


def diagnose(configs: Sequence[ConfigResult], cores: int, sequential: Nature,
             oncpu: float | None = None) -> Diagnosis:
    """``oncpu``: the GIL probe's on-CPU share of runnable time (None where it could not run)."""
    evidence: dict[str, Any] = {
        "baseline_cpu_ratio": round(sequential.cpu_ratio, 3),
        "item_ms": round(sequential.item_s * 1000, 4),
        "cores": cores,
    }
    parallel = [c for c in configs if c.runs and not c.config.sequential]
    threads = _best(parallel, in_process=True)
    procs = _best(parallel, in_process=False)
    if threads is not None:
        evidence.update(threads_workers=threads.config.workers, threads_speedup=round(threads.speedup, 3),
                        threads_cores=round(threads.cores_used, 3), threads_busy=round(threads.busy_workers, 2))
    if oncpu is not None:
        evidence["threads_oncpu"] = round(oncpu, 3)
    if procs is not None:
        evidence.update(processes_workers=procs.config.workers, processes_speedup=round(procs.speedup, 3),
                        processes_cores=round(procs.cores_used, 3))
    best = max(parallel, key=lambda c: c.speedup, default=None)
    if best is not None:
        evidence.update(best_speedup=round(best.speedup, 3), best_workers=best.config.workers)
    return Diagnosis(_kind(sequential, oncpu, threads, procs), evidence)


def _kind(sequential: Nature, oncpu: float | None, threads: ConfigResult | None,
          procs: ConfigResult | None) -> str:
    if sequential.tiny:
        return "overhead"
    if sequential.waiting:
        return "waiting"
    if oncpu is not None:
        if oncpu < GIL_HELD_BELOW * sequential.cpu_ratio:
            return "cpu-gil"
        return "cpu-parallel" if oncpu > GIL_FREE_ABOVE * sequential.cpu_ratio else "mixed"
    if threads is None:
        return "mixed"
    if threads.cores_used <= GIL_MAX_CORES and procs is not None \
            and procs.cores_used >= GIL_PROCESS_GAIN * threads.cores_used:
        return "cpu-gil"
    if procs is not None and threads.cores_used >= procs.cores_used / GIL_PROCESS_GAIN:
        return "cpu-parallel"
    return "mixed"


def _best(configs: Sequence[ConfigResult], *, in_process: bool) -> ConfigResult | None:
    """The fastest configuration of one kind (threads in this process, or worker processes)."""
    from .measure import in_process as local

    kind = []
    for c in configs:
        try:
            same = local(c.config.backend) == in_process
        except ValueError:
            continue
        if same and c.config.workers >= 2:
            kind.append(c)
    return max(kind, key=lambda c: c.speedup, default=None)
