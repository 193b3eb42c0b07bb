"""How the classic libraries call a task: one item at a time, errors caught per item.

``Pool.map``, ``imap``, ``Executor.map`` and ``joblib.Parallel`` call a function
once per item and send its return value back.  The tutorials wrap the task in
a ``try``/``except`` so that one failing item does not end a ``map``;
:func:`call_item` is that wrapper, and it also measures the item::

    library --(key, item)--> call_item --(key, value, error, start, elapsed, cpu, pid, tid)--> library

The key is the item's position in what the backend fed the library; the
backend turns it back into the engine's chunk and offset.

Two more things every worker call path needs live here, light enough for a
worker process to import:

* :func:`sync_task` — an ``async def`` task runs on every backend: the one
  place that adapts it is ``Backend.__init__``, which wraps it so that each
  worker thread runs it on an event loop of its own.
* :func:`mark` — ``multiprocessing.Pool`` waits forever for an item whose
  worker died.  Its workers note the key they are running in a shared row
  (:func:`pool_initializer`), so that the backend can name the items the
  library lost.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections.abc import Callable
from types import BuiltinFunctionType, FunctionType
from typing import TYPE_CHECKING, Any

from ..records import ErrorInfo

if TYPE_CHECKING:
    import asyncio  # imported when an async task first runs: ~15 ms every CLI call would pay
from ..records import describe_error, error_info
from ._forks import begin_tasks, end_forked_child, end_strays, end_tasks, strays
from ._worker import guard_recursion_limit

# -- async def tasks on any backend -------------------------------------------

# inspect.CO_COROUTINE, the flag of an ``async def`` function's code (a CPython constant).
_CO_COROUTINE = 0x80

_loops = threading.local()


def _thread_loop() -> asyncio.AbstractEventLoop:
    """This thread's own event loop, made on first use and closed with the thread."""
    loop = getattr(_loops, "loop", None)
    if loop is None:
        import asyncio

        loop = _loops.loop = asyncio.new_event_loop()
        weakref.finalize(threading.current_thread(), loop.close)
    return loop


class AsyncTask:
    """A sync callable that runs an ``async def`` task on the calling thread's event loop.

    Picklable when the coroutine function is (a top-level ``async def``), so it
    travels to worker processes like any task.
    """

    __slots__ = ("coroutine_function",)

    def __init__(self, coroutine_function: Callable[[Any], Any]) -> None:
        self.coroutine_function = coroutine_function

    def __call__(self, item: Any) -> Any:
        return _thread_loop().run_until_complete(self.coroutine_function(item))

    def __reduce__(self) -> tuple[Any, ...]:
        return (AsyncTask, (self.coroutine_function,))

    def __repr__(self) -> str:
        return f"AsyncTask({self.coroutine_function!r})"


def is_async(task: Callable[[Any], Any]) -> bool:
    """Whether ``task`` is an ``async def`` function (or a callable whose ``__call__`` is).

    A wrapper whose ``__call__`` is sync but returns its function's coroutine
    (a bound plugin) says so with ``is_coroutine_function``.
    """
    if getattr(task, "is_coroutine_function", False) is True:
        return True
    if type(task) is FunctionType:
        # The common case, a plain function, read from its code flags: ``inspect``
        # costs ~6 ms to import (ast, dis, tokenize) that a run would pay up front.
        return bool(task.__code__.co_flags & _CO_COROUTINE)
    if type(task) is BuiltinFunctionType:
        return False
    import inspect

    return inspect.iscoroutinefunction(task) or inspect.iscoroutinefunction(
        getattr(task, "__call__", None))  # noqa: B004 - a callable object's own __call__


def sync_task(task: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``task`` itself, or, for an ``async def`` task, an :class:`AsyncTask` around it."""
    if isinstance(task, AsyncTask) or not is_async(task):
        return task
    return AsyncTask(task)


def async_function(task: Callable[[Any], Any]) -> Callable[[Any], Any] | None:
    """The ``async def`` function behind ``task``, or ``None`` for a plain function."""
    if isinstance(task, AsyncTask):
        return task.coroutine_function
    return task if is_async(task) else None


# -- one item, the tutorials' way ----------------------------------------------

#: What :func:`call_item` returns, by position (a tuple pickles compactly).
KEY, VALUE, ERROR, START, ELAPSED, CPU, PID, TID = range(8)


def call_item(task: Callable[[Any], Any], origin: float, keyed: tuple[int, Any]) -> tuple:
    """Run one item; catch what it raises.  ``keyed`` is ``(key, item)``."""
    key, item = keyed
    row = _row
    if row is not None:
        row[1] = key
    forked = begin_tasks()
    cpu0 = time.thread_time()
    t0 = time.perf_counter()
    try:
        value = task(item)
        error = None
    except BaseException as exc:
        value = None
        error = error_info(exc)
    if forked:
        end_forked_child()
    end_tasks()
    if strays:
        end_strays()
    t1 = time.perf_counter()
    guard_recursion_limit()
    return (key, value, error, t0 - origin, t1 - t0, time.thread_time() - cpu0,
            os.getpid(), threading.get_native_id())


def process_item(conn: Any, task: Callable[[Any], Any], origin: float, key: int, item: Any) -> None:
    """Body of a process started for one item: run it, send the result back, exit."""
    import pickle

    from ._process_main import lead_own_group

    lead_own_group()  # a kill at a timeout or cancel takes what the task started too

    result = call_item(task, origin, (key, item))
    # The whole process's CPU, start-up included: it is gone before anyone could sample it.
    result = (*result[:CPU], time.process_time(), *result[CPU + 1:])
    try:
        data = pickle.dumps(result, pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        error = ErrorInfo("PicklingError", f"the task's result ({type(result[VALUE]).__name__}) "
                          f"cannot be sent back from the worker process: {describe_error(exc)}")
        data = pickle.dumps((*result[:VALUE], None, error, *result[START:]), pickle.HIGHEST_PROTOCOL)
    conn.send_bytes(data)
    conn.close()
    _end_if_threads_linger()


def _end_if_threads_linger() -> None:
    """End this item's process now if a thread the task started would keep it alive.

    The result is sent: the process has nothing left to do.  Python's exit
    waits for every thread that is not a daemon, so a task that started one
    that never ends would keep the process, and the run waiting for it,
    alive for good.  The streams are flushed; the exit handlers, the task's
    own, are skipped, as they are when the process is killed at a timeout.
    """
    main = threading.main_thread()
    if not any(t is not main and not t.daemon and t.is_alive() for t in threading.enumerate()):
        return
    import sys

    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass  # a closed stream: nothing is left to flush into it
    os._exit(0)


def call_items(function: Callable[[tuple[int, Any]], tuple], keyed: list) -> list[tuple]:
    """``function`` over a batch of keyed items: what ``Pool``'s ``mapstar`` does with a chunk."""
    return list(map(function, keyed))


# -- noticing what multiprocessing.Pool loses ----------------------------------

ROW_WIDTH = 2  # [pid, key]
_row: Any = None  # this worker's row, once pool_initializer has claimed one


def pool_initializer(rows: Any, count: int, lock: Any) -> None:
    """A ``Pool`` worker claims a free row of the shared table (one whose pid is 0)."""
    global _row
    table = rows.create_memoryview().cast("d")
    pid = os.getpid()
    with lock:
        for i in range(count):
            base = i * ROW_WIDTH
            if table[base] == 0:
                table[base] = pid
                table[base + 1] = -1
                _row = table[base:base + ROW_WIDTH]
                return
    # No row free (more deaths than rows before the parent read them): this
    # worker's losses cannot be named; the run then ends at cancel, as Pool's do.


def call_chunk_marked(task: Callable[[Any], Any], chunk: Any, origin: float) -> Any:
    """``call_chunk``, noting the chunk's id first so that a death can be blamed on it."""
    from ._worker import call_chunk

    row = _row
    if row is not None:
        row[1] = chunk.id
    return call_chunk(task, chunk, origin)
