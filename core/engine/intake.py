"""The engine's intake: the input read into chunks, at the consumer's pace, and the rest of it at the end.

Its part of the engine's data flow (see ``poolside.engine``)::

    items ──► InputReader (poolside.engine.reader) ──batches──► Intake.next_chunk() ──► Chunk, tracked
                 ▲                                          │  by the ledger (input index from `read`)
                 └── allow(consumed + window) ◄─────────────┘  an input of unknown length that has
                     (the consumer's pace bounds the read-ahead)   ended: its tail shared out
    at a cancel or a failure: settle_rest(status, error) gives every item read, or still
    readable from a finite input, its outcome (in batches, through the ledger)

The dispatcher thread owns an ``Intake`` and is its only caller (the reader's
own thread aside, behind the reader's lock), so none of it needs a lock.
"""

from __future__ import annotations

import functools
import itertools
import os
import sys
from collections.abc import Iterable, Sized
from typing import Any

from ..backends.base import Backend
from ..backends.protocol import Chunk
from ..records import ErrorInfo, Outcome, Status
from .chunking import Chunker
from .insights import InsightsRecorder
from .ledger import Ledger
from .reader import InputReader

# Chunks in the window per worker, counting what the backend holds (two per
# worker): the third is the buffer for a consumer that takes outcomes in bursts.
_WINDOW_CHUNKS_PER_WORKER = 3
# A batch the reader has been reading this long (a slow input) gives the
# dispatcher the items it has so far: they run now rather than wait for the
# batch to fill.  The workers' own flush interval: a fast input never meets it.
_PARTIAL_BATCH_AFTER_S = 0.02
# Outcomes for a cancelled remainder are made in batches of this size, so a
# cancel of a million listed items streams rather than stalls.
_CANCEL_BATCH = 10_000
# At a cancel, a finite input is still listed (each item gets its outcome) as
# long as the reader brings something new at least this often; past that it
# counts as stuck, and what it has not read is reported as not read.
_CANCEL_STALL_S = 0.25
_UNBOUNDED = 1 << 62

# Builds an Outcome from an iterable of ALL its fields (tuple.__new__ applies no
# defaults): every zip that feeds it must give one value per field.
_new_outcome = functools.partial(tuple.__new__, Outcome)


def _is_path(item: Any) -> bool:
    """Whether ``item`` is a ``pathlib`` path, without importing ``pathlib`` (~4 ms up front).

    No program that has not imported it can hold a path of it.
    """
    pathlib = sys.modules.get("pathlib")
    return pathlib is not None and isinstance(item, pathlib.PurePath)


def _anchored(items: list, folder: str) -> list:
    """``items`` with their relative paths joined to ``folder``; a list of absolute ones is returned as is.

    Only paths are joined: a string item may be anything (a URL, a name), and
    a chunk is looked at by its first item, so that an input of other things
    costs nothing.
    """
    if not items or not _is_path(items[0]):
        return items
    from pathlib import PurePath  # imported already: the first item is one

    if all(not isinstance(p, PurePath) or p.is_absolute() for p in items):
        return items
    return [type(p)(folder, p) if isinstance(p, PurePath) and not p.is_absolute() else p for p in items]


class Intake:
    """One job's input: read lazily, cut into chunks, its rest settled at a cancel."""

    def __init__(self, items: Iterable[Any], backend: Backend, chunker: Chunker, ledger: Ledger,
                 insights: InsightsRecorder, counts: dict[str, int], *, finite: bool | None) -> None:
        self._size = len(items) if isinstance(items, Sized) else None
        #: Whether the input ends: at a cancel it is read to its end, each item getting its outcome.
        self.finite = self._size is not None if finite is None else finite
        self._backend = backend
        self._chunker = chunker
        self._ledger = ledger
        self._insights = insights
        self._counts = counts
        # Relative paths are relative to where the run started: the tasks get
        # them joined to it, so that a task's os.chdir (the whole process's,
        # on threads) does not turn the next items into "no such file".  The
        # outcomes keep the items as given.
        try:
            ledger.task_items = functools.partial(_anchored, folder=os.getcwd())
        except OSError:  # the folder was deleted: relative paths lead nowhere anyway
            pass
        self.read = 0  #: items taken from the input (the next one's index)
        self.done = False  #: the input is exhausted and every item of it taken
        self.error: BaseException | None = None  #: what the input raised, if it did
        # An input already in memory cannot block: it is read inline (see poolside.engine.reader).
        self.reader = InputReader(iter(items), self._batch_size, backend.wake, self.window(),
                                  inline=type(items) is range,
                                  sequence=items if isinstance(items, (list, tuple)) and type(items) in (list, tuple)
                                  else None)

    def window(self) -> int:
        """How many items may be read ahead of what the consumer has taken."""
        if self._backend.takes_input:
            return _UNBOUNDED  # the library reads its whole input itself (see backends.base)
        chunk = self._chunker.fixed or self._chunker.size
        return max(chunk * self._backend.workers * _WINDOW_CHUNKS_PER_WORKER, 4)

    def allow(self, consumed: int) -> None:
        """The consumer has taken ``consumed`` outcomes: read up to a window beyond (it grows with the chunks)."""
        self.reader.allow(consumed + self.window())

    def _batch_size(self, read: int) -> int:
        """On the reader's thread: how many items to read next (the chunk size)."""
        remaining = None if self._size is None else self._size - read
        return self._chunker.next_size(remaining)

    def next_chunk(self) -> Chunk | None:
        """A chunk of the next batch the reader has ready; never waits for the input."""
        reader = self.reader
        items = reader.take(_PARTIAL_BATCH_AFTER_S)
        if items is None:
            if reader.exhausted:
                self.done = True
                self.error = reader.error
            return None
        if self._size is None and self._chunker.fixed is None and not self._backend.takes_input:
            items = self._share_tail(items)
        chunk = self._ledger.track(self.read, items)
        task_items = self._ledger.task_items(items)
        if task_items is not items:
            chunk = chunk._replace(items=task_items)
        self.read += len(items)
        self._insights.chunks[len(items)] += 1
        return chunk

    def _share_tail(self, items: list) -> list:
        """Once an input of unknown length has ended, share what is left among the workers.

        What the reader read ahead is then the whole rest of the run, and it
        goes out in the shrinking chunks a known-length input gets at its end
        (``Chunker.next_size``) rather than in the sizes it was read in: a
        folder walk of 1,000 small files ended with one worker on a last chunk
        of ~140 items (6 ms) while the other had nothing left, 10-20 % of the run.
        """
        left = self.reader.left_after_end()
        if left is None:
            return items
        size = self._chunker.next_size(len(items) + left)
        if len(items) <= size:
            return items
        self.reader.unread(items[size:])
        return items[:size]

    # -- the end -------------------------------------------------------------------

    def settle_rest(self, status: Status, error: ErrorInfo) -> None:
        """Every item not taken yet gets its outcome (those the ledger tracks are its own)."""
        if self.finite and self.error is None:
            self._list_rest(status, error)
        # What the reader read and the dispatcher never took was read all the
        # same: it gets its outcome too, though the reader may be stuck now.
        self._settle_items(self.reader.close(), status, error)

    def _list_rest(self, status: Status, error: ErrorInfo) -> None:
        """A finite input: read on while it makes progress, so each item gets its outcome."""
        reader = self.reader
        reader.drain(_CANCEL_BATCH)
        while True:
            items = reader.take(steal_after=0.0)
            if items is not None:
                self._settle_items(items, status, error)
            elif reader.exhausted:
                self.error = reader.error
                return
            elif not reader.wait_progress(_CANCEL_STALL_S):
                return  # stuck: what it has not read is counted as not read

    def _settle_items(self, items: list, status: Status, error: ErrorInfo) -> None:
        """Give items that never ran their outcome, in batches that stream."""
        repeat = itertools.repeat
        for start in range(0, len(items), _CANCEL_BATCH):
            batch = items[start:start + _CANCEL_BATCH]
            n = len(batch)
            first = self.read
            self.read += n
            self._counts[status.value] += n
            self._ledger.emit(list(map(_new_outcome, zip(
                range(first, first + n), batch, repeat(status), repeat(None), repeat(error),
                repeat(0.0), repeat(None), repeat(None), repeat(None), repeat(None)))))

    def not_read(self) -> int | None:
        """Items of the input that got no outcome: never read.  None: how many is unknown."""
        if self.done or self.error is not None or self.reader.exhausted:
            return 0
        if self._size is not None:
            return self._size - self.read
        return None
