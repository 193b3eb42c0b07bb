"""``concurrent.futures``' ``ProcessPoolExecutor`` and ``ThreadPoolExecutor`` behind the classic pools'
interface (:mod:`.classic`).

    submit:  chunk ─► executor.submit(call_chunk) ─► Done (as_completed)
    map:     Feed ─► executor.map(call_item, chunksize) ─► results in input order

A process worker that dies breaks the executor: every pending item fails, as
the library does, each saying why.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ._adapter import future_result
from ._launch import start_method
from ._sealed import seal
from ._worker import call_chunk
from .classic import ClassicPool, end_stuck_workers
from .protocol import Chunk, Event


class _Executor(ClassicPool):
    """``concurrent.futures``: ``submit`` + ``as_completed``, or ``map``."""

    methods = ("submit", "map")
    _pool: cf.Executor

    def _library_call(self, function: Callable[[Any], Any], items: Iterable[Any],
                      chunksize: int) -> Iterator[Any]:
        return self._pool.map(function, items, chunksize=chunksize)

    def _submit(self, chunk: Chunk, finished: Callable[[Chunk, Any], None]) -> None:
        future = (self._pool.submit(seal, call_chunk, self.task, chunk, self.origin) if self._sealed else
                  self._pool.submit(call_chunk, self.task, chunk, self.origin))
        future.add_done_callback(lambda f: finished(chunk, future_result(f)))


class ProcessExecutorBackend(_Executor):
    name = "process-executor"
    library = "concurrent.futures"
    label = "ProcessPoolExecutor"
    kind = "processes"
    wins = "CPU-bound Python with the standard library's modern API; breaks on a crash"
    description = (
        "concurrent.futures.ProcessPoolExecutor, for comparison: the standard library's process "
        "pool. Parallel like Processes, but a worker that dies breaks the whole pool (every "
        "pending item fails), and it has no per-item timeout."
    )

    def _start_pool(self) -> None:
        self._pool = cf.ProcessPoolExecutor(self.workers, mp_context=mp.get_context(start_method()))

    def poll(self, timeout: float) -> list[Event]:
        # A call submitted while the pool breaks can be left pending for good:
        # the executor's manager thread fails the calls it knows of and ends,
        # and a submit that slipped in meanwhile is never answered (CPython
        # 3.11 marks the pool broken without the lock submit takes). Once that
        # thread has ended, every call still in flight is answered here.
        manager = getattr(self._pool, "_executor_manager_thread", None)
        ended = manager is not None and not manager.is_alive()
        events = super().poll(0.0 if ended else timeout)  # after the check: its last answers are in
        if ended and self._in_flight:
            from concurrent.futures.process import BrokenProcessPool

            lost = BrokenProcessPool("the pool broke and will not answer this call")
            events += [self._as_event(chunk, lost) for chunk in list(self._in_flight.values())]
        return events

    def _stop_pool(self, cancel: bool) -> None:
        pool: Any = self._pool
        # The executor's own table of its processes (shutdown forgets it); a
        # map still submitting may add to it until shutdown refuses new calls.
        table = pool._processes if pool._processes is not None else {}  # the same dict, even empty
        manager = getattr(pool, "_executor_manager_thread", None)
        if cancel:
            # Refuse new calls first, then kill what runs: the executor has no
            # way to stop a running call.
            pool.shutdown(wait=False, cancel_futures=True)
            killed = list(table.values())
            for process in killed:
                process.kill()
            for process in killed:
                process.join()
            if manager is not None:
                manager.join()
            return
        processes = list(table.values())
        pool.shutdown(wait=False)
        end_stuck_workers(self.name, processes)
        pool.shutdown(wait=True)
        for process in processes:
            process.join()


class ThreadExecutorBackend(_Executor):
    name = "thread-executor"
    library = "concurrent.futures"
    label = "ThreadPoolExecutor"
    kind = "threads"
    wins = "I/O waits with the standard library's modern API"
    description = (
        "concurrent.futures.ThreadPoolExecutor, for comparison: threads like the Threads backend "
        "(the same GIL limits), without per-item timeouts or streaming inside a chunk."
    )

    def _start_pool(self) -> None:
        self._pool = cf.ThreadPoolExecutor(self.workers, thread_name_prefix="poolside-tpe")

    def _stop_pool(self, cancel: bool) -> None:
        # Running calls cannot be stopped; do not wait for them on a cancel.
        self._pool.shutdown(wait=not cancel, cancel_futures=cancel)
