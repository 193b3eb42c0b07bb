"""Where an export goes: one Save dialog for every export, and one remembered folder.

    Run tab: Export Results as CSV/JSON…, Export Timeline… ─┐
    History tab: Export study…, a run's Export Timeline… ───┴─► ask_export_path ─► "export/folder"

Each opens in the folder the last export went to, whichever tab it came from:
someone exporting a run's results and then its study wants them side by side.
"""

from __future__ import annotations

import os

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QWidget

from . import settings as cfg

FOLDER_KEY = "export/folder"


def ask_export_path(parent: QWidget, title: str, file_name: str, filters: str, *,
                    settings: QSettings | None = None, folder: str | None = None) -> str | None:
    """Ask where to save ``file_name``; the chosen path, or None if the user cancelled.

    ``folder``: where to start when no export was saved yet (the user's home if not given).
    """
    s = settings if settings is not None else cfg.open_settings()
    start = cfg.get_str(s, FOLDER_KEY, folder or os.path.expanduser("~"))
    path, _ = QFileDialog.getSaveFileName(parent, title, os.path.join(start, file_name), filters)
    if not path:
        return None
    s.setValue(FOLDER_KEY, os.path.dirname(path))
    return path
