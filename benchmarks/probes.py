"""Small measurements of Poolside's fixed costs, to explain the suite's figures.

    python -m benchmarks.probes

The suite says *how much* Poolside loses on short runs; these probes say
*where*: what one ``run()`` costs before and after its items (on workers
parked by the run before), and what a worker process imports after it is
forked from the forkserver.  Medians of ``REPEATS`` tries, each after a
warm-up, so the forkserver is already up.
"""

from __future__ import annotations

import sys
import time

# Imports of this module stay light (the rest are inside the functions):
# workers re-import the main module, and what it imports would count as theirs.

REPEATS = 15


def _median_ms(values: list[float]) -> str:
    import statistics

    return f"{statistics.median(values) * 1000:.1f} ms"


def worker_modules(_: int) -> list[str]:
    """Runs in a worker: the modules it has loaded by the time it runs an item."""
    return sorted(sys.modules)


def process_run_cost() -> None:
    import multiprocessing

    from benchmarks.workloads import square
    from poolside import run

    list(run(square, range(4), backend="processes", workers=2))
    totals, firsts = [], []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        outcomes = list(run(square, range(4), backend="processes", workers=2))
        totals.append(time.perf_counter() - t0)
        firsts.append(min(o.started_s for o in outcomes))
    print(f"Poolside run() of 4 tiny items on processes x2: {_median_ms(totals)} in all; the first "
          f"item starts {_median_ms(firsts)} after the call (forkserver already up)")

    fork = multiprocessing.get_context("fork")
    cold, warm = [], []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        pool = fork.Pool(2)
        pool.map(square, range(4))
        t1 = time.perf_counter()
        pool.map(square, range(4))
        t2 = time.perf_counter()
        pool.close()
        pool.join()
        cold.append(time.perf_counter() - t0 - (t2 - t1))
        warm.append(t2 - t1)
    print(f"multiprocessing Pool(2) (fork), same 4 items: {_median_ms(cold)} with start-up and "
          f"shut-down, {_median_ms(warm)} on the started pool")


def worker_imports() -> None:
    import subprocess

    from poolside import run

    outcome = next(iter(run(worker_modules, [0], backend="processes", workers=1)))
    in_worker = set(outcome.value)
    # What the forkserver holds before it forks a worker: its own machinery and the preload.
    server = ("import sys, multiprocessing.forkserver, poolside.backends._worker; "
              "print('\\n'.join(sys.modules))")
    baseline = subprocess.run([sys.executable, "-c", server], capture_output=True, text=True,
                              check=True).stdout.split()
    extra = sorted(m for m in in_worker - set(baseline) if not m.startswith("_") or m == "__mp_main__")
    print(f"Modules a worker imports after the fork, when it starts ({len(extra)}): {', '.join(extra)}")


def thread_start_cost() -> None:
    from concurrent.futures import ThreadPoolExecutor

    from benchmarks.workloads import nap
    from poolside.backends.threads import ThreadBackend

    starts, stops = [], []
    for _ in range(REPEATS):
        backend = ThreadBackend(nap, 64, timeout=None, origin=time.perf_counter())
        t0 = time.perf_counter()
        backend.start()
        starts.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        backend.shutdown(cancel=False)
        stops.append(time.perf_counter() - t0)
    print(f"Poolside threads backend x64: start() {_median_ms(starts)}, shutdown() {_median_ms(stops)} "
          f"(threads start as chunks arrive; the sleep workload's ideal is 140 ms)")

    firsts = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        with ThreadPoolExecutor(64) as pool:
            first = pool.submit(time.perf_counter).result() - t0
        firsts.append(first)
    print(f"ThreadPoolExecutor(64): its first item starts {_median_ms(firsts)} after creation "
          "(threads are started on demand)")


def main() -> int:
    process_run_cost()
    worker_imports()
    thread_start_cost()
    return 0


if __name__ == "__main__":
    sys.exit(main())
