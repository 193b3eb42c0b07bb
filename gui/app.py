"""``main()``: create the application, show the window, run the event loop.

``poolside`` with no arguments calls this; so does ``python -m gui``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Open the Poolside window; return the event loop's exit code."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from . import settings
    from .main_window import MainWindow
    from .theme import app_icon

    args = list(sys.argv[:1] if argv is None else ["poolside", *argv])
    app = QApplication.instance()
    if app is None:
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(args)
    app.setOrganizationName(settings.ORGANIZATION)
    app.setApplicationName(settings.APPLICATION)
    app.setApplicationDisplayName("Poolside")
    app.setDesktopFileName("poolside")
    app.setWindowIcon(app_icon())
    window = MainWindow()
    window.show()
    window.bridge.warm()  # the run host starts while the person picks files
    return int(app.exec())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
