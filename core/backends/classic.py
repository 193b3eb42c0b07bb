"""The classic ways to write a parallel for-loop, behind the same interface.

They are here for comparison: the window runs the same batch on
``multiprocessing.Pool``, ``ThreadPool`` or ``concurrent.futures`` so that a
user sees what each costs.  Each is called the ways the tutorials call it,
the ``method`` option (``run(..., method="imap")``):

=================  ==========================================================
``submit``         (default) one call per chunk (``apply_async`` /
                   ``Executor.submit``), chunks sized by the engine's
                   auto-chunking (the tutorials' "grouper" batching, with
                   ``chunk_size`` as the group) and fed through the engine's
                   bounded window: results stream as calls complete
                   (``as_completed``), memory stays flat.
``map``            ``Pool.map`` / ``Executor.map`` over the whole input,
                   ``chunk_size`` as the library's ``chunksize``.
                   ``Pool.map`` reads everything first and delivers nothing
                   until the last result is in; ``Executor.map`` submits
                   everything first, then yields in input order.
``imap``           ``Pool.imap``: the pool reads the input as fast as it can,
                   results come back in input order.
``imap_unordered`` ``Pool.imap_unordered``: the same, in completion order.
=================  ==========================================================

For ``map``/``imap`` the backend takes the whole input (``takes_input``, see
``poolside.backends.base``) and a :class:`~poolside.backends._feed.Feed`
tracks it; each item runs through ``call_item``, the tutorials'
``try``/``except`` wrapper, so one failing item does not end a ``map``.

What the libraries cannot do, they do not pretend to: no per-item timeout and
no stopping a hung call.  A worker that dies does what it does in the library:
``ProcessPoolExecutor`` breaks and fails every pending item;
``multiprocessing.Pool`` replaces the worker and waits forever for the lost
call, and waits forever too once its result thread died on a result it could
not unpickle.  Poolside notices that death instead (:mod:`poolside.backends._poolwatch`)
and ends what the library would have held forever ``failed``, saying so: the
batch that died (``submit``, ``imap_unordered``), everything from it on
(``imap``, which yields in order) or the whole input (``map``).

Data flow::

    submit:  engine --chunk--> pool.apply_async/submit(call_chunk) --Done--> messages
    map...:  engine --chunk--> Feed --(key, item)--> pool.map/imap(call_item) --results--> messages
    engine <--poll() -> Done | Lost---------------------------------------------- messages
"""

from __future__ import annotations

import abc
import concurrent.futures as cf
import functools
import itertools
import multiprocessing as mp
import multiprocessing.pool as mpp
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, ClassVar

from ..log import get_logger
from ..records import ErrorInfo, Status
from ._adapter import PoolAdapter, future_result
from ._calls import call_chunk_marked, call_item, call_items
from ._feed import BLOCKS_PER_POLL, Feed, LostKeys, ended
from ._kill import join_or_kill
from ._launch import start_method
from ._memcap import memory_cap
from ._poolwatch import Died, PoolWatch, ResultsLost
from ._sealed import seal, unseal
from ._worker import call_chunk
from .protocol import Chunk, Event, Lost

log = get_logger(__name__)

# How long a thread that reads an ``imap`` iterator waits before it looks
# whether the run was stopped.  Only a cancelled or broken run waits on it.
_STOP_CHECK_S = 0.05
# Results a reader thread gathers into one message when they are ready at once.
_BATCH = 1_000


class ClassicPool(PoolAdapter):
    """A library pool called one of the tutorials' ways (see the module docstring)."""

    methods: ClassVar[tuple[str, ...]] = ("submit", "map", "imap", "imap_unordered")

    def __init__(self, task: Callable[[Any], Any], workers: int, *,
                 timeout: float | None, origin: float, method: str = "submit") -> None:
        super().__init__(task, workers, timeout=timeout, origin=origin)
        if method not in self.methods:
            raise ValueError(f"the {self.name} backend has no method {method!r}; "
                             f"choose one of: {', '.join(self.methods)}")
        self.method = method
        self.takes_input = method != "submit"
        self._feed = Feed(workers)
        self._fed_since_poll = 0
        self._stopping = threading.Event()
        self._reader: threading.Thread | None = None
        self._library_chunksize = 1
        self._library_known = True  # False where the library sizes its batches unseen (joblib "auto")
        self._lost_work = False  # the library holds a call that will never end
        self._results_gone: ErrorInfo | None = None  # why the library stopped reading results

    # -- the library, per pool ---------------------------------------------------

    @abc.abstractmethod
    def _start_pool(self) -> None: ...

    @abc.abstractmethod
    def _stop_pool(self, cancel: bool) -> None: ...

    @abc.abstractmethod
    def _library_call(self, function: Callable[[Any], Any], items: Iterable[Any],
                      chunksize: int) -> Iterator[Any]:
        """The library's own ``map``/``imap``/``imap_unordered`` over ``items``."""

    def _default_chunksize(self, total: int) -> int:
        return 1  # imap's and Executor.map's own default

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> None:
        self._start_pool()
        if self.takes_input and self.method != "map":
            self._start_reader(self._library_chunksize_for(None))

    def _library_chunksize_for(self, total: int | None) -> int:
        if isinstance(self.chunk_size, int):
            size = self.chunk_size
        else:
            size = self._default_chunksize(total or 0) if total is not None else 1
        self._library_chunksize = size
        return size

    @property
    def _sealed(self) -> bool:
        """Whether results cross a process boundary, sealed as bytes (see ``_sealed``)."""
        return self.kind == "processes"

    def _start_reader(self, chunksize: int) -> None:
        function = (functools.partial(seal, call_item, self.task, self.origin) if self._sealed else
                    functools.partial(call_item, self.task, self.origin))
        self._reader = threading.Thread(
            target=self._read, args=(function, self._feed.keyed(), chunksize),
            name=f"poolside-{self.name}-{self.method}", daemon=True)
        self._reader.start()

    def _read(self, function: Callable[[Any], Any], items: Iterable[Any], chunksize: int) -> None:
        """Body of the reader thread: post the library's results as they are delivered."""
        post = self._messages.put
        sealed = self._sealed
        try:
            for batch in self._batches(self._library_call(function, items, chunksize)):
                post([unseal(r) for r in batch] if sealed else batch)
        except BaseException as exc:
            post(ended(exc))
            return
        post(ended(None))

    def _batches(self, results: Iterator[Any]) -> Iterator[list]:
        for result in results:
            yield [result]

    def shutdown(self, cancel: bool) -> None:
        self._stopping.set()
        # A pool's task thread reading the input must not wait on it; on a
        # cancel, the library must not go on taking what was fed either.
        self._feed.close(stop=cancel)
        self._stop_pool(cancel or self._lost_work)
        if self._reader is not None and not cancel:
            self._reader.join()

    # -- the engine's side ---------------------------------------------------------

    def library_chunk_sizes(self) -> tuple[int, ...] | None:
        if not self.takes_input:
            return None
        return (self._library_chunksize,) if self._library_known else ()

    def free_slots(self) -> int:
        if not self.takes_input:
            return super().free_slots()
        return BLOCKS_PER_POLL - self._fed_since_poll

    def submit(self, chunk: Chunk) -> list[Event]:
        if self._results_gone is not None and not self.takes_input:
            return self._lost_chunk(chunk)  # the library would never answer this call
        if not self.takes_input:
            return super().submit(chunk)
        self._fed_since_poll += 1
        return self._feed.add(chunk)

    def end_of_input(self) -> list[Event]:
        if self.method == "map":
            chunksize = self._library_chunksize_for(self._feed.total)
            self._feed.close()
            self._start_reader(chunksize)
        else:
            self._feed.close()
        return []

    def poll(self, timeout: float) -> list[Event]:
        self._fed_since_poll = 0
        return super().poll(timeout)

    def _events(self, messages: list[Any]) -> list[Event]:
        events: list[Event] = []
        rest: list[Any] = []
        for message in messages:
            if type(message) is tuple:
                events.append(self._as_event(*message))
            elif isinstance(message, Died):
                events.extend(self._on_death(self._why_died(message)))
            elif isinstance(message, ResultsLost):
                events.extend(self._on_results_lost(message))
            else:
                rest.append(message)
        events.extend(self._feed.events(rest))
        return events

    def _on_results_lost(self, lost: ResultsLost) -> list[Event]:
        """The library stopped reading results: end ``failed`` everything it would have waited for."""
        self._lost_work = True
        self._results_gone = ErrorInfo(
            "UnpicklingError", f"a result could not be read back: {lost.reason}, so the library "
            "would have hung waiting for this item's result")
        if not self.takes_input:
            chunks = list(self._in_flight.values())
            self._in_flight.clear()
            return [e for chunk in chunks for e in self._lost_chunk(chunk)]
        return self._feed.lost(0, None, self._results_gone)

    def _lost_chunk(self, chunk: Chunk) -> list[Event]:
        assert self._results_gone is not None
        return [Lost(chunk.id, i, Status.FAILED, self._results_gone, None, None, 0.0)
                for i in range(len(chunk.items))]

    def _why_died(self, died: Died) -> Died:
        """The death as the pool's watcher saw it (a pool with a memory cap says when it killed the worker)."""
        return died

    def _on_death(self, died: Died) -> list[Event]:
        """A worker died: end ``failed`` what the library would have waited for forever."""
        if not self.takes_input:
            chunk = self._in_flight.pop(died.key, None)
            if chunk is None:
                return []  # it died between calls: the library lost nothing
            self._lost_work = True
            error = ErrorInfo("WorkerDied", f"{died.reason} while running this item's call; "
                              "multiprocessing.Pool would have waited for its result forever")
            return [Lost(chunk.id, i, Status.FAILED, error, None, None, 0.0)
                    for i in range(len(chunk.items))]
        size = self._library_chunksize
        first = died.key - died.key % size
        if died.key < 0 or not self._feed.unanswered(first, first + size):
            return []
        self._lost_work = True
        if self.method == "map":
            error = ErrorInfo("WorkerDied", f"{died.reason}; Pool.map would have waited forever "
                              "and returned none of its results")
            return self._feed.lost(0, None, error)
        batch = f"{died.reason} while running items {first}-{first + size - 1}"
        if self.method == "imap":  # it yields in order: nothing after the gap comes out
            error = ErrorInfo("WorkerDied", f"{batch}; Pool.imap yields in input order, so it "
                              f"would have waited forever at item {first}")
            return self._feed.events([LostKeys(first, None, error)])
        error = ErrorInfo("WorkerDied", f"{batch}; Pool.imap_unordered would have waited "
                          "forever for their results")
        return self._feed.events([LostKeys(first, first + size, error)])


def end_stuck_workers(name: str, processes: list[Any]) -> None:
    """Workers told to stop that do not: a task's thread that never ends holds their exit.

    The library's own join has no timeout and would wait for them forever.
    ``processes`` is the library's list of its workers (``Pool._pool``, the
    executor's table): a private attribute, read because no public one exists.
    """
    killed = join_or_kill(processes)
    if killed:
        log.warning("%s: %d workers did not stop (a task left a thread running in them); killed",
                    name, killed)


def _grouped(items: Iterable[Any], size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


class _MultiprocessingPool(ClassicPool):
    """``multiprocessing.Pool`` and ``ThreadPool``: one interface, two kinds of workers."""

    _pool: Any

    def _library_call(self, function: Callable[[Any], Any], items: Iterable[Any],
                      chunksize: int) -> Iterator[Any]:
        if self.method == "map":
            return self._when_ready(self._pool.map_async(function, list(items), chunksize))
        call = self._pool.imap if self.method == "imap" else self._pool.imap_unordered
        if chunksize == 1:
            return self._next_until_stopped(call(function, items, 1))
        # With a chunksize, imap returns a plain generator over its iterator, which
        # has no timeout; so batch here exactly as Pool does inside (a task maps
        # the function over a list of items) and flatten the lists as it does.
        batches = call(functools.partial(call_items, function), _grouped(items, chunksize), 1)
        return itertools.chain.from_iterable(self._next_until_stopped(batches))

    def _when_ready(self, result: Any) -> Iterator[Any]:
        # A map that lost a result never ends: look at the stop flag now and then.
        while not result.ready():
            if self._stopping.is_set():
                return
            result.wait(_STOP_CHECK_S)
        yield from result.get()

    def _next_until_stopped(self, results: Any) -> Iterator[Any]:
        # An iterator that lost a result never ends: look at the stop flag now and then.
        while True:
            try:
                yield results.next(_STOP_CHECK_S)
            except mp.TimeoutError:
                if self._stopping.is_set():
                    return

    def _batches(self, results: Iterator[Any]) -> Iterator[list]:
        if self.method == "map":
            yield list(results)  # map gives everything at once
            return
        yield from super()._batches(results)

    def _default_chunksize(self, total: int) -> int:
        if self.method != "map":
            return 1
        # Pool.map's own rule: about four chunks per worker.
        size, extra = divmod(total, self.workers * 4)
        return max(1, size + bool(extra))

    def _submit(self, chunk: Chunk, finished: Callable[[Chunk, Any], None]) -> None:
        self._pool.apply_async(seal, (call_chunk_marked, self.task, chunk, self.origin),
                               callback=lambda r: finished(chunk, r),
                               error_callback=lambda e: finished(chunk, e))

    def _stop_pool(self, cancel: bool) -> None:
        if cancel:
            self._pool.terminate()  # Pool.join would wait forever for a lost call
        else:
            self._pool.close()
            end_stuck_workers(self.name, list(getattr(self._pool, "_pool", ())))
        self._pool.join()


class MultiprocessingPoolBackend(_MultiprocessingPool):
    name = "mp-pool"
    library = "multiprocessing.pool"
    label = "multiprocessing.Pool"
    kind = "processes"
    wins = "tiny items in bulk with map/imap; the oldest process pool, fast but fragile"
    description = (
        "multiprocessing.Pool, for comparison: the oldest process pool. Fast for tiny items, "
        "but a worker that dies loses its call for good: the library would wait forever "
        "(Poolside ends those items failed instead), and there is no per-item timeout."
    )

    caps_worker_memory = True

    def __init__(self, task: Callable[[Any], Any], workers: int, *, timeout: float | None, origin: float,
                 method: str = "submit", max_memory_per_worker: int | None = None) -> None:
        super().__init__(task, workers, timeout=timeout, origin=origin, method=method)
        # The pool replaces a killed worker itself; its watcher reports the death.
        self._memcap = memory_cap(max_memory_per_worker,
                                  lambda: [p.pid for p in list(getattr(self._pool, "_pool", ()))])

    def _start_pool(self) -> None:
        ctx = mp.get_context(start_method())
        self._watch = PoolWatch(ctx, self.workers, self._messages.put)
        self._pool = ctx.Pool(self.workers, initializer=self._watch.initializer,
                              initargs=self._watch.initargs)
        self._watch.start(self._pool)
        if self._memcap is not None:
            self._memcap.start()

    def _stop_pool(self, cancel: bool) -> None:
        if self._memcap is not None:
            self._memcap.stop()
        self._watch.stop()
        super()._stop_pool(cancel)

    def _why_died(self, died: Died) -> Died:
        reason = None if self._memcap is None else self._memcap.reason(died.pid)
        return died if reason is None else died._replace(reason=reason)


class MultiprocessingThreadPoolBackend(_MultiprocessingPool):
    name = "mp-thread-pool"
    library = "multiprocessing.pool"
    label = "multiprocessing ThreadPool"
    kind = "threads"
    wins = "I/O waits, with the Pool API (map/imap) on threads"
    description = (
        "multiprocessing.pool.ThreadPool, for comparison: Pool's API on threads in this "
        "process. Like Threads, it wins for I/O and for C code that releases the GIL; "
        "pure-Python CPU work does not speed up. No per-item timeout; a hung call keeps "
        "its thread."
    )

    def _start_pool(self) -> None:
        self._pool = mpp.ThreadPool(self.workers)

    def _stop_pool(self, cancel: bool) -> None:
        if cancel:
            # Threads inside a call cannot be stopped, and ThreadPool.join would
            # wait for them: they finish that call in the background.
            self._pool.terminate()
        else:
            self._pool.close()
            self._pool.join()

    def _submit(self, chunk: Chunk, finished: Callable[[Chunk, Any], None]) -> None:
        self._pool.apply_async(call_chunk, (self.task, chunk, self.origin),
                               callback=lambda r: finished(chunk, r),
                               error_callback=lambda e: finished(chunk, e))


class _Executor(ClassicPool):
    """``concurrent.futures``: ``submit`` + ``as_completed``, or ``map``."""

    methods = ("submit", "map")
    _pool: cf.Executor

    def _library_call(self, function: Callable[[Any], Any], items: Iterable[Any],
                      chunksize: int) -> Iterator[Any]:
        return self._pool.map(function, items, chunksize=chunksize)

    def _submit(self, chunk: Chunk, finished: Callable[[Chunk, Any], None]) -> None:
        future = (self._pool.submit(seal, call_chunk, self.task, chunk, self.origin) if self._sealed else
                  self._pool.submit(call_chunk, self.task, chunk, self.origin))
        future.add_done_callback(lambda f: finished(chunk, future_result(f)))


class ProcessExecutorBackend(_Executor):
    name = "process-executor"
    library = "concurrent.futures"
    label = "ProcessPoolExecutor"
    kind = "processes"
    wins = "CPU-bound Python with the standard library's modern API; breaks on a crash"
    description = (
        "concurrent.futures.ProcessPoolExecutor, for comparison: the standard library's process "
        "pool. Parallel like Processes, but a worker that dies breaks the whole pool (every "
        "pending item fails), and it has no per-item timeout."
    )

    def _start_pool(self) -> None:
        self._pool = cf.ProcessPoolExecutor(self.workers, mp_context=mp.get_context(start_method()))

    def poll(self, timeout: float) -> list[Event]:
        # A call submitted while the pool breaks can be left pending for good:
        # the executor's manager thread fails the calls it knows of and ends,
        # and a submit that slipped in meanwhile is never answered (CPython
        # 3.11 marks the pool broken without the lock submit takes). Once that
        # thread has ended, every call still in flight is answered here.
        manager = getattr(self._pool, "_executor_manager_thread", None)
        ended = manager is not None and not manager.is_alive()
        events = super().poll(0.0 if ended else timeout)  # after the check: its last answers are in
        if ended and self._in_flight:
            from concurrent.futures.process import BrokenProcessPool

            lost = BrokenProcessPool("the pool broke and will not answer this call")
            events += [self._as_event(chunk, lost) for chunk in list(self._in_flight.values())]
        return events

    def _stop_pool(self, cancel: bool) -> None:
        pool: Any = self._pool
        # The executor's own table of its processes (shutdown forgets it); a
        # map still submitting may add to it until shutdown refuses new calls.
        table = pool._processes if pool._processes is not None else {}  # the same dict, even empty
        manager = getattr(pool, "_executor_manager_thread", None)
        if cancel:
            # Refuse new calls first, then kill what runs: the executor has no
            # way to stop a running call.
            pool.shutdown(wait=False, cancel_futures=True)
            killed = list(table.values())
            for process in killed:
                process.kill()
            for process in killed:
                process.join()
            if manager is not None:
                manager.join()
            return
        processes = list(table.values())
        pool.shutdown(wait=False)
        end_stuck_workers(self.name, processes)
        pool.shutdown(wait=True)
        for process in processes:
            process.join()


class ThreadExecutorBackend(_Executor):
    name = "thread-executor"
    library = "concurrent.futures"
    label = "ThreadPoolExecutor"
    kind = "threads"
    wins = "I/O waits with the standard library's modern API"
    description = (
        "concurrent.futures.ThreadPoolExecutor, for comparison: threads like the Threads backend "
        "(the same GIL limits), without per-item timeouts or streaming inside a chunk."
    )

    def _start_pool(self) -> None:
        self._pool = cf.ThreadPoolExecutor(self.workers, thread_name_prefix="poolside-tpe")

    def _stop_pool(self, cancel: bool) -> None:
        # Running calls cannot be stopped; do not wait for them on a cancel.
        self._pool.shutdown(wait=not cancel, cancel_futures=cancel)
