"""The loop that runs a chunk of items inside a worker, thread or process.

This module and ``poolside.backends._process_main`` (a worker process's entry
point) are all a worker process imports besides the task's own module, so they
stay light: no engine, no psutil, no Qt.

Data flow, for one worker::

    parent --(Chunk: id, items)--> run_chunk() --(Done batches)--> parent
                                       |
                                       +-- writes its "slot" before each item:
                                           [chunk id, offset, start time, state]

The slot lives in memory the parent can read without asking the worker (shared
memory for a process, a plain list for a thread).  It is how the parent knows
which item a hung worker is stuck on (to time it out) and which item a dead
worker was running (to blame that item and nobody else).

Results are not sent item by item (that costs more than a tiny item itself) nor
only at the end of a chunk (a slow item would hold finished ones back, and a
crash would lose them): they are flushed whenever ``flush_s`` has passed since
the last flush, and at the end of every chunk.
"""

from __future__ import annotations

import itertools
import os
import pickle
import sys
import threading
import time
from array import array
from collections.abc import Callable
from typing import Any

from ..records import error_info
from ._forks import begin_tasks, end_forked_child, end_strays, end_tasks, strays
from .protocol import Chunk, Done

# Slot layout, one row of SLOT_WIDTH floats per worker.
SLOT_CHUNK, SLOT_OFFSET, SLOT_START, SLOT_STATE = range(4)
SLOT_WIDTH = 4
# Slot states.  RUNNING means "the item at SLOT_OFFSET is inside the task".
IDLE, RUNNING, SENDING = 0.0, 1.0, 2.0

# How long finished results may wait in a worker before they are sent.  Short
# enough that streaming feels live and a crash loses little finished work;
# long enough that tiny items are sent thousands at a time.
FLUSH_S = 0.02

PICKLE_PROTOCOL = pickle.HIGHEST_PROTOCOL

# Without a timeout, the slot is rewritten at most this often instead of before
# every item.  The two writes to shared memory cost ~47 ns an item; with the
# check that replaces them, the worker loop went from 185-205 to 161-167 ns an
# item around a 25 ns task (benchmarks.probes stages).  What still reads the
# slot then (the flusher's "stuck on an item", the parent's work stealing, both
# at 20-50 ms) may be 1 ms early.  A timeout needs every item's exact start, so
# it keeps the exact path; a crash names its culprit by rerunning the chunk's
# pending items one per chunk, where the slot is exact (ProcessBackend._bury).
SLOT_REFRESH_S = 0.001
# The most items in one stretch of the loop without a timeout (_run_stretches):
# 8,192 tiny items last about a millisecond.
_MAX_STRETCH = 8192


class Outbox:
    """A worker's finished results that are not sent yet.

    The worker's loop appends to it without a lock (appends are all it does
    per item); a *flusher* thread sends what waits in it when the loop is
    stuck inside a slow item, so that items finished before a slow one are
    not held back by it.  Everything that sends or replaces the lists holds
    ``lock``; ``sent`` counts the entries of the current lists already sent.
    """

    __slots__ = ("send", "worker", "slot", "base", "lock", "chunk_id", "offset",
                 "values", "starts", "elapsed", "errors", "sent", "pid", "tid", "cpu_mark")

    def __init__(self, send: Callable[[Done], None], worker: int, slot: Any, base: int) -> None:
        self.send = send
        self.worker = worker
        self.slot = slot
        self.base = base
        self.lock = threading.Lock()
        self.pid = self.tid = 0
        #: The worker's CPU clock at its last report (``None``: not read yet in
        #: this run).  Each report carries the CPU since the one before, so a
        #: chunk reads the clock once, not twice: a thread's CPU clock is a
        #: system call (~0.3-0.8 us), and a one-item chunk pays it per item.
        #: Between two chunks a worker only waits, so nothing is lost; what it
        #: spends taking the next chunk counts with that chunk.
        self.cpu_mark: float | None = None
        self._reset(-1, 0)

    def _reset(self, chunk_id: int, offset: int) -> None:
        self.chunk_id = chunk_id
        self.offset = offset  # chunk offset of values[0]
        self.values: list = []
        # Timings travel as arrays of doubles: they pickle as one block of
        # bytes, several times faster than a list of float objects.
        self.starts = array("d")
        self.elapsed = array("d")
        self.errors: list = []  # (index into values, ErrorInfo)
        self.sent = 0

    def begin(self, chunk_id: int) -> None:
        """Start a chunk on the calling thread (which then runs all of it)."""
        with self.lock:
            if not self.tid:
                # An outbox is one worker's: its thread, in its process, for
                # good.  Asked once: each is a system call, and a one-item chunk
                # (items of 20 ms and up) pays every per-chunk cost per item.
                self.pid = os.getpid()
                self.tid = threading.get_native_id()
            self._reset(chunk_id, 0)

    def flush(self, next_offset: int, cpu_s: float, last: bool) -> None:
        """Send what is not sent yet; new lists at ``next_offset`` (if ``last``, the next begin() makes them)."""
        with self.lock:
            self._send_upto(len(self.values), cpu_s, last, handed_over=True)
            if last:
                self.sent = len(self.values)  # nothing left to send until begin()
            else:
                self._reset(self.chunk_id, next_offset)

    def flush_if_stalled(self, now: float, after_s: float) -> None:
        """From the flusher thread: send finished results if the loop is stuck on an item."""
        slot, base = self.slot, self.base
        if slot[base + SLOT_STATE] != RUNNING or now - slot[base + SLOT_START] < after_s:
            return
        with self.lock:
            # The loop appends values, then starts, then elapsed: an entry is
            # complete once it is in all three.
            ready = min(len(self.values), len(self.starts), len(self.elapsed))
            if ready > self.sent:
                self._send_upto(ready, 0.0, False)
                self.sent = ready

    def _send_upto(self, end: int, cpu_s: float, last: bool, handed_over: bool = False) -> None:
        """Send entries ``sent .. end``.  ``handed_over``: the loop appends no more to these
        lists (flush() from the loop itself: new ones follow), so they may go as they are."""
        k = self.sent
        errors = [(i - k, e) for i, e in self.errors if k <= i < end] or None
        busy = self.starts[end - 1] + self.elapsed[end - 1] - self.starts[k] if end > k else 0.0
        if handed_over and k == 0:
            # All of it (the usual case): the lists themselves, no copies.  The
            # flusher thread's partial sends copy: the loop still appends there.
            values, starts, elapsed = self.values, self.starts, self.elapsed
        else:
            values, starts, elapsed = self.values[k:end], self.starts[k:end], self.elapsed[k:end]
        self.send(Done(self.worker, self.chunk_id, self.offset + k, values, errors,
                       starts, elapsed, cpu_s, last, self.pid, self.tid, busy))


# The recursion limit a worker process starts with, and the least it needs: its
# own calls (the loop, pickling a batch, the pipe's writes) run 20 to 40 frames
# deep, so a task's sys.setrecursionlimit below this would make the worker fail
# part-way through sending results, a death that says nothing of the cause.
START_RECURSION_LIMIT = sys.getrecursionlimit()
RECURSION_FLOOR = 100


class RecursionLimitTooLow(Exception):
    """A task left the recursion limit too low for the worker's own code to run."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


def check_recursion_limit() -> None:
    """Before the worker's own deep calls: raise ``RecursionLimitTooLow`` rather than fail inside them."""
    limit = sys.getrecursionlimit()
    if limit < RECURSION_FLOOR:
        raise RecursionLimitTooLow(limit)


def guard_recursion_limit() -> None:
    """On a worker thread, set back a recursion limit a task left too low for the caller's threads.

    On threads the limit is the whole process's: the engine's dispatcher, the
    CLI's writer and the window's host run under it too, and below
    ``RECURSION_FLOOR`` they fail part-way, losing outcomes.  It is checked
    when a chunk's items have run, before their results are sent, so that the
    threads woken by them run under a sound limit.  A worker process runs its
    loop on its main thread and fails the item that did it instead
    (``_process_main``).
    """
    if sys.getrecursionlimit() >= RECURSION_FLOOR or threading.current_thread() is threading.main_thread():
        return
    from ..log import get_logger

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(START_RECURSION_LIMIT)
    get_logger(__name__).warning(
        "a task set the recursion limit to %d (sys.setrecursionlimit), too low for Poolside's own "
        "threads; it was set back to %d", limit, START_RECURSION_LIMIT)


def low_recursion_message(limit: int) -> str:
    return (f"the task set the recursion limit to {limit} (sys.setrecursionlimit), too low for "
            f"the worker process to go on; the worker set it back to {START_RECURSION_LIMIT}")


def run_flusher(outboxes: Callable[[], list[Outbox]], stop: threading.Event,
                flush_s: float = FLUSH_S) -> None:
    """Body of a flusher thread: every ``flush_s``, unblock results held by a slow item."""
    clock = time.perf_counter
    while not stop.wait(flush_s):
        now = clock()
        for box in outboxes():
            try:
                box.flush_if_stalled(now, flush_s)
            except RecursionLimitTooLow:
                pass  # the worker's loop meets it too, at its next flush, and reports it


def run_chunk(
    task: Callable[[Any], Any],
    chunk: Chunk,
    box: Outbox,
    origin: float,
    cpu_clock: Callable[[], float],
    flush_s: float = FLUSH_S,
    retired: Callable[[], bool] | None = None,
    exact: bool = True,
) -> None:
    """Run every item of ``chunk`` through ``task`` and send the results.

    ``retired`` lets a thread worker that the parent gave up on (a timeout)
    stop between items.  ``exact`` writes the slot before every item (a
    timeout needs it); without it the slot is refreshed every
    ``SLOT_REFRESH_S`` and its offset is the first item the worker may be in.
    """
    if not exact and retired is None:
        if len(chunk.items) == 1:
            _run_single(task, chunk, box, origin, cpu_clock)
        else:
            _run_stretches(task, chunk, box, origin, cpu_clock, flush_s)
        return
    clock = time.perf_counter
    items = chunk.items
    slot, base = box.slot, box.base
    box.begin(chunk.id)
    values, starts, elapsed, errors = box.values, box.starts, box.elapsed, box.errors
    offset_index = base + SLOT_OFFSET
    start_index = base + SLOT_START
    # The slot is written before RUNNING is set, and START before OFFSET, so
    # that the parent never pairs a running item with a stale start time.
    slot[base + SLOT_CHUNK] = chunk.id
    slot[start_index] = clock()
    slot[offset_index] = 0
    slot[base + SLOT_STATE] = RUNNING
    cpu_mark = cpu_clock() if box.cpu_mark is None else box.cpu_mark
    flushed_at = t0 = clock()
    last = len(items) - 1
    add_value, add_start, add_elapsed = values.append, starts.append, elapsed.append
    refresh_s = 0.0 if exact else SLOT_REFRESH_S
    written = t0
    forked, stray = begin_tasks(), strays  # locals: a few ns an item, read after every item
    for offset, item in enumerate(items):
        # One clock read per item: an item starts when the one before it ended.
        if t0 - written >= refresh_s:
            slot[start_index] = written = t0
            slot[offset_index] = offset
        try:
            value = task(item)
        except BaseException as exc:
            if forked:
                end_forked_child()
            errors.append((len(values), error_info(exc)))
            value = None
        if forked:
            end_forked_child()
        if stray:
            end_strays()
        t1 = clock()
        if retired is not None and retired():
            end_tasks()
            return  # the parent gave up on this thread; its items run elsewhere
        add_value(value)
        add_start(t0 - origin)
        add_elapsed(t1 - t0)
        t0 = t1
        if t1 - flushed_at >= flush_s and offset < last:
            slot[base + SLOT_STATE] = SENDING
            cpu_now = cpu_clock()
            box.flush(offset + 1, cpu_now - cpu_mark, False)
            values, starts, elapsed, errors = box.values, box.starts, box.elapsed, box.errors
            add_value, add_start, add_elapsed = values.append, starts.append, elapsed.append
            flushed_at = t0 = clock()
            slot[start_index] = written = t0
            slot[offset_index] = offset + 1
            slot[base + SLOT_STATE] = RUNNING
            cpu_mark = cpu_now
    end_tasks()
    guard_recursion_limit()
    slot[base + SLOT_STATE] = SENDING
    box.cpu_mark = cpu_now = cpu_clock()
    box.flush(len(items), cpu_now - cpu_mark, True)
    slot[base + SLOT_STATE] = IDLE


def _run_single(task: Callable[[Any], Any], chunk: Chunk, box: Outbox, origin: float,
                cpu_clock: Callable[[], float]) -> None:
    """``run_chunk`` of a one-item chunk without a timeout: the loop's bookkeeping, without the loop.

    Items of ``poolside.engine.chunking.TARGET_S`` and longer travel alone, so
    this is every item of a run of waits or of slow CPU work, and every cost
    here is paid per item, on the GIL that 64 threads waking from their sleeps
    at once take turns on.  The result goes straight to ``send``: this path
    never fills the outbox's lists, so the flusher finds nothing there to send
    and neither their reset nor the outbox's lock is needed (1-item chunks
    with a no-op task: 4.5 -> 3.1 us each).
    """
    clock = time.perf_counter
    slot, base = box.slot, box.base
    if not box.tid:
        box.begin(chunk.id)  # the worker's first chunk: it learns its process and thread ids
    slot[base + SLOT_CHUNK] = chunk.id
    cpu_mark = cpu_clock() if box.cpu_mark is None else box.cpu_mark
    t0 = clock()
    # START before OFFSET (see run_chunk): never a running item with a stale start.
    slot[base + SLOT_START] = t0
    slot[base + SLOT_OFFSET] = 0
    slot[base + SLOT_STATE] = RUNNING
    forked, stray = begin_tasks(), strays  # locals: a few ns an item, read after every item
    errors = None
    try:
        value = task(chunk.items[0])
    except BaseException as exc:
        if forked:
            end_forked_child()
        errors = [(0, error_info(exc))]
        value = None
    if forked:
        end_forked_child()
    if stray:
        end_strays()
    t1 = clock()
    end_tasks()
    guard_recursion_limit()
    slot[base + SLOT_STATE] = SENDING
    box.cpu_mark = cpu_now = cpu_clock()
    box.send(Done(box.worker, chunk.id, 0, [value], errors, array("d", (t0 - origin,)),
                  array("d", (t1 - t0,)), cpu_now - cpu_mark, True, box.pid, box.tid, t1 - t0))
    slot[base + SLOT_STATE] = IDLE


def _run_stretches(task: Callable[[Any], Any], chunk: Chunk, box: Outbox, origin: float,
                   cpu_clock: Callable[[], float], flush_s: float) -> None:
    """``run_chunk`` without a timeout: the items in *stretches* of about ``SLOT_REFRESH_S``.

    The slot is written and the flush deadline checked once per stretch, not
    per item, so the loop around a tiny item is its call, one clock read and
    three appends: 130-140 ns an item around a 25 ns task, where the loop that
    checks both per item takes 160-200 (benchmarks.probes stages).  A stretch
    starts at one item and doubles while it takes less than ``SLOT_REFRESH_S``
    (halves past four times that), so slow items run one per stretch and the
    slot is as exact as ever for them; for fast ones it may be one stretch,
    about a millisecond, early.  Item times stay exact: each item's start is
    the end of the one before it.
    """
    clock = time.perf_counter
    items = chunk.items
    n = len(items)
    slot, base = box.slot, box.base
    box.begin(chunk.id)
    values, starts, elapsed, errors = box.values, box.starts, box.elapsed, box.errors
    add_value, add_start, add_elapsed = values.append, starts.append, elapsed.append
    offset_index = base + SLOT_OFFSET
    start_index = base + SLOT_START
    state_index = base + SLOT_STATE
    slot[base + SLOT_CHUNK] = chunk.id
    slot[start_index] = clock()
    slot[offset_index] = 0
    slot[state_index] = RUNNING
    cpu_mark = cpu_clock() if box.cpu_mark is None else box.cpu_mark
    flushed_at = t0 = clock()
    source = iter(items)
    done = 0
    step = 1
    forked, stray = begin_tasks(), strays  # locals: a few ns an item, read after every item
    while done < n:
        # START before OFFSET (see run_chunk): never a running item with a stale start.
        slot[start_index] = began = t0
        slot[offset_index] = done
        for item in itertools.islice(source, step):
            try:
                add_value(task(item))
            except BaseException as exc:
                if forked:
                    end_forked_child()
                errors.append((len(values), error_info(exc)))
                add_value(None)
            if forked:
                end_forked_child()
            if stray:
                end_strays()
            t1 = clock()
            add_start(t0 - origin)
            add_elapsed(t1 - t0)
            t0 = t1
        done = len(values) + box.offset
        took = t0 - began
        if took < SLOT_REFRESH_S:
            step = min(step * 2, _MAX_STRETCH)
        elif took > 4 * SLOT_REFRESH_S and step > 1:
            step //= 2
        if t0 - flushed_at >= flush_s and done < n:
            slot[state_index] = SENDING
            cpu_now = cpu_clock()
            box.flush(done, cpu_now - cpu_mark, False)
            values, starts, elapsed, errors = box.values, box.starts, box.elapsed, box.errors
            add_value, add_start, add_elapsed = values.append, starts.append, elapsed.append
            flushed_at = t0 = clock()
            slot[state_index] = RUNNING
            cpu_mark = cpu_now
    end_tasks()
    guard_recursion_limit()
    slot[state_index] = SENDING
    box.cpu_mark = cpu_now = cpu_clock()
    box.flush(n, cpu_now - cpu_mark, True)
    slot[state_index] = IDLE


def call_chunk(task: Callable[[Any], Any], chunk: Chunk, origin: float) -> Done:
    """Run a whole chunk and return its results as one batch.

    This is how the classic pools run a chunk (``multiprocessing.Pool``,
    ``concurrent.futures``, Dask): one call in, one result out, no slot, no
    streaming from inside the chunk.  ``Done.worker`` is a key for the
    process and thread that ran it; the adapter maps it to a worker slot.
    """
    sent: list[Done] = []
    key = hash((os.getpid(), threading.get_ident()))
    box = Outbox(sent.append, key, [0.0] * SLOT_WIDTH, 0)
    # Nobody reads this slot (a classic pool cannot see it): never exact.
    run_chunk(task, chunk, box, origin, time.thread_time, flush_s=float("inf"), exact=False)
    return sent[-1]
