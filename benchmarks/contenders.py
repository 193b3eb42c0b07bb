"""How each contender runs a workload.  Used only inside a child process (``benchmarks.child``).

A *contender* is one library used one way (``multiprocessing.Pool.map``,
``joblib.Parallel`` with its loky backend, Poolside's ``run()`` ...).  For the
timed workloads each has three steps::

    open()            start a pool (Poolside has none: run() starts its workers)
    run(handle, items) -> (count, checksum)   consume every result, one by one
    close(handle)     shut the pool down and wait for its workers

Libraries are imported inside the contender that needs them, so a child
process carries only its own contender's imports (that matters for the
memory of the whole process tree).  Every peer keeps its library's defaults
(the ``fork`` start method of ``multiprocessing`` on Linux, loky for joblib)
unless an option says otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any


def _consume_numbers(results: Iterable[Any]) -> tuple[int, int]:
    count = total = 0
    for value in results:
        count += 1
        total += value
    return count, total


def _consume_any(results: Iterable[Any]) -> tuple[int, int]:
    count = 0
    for _ in results:
        count += 1
    return count, 0


class Contender:
    """A pool library used one way.  ``opts`` come from the suite's table of contenders."""

    def __init__(self, task: Callable[[Any], Any], workers: int, numeric: bool, **opts: Any) -> None:
        self.task = task
        self.workers = workers
        self.consume = _consume_numbers if numeric else _consume_any
        self.opts = opts

    #: False for a contender with nothing to start (sequential, Poolside's run()).
    has_pool = True
    #: Modules to import before the clock starts: every contender's cold figure
    #: is about starting its workers, not about importing its library.
    modules: tuple[str, ...] = ()

    def prepare(self) -> None:
        import importlib

        for name in self.modules:
            importlib.import_module(name)

    def open(self) -> Any:
        return None

    def run(self, handle: Any, items: Iterable[Any]) -> tuple[int, int]:
        raise NotImplementedError

    def close(self, handle: Any) -> None:
        pass


class Sequential(Contender):
    """The baseline: a plain loop in the child's own thread."""

    has_pool = False

    def run(self, handle: Any, items: Iterable[Any]) -> tuple[int, int]:
        return self.consume(map(self.task, items))


class Poolside(Contender):
    """``poolside.run()``: the first call starts its workers; later calls adopt the ones parked by the last.

    Its "pool" is the workers a run parks for the next: ``close`` ends them
    (processes and threads), as the peers' ``close``/``join``/``shutdown`` end
    theirs, so that a cold figure includes the shut-down for everyone.  The
    zygote stays, as multiprocessing's forkserver does: both are helpers that
    live as long as the program.
    """
    # psutil is imported by the first run (its memory sampler), not by `from poolside import run`.
    modules = ("poolside.engine.job", "poolside.backends.processes", "poolside.backends.threads", "psutil")

    def close(self, handle: Any) -> None:
        from poolside.backends.threads import stop_idle_threads
        from poolside.backends.workers import stop_idle_workers

        stop_idle_workers()
        stop_idle_threads()

    def price(self, run_s: float) -> dict:
        """What a run of ``run_s`` seconds pays here for a guarantee the peers do not give.

        Each run measures its process tree's memory and CPU as it goes
        (``poolside.engine.sampler``): a look at its start, one every
        ``SAMPLE_S`` and one at its end, on the engine's thread, whose GIL and
        core the workers share.  Timed here, in the process that ran the
        runs, with its parked workers (the same tree the runs looked at).
        """
        import time

        from poolside.engine.sampler import SAMPLE_S, TreeSampler

        clock = time.perf_counter
        looks = 20
        t0 = clock()
        sampler = TreeSampler()
        t1 = clock()
        for _ in range(looks):
            sampler._sample(clock())
        sampler._began -= run_s  # as old as the run: its end reads the USS as the run's did
        t2 = clock()
        sampler.end()
        t3 = clock()
        per_look = (t2 - t1) / looks
        return {"sampler_s": (t1 - t0) + (t3 - t2) + per_look * int(run_s / SAMPLE_S), "run_s": run_s}

    def run(self, handle: Any, items: Iterable[Any]) -> tuple[int, int]:
        from poolside import run

        backend = self.opts.get("backend", "processes")
        job = run(self.task, items, backend=backend, workers=self.workers,
                  chunk_size=self.opts.get("chunk_size", "auto"))
        numeric = self.consume is _consume_numbers
        if self.opts.get("batches"):
            count, total, bad = _take_batches(job, numeric)
        else:
            count = total = bad = 0
            for outcome in job:
                count += 1
                if outcome.status != "ok":
                    bad += 1
                elif numeric:
                    total += outcome.value
        if bad:
            raise RuntimeError(f"Poolside: {bad} of {count} outcomes were not ok: {job.summary.line()}")
        return count, total


def _take_batches(job: Any, numeric: bool) -> tuple[int, int, int]:
    """Every outcome through ``job.batches()``: each one's status checked and value summed, as columns."""
    from poolside import Status

    count = total = bad = 0
    for batch in job.batches():
        n = len(batch)
        count += n
        ok = batch.count(Status.OK)
        bad += n - ok
        if numeric:
            values = batch.values
            total += sum(values) if ok == n else sum(v for v, s in zip(values, batch.statuses) if s == "ok")
    return count, total, bad


class MPPool(Contender):
    """``multiprocessing.Pool`` (``threads=True``: ``multiprocessing.pool.ThreadPool``)."""

    modules = ("multiprocessing.pool",)

    def open(self) -> Any:
        if self.opts.get("threads"):
            from multiprocessing.pool import ThreadPool

            return ThreadPool(self.workers)
        import multiprocessing

        # "start": a start method other than the platform's default (forkserver, for a
        # caller that runs threads and so must not fork).
        return multiprocessing.get_context(self.opts.get("start")).Pool(self.workers)

    def run(self, handle: Any, items: Iterable[Any]) -> tuple[int, int]:
        method = self.opts.get("method", "map")
        chunksize = self.opts.get("chunksize")
        if method == "map":
            return self.consume(handle.map(self.task, items, chunksize))
        return self.consume(handle.imap_unordered(self.task, items, chunksize or 1))

    def close(self, handle: Any) -> None:
        handle.close()
        handle.join()


class Executor(Contender):
    """``concurrent.futures``: ``ProcessPoolExecutor`` or, with ``threads=True``, ``ThreadPoolExecutor``."""

    modules = ("concurrent.futures.process", "concurrent.futures.thread")

    def open(self) -> Any:
        import concurrent.futures as cf

        if self.opts.get("threads"):
            return cf.ThreadPoolExecutor(max_workers=self.workers)
        return cf.ProcessPoolExecutor(max_workers=self.workers)

    def run(self, handle: Any, items: Iterable[Any]) -> tuple[int, int]:
        return self.consume(handle.map(self.task, items, chunksize=self.opts.get("chunksize", 1)))

    def close(self, handle: Any) -> None:
        handle.shutdown(wait=True)


class Joblib(Contender):
    """``joblib.Parallel`` with its default batching (``batch_size="auto"``), loky unless told.

    joblib keeps its loky executor between calls by design, so "open" starts
    nothing and "close" shuts that shared executor down.
    """

    modules = ("joblib", "joblib.externals.loky")

    def run(self, handle: Any, items: Iterable[Any]) -> tuple[int, int]:
        from joblib import Parallel, delayed

        backend = self.opts.get("backend", "loky")
        return_as = self.opts.get("return_as", "list")
        task = delayed(self.task)
        parallel = Parallel(n_jobs=self.workers, backend=backend, return_as=return_as)
        return self.consume(parallel(task(x) for x in items))

    def close(self, handle: Any) -> None:
        if self.opts.get("backend", "loky") == "loky":
            from joblib.externals.loky import get_reusable_executor

            get_reusable_executor().shutdown(wait=True)


class Mpire(Contender):
    """``mpire.WorkerPool`` with its default chunking (``keep_alive`` so a warm pool is reused)."""

    modules = ("mpire",)

    def open(self) -> Any:
        from mpire import WorkerPool

        start_method = "threading" if self.opts.get("threads") else "fork"
        return WorkerPool(n_jobs=self.workers, start_method=start_method, keep_alive=True)

    def run(self, handle: Any, items: Iterable[Any]) -> tuple[int, int]:
        method = self.opts.get("method", "map")
        kwargs = {}
        if self.opts.get("chunk_size"):
            kwargs["chunk_size"] = self.opts["chunk_size"]
        if method == "map":
            return self.consume(handle.map(self.task, items, **kwargs))
        return self.consume(handle.imap_unordered(self.task, items, **kwargs))

    def close(self, handle: Any) -> None:
        handle.stop_and_join()


class Pebble(Contender):
    """``pebble.ProcessPool`` (``threads=True``: ``pebble.ThreadPool``), ``map`` with a chunksize."""

    modules = ("pebble",)

    def open(self) -> Any:
        import pebble

        if self.opts.get("threads"):
            return pebble.ThreadPool(max_workers=self.workers)
        return pebble.ProcessPool(max_workers=self.workers)

    def run(self, handle: Any, items: Iterable[Any]) -> tuple[int, int]:
        future = handle.map(self.task, items, chunksize=self.opts.get("chunksize", 1))
        return self.consume(future.result())

    def close(self, handle: Any) -> None:
        handle.close()
        handle.join()


KINDS: dict[str, type[Contender]] = {
    "sequential": Sequential,
    "poolside": Poolside,
    "mp_pool": MPPool,
    "executor": Executor,
    "joblib": Joblib,
    "mpire": Mpire,
    "pebble": Pebble,
}


# --------------------------------------------------------------------------
# Resilience: one item kills its worker, or hangs.  Each function reports every
# item as it arrives through ``emit(kind, item, detail)``: ``ok``, ``failed``
# (an error the library pinned on that item) or ``raised`` (the library gave up
# on the whole call, item -1).  The parent counts what was delivered, so a
# contender that hangs and is killed still gets its partial score.

Emit = Callable[[str, int, str], None]


def _futures(pool_submit: Callable[[int], Any], n: int, emit: Emit,
             timeout: float | None = None) -> None:
    """Submit every item, then report each future as it completes."""
    import concurrent.futures as cf

    futures = {pool_submit(i): i for i in range(n)}
    pending = set(futures)
    while pending:
        done, pending = cf.wait(pending, timeout=timeout, return_when=cf.FIRST_COMPLETED)
        if not done:
            # No result for ``timeout`` s: a careful caller gives up on the rest.
            emit("raised", -1, f"no result for {timeout:g} s: gave up on {len(pending)} items")
            return
        for future in done:
            try:
                future.result()
                emit("ok", futures[future], "")
            except BaseException as exc:
                emit("failed", futures[future], f"{type(exc).__name__}: {exc}"[:200])


def resilience_poolside(task: Callable[[int], int], n: int, timeout: float | None, emit: Emit,
                        workers: int = 2) -> None:
    from poolside import run

    for outcome in run(task, range(n), backend="processes", workers=workers, timeout=timeout):
        if outcome.status == "ok":
            emit("ok", outcome.item, "")
        else:
            emit("failed", outcome.item, f"{outcome.status}: {outcome.error}"[:200])


def resilience_pebble(task: Callable[[int], int], n: int, timeout: float | None, emit: Emit,
                      workers: int = 2) -> None:
    import pebble

    pool = pebble.ProcessPool(max_workers=workers)
    try:
        _futures(lambda i: pool.schedule(task, args=(i,), timeout=timeout), n, emit)
    finally:
        pool.close()
        pool.join()


def resilience_executor(task: Callable[[int], int], n: int, timeout: float | None, emit: Emit,
                        workers: int = 2) -> None:
    import concurrent.futures as cf

    # No per-item timeout exists; with one asked for, give up after that long
    # without any result (the best a caller can do) and then shut down, which
    # waits for the hung worker: nothing can stop it.
    pool = cf.ProcessPoolExecutor(max_workers=workers)
    try:
        _futures(lambda i: pool.submit(task, i), n, emit, timeout)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def resilience_joblib(task: Callable[[int], int], n: int, timeout: float | None, emit: Emit,
                      workers: int = 2) -> None:
    from joblib import Parallel, delayed

    parallel = Parallel(n_jobs=workers, return_as="generator_unordered", timeout=timeout)
    try:
        for value in parallel(delayed(task)(i) for i in range(n)):
            emit("ok", value, "")
    except BaseException as exc:
        emit("raised", -1, f"{type(exc).__name__}: {exc}"[:200])


def resilience_mpire(task: Callable[[int], int], n: int, timeout: float | None, emit: Emit,
                     workers: int = 2) -> None:
    from mpire import WorkerPool

    try:
        with WorkerPool(n_jobs=workers) as pool:
            for value in pool.imap_unordered(task, range(n), task_timeout=timeout):
                emit("ok", value, "")
    except BaseException as exc:
        emit("raised", -1, f"{type(exc).__name__}: {exc}"[:200])


def resilience_mp_pool(task: Callable[[int], int], n: int, timeout: float | None, emit: Emit,
                       workers: int = 2) -> None:
    import multiprocessing

    # Pool has no per-item timeout either; ``next(timeout)`` on its iterator is
    # its own way to stop waiting, and terminate() kills the workers.
    pool = multiprocessing.Pool(workers)
    try:
        results = pool.imap_unordered(task, range(n))
        for _ in range(n):
            try:
                value = results.next(timeout)
            except multiprocessing.TimeoutError:
                emit("raised", -1, f"no result for {timeout:g} s: gave up")
                pool.terminate()
                break
            emit("ok", value, "")
        else:
            pool.close()
    except BaseException as exc:
        emit("raised", -1, f"{type(exc).__name__}: {exc}"[:200])
        pool.terminate()
    pool.join()


# What each resilience contender imports, done before its clock starts.
RESILIENCE_MODULES: dict[str, tuple[str, ...]] = {
    "poolside": Poolside.modules,
    "pebble": Pebble.modules,
    "executor": Executor.modules,
    "joblib": Joblib.modules,
    "mpire": Mpire.modules,
    "mp_pool": MPPool.modules,
}

RESILIENCE: dict[str, Callable[..., None]] = {
    "poolside": resilience_poolside,
    "pebble": resilience_pebble,
    "executor": resilience_executor,
    "joblib": resilience_joblib,
    "mpire": resilience_mpire,
    "mp_pool": resilience_mp_pool,
}
