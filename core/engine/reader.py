"""The input reader: a thread that reads the items, so a slow input never blocks the dispatcher.

An input may block for as long as it likes (a folder walk on a slow disk, a
generator waiting on the network) and it cannot be interrupted.  So the engine
never calls it on its dispatcher thread: an :class:`InputReader` reads it on a
thread of its own, in batches of the chunk size, and hands whole batches over::

    input ──islice(n)──► partial ──publish──► batches ──take()──► dispatcher
            (may block)     │                  (deque)
                            └──take(steal)─────────────────────► dispatcher

``allow(limit)`` bounds how far ahead it reads (the engine's window), so memory
stays flat for any input length.

A batch being read is held in ``partial``, which the dispatcher can see into:
CPython's ``list.extend`` appends the items of an iterator one by one, each
complete before the list's length counts it, so ``partial[:len(partial)]`` is
always a valid prefix.  That lets the dispatcher *steal* what a slow batch has
read so far (rather than let those items wait for the batch to fill) and, at a
cancel, give an outcome to every item read, though the reader is still blocked
inside the input.  Items the reader reads after :meth:`close` were read after
the run ended; it drops them and stops.

Per item, reading costs what it cost on the dispatcher: whole batches with
``islice`` at C speed, and one lock per batch to hand them over (never a queue
item by item).  The thread itself costs a little per run (its wake-ups compete
for the GIL: up to ~5 % of the parent's CPU on 200,000 tiny items, measured),
so an input that is already in memory (a list, a tuple, a range), which cannot
block, is read *inline*: the same batches, taken on the dispatcher's own thread.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any


class InputReader:
    """Reads ``items`` on its own thread (or inline, see above); every method is safe from any thread."""

    def __init__(self, items: Iterator[Any], batch_size: Callable[[int], int],
                 wake: Callable[[], None], limit: int, inline: bool = False,
                 sequence: list | tuple | None = None) -> None:
        self._items = items
        self._inline = inline or sequence is not None  # no thread: take() reads (for inputs that cannot block)
        # A list or tuple is read inline by slicing it (``items`` is then not
        # used): a batch is copied at memory speed, where ``islice`` takes its
        # items one by one (200,000 tiny items: ~15 ns an item on the
        # dispatcher's thread, the one that bounds a run of them).
        self._sequence = sequence
        self._batch_size = batch_size  # items read so far -> size of the next batch
        self._wake = wake  # tells the dispatcher there is something to take
        # The hot paths (a take() per chunk, an allow() per batch taken) hold the
        # lock itself: ``with`` on a Condition is two Python-level calls more
        # around it (~0.5 us a chunk on the dispatcher's thread).
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._limit = limit
        self._batches: deque[list] = deque()
        self._partial: list = []
        self._stolen = 0  # items of ``_partial`` already taken by the dispatcher
        self._since = 0.0  # when the reader started reading ``_partial``
        self._reading = False  # inside the input now
        self._count = 0  # items read and handed over (published or stolen)
        self._ended = False  # the input is exhausted, or raised
        self._closed = False
        self._starved = False  # inline: a take() found the window full
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="poolside-input", daemon=True)

    def start(self) -> None:
        if not self._inline:
            self._thread.start()

    # -- the dispatcher's side ------------------------------------------------

    def allow(self, limit: int) -> None:
        """Let the reader read until ``limit`` items have been read in all."""
        if limit <= self._limit:
            return
        with self._lock:
            self._limit = limit
            self._cond.notify_all()
            starved, self._starved = self._starved, False
        if starved:
            self._wake()  # inline: the dispatcher found no room; now there is

    def drain(self, batch_size: int) -> None:
        """Read to the end, however far ahead, in batches of ``batch_size`` (a cancel lists the rest)."""
        self._batch_size = lambda read: batch_size
        self.allow(2**62)

    def take(self, steal_after: float | None = None) -> list | None:
        """The next batch, or None if none is ready.

        With ``steal_after``, a batch that has been reading that long gives up
        the items it has read so far.
        """
        if self._inline and not self._batches:
            self._read_batch(wait=False)
        with self._lock:
            if self._batches:
                return self._batches.popleft()
            if steal_after is None or not self._reading:
                return None
            if time.perf_counter() - self._since < steal_after:
                return None
            return self._steal()

    def _steal(self) -> list | None:
        end = len(self._partial)  # see the module docstring: a valid prefix
        if end <= self._stolen:
            return None
        items = self._partial[self._stolen:end]
        self._stolen = end
        self._count += len(items)
        return items

    @property
    def ready(self) -> bool:
        """Whether a take() now returns a batch without waiting for the input."""
        if self._inline:
            return not (self._ended or self._closed)
        return bool(self._batches)

    def left_after_end(self) -> int | None:
        """Items read and not taken, once the whole input has been read; ``None`` while it has not."""
        with self._cond:
            if not self._ended or self._closed:
                return None
            return sum(len(batch) for batch in self._batches)

    def unread(self, items: list) -> None:
        """Put items taken by the dispatcher back in front, to be taken first (the tail's sharing)."""
        if items:
            with self._cond:
                self._batches.appendleft(items)

    @property
    def exhausted(self) -> bool:
        """The whole input was read (or raised) and every item taken."""
        with self._cond:
            return self._ended and not self._batches

    def wait_progress(self, timeout: float) -> bool:
        """Wait up to ``timeout`` for more to take; False if the input is stuck."""
        if self._inline:
            return not self._ended and self._count < self._limit  # take() reads it now
        with self._cond:
            before = self._count + len(self._partial)
            self._cond.wait_for(lambda: self._batches or self._ended, timeout)
            return bool(self._batches) or self._ended or self._count + len(self._partial) > before

    def close(self) -> list:
        """Stop reading; return every item read and not taken yet, in input order."""
        with self._cond:
            self._closed = True
            items = [item for batch in self._batches for item in batch]
            self._batches.clear()
            if self._reading:
                stolen = self._steal()
                if stolen:
                    items += stolen
            self._cond.notify_all()
            return items

    # -- the reader thread ----------------------------------------------------

    def _run(self) -> None:
        while self._read_batch(wait=True):
            pass

    def _read_batch(self, wait: bool) -> bool:
        """Read and publish one batch (waiting for room if ``wait``); False once there is no more."""
        cond = self._cond
        with self._lock:
            if wait:
                cond.wait_for(lambda: self._closed or self._count < self._limit)
            if self._closed or self._ended or self._count >= self._limit:
                self._starved = self._count >= self._limit
                return False
            n = self._batch_size(self._count)
            partial = self._partial = []
            self._stolen = 0
            self._since = time.perf_counter()
            self._reading = True
        try:
            if self._sequence is not None:
                partial.extend(self._sequence[self._count:self._count + n])  # _count: items read so far
            else:
                partial.extend(itertools.islice(self._items, n))
            ended = len(partial) < n
        except BaseException as exc:
            self.error = exc  # the items read before it still run
            ended = True
        with self._lock:
            self._reading = False
            if self._closed:
                return False  # read after the run ended: not the run's
            rest = partial if not self._stolen else partial[self._stolen:]
            hungry = not self._batches
            if rest:
                self._batches.append(rest)
                self._count += len(rest)
            self._ended = ended
            if not self._inline:  # inline, nobody waits on it: take() reads on the dispatcher's thread
                cond.notify_all()
        if ((rest and hungry) or ended) and not self._inline:
            self._wake()
        return not ended
