"""What every workspace offers the window: a title, messages, busy state, settings, shutdown."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import QWidget


class Workspace(QWidget):
    """A tab of the window.  Subclasses override what they have; the defaults do nothing.

    * ``message(str)``: a line for the window's status bar
    * ``busyChanged(bool)``: a run or study started or ended
    """

    title = ""
    message = Signal(str)
    busyChanged = Signal(bool)

    def is_busy(self) -> bool:
        return False

    def busy_text(self) -> str:
        """What is going on, for "Stop it and close?" (empty when idle)."""
        return ""

    def done_text(self) -> str:
        """What the last run or study came to, in a line (for a desktop notification)."""
        return f"{self.title} finished."

    def stop(self, timeout: float = 30.0) -> bool:
        """Cancel what is going on and wait for it to end; True if it did."""
        return True

    def save_settings(self, s: QSettings) -> None:
        pass

    def restore_settings(self, s: QSettings) -> None:
        pass

    def shutdown(self) -> None:
        """Stop timers and background threads: the window is closing."""
