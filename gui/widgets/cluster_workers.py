"""The Dask cluster's workers beside the local processes: CPU, memory and tasks in flight, live.

    watch(address) ──QProcess──► python -m poolside.backends.dask_info --watch ADDRESS
                   ◄── a JSON line a second (the scheduler's metrics) ── table rows
    stop()         ──► the process killed (it also ends by itself when the window goes)

The numbers are the scheduler's (each worker reports them with its
heartbeat), read by a subprocess for the reason the connection test is one
(``poolside.backends.dask_info``): no Dask client in the window's process.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from PySide6.QtCore import QProcess, Qt
from PySide6.QtWidgets import QHeaderView, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from poolside.words.units import human_bytes

COLUMNS = ("Worker", "Machine", "Threads", "CPU", "Memory", "Tasks in flight")
#: Rows shown before the table scrolls.
_MAX_ROWS = 6


class ClusterWorkers(QWidget):
    """A table of the cluster's workers, refreshed each second while a run on a cluster lasts."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel(self)
        self.title.setProperty("role", "hint")
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setAccessibleName("Cluster workers")
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 2, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.title)
        lay.addWidget(self.table)
        self._process: QProcess | None = None
        self._buffer = b""
        self.hide()

    @property
    def watching(self) -> bool:
        return self._process is not None

    def watch(self, address: str) -> None:
        """Show the workers of the cluster at ``address`` until :meth:`stop`."""
        self.stop()
        self.title.setText(f"Dask cluster at {address}: asking its scheduler…")
        process = QProcess(self)
        process.setProgram(sys.executable)
        process.setArguments(["-m", "poolside.backends.dask_info", "--watch", address])
        process.readyReadStandardOutput.connect(self._read)
        process.finished.connect(self._ended)
        self._process, self._buffer, self._address = process, b"", address
        process.start()
        self.show()

    def stop(self) -> None:
        """Stop watching (the rows stay: the last state of the cluster during the run)."""
        process, self._process = self._process, None
        if process is None:
            return
        process.finished.disconnect(self._ended)
        process.kill()
        process.waitForFinished(2000)
        process.deleteLater()

    def _read(self) -> None:
        if self._process is None:
            return
        self._buffer += bytes(self._process.readAllStandardOutput().data())
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines[-1:]:  # only the latest state matters
            try:
                self.show_workers(json.loads(line)["workers"])
            except (ValueError, KeyError) as e:
                self.title.setText(f"The cluster's metrics could not be read: {e}")

    def show_workers(self, workers: list[dict[str, Any]]) -> None:
        busy = sum(int(w.get("executing") or 0) for w in workers)
        self.title.setText(f"Dask cluster at {self._address}: {len(workers)} workers, {busy} tasks in flight "
                           "(the scheduler's metrics, each second)")
        self.table.setRowCount(len(workers))
        self._fit_rows(len(workers))
        for row, w in enumerate(workers):
            memory = human_bytes(w.get("rss"))
            if w.get("memory"):
                memory += f" of {human_bytes(w['memory'])}"
            cpu = "" if w.get("cpu") is None else f"{float(w['cpu']):.0f} %"
            cells = (w["address"], w.get("host", ""), str(w.get("threads", "")), cpu, memory,
                     str(w.get("executing", 0)))
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column >= 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, column, item)

    def _fit_rows(self, rows: int) -> None:
        """As tall as its rows, up to ``_MAX_ROWS`` (then it scrolls): the plots above keep the room."""
        shown = max(1, min(rows, _MAX_ROWS))
        height = self.table.horizontalHeader().height() + shown * self.table.verticalHeader().defaultSectionSize()
        self.table.setFixedHeight(height + 2 * self.table.frameWidth())

    def _ended(self, code: int, _status: Any) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        err = bytes(process.readAllStandardError().data()).decode("utf-8", "replace").strip()
        process.deleteLater()
        if code != 0:
            self.title.setText(err.splitlines()[-1] if err else f"Watching the cluster ended (exit {code}).")
