"""A past run's CPU and memory, reopened from the history: the Run tab's "Last run" views.

    HistoryReader.get_series(id) ─► RunCpuView.show_run ─► CoresPanel(live=False): machine, per core, workers
                                                       └─► Export timeline… ─► poolside.trace.write_trace

The history keeps each item's status and time taken, not where or when it ran
(process, thread, start): an old run's trace holds the CPU and memory counters
and no item bars, and the view says so rather than inventing them.  For the
same reason the GIL view (busy threads against the process's CPU) is not drawn.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ...export_dialog import ask_export_path
from ...widgets.cores_panel import CoresPanel

NO_ITEMS = ("The history keeps each item's status and time, not the process, thread or start that drew it on the "
            "timeline: this run's trace holds its CPU and memory counters only.")
NO_SERIES = "No CPU history was stored with this run (recorded before Poolside kept one, or by a CLI run " \
            "without --trace)."


class RunCpuView(QWidget):
    """One stored run's CPU history; ``message(text)`` reports an export."""

    message = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cores = CoresPanel(self, live=False)
        self.note = QLabel(NO_SERIES, self)
        self.note.setWordWrap(True)
        self.note.setProperty("role", "hint")
        self.note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.export_button = QPushButton("Export timeline…", self)
        self.export_button.setAccessibleName("Export timeline…")
        self.export_button.setToolTip("Write this run's CPU and memory as Chrome trace JSON (ui.perfetto.dev)")
        self.export_button.clicked.connect(self.choose_export)
        bar = QHBoxLayout()
        bar.addWidget(self.note, 1)
        bar.addWidget(self.export_button, 0, Qt.AlignmentFlag.AlignTop)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.cores, 1)
        lay.addLayout(bar)
        self._series: dict[str, Any] | None = None
        self._name = "run"
        self.show_run("run", None)

    @property
    def series(self) -> dict[str, Any] | None:
        return self._series

    def show_run(self, name: str, series: dict[str, Any] | None) -> None:
        self._series, self._name = series, name
        has = series is not None and len(series.get("t", ())) > 0
        self.cores.setVisible(has)
        self.export_button.setEnabled(has)
        self.note.setText(NO_ITEMS if has else NO_SERIES)
        if has:
            self.cores.show_run(series)  # type: ignore[arg-type]

    def choose_export(self) -> None:
        path = ask_export_path(self, "Export timeline", f"poolside-trace-{self._name}.json", "Chrome trace (*.json)")
        if path:
            self.export_trace(path)

    def export_trace(self, path: str) -> bool:
        """Write the stored counters as a Chrome trace (no item events: see the module's note)."""
        from poolside.trace import write_trace

        if self._series is None:
            return False
        try:
            write_trace(path, [], self._series)
        except OSError as exc:
            self.message.emit(f"Could not export the timeline: {exc}")
            return False
        self.message.emit(f"Exported run {self._name}'s CPU and memory counters to {path} (no item bars: "
                          "the history does not keep where items ran).")
        return True
