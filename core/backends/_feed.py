"""The bookkeeping of a backend that feeds a library call the whole input.

``Pool.map``/``imap``, ``Executor.map`` and ``joblib.Parallel`` take an
iterable of items and give back one result per item.  The engine hands such a
backend its chunks as fast as it reads (``Backend.takes_input``); a
:class:`Feed` numbers their items with *keys* in order, yields ``(key, item)``
pairs to the library, and turns what comes back into the engine's events::

    engine --Chunk--> Feed.add() --(key, item)...--> library call --> call_item()
    engine <--Done / Lost-- Feed.done_events() <--[result tuples]-- consumer thread

A key is an item's position in what was fed, so it names the engine's chunk
and offset (a binary search over the chunks' first keys).  The feed remembers
which keys have their result: when the library call ends, stops or breaks,
every item it never answered gets a ``failed`` outcome with the library's
reason, so a run always ends and every item has exactly one outcome.

The messages a backend's library threads post for ``poll``:
a ``list`` of :func:`poolside.backends._calls.call_item` results,
:class:`Ended` (the call returned or raised) and :class:`LostKeys`.
"""

from __future__ import annotations

import bisect
import queue
from array import array
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from ..records import ErrorInfo, Status, error_info
from ._calls import CPU, ELAPSED, ERROR, KEY, PID, START, TID, VALUE
from .protocol import Chunk, Done, Event, Lost

# Blocks the engine may hand over between two polls: a feed is read without
# pause, and this bounds how long results wait while the engine reads.
BLOCKS_PER_POLL = 16

NO_RESULT = ErrorInfo("NoResult", "the library call ended without a result for this item")


class Stopped(Exception):
    """Raised to the library reading a feed when the run is cancelled."""


class Ended(NamedTuple):
    """The library call is over; ``error`` is what it raised (``None``: it returned)."""

    error: ErrorInfo | None


class LostKeys(NamedTuple):
    """Items the library will never answer (keys ``start`` .. ``stop-1`` without a result)."""

    start: int
    stop: int | None  # None: every key from start on, including keys not fed yet
    error: ErrorInfo


def ended(exc: BaseException | None) -> Ended:
    return Ended(None if exc is None else library_error(exc))


def library_error(exc: BaseException) -> ErrorInfo:
    """What a library call raised, as an item's error.

    ``ProcessPoolExecutor`` breaks when it cannot unpickle a result, and says
    only that a process "terminated abruptly"; what it could not read is in the
    exception's cause.  That is the reason a user needs, so it is the message.
    """
    info = error_info(exc)
    cause = exc.__cause__
    if type(exc).__name__ == "BrokenProcessPool" and type(cause).__name__ == "_RemoteTraceback":
        lines = [line.strip() for line in str(cause).splitlines() if line.strip().strip("'\"")]
        if lines:
            return info._replace(message=f"a result could not be read back ({lines[-1]}): the pool "
                                 "broke on it, and every item still pending in it failed")
    return info


class Feed:
    """Items fed to a library call, by key, and which of them have a result."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._queue: queue.SimpleQueue[tuple[int, list] | None] = queue.SimpleQueue()
        self._firsts: list[int] = []  # first key of each chunk, ascending
        self._chunks: list[int] = []  # the engine's chunk id for each
        self._answered = bytearray()  # 1 once a key has its result (or was given up)
        self._slots: dict[tuple[int, int], int] = {}  # (pid, thread) -> worker slot
        self._lost_from: int | None = None
        self._lost_error = NO_RESULT
        self.closed = False
        self._stopped = False

    @property
    def total(self) -> int:
        return len(self._answered)

    def add(self, chunk: Chunk) -> list[Event]:
        """Feed a chunk; items already given up (a broken ``imap``) are lost at once."""
        first = len(self._answered)
        self._firsts.append(first)
        self._chunks.append(chunk.id)
        self._answered.extend(bytes(len(chunk.items)))
        if self._lost_from is not None:
            return self.lost(first, None, self._lost_error)
        self._queue.put((first, chunk.items))
        return []

    def close(self, stop: bool = False) -> None:
        """No more items: the library's iterable ends once it has taken what was fed.

        With ``stop``, it raises :class:`Stopped` at once instead (a cancel):
        a library that is still reading, such as ``Executor.map`` submitting
        everything first, stops there rather than start what was fed.
        """
        if stop:
            self._stopped = True
        if not self.closed:
            self.closed = True
            self._queue.put(None)

    def keyed(self) -> Iterator[tuple[int, Any]]:
        """The iterable the library reads: ``(key, item)`` pairs, blocking until fed or closed."""
        while True:
            block = self._queue.get()
            if self._stopped:
                raise Stopped("the run was cancelled")
            if block is None:
                self._queue.put(None)  # a second reader (a retry) ends too
                return
            yield from enumerate(block[1], block[0])

    def fed(self) -> list[tuple[int, Any]]:
        """Everything fed and not yet read, as a list (for ``Pool.map``, once closed)."""
        return list(self.keyed())

    # -- results --------------------------------------------------------------

    def _where(self, key: int) -> tuple[int, int]:
        i = bisect.bisect_right(self._firsts, key) - 1
        return self._chunks[i], key - self._firsts[i]

    def slot(self, pid: int, tid: int) -> int:
        """A stable worker number for the process and thread that ran an item."""
        return self._slots.setdefault((pid, tid), len(self._slots) % self.workers)

    def done_events(self, results: list[tuple]) -> list[Event]:
        """One ``Done`` per run of consecutive keys from one chunk and one worker."""
        events: list[Event] = []
        answered = self._answered
        current: list[tuple] = []
        for r in results:
            key = r[KEY]
            if answered[key]:
                continue  # given up already (the library answered after all)
            answered[key] = 1
            if current and not (key == current[-1][KEY] + 1 and r[PID] == current[-1][PID]
                                and r[TID] == current[-1][TID] and self._same_chunk(current[0][KEY], key)):
                events.append(self._done(current))
                current = []
            current.append(r)
        if current:
            events.append(self._done(current))
        return events

    def _same_chunk(self, a: int, b: int) -> bool:
        return bisect.bisect_right(self._firsts, a) == bisect.bisect_right(self._firsts, b)

    def _done(self, run: list[tuple]) -> Done:
        chunk_id, offset = self._where(run[0][KEY])
        errors = [(i, r[ERROR]) for i, r in enumerate(run) if r[ERROR] is not None] or None
        return Done(self.slot(run[0][PID], run[0][TID]), chunk_id, offset, [r[VALUE] for r in run],
                    errors, array("d", [r[START] for r in run]), array("d", [r[ELAPSED] for r in run]),
                    sum(r[CPU] for r in run), False, run[0][PID], run[0][TID])

    def lost(self, start: int, stop: int | None, error: ErrorInfo) -> list[Event]:
        """``failed`` outcomes for the keys in ``start .. stop-1`` that have no result."""
        if stop is None:
            self._lost_from = start if self._lost_from is None else min(start, self._lost_from)
            self._lost_error = error
            stop = len(self._answered)
        events: list[Event] = []
        answered = self._answered
        key = answered.find(0, start, stop)
        while key != -1:
            answered[key] = 1
            chunk_id, offset = self._where(key)
            events.append(Lost(chunk_id, offset, Status.FAILED, error, None, None, 0.0))
            key = answered.find(0, key + 1, stop)
        return events

    def events(self, messages: Iterable[Any]) -> list[Event]:
        """The engine's events for the messages the library threads posted."""
        events: list[Event] = []
        for message in messages:
            if type(message) is list:
                events.extend(self.done_events(message))
            elif isinstance(message, LostKeys):
                events.extend(self.lost(message.start, message.stop, message.error))
            elif isinstance(message, Ended):
                # The call is over: what it never answered, it never will.
                events.extend(self.lost(0, None, message.error or NO_RESULT))
        return events

    def unanswered(self, start: int, stop: int) -> bool:
        """Whether any key in ``start .. stop-1`` (that was fed) still waits for its result."""
        return self._answered.find(0, start, min(stop, len(self._answered))) != -1
