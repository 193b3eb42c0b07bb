"""The ledger: turn a backend's events into outcomes, each item's exactly once.

Its part of the engine's data flow (see ``poolside.engine``)::

    dispatcher ── track(first, items) ──► tracked chunks: a flag per item
                                          (pending / settled / moved)
    backend.poll() ── handle(events) ──►  Done  ─┐  checked against the flags:
                                          Lost  ─┼─ only pending items get an
                                          Retry ─┘  outcome; a Retry moves the
                                                    pending ones to new chunks
                                                    (``retry``, taken by the
                                                    dispatcher before new input)
    consumer ◄── deliver(batch) ◄── (reorder buffer, if ordered) ◄── outcomes

The engine's dispatcher thread owns a ``Ledger`` and is its only caller, so
none of it needs a lock.

Bookkeeping is per chunk: a ``bytearray`` of flags, one per item, that says
whether the item is still pending, has its outcome, or was handed to another
chunk to run again.  Every report from a backend is checked against those
flags, so an item gets exactly one outcome whatever arrives late or twice, and
at the end every item still pending is ``cancelled`` (or ``failed``, should the
engine itself break): the counts always add up.

The ledger is called once per batch of events, never per item: the hot path
(tiny items, a few hundred ns each in the parent) stays inside ``_on_done``.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections import deque
from collections.abc import Callable

from ..backends.protocol import Chunk, Done, Event, Lost, Retry
from ..log import get_logger
from ..records import ErrorInfo, Outcome, Status, Summary
from .batches import OutcomeBatch
from .chunking import Chunker
from .insights import InsightsRecorder

_PENDING, _SETTLED, _MOVED = 0, 1, 2

# The retry lines keep the engine's logger name: it is what users filter on.
log = get_logger("poolside.engine")


class _Tracked:
    """A chunk the engine is waiting on."""

    __slots__ = ("first", "items", "flags", "pending")

    def __init__(self, first: int, items: list) -> None:
        self.first = first
        self.items = items
        self.flags = bytearray(len(items))
        self.pending = len(items)


def _as_given(items: list) -> list:
    return items


class Ledger:
    """The outcome bookkeeping of one job's dispatcher: tracked chunks, retries, reordering."""

    def __init__(
        self,
        summary: Summary,
        insights: InsightsRecorder,
        chunker: Chunker,
        *,
        ordered: bool,
        callbacks: bool,
        started: float,
        deliver: Callable[[list[Outcome]], None],
    ) -> None:
        self._summary = summary
        self._counts = summary.counts
        self._insights = insights
        self._chunker = chunker
        self._ordered = ordered
        self._callbacks = callbacks  # outcomes go to a callback: no OutcomeBatch
        self._started = started
        self._deliver = deliver
        self.tracked: dict[int, _Tracked] = {}
        self.retry: deque[Chunk] = deque()
        self._chunk_ids = itertools.count()
        self._reorder: dict[int, Outcome] = {}
        self._next_index = 0
        #: What a chunk's items become for the task (``Intake`` joins relative
        #: paths to the folder the run started in); the outcomes keep them as given.
        self.task_items: Callable[[list], list] = _as_given

    def track(self, first: int, items: list) -> Chunk:
        """A new chunk of ``items``, the first of them the input's item ``first``."""
        chunk = Chunk(next(self._chunk_ids), items)
        self.tracked[chunk.id] = _Tracked(first, items)
        return chunk

    def handle(self, events: list[Event]) -> None:
        """A batch of the backend's events: outcomes for the items still pending."""
        out: list[Outcome] = []
        for event in events:
            kind = type(event)
            if kind is Done:
                self._on_done(event, out)  # type: ignore[arg-type]
            elif kind is Lost:
                self._on_lost(event, out)  # type: ignore[arg-type]
            elif kind is Retry:
                self._on_retry(event, out)  # type: ignore[arg-type]
            else:  # pragma: no cover - a backend bug
                raise TypeError(f"unknown event from the backend: {event!r}")
        if out:
            self.emit(out)

    def _settled(self, chunk_id: int, tracked: _Tracked, count: int) -> None:
        tracked.pending -= count
        if tracked.pending == 0:
            del self.tracked[chunk_id]

    def _on_done(self, done: Done, out: list[Outcome]) -> None:
        self._summary.cpu_s += done.cpu_s
        n = len(done.values)
        busy = done.busy_s if done.busy_s is not None else sum(done.elapsed)
        self._chunker.observe(busy, n)
        if n:
            self._insights.ran(done.worker, n, busy, done.starts[0],
                               done.starts[-1] + done.elapsed[-1], done.cpu_s, done.pid)
        tracked = self.tracked.get(done.chunk_id)
        if tracked is None:
            return  # a late report for a chunk that was settled otherwise
        off = done.offset
        flags = tracked.flags
        first = tracked.first + off
        if flags.count(_PENDING, off, off + n) == n:
            # The common case: every item of the batch is still pending.  Its
            # outcomes stay columns (an OutcomeBatch) until the consumer takes
            # them: building 2,500 Outcomes here cost ~120 ns an item on this
            # thread and the collector ~35 more; built one by one by the
            # consumer's iteration they cost the dispatcher nothing (parent CPU
            # on 200,000 x*x: ~400 -> ~290 ns an item; poolside.engine.batches).
            flags[off:off + n] = b"\x01" * n
            whole = off == 0 and n == len(tracked.items)  # the usual batch: no copy of its items
            batch = OutcomeBatch(first, tracked.items if whole else tracked.items[off:off + n], done.values,
                                 dict(done.errors) if done.errors else None,
                                 done.elapsed, done.starts, done.worker, done.pid, done.tid)
            failed = batch.count_failed()
            self._counts["ok"] += n - failed
            self._counts["failed"] += failed
            if self._ordered or self._callbacks:
                out.extend(batch)  # the reorder buffer and callbacks take Outcomes
            else:
                # Queued as it is: the Job's _parts() hands it to the consumer's chain.
                out.append(batch)  # type: ignore[arg-type]
            self._settled(done.chunk_id, tracked, n)
            return
        # Some of these items were settled already (timed out just as they
        # finished, or moved to a retry): keep only the pending ones.
        errors = dict(done.errors or ())
        settled = 0
        for i in range(n):
            if flags[off + i] != _PENDING:
                continue
            flags[off + i] = _SETTLED
            settled += 1
            error = errors.get(i)
            status = Status.OK if error is None else Status.FAILED
            self._counts[status.value] += 1
            out.append(Outcome(first + i, tracked.items[off + i], status, done.values[i], error,
                               done.elapsed[i], done.worker, done.starts[i], done.pid, done.tid))
        if settled:
            self._settled(done.chunk_id, tracked, settled)

    def _on_lost(self, lost: Lost, out: list[Outcome]) -> None:
        tracked = self.tracked.get(lost.chunk_id)
        if tracked is None or tracked.flags[lost.offset] != _PENDING:
            return  # its result arrived first: a result always wins
        tracked.flags[lost.offset] = _SETTLED
        self._counts[lost.status.value] += 1
        if lost.started_s is not None:
            self._insights.ran(lost.worker, 1, lost.elapsed_s, lost.started_s,
                               lost.started_s + lost.elapsed_s, 0.0, lost.pid)
        out.append(Outcome(tracked.first + lost.offset, tracked.items[lost.offset], lost.status,
                           None, lost.error, lost.elapsed_s, lost.worker, lost.started_s,
                           lost.pid, lost.tid))
        self._settled(lost.chunk_id, tracked, 1)

    def _on_retry(self, retry: Retry, out: list[Outcome]) -> None:
        tracked = self.tracked.get(retry.chunk_id)
        if tracked is None:
            return
        offsets = [i for i, flag in enumerate(tracked.flags) if flag == _PENDING]
        # Retries follow a dead or killed worker, or a chunk taken back from a slow one (a debug line).
        log.log(logging.INFO if retry.error else logging.DEBUG, "chunk %d: %d pending items run again%s%s",
                retry.chunk_id, len(offsets), " one by one" if retry.alone else "",
                f" ({retry.error})" if retry.error else "")
        if retry.alone and retry.error is not None and len(offsets) == 1:
            # It failed alone: this item is the culprit.
            self._on_lost(Lost(retry.chunk_id, offsets[0], Status.FAILED, retry.error,
                               retry.worker if retry.worker is not None else -1, None, 0.0), out)
            return
        for i in offsets:
            tracked.flags[i] = _MOVED
        runs = [[i] for i in offsets] if retry.alone else _contiguous_runs(offsets)
        for run in runs:
            items = tracked.items[run[0]:run[-1] + 1]
            chunk = Chunk(next(self._chunk_ids), self.task_items(items))
            self.tracked[chunk.id] = _Tracked(tracked.first + run[0], items)
            self.retry.append(chunk)
        self._settled(retry.chunk_id, tracked, len(offsets))

    def emit(self, out: list[Outcome]) -> None:
        """Hand outcomes on (through the reorder buffer, if ordered)."""
        self._insights.outcome_out(time.perf_counter() - self._started)
        if self._ordered:
            buffer = self._reorder
            for outcome in out:
                buffer[outcome.index] = outcome
            ready = []
            i = self._next_index
            while i in buffer:
                ready.append(buffer.pop(i))
                i += 1
            self._next_index = i
            if not ready:
                return
            out = ready
        self._deliver(out)

    def settle_rest(self, status: Status, error: ErrorInfo) -> None:
        """End every tracked item that has no outcome yet (and the reordered ones waiting)."""
        rest: list[Outcome] = []
        for tracked in self.tracked.values():
            for i, flag in enumerate(tracked.flags):
                if flag == _PENDING:
                    rest.append(Outcome(tracked.first + i, tracked.items[i], status, None, error))
        self.tracked.clear()
        self.retry.clear()
        rest.sort(key=lambda o: o.index)
        self._counts[status.value] += len(rest)
        if self._ordered:
            # Finished items that waited for an earlier one go out in order too.
            rest = sorted([*self._reorder.values(), *rest], key=lambda o: o.index)
            self._reorder.clear()
            self._ordered = False
        self.emit(rest)


def _contiguous_runs(offsets: list[int]) -> list[list[int]]:
    runs: list[list[int]] = []
    for i in offsets:
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs
