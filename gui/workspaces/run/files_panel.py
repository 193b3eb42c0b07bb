"""The Files panel: what the task runs over.

Add Files, Add Folder (recursive, filtered by glob patterns preset from the
plugin's accepted files), drag-and-drop of files and folders, remove, clear.
Duplicates are ignored; the footer shows the count and total size.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

from PySide6.QtCore import QMimeData, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from poolside.words import units as fmt

from ... import settings as cfg
from .files_model import FilesModel
from .hint_view import HintTableView
from .scanner import FolderScanner, parse_patterns


def local_paths(mime: QMimeData) -> list[str]:
    """The local files and folders in dragged data (URLs from anything else ignored)."""
    if not mime.hasUrls():
        return []
    return [u.toLocalFile() for u in mime.urls() if u.isLocalFile() and u.toLocalFile()]


class FilesPanel(QWidget):
    """Input files: a model, a view, the buttons and a folder scanner."""

    #: ``(count, total_bytes)`` after every change.
    changed = Signal(int, object)  # object: totals pass 2 GiB
    #: A status bar message.
    message = Signal(str)
    #: The user cleared the list (the window forgets the last run's results with it).
    cleared = Signal()
    #: Folders given to ``add_paths`` (Add Folder, a drop, the command line): File ▸ Open Recent keeps them.
    foldersAdded = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = FilesModel(self)
        self.scanner = FolderScanner(self)
        self.scanner.found.connect(self._on_found)
        self.scanner.finished.connect(self._on_scan_finished)
        self.last_folder = ""
        self._scan_added = 0

        style = self.style()
        self.add_files_action = QAction(style.standardIcon(QStyle.StandardPixmap.SP_FileIcon), "Add Files…", self)
        self.add_files_action.setShortcut(QKeySequence.StandardKey.Open)
        self.add_files_action.setToolTip("Add files (Ctrl+O)")
        self.add_files_action.triggered.connect(self.choose_files)
        self.add_folder_action = QAction(style.standardIcon(QStyle.StandardPixmap.SP_DirOpenIcon), "Add Folder…", self)
        self.add_folder_action.setShortcut("Ctrl+Shift+O")
        self.add_folder_action.setToolTip("Add every file in a folder and its subfolders that matches the filter")
        self.add_folder_action.triggered.connect(self.choose_folder)
        self.remove_action = QAction("Remove", self)
        self.remove_action.setShortcut(QKeySequence.StandardKey.Delete)
        self.remove_action.setToolTip("Remove the selected files from the list (Del)")
        self.remove_action.triggered.connect(self.remove_selected)
        self.clear_action = QAction("Clear", self)
        self.clear_action.setToolTip("Remove all files from the list")
        self.clear_action.triggered.connect(self.model.clear)
        self.clear_action.triggered.connect(self.cleared)

        buttons = QHBoxLayout()
        buttons.setSpacing(4)
        for action in (self.add_files_action, self.add_folder_action, self.remove_action, self.clear_action):
            b = QToolButton(self)
            b.setDefaultAction(action)
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            buttons.addWidget(b)
        buttons.addStretch(1)

        self.filter_edit = QLineEdit(self)
        self.filter_edit.setPlaceholderText("all files")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.setToolTip(
            "Glob patterns for Add Folder and folder drops, e.g. *.png; *.jpg.\n"
            "Preset from the task's accepted files; empty takes every file."
        )
        filter_row = QHBoxLayout()
        filter_row.setSpacing(6)
        filter_label = QLabel("Folder filter:")
        filter_label.setBuddy(self.filter_edit)
        self.filter_edit.setAccessibleName("Folder filter")
        filter_row.addWidget(filter_label)
        filter_row.addWidget(self.filter_edit, 1)

        self.view = HintTableView("No files yet.\nAdd files or a folder, or drop them here.", self)
        self.view.setModel(self.model)
        self.view.setAccessibleName("Files")
        self.view.addAction(self.remove_action)
        hh = self.view.horizontalHeader()
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        hh.setSectionResizeMode(1, QHeaderView.ResizeMode.Fixed)
        hh.resizeSection(1, self.fontMetrics().horizontalAdvance("1023.9 MiB") + 18)
        self.view.selectionModel().selectionChanged.connect(self._update_actions)

        self.footer = QLabel(self)
        self.footer.setObjectName("filesFooter")

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(6)
        lay.addLayout(buttons)
        lay.addLayout(filter_row)
        lay.addWidget(self.view, 1)
        lay.addWidget(self.footer)

        self.setAcceptDrops(True)
        self.model.changed.connect(self._on_changed)
        self._on_changed(0, 0)

    # -- filter -------------------------------------------------------------
    def patterns(self) -> list[str]:
        return parse_patterns(self.filter_edit.text())

    def set_patterns(self, patterns: Sequence[str]) -> None:
        """The task's accepted files: preset the folder filter, and hide the files it does not take."""
        self.filter_edit.setText("; ".join(patterns))
        self.filter_edit.setCursorPosition(0)  # show the first patterns, not the last
        self.model.set_accepts(patterns)

    # -- adding -------------------------------------------------------------
    def choose_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Add Files", self.last_folder or os.path.expanduser("~"))
        if paths:
            self.add_paths(paths)

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add Folder", self.last_folder or os.path.expanduser("~"))
        if folder:
            self.add_paths([folder])

    def add_paths(self, paths: Iterable[str | os.PathLike]) -> None:
        """Files are added now; folders are scanned in the background with the filter."""
        files, folders, missing = [], [], []
        for p in paths:
            p = os.fspath(p)
            if os.path.isdir(p):
                folders.append(p)
            elif os.path.isfile(p):
                files.append(p)
            else:
                missing.append(p)
        added = self.model.add_files(files) if files else 0
        if folders or files:
            self.last_folder = folders[-1] if folders else os.path.dirname(os.path.abspath(files[-1]))
        if folders:
            self.foldersAdded.emit([os.path.abspath(f) for f in folders])
            self._scan_added = added
            self.scanner.scan(folders, self.patterns())
            self._on_changed(len(self.model), self.model.total_bytes)
        elif files or missing:
            self._report(added, len(files) - added, missing)

    def _report(self, added: int, dupes: int, missing: Sequence[str] = (), note: str = "") -> None:
        parts = [f"Added {fmt.count(added)} file{'s' if added != 1 else ''}"]
        if dupes:
            parts.append(f"{fmt.count(dupes)} already in the list")
        if missing:
            parts.append(f"{len(missing)} not found")
        if note:
            parts.append(note)
        self.message.emit(", ".join(parts) + ".")

    def _on_found(self, entries: list) -> None:
        self._scan_added += self.model.add(entries)

    def _on_scan_finished(self, found: int) -> None:
        self._on_changed(len(self.model), self.model.total_bytes)
        pats = self.patterns()
        if found == 0 and pats:
            self.message.emit(f"No files matching {'; '.join(pats)} in that folder.")
        else:
            self._report(self._scan_added, max(0, found - self._scan_added), note=self.scanner.skipped_note)

    # -- removing -----------------------------------------------------------
    def remove_selected(self) -> int:
        rows = [i.row() for i in self.view.selectionModel().selectedRows()]
        return self.model.remove_rows(rows)

    # -- drag and drop ------------------------------------------------------
    # The window forwards drops anywhere on it here, a run going or not (the next job is set up meanwhile).
    def dragEnterEvent(self, event) -> None:
        if self.acceptDrops() and local_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    dragMoveEvent = dragEnterEvent

    def dropEvent(self, event) -> None:
        paths = local_paths(event.mimeData())
        if paths and self.acceptDrops():
            event.acceptProposedAction()
            self.add_paths(paths)
        else:
            event.ignore()

    # -- state --------------------------------------------------------------
    def _update_actions(self, *_args) -> None:
        self.remove_action.setEnabled(self.view.selectionModel().hasSelection())
        self.clear_action.setEnabled(len(self.model) > 0 or self.model.hidden_count > 0)

    def _on_changed(self, n: int, total: int) -> None:
        if n == 0 and not self.scanner.busy:
            text = "No files"
        else:
            text = f"{fmt.count(n)} file{'s' if n != 1 else ''} · {fmt.human_bytes(total)}"
        hidden = self.model.hidden_count
        if hidden:
            text += f" · {fmt.count(hidden)} hidden: not accepted by this task"
        self.footer.setToolTip("Files the chosen task does not accept are kept but left out of the run; "
                               "choose a task that accepts them to see them again." if hidden else "")
        if self.scanner.busy:
            text += " · scanning…"
        self.footer.setText(text)
        self._update_actions()
        self.changed.emit(n, total)

    # -- what the workspace asks of it ----------------------------------------
    def paths(self) -> list[str]:
        return self.model.paths()

    def shutdown(self) -> None:
        """Stop a folder scan in progress (the window is closing)."""
        self.scanner.shutdown()

    def save_settings(self, s: QSettings) -> None:
        s.setValue("files/last_folder", self.last_folder)

    def restore_settings(self, s: QSettings) -> None:
        self.last_folder = cfg.get_str(s, "files/last_folder")
