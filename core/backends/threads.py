"""Threads in this process, and the sequential baseline (one thread).

Threads share memory, so items and results are never pickled and a chunk
costs almost nothing to hand over: they win for I/O-bound tasks and for C code
that releases the GIL (hashing, compression, image codecs).  Pure-Python CPU
work gains nothing on them: the GIL runs one thread at a time.

A thread cannot be killed.  When an item passes its timeout, its worker is
*retired*: the item is reported ``timed_out`` at once, the rest of its chunk
runs on a fresh thread, and the old thread is left to finish the hung call in
the background and then exit without reporting.  A task that never returns
keeps its thread (a daemon) until the interpreter exits.

Threads outlive a run that ends normally: they are *parked*, and the next run
adopts them, as ThreadPoolExecutor keeps its threads between calls.  Measured
on 400 sleeps of 20 ms on 64 threads (140 ms ideal): starting 64 threads spread
the first round over ~4 ms and joining them added ~2.5 ms at the end, which put
a run at 93-95 % of ideal where ThreadPoolExecutor reached 97-98 %.  A parked
thread ends after ``IDLE_EXIT_S`` unused or at :func:`stop_idle_threads`; a
retired thread (cancel, timeout) is never parked.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable
from typing import Any, NamedTuple

from ..log import get_logger
from ..records import ErrorInfo, Status
from ._worker import FLUSH_S, IDLE, RUNNING, SLOT_START, SLOT_STATE, SLOT_WIDTH, Outbox, run_chunk
from .base import Backend
from .protocol import Chunk, Done, Event, Lost, Retry

log = get_logger(__name__)

# Chunks queued per worker beyond the one it runs: enough that a worker never
# waits for the engine between chunks, few enough to keep the tail balanced.
PREFETCH_PER_WORKER = 1

# How long a parked thread waits for another run before it ends: a parked
# thread costs its stack only, but a program that stopped running should not
# keep 64 of them for long.
IDLE_EXIT_S = 60.0


class _Worker:
    """One thread and the slot through which the engine watches it."""

    def __init__(self, index: int, send: Callable[[Done], None]) -> None:
        self.index = index
        self.slot = [0.0] * SLOT_WIDTH
        self.outbox = Outbox(send, index, self.slot, 0)
        self.retired = False
        self.thread: threading.Thread | None = None


class _Parked(NamedTuple):
    """A thread between runs, and where to send it its next run's worker."""

    mailbox: queue.SimpleQueue
    thread: threading.Thread


_idle: list[_Parked] = []
_idle_lock = threading.Lock()
_idle_changed = threading.Condition(_idle_lock)


def _thread_main(mailbox: queue.SimpleQueue, backend: ThreadBackend | None, worker: _Worker | None) -> None:
    """Run workers of successive runs: between them, park (wait in ``_idle`` for the next)."""
    me = _Parked(mailbox, threading.current_thread())
    while backend is not None and worker is not None:
        backend._work(worker)
        if worker.retired:
            return  # cancelled or given up on: it never serves another run
        backend = worker = None  # hold nothing of the finished run while parked
        with _idle_changed:
            _idle.append(me)
            _idle_changed.notify_all()
        try:
            job = mailbox.get(timeout=IDLE_EXIT_S)
        except queue.Empty:
            with _idle_lock:
                if me in _idle:
                    _idle.remove(me)
                    return
            job = mailbox.get()  # adopted just now: the job is on its way
        if job is None:
            return
        backend, worker = job
        job = None  # only the run's own references keep its backend alive


def idle_thread_count() -> int:
    """Threads parked between runs (for tests and the window)."""
    with _idle_lock:
        return len(_idle)


def idle_thread_ids() -> set[int]:
    """The native ids of the threads parked now."""
    with _idle_lock:
        return {entry.thread.native_id for entry in _idle if entry.thread.native_id is not None}


def wait_idle_threads(count: int, timeout: float) -> bool:
    """Wait until at least ``count`` threads are parked; False if ``timeout`` passed first."""
    with _idle_changed:
        return _idle_changed.wait_for(lambda: len(_idle) >= count, timeout)


def stop_idle_threads() -> None:
    """End every parked thread now and wait for them."""
    with _idle_lock:
        parked = list(_idle)
        _idle.clear()
    for entry in parked:
        entry.mailbox.put(None)
    for entry in parked:
        entry.thread.join()


class ThreadBackend(Backend):
    name = "threads"
    library = "poolside"
    label = "Threads"
    description = (
        "Threads in this process: no start-up cost and nothing is copied. Wins for I/O-bound "
        "tasks (network, disk, waiting) and for C code that releases the GIL (hashing, "
        "compression, images). Pure-Python CPU work does not speed up (the GIL). A hung item "
        "is reported at its timeout but cannot be stopped."
    )
    kind = "threads"
    wins = "I/O waits and C code that releases the GIL; nothing to copy, no start-up"
    kills_hung_items = False

    def __init__(self, task: Callable[[Any], Any], workers: int, *,
                 timeout: float | None, origin: float) -> None:
        super().__init__(task, workers, timeout=timeout, origin=origin)
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()
        self._events: queue.SimpleQueue = queue.SimpleQueue()
        self._workers: list[_Worker] = []
        # Ids of chunks submitted and not yet finished.  A set, not a count: a
        # chunk can be finished by its thread and expired by a timeout at once.
        self._in_flight: set[int] = set()
        self._next_flush = 0.0  # when poll() next looks for stalled workers (perf_counter)

    # -- lifecycle ----------------------------------------------------------

    def start(self) -> None:
        """Nothing to start yet.

        Threads start as chunks arrive (see submit), so the first item runs at
        once instead of after all of them have started: 64 threads take 7-20 ms
        to start here.  No flusher thread either: poll() does its work (a
        thread of its own cost every run ~0.2 ms to start, 1.5 % of the first
        wave of 20 ms sleeps, and woke every 20 ms to compete for the GIL).
        """

    def _spawn(self, index: int) -> _Worker:
        worker = _Worker(index, self._events.put)
        with _idle_lock:
            parked = _idle.pop() if _idle else None
        if parked is not None:
            worker.thread = parked.thread
            parked.mailbox.put((self, worker))
            return worker
        worker.thread = threading.Thread(
            target=_thread_main, args=(queue.SimpleQueue(), self, worker),
            name=f"poolside-{self.name}-{index}", daemon=True,
        )
        worker.thread.start()
        return worker

    def _work(self, worker: _Worker) -> None:
        retired = (lambda: worker.retired) if self.timeout is not None else None
        while not worker.retired:
            chunk = self._inbox.get()
            if chunk is None:
                return
            run_chunk(self.task, chunk, worker.outbox, self.origin, time.thread_time, retired=retired,
                      exact=self.timeout is not None)

    def shutdown(self, cancel: bool) -> None:
        for worker in self._workers:
            worker.retired = worker.retired or cancel
            self._inbox.put(None)
        # Not joined: after a normal end every chunk has reported, so each
        # thread only takes its None and parks.  On cancel, threads inside a
        # task finish that call in the background and exit without reporting:
        # there is no way to stop them sooner.

    # -- engine side ----------------------------------------------------------

    def free_slots(self) -> int:
        return self.workers * (1 + PREFETCH_PER_WORKER) - len(self._in_flight)

    def submit(self, chunk: Chunk) -> list[Event]:
        if len(self._workers) < self.workers:
            self._workers.append(self._spawn(len(self._workers)))
        self._in_flight.add(chunk.id)
        self._inbox.put(chunk)
        return []

    def hold(self) -> list[Event]:
        """Give back the chunks queued for the threads that no thread has taken yet."""
        events: list[Event] = []
        while True:
            try:
                chunk = self._inbox.get_nowait()
            except queue.Empty:
                return events
            if chunk is None:  # a shutdown's stop sign: it stays for its thread
                self._inbox.put(None)
                return events
            self._in_flight.discard(chunk.id)
            events.append(Retry(chunk.id, alone=False))

    def wake(self) -> None:
        self._events.put(None)

    def poll(self, timeout: float) -> list[Event]:
        wait = self.poll_wait(timeout)
        if self._workers:
            wait = min(wait, FLUSH_S)  # the flusher's beat: see _flush_stalled
        events: list[Event] = []
        try:
            first = self._events.get(timeout=wait)
            if first is not None:
                events.append(first)
        except queue.Empty:
            pass
        now = time.perf_counter()
        if now >= self._next_flush:
            self._next_flush = now + FLUSH_S
            self._flush_stalled(now)
        self._take_ready(events)
        for event in events:
            if isinstance(event, Done) and event.last:
                self._in_flight.discard(event.chunk_id)
        if self.timeout is not None:
            events.extend(self._expire())
        return events

    def _take_ready(self, events: list[Event]) -> None:
        while True:
            try:
                more = self._events.get_nowait()
            except queue.Empty:
                return
            if more is not None:
                events.append(more)

    def _flush_stalled(self, now: float) -> None:
        """Send the results finished before an item that has run ``FLUSH_S`` or more (the flusher's job).

        A worker sends its results between items only: a slow item would hold
        back those finished before it for as long as it runs.  Called once per
        ``FLUSH_S`` (the beat of a worker process's flusher thread), not per
        poll: on 64 threads of 20 ms sleeps the dispatcher polls ~100 times a
        run, and looking at every worker each time was a quarter of its time
        on the GIL, taken from the threads waking from their sleeps.
        """
        for worker in self._workers:
            worker.outbox.flush_if_stalled(now, FLUSH_S)

    def running_since(self) -> list[float]:
        return [w.slot[SLOT_START] for w in self._workers if w.slot[SLOT_STATE] == RUNNING]

    def _expire(self) -> list[Event]:
        assert self.timeout is not None
        now = time.perf_counter()
        events: list[Event] = []
        for i, worker in enumerate(self._workers):
            chunk_id, offset, started, state = worker.slot
            if state != RUNNING or now - started < self.timeout:
                continue
            worker.retired = True
            worker.slot[SLOT_STATE] = IDLE
            self._workers[i] = self._spawn(worker.index)
            log.info("worker %d: an item ran past the %g s timeout; its thread is left to finish "
                     "it in the background and a new thread takes its place", worker.index, self.timeout)
            self._in_flight.discard(int(chunk_id))
            events.append(Lost(
                int(chunk_id), int(offset), Status.TIMED_OUT,
                ErrorInfo("Timeout", f"the item ran longer than its {self.timeout:g} s timeout; "
                          "a thread cannot be stopped, so it was left to finish in the background"),
                worker.index, started - self.origin, now - started,
                os.getpid(), worker.outbox.tid or None,
            ))
            events.append(Retry(int(chunk_id), alone=False))
        return events


class SequentialBackend(ThreadBackend):
    """The baseline: one item after another on a single worker thread."""

    name = "sequential"
    library = "none"
    label = "Sequential"
    wins = "the baseline; wins only for a handful of tiny items"
    max_workers = 1
    description = (
        "One item after another, no parallelism: the baseline every other backend is "
        "measured against. Wins only when items are so few or so tiny that any pool's "
        "overhead costs more than it saves."
    )

    def __init__(self, task: Callable[[Any], Any], workers: int, *,
                 timeout: float | None, origin: float) -> None:
        super().__init__(task, 1, timeout=timeout, origin=origin)
