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

This module holds what they share (:class:`ClassicPool`); the pools are in
:mod:`.classic_mp` (``multiprocessing.Pool``, ``ThreadPool``) and
:mod:`.classic_futures` (``ProcessPoolExecutor``, ``ThreadPoolExecutor``).

Data flow::

    submit:  engine --chunk--> pool.apply_async/submit(call_chunk) --Done--> messages
    map...:  engine --chunk--> Feed --(key, item)--> pool.map/imap(call_item) --results--> messages
    engine <--poll() -> Done | Lost---------------------------------------------- messages
"""

from __future__ import annotations

import abc
import functools
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, ClassVar

from ..log import get_logger
from ..records import ErrorInfo, Status
from ._adapter import PoolAdapter
from ._calls import call_item
from ._feed import BLOCKS_PER_POLL, Feed, LostKeys, ended
from ._kill import join_or_kill
from ._poolwatch import Died, ResultsLost
from ._sealed import seal, unseal
from .protocol import Chunk, Event, Lost

log = get_logger(__name__)


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
