"""How many items go into the next chunk.

A chunk is one message to a worker and one (or a few) back.  Each message has
a fixed cost (pickling, a pipe round trip, waking a thread: 20-200 us), so tiny
items must travel by the thousand; slow items must travel alone, or one worker
gets a long chunk while the others run dry at the end of the run.

``auto`` sizes chunks from what the workers measure: the mean run time of an
item, a moving average over the batches that come back.  A chunk aims at
``TARGET_S`` of work.  joblib aims at 0.2 s and only grows or halves its batch
once per batch; here the size follows the measurement at once when items get
slower, and grows at most ``GROWTH`` times per step so that one fast first
item does not produce a huge chunk of slow ones.

Streaming does not wait on chunks: workers flush finished results every
``poolside.backends._worker.FLUSH_S`` even in the middle of a chunk, so a large
chunk never holds finished outcomes back for long.
"""

from __future__ import annotations

import math

# Work per chunk: 25 ms amortises a 200 us round trip to under 1 %, and is
# short enough that the last chunks of a run spread well over the workers.
TARGET_S = 0.025
# A ceiling on items per chunk.  At 2,500 tiny items the per-chunk cost is
# already a few percent of the parent's per-item cost, and bigger chunks only
# hold more items in memory (on a million tiny items, 10,000 ran no faster and
# held 10 MB more across the process tree).
MAX_ITEMS = 2_500
# The shrinking chunks at the end of a run stop shrinking at this much work:
# below it a chunk costs more in hand-overs (a message each way, a wake-up of
# the engine and of the consumer) than it saves in balance.  1,000 files of
# 64 KiB sha256 on 2 threads were 22 chunks, the last ten of 1-11 items; with
# this floor ~16, and a warm run 1.30x faster (medians of 15 interleaved runs
# at load 6-9, where ThreadPool.map took 1.14x Poolside's time; a 2 ms floor:
# 1.11x, 10 ms: 1.17x).
MIN_TAIL_S = 0.005
# How much a chunk may grow from one measurement to the next.
GROWTH = 8
# How much weight a new batch's measurement gets in the moving average.
_ALPHA = 0.3


class Chunker:
    """Chooses chunk sizes: a fixed size, or ``auto`` from measured item times."""

    def __init__(self, chunk_size: int | str, workers: int) -> None:
        if chunk_size == "auto":
            self.fixed: int | None = None
        elif isinstance(chunk_size, int) and not isinstance(chunk_size, bool) and chunk_size >= 1:
            self.fixed = chunk_size
        else:
            raise ValueError(f"chunk_size must be 'auto' or a whole number >= 1, not {chunk_size!r}")
        self.workers = workers
        self.size = self.fixed or 1
        self.item_s: float | None = None  # moving average of one item's run time

    def observe(self, total_s: float, count: int) -> None:
        """Workers ran ``count`` items in ``total_s`` seconds of item time."""
        if self.fixed is not None or count <= 0:
            return
        mean = total_s / count
        self.item_s = mean if self.item_s is None else self.item_s + _ALPHA * (mean - self.item_s)
        ideal = TARGET_S / self.item_s if self.item_s > 0 else MAX_ITEMS
        self.size = max(1, min(MAX_ITEMS, int(ideal), self.size * GROWTH))

    def next_size(self, remaining: int | None) -> int:
        """The size of the next chunk; ``remaining`` is how many items are left, if known."""
        if self.fixed is not None:
            return self.fixed
        size = self.size
        if remaining is not None:
            # Near the end, share what is left among the workers rather than
            # giving it all to the first one that asks.
            share = math.ceil(remaining / (self.workers * 2))
            if self.item_s:
                share = max(share, int(MIN_TAIL_S / self.item_s))
            size = min(size, max(1, share))
        return size
