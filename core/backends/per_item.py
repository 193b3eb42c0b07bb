"""A new thread, or a new process, for every item: the first parallel loop people write.

    for item in items:
        t = threading.Thread(target=task, args=(item,)); t.start(); threads.append(t)
    for t in threads: t.join()

Faithfully that, with one change: at most ``workers`` threads (or processes)
are alive at once, so 100,000 items do not start 100,000 threads together.
Each item pays a whole start-up (a thread: ~50-100 us; a process from the
forkserver: ~5-20 ms), which is exactly what the comparison shows.

Data flow::

    thread-per-item:  engine --chunk--> inbox --> starter thread --Thread(item)--> events
    process-per-item: engine --chunk--> pending --poll() starts Process(item)--> pipe --> events

A thread cannot be stopped: a hung item holds its thread (and its place) until
the run is cancelled.  A process can: with a timeout, a hung item's process is
killed; an item that crashes its process (a segfault, ``os._exit``) costs that
item alone.
"""

from __future__ import annotations

import multiprocessing.connection as mpc
import pickle
import queue
import threading
import time
from array import array
from collections import deque
from collections.abc import Callable
from typing import Any

from ..records import ErrorInfo, Status, describe_error
from ._calls import CPU, ELAPSED, ERROR, PID, START, TID, VALUE, call_item, process_item
from ._kill import kill_worker
from ._memcap import died, memory_cap
from ._unpickle import repair_result, unreadable_error
from ._worker import PICKLE_PROTOCOL
from .base import Backend, drain
from .processes import worker_context
from .protocol import Chunk, Done, Event, Lost

# Items waiting to start beyond those running: enough that a finished item's
# place is taken at once, not after a round trip to the engine.
_WAITING_PER_WORKER = 2


def _done(slot: int, chunk_id: int, offset: int, r: tuple) -> Done:
    errors = None if r[ERROR] is None else [(0, r[ERROR])]
    return Done(slot, chunk_id, offset, [r[VALUE]], errors, array("d", [r[START]]),
                array("d", [r[ELAPSED]]), r[CPU], False, r[PID], r[TID])


class ThreadPerItemBackend(Backend):
    name = "thread-per-item"
    library = "threading"
    label = "A thread per item"
    kind = "threads"
    wins = "never, against a pool; it shows what starting a thread per item costs"
    description = (
        "threading.Thread started and joined for every item, at most `workers` alive at once "
        "(so a long input does not start thousands of threads together). Like Threads for "
        "I/O, plus a thread start per item; no per-item timeout (a thread cannot be stopped)."
    )

    def __init__(self, task: Callable[[Any], Any], workers: int, *,
                 timeout: float | None, origin: float) -> None:
        if timeout is not None:
            raise ValueError("the thread-per-item backend has no per-item timeout (a thread "
                             "cannot be stopped); use processes or process-per-item for one")
        super().__init__(task, workers, timeout=timeout, origin=origin)
        self._inbox: queue.SimpleQueue[Chunk | None] = queue.SimpleQueue()
        self._events: queue.SimpleQueue[Event | None] = queue.SimpleQueue()
        self._ended: queue.SimpleQueue[tuple[threading.Thread, int]] = queue.SimpleQueue()
        self._waiting = 0  # items submitted and not started (read by the engine's thread only)
        self._started = 0  # written by the starter thread
        self._submitted = 0
        self._stopping = threading.Event()

    def start(self) -> None:
        self._starter = threading.Thread(target=self._start_items, name="poolside-per-item",
                                         daemon=True)
        self._starter.start()

    def _start_items(self) -> None:
        free = list(range(self.workers - 1, -1, -1))
        alive = 0
        while (chunk := self._inbox.get()) is not None:
            for offset, item in enumerate(chunk.items):
                while not free:  # at most `workers` alive: join one that ended first
                    thread, slot = self._ended.get()
                    thread.join()
                    free.append(slot)
                    alive -= 1
                if self._stopping.is_set():
                    return  # cancelled: start nothing more, leave running threads be
                slot = free.pop()
                thread = threading.Thread(target=self._run_one, args=(chunk.id, offset, item, slot),
                                          name=f"poolside-item-{slot}", daemon=True)
                thread.start()
                alive += 1
                self._started += 1
        while alive and not self._stopping.is_set():
            thread, _ = self._ended.get()
            thread.join()
            alive -= 1

    def _run_one(self, chunk_id: int, offset: int, item: Any, slot: int) -> None:
        result = call_item(self.task, self.origin, (offset, item))
        self._events.put(_done(slot, chunk_id, offset, result))
        self._ended.put((threading.current_thread(), slot))

    def free_slots(self) -> int:
        waiting = self._submitted - self._started
        return 1 if waiting < self.workers * _WAITING_PER_WORKER else 0

    def submit(self, chunk: Chunk) -> list[Event]:
        self._submitted += len(chunk.items)
        self._inbox.put(chunk)
        return []

    def wake(self) -> None:
        self._events.put(None)

    def poll(self, timeout: float) -> list[Event]:
        events: list[Event] = drain(self._events, timeout)
        return events

    def shutdown(self, cancel: bool) -> None:
        if cancel:
            self._stopping.set()
            self._ended.put((threading.current_thread(), -1))  # a starter waiting for a place wakes
        self._inbox.put(None)
        if not cancel:
            self._starter.join()
        # On cancel, threads inside a task finish that call in the background.


class _Running:
    __slots__ = ("process", "conn", "chunk_id", "offset", "slot", "started", "pid")

    def __init__(self, process: Any, conn: Any, chunk_id: int, offset: int, slot: int) -> None:
        self.process = process
        self.conn = conn
        self.chunk_id = chunk_id
        self.offset = offset
        self.slot = slot
        self.started = time.perf_counter()
        self.pid = process.pid


class ProcessPerItemBackend(Backend):
    name = "process-per-item"
    library = "multiprocessing"
    label = "A process per item"
    kind = "processes"
    uses_zygote = True
    wins = "a few long items that may crash or hang: each is isolated and killable"
    description = (
        "multiprocessing.Process started for every item, at most `workers` alive at once; the "
        "result comes back through a pipe. Every item pays a process start (milliseconds), so "
        "it only suits few, long items; in return a crash or a timeout costs that item alone."
    )
    kills_hung_items = True
    caps_worker_memory = True

    def __init__(self, task: Callable[[Any], Any], workers: int, *,
                 timeout: float | None, origin: float, max_memory_per_worker: int | None = None) -> None:
        super().__init__(task, workers, timeout=timeout, origin=origin)
        self._pending: deque[tuple[int, int, Any]] = deque()  # (chunk id, offset, item)
        self._running: dict[Any, _Running] = {}  # by result connection
        # (The cap's thread copies the running items in one C call: atomic under the GIL.)
        self._memcap = memory_cap(max_memory_per_worker, lambda: [r.pid for r in tuple(self._running.values())])
        self._free = list(range(workers - 1, -1, -1))
        self._wake_lock = threading.Lock()
        self._closing = False

    def start(self) -> None:
        try:
            pickle.dumps(self.task, PICKLE_PROTOCOL)
        except Exception as exc:
            raise TypeError(
                "the task cannot be sent to worker processes: it must be picklable (a function "
                f"defined at the top level of a module, not a lambda or a nested function): {describe_error(exc)}"
            ) from exc
        # A process per item: from the zygote when it runs (a fork of about a
        # millisecond), else from the forkserver (see processes.worker_context).
        self._ctx: Any = worker_context()
        self._wake_r: mpc.Connection
        self._wake_r, self._wake_w = self._ctx.Pipe(duplex=False)
        if self._memcap is not None:
            self._memcap.start()

    def free_slots(self) -> int:
        return 1 if len(self._pending) < self.workers * _WAITING_PER_WORKER else 0

    def submit(self, chunk: Chunk) -> list[Event]:
        self._pending.extend((chunk.id, offset, item) for offset, item in enumerate(chunk.items))
        return self._launch()

    def _launch(self) -> list[Event]:
        events: list[Event] = []
        while self._pending and self._free:
            chunk_id, offset, item = self._pending.popleft()
            slot = self._free.pop()
            result_r, result_w = self._ctx.Pipe(duplex=False)
            process = self._ctx.Process(target=process_item,
                                        args=(result_w, self.task, self.origin, offset, item),
                                        name="poolside-item", daemon=True)
            try:
                process.start()
            except Exception as exc:  # the item cannot be sent (unpicklable)
                result_r.close()
                result_w.close()
                self._free.append(slot)
                events.append(Lost(chunk_id, offset, Status.FAILED, ErrorInfo(
                    "PicklingError", f"the item cannot be sent to a worker process: {describe_error(exc)}"),
                    slot, None, 0.0))
                continue
            result_w.close()
            self._running[result_r] = _Running(process, result_r, chunk_id, offset, slot)
        return events

    def wake(self) -> None:
        with self._wake_lock:
            if not self._closing:
                self._wake_w.send_bytes(b"")

    def running_since(self) -> list[float]:
        return [r.started for r in self._running.values()]

    def poll(self, timeout: float) -> list[Event]:
        ready = mpc.wait([*self._running, self._wake_r], self.poll_wait(timeout))
        events: list[Event] = []
        for conn in ready:
            if conn is self._wake_r:
                while self._wake_r.poll():
                    self._wake_r.recv_bytes()
                continue
            events.append(self._finish(self._running.pop(conn)))
        if self.timeout is not None:
            events.extend(self._expire())
        events.extend(self._launch())
        return events

    def _finish(self, run: _Running) -> Event:
        unreadable: ErrorInfo | None = None
        try:
            data = run.conn.recv_bytes()
        except (EOFError, OSError):
            result = None  # it died before it answered
        else:
            try:
                result = pickle.loads(data)
            except Exception as exc:
                # It answered, but its result cannot be rebuilt here: this item fails, alone.
                try:
                    result = repair_result(data, exc)
                except Exception as still:
                    result = None
                    unreadable = unreadable_error(f"{type(still).__name__}: {describe_error(still)}")
        run.conn.close()
        run.process.join()
        self._free.append(run.slot)
        if result is None:
            code = run.process.exitcode
            run.process.close()
            return Lost(run.chunk_id, run.offset, Status.FAILED,
                        unreadable or died(self._memcap, run.pid, code), run.slot,
                        run.started - self.origin, time.perf_counter() - run.started, run.pid)
        run.process.close()
        return _done(run.slot, run.chunk_id, run.offset, result)

    def _expire(self) -> list[Event]:
        assert self.timeout is not None
        now = time.perf_counter()
        events: list[Event] = []
        for conn, run in list(self._running.items()):
            if now - run.started < self.timeout:
                continue
            kill_worker(run.process)
            run.process.join()
            del self._running[conn]
            conn.close()
            run.process.close()
            self._free.append(run.slot)
            events.append(Lost(run.chunk_id, run.offset, Status.TIMED_OUT, ErrorInfo(
                "Timeout", f"the item ran longer than its {self.timeout:g} s timeout; "
                "its process was killed"), run.slot, run.started - self.origin, now - run.started,
                run.pid))
        return events

    def shutdown(self, cancel: bool) -> None:
        with self._wake_lock:
            self._closing = True
        if self._memcap is not None:
            self._memcap.stop()
        for run in self._running.values():
            kill_worker(run.process)  # only a cancel or an engine failure leaves items running
        for run in self._running.values():
            run.process.join()
            run.conn.close()
            run.process.close()
        self._running.clear()
        self._wake_r.close()
        self._wake_w.close()
