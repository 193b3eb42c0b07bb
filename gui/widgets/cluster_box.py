"""The Dask part of the Backend panel: which cluster, how files travel, and a connection test.

    Cluster ─┬─ Local cluster (Workers sets its size)
             └─ Scheduler address ── [Test connection] ──QProcess──► python -m poolside.backends.dask_info
                                                                    ◄── JSON report, or the reason
    Files: Shared storage | Shipped
    backend_options() ──► JobSpec.backend_options {"address", "files"}

The test runs in a short-lived subprocess (see ``poolside.backends.dask_info``
for why not in the window's process); a ``QProcess`` reports on the GUI
thread by its own signals, so nothing needs handing back.  Without the
``distributed`` package the box says how to install it.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from PySide6.QtCore import QProcess, QSettings, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from poolside.backends.dask_info import ClusterReport
from poolside.words.cluster import FILE_MODE_LABELS, FILE_MODE_TEXT, INSTALL_HINT, report_lines

from .. import settings as cfg

# A connection test that has not answered by then is stopped: the probe itself
# gives up after 5 s, and Python and distributed take ~1 s to start.
_TEST_LIMIT_MS = 15_000


class ClusterBox(QWidget):
    """Where a Dask run goes and how its files travel; ``backend_options()`` for the job spec."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None, *, available: bool = True, reason: str = "") -> None:
        super().__init__(parent)
        self.available = available
        self.cluster = QComboBox(self)
        self.cluster.addItem("Local cluster", "local")
        self.cluster.addItem("Scheduler address", "address")
        self.cluster.setToolTip("A local cluster of worker processes (Workers sets how many), "
                                "or the scheduler of a cluster on other machines.")
        self.address = QLineEdit(self)
        self.address.setPlaceholderText("tcp://HOST:8786")
        self.address.setToolTip("The Dask scheduler's address, as 'dask scheduler' prints it.")
        self.test = QPushButton("Test connection", self)
        self.test.setToolTip("Ask the scheduler for its workers, threads, memory and versions.")
        self.files = QComboBox(self)
        for mode, label in FILE_MODE_LABELS.items():
            self.files.addItem(label, mode)
            self.files.setItemData(self.files.count() - 1, FILE_MODE_TEXT[mode].capitalize(),
                                   Qt.ItemDataRole.ToolTipRole)
        self.report = QLabel(self)
        self.report.setWordWrap(True)
        self.report.setOpenExternalLinks(True)  # the dashboard link opens in the browser
        self.report.setProperty("role", "hint")
        if not available:
            self.report.setText(f"Dask is not installed here ({reason or 'no distributed package'}). "
                                f"To use it: {INSTALL_HINT}")
        self._process: QProcess | None = None
        self._timed_out = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._give_up)
        self._lay_out()
        self.cluster.currentIndexChanged.connect(self._on_cluster)
        self.address.textChanged.connect(self._on_address)
        self.files.currentIndexChanged.connect(self.changed)
        self.test.clicked.connect(self.run_test)
        self._on_cluster()

    def _lay_out(self) -> None:
        self._form = form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Cluster", self.cluster)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.address, 1)
        row.addWidget(self.test)
        form.addRow("Address", row)
        form.addRow("Files", self.files)
        form.addRow(self.report)

    def align_labels(self, width: int) -> None:
        """Make the label column ``width`` wide, as the form this box sits in."""
        for row in range(self._form.rowCount()):
            item = self._form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            label = item.widget() if item is not None else None
            if label is not None:
                label.setMinimumWidth(width)

    # -- values -------------------------------------------------------------
    def backend_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"files": self.files.currentData()}
        address = self.address.text().strip()
        if self.cluster.currentData() == "address" and address:
            options["address"] = address
        return options

    def apply_options(self, options: dict[str, Any]) -> None:
        address = str(options.get("address") or "")
        self.cluster.setCurrentIndex(self.cluster.findData("address" if address else "local"))
        if address:
            self.address.setText(address)
        i = self.files.findData(options.get("files", "shared"))
        self.files.setCurrentIndex(max(0, i))

    def save_settings(self, s: QSettings) -> None:
        s.setValue("dask/cluster", self.cluster.currentData())
        s.setValue("dask/address", self.address.text())
        s.setValue("dask/files", self.files.currentData())

    def restore_settings(self, s: QSettings) -> None:
        self.address.setText(cfg.get_str(s, "dask/address", ""))
        self.cluster.setCurrentIndex(max(0, self.cluster.findData(cfg.get_str(s, "dask/cluster", "local"))))
        self.files.setCurrentIndex(max(0, self.files.findData(cfg.get_str(s, "dask/files", "shared"))))

    def set_busy(self, busy: bool) -> None:
        for w in (self.cluster, self.files):
            w.setEnabled(not busy and self.available)
        self.address.setEnabled(not busy and self._by_address())
        self.test.setEnabled(not busy and self._by_address() and bool(self.address.text().strip())
                             and self._process is None)

    # -- the connection test ------------------------------------------------
    def run_test(self) -> None:
        address = self.address.text().strip()
        if not address or self._process is not None:
            return
        process = QProcess(self)
        process.setProgram(sys.executable)
        process.setArguments(["-m", "poolside.backends.dask_info", address])
        process.finished.connect(self._tested)
        process.errorOccurred.connect(self._failed_to_start)
        self._process = process
        self._timed_out = False
        self.report.setText(f"Asking {address}…")
        self.set_busy(False)
        process.start()
        self._timer.start(_TEST_LIMIT_MS)

    def _tested(self, code: int, _status: Any) -> None:
        process, self._process = self._process, None
        self._timer.stop()
        if process is None:
            return
        out = bytes(process.readAllStandardOutput().data()).decode("utf-8", "replace")
        err = bytes(process.readAllStandardError().data()).decode("utf-8", "replace").strip()
        process.deleteLater()
        if self._timed_out:
            self.report.setText(f"The scheduler did not answer within {_TEST_LIMIT_MS // 1000} s.")
        elif code == 0:
            try:
                self.show_report(ClusterReport.from_dict(json.loads(out)))
            except (ValueError, KeyError) as e:
                self.report.setText(f"The connection test answered something unexpected: {e}")
        else:
            self.report.setText(err.splitlines()[-1] if err else f"The connection test failed (exit {code}).")
        self.set_busy(False)

    def show_report(self, report: ClusterReport) -> None:
        lines = report_lines(report)
        html = []
        for line in lines:
            escaped = line.replace("&", "&amp;").replace("<", "&lt;")
            if line.startswith("dashboard: "):
                url = report.dashboard.replace('"', "%22")
                escaped = f'Dashboard: <a href="{url}">{escaped[len("dashboard: "):]}</a>'
            elif line.startswith("warning: "):
                escaped = f"<b>Warning</b>: {escaped[len('warning: '):]}"
            html.append(escaped)
        self.report.setText("<br>".join(html))

    def _failed_to_start(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self._process = None
            self._timer.stop()
            self.report.setText("The connection test could not start a Python process.")
            self.set_busy(False)

    def _give_up(self) -> None:
        if self._process is not None:
            self._timed_out = True
            self._process.kill()  # finished() follows and reports it

    def stop(self) -> None:
        """End a test still running (the window closes): no process outlives the box."""
        self._timer.stop()
        process, self._process = self._process, None
        if process is not None:
            process.finished.disconnect(self._tested)
            process.kill()
            process.waitForFinished(2000)

    # -- slots --------------------------------------------------------------
    def _by_address(self) -> bool:
        return self.available and self.cluster.currentData() == "address"

    def _on_cluster(self, *_args) -> None:
        self._form.setRowVisible(1, self.cluster.currentData() == "address")
        self.set_busy(False)
        self.changed.emit()

    def _on_address(self, *_args) -> None:
        self.set_busy(False)
        self.changed.emit()
