"""The Run tab's exports: the results table as CSV or JSON, and the run as a Chrome trace.

    Export Results as CSV/JSON… ─► the rows the table shows (filtered, in its order) ─► serialize.write_file
    Export Timeline… ───────────► every outcome + the run's CPU and memory series ──► trace.write_trace

Enabled only when a run has ended with rows to export (``set_enabled``); what
happened is said through ``message``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget

from poolside import serialize
from poolside.words import units as fmt

from ...export_dialog import ask_export_path
from .results_panel import ResultsPanel
from .run_monitor import RunMonitor


class RunExports(QObject):
    """The three export actions of the Run tab and what they write."""

    message = Signal(str)

    def __init__(self, results: ResultsPanel, monitor: RunMonitor, *, summary: Callable[[], Any],
                 folder: Callable[[], str | None], parent: QWidget) -> None:
        """``summary``: the last run's summary (written into a JSON export); ``folder``: where the
        Save dialog starts before any export was saved (the last folder files were added from)."""
        super().__init__(parent)
        self._parent = parent
        self._results = results
        self._monitor = monitor
        self._summary = summary
        self._folder = folder
        self.settings: QSettings | None = None  # the window's, once it restored them
        self.csv_action = QAction("Export Results as CSV…", parent)
        self.csv_action.triggered.connect(lambda: self.choose_results("csv"))
        self.json_action = QAction("Export Results as JSON…", parent)
        self.json_action.triggered.connect(lambda: self.choose_results("json"))
        self.trace_action = QAction("Export Timeline…", parent)
        self.trace_action.setToolTip("Save the run as a Chrome trace (opens in ui.perfetto.dev)")
        self.trace_action.triggered.connect(self.choose_trace)

    def actions(self) -> list[QAction]:
        return [self.csv_action, self.json_action, self.trace_action]

    def set_enabled(self, enabled: bool) -> None:
        for action in self.actions():
            action.setEnabled(enabled)

    def choose_results(self, kind: str) -> None:
        filters = "CSV files (*.csv)" if kind == "csv" else "JSON files (*.json)"
        path = ask_export_path(self._parent, "Export results", f"poolside-results.{kind}", filters,
                               settings=self.settings, folder=self._folder())
        if path:
            self.export_results(path)

    def export_results(self, path: str) -> int:
        """Write the rows the table shows (filtered, in its order) to CSV or JSON by extension."""
        try:
            n = serialize.write_file(path, self._results.visible_outcomes(), self._results.value_keys(),
                                     self._summary())
        except (OSError, ValueError) as exc:
            self.message.emit(f"Could not export: {exc}")
            return 0
        self.message.emit(f"Exported {fmt.count(n)} results to {path}.")
        return n

    def choose_trace(self) -> None:
        path = ask_export_path(self._parent, "Export timeline", "poolside-trace.json", "Chrome trace (*.json)",
                               settings=self.settings, folder=self._folder())
        if path:
            self.export_trace(path)

    def export_trace(self, path: str) -> int:
        """Write every result of the run as a Chrome trace, with the CPU and memory counters."""
        from poolside.trace import write_trace

        try:
            n = write_trace(path, self._results.model.outcomes(), self._monitor.run_series())
        except OSError as exc:
            self.message.emit(f"Could not export the timeline: {exc}")
            return 0
        self.message.emit(f"Exported a trace of {fmt.count(n)} items to {path} (open it in ui.perfetto.dev).")
        return n
