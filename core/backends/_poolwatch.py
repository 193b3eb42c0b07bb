"""Notice the worker deaths that ``multiprocessing.Pool`` itself ignores.

When a ``Pool`` worker dies (``os._exit``, a segfault, the OOM killer), the
pool quietly starts a new one, and the call the dead worker was running never
returns: ``map`` and ``imap`` wait forever.  Poolside keeps the library as it
is and watches it from outside::

    Pool worker (initializer) --claims a row--> shared table [pid, key] * rows
    call_item / call_chunk_marked --writes the key it runs--> its row
    watcher thread --every WATCH_S: a row whose pid has gone--> Died(pid, key, reason)

A second way a ``Pool`` hangs: its result thread unpickles every result, and
one that cannot be rebuilt in this process (its ``__reduce__`` raises, its
class does not import here) kills that thread; from then on no result comes
back, and every call waits forever.  The watcher notices that thread gone
while the pool still runs, and reports :class:`ResultsLost` with what killed it
(caught through ``threading.excepthook``, which still reports it as usual).

The pool reaps a dead worker within 0.1 s, after which its pid no longer
exists; the watcher then frees the row and tells the backend which key the
worker was running, and the backend ends what the library lost.  Writing the
key costs one store per item.  Checking pids (``os.kill(pid, 0)``) rather than
waiting on the workers' sentinels catches too a worker that dies before the
watcher has seen it, and never reads an exit status the pool's own thread is
reading.
"""

from __future__ import annotations

import multiprocessing.heap
import os
import threading
from collections.abc import Callable
from typing import Any, NamedTuple

from ..records import describe_error
from ._calls import ROW_WIDTH, pool_initializer
from ._kill import worker_died

# How often the watcher looks for dead workers: the pool itself looks every
# 0.1 s, and a death is rare; 50 ms costs a few syscalls a time.
WATCH_S = 0.05
# Rows per worker: a dead worker's row is freed only once the watcher sees it,
# and its replacement claims a row before that.
_ROWS_PER_WORKER = 4


class Died(NamedTuple):
    """A pool worker died; ``key`` is what it was running (``-1``: nothing yet)."""

    pid: int
    key: int
    reason: str


class ResultsLost(NamedTuple):
    """The pool's result thread died: no call's result will come back.  ``reason``: what happened, in words."""

    reason: str


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - a pid reused by another user
        return True
    return True


class PoolWatch:
    """The shared table, the pool initializer's arguments, and the watcher thread."""

    def __init__(self, ctx: Any, workers: int, report: Callable[[Died | ResultsLost], None]) -> None:
        self.count = workers * _ROWS_PER_WORKER
        self._rows = multiprocessing.heap.BufferWrapper(self.count * ROW_WIDTH * 8)
        self._table = self._rows.create_memoryview().cast("d")
        for i in range(len(self._table)):  # the heap reuses the memory of an earlier run's table
            self._table[i] = 0.0
        self._lock = ctx.Lock()
        self._report = report
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def initializer(self) -> Callable[..., None]:
        return pool_initializer

    @property
    def initargs(self) -> tuple[Any, ...]:
        return (self._rows, self.count, self._lock)

    def start(self, pool: Any) -> None:
        self._pool = pool
        self._results_error: BaseException | None = None
        self._previous_hook = threading.excepthook
        threading.excepthook = self._thread_died
        self._thread = threading.Thread(target=self._watch, name="poolside-pool-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            if threading.excepthook == self._thread_died:
                threading.excepthook = self._previous_hook

    def _thread_died(self, args: Any) -> None:
        """``threading.excepthook`` while the pool runs: keep what killed its result thread."""
        if args.thread is getattr(self._pool, "_result_handler", None):
            self._results_error = args.exc_value
        self._previous_hook(args)  # reported as any thread's death is: never silently

    def _results_lost(self) -> ResultsLost | None:
        handler = getattr(self._pool, "_result_handler", None)
        if handler is None or handler.is_alive() or self._stop.is_set():
            return None
        exc = self._results_error
        if exc is None:  # another hook took the exception first: the death is all that is known
            return ResultsLost("multiprocessing.Pool's result thread stopped")
        return ResultsLost(f"multiprocessing.Pool's result thread died on it "
                           f"({type(exc).__name__}: {describe_error(exc)})")

    def _watch(self) -> None:
        table = self._table
        seen: dict[int, Any] = {}  # pid -> Process, for the exit code once the pool reaped it
        results_lost = False
        while not self._stop.wait(WATCH_S):
            if not results_lost:
                lost = self._results_lost()
                if lost is not None:
                    results_lost = True
                    self._report(lost)
            seen.update((p.pid, p) for p in list(getattr(self._pool, "_pool", ())))
            for i in range(0, self.count * ROW_WIDTH, ROW_WIDTH):
                pid = int(table[i])
                if pid and not _exists(pid):
                    key = int(table[i + 1])
                    table[i] = 0
                    process = seen.pop(pid, None)
                    # Reaped by the pool: its exit code is known and reading it reads nothing.
                    code = None if process is None else process.exitcode
                    self._report(Died(pid, key, worker_died(code)))
