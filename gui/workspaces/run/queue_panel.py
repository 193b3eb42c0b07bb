"""The Run tab's queue: the jobs waiting their turn, in order, to reorder and remove.

    JobQueue (poolside.history.queue: the history's database) ◄── QueueModel (a list model of it)
         add / take / move / remove ─────────────────────────────────┘        │ rows
                                                                   QueuePanel: list, Move Up, Move Down,
                                                                               Remove, Start Queue

The model is the one way to change the queue, so the list always shows what
the database holds; the panel shows itself only while the queue has jobs.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QGroupBox, QHBoxLayout, QListView, QPushButton, QVBoxLayout, QWidget

from poolside.history.queue import JobQueue, QueuedJob
from poolside.spec import JobSpec
from poolside.words.units import when

_Index = QModelIndex | QPersistentModelIndex


class QueueModel(QAbstractListModel):
    """The queued jobs, first to run on top."""

    def __init__(self, queue: JobQueue, parent: Any = None) -> None:
        super().__init__(parent)
        self.queue = queue
        self._jobs: list[QueuedJob] = queue.jobs()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self._jobs)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._jobs):
            return None
        job = self._jobs[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{index.row() + 1}. {job.label}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"Queued {when(job.added_at)}"
        return None

    def jobs(self) -> list[QueuedJob]:
        return list(self._jobs)

    def refresh(self) -> None:
        self.beginResetModel()
        self._jobs = self.queue.jobs()
        self.endResetModel()

    def add(self, spec: JobSpec, label: str) -> QueuedJob:
        job = self.queue.add(spec, label)
        self.refresh()
        return job

    def take(self) -> QueuedJob | None:
        job = self.queue.take()
        self.refresh()
        return job

    def move(self, row: int, offset: int) -> bool:
        if not 0 <= row < len(self._jobs):
            return False
        moved = self.queue.move(self._jobs[row].id, offset)
        self.refresh()
        return moved

    def remove(self, row: int) -> bool:
        if not 0 <= row < len(self._jobs):
            return False
        removed = self.queue.remove(self._jobs[row].id)
        self.refresh()
        return removed


#: Queued jobs in sight at once; more scroll.
SHOWN_ROWS = 3


class QueuePanel(QGroupBox):
    """The queue, titled; shown while it holds jobs.  ``startRequested()``: Start Queue was pressed."""

    startRequested = Signal()

    def __init__(self, model: QueueModel, parent: QWidget | None = None) -> None:
        super().__init__("Queue", parent)
        font = self.font()
        font.setBold(True)  # as every titled section (widgets.group): a bold title, normal contents
        self.setFont(font)
        self.model = model
        self.view = QListView(self)
        self.view.setModel(model)
        self.view.setAccessibleName("Queued jobs")
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.up_button = QPushButton("Move Up", self)
        self.up_button.setToolTip("Run the selected job earlier")
        self.up_button.clicked.connect(lambda: self._move(-1))
        self.down_button = QPushButton("Move Down", self)
        self.down_button.setToolTip("Run the selected job later")
        self.down_button.clicked.connect(lambda: self._move(1))
        self.remove_button = QPushButton("Remove", self)
        self.remove_button.setToolTip("Take the selected job out of the queue")
        self.remove_button.clicked.connect(self._remove)
        self.start_button = QPushButton("Start Queue", self)
        self.start_button.setToolTip("Run the queued jobs one after another, from the top")
        self.start_button.clicked.connect(self.startRequested)
        contents = QWidget(self)
        normal = self.font()
        normal.setBold(False)
        contents.setFont(normal)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        for b in (self.up_button, self.down_button, self.remove_button):
            b.setFont(normal)
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.start_button.setFont(normal)
        buttons.addWidget(self.start_button)
        self.view.setFont(normal)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 6, 8, 8)
        lay.addWidget(self.view)
        lay.addLayout(buttons)
        model.modelReset.connect(self._update)
        model.modelReset.connect(self._fit_rows)
        self.view.selectionModel().selectionChanged.connect(self._update)
        self._busy = False
        self._update()
        self._fit_rows()

    def _fit_rows(self) -> None:
        """As tall as its jobs, up to SHOWN_ROWS (then it scrolls): at 1024x768 every line the
        queue does not need is a result row more in sight below it."""
        rows = min(max(self.model.rowCount(), 1), SHOWN_ROWS)
        row_height = max(self.view.sizeHintForRow(0), self.view.fontMetrics().height())
        self.view.setFixedHeight(rows * row_height + 2 * self.view.frameWidth() + 4)

    def set_busy(self, busy: bool) -> None:
        """A run is going: the queue can still change, it cannot be started again."""
        self._busy = busy
        self._update()

    def selected_row(self) -> int:
        rows = self.view.selectionModel().selectedRows()
        return rows[0].row() if rows else -1

    def select(self, row: int) -> None:
        self.view.setCurrentIndex(self.model.index(row))

    def _move(self, offset: int) -> None:
        row = self.selected_row()
        if self.model.move(row, offset):
            self.select(row + offset)

    def _remove(self) -> None:
        row = self.selected_row()
        if self.model.remove(row) and self.model.rowCount():
            self.select(min(row, self.model.rowCount() - 1))

    def _update(self, *_args: Any) -> None:
        n = self.model.rowCount()
        row = self.selected_row()
        self.setVisible(n > 0)
        self.up_button.setEnabled(row > 0)
        self.down_button.setEnabled(0 <= row < n - 1)
        self.remove_button.setEnabled(row >= 0)
        self.start_button.setEnabled(n > 0 and not self._busy)
