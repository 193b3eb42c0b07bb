"""The window's title and its ways in: the command line, a file manager, Open Recent, job files.

    poolside PATH... / JOB.toml / "Open with" ──► open_paths ──┬─► open_job (a job file) ──► the Run tab's job
    File ▸ Open Recent ───────────────────────► open_recent ──┘─► the Run tab's files (files and folders)
    Open Job… / Save Job… ─► open_job / save_job ─► RecentItems (jobs and the folders the Run tab
    Add Folder, a drop ─► the Run tab's foldersAdded ──────────────► was given, in the settings)
    the Run tab's job, the run's progress ─► update_title ─► "thumbnail · 200 files — Poolside"

A part of :class:`~poolside.gui.main_window.MainWindow` (a mixin: one concept, its own module); it
uses the window's Run workspace, bridge, settings, tabs and status bar.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from PySide6.QtWidgets import QFileDialog, QWidget

from poolside.spec import JobSpec, SpecError
from poolside.words.runs import window_title

from . import settings as cfg
from .recent import is_job_file

if TYPE_CHECKING:  # pragma: no cover
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QTabWidget

    from .bridge import RunBridge
    from .recent import RecentItems
    from .workspaces.run import RunWorkspace


class JobFilesMixin:
    """Opening jobs, files and folders from anywhere, saving jobs, and the title that names the job."""

    if TYPE_CHECKING:  # what the window provides
        run_ws: RunWorkspace
        bridge: RunBridge
        settings: QSettings
        recent: RecentItems
        tabs: QTabWidget

        def _status(self, text: str) -> None: ...
        def setWindowTitle(self, title: str) -> None: ...

    # -- the title ------------------------------------------------------------
    def update_title(self, *_args: Any) -> None:
        """``thumbnail · 200 files — Poolside``, with the run's progress first while it runs."""
        task, files = self.run_ws.job_outline()
        progress = self.bridge.progress if self.bridge.running else None
        done, total = (progress.done, progress.total) if progress is not None else (None, None)
        self.setWindowTitle(window_title(task, files, done=done, total=total))

    def _remember_folders(self, folders: list[str]) -> None:
        """Folders added to the Run tab (Add Folder, a drop, the command line) go to Open Recent."""
        for folder in folders:
            self.recent.add(folder)

    # -- opening from anywhere: the command line, a file manager, Open Recent ---
    def open_paths(self, paths: Sequence[str]) -> None:
        """Open what ``poolside PATH...`` names: a job file opens that job; files and folders join the Run tab's."""
        paths = [os.path.abspath(os.path.expanduser(p)) for p in paths]
        jobs = [p for p in paths if is_job_file(p)]
        inputs = [p for p in paths if p not in jobs]
        for job in jobs:  # the last job wins; files given beside it join its own
            self.open_job(job)
        missing = [p for p in inputs if not os.path.exists(p)]
        given = [p for p in inputs if p not in missing]
        if given:
            self.tabs.setCurrentWidget(self.run_ws)
            self.run_ws.add_inputs(given)  # its folders come back through foldersAdded, into Open Recent
        if missing:
            shown = ", ".join(repr(p) for p in missing[:3]) + (" …" if len(missing) > 3 else "")
            self._status(f"Not found: {shown}.")

    def open_recent(self, path: str) -> None:
        """File ▸ Open Recent: a job opens as a job, a folder joins the files."""
        if not os.path.exists(path):
            self.recent.remove(path)
            self._status(f"{path} is gone; it is no longer in Open Recent.")
            return
        self.open_paths([path])

    # -- job files ------------------------------------------------------------
    def choose_save_job(self) -> None:
        folder = cfg.get_str(self.settings, "job/folder", os.path.expanduser("~"))
        path, _ = QFileDialog.getSaveFileName(cast(QWidget, self), "Save job", os.path.join(folder, "job.toml"),
                                              "Job files (*.toml)")
        if path:
            self.settings.setValue("job/folder", os.path.dirname(path))
            self.save_job(path)

    def save_job(self, path: str) -> bool:
        """Write the Run workspace's job as TOML (``poolside run --spec`` reads it)."""
        spec, problems = self.run_ws.job_spec(unloaded=True)  # saving never imports the plugin file
        if spec is None:
            self._status(f"Cannot save the job: {problems[0]}")
            return False
        try:
            spec.save(path)
        except SpecError as exc:
            self._status(str(exc))
            return False
        self.recent.add(path)
        self._status(f"Saved the job to {path}.")
        return True

    def choose_open_job(self) -> None:
        folder = cfg.get_str(self.settings, "job/folder", os.path.expanduser("~"))
        path, _ = QFileDialog.getOpenFileName(cast(QWidget, self), "Open job", folder, "Job files (*.toml *.json)")
        if path:
            self.settings.setValue("job/folder", os.path.dirname(path))
            self.open_job(path)

    def open_job(self, path: str) -> bool:
        """Show a saved job in the Run workspace."""
        try:
            spec = JobSpec.load(path)
        except SpecError as exc:
            self._status(str(exc))
            return False
        self.tabs.setCurrentWidget(self.run_ws)
        if not self.run_ws.apply_spec(spec):
            return False
        self.recent.add(path)
        self._status(f"Opened the job {path}.")
        return True
