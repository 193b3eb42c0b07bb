"""The queue's part in the Run tab: Add to Queue, the next job when a run ends, the question after a restart.

    Add to Queue (Ctrl+Shift+A) ──► the tab's job_spec() ──► QueueModel.add ──► the history's database
    a run ends (ok, not cancelled nor stopped) ──► take the first job ──► the tab runs it (its panels show it)
    Start Queue, or Yes to "Run the queued jobs?" after a restart ──► the same

The Run tab's panels stay editable while a run is going: that is where the next
job is set up before Add to Queue.  A queued job that starts is shown in the
panels (the tab runs what they describe), so a job set up there and not queued
yet is replaced by it.

A cancel or a stop ends the queue's turn too (the person wanted things to
stop): the jobs stay queued, and Start Queue goes on.
"""

from __future__ import annotations

from typing import Any, Protocol

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMessageBox, QWidget

from poolside.history.queue import JobQueue
from poolside.spec import JobSpec
from poolside.words.units import count

from .queue_panel import QueueModel, QueuePanel

QUEUE_KEYS = "Ctrl+Shift+A"  # Add to queue (Ctrl+Shift+R is Preview)


class QueueHost(Protocol):
    """What the queue needs of the Run tab."""

    message: Any

    def is_busy(self) -> bool: ...

    def queue_entry(self) -> tuple[JobSpec | None, str]: ...

    def rerun(self, spec: JobSpec, items: list[str]) -> bool: ...


class RunQueue(QObject):
    """Keeps the queue and runs it, one job after another, through the Run tab."""

    #: A queued job was taken and started (its label).
    jobStarted = Signal(str)

    def __init__(self, host: QueueHost, owner: QWidget) -> None:
        super().__init__(owner)
        self.host = host
        self.model = QueueModel(JobQueue(), self)
        self.panel = QueuePanel(self.model, owner)
        self.panel.startRequested.connect(self.start_next)
        self.add_action = QAction("Add to Queue", owner)
        self.add_action.setShortcut(QKeySequence(QUEUE_KEYS))
        self.add_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.add_action.setToolTip(f"Keep this job (files, task, settings) to run after the current one ({QUEUE_KEYS})")
        self.add_action.triggered.connect(self.add_current)
        owner.addAction(self.add_action)
        self._left_over = self.model.rowCount()  # queued in an earlier session: offered once (offer)

    def add_current(self) -> bool:
        """Queue the job the Run tab describes now; False (and why, in the status bar) if it is not complete."""
        spec, label = self.host.queue_entry()
        if spec is None:
            self.host.message.emit(f"Cannot queue the job: {label}")
            return False
        self.model.add(spec, label)
        n = self.model.rowCount()
        note = f" ({self.model.queue.error})" if self.model.queue.error else ""
        self.host.message.emit(f"Queued {label}: {count(n)} job{'s' if n != 1 else ''} waiting{note}.")
        return True

    def run_ended(self, went_on: bool) -> None:
        """A run ended; ``went_on``: it was neither cancelled nor stopped, so the queue takes its turn."""
        if self.model.rowCount() == 0:
            return
        if went_on:
            QTimer.singleShot(0, self.start_next)  # after every slot of this run's end
        else:
            n = self.model.rowCount()
            self.host.message.emit(f"The queue waits: {count(n)} job{'s' if n != 1 else ''} (Start Queue runs them).")

    def start_next(self) -> bool:
        """Take the first job and run it; False when there is none, or a run is going, or it cannot start."""
        if self.host.is_busy():
            return False
        job = self.model.take()
        if job is None:
            return False
        if not self.host.rerun(job.spec, list(job.spec.paths)):
            self.host.message.emit(f"Could not start the queued job {job.label}; it left the queue.")
            return False
        self.jobStarted.emit(job.label)
        return True

    def offer(self) -> None:
        """Jobs left from the last session: asked before they run (``confirm`` says yes or no)."""
        n, self._left_over = min(self._left_over, self.model.rowCount()), 0
        if n and not self.host.is_busy() and self.confirm(self.model.rowCount()):
            self.start_next()

    def confirm(self, n: int) -> bool:
        """Ask whether to run the jobs queued in an earlier session (tests replace this)."""
        parent = self.panel.window()
        answer = QMessageBox.question(
            parent, "Run the queued jobs?",
            f"{count(n)} job{'s' if n != 1 else ''} queued before Poolside was last closed "
            f"{'are' if n != 1 else 'is'} waiting.\nRun {'them' if n != 1 else 'it'} now, one after another? "
            "(No keeps them queued: Start Queue runs them later.)",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes
