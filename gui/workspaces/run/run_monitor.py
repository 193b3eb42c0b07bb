"""Where the window's CPU and memory numbers come from: a :class:`poolside.usage.Monitor` on a Qt timer.

::

    Monitor (own thread, 4 Hz) ──► RunMonitor (GUI timer, 2 Hz) ──► recentReady(dict)  last 60 s
                                        │                        └► runReady(dict)     the run, on the
                                        │                                              items' clock
                                   sampled_pids(): which processes are Poolside's

The views subscribe to the signals and never see the monitor.  The Run
workspace samples the run host and its workers (``RunBridge.pid_source``);
without a host (runs in this process) it is this process and its children.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from poolside.usage import DEFAULT_INTERVAL_S, Monitor, OwnTree, PidSource


def sampled_pids() -> PidSource:
    """This process and its descendants: what runs in this process use (the run host has its own)."""
    return OwnTree()


class RunMonitor(QObject):
    """Samples all the time; brackets runs; hands plain dicts to the views."""

    recentReady = Signal(dict)
    runReady = Signal(dict)

    def __init__(self, parent: QObject | None = None, *, pids: PidSource | None = None,
                 interval_ms: int = 500, sample_s: float | None = None) -> None:
        super().__init__(parent)
        self.monitor = Monitor(pids or sampled_pids(), interval_s=sample_s or DEFAULT_INTERVAL_S)
        self._shift = 0.0  # run origin - job origin: puts samples on the items' clock
        self._running = False
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self.monitor.start()
        self._timer.start()

    def begin_run(self) -> None:
        self._shift = 0.0
        self._running = True
        self.monitor.begin_run()

    def set_job_origin(self, started: float) -> None:
        """The engine's start (``Job.started``): outcomes' times count from it."""
        origin = self.monitor.series().get("origin")
        if origin is not None:
            self._shift = origin - started

    def end_run(self, summary: Any = None) -> dict[str, Any]:
        """Close the run's series, its peak memory the ``summary``'s (``Monitor.end_run``); returns
        it (also sent as ``runReady``)."""
        self._running = False
        self.monitor.end_run(summary)
        series = self.run_series()
        self.runReady.emit(series)
        return series

    def run_series(self) -> dict[str, Any]:
        """The run's series with its times on the items' clock (seconds since the job started)."""
        s = self.monitor.series()
        if self._shift:
            s["t"] = s["t"] + self._shift
            for p in s["processes"]:
                p["t"] = p["t"] + self._shift
        return s

    def _tick(self) -> None:
        self.recentReady.emit(self.monitor.recent(60.0))
        if self._running:
            self.runReady.emit(self.run_series())

    def stop(self) -> None:
        self._timer.stop()
        self.monitor.stop()
