"""Pause, Resume and Stop After Current Items: the live run's controls, as actions.

    pause_action / resume_action (Ctrl+P) ─► RunBridge.pause() / resume() ─► PauseRun ─► run host
    stop_action (Shift+Esc)                ─► RunBridge.stop_after_current() ─► StopRun ─► run host
    RunBridge.controlChanged ─► which actions are enabled, ``changed(text)`` "Pausing…"
    RunBridge.held           ─► ``changed(text)`` "Paused" / "Stopping" (in effect in the host)

The actions go in the window's Run menu and on the progress panel's buttons;
the workspace enables them with the run (:meth:`RunControls.set_running`).
One key pauses and resumes: only one of the two actions is enabled at a time.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QStyle, QWidget

PAUSE_KEYS = "Ctrl+P"
# Esc cancels; Shift+Esc is its gentle form: nothing running is thrown away.
STOP_KEYS = "Shift+Esc"


class RunControls(QObject):
    """The actions that steer a live run, following the bridge's state.  ``changed(str)``: the
    headline to show (rich text, ``{label}`` for the run's name) when the run's state changes."""

    changed = Signal(str)

    def __init__(self, bridge: Any, owner: QWidget) -> None:
        super().__init__(owner)
        self.bridge = bridge
        style = owner.style()
        self.pause_action = QAction(style.standardIcon(QStyle.StandardPixmap.SP_MediaPause), "Pause", owner)
        self.pause_action.setShortcut(QKeySequence(PAUSE_KEYS))
        self.pause_action.setToolTip(f"Start no new item; the running ones finish ({PAUSE_KEYS})")
        self.pause_action.triggered.connect(bridge.pause)
        self.resume_action = QAction(style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay), "Resume", owner)
        self.resume_action.setShortcut(QKeySequence(PAUSE_KEYS))
        self.resume_action.setToolTip(f"Go on from where the run was paused ({PAUSE_KEYS})")
        self.resume_action.triggered.connect(bridge.resume)
        self.stop_action = QAction(style.standardIcon(QStyle.StandardPixmap.SP_MediaSkipForward),
                                   "Stop After Current Items", owner)
        self.stop_action.setShortcut(QKeySequence(STOP_KEYS))
        self.stop_action.setToolTip("End the run once the running items finish; nothing running is "
                                    f"thrown away, the rest end cancelled ({STOP_KEYS})")
        self.stop_action.triggered.connect(bridge.stop_after_current)
        for action in self.actions():
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        owner.addActions(self.actions())
        bridge.controlChanged.connect(self._on_control)
        bridge.held.connect(self._on_held)
        self.set_running(False)

    def actions(self) -> list[QAction]:
        return [self.pause_action, self.resume_action, self.stop_action]

    def set_running(self, running: bool) -> None:
        """A run started or ended: the controls follow it."""
        bridge = self.bridge
        live = running and not bridge.cancel_requested
        self.pause_action.setEnabled(live and not bridge.paused and not bridge.stopping)
        self.resume_action.setEnabled(live and bridge.paused and not bridge.stopping)
        self.stop_action.setEnabled(live and not bridge.stopping)
        self.pause_action.setVisible(not (running and bridge.paused))
        self.resume_action.setVisible(running and bridge.paused)

    def _on_control(self) -> None:
        self.set_running(self.bridge.running)
        bridge = self.bridge
        if bridge.stopping:
            self.changed.emit("Stopping <b>{label}</b> after its current items…")
        elif bridge.paused:
            self.changed.emit("Pausing <b>{label}</b>: the running items finish…")
        else:
            self.changed.emit("Running <b>{label}</b> again…")

    def _on_held(self) -> None:
        if self.bridge.stopping:
            self.changed.emit("Stopping <b>{label}</b>: no new item starts; the running ones finish…")
        elif self.bridge.paused:
            self.changed.emit(f"<b>Paused</b>: {{label}}. No new item starts; Resume ({PAUSE_KEYS}) goes on.")
