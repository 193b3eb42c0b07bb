"""The entry point of a worker process, and the messages on its pipes.

Data flow, for one worker process (forked from the caller, the zygote or the
forkserver; see ``poolside.backends.processes``)::

    task pipe ──► inbox thread ──► inbox (deque) ──► _serve(): TASK: load the run's task
        │            │                                          CHUNK: run_chunk() ──► result pipe
        │            └── RETRACT: give back a chunk not started yet (work stealing)
        └── closed (the parent stops it, or died): the process ends at once

Together with ``poolside.backends._worker`` (the loop that runs a chunk, and
the records on the pipes), this is all a worker process imports besides the
task's own module: no engine, no psutil, no Qt.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from ..records import ErrorInfo, describe_error, error_info
from ._worker import (
    IDLE,
    PICKLE_PROTOCOL,
    RECURSION_FLOOR,
    SLOT_STATE,
    START_RECURSION_LIMIT,
    Outbox,
    check_recursion_limit,
    low_recursion_message,
    run_chunk,
    run_flusher,
)
from .protocol import Chunk, ChunkUnreadable, Done, Ready, Retracted


def _picklable_done(done: Done) -> bytes:
    """Pickle ``done``; values that cannot be pickled become failures, not a hang."""
    try:
        return pickle.dumps(done, PICKLE_PROTOCOL)
    except Exception:
        values = list(done.values)
        errors = list(done.errors or [])
        failed = {i for i, _ in errors}
        for i, value in enumerate(values):
            if i in failed:
                continue
            try:
                pickle.dumps(value, PICKLE_PROTOCOL)
            except Exception as exc:
                values[i] = None
                errors.append((i, ErrorInfo(
                    "PicklingError",
                    f"the task's result ({type(value).__name__}) cannot be sent back "
                    f"from the worker process: {describe_error(exc)}",
                )))
        errors.sort(key=lambda e: e[0])
        return pickle.dumps(done._replace(values=values, errors=errors or None), PICKLE_PROTOCOL)


def process_main(task_conn: Any, result_conn: Any, slots: Any, flush_s: float,
                 idle_exit_s: float) -> None:
    """Entry point of a worker process (spawned or forked from the forkserver).

    A worker outlives one run: between runs it waits, parked, for the next
    run's task, and it ends by itself after ``idle_exit_s`` with nothing to do.
    """
    # The parent decides when a worker stops; Ctrl-C in a terminal reaches the
    # whole process group and must not turn into a traceback per worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    lead_own_group()
    slot = slots.create_memoryview().cast("d")
    inbox, arrived, send_message, box = _start_inbox(task_conn, result_conn, slot, flush_s)
    _serve(inbox, arrived, send_message, box, flush_s, idle_exit_s)


def _start_inbox(
    task_conn: Any, result_conn: Any, slot: Any, flush_s: float,
) -> tuple[deque[bytes], threading.Condition, Callable[[Any], None], Outbox]:
    """Start the worker's two threads: the task pipe's reader and the outbox's flusher."""
    # A reader thread drains the task pipe at once, so the parent's send of a
    # large chunk never blocks while this worker is busy and may itself be
    # blocked sending results (the classic two-pipe deadlock).  It also answers
    # the parent's "retract" requests: a chunk that is still waiting here may be
    # taken back and given to a worker that is idle (work stealing).  And it
    # ends the worker when the pipe closes: the parent closes it to stop this
    # worker, and the system closes it when the parent dies, so a worker stuck
    # in a task never outlives a parent that was killed.
    inbox: deque[bytes] = deque()
    arrived = threading.Condition()
    send_lock = threading.Lock()

    def send_message(message: Any) -> None:
        data = pickle.dumps(message, PICKLE_PROTOCOL)
        with send_lock:
            result_conn.send_bytes(data)

    def read_tasks() -> None:
        try:
            while True:
                message = task_conn.recv_bytes()
                if message[:1] == RETRACT:
                    if _take_back(inbox, arrived, message[1:9]):
                        send_message(Retracted(box.worker, _frame_id(message)))
                    continue
                with arrived:
                    inbox.append(message)
                    arrived.notify()
        except (EOFError, OSError):
            os._exit(0)  # from any thread: the whole process ends now

    def send(done: Done) -> None:
        check_recursion_limit()  # before pickling and the pipe: not half a message on it
        data = _picklable_done(done)
        with send_lock:
            result_conn.send_bytes(data)

    box = Outbox(send, -1, slot, 0)
    threading.Thread(target=read_tasks, name="poolside-inbox", daemon=True).start()
    threading.Thread(target=run_flusher, args=(lambda: [box], threading.Event(), flush_s),
                     name="poolside-flusher", daemon=True).start()
    return inbox, arrived, send_message, box


def _serve(inbox: deque[bytes], arrived: threading.Condition, send_message: Callable[[Any], None],
           box: Outbox, flush_s: float, idle_exit_s: float) -> None:
    """The worker's loop: load each run's task, run each chunk; end after ``idle_exit_s`` idle."""
    task: Callable[[Any], Any] | None = None
    origin = 0.0
    exact = True
    cpu_clock = time.process_time
    while True:
        with arrived:
            if not inbox and not arrived.wait_for(lambda: inbox, idle_exit_s):
                os._exit(0)  # parked too long: give the memory back
            message = inbox.popleft()
        kind = message[:1]
        if kind == TASK:
            box.worker, origin, exact, task = _load_task(memoryview(message)[9:])
            box.cpu_mark = None  # a new run: its CPU counts from its first chunk
            send_message(Ready(box.worker))
            continue
        try:
            chunk = pickle.loads(memoryview(message)[9:])
        except BaseException as exc:
            send_message(ChunkUnreadable(box.worker, _frame_id(message), error_info(exc)))
            continue
        assert task is not None, "a chunk came before its task"
        try:
            run_chunk(task, chunk, box, origin, cpu_clock, flush_s, exact=exact)
        except BaseException:
            limit = sys.getrecursionlimit()
            if limit >= RECURSION_FLOOR:
                raise
            sys.setrecursionlimit(START_RECURSION_LIMIT)
            _fail_for_recursion_limit(box, chunk, origin, limit)


# How a worker process ends when a task of a chunk of several items left the
# recursion limit too low: the parent then runs the chunk's items not reported
# yet one per chunk, and the one that sets the limit gets its own message
# (_fail_for_recursion_limit).  Should it end the worker anyway (the last item
# left), ``_kill.worker_died`` says the cause from this status.
EXIT_RECURSION_LIMIT = 87


def _fail_for_recursion_limit(box: Outbox, chunk: Chunk, origin: float, limit: int) -> None:
    """A task of ``chunk`` left the recursion limit at ``limit``: the item fails, or the worker ends.

    The loop meets a low limit only when it sends results, not after the very
    item that set it, so in a chunk of several items the culprit is not known:
    the worker ends, and the parent runs the items not reported one by one.
    In a chunk of one item, that item is the culprit: it fails with the cause
    and the worker, its limit set back, goes on.
    """
    if len(chunk.items) != 1:
        os._exit(EXIT_RECURSION_LIMIT)
    box.begin(chunk.id)
    now = time.perf_counter() - origin
    box.values.append(None)
    box.starts.append(now)
    box.elapsed.append(0.0)
    box.errors.append((0, ErrorInfo("RecursionError", low_recursion_message(limit))))
    box.flush(1, 0.0, True)
    box.slot[box.base + SLOT_STATE] = IDLE


def lead_own_group() -> None:
    """Make this worker the leader of a process group of its own, in the caller's session.

    Whatever a task starts (a tool run with ``subprocess``, and what that
    starts) joins the worker's group, so the parent's one ``killpg`` at a
    timeout or a cancel ends them all with the worker: nothing is left holding
    the caller's pipes open or running on (``poolside.backends.processes.kill_worker``).

    A group, not a session (``setsid``): Linux schedules each session as a
    group of its own (autogroup), so a worker in a new session would escape
    the caller's share of the CPU and its nice value.  Measured on 2 loaded
    cores, two workers of 1 s of CPU each took 2.5-2.8 s in sessions of their
    own against 1.2 s in the caller's session at nice -15; and the run host's
    workers would compete with the window as equals, whatever the host's nice.
    Being outside the terminal's foreground group, a worker still gets no
    Ctrl-C or Ctrl-Z of its own: the parent stops its workers itself (pipes
    closed, or killed).  A process that starts a session of its own (a
    daemon) leaves the group; the parent looks for those among the worker's
    descendants when it kills it.  The alternative, the parent as a child
    subreaper (``PR_SET_CHILD_SUBREAPER``), would catch daemons too, but is
    Linux-only and makes the parent, the window or the CLI, the reaper of
    every orphan below it, which Python's process objects do not expect.
    """
    if hasattr(os, "setpgid"):  # not on Windows (nothing to kill by group there)
        try:
            os.setpgid(0, 0)
        except OSError:
            pass  # already a group leader


def _load_task(data: Any) -> tuple[int, float, bool, Callable[[Any], Any]]:
    """A run's task message: this worker's number in the run, its clock origin, whether
    the slot must be exact (the run has a timeout), the task."""
    worker, origin, exact, task_bytes = pickle.loads(data)
    try:
        return worker, origin, exact, pickle.loads(task_bytes)
    except BaseException as exc:
        load_error = error_info(exc)

        def task(item: Any, _e: ErrorInfo = load_error) -> Any:
            raise RuntimeError(f"the task could not be loaded in the worker process: {_e}")

        return worker, origin, exact, task


# Messages on a task pipe are framed: one byte of kind, eight of chunk id, then
# the pickle of a chunk, or of a run's task.  The id up front lets a worker
# name a chunk it cannot unpickle, and find a chunk to take back without
# unpickling any.
CHUNK, RETRACT, TASK = b"C", b"R", b"T"


def _frame_id(message: bytes) -> int:
    return int.from_bytes(message[1:9], "little")


def _take_back(inbox: deque, arrived: threading.Condition, chunk_id: bytes) -> bool:
    with arrived:
        for message in inbox:
            if message[:1] == CHUNK and message[1:9] == chunk_id:
                inbox.remove(message)
                return True
    return False


def retract_message(chunk_id: int) -> bytes:
    return RETRACT + chunk_id.to_bytes(8, "little")


def task_message(worker: int, origin: float, task_bytes: bytes, exact: bool = True) -> bytes:
    return TASK + bytes(8) + pickle.dumps((worker, origin, exact, task_bytes), PICKLE_PROTOCOL)


def dumps_chunk(chunk: Chunk) -> bytes:
    return CHUNK + chunk.id.to_bytes(8, "little") + pickle.dumps(chunk, PICKLE_PROTOCOL)
