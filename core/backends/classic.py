"""The classic ways to write a parallel for-loop, behind the same interface.

They are here for comparison: the window runs the same batch on
``multiprocessing.Pool`` or ``concurrent.futures`` so that a user sees what
Poolside's own backends do better, and by how much.  Each gets chunks from
the engine's auto-chunking (so the comparison is about the pool, not the
batching) and runs a chunk as one call (``poolside.backends._worker.call_chunk``).

What they cannot do, they do not pretend to: no per-item timeout, no streaming
from inside a chunk, and a dead worker does what it does in the library itself
(``ProcessPoolExecutor`` breaks and fails every pending item;
``multiprocessing.Pool`` loses the chunk, so the run waits until cancelled).

Data flow::

    engine --submit(chunk)--> pool.submit(call_chunk) --future--> done queue
    engine <--poll() -> Done------------------------------------------+
"""

from __future__ import annotations

import abc
import concurrent.futures as cf
import multiprocessing as mp
import queue
from collections.abc import Callable
from typing import Any

from ._worker import Chunk, Done, call_chunk, error_info
from .base import Backend, Event
from .processes import start_method

_IN_FLIGHT_PER_WORKER = 2


def _result_of(future: cf.Future) -> Any:
    if future.cancelled():
        return cf.CancelledError("the call was cancelled")
    return future.exception() or future.result()


class PoolAdapter(Backend):
    """Submits each chunk as one call to a pool and turns its result into a ``Done``."""

    kills_hung_items = False

    def __init__(self, task: Callable[[Any], Any], workers: int, *,
                 timeout: float | None, origin: float) -> None:
        if timeout is not None:
            raise ValueError(f"the {self.name} backend has no per-item timeout; "
                             "use the processes or threads backend for one")
        super().__init__(task, workers, timeout=timeout, origin=origin)
        self._done: queue.SimpleQueue = queue.SimpleQueue()
        self._in_flight: set[int] = set()
        self._slots: dict[int, int] = {}

    @abc.abstractmethod
    def _submit(self, chunk: Chunk, finished: Callable[[Chunk, Done | BaseException], None]) -> None:
        """Start ``call_chunk(task, chunk, origin)``; call ``finished`` with its result."""

    def free_slots(self) -> int:
        return self.workers * _IN_FLIGHT_PER_WORKER - len(self._in_flight)

    def submit(self, chunk: Chunk) -> list[Event]:
        self._in_flight.add(chunk.id)
        try:
            self._submit(chunk, lambda c, result: self._done.put((c, result)))
        except Exception as exc:
            self._done.put((chunk, exc))
        return []

    def wake(self) -> None:
        self._done.put(None)

    def poll(self, timeout: float) -> list[Event]:
        events: list[Event] = []
        try:
            message = self._done.get(timeout=timeout)
            while True:
                if message is not None:
                    events.append(self._as_done(*message))
                message = self._done.get_nowait()
        except queue.Empty:
            pass
        return events

    def _as_done(self, chunk: Chunk, result: Done | BaseException) -> Done:
        self._in_flight.discard(chunk.id)
        if isinstance(result, BaseException):
            # The call itself failed (a broken pool, an unpicklable item):
            # every item of the chunk fails with that reason.
            error = error_info(result)
            n = len(chunk.items)
            return Done(-1, chunk.id, 0, [None] * n, [(i, error) for i in range(n)],
                        [0.0] * n, [0.0] * n, 0.0, True)
        slot = self._slots.setdefault(result.worker, len(self._slots) % self.workers)
        return result._replace(worker=slot)


class ProcessExecutorBackend(PoolAdapter):
    name = "process-executor"
    label = "ProcessPoolExecutor"
    description = (
        "concurrent.futures.ProcessPoolExecutor, for comparison: the standard library's process "
        "pool. Parallel like Processes, but a worker that dies breaks the whole pool (every "
        "pending item fails), and it has no per-item timeout."
    )

    def start(self) -> None:
        self._pool = cf.ProcessPoolExecutor(self.workers, mp_context=mp.get_context(start_method()))

    def _submit(self, chunk: Chunk, finished: Callable[[Chunk, Any], None]) -> None:
        future = self._pool.submit(call_chunk, self.task, chunk, self.origin)
        future.add_done_callback(lambda f: finished(chunk, _result_of(f)))

    def shutdown(self, cancel: bool) -> None:
        processes = list((getattr(self._pool, "_processes", None) or {}).values())
        if cancel:
            for process in processes:  # the executor has no way to stop a running call
                process.kill()
        self._pool.shutdown(wait=True, cancel_futures=cancel)
        for process in processes:
            process.join()


class ThreadExecutorBackend(PoolAdapter):
    name = "thread-executor"
    label = "ThreadPoolExecutor"
    description = (
        "concurrent.futures.ThreadPoolExecutor, for comparison: threads like the Threads backend "
        "(the same GIL limits), without per-item timeouts or streaming inside a chunk."
    )

    def start(self) -> None:
        self._pool = cf.ThreadPoolExecutor(self.workers, thread_name_prefix="poolside-tpe")

    def _submit(self, chunk: Chunk, finished: Callable[[Chunk, Any], None]) -> None:
        future = self._pool.submit(call_chunk, self.task, chunk, self.origin)
        future.add_done_callback(lambda f: finished(chunk, _result_of(f)))

    def shutdown(self, cancel: bool) -> None:
        # Running calls cannot be stopped; do not wait for them on a cancel.
        self._pool.shutdown(wait=not cancel, cancel_futures=cancel)


class MultiprocessingPoolBackend(PoolAdapter):
    name = "mp-pool"
    label = "multiprocessing.Pool"
    description = (
        "multiprocessing.Pool, for comparison: the oldest process pool. Fast for tiny items, "
        "but a worker that dies loses its chunk for good (the run waits until you cancel) and "
        "there is no per-item timeout."
    )

    def start(self) -> None:
        self._pool = mp.get_context(start_method()).Pool(self.workers)

    def _submit(self, chunk: Chunk, finished: Callable[[Chunk, Any], None]) -> None:
        self._pool.apply_async(call_chunk, (self.task, chunk, self.origin),
                               callback=lambda r: finished(chunk, r),
                               error_callback=lambda e: finished(chunk, e))

    def shutdown(self, cancel: bool) -> None:
        if cancel:
            self._pool.terminate()
        else:
            self._pool.close()
        self._pool.join()
