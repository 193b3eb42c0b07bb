"""``multiprocessing.Pool`` and ``ThreadPool`` behind the classic pools' interface (:mod:`.classic`).

    submit:  chunk ─► pool.apply_async(call_chunk) ─► Done
    map...:  Feed ─► pool.map_async / imap / imap_unordered(call_item, chunksize) ─► results

A worker that dies: the Pool replaces it and would wait forever for its call;
the pool watch (:mod:`._poolwatch`) ends that call's items ``failed`` instead.
"""

from __future__ import annotations

import functools
import itertools
import multiprocessing as mp
import multiprocessing.pool as mpp
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ._calls import call_chunk_marked, call_items
from ._launch import start_method
from ._memcap import memory_cap
from ._poolwatch import Died, PoolWatch
from ._sealed import seal
from ._worker import call_chunk
from .classic import ClassicPool, end_stuck_workers
from .protocol import Chunk

# How long a thread that reads an ``imap`` iterator waits before it looks
# whether the run was stopped.  Only a cancelled or broken run waits on it.
_STOP_CHECK_S = 0.05


def _grouped(items: Iterable[Any], size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


class _MultiprocessingPool(ClassicPool):
    """``multiprocessing.Pool`` and ``ThreadPool``: one interface, two kinds of workers."""

    _pool: Any

    def _library_call(self, function: Callable[[Any], Any], items: Iterable[Any],
                      chunksize: int) -> Iterator[Any]:
        if self.method == "map":
            return self._when_ready(self._pool.map_async(function, list(items), chunksize))
        call = self._pool.imap if self.method == "imap" else self._pool.imap_unordered
        if chunksize == 1:
            return self._next_until_stopped(call(function, items, 1))
        # With a chunksize, imap returns a plain generator over its iterator, which
        # has no timeout; so batch here exactly as Pool does inside (a task maps
        # the function over a list of items) and flatten the lists as it does.
        batches = call(functools.partial(call_items, function), _grouped(items, chunksize), 1)
        return itertools.chain.from_iterable(self._next_until_stopped(batches))

    def _when_ready(self, result: Any) -> Iterator[Any]:
        # A map that lost a result never ends: look at the stop flag now and then.
        while not result.ready():
            if self._stopping.is_set():
                return
            result.wait(_STOP_CHECK_S)
        yield from result.get()

    def _next_until_stopped(self, results: Any) -> Iterator[Any]:
        # An iterator that lost a result never ends: look at the stop flag now and then.
        while True:
            try:
                yield results.next(_STOP_CHECK_S)
            except mp.TimeoutError:
                if self._stopping.is_set():
                    return

    def _batches(self, results: Iterator[Any]) -> Iterator[list]:
        if self.method == "map":
            yield list(results)  # map gives everything at once
            return
        yield from super()._batches(results)

    def _default_chunksize(self, total: int) -> int:
        if self.method != "map":
            return 1
        # Pool.map's own rule: about four chunks per worker.
        size, extra = divmod(total, self.workers * 4)
        return max(1, size + bool(extra))

    def _submit(self, chunk: Chunk, finished: Callable[[Chunk, Any], None]) -> None:
        self._pool.apply_async(seal, (call_chunk_marked, self.task, chunk, self.origin),
                               callback=lambda r: finished(chunk, r),
                               error_callback=lambda e: finished(chunk, e))

    def _stop_pool(self, cancel: bool) -> None:
        if cancel:
            self._pool.terminate()  # Pool.join would wait forever for a lost call
        else:
            self._pool.close()
            end_stuck_workers(self.name, list(getattr(self._pool, "_pool", ())))
        self._pool.join()


class MultiprocessingPoolBackend(_MultiprocessingPool):
    name = "mp-pool"
    library = "multiprocessing.pool"
    label = "multiprocessing.Pool"
    kind = "processes"
    wins = "tiny items in bulk with map/imap; the oldest process pool, fast but fragile"
    description = (
        "multiprocessing.Pool, for comparison: the oldest process pool. Fast for tiny items, "
        "but a worker that dies loses its call for good: the library would wait forever "
        "(Poolside ends those items failed instead), and there is no per-item timeout."
    )

    caps_worker_memory = True

    def __init__(self, task: Callable[[Any], Any], workers: int, *, timeout: float | None, origin: float,
                 method: str = "submit", max_memory_per_worker: int | None = None) -> None:
        super().__init__(task, workers, timeout=timeout, origin=origin, method=method)
        # The pool replaces a killed worker itself; its watcher reports the death.
        self._memcap = memory_cap(max_memory_per_worker,
                                  lambda: [p.pid for p in list(getattr(self._pool, "_pool", ()))])

    def _start_pool(self) -> None:
        ctx = mp.get_context(start_method())
        self._watch = PoolWatch(ctx, self.workers, self._messages.put)
        self._pool = ctx.Pool(self.workers, initializer=self._watch.initializer,
                              initargs=self._watch.initargs)
        self._watch.start(self._pool)
        if self._memcap is not None:
            self._memcap.start()

    def _stop_pool(self, cancel: bool) -> None:
        if self._memcap is not None:
            self._memcap.stop()
        self._watch.stop()
        super()._stop_pool(cancel)

    def _why_died(self, died: Died) -> Died:
        reason = None if self._memcap is None else self._memcap.reason(died.pid)
        return died if reason is None else died._replace(reason=reason)


class MultiprocessingThreadPoolBackend(_MultiprocessingPool):
    name = "mp-thread-pool"
    library = "multiprocessing.pool"
    label = "multiprocessing ThreadPool"
    kind = "threads"
    wins = "I/O waits, with the Pool API (map/imap) on threads"
    description = (
        "multiprocessing.pool.ThreadPool, for comparison: Pool's API on threads in this "
        "process. Like Threads, it wins for I/O and for C code that releases the GIL; "
        "pure-Python CPU work does not speed up. No per-item timeout; a hung call keeps "
        "its thread."
    )

    def _start_pool(self) -> None:
        self._pool = mpp.ThreadPool(self.workers)

    def _stop_pool(self, cancel: bool) -> None:
        if cancel:
            # Threads inside a call cannot be stopped, and ThreadPool.join would
            # wait for them: they finish that call in the background.
            self._pool.terminate()
        else:
            self._pool.close()
            self._pool.join()

    def _submit(self, chunk: Chunk, finished: Callable[[Chunk, Any], None]) -> None:
        self._pool.apply_async(call_chunk, (self.task, chunk, self.origin),
                               callback=lambda r: finished(chunk, r),
                               error_callback=lambda e: finished(chunk, e))


