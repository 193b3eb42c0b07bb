"""Notice the worker deaths that ``multiprocessing.Pool`` itself ignores.

When a ``Pool`` worker dies (``os._exit``, a segfault, the OOM killer), the
pool quietly starts a new one, and the call the dead worker was running never
returns: ``map`` and ``imap`` wait forever.  Poolside keeps the library as it
is and watches it from outside::

    Pool worker (initializer) --claims a row--> shared table [pid, key] * rows
    call_item / call_chunk_marked --writes the key it runs--> its row
    watcher thread --every WATCH_S: a row whose pid has gone--> Died(pid, key, reason)

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

    def __init__(self, ctx: Any, workers: int, report: Callable[[Died], None]) -> None:
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
        self._thread = threading.Thread(target=self._watch, name="poolside-pool-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _watch(self) -> None:
        table = self._table
        seen: dict[int, Any] = {}  # pid -> Process, for the exit code once the pool reaped it
        while not self._stop.wait(WATCH_S):
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
