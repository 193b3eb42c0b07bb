"""The loop that runs a chunk of items inside a worker, thread or process.

This module is all a worker process imports (besides the task's own module), so
it stays light: no engine, no psutil, no Qt.

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

import os
import pickle
import queue
import signal
import sys
import threading
import time
import traceback
from array import array
from typing import Any, Callable, NamedTuple

from core.records import ErrorInfo

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


class Chunk(NamedTuple):
    """A run of consecutive input items sent to one worker as one message."""

    id: int
    items: list


class Done(NamedTuple):
    """Finished items ``offset .. offset+len(values)-1`` of one chunk.

    ``errors`` lists ``(i, ErrorInfo)`` for the items among them whose task
    raised (their value is ``None``); it is ``None`` when every item succeeded,
    which keeps the common case one allocation cheaper.
    """

    worker: int
    chunk_id: int
    offset: int
    values: list
    errors: list | None
    starts: Any  # array('d'): seconds since the job's origin, per item
    elapsed: Any  # array('d'): seconds, per item
    cpu_s: float
    last: bool  # the worker has finished this chunk


class ChunkUnreadable(NamedTuple):
    """A process worker could not unpickle a chunk (say, a class it cannot import)."""

    worker: int
    chunk_id: int
    error: ErrorInfo


def error_info(exc: BaseException) -> ErrorInfo:
    """An exception as a picklable record, with the worker's own traceback."""
    return ErrorInfo(
        type(exc).__name__,
        str(exc),
        "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
    )


def run_chunk(
    task: Callable[[Any], Any],
    chunk: Chunk,
    slot: Any,
    base: int,
    send: Callable[[Done], None],
    worker: int,
    origin: float,
    cpu_clock: Callable[[], float],
    flush_s: float = FLUSH_S,
    retired: Callable[[], bool] | None = None,
) -> None:
    """Run every item of ``chunk`` through ``task`` and send the results.

    ``slot[base:base+SLOT_WIDTH]`` is this worker's slot.  ``retired`` lets a
    thread worker that the parent gave up on (a timeout) stop between items.
    """
    clock = time.perf_counter
    items = chunk.items
    values: list = []
    # Timings travel as arrays of doubles: they pickle as one block of bytes,
    # several times faster than a list of float objects.
    starts = array("d")
    elapsed = array("d")
    errors: list | None = None
    batch_offset = 0
    offset_index = base + SLOT_OFFSET
    start_index = base + SLOT_START
    # The slot is written before RUNNING is set, and START before OFFSET, so
    # that the parent never pairs a running item with a stale start time.
    slot[base + SLOT_CHUNK] = chunk.id
    slot[start_index] = clock()
    slot[offset_index] = 0
    slot[base + SLOT_STATE] = RUNNING
    cpu_mark = cpu_clock()
    flushed_at = clock()
    for offset, item in enumerate(items):
        t0 = clock()
        slot[start_index] = t0
        slot[offset_index] = offset
        try:
            value = task(item)
        except BaseException as exc:  # noqa: BLE001 - every failure is the item's outcome
            if errors is None:
                errors = []
            errors.append((len(values), error_info(exc)))
            value = None
        t1 = clock()
        if retired is not None and retired():
            return  # the parent gave up on this thread; its items run elsewhere
        values.append(value)
        starts.append(t0 - origin)
        elapsed.append(t1 - t0)
        if t1 - flushed_at >= flush_s and offset + 1 < len(items):
            slot[base + SLOT_STATE] = SENDING
            cpu_now = cpu_clock()
            send(Done(worker, chunk.id, batch_offset, values, errors, starts, elapsed,
                      cpu_now - cpu_mark, False))
            slot[base + SLOT_STATE] = RUNNING
            cpu_mark = cpu_now
            batch_offset = offset + 1
            values, starts, elapsed, errors = [], array("d"), array("d"), None
            flushed_at = clock()
    slot[base + SLOT_STATE] = SENDING
    send(Done(worker, chunk.id, batch_offset, values, errors, starts, elapsed,
              cpu_clock() - cpu_mark, True))
    slot[base + SLOT_STATE] = IDLE


# --------------------------------------------------------------------------
# Process workers


def _die_with_parent() -> None:
    """Ask Linux to kill this worker if the process that forked it dies.

    A worker stuck in a task never reads the EOF of its task pipe, so without
    this a parent killed with SIGKILL would leave it running.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except Exception:  # noqa: BLE001 - best effort; the pipe EOF still ends idle workers
        pass


def _picklable_done(done: Done) -> bytes:
    """Pickle ``done``; values that cannot be pickled become failures, not a hang."""
    try:
        return pickle.dumps(done, PICKLE_PROTOCOL)
    except Exception:  # noqa: BLE001 - find the culprits one by one (rare path)
        values = list(done.values)
        errors = list(done.errors or [])
        failed = {i for i, _ in errors}
        for i, value in enumerate(values):
            if i in failed:
                continue
            try:
                pickle.dumps(value, PICKLE_PROTOCOL)
            except Exception as exc:  # noqa: BLE001
                values[i] = None
                errors.append((i, ErrorInfo(
                    "PicklingError",
                    f"the task's result ({type(value).__name__}) cannot be sent back "
                    f"from the worker process: {exc}",
                )))
        errors.sort(key=lambda e: e[0])
        return pickle.dumps(done._replace(values=values, errors=errors or None), PICKLE_PROTOCOL)


def process_main(worker: int, task_conn: Any, result_conn: Any, slots: Any,
                 origin: float, task_bytes: bytes, flush_s: float) -> None:
    """Entry point of a worker process (spawned or forked from the forkserver)."""
    _die_with_parent()
    # The parent decides when a worker stops; Ctrl-C in a terminal reaches the
    # whole process group and must not turn into a traceback per worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    slot = memoryview(slots).cast("B").cast("d")
    base = worker * SLOT_WIDTH

    # A reader thread drains the task pipe at once, so the parent's send of a
    # large chunk never blocks while this worker is busy and may itself be
    # blocked sending results (the classic two-pipe deadlock).
    inbox: queue.SimpleQueue = queue.SimpleQueue()

    def read_tasks() -> None:
        try:
            while True:
                inbox.put(task_conn.recv_bytes())
        except (EOFError, OSError):
            inbox.put(None)

    threading.Thread(target=read_tasks, name="poolside-inbox", daemon=True).start()

    def send(done: Done) -> None:
        result_conn.send_bytes(_picklable_done(done))

    try:
        task = pickle.loads(task_bytes)
    except BaseException as exc:  # noqa: BLE001 - every item then fails with the reason
        load_error = error_info(exc)

        def task(item: Any, _e: ErrorInfo = load_error) -> Any:
            raise RuntimeError(f"the task could not be loaded in the worker process: {_e}")

    cpu_clock = time.process_time
    while True:
        message = inbox.get()
        if message is None:
            break
        try:
            chunk = pickle.loads(memoryview(message)[8:])
        except BaseException as exc:  # noqa: BLE001
            chunk_id = _peek_chunk_id(message)
            result_conn.send_bytes(pickle.dumps(
                ChunkUnreadable(worker, chunk_id, error_info(exc)), PICKLE_PROTOCOL))
            continue
        run_chunk(task, chunk, slot, base, send, worker, origin, cpu_clock, flush_s)
    os._exit(0)  # skip interpreter teardown: nothing is left to flush


def _peek_chunk_id(message: bytes) -> int:
    # The parent frames each chunk as 8 bytes of id, then the pickle.
    return int.from_bytes(message[:8], "little")


def dumps_chunk(chunk: Chunk) -> bytes:
    return chunk.id.to_bytes(8, "little") + pickle.dumps(chunk, PICKLE_PROTOCOL)
