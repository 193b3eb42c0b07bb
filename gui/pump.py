"""The one hand-off from any thread to the GUI thread: a buffer drained by a timer, in batches.

    producer thread(s) ──push(items)──► buffer (a lock) ──QTimer tick (GUI thread)──► batchReady(list)
                       ──close(value)─►                                           └─► drained(value)

A run's outcomes (:mod:`.bridge`), a folder being walked (``workspaces/run/scanner``) and a
study's messages (``workspaces/compare/client``) all reach the GUI thread this way, so every
slot connected to a pump stays within one time budget per tick, however fast the producer is.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from poolside.log import get_logger

_NOT_CLOSED = object()
_log = get_logger(__name__)


class BatchPump(QObject):
    """Carries items from any thread to the GUI thread, one batch per timer tick.

    ``push`` and ``close`` may be called from any thread; everything else
    belongs to the GUI thread.  ``start`` begins a new generation: ``sink``
    gives push/close functions bound to it, which go quiet once the pump is
    restarted, so a late callback from an old producer cannot leak into the
    next one.  ``batchReady(list)`` is emitted with at most as
    many items as the connected slots can take within ``budget_ms`` (learned
    from the previous ticks); ``drained(object)`` is emitted once, with the
    value given to ``close``, after the last batch.
    """

    batchReady = Signal(list)
    drained = Signal(object)

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        interval_ms: int = 50,
        budget_ms: float = 30.0,
        min_batch: int = 20,
        max_batch: int = 50_000,
    ) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._chunks: deque[list] = deque()
        self._pending = 0
        self._closed: Any = _NOT_CLOSED
        self._generation = 0
        self._budget_s = budget_ms / 1000.0
        self._min_batch = min_batch
        self._max_batch = max_batch
        self._cap = max(min_batch, 500)
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)

    # -- any thread ---------------------------------------------------------
    def push(self, items: Sequence, generation: int | None = None) -> None:
        if not items:
            return
        chunk = list(items)
        with self._lock:
            if generation is not None and generation != self._generation:
                return
            self._chunks.append(chunk)
            self._pending += len(chunk)

    def close(self, final: Any = None, generation: int | None = None) -> None:
        """No more items will come; ``drained(final)`` follows the last batch."""
        with self._lock:
            if generation is not None and generation != self._generation:
                return
            self._closed = final

    def sink(self) -> tuple[Callable[[Sequence], None], Callable[[Any], None]]:
        """``(push, close)`` for the current generation (see ``start``)."""
        with self._lock:
            gen = self._generation
        return (lambda items: self.push(items, gen)), (lambda final=None: self.close(final, gen))

    def pending(self) -> int:
        with self._lock:
            return self._pending

    # -- GUI thread ---------------------------------------------------------
    def start(self) -> None:
        with self._lock:
            self._generation += 1
            self._chunks.clear()
            self._pending = 0
            self._closed = _NOT_CLOSED
        self._timer.start()

    def stop(self) -> None:
        """Stop delivering; whatever is still buffered is dropped."""
        self._timer.stop()
        with self._lock:
            self._generation += 1
            self._chunks.clear()
            self._pending = 0
            self._closed = _NOT_CLOSED

    @property
    def active(self) -> bool:
        return self._timer.isActive()

    def flush(self) -> None:
        """Deliver everything buffered now (and ``drained`` if closed)."""
        while self._timer.isActive() and self._tick(unlimited=True):
            pass

    def _take(self, limit: int) -> tuple[list, bool, Any]:
        with self._lock:
            batch: list = []
            while self._chunks and len(batch) < limit:
                chunk = self._chunks[0]
                room = limit - len(batch)
                if len(chunk) <= room:
                    batch.extend(self._chunks.popleft())
                else:
                    batch.extend(chunk[:room])
                    del chunk[:room]
            self._pending -= len(batch)
            finished = self._closed is not _NOT_CLOSED and not self._chunks
            return batch, finished, self._closed

    def _tick(self, unlimited: bool = False) -> bool:
        """Emit one batch; return whether more may follow."""
        batch, finished, final = self._take(self._max_batch if unlimited else self._cap)
        if batch:
            t0 = time.perf_counter()
            self.batchReady.emit(batch)
            self._learn(len(batch), time.perf_counter() - t0)
        if finished:
            self._timer.stop()
            with self._lock:
                self._closed = _NOT_CLOSED
            self.drained.emit(final)
            return False
        return bool(batch)

    def _learn(self, n: int, seconds: float) -> None:
        # Next cap: as many items as fit the budget at the cost just measured.
        # Down at once when a tick overran (the next must not overrun too), up
        # halfway there so that one cheap tick does not swing it wildly.
        per_item = seconds / n if n else 0.0
        target = self._max_batch if per_item <= 0 else int(self._budget_s / per_item)
        target = max(self._min_batch, min(self._max_batch, target))
        self._cap = target if target < self._cap else max(self._min_batch, (self._cap + target) // 2)


