"""File ▸ Open Recent: the folders and job files a person opened, ran or saved, newest first.

    open_job / save_job / a run's folders / poolside PATH... ──add──► RecentItems ──(settings: recent/paths)
                                                                          │
    RecentMenu (rebuilt each time it opens) ◄──────────────── items() ────┘ ──triggered(path)──► the window

Kept with the window's other settings (:mod:`poolside.gui.settings`, a JSON list under one key), so the
list survives closing the window and follows ``POOLSIDE_SETTINGS`` like the rest.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMenu, QWidget

from . import settings as cfg

KEY = "recent/paths"
#: As many as a menu shows without scrolling, as most desktop programs keep.
LIMIT = 10
#: What ``poolside JOB`` and Open Recent open as a job rather than add as an input file.
JOB_SUFFIXES = (".toml",)


def is_job_file(path: str) -> bool:
    """A saved job (``Save Job…`` writes TOML): opened as a job, never run over as an input."""
    return os.path.isfile(path) and path.lower().endswith(JOB_SUFFIXES)


class RecentItems:
    """The recent folders and jobs in ``settings``: absolute paths, newest first, no repeats."""

    def __init__(self, settings: QSettings) -> None:
        self.settings = settings

    def items(self) -> list[str]:
        value = cfg.get_json(self.settings, KEY, [])
        return [p for p in value if isinstance(p, str)] if isinstance(value, list) else []

    def add(self, path: str) -> None:
        path = os.path.abspath(path)
        self._store([path, *(p for p in self.items() if p != path)])

    def remove(self, path: str) -> None:
        self._store([p for p in self.items() if p != path])

    def clear(self) -> None:
        self._store([])

    def _store(self, paths: list[str]) -> None:
        cfg.set_json(self.settings, KEY, paths[:LIMIT])


def label(path: str) -> str:
    """How a recent path reads in the menu: the home folder as ``~``, a job marked as one."""
    home = os.path.expanduser("~")
    shown = "~" + path[len(home):] if path == home or path.startswith(home + os.sep) else path
    return f"Job: {shown}" if path.lower().endswith(JOB_SUFFIXES) else f"Folder: {shown}"


class RecentMenu(QMenu):
    """File ▸ Open Recent, read afresh each time it opens (another action may have added to it)."""

    def __init__(self, recent: RecentItems, opened: Callable[[str], None], parent: QWidget | None = None) -> None:
        super().__init__("Open Recent", parent)
        self.recent = recent
        self._opened = opened
        self.aboutToShow.connect(self.rebuild)
        self.rebuild()

    def rebuild(self) -> None:
        self.clear()
        paths = self.recent.items()
        for path in paths:
            action = self.addAction(label(path))
            action.setToolTip(path)
            action.triggered.connect(lambda _=False, p=path: self._opened(p))
        if not paths:
            self.addAction("No recent folders or jobs").setEnabled(False)
        self.addSeparator()
        clear = self.addAction("Clear Recent")
        clear.setEnabled(bool(paths))
        clear.triggered.connect(self._clear)

    def _clear(self) -> None:
        self.recent.clear()
        self.rebuild()
