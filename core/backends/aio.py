"""An asyncio event loop: thousands of waits in flight on one thread.

An ``async def`` task runs natively: ``workers`` coroutines take items from
one queue, so at most ``workers`` items are in flight, and each ``await``
lets the others run.  A plain function runs in a thread pool of exactly
``workers`` threads (``loop.run_in_executor``), not asyncio's default pool of
``min(32, cores + 4)``.

It wins when items mostly wait (network, timers, subprocesses) and the task is
``async def``: a wait costs a few KB and no thread.  It cannot make CPU work
parallel: one loop runs one coroutine at a time, and CPU work in a coroutine
blocks every other one.  With a timeout, an ``async def`` item is really
stopped (the coroutine is cancelled at its deadline); a plain function in the
executor is reported ``timed_out`` but its thread runs on.

Data flow::

    engine --submit(chunk)--> call_soon_threadsafe --> asyncio.Queue
        --> `workers` worker coroutines --await task(item) / run_in_executor-->
    engine <--poll() -> Done / Lost-- SimpleQueue <--+
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import os
import queue
import threading
import time
from array import array
from collections.abc import Callable
from typing import Any

from ..records import ErrorInfo, Status, error_info
from ._calls import async_function, call_item
from .base import Backend, drain
from .protocol import Chunk, Done, Event, Lost

# Chunks in flight per worker: the chunker sizes a chunk at ~25 ms of work, so
# two per worker keep every coroutine fed between the engine's rounds.
_CHUNKS_PER_WORKER = 2


class AsyncioBackend(Backend):
    name = "asyncio"
    library = "asyncio"
    label = "asyncio"
    kind = "async"
    wins = "many waits (network, timers) with an async def task; never CPU work"
    description = (
        "An asyncio event loop: an async def task runs natively with at most `workers` items in "
        "flight, so thousands of waits cost no threads; a plain function runs in a thread pool "
        "of `workers` threads. Wins for many waits; cannot speed up CPU work (one loop, one "
        "coroutine at a time)."
    )

    def __init__(self, task: Callable[[Any], Any], workers: int, *,
                 timeout: float | None, origin: float) -> None:
        super().__init__(task, workers, timeout=timeout, origin=origin)
        self._coroutine_function = async_function(self.task)
        self._events: queue.SimpleQueue[Event | None] = queue.SimpleQueue()
        self._remaining: dict[int, int] = {}  # chunk id -> items without a report
        self._abandoned = False  # a plain function's thread timed out and runs on

    # -- lifecycle (engine thread) --------------------------------------------------

    def start(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._executor = (None if self._coroutine_function is not None else
                          cf.ThreadPoolExecutor(self.workers, thread_name_prefix="poolside-aio"))
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run_loop, args=(ready,),
                                        name="poolside-asyncio", daemon=True)
        self._thread.start()
        ready.wait()

    def _run_loop(self, ready: threading.Event) -> None:
        self._pid, self._tid = os.getpid(), threading.get_native_id()
        asyncio.set_event_loop(self._loop)
        self._inbox: asyncio.Queue[tuple[int, int, Any] | None] = asyncio.Queue()
        self._workers = [self._loop.create_task(self._work(slot)) for slot in range(self.workers)]
        self._loop.call_soon(ready.set)
        self._loop.run_forever()

    def shutdown(self, cancel: bool) -> None:
        future = asyncio.run_coroutine_threadsafe(self._close(cancel), self._loop)
        future.result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()
        if self._executor is not None:
            # Threads inside a plain function cannot be stopped: after a cancel
            # or a timeout, do not wait for them; they finish in the background.
            self._executor.shutdown(wait=not (cancel or self._abandoned), cancel_futures=cancel)

    async def _close(self, cancel: bool) -> None:
        if cancel:
            for worker in self._workers:
                worker.cancel()
        else:
            for _ in self._workers:
                self._inbox.put_nowait(None)
        await asyncio.gather(*self._workers, return_exceptions=True)

    # -- the loop's side ----------------------------------------------------------

    async def _work(self, slot: int) -> None:
        while (entry := await self._inbox.get()) is not None:
            chunk_id, offset, item = entry
            self._events.put(await self._one(slot, chunk_id, offset, item))

    async def _one(self, slot: int, chunk_id: int, offset: int, item: Any) -> Event:
        t0 = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout):
                if self._coroutine_function is not None:
                    value, error, cpu = await self._native(item)
                else:
                    r = await self._loop.run_in_executor(
                        self._executor, call_item, self.task, self.origin, (offset, item))
                    _, value, error, start, elapsed, cpu, pid, tid = r
                    return Done(slot, chunk_id, offset, [value], None if error is None else [(0, error)],
                                array("d", [start]), array("d", [elapsed]), cpu, False, pid, tid)
        except TimeoutError:
            self._abandoned = self._coroutine_function is None
            elapsed = time.perf_counter() - t0
            how = ("the coroutine was cancelled" if self._coroutine_function is not None else
                   "a thread cannot be stopped, so it was left to finish in the background")
            return Lost(chunk_id, offset, Status.TIMED_OUT, ErrorInfo(
                "Timeout", f"the item ran longer than its {self.timeout:g} s timeout; {how}"),
                slot, t0 - self.origin, elapsed)
        t1 = time.perf_counter()
        return Done(slot, chunk_id, offset, [value], None if error is None else [(0, error)],
                    array("d", [t0 - self.origin]), array("d", [t1 - t0]), cpu, False,
                    self._pid, self._tid)

    async def _native(self, item: Any) -> tuple[Any, ErrorInfo | None, float]:
        assert self._coroutine_function is not None
        try:
            return await self._coroutine_function(item), None, 0.0
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # our own deadline arrives as CancelledError, above
            return None, error_info(exc), 0.0

    def _accept(self, chunk: Chunk) -> None:
        for offset, item in enumerate(chunk.items):
            self._inbox.put_nowait((chunk.id, offset, item))

    # -- the engine's side -----------------------------------------------------------

    def free_slots(self) -> int:
        return self.workers * _CHUNKS_PER_WORKER - len(self._remaining)

    def submit(self, chunk: Chunk) -> list[Event]:
        self._remaining[chunk.id] = len(chunk.items)
        self._loop.call_soon_threadsafe(self._accept, chunk)
        return []

    def wake(self) -> None:
        self._events.put(None)

    def poll(self, timeout: float) -> list[Event]:
        events: list[Event] = drain(self._events, timeout)
        for event in events:
            left = self._remaining.get(event.chunk_id, 0) - 1
            if left > 0:
                self._remaining[event.chunk_id] = left
            else:
                self._remaining.pop(event.chunk_id, None)
        return events
