"""How the window drives a study without running it: the :class:`StudyClient` interface.

A client starts a study from a :class:`~poolside.study.StudyPlan`, calls back
in the GUI thread as it goes, and can be cancelled.  :class:`HostStudyClient`
runs it in the study host (``poolside.host.study_client``, a process of its
own beside the run host); tests use a fake.

Callbacks, all in the GUI thread: ``on_progress(Progress)`` before each run,
``on_round(Round)`` after each interleaved round (the numbers so far, as
``ConfigResult`` snapshots), and once at the end ``on_finished(StudyResult or
None, error or None, history_error or None)``: ``history_error`` says why a
study that ran could not be kept in the history.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtCore import QObject

from poolside.study import Progress, Round, StudyPlan, StudyResult

from ...pump import BatchPump

OnProgress = Callable[[Progress], None]
OnRound = Callable[[Round], None]
OnFinished = Callable[[StudyResult | None, str | None, str | None], None]


class StudyClient(Protocol):
    """Starts and cancels studies somewhere else; calls back in the GUI thread."""

    @property
    def running(self) -> bool: ...

    def start(self, plan: StudyPlan, on_progress: OnProgress, on_round: OnRound, on_finished: OnFinished) -> None:
        ...

    def cancel(self) -> None: ...


class HostStudyClient(QObject):
    """Studies in the study host; what it says reaches the GUI thread through a :class:`BatchPump`.

    The host's reader thread decodes each message (capped: one configuration
    a message at the end) and pushes it into the pump; the pump hands the GUI
    thread as many a tick as fit its budget, and the end (``close``) after the
    last of them.
    """

    def __init__(self, parent: QObject | None = None, *, interval_ms: int = 50, budget_ms: float = 12.0,
                 python: str | None = None) -> None:
        super().__init__(parent)
        from poolside.host.study_client import StudyHostClient

        self.host = StudyHostClient(python=python)
        self._callbacks: tuple[OnProgress, OnRound, OnFinished] | None = None
        self._pump = BatchPump(self, interval_ms=interval_ms, budget_ms=budget_ms, min_batch=1)
        self._pump.batchReady.connect(self._deliver)
        self._pump.drained.connect(self._end)

    @property
    def running(self) -> bool:
        return self._callbacks is not None

    def warm(self) -> None:
        """Start the study host ahead of the first study (it warms up in the background)."""
        self.host.start()

    def start(self, plan: StudyPlan, on_progress: OnProgress, on_round: OnRound, on_finished: OnFinished) -> None:
        if self.running:
            raise RuntimeError("a study is already running")
        self._pump.start()
        push, close = self._pump.sink()
        self._callbacks = (on_progress, on_round, on_finished)

        def finished(record: StudyResult | None, error: str | None, history_error: str | None) -> None:
            close((record, error, history_error))

        try:
            self.host.study(plan, on_progress=lambda p: push([p]), on_round=lambda r: push([r]),
                            on_finished=finished)
        except Exception:
            self._pump.stop()
            self._callbacks = None
            raise

    def cancel(self) -> None:
        self.host.cancel()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the study has ended and been handed over (closing only); True if it has."""
        if not self.host.wait(timeout):
            return False
        self._pump.flush()
        return not self.running

    def shutdown(self) -> None:
        """The window is closing: the study host and everything under it end."""
        self._pump.stop()
        self._callbacks = None
        self.host.shutdown()

    def _deliver(self, batch: list[Any]) -> None:
        if self._callbacks is None:
            return
        on_progress, on_round, _ = self._callbacks
        for event in batch:
            if isinstance(event, Round):
                on_round(event)
            else:
                on_progress(event)

    def _end(self, final: Any) -> None:
        callbacks, self._callbacks = self._callbacks, None
        if callbacks is not None and final is not None:
            callbacks[2](*final)
