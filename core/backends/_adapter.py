"""A backend that hands each chunk to someone else's pool as one call: the classic pools and Dask.

    engine --submit(chunk)--> PoolAdapter._submit(chunk, finished) --> the library's pool
    engine <--poll() -> Done | Lost | Retry-- messages <--finished(chunk, result)-- its callback

The subclass says how to make the call (``_submit``); this base keeps the
calls in flight, at most ``_IN_FLIGHT_PER_WORKER`` a worker, and turns what
each call ended with into the engine's events.
"""

from __future__ import annotations

import abc
import concurrent.futures as cf
import queue
from collections.abc import Callable
from typing import Any

from ..records import ErrorInfo, describe_error
from ._feed import library_error
from ._sealed import unseal
from .base import Backend, drain
from .protocol import Chunk, Done, Event, Retry

# Calls in flight a worker: one running and one queued behind it, so a worker
# never waits on a round trip to the engine between two calls.
_IN_FLIGHT_PER_WORKER = 2


def future_result(future: cf.Future) -> Any:
    """What a finished future ended with: its value, or the exception it raised or was cancelled with."""
    if future.cancelled():
        return cf.CancelledError("the call was cancelled")
    return future.exception() or future.result()


class PoolAdapter(Backend):
    """Submits each chunk as one call to a pool and turns its result into a ``Done``."""

    kills_hung_items = False

    def __init__(self, task: Callable[[Any], Any], workers: int, *,
                 timeout: float | None, origin: float) -> None:
        if timeout is not None:
            raise ValueError(f"the {self.name} backend has no per-item timeout; "
                             "use the processes or threads backend for one")
        super().__init__(task, workers, timeout=timeout, origin=origin)
        self._messages: queue.SimpleQueue = queue.SimpleQueue()
        self._broken_by: ErrorInfo | None = None  # why the library's pool broke, when it said
        self._in_flight: dict[int, Chunk] = {}
        self._slots: dict[int, int] = {}

    @abc.abstractmethod
    def _submit(self, chunk: Chunk, finished: Callable[[Chunk, Done | BaseException | Retry], None]) -> None:
        """Start ``call_chunk(task, chunk, origin)``; call ``finished`` with its result.

        A pool that can lose a call without an answer (Dask, when a worker
        dies) reports a :class:`Retry` for it instead: the engine runs the
        chunk's items again.
        """

    def free_slots(self) -> int:
        return self.workers * _IN_FLIGHT_PER_WORKER - len(self._in_flight)

    def submit(self, chunk: Chunk) -> list[Event]:
        self._in_flight[chunk.id] = chunk
        try:
            self._submit(chunk, lambda c, result: self._messages.put((c, result)))
        except Exception as exc:
            self._messages.put((chunk, exc))
        return []

    def wake(self) -> None:
        self._messages.put(None)

    def poll(self, timeout: float) -> list[Event]:
        return self._events(drain(self._messages, timeout))

    def _events(self, messages: list[Any]) -> list[Event]:
        return [self._as_event(*m) for m in messages]

    def _as_event(self, chunk: Chunk, result: Done | BaseException | Retry) -> Event:
        self._in_flight.pop(chunk.id, None)
        result = unseal(result)  # a process pool's Done comes sealed (see _sealed)
        if isinstance(result, Retry):
            return result
        if isinstance(result, BaseException):
            # The call itself failed (a broken pool, an unpicklable item):
            # every item of the chunk fails with that reason.
            error = library_error(result)
            if error.message != describe_error(result):
                self._broken_by = error  # a cause the later calls' errors no longer carry
            elif self._broken_by is not None and type(result).__name__ == "BrokenProcessPool":
                error = self._broken_by
            n = len(chunk.items)
            return Done(-1, chunk.id, 0, [None] * n, [(i, error) for i in range(n)],
                        [0.0] * n, [0.0] * n, 0.0, True)
        slot = self._slots.setdefault(result.worker, len(self._slots) % self.workers)
        return result._replace(worker=slot)
