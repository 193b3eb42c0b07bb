"""Run ▸ Watch Folder: run the files in a folder, then each file written there later, until turned off.

    toggle on ─► choose a folder ─► FolderWatch(folder).items() on a thread (poolside.watch)
                                      │ each file, once written (skipping what the history has ok)
                                      ▼ BatchPump (the one hand-off to the GUI thread)
                                    arrived files ─► a run over them when the tab is idle
                                                     (else after the current run)
    toggle off ─► the watch stops, its thread ends; files not run yet are said and left

The window never runs a task itself: each batch of new files is an ordinary
run in the run host, recorded in the history as one run.  Every batch runs the
job the watch was started with (kept here), not what the Run tab's panels show
later: they may be setting up the next job for the queue.
"""

from __future__ import annotations

import os
import threading
from pathlib import PurePath
from typing import Any, Protocol

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QWidget

from poolside.log import get_logger
from poolside.words.units import count

from ...pump import BatchPump

_log = get_logger(__name__)

WATCH_KEYS = "Ctrl+Shift+W"
# How long stop() waits for the watch's thread: a watch ends within a tick (poolside.watch.TICK_MS).
_JOIN_S = 5.0


class WatchHost(Protocol):
    """What the watch needs of the Run tab."""

    message: Any

    def is_busy(self) -> bool: ...

    def watch_setup(self) -> tuple[Any, Any, Any, str]: ...

    def run_watched(self, spec: Any, plugin: Any, items: list[str]) -> bool: ...

    def last_folder(self) -> str: ...


class WatchMode(QObject):
    """The Watch Folder toggle and the watch it runs."""

    def __init__(self, host: WatchHost, owner: QWidget) -> None:
        super().__init__(owner)
        self.host = host
        self.owner = owner
        self.action = QAction("Watch Folder…", owner)
        self.action.setCheckable(True)
        self.action.setShortcut(QKeySequence(WATCH_KEYS))
        self.action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.action.setToolTip("Run the files in a folder, then every file written there later, until "
                               f"turned off ({WATCH_KEYS})")
        self.action.toggled.connect(self._toggled)
        owner.addAction(self.action)
        self._pump = BatchPump(self, interval_ms=100)
        self._pump.batchReady.connect(self._arrived)
        self._pump.drained.connect(self._ended)
        self._watch: Any = None
        self._thread: threading.Thread | None = None
        self._waiting: list[str] = []
        self._job: tuple[Any, Any] | None = None  # the watched job's spec and plugin, from its start
        self.folder: str | None = None

    @property
    def watching(self) -> bool:
        return self._watch is not None

    def waiting(self) -> int:
        """Files written and not run yet (they run when the current run ends)."""
        return len(self._waiting)

    def choose_folder(self) -> str:
        """The folder to watch ("" when the person cancels; tests replace this)."""
        return QFileDialog.getExistingDirectory(self.owner, "Watch Folder", self.host.last_folder())

    def start(self, folder: str) -> bool:
        """Watch ``folder`` with the tab's task and settings; False (and why) if it cannot."""
        from poolside.history import HistoryError
        from poolside.history.resume import done_items
        from poolside.watch import FolderWatch

        self.stop()
        spec, plugin, task, problem = self.host.watch_setup()
        if spec is None:
            self.host.message.emit(f"Cannot watch a folder: {problem}")
            return False
        try:
            done = done_items(spec, task)
        except HistoryError as e:
            self.host.message.emit(f"The history cannot say which files are done already, all run: {e}")
            done = set()
        outputs = [v for v in task.kwargs.values() if isinstance(v, PurePath)]
        try:
            watch = FolderWatch([folder], patterns=spec.patterns, exclude=outputs, skip=done)
        except ValueError as e:
            self.host.message.emit(f"Cannot watch a folder: {e}")
            return False
        self._watch, self.folder, self._job = watch, folder, (spec, plugin)
        self._pump.start()
        push, close = self._pump.sink()
        self._thread = threading.Thread(target=self._read, args=(watch, push, close), name="poolside-watch",
                                        daemon=True)
        self._thread.start()
        self.host.message.emit(f"Watching {folder} for new files…")
        self._set_checked(True)
        return True

    def stop(self) -> None:
        """Stop watching; the thread ends (within a tick).  Files not run yet stay unrun, and are said."""
        watch, thread = self._watch, self._thread
        if watch is None:
            return
        self._watch = self._thread = self._job = None
        watch.stop()
        if thread is not None:
            thread.join(_JOIN_S)
            if thread.is_alive():
                _log.warning("the folder watch did not end in %.0f s", _JOIN_S)
        self._pump.stop()
        left, self._waiting = len(self._waiting), []
        note = f"; {count(left)} new file{'s' if left != 1 else ''} not run" if left else ""
        self.host.message.emit(f"Stopped watching {self.folder}{note}.")
        self._set_checked(False)

    def run_waiting(self) -> bool:
        """Run the files that arrived while a run was going; False if none, or busy."""
        if not self._waiting or self._job is None or self.host.is_busy():
            return False
        items, self._waiting = self._waiting, []
        spec, plugin = self._job
        return self.host.run_watched(spec, plugin, items)

    # -- the watch's thread ---------------------------------------------------------
    @staticmethod
    def _read(watch: Any, push: Any, close: Any) -> None:
        try:
            for path in watch.items():
                push([os.fspath(path)])
        except Exception as e:  # the watch itself broke (a folder removed, no more watches): said, not hidden
            _log.error("watching %s failed: %s", watch.roots, e, exc_info=e)
            close(f"{type(e).__name__}: {e}")
            return
        close(None)

    # -- the GUI thread ------------------------------------------------------------------
    def _arrived(self, paths: list) -> None:
        self._waiting.extend(paths)
        if not self.host.is_busy():
            QTimer.singleShot(0, self.run_waiting)  # a few more may come in the same tick

    def _ended(self, error: str | None) -> None:
        if error is not None and self.watching:
            self.host.message.emit(f"Watching {self.folder} stopped: {error}")
            self.stop()

    def _toggled(self, on: bool) -> None:
        if on and not self.watching:
            folder = self.choose_folder()
            if not folder or not self.start(folder):
                self._set_checked(False)
        elif not on and self.watching:
            self.stop()

    def _set_checked(self, on: bool) -> None:
        if self.action.isChecked() != on:
            self.action.blockSignals(True)
            self.action.setChecked(on)
            self.action.blockSignals(False)
