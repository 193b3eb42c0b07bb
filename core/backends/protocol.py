"""The records that cross between the engine and a backend's workers.

    engine ──Chunk──► backend ──► worker: run_chunk()
    engine ◄──Event── backend ◄── worker: Done batches (and, for a process
                                   worker, Ready, Retracted, ChunkUnreadable)

``Done`` batches come from the workers themselves (``poolside.backends._worker``).
``Lost`` and ``Retry`` are a backend's own reports when it had to stop a
worker: ``Lost`` ends one item (timed out, or its worker died); ``Retry`` hands
the still-pending items of a chunk back to the engine to run again.  Every
record is a NamedTuple: the cheapest record to build and to pickle, and these
cross a pipe thousands of times a second.

A worker process imports this module, so it imports nothing but ``records``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ..records import ErrorInfo, Status


class Chunk(NamedTuple):
    """A run of consecutive input items sent to one worker as one message."""

    id: int
    items: list


class Done(NamedTuple):
    """Finished items ``offset .. offset+len(values)-1`` of one chunk.

    ``errors`` lists ``(i, ErrorInfo)`` for the items among them whose task
    raised (their value is ``None``); it is ``None`` when every item succeeded,
    which keeps the common case one allocation cheaper.
    """

    worker: int
    chunk_id: int
    offset: int
    values: list
    errors: list | None
    starts: Any  # array('d'): seconds since the job's origin, per item
    elapsed: Any  # array('d'): seconds, per item
    cpu_s: float
    last: bool  # the worker has finished this chunk
    # Who ran the chunk: the OS process id and native thread id.  A worker slot
    # is stable across replacements, so it cannot tell two processes that held
    # it apart; a trace needs tracks that never overlap, and a monitor needs
    # pids to sample.  Per batch, not per item: a chunk runs on one thread.
    pid: int = 0
    tid: int = 0
    # The items' summed time, when the sender knows it without a sum: the
    # worker loop runs its items back to back (each starts as the one before
    # it ends), so it is the last end minus the first start.  ``None``: the
    # engine sums ``elapsed`` (~10 ns an item on the engine's thread, the one
    # that bounds tiny items).
    busy_s: float | None = None


class Ready(NamedTuple):
    """A process worker has started and loaded the task."""

    worker: int


class Retracted(NamedTuple):
    """A process worker gave back a chunk it had not started, as the parent asked."""

    worker: int
    chunk_id: int


class ChunkUnreadable(NamedTuple):
    """A process worker could not unpickle a chunk (say, a class it cannot import)."""

    worker: int
    chunk_id: int
    error: ErrorInfo


class Lost(NamedTuple):
    """One item the backend ended itself (its worker hung past the timeout or died)."""

    chunk_id: int
    offset: int
    status: Status
    error: ErrorInfo
    worker: int | None
    started_s: float | None
    elapsed_s: float
    pid: int | None = None  # the process that hung or died, when the backend knows it
    tid: int | None = None


class Retry(NamedTuple):
    """Run the pending items of a chunk again; ``alone`` to find a culprit.

    ``error`` is what to blame a single remaining item for when ``alone`` is
    set and only that item is left: it has then shown itself to be the culprit.
    """

    chunk_id: int
    alone: bool
    error: ErrorInfo | None = None
    worker: int | None = None


Event = Done | Lost | Retry
