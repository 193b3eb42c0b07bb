"""The small interface every backend implements, and the events it reports.

The engine owns the items and their bookkeeping; a backend only runs chunks::

    engine --submit(Chunk)--> backend --runs--> workers
    engine <--poll() -> [Done | Lost | Retry]-- backend

The records named here live in ``poolside.backends.protocol``.
``Lost`` and ``Retry`` are the backend's own reports when it had to stop a
worker: ``Lost`` ends one item (timed out, or its worker died); ``Retry`` hands
the still-pending items of a chunk back to the engine to run again, ``alone``
(one item per chunk) when the backend cannot tell which of them was at fault.
Because the engine decides which items are still pending, a report that comes
late or twice can never give an item a second outcome.

Most backends are fed through the engine's bounded window: the engine reads
a few chunks ahead of the consumer and hands them over as the backend frees
slots.  A backend that calls a library the way the tutorials do
(``Pool.map``, ``imap``, ``joblib.Parallel``) cannot be fed that way: the
library reads its whole input itself, and ``map`` holds back every result
until the last one is done, so a window that waits for results would wait
forever.  Such a backend sets ``takes_input``::

    engine --submit(Chunk) for every item, as fast as it reads--> backend
    engine --end_of_input()--> backend    (the library may now see the end)
    engine <--poll() -> Done | Lost----------------------------  backend

The engine still reads the input (it alone does) and keeps its bookkeeping per
chunk, so exactly-once, ordering and cancel work as for every backend; it
only stops holding the input back.  Its chunks are then blocks of
bookkeeping, not units of work: the library batches items its own way, with
``chunk_size`` as its ``chunksize``.

Adding a backend is one module: subclass :class:`Backend`, register it in
``poolside.backends``.
"""

from __future__ import annotations

import abc
import queue
import time
from collections.abc import Callable
from typing import Any, ClassVar, Literal, NamedTuple

from ._calls import sync_task
from .protocol import Chunk, Event


def drain(inbox: queue.Queue[Any] | queue.SimpleQueue[Any], timeout: float) -> list[Any]:
    """Everything in ``inbox``: wait up to ``timeout`` for the first entry, then take the rest
    without waiting.  ``None`` entries are wake-ups (``Backend.wake``), not messages, and are dropped."""
    taken: list[Any] = []
    try:
        entry = inbox.get(timeout=timeout)
        while True:
            if entry is not None:
                taken.append(entry)
            entry = inbox.get_nowait()
    except queue.Empty:
        pass
    return taken


class BackendError(RuntimeError):
    """The backend cannot go on (say, its workers cannot start).

    The engine ends every item still pending as ``failed`` with this error's
    type and message, so the reason reaches every outcome.
    """


#: Where a backend's workers run; the default worker count follows from it
#: (``poolside.system.default_workers``).
Kind = Literal["threads", "processes", "async", "cluster"]
KINDS: tuple[Kind, ...] = ("threads", "processes", "async", "cluster")


class Backend(abc.ABC):
    """Runs chunks of items on some workers and reports what happened."""

    #: The name callers pass to ``run(backend=...)``.
    name: ClassVar[str]
    #: A short label for menus.
    label: ClassVar[str]
    #: When this backend wins, in a sentence or two (the window's tooltip).
    description: ClassVar[str]
    #: When it wins, in one short line (``poolside info``).
    wins: ClassVar[str] = ""
    #: Where its workers run: threads, processes, async (one event loop) or cluster.
    kind: ClassVar[Kind]
    #: Who runs the workers: ``"poolside"`` (its own), the library it calls the
    #: way the tutorials do (``"concurrent.futures"``, ``"multiprocessing.pool"``,
    #: ``"joblib"``, ``"asyncio"``, ``"dask"``), ``"threading"`` or
    #: ``"multiprocessing"`` (one thread or process per item), or ``"none"`` (the
    #: sequential baseline).  With ``kind`` it decides the backend's family.
    library: ClassVar[str]
    #: A ceiling on workers whatever the caller asks (the sequential baseline: 1).
    max_workers: ClassVar[int | None] = None
    #: The ways of calling the library it offers (``backend_options={"method": ...}``),
    #: the default first; empty when it has only one.
    methods: ClassVar[tuple[str, ...]] = ()
    #: Whether an item that exceeds its timeout is really stopped (its worker
    #: killed and replaced) rather than only reported and left to finish.
    kills_hung_items: ClassVar[bool] = False
    #: Whether its workers fork from the zygote (``poolside.backends._zygote``):
    #: a program about to start threads calls ``prestart()`` first for these.
    uses_zygote: ClassVar[bool] = False

    #: Whether it takes every item as the engine reads it, past the engine's
    #: window (see the module docstring).  Set per instance: it may depend on
    #: the ``method``.
    takes_input: bool = False
    #: The caller's ``chunk_size`` ("auto" or a number), set by the engine
    #: before ``start``: a backend that batches the library's way uses it as
    #: the library's ``chunksize``.
    chunk_size: int | str = "auto"

    def __init__(self, task: Callable[[Any], Any], workers: int, *,
                 timeout: float | None, origin: float) -> None:
        # The one place an ``async def`` task is adapted: every worker thread,
        # in any process, then runs it on an event loop of its own.
        self.task = sync_task(task)
        self.workers = workers
        self.timeout = timeout
        self.origin = origin

    @abc.abstractmethod
    def start(self) -> None:
        """Start the workers.  May raise with a clear message (say, an unpicklable task)."""

    @abc.abstractmethod
    def free_slots(self) -> int:
        """How many more chunks the backend wants now.

        A backend asks for a little more than it runs at once so that no
        worker waits on a round trip to the engine between chunks.
        """

    @abc.abstractmethod
    def submit(self, chunk: Chunk) -> list[Event]:
        """Queue ``chunk`` to run; returns events known at once (usually none)."""

    @abc.abstractmethod
    def poll(self, timeout: float) -> list[Event]:
        """Wait up to ``timeout`` seconds for events and return them.

        This is also where a backend enforces per-item timeouts, so it returns
        early enough to meet the nearest deadline.
        """

    def library_chunk_sizes(self) -> tuple[int, ...] | None:
        """The chunk sizes the library used, when it batched the items itself.

        ``None``: the engine's chunks were the units of work (they are counted
        as they are read).  An empty tuple: the library chose, unseen.
        """
        return None

    def end_of_input(self) -> list[Event]:
        """The engine has read the whole input (called once, for ``takes_input`` backends only)."""
        return []

    def hold(self) -> list[Event]:
        """The engine holds new work back (a pause, a stop after the current items).

        A backend that queues chunks ahead of its workers gives back those
        no worker has started, as ``Retry`` events (now, or from later polls),
        so that they wait in the engine rather than start during the hold.
        The default gives nothing back: a chunk already submitted then counts
        as started.  A chunk a worker has started always runs to its end.
        """
        return []

    def held(self) -> bool:
        """Whether what ``hold`` asked for is done: no chunk it could give back is still on its way."""
        return True

    def running_since(self) -> list[float]:
        """When the item each busy worker is running started (``perf_counter``)."""
        return []

    def poll_wait(self, timeout: float) -> float:
        """How long ``poll`` may block: ``timeout``, or less to meet the nearest item deadline."""
        if self.timeout is None:
            return timeout
        starts = self.running_since()
        if not starts:
            return timeout
        return max(0.0, min(timeout, min(starts) + self.timeout - time.perf_counter()))

    @abc.abstractmethod
    def wake(self) -> None:
        """Make a ``poll`` in progress return now (safe from any thread)."""

    @abc.abstractmethod
    def shutdown(self, cancel: bool) -> None:
        """Stop every worker.  With ``cancel``, running work is abandoned (processes killed).

        After this returns no worker process of this backend is alive.
        """


class BackendInfo(NamedTuple):
    name: str
    label: str
    description: str
    kills_hung_items: bool
    available: bool
    #: Why it is not available (a missing optional package), or "".
    reason: str = ""
    kind: str = ""
    #: When it wins, in one line.
    wins: str = ""
    methods: tuple[str, ...] = ()
