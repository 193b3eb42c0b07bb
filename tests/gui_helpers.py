"""What the window tests share: a real window on settings of its own, shown, that closes without asking."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSettings

from poolside.gui.main_window import MainWindow


def open_window(qtbot: Any, tmp_path: Any, **kwargs: Any) -> MainWindow:
    """A shown window whose settings live in ``tmp_path``; closing it never asks (each test tears down its own way).

    ``kwargs`` go to :class:`MainWindow` (``study_client``, ``history``)."""
    w = MainWindow(QSettings(str(tmp_path / "poolside.ini"), QSettings.Format.IniFormat), **kwargs)
    w.confirm_close = lambda: True
    qtbot.addWidget(w)
    w.show()
    return w
