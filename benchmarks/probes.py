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
from collections.abc import Callable

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
    server = ("import sys, multiprocessing.forkserver, poolside.backends._process_main; "
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


def _per_item_ns(fn: Callable[[], object], n: int, repeats: int = 30) -> float:
    """The best of ``repeats`` calls of ``fn``, in ns per item (best: the least disturbed by others)."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best / n * 1e9


def tiny_item_stages() -> None:
    """Where a tiny item's time goes, stage by stage, each alone in this process.

    Measured on a 2-core VM (ns per item, 2,500-item chunks):
    task x*x 26; worker loop around it (run_chunk: slot writes, clock, appends)
    ~190; pickling its Done batch 8, unpickling it 13; building the Outcome tuples
    124 with the collector paused, 163 with it on; the consumer's loop 48; the
    generator that hands them out 20.  A whole run adds what no stage shows:
    the collector that runs once a batch is freed, two threads of the parent
    taking turns on the GIL, and pipe wake-ups (see cpu_per_item).
    """
    import functools
    import gc
    import itertools
    import pickle

    from benchmarks.workloads import square
    from poolside.backends._process_main import _picklable_done, dumps_chunk
    from poolside.backends._worker import Outbox, run_chunk
    from poolside.backends.protocol import Chunk
    from poolside.records import Outcome, Status

    n = 2500
    items = list(range(n))
    sent: list = []
    # A process worker's slot is a memoryview of shared memory: writing it costs
    # more than a list's item (a thread worker's slot).
    box = Outbox(sent.append, 0, memoryview(bytearray(32)).cast("d"), 0)
    chunk = Chunk(1, items)
    rows = [("the task alone (a plain loop)", _per_item_ns(lambda: [square(x) for x in items], n)),
            ("worker loop: run_chunk, no send (a timeout: exact slot)", _per_item_ns(
                lambda: run_chunk(square, chunk, box, 0.0, time.process_time, 10.0), n)),
            ("worker loop: run_chunk, no send (no timeout)", _per_item_ns(
                lambda: run_chunk(square, chunk, box, 0.0, time.process_time, 10.0, exact=False), n))]
    done = sent[-1]
    data = _picklable_done(done)
    chunk_bytes = dumps_chunk(chunk)
    rows += [("parent: pickle a chunk", _per_item_ns(lambda: dumps_chunk(chunk), n)),
             ("worker: unpickle the chunk", _per_item_ns(lambda: pickle.loads(memoryview(chunk_bytes)[9:]), n)),
             ("worker: pickle its Done batch", _per_item_ns(lambda: _picklable_done(done), n)),
             ("parent: unpickle the Done batch", _per_item_ns(lambda: pickle.loads(data), n))]
    new = functools.partial(tuple.__new__, Outcome)
    repeat = itertools.repeat

    def build() -> list:
        return list(map(new, zip(range(n), items, repeat(Status.OK), done.values, repeat(None), done.elapsed,
                                 repeat(done.worker), done.starts, repeat(done.pid), repeat(done.tid))))

    gc.disable()
    rows.append(("parent: build Outcomes, collector paused", _per_item_ns(build, n)))
    gc.enable()
    rows.append(("parent: build Outcomes, collector on", _per_item_ns(build, n)))
    batch = build()

    def consume() -> int:
        total = 0
        for outcome in batch:
            if outcome.status != "ok":
                raise RuntimeError(outcome)
            total += outcome.value
        return total

    rows.append(("consumer: the benchmark's loop over Outcomes", _per_item_ns(consume, n)))
    print("Stages of a tiny item, alone (ns per item, best of 30):")
    for label, ns in rows:
        print(f"  {label:56s} {ns:6.0f}")


def cpu_per_item() -> None:
    """CPU per tiny item in a whole run, parent and workers apart, against Pool.map.

    Measured on a 2-core VM (200,000 x*x, warm): Poolside's parent ~420 ns
    and its workers ~250 ns of CPU an item; Pool.map's parent ~135 ns and its
    workers ~100 ns.  The parent is the bottleneck: it builds one Outcome per
    item on the dispatcher thread, the collector walks every batch of them, and
    the consumer's thread takes turns with the dispatcher on the GIL.
    """
    import multiprocessing
    import resource

    import psutil

    from benchmarks.workloads import square
    from poolside import run
    from poolside.backends.workers import parked_pids

    n = 200_000

    def own_cpu() -> float:
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime

    def cpu_of(pids: list[int]) -> float:
        total = 0.0
        for pid in pids:
            try:
                times = psutil.Process(pid).cpu_times()
                total += times.user + times.system
            except psutil.Error:
                pass
        return total

    def measure(label: str, pids: Callable[[], list[int]], body: Callable[[], None]) -> None:
        workers, parent, wall = [], [], []
        for _ in range(5):
            w, m, t0 = cpu_of(pids()), own_cpu(), time.perf_counter()
            body()
            wall.append(time.perf_counter() - t0)
            workers.append(cpu_of(pids()) - w)
            parent.append(own_cpu() - m)
        import statistics

        print(f"  {label:28s} {n / statistics.median(wall) / 1e6:5.2f} M/s; CPU an item: parent "
              f"{statistics.median(parent) / n * 1e9:4.0f} ns, workers {statistics.median(workers) / n * 1e9:4.0f} ns")

    def poolside_run() -> None:
        for outcome in run(square, list(range(n)), backend="processes", workers=2):
            if outcome.status != "ok":
                raise RuntimeError(outcome)

    list(run(square, range(1000), backend="processes", workers=2))
    print(f"CPU per item, {n:,} x*x warm on 2 processes (medians of 5; psutil counts 10 ms ticks):")
    measure("Poolside run()", parked_pids, poolside_run)
    with multiprocessing.get_context("fork").Pool(2) as pool:
        pool.map(square, range(1000))
        workers = [p.pid for p in pool._pool]  # type: ignore[attr-defined]
        measure("multiprocessing Pool.map", lambda: workers, lambda: sum(pool.map(square, range(n))) and None)


def main() -> int:
    which = sys.argv[1:] or ["run", "imports", "threads", "stages", "cpu"]
    probes = {"run": process_run_cost, "imports": worker_imports, "threads": thread_start_cost,
              "stages": tiny_item_stages, "cpu": cpu_per_item}
    for name in which:
        probes[name]()
    return 0


if __name__ == "__main__":
    sys.exit(main())
