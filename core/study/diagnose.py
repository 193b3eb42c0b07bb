"""What limits the task, from the study's measurements, with the numbers that show it.

    sampling pass (sequential, this thread; plan.Nature), most specific first:
        pickled item + result per item ≥ 64 KB, pickling ≥ half the work ... transfer
        time per item < 200 us .............................................. overhead
        the process used > 1.5 cores (BLAS, numba, the task's own threads) .. already-parallel
        CPU / runnable time < 0.2 ............................................ waiting
                            0.2 - 0.5 ........................................ mixed (waiting plus CPU)
        slowest tenth of the items took ≥ 40 % of the time .................. imbalanced
    GIL probe (4 plain threads, per item):
        CPU / runnable time well below the sequential ratio ................. cpu-gil
                            about the same (threads run freely) ............. cpu-parallel
        in between: processes' speed-up against threads' decides ............ cpu-gil / cpu-parallel
    no probe (not Linux): threads' cores used against processes' ........... cpu-gil / cpu-parallel

"Runnable time" is wall time minus the time a thread sat on the run queue
(Linux's per-thread schedstat).  That makes the diagnosis hold on a shared,
busy machine: a CPU-bound thread starved by other programs waits *runnable*,
while a thread waiting for the GIL, a disk or a sleep is not runnable at all.
Where schedstat is missing (macOS, Windows) the fallback compares the cores
threads used with the cores processes used in the same study.  The sampling
pass's kinds also steer auto mode (``plan.first_round``); the evidence holds
the measured numbers every *why* cites.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .plan import Nature
from .record import ConfigResult, Diagnosis

# Threads are "held" when their on-CPU share of runnable time falls below this
# fraction of the sequential one, and run "freely" above the second.  Four
# threads sharing one GIL read ~1/4 (measured 0.19-0.27 for a pure-Python loop
# on a 2-core machine at load 6-7), a hashlib task that releases it 0.89-0.98.
GIL_HELD_BELOW = 0.5
GIL_FREE_ABOVE = 0.7
# Fallback without schedstat: threads used at most this many cores while
# processes, in the same study, used this much more.
GIL_MAX_CORES = 1.25
GIL_PROCESS_GAIN = 1.3


def diagnose(configs: Sequence[ConfigResult], cores: int, sequential: Nature,
             oncpu: float | None = None, item_s: Sequence[float] = ()) -> Diagnosis:
    """``oncpu``: the GIL probe's on-CPU share of runnable time (None where it could not run);
    ``item_s``: the sampling pass's time per item (the spread of an imbalanced task)."""
    evidence: dict[str, Any] = {
        "baseline_cpu_ratio": round(sequential.cpu_ratio, 3),
        "item_ms": round(sequential.item_s * 1000, 4),
        "cores": cores,
        "sequential_cores": round(sequential.cores, 3),
    }
    parallel = [c for c in configs if c.runs and not c.config.sequential]
    runnable = [c for c in parallel if not c.config.capped]  # the backends as they are: the diagnosis
    threads = _best(runnable, in_process=True)
    procs = _best(runnable, in_process=False)
    if threads is not None:
        evidence.update(threads_workers=threads.config.workers, threads_speedup=round(threads.speedup, 3),
                        threads_cores=round(threads.cores_used, 3), threads_busy=round(threads.busy_workers, 2))
    if oncpu is not None:
        evidence["threads_oncpu"] = round(oncpu, 3)
    if procs is not None:
        evidence.update(processes_workers=procs.config.workers, processes_speedup=round(procs.speedup, 3),
                        processes_cores=round(procs.cores_used, 3))
    best = max(runnable, key=lambda c: c.speedup, default=None)
    if best is not None:
        evidence.update(best_speedup=round(best.speedup, 3), best_workers=best.config.workers)
    kind = sequential.kind or _cpu_kind(sequential, oncpu, threads, procs)
    evidence.update(_specific(kind, sequential, parallel, procs, item_s))
    return Diagnosis(kind, evidence)


def _specific(kind: str, sequential: Nature, parallel: Sequence[ConfigResult], procs: ConfigResult | None,
              item_s: Sequence[float]) -> dict[str, Any]:
    """The numbers a kind's *why* cites, beyond the common ones."""
    out: dict[str, Any] = {}
    if kind == "transfer":
        out.update(mb_per_item=round(sequential.payload_mb, 3), pickle_ms=round(sequential.pickle_s * 1000, 3))
        if sequential.pickle_s > 0:
            out["pickle_mb_s"] = round(sequential.payload_mb / sequential.pickle_s, 1)
        if procs is not None and procs.median_s > 0:
            items = sum(procs.counts.values())
            out["handoff_mb_s"] = round(sequential.payload_mb * items / procs.median_s, 1)
    elif kind == "already-parallel":
        capped = max((c for c in parallel if c.config.capped), key=lambda c: c.speedup, default=None)
        if capped is not None:
            out.update(capped_workers=capped.config.workers, capped_threads=capped.config.library_threads,
                       capped_speedup=round(capped.speedup, 3))
    elif kind == "imbalanced":
        out["top_share"] = round(sequential.top_share, 3)
        if item_s:
            ordered = sorted(item_s)
            median = ordered[len(ordered) // 2]
            out.update(slowest_ms=round(ordered[-1] * 1000, 3), median_ms=round(median * 1000, 3))
        chunk_one = max((c for c in parallel if c.config.chunk_size == 1), key=lambda c: c.speedup, default=None)
        if chunk_one is not None:
            out.update(chunk1_backend=chunk_one.config.backend, chunk1_speedup=round(chunk_one.speedup, 3))
    return out


def _cpu_kind(sequential: Nature, oncpu: float | None, threads: ConfigResult | None,
              procs: ConfigResult | None) -> str:
    """CPU-bound work: does it hold the GIL?"""
    if oncpu is not None:
        if oncpu < GIL_HELD_BELOW * sequential.cpu_ratio:
            return "cpu-gil"
        if oncpu > GIL_FREE_ABOVE * sequential.cpu_ratio:
            return "cpu-parallel"
    elif threads is not None and procs is not None:
        if threads.cores_used <= GIL_MAX_CORES and procs.cores_used >= GIL_PROCESS_GAIN * threads.cores_used:
            return "cpu-gil"
        if threads.cores_used >= procs.cores_used / GIL_PROCESS_GAIN:
            return "cpu-parallel"
    # Holds the GIL part of the time (image decoding with Python around it): what scaled better says which.
    if threads is not None and procs is not None and procs.speedup > threads.speedup * GIL_PROCESS_GAIN:
        return "cpu-gil"
    return "cpu-parallel" if threads is not None else "cpu-gil"


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
