"""Saves each run's CPU and memory series into the history, off the GUI thread.

    RunWorkspace._on_finished ─► SeriesStore.save(history_id, series) ─► thread ─► history.record_series

Encoding and writing a 4,096-sample series takes 7 ms (2 cores) to 40 ms (16 cores),
plus the database's lock and write: too long for the event loop, so one short
thread per run.  A save that fails is logged by ``record_series`` and never
touches the run.
"""

from __future__ import annotations

import threading
from typing import Any

from poolside.history import record_series


class SeriesStore:
    """One save at a time; ``close`` waits for the last (the window is closing)."""

    def __init__(self) -> None:
        self._thread: threading.Thread | None = None

    def save(self, history_id: int | None, series: dict[str, Any]) -> None:
        if history_id is None or not len(series.get("t", ())):
            return
        self.wait()  # the previous run's, long done in practice
        self._thread = threading.Thread(target=record_series, args=(history_id, series),
                                        name="poolside-series-save")
        self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """True once no save is in flight."""
        thread = self._thread
        if thread is None:
            return True
        thread.join(timeout)
        if thread.is_alive():
            return False
        self._thread = None
        return True

    def close(self) -> None:
        self.wait()
