"""Esc typed in a field of the Files, Task or Backend panel stays in that field.

    a key in a panel's field ─► ShortcutOverride (propagated up to the panel) ─► FieldEscape
        plain Esc in a text or number field ─► accepted: the field keeps it, Cancel does not fire
        anything else ─► the window's shortcuts as usual (Esc elsewhere cancels the run)

The panels stay editable while a run goes (the next job is set up there), and
Esc in a field someone is typing in means "leave this edit", not "throw the
running job away".  The filter sits on the panels, not on their children: a key
event's override travels up the parents until one accepts it.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QLineEdit, QPlainTextEdit, QTextEdit, QWidget

_FIELDS = (QLineEdit, QAbstractSpinBox, QTextEdit, QPlainTextEdit)


class FieldEscape(QObject):
    """Installed on each panel: plain Esc in a text or number field inside it is the field's own."""

    def __init__(self, panels: list[QWidget], parent: QObject | None = None) -> None:
        super().__init__(parent)
        for panel in panels:
            panel.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent) \
                and event.key() == Qt.Key.Key_Escape and event.modifiers() == Qt.KeyboardModifier.NoModifier \
                and isinstance(QApplication.focusWidget(), _FIELDS):
            event.accept()  # the key goes to the field as a key press; no shortcut takes it
            return True
        return False
