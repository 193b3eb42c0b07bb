"""A run in a host, as the client sees it: what arrived, how it is controlled, and how it ends if the host dies.

    any thread:     pause() / resume() / stop_after_current() ─► PauseRun / StopRun to the host

    reader thread:  take(batch)  ─► got[index] = 1, counts, on_outcomes(batch)
                    held()       ─► on_held()   (the host says the pause or stop is in effect)
                    finish(summary) / fail(error)      (the host's own end of the run)
                    settle_after_death(exit code)      (EOF: the host is gone)
                      items without an outcome, by their byte in the marks file:
                        RUNNING -> failed  "run host died (exit code -11, SIGSEGV) while running <item>"
                        ENDED   -> failed  "... before this item's result reached the window"
                        else    -> cancelled "... before this item started"
                      (all cancelled when the client ended the host for a cancel)
"""

from __future__ import annotations

import mmap
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from ..inputs import display
from ..log import get_logger
from ..proctree import describe_exit
from ..records import CANCELLED_ERROR, ErrorInfo, Outcome, Status, Summary
from ..spec import JobSpec
from . import marks as marks_file
from .protocol import PauseRun, StopRun

if TYPE_CHECKING:  # pragma: no cover
    from .client import HostClient

log = get_logger("poolside.host")

Callback = Callable[[Any], None]


class HostRun:
    """One run in a host, as the client sees it: what arrived, and how to end it."""

    def __init__(self, client: HostClient, run_id: int, spec: JobSpec, items: Sequence[Any],
                 on_outcomes: Callback, on_finish: Callback, on_error: Callback) -> None:
        self.client = client
        self.run_id = run_id
        self.backend = spec.backend
        self.workers = spec.workers or 0  # the host says how many (Started)
        self.items = list(items)
        self.on_outcomes = on_outcomes
        self.on_finish = on_finish
        self.on_error = on_error
        self.got = bytearray(len(self.items))
        self.counts: Counter[str] = Counter()
        self.repaired = 0
        #: The engine's start in the host once it says (Started), as ``Job.started``.
        self.started = self.begun = time.perf_counter()
        #: The run's worker processes, once the host says (``Started.pids``; None: it does not say).
        self.pids: tuple[int, ...] | None = None
        #: The run's row in the history database, once the host says (Started); None: not recorded.
        self.history_id: int | None = None
        #: Why the run is not (all) in the history (``Finished.history_error``); None: recorded, or off.
        self.history_error: str | None = None
        self.marks_path, self.marks = marks_file.create(len(self.items))
        self.cancel_requested = False
        #: Paused now (as asked; the host holds new items back), and told to stop after its current items.
        self.paused = False
        self.stopping = False
        #: Called on the reader thread once a pause or stop is in effect in the host (``Held``).
        self.on_held: Callable[[], None] | None = None
        self.done = threading.Event()

    def cancel(self) -> None:
        """End the run: within half a second, every item without an outcome ends ``cancelled``."""
        if self.done.is_set() or self.cancel_requested:
            return
        self.cancel_requested = True
        self.client._cancel(self)

    def pause(self) -> None:
        """Start no new item until :meth:`resume`; the items running now finish."""
        if not self.done.is_set() and not self.paused:
            self.paused = True
            self.client._control(self, PauseRun(self.run_id, True))

    def resume(self) -> None:
        """Go on from where :meth:`pause` stopped."""
        if not self.done.is_set() and self.paused:
            self.paused = False
            self.client._control(self, PauseRun(self.run_id, False))

    def stop_after_current(self) -> None:
        """End the run once the items running now finish: nothing running is thrown away."""
        if not self.done.is_set() and not self.stopping and not self.cancel_requested:
            self.stopping = True
            self.client._control(self, StopRun(self.run_id))

    def wait(self, timeout: float | None = None) -> bool:
        return self.done.wait(timeout)

    # -- the reader thread ----------------------------------------------------
    def take(self, batch: list[Outcome]) -> None:
        got = self.got
        for o in batch:
            got[o[0]] = 1
        self.counts.update(map(itemgetter(2), batch))  # Status keys (equal to their str values)
        self.on_outcomes(batch)

    def held(self) -> None:
        if self.on_held is not None and (self.paused or self.stopping):
            self.on_held()

    def finish(self, summary: Summary) -> None:
        if self.repaired:
            summary.counts["ok"] -= self.repaired
            summary.counts["failed"] += self.repaired
        self._end()
        self.on_finish(summary)

    def fail(self, error: BaseException) -> None:
        self._end()
        self.on_error(error)

    def settle_after_death(self, exit_code: int | None) -> None:
        """The host is gone: give every item without an outcome its outcome, then finish."""
        cancelled = self.cancel_requested
        marks = self.marks[:]  # one copy, then read as bytes
        missing = [i for i, g in enumerate(self.got) if not g]
        running = [i for i in missing if marks[i] == marks_file.RUNNING]
        cause = f"run host died ({describe_exit(exit_code)})"
        rest: list[Outcome] = []
        for i in missing:
            if cancelled:
                status, error = Status.CANCELLED, CANCELLED_ERROR
            elif marks[i] == marks_file.RUNNING:
                others = len(running) - 1
                where = f"while running {display(self.items[i])}" if not others else (
                    f"while running this item and {others} other{'s' if others > 1 else ''}")
                status, error = Status.FAILED, ErrorInfo("HostDied", f"{cause} {where}")
            elif marks[i] == marks_file.ENDED:
                status, error = Status.FAILED, ErrorInfo(
                    "HostDied", f"{cause} before this item's result reached the window")
            else:
                status, error = Status.CANCELLED, ErrorInfo(
                    "HostDied", f"{cause} before this item started")
            rest.append(Outcome(i, self.items[i], status, None, error))
        if rest:
            self.take(rest)
        counts = {s.value: self.counts.get(s, 0) for s in Status}
        counts["ok"] -= self.repaired
        counts["failed"] += self.repaired
        summary = Summary(backend=self.backend, workers=self.workers, counts=counts,
                          wall_s=time.perf_counter() - self.started, done=True)
        if running and not cancelled:
            log.warning("%s; %d item(s) were running", cause, len(running))
        self._end()
        self.on_finish(summary)

    def _end(self) -> None:
        marks_file.remove(self.marks_path, self.marks)
        self.marks = mmap.mmap(-1, 1)  # a late reader finds an empty, harmless map
        self.done.set()


