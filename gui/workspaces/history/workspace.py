"""The History workspace: runs and studies, newest first; open, compare, resume, export.

    HistoryReader ─► HistoryModel ─► the list ─ selection ─┬─ one study ─► StudyModel.load ─► StudyView
                                                           ├─ one or two runs ─► RunsTable
                                                           ├─ one run ─► get_series ─► RunCpuView (CPU, memory)
                                                           ├─ one observation ─► its verdict; double-clicked,
                                                           │    observationRequested(record, series, id)
                                                           └─ Resume / Re-run failed ─► resumeRequested(run, items)
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from poolside.log import get_logger
from poolside.study import StudyResult

from ...a11y import name_controls
from ...export_dialog import ask_export_path
from ...study.model import StudyModel
from ...study.view import StudyView
from ...widgets.group import group
from ..base import Workspace
from .api import HistoryReader, can_rerun_failed, can_resume
from .cpu import RunCpuView
from .export import write_study
from .model import HistoryModel
from .runs import RunsTable

_ALL = "All tasks"
# How long closing the window waits for a Resume walk still going.  A walk of
# 100,000 files takes under a second here; one stuck on an unreachable network
# folder could take minutes, and closing must not wait for that: the thread is
# a daemon, so what is left of it ends with the process, said in the log.
_WALK_JOIN_S = 5.0
#: The Task column's widest (px): a plugin name fits; an observed command line is elided.
TASK_COLUMN_MAX = 110

log = get_logger("poolside.gui")


class HistoryWorkspace(Workspace):
    """Past runs and studies.  ``rerunRequested(run record, items)`` asks the Run tab to run items again."""

    title = "History"
    rerunRequested = Signal(object, list)
    #: A kept observation double-clicked: its record, its series (or None), its id.
    observationRequested = Signal(object, object, int)
    #: A reopened study's **Use these settings** (the recommended configuration).
    useSettings = Signal(object)
    #: A worker's walk for Resume is done: the run, its items (None if it failed), why it failed.
    _walked = Signal(object, object, object)
    #: Asked with the run's plugin reference before Resume imports it (the walk needs the plugin); False: stop.
    confirm_plugin: Callable[[str], bool] | None = None

    def __init__(self, reader: HistoryReader | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.reader = reader
        self.model = HistoryModel(reader, self)
        self.study = StudyModel(self)
        self._run: dict[str, Any] | None = None
        self._walking: threading.Thread | None = None  # Resume's walk of a run's inputs, off the GUI thread
        self._walked.connect(self._on_walked)
        self.plugin_filter = QComboBox(self)
        self.plugin_filter.setAccessibleName("Show")
        # An observed program's command line is one of its entries: the box does not grow to it.
        self.plugin_filter.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.plugin_filter.setMinimumContentsLength(16)
        self.plugin_filter.currentIndexChanged.connect(self._apply_filter)
        self.refresh_button = QPushButton("Refresh", self)
        self.refresh_button.clicked.connect(self.refresh)
        self.resume_button = QPushButton("Resume", self)
        self.resume_button.setToolTip("Run the items of this interrupted run that have no ok outcome yet")
        self.resume_button.clicked.connect(self.resume)
        self.rerun_button = QPushButton("Re-run failed", self)
        self.rerun_button.setToolTip("Run this run's failed and timed-out items again, with the same settings")
        self.rerun_button.clicked.connect(self.rerun_failed)
        self.export_button = QToolButton(self)
        self.export_button.setText("Export study")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.export_button.setMenu(self._export_menu())
        for button in (self.resume_button, self.rerun_button, self.export_button):
            button.setEnabled(False)  # until a selection gives them something to act on
        self.list = QTableView(self)
        self.list.setAccessibleName("Runs and studies")
        self.list.setModel(self.model)
        self.list.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.list.verticalHeader().hide()
        header = self.list.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)  # What: the rest of the width
        # Task holds an observed program's whole command line: sized to its contents up to a cap and
        # elided in the middle (the tooltip has all of it), or What and Status go out of sight.
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Interactive)
        self.list.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.list.setWordWrap(False)  # one line a row: a long cell elides rather than wraps into two
        self.model.modelReset.connect(self._fit_task_column)
        self.list.selectionModel().selectionChanged.connect(self._on_selection)
        self.list.doubleClicked.connect(self._open_observation)
        self.list.setToolTip("Select a study to see it again, or two runs to compare them side by side")
        self.study_view = StudyView(self.study, self)
        self.study_view.useSettings.connect(self.useSettings)
        self.runs = RunsTable(self)
        self.note = QLabel(self)
        self.note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.note.setWordWrap(True)
        self.note.setProperty("role", "hint")
        # Shown while the history cannot be used: why, and a way out that keeps the old file.
        self.unavailable: str | None = None
        self.broken_note = QLabel(self)
        self.broken_note.setWordWrap(True)
        self.broken_note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.broken_note.setAccessibleName("History problem")
        self.new_history_button = QPushButton("Move it aside and start a new history", self)
        self.new_history_button.setToolTip("Rename the history file to <name>.broken-<time>, keeping it, "
                                           "and record into a new, empty history from now on")
        self.new_history_button.clicked.connect(self.start_new_history)
        self.broken_bar = QWidget(self)
        broken = QHBoxLayout(self.broken_bar)
        broken.setContentsMargins(0, 0, 0, 0)
        broken.addWidget(self.broken_note, 1)
        broken.addWidget(self.new_history_button)
        self.broken_bar.hide()
        self.pages = QStackedWidget(self)
        self.runs_box = group("Runs side by side (speed-up against the earlier)", self.runs, stretch=True)
        self.cpu_view = RunCpuView(self)
        self.cpu_view.message.connect(self.message)
        self.cpu_box = group("CPU and memory of this run", self.cpu_view, stretch=True)
        self.runs_page = QSplitter(Qt.Orientation.Vertical)
        self.runs_page.addWidget(self.runs_box)
        self.runs_page.addWidget(self.cpu_box)
        self.runs_page.setStretchFactor(1, 3)
        self.runs_page.setChildrenCollapsible(False)
        for page in (self.note, self.study_view, self.runs_page):
            self.pages.addWidget(page)
        self._lay_out()
        self.refresh()
        name_controls(self)

    def _export_menu(self) -> QMenu:
        menu = QMenu(self)
        for kind, label in (("json", "JSON…"), ("csv", "CSV…"), ("md", "Markdown…")):
            action = QAction(f"Export study as {label}", self)
            action.triggered.connect(lambda _=False, k=kind: self.choose_export(k))
            menu.addAction(action)
        return menu

    def _lay_out(self) -> None:
        bar = QHBoxLayout()
        show = QLabel("Show", self)
        show.setBuddy(self.plugin_filter)
        bar.addWidget(show)
        bar.addWidget(self.plugin_filter)
        bar.addWidget(self.refresh_button)
        bar.addStretch(1)
        for w in (self.resume_button, self.rerun_button, self.export_button):
            bar.addWidget(w)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(group("Runs and studies", self.list, stretch=True))
        split.addWidget(self.pages)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 5)
        split.setSizes([440, 840])
        split.setChildrenCollapsible(False)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 4)
        lay.addLayout(bar)
        lay.addWidget(self.broken_bar)
        lay.addWidget(split, 1)

    # -- the list -----------------------------------------------------------
    def _fit_task_column(self) -> None:
        self.list.resizeColumnToContents(2)
        self.list.setColumnWidth(2, min(self.list.columnWidth(2), TASK_COLUMN_MAX))

    def refresh(self) -> None:
        """Read the history again (a run or study ended); one that cannot be read is said, not raised.

        What was selected stays selected, so a run ending while a study is open does not close it."""
        from poolside.history import HistoryError

        keep = [str(e["id"]) for e in self.selected()] if self.model.rowCount() else []
        current = self.plugin_filter.currentText()
        self.plugin_filter.blockSignals(True)
        self.plugin_filter.clear()
        self.plugin_filter.addItem(_ALL)
        try:
            self.plugin_filter.addItems(self.model.plugins())
            self.plugin_filter.setCurrentIndex(max(0, self.plugin_filter.findText(current)))
            self._apply_filter()
        except HistoryError as e:  # a damaged file or a newer schema: the window still opens
            self.set_unavailable(str(e))
        else:
            self.set_unavailable(None)
        finally:
            self.plugin_filter.blockSignals(False)
        if keep:
            self.select(*keep)

    def refresh_if_shown(self) -> None:
        """A run or a study ended: read the list again now if the tab is in view.

        Out of view there is nothing to redraw, and reading a long history costs
        the GUI thread tens of ms (65 ms for a few thousand entries) just as a run
        ends; the tab reads it when it comes into view (``showEvent``).
        """
        if self.isVisible():
            self.refresh()

    def showEvent(self, event: QShowEvent) -> None:
        # Runs and studies of other processes (the CLI, another window) end without a signal here:
        # the list is read again whenever the tab comes into view.
        super().showEvent(event)
        if not event.spontaneous():
            self.refresh()

    def set_unavailable(self, reason: str | None, *, offer_new: bool = True) -> None:
        """The history cannot be used (``reason``), or can again (``None``): said once in the status
        bar and logged, and kept in view above the list with the offer of a new history."""
        if reason == self.unavailable:
            return
        self.unavailable = reason
        self.broken_bar.setVisible(reason is not None)
        if reason is None:
            return
        log.warning("the history is unavailable: %s", reason)
        self.broken_note.setText(f"The history is unavailable: {reason}. Runs still run, but are not recorded.")
        self.new_history_button.setVisible(offer_new and hasattr(self.reader, "start_new"))
        self.message.emit(f"The history is unavailable: {reason}")

    def start_new_history(self) -> bool:
        """Move the history file aside (kept as ``<name>.broken-<time>``) and open a new one."""
        from poolside.history import HistoryError

        start_new = getattr(self.reader, "start_new", None)
        if start_new is None:
            return False
        try:
            old = start_new()
        except HistoryError as e:
            log.warning("a new history cannot be started: %s", e)
            self.message.emit(f"Could not start a new history: {e}")
            return False
        self.refresh()
        if self.unavailable is not None:  # said by refresh: the new one cannot be used either
            return False
        where = f"; the old one is kept as {old}" if old is not None else ""
        self.message.emit(f"Started a new history{where}.")
        return True

    def _apply_filter(self, *_args) -> None:
        text = self.plugin_filter.currentText()
        self.model.set_plugin(None if text in ("", _ALL) else text)
        self._on_selection()

    def select(self, *entry_ids: str) -> None:
        """Select these entries (as a click and a Ctrl-click would)."""
        sel = self.list.selectionModel()
        sel.clearSelection()
        for entry_id in entry_ids:
            row = self.model.row_of(entry_id)
            if row >= 0:
                sel.select(self.model.index(row, 0), sel.SelectionFlag.Select | sel.SelectionFlag.Rows)

    def selected(self) -> list[dict[str, Any]]:
        rows = sorted({i.row() for i in self.list.selectionModel().selectedRows()})
        return [self.model.entry(r) for r in rows]

    def _on_selection(self, *_args) -> None:
        from poolside.history import HistoryError

        try:
            self._show_selection()
        except HistoryError as e:  # the file was damaged since the list was read
            self.set_unavailable(str(e))
            self._show_note("The history cannot be read now; the reason is above the list.")
            self.resume_button.setEnabled(False)
            self.rerun_button.setEnabled(False)

    def _show_selection(self) -> None:
        entries = self.selected()
        self._run = None
        kinds = {e.get("kind") for e in entries}
        if not self.model.available:
            self._show_note("No history yet: runs and studies are recorded once the history database is in place.")
        elif len(entries) == 1 and kinds == {"study"}:
            self._open_study(str(entries[0]["id"]))
        elif len(entries) == 1 and kinds == {"observe"}:
            self._show_observation(str(entries[0]["id"]))
        elif 1 <= len(entries) <= 2 and kinds == {"run"}:
            older_first = sorted(entries, key=lambda e: float(e.get("started") or 0))  # the earlier is the baseline
            runs = [self.reader.get_run(str(e["id"])) for e in older_first]  # type: ignore[union-attr]
            self._run = runs[0] if len(runs) == 1 else None
            self.runs.show_runs(runs)
            self._show_series(str(older_first[0]["id"]) if len(runs) == 1 else None)
            self.pages.setCurrentWidget(self.runs_page)
        else:
            self._show_note("Select a study to see its charts and verdict again,\nor one or two runs to compare them.")
        run = self._run or {}
        self.resume_button.setEnabled(can_resume(run) and self._walking is None)
        self.rerun_button.setEnabled(can_rerun_failed(run))
        self.export_button.setEnabled(self.pages.currentWidget() is self.study_view)

    def _open_study(self, entry_id: str) -> None:
        """The stored record, read into a StudyResult once, shown; a record that does not read, said so."""
        try:
            record = StudyResult.from_dict(self.reader.get_study(entry_id))  # type: ignore[union-attr]
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("study %s in the history cannot be read: %r", entry_id, exc)
            self._show_note(f"This study's record cannot be read ({type(exc).__name__}: {exc}).")
            self.message.emit(f"Could not open the study: {exc}")
            return
        self.study.load(record)
        self.pages.setCurrentWidget(self.study_view)

    def _show_observation(self, entry_id: str) -> None:
        """A kept observation: its verdict here; double-clicked, the whole of it in its own window."""
        from poolside.words import observe as say

        reader = getattr(self.reader, "get_observation", None)
        record = reader(entry_id) if reader is not None else None
        if not record:
            self._show_note("This observation's record cannot be read.")
            return
        verdict = record.get("verdict") or {}
        self._show_note(f"{say.summary(record)}\n\n{verdict.get('why', '')}\n\n"
                        "Double-click it to open it with its CPU charts.")

    def _open_observation(self, index: Any) -> None:
        entry = self.model.entry(index.row())
        if entry.get("kind") != "observe" or self.reader is None:
            return
        reader = getattr(self.reader, "get_observation", None)
        record = reader(str(entry["id"])) if reader is not None else None
        if record:
            series = getattr(self.reader, "get_series", lambda _id: None)(str(entry["id"]))
            self.observationRequested.emit(record, series, int(entry["id"]))

    def _show_series(self, entry_id: str | None) -> None:
        """One run: its stored CPU history below the table; two: the table alone."""
        self.cpu_box.setVisible(entry_id is not None)
        if entry_id is None:
            return
        reader = getattr(self.reader, "get_series", None)  # a reader without series has none to show
        self.cpu_view.show_run(entry_id, reader(entry_id) if reader is not None else None)

    def _show_note(self, text: str) -> None:
        self.note.setText(text)
        self.pages.setCurrentWidget(self.note)

    # -- actions ------------------------------------------------------------
    def resume(self) -> None:
        """Run what is left of the run: its items when the reader listed them, else walked on a worker thread."""
        run = self._run
        if run is None or not can_resume(run) or self._walking is not None:
            return
        if run.get("pending_items") is not None:
            self.rerunRequested.emit(run, list(run["pending_items"]))
            return
        walk = getattr(self.reader, "pending_items", None)
        if walk is None:
            self.message.emit("This history cannot say what is left of the run.")
            return
        ref = str((run.get("spec") or {}).get("plugin") or "")
        if self.confirm_plugin is not None and not self.confirm_plugin(ref):
            return
        self.resume_button.setEnabled(False)
        self.message.emit("Finding what is left of the run…")
        self._walking = threading.Thread(target=self._walk, args=(walk, run), name="poolside-resume-walk",
                                         daemon=True)
        self._walking.start()

    def shutdown(self) -> None:
        """The window is closing: wait (a little) for a Resume walk still going."""
        walking = self._walking
        if walking is None:
            return
        walking.join(_WALK_JOIN_S)
        if walking.is_alive():
            log.warning("closing while Resume still walks the run's inputs (past %.0f s); "
                        "the walk ends with the process", _WALK_JOIN_S)

    def _walk(self, walk: Callable[[str], list[str]], run: dict[str, Any]) -> None:
        """On the worker thread: the walk, its result handed to the GUI thread by a queued signal."""
        try:
            items = walk(str(run["id"]))
        except Exception as exc:  # the reader's own failure: said in the status bar by _on_walked
            log.warning("run %s: what is left cannot be found: %r", run.get("id"), exc)
            self._walked.emit(run, None, str(exc))
            return
        self._walked.emit(run, list(items), None)

    def _on_walked(self, run: dict[str, Any], items: list[str] | None, error: str | None) -> None:
        self._walking = None
        self.resume_button.setEnabled(can_resume(self._run or {}))
        if items is None:
            self.message.emit(f"Cannot resume the run: {error}")
        elif not items:
            self.message.emit("Nothing to resume: every item is ok, or the run cannot be prepared again (see the log).")
        else:
            self.rerunRequested.emit(run, items)

    def rerun_failed(self) -> None:
        if self._run is not None and can_rerun_failed(self._run):
            self.rerunRequested.emit(self._run, list(self._run["failed_items"]))

    def choose_export(self, kind: str) -> None:
        record = self.study.record
        if record is None:
            return
        filters = {"json": "JSON (*.json)", "csv": "CSV (*.csv)", "md": "Markdown (*.md)"}[kind]
        path = ask_export_path(self, "Export study", f"poolside-study-{record.plugin or 'study'}.{kind}", filters)
        if path:
            self.export_study(path)

    def export_study(self, path: str) -> bool:
        """Write the open study as JSON, CSV or Markdown (by the file's extension)."""
        record = self.study.record
        if record is None:
            self.message.emit("Open a study to export it.")
            return False
        try:
            write_study(path, record)
        except (OSError, ValueError) as exc:
            self.message.emit(f"Could not export the study: {exc}")
            return False
        self.message.emit(f"Exported the study to {path}.")
        return True
