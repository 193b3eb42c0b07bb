"""File ▸ Observe a Program…: watch any program's processes and threads use the cores, then the verdict.

    the dialog (GUI thread)                    observe host (poolside.observe.host, its own process)
      Observe ─► ObserveClient.start(command | pid) ─► launches / attaches, samples the tree
      reader thread: ObserveUpdate / ObserveFinished ─► BatchPump (gui/pump.py) ─► GUI thread
          ─► CoresPanel.show_recent / show_run (machine, per core, workers by role, busy threads)
          ─► the verdict (words.observe), kept in the history (the host keeps it)
      Stop ─► StopObserve: the observation ends, the program goes on (and the dialog says so)

The window never samples or launches the program itself: a command forked
from this process would copy Qt's threads.  Reopening a kept observation
(``show_observation``) draws its stored series and record, with no host.
"""

from __future__ import annotations

import html
import shlex
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from poolside.log import get_logger
from poolside.observe.client import ObserveClient
from poolside.words import observe as say
from poolside.words.units import human_bytes, human_duration

from .a11y import name_controls
from .pump import BatchPump
from .widgets.cores_panel import CoresPanel

log = get_logger(__name__)

#: Processes listed in the picker at most (Python first): a busy machine has hundreds.
MAX_LISTED = 300


def running_processes() -> list[tuple[int, str, str]]:
    """(pid, name, command line) of the running processes this user can see, Python ones first."""
    import os

    import psutil

    me = os.getpid()
    found = []
    for p in psutil.process_iter(["pid", "name", "cmdline"]):
        info = p.info
        if info["pid"] == me or not info.get("cmdline"):
            continue  # this window, and kernel threads (no command line)
        cmd = " ".join(info["cmdline"])
        found.append((info["pid"], info.get("name") or "", cmd))
    found.sort(key=lambda x: (not _is_python(x[1], x[2]), x[1].lower(), x[0]))
    return found[:MAX_LISTED]


def _is_python(name: str, cmd: str) -> bool:
    program = cmd.split(" ", 1)[0].rsplit("/", 1)[-1]
    return "python" in name.lower() or program.startswith("python")


class ObserveDialog(QDialog):
    """Type a command or pick a running process; Observe; the Cores views follow; Stop; the verdict."""

    #: An observation was kept in the history (the History tab lists it).
    historyChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Observe a Program")
        self.command_label = QLabel("&Command")
        self.command = QLineEdit(self)
        self.command.setPlaceholderText("python my_pipeline.py --jobs 8")
        self.command.setToolTip("A command to run and observe until it ends; its output goes where the "
                                "window's does.  Or pick a running process below.")
        self.command_label.setBuddy(self.command)
        self.pick_label = QLabel("&Running processes (Python first)")
        self.processes = QTreeWidget(self)
        self.processes.setHeaderLabels(["PID", "Name", "Command line"])
        self.processes.setRootIsDecorated(False)
        self.processes.setUniformRowHeights(True)
        self.processes.setMinimumHeight(90)
        self.pick_label.setBuddy(self.processes)
        self.refresh = QPushButton("Re&fresh", self)
        self.observe_button = QPushButton("&Observe", self)
        self.observe_button.setDefault(True)
        self.stop_button = QPushButton("&Stop", self)
        self.stop_button.setToolTip("End the observation; the program goes on")
        self.stop_button.setEnabled(False)
        self.status = QLabel("Type a command, or pick a running process, then Observe.", self)
        self.status.setWordWrap(True)
        self.status.setObjectName("observeStatus")
        self.verdict = QLabel(self)
        self.verdict.setWordWrap(True)
        self.verdict.setTextFormat(Qt.TextFormat.RichText)
        self.verdict.setObjectName("observeVerdict")
        self.verdict.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.cores = CoresPanel(self, tree="the program", host="main")
        self.cores.setMinimumHeight(260)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)

        row = QHBoxLayout()
        row.addWidget(self.command_label)
        row.addWidget(self.command, 1)
        row.addWidget(self.observe_button)
        row.addWidget(self.stop_button)
        pick = QHBoxLayout()
        pick.addWidget(self.pick_label, 1)
        pick.addWidget(self.refresh)
        lay = QVBoxLayout(self)
        lay.addLayout(row)
        lay.addLayout(pick)
        lay.addWidget(self.processes)
        lay.addWidget(self.status)
        lay.addWidget(self.cores, 1)
        lay.addWidget(self.verdict)
        lay.addWidget(buttons)
        name_controls(self)
        self.processes.setAccessibleName(self.pick_label.text().replace("&", ""))

        self._pump = BatchPump(self, interval_ms=100)
        self._pump.batchReady.connect(self._take)
        self._client: ObserveClient | None = None
        self.record: dict[str, Any] | None = None
        self.history_id: int | None = None
        self.refresh.clicked.connect(self.list_processes)
        self.observe_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.processes.itemSelectionChanged.connect(self._picked)
        self.command.textEdited.connect(lambda _t: self.processes.clearSelection())
        self.resize(980, 720)

    # -- choosing ------------------------------------------------------------------------
    def list_processes(self) -> None:
        self.processes.clear()
        for pid, name, cmd in running_processes():
            item = QTreeWidgetItem([str(pid), name, cmd])
            item.setData(0, Qt.ItemDataRole.UserRole, pid)
            item.setToolTip(2, cmd)
            self.processes.addTopLevelItem(item)
        self.processes.resizeColumnToContents(0)
        self.processes.resizeColumnToContents(1)

    def _picked(self) -> None:
        if self.processes.selectedItems():
            self.command.clear()

    def chosen(self) -> tuple[list[str] | None, int | None]:
        """The command typed, or the process picked; (None, None) for neither."""
        items = self.processes.selectedItems()
        if items:
            return None, int(items[0].data(0, Qt.ItemDataRole.UserRole))
        text = self.command.text().strip()
        if not text:
            return None, None
        return shlex.split(text), None

    # -- observing -----------------------------------------------------------------------
    def start(self) -> None:
        try:
            command, pid = self.chosen()
        except ValueError as e:  # shlex: an unclosed quote
            self.status.setText(f"The command cannot be read: {e}.")
            return
        if command is None and pid is None:
            self.status.setText("Type a command, or pick a running process, then Observe.")
            return
        self._pump.start()
        push, _close = self._pump.sink()
        self._client = ObserveClient(lambda u: push([("update", u)]), lambda f: push([("finished", f)]))
        self.record = None
        self.verdict.clear()
        self.cores.run_started()
        self._client.start(command, pid)
        what = f"process {pid}" if pid is not None else " ".join(command or ())
        self.status.setText(f"Observing {what}…  Stop ends the observation, never the program.")
        self.observe_button.setEnabled(False)
        self.stop_button.setEnabled(True)

    def stop(self) -> None:
        if self._client is not None:
            self._client.stop()
            self.stop_button.setEnabled(False)
            self.status.setText("Stopping the observation (the program goes on)…")

    def _take(self, batch: list) -> None:
        updates = [m for kind, m in batch if kind == "update"]
        if updates:
            last = updates[-1]
            self.cores.show_recent(last.recent)
            self.cores.show_run(last.series, last.busy)
            self.status.setText(f"Observing: {last.line}.  Stop ends the observation, never the program.")
        for kind, message in batch:
            if kind == "finished":
                self._finished(message)

    def _finished(self, f: Any) -> None:
        self.observe_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        if self._client is not None:
            self._client.close()
            self._client = None
        self._pump.stop()
        if f.record is None:
            self.status.setText(f"Nothing was observed: {f.error}.")
            return
        if f.series is not None:
            self.cores.show_run(f.series, f.busy)
        self.show_record(f.record, stopped=f.stopped, history_id=f.history_id, history_error=f.history_error)
        if f.history_id is not None:
            self.historyChanged.emit()

    def show_record(self, record: dict[str, Any], *, stopped: bool = False, history_id: int | None = None,
                    history_error: str | None = None) -> None:
        """The verdict and the status line for a finished (or reopened) observation."""
        self.record, self.history_id = record, history_id
        end = ("The observation was stopped; the program goes on." if stopped
               else f"The program ended after {human_duration(record['wall_s'])}"
               + (f" with exit code {record['exit_code']}." if record.get("exit_code") is not None else "."))
        kept = (f" Kept in the history as #{history_id}." if history_id is not None
                else f" Not kept in the history: {history_error}." if history_error else "")
        self.status.setText(end + kept)
        self.verdict.setText(verdict_html(record))

    def host_pid(self) -> int | None:
        """The observe host's pid while an observation runs (None otherwise)."""
        return None if self._client is None else self._client.host_pid()

    def closeEvent(self, event: Any) -> None:
        self.shutdown()
        super().closeEvent(event)

    def reject(self) -> None:
        self.shutdown()
        super().reject()

    def shutdown(self) -> None:
        """End the observation (never the program) and the host; the window calls it as it closes."""
        if self._client is not None:
            self._client.close()
            self._client = None
        self._pump.stop()


def verdict_html(record: dict[str, Any]) -> str:
    verdict = record.get("verdict") or {}
    rows = []
    for p in (record.get("processes") or [])[:8]:
        rows.append(f"{p['pid']} {html.escape(say.role_label(p['role'], p.get('pool')))}: "
                    f"{html.escape(human_duration(p['cpu_s']))} CPU, "
                    f"{html.escape(human_bytes(p['peak_rss_mb'] * 1e6))} peak, {len(p['threads'])} threads")
    more = len(record.get("processes") or []) - len(rows)
    if more > 0:
        rows.append(f"… and {more} more")
    unseen = say.not_seen((verdict.get("evidence") or {}).get("not_seen", []))
    return (f"<b>{html.escape(say.headline(verdict))}</b> {html.escape(verdict.get('why', ''))}"
            + (f"<br><i>{html.escape(unseen)}</i>" if unseen else "")
            + "<br><small>" + "<br>".join(rows) + "</small>")


def show_observation(parent: QWidget | None, record: dict[str, Any], series: dict[str, Any] | None,
                     history_id: int | None = None) -> ObserveDialog:
    """Reopen a kept observation: its series in the Cores views, its verdict (no host is started)."""
    dialog = ObserveDialog(parent)
    dialog.command.setText(say.command_text(record.get("command"), 400))
    if series is not None:
        dialog.cores.show_run({**series, "ended": series.get("ended") or 0.0})
    dialog.show_record(record, history_id=history_id)
    return dialog
