"""Tell the desktop when a long run or study ends while the window is in the background.

A run or study that took at least :data:`LONG_S` seconds ends with a system
notification (``QSystemTrayIcon.showMessage``), or where there is no tray, the
taskbar entry asks for attention (``QApplication.alert``).  Nothing happens
when the window is in front: the person is already looking.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QApplication, QSystemTrayIcon, QWidget

from .workspaces.base import Workspace

#: A minute: shorter work is still on the person's mind when it ends.
LONG_S = 60.0


class Notifier(QObject):
    """Watches workspaces' busy state; ``show(title, text)`` replaces the desktop call (tests)."""

    def __init__(self, window: QWidget, *, clock: Callable[[], float] = time.monotonic,
                 show: Callable[[str, str], None] | None = None) -> None:
        super().__init__(window)
        self._window = window
        self._clock = clock
        self._show = show
        self._started: dict[int, float] = {}
        self._tray: QSystemTrayIcon | None = None

    def watch(self, workspace: Workspace) -> None:
        workspace.busyChanged.connect(lambda busy, ws=workspace: self._on_busy(ws, busy))

    def _on_busy(self, workspace: Workspace, busy: bool) -> None:
        key = id(workspace)
        if busy:
            self._started[key] = self._clock()
            return
        started = self._started.pop(key, None)
        if started is None or self._clock() - started < LONG_S or self._window.isActiveWindow():
            return
        self.notify(f"Poolside: {workspace.title} finished", workspace.done_text())

    def notify(self, title: str, text: str) -> None:
        if self._show is not None:
            self._show(title, text)
            return
        if QSystemTrayIcon.isSystemTrayAvailable():
            if self._tray is None:
                self._tray = QSystemTrayIcon(self._window.windowIcon(), self)
            self._tray.show()
            self._tray.showMessage(title, text, QSystemTrayIcon.MessageIcon.Information, 10_000)
        else:
            QApplication.alert(self._window)
