"""The Poolside window: a shell of menus, workspace tabs and a status bar.

    MainWindow ── QTabWidget ── RunWorkspace      (files, task, backend → a run)
       │                    ├─ CompareWorkspace  (the same job under many configurations → a verdict)
       │                    └─ HistoryWorkspace  (past runs and studies: reopen, compare, resume, export)
       ├── menus: File (files, plugin file, Open/Save job, Open Recent, export, Quit), Run, Help
       ├── status bar ◄── every workspace's ``message``
       ├── title ◄── the Run tab's job and the run's progress (poolside.words.runs.window_title)
       └── close: a busy workspace is asked to stop first

    poolside PATH... / JOB.toml / a file manager's "Open with" ──► open_paths ──► a job, or the files

The window never reaches into a panel: it asks a workspace for what the
workspace offers (actions, ``job_spec``, ``apply_spec``, settings, ``stop``).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QByteArray, QEvent, QRect, QSettings, QSize, Signal
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication
from PySide6.QtWidgets import QMainWindow, QMessageBox, QTabWidget, QWidget

from poolside.spec import JobSpec, SpecError
from poolside.words.configs import config_label

from . import settings as cfg
from .bridge import RunBridge
from .crash_report import CrashDialog, details, log_buffer
from .notify import Notifier
from .recent import RecentItems, RecentMenu
from .theme import app_icon, restyle
from .widgets.cores_panel import cores_text
from .window_files import JobFilesMixin
from .workspaces.base import Workspace
from .workspaces.compare.client import HostStudyClient, StudyClient
from .workspaces.compare.workspace import CompareWorkspace
from .workspaces.history.api import HistoryReader, open_history
from .workspaces.history.workspace import HistoryWorkspace
from .workspaces.run import RunWorkspace


def _version() -> str:
    """The installed distribution's version (a checkout that is not installed says so)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("poolside")
    except PackageNotFoundError:
        return "(not installed)"


#: The size the layout reads best at (the Run tab's inputs column beside results, and CPU views
#: ~300 px high): a first window is no bigger than this, however large the screen.
COMFORTABLE = QSize(1440, 900)
#: A first window's share of each side of the screen's available area: 0.95 × 0.95 ≈ 90 % of it.
SCREEN_SHARE = 0.95


def first_geometry(available: QRect, wanted: QSize) -> QRect:
    """Where a first window goes: about 90 % of ``available`` (the screen less its panels), no larger
    than ``wanted``, centred."""
    size = QSize(min(int(available.width() * SCREEN_SHARE), wanted.width()),
                 min(int(available.height() * SCREEN_SHARE), wanted.height()))
    rect = QRect(available.topLeft(), size)
    rect.moveCenter(available.center())
    return rect


def _backend_infos() -> list[Any]:
    from poolside import backend_info

    return list(backend_info())


class MainWindow(JobFilesMixin, QMainWindow):
    """The workbench.  ``runFinished(summary)`` follows every run of the Run workspace, cancelled or not."""

    runStarted = Signal()
    runFinished = Signal(object)

    def __init__(
        self,
        settings: QSettings | None = None,
        *,
        plugins: tuple[list, list] | None = None,
        runner: Callable[..., Any] | None = None,
        study_client: StudyClient | None = None,
        history: HistoryReader | None | bool = True,
        parent: QWidget | None = None,
    ) -> None:
        """``plugins``: ``(plugins, errors)`` instead of ``poolside.plugins.discover()``;
        ``runner``: a stand-in for ``poolside.run``; ``study_client``: where studies run
        (a :class:`HostStudyClient` unless given; tests pass a fake); ``history``: what the
        History tab reads (``True``: the user's history, ``None``: none)."""
        super().__init__(parent)
        self.settings = settings if settings is not None else cfg.open_settings()
        self.setWindowTitle("Poolside")
        self.setWindowIcon(app_icon())
        self.setObjectName("PoolsideMainWindow")
        log_buffer()  # from now on the last log lines are kept for a crash report
        self.bridge = RunBridge(self, runner=runner)

        self.tabs = QTabWidget(self)
        self.tabs.setDocumentMode(True)
        self.setCentralWidget(self.tabs)
        self.run_ws = RunWorkspace(self.bridge, self._load_plugins(plugins), self)
        self.workspaces: list[Workspace] = []
        self.add_workspace(self.run_ws)
        self.run_ws.runStarted.connect(self.runStarted)
        self.run_ws.runFinished.connect(self.runFinished)
        client = study_client if study_client is not None else HostStudyClient(self)
        self.compare_ws = CompareWorkspace(self.run_ws, client, _backend_infos(), self)
        self.add_workspace(self.compare_ws)
        self.compare_ws.settingsUsed.connect(self._on_settings_used)
        self.history_ws = HistoryWorkspace(open_history() if history is True else history or None, self)
        self.add_workspace(self.history_ws)
        self.history_ws.useSettings.connect(self.compare_ws.use_settings)
        self.history_ws.rerunRequested.connect(self._on_rerun)
        self.history_ws.observationRequested.connect(self.open_observe)
        # Resume walks a run's inputs, which imports its plugin: asked first, as Run does.
        self.history_ws.confirm_plugin = self.run_ws.task.confirm_ref
        self.run_ws.runFinished.connect(lambda _summary: self.history_ws.refresh_if_shown())
        # After the Run tab's own end-of-run message (finished is emitted first): the warning stays in view.
        self.bridge.historyFailed.connect(self.history_failed)
        self.compare_ws.studyFinished.connect(lambda _record: self.history_ws.refresh_if_shown())
        self.notifier = Notifier(self)
        for w in self.workspaces:
            self.notifier.watch(w)
        self.recent = RecentItems(self.settings)
        self.run_ws.jobChanged.connect(self.update_title)
        self.run_ws.runStarted.connect(self.update_title)
        self.run_ws.foldersAdded.connect(self._remember_folders)
        self.run_ws.runFinished.connect(self.update_title)
        self.bridge.progressChanged.connect(self.update_title)

        self.observations: list = []  # the open Observe a Program dialogs
        self._make_menus()
        self.setAcceptDrops(True)
        self.statusBar().showMessage(f"{cores_text()} · ready")
        if self.history_ws.unavailable is not None:  # found before the status bar listened: said now
            self._status(f"The history is unavailable: {self.history_ws.unavailable} (see the History tab)")
        restyle(self)  # the hint colours, then the stylesheet
        self.restore_settings()

    def add_workspace(self, workspace: Workspace) -> None:
        self.workspaces.append(workspace)
        self.tabs.addTab(workspace, workspace.title)
        workspace.message.connect(self._status)

    def _load_plugins(self, given: tuple[list, list] | None) -> tuple[list, list]:
        if given is not None:
            return given
        try:
            from poolside.plugins import discover

            return discover()
        except Exception as exc:  # the window still opens, and says why it has no tasks
            self._status(f"Could not load the plugins: {exc}")
            return [], []

    def _make_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addActions(self.run_ws.file_actions())
        file_menu.addSeparator()
        file_menu.addAction("Load Plugin File…").triggered.connect(self.run_ws.choose_plugin_file)
        self.observe_action = file_menu.addAction("Observe a Program…")
        self.observe_action.triggered.connect(self.open_observe)
        file_menu.addSeparator()
        self.open_job_action = file_menu.addAction("Open Job…")
        self.open_job_action.triggered.connect(self.choose_open_job)
        self.save_job_action = file_menu.addAction("Save Job…")
        self.save_job_action.triggered.connect(self.choose_save_job)
        self.recent_menu = RecentMenu(self.recent, self.open_recent, self)
        file_menu.addMenu(self.recent_menu)
        file_menu.addSeparator()
        file_menu.addActions(self.run_ws.export_actions())
        file_menu.addSeparator()
        self.quit_action = QAction("Quit", self)
        self.quit_action.setShortcut("Ctrl+Q")
        self.quit_action.triggered.connect(self.close)
        self.addAction(self.quit_action)
        file_menu.addAction(self.quit_action)
        run_menu = bar.addMenu("&Run")
        run_menu.addActions(self.run_ws.run_actions())
        help_menu = bar.addMenu("&Help")
        self.details_action = help_menu.addAction("Diagnostic details…")
        self.details_action.triggered.connect(self.show_details)
        help_menu.addAction("About Poolside").triggered.connect(self._about)

    # -- the run workspace, as the menus and tests see it ---------------------
    @property
    def running(self) -> bool:
        return any(w.is_busy() for w in self.workspaces)

    def _on_settings_used(self, config: Any) -> None:
        self.tabs.setCurrentWidget(self.run_ws)
        self._status(f"The Run tab now uses {config_label(config)}.")

    def _on_rerun(self, run: Any, items: list) -> None:
        """History's Resume / Re-run failed: the Run tab runs those items with the run's settings."""
        try:
            spec = JobSpec.from_dict(run.get("spec") or {})
        except SpecError as exc:
            self._status(f"Cannot run it again: {exc}")
            return
        self.tabs.setCurrentWidget(self.run_ws)
        self.run_ws.rerun(spec, list(items))

    # -- drops anywhere in the window go to the Run workspace's files ----------
    def dragEnterEvent(self, event) -> None:
        self.run_ws.drop_target().dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:
        self.run_ws.drop_target().dragMoveEvent(event)

    def dropEvent(self, event) -> None:
        self.tabs.setCurrentWidget(self.run_ws)
        self.run_ws.drop_target().dropEvent(event)

    # -- settings -----------------------------------------------------------
    def save_settings(self) -> None:
        s = self.settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        s.setValue("window/tab", self.tabs.currentIndex())
        for w in self.workspaces:
            w.save_settings(s)
        s.sync()

    def restore_settings(self) -> None:
        s = self.settings
        geometry = s.value("window/geometry")
        if not (isinstance(geometry, QByteArray) and not geometry.isEmpty() and self.restoreGeometry(geometry)):
            self.place_first()
        for w in self.workspaces:
            w.restore_settings(s)
        self.tabs.setCurrentIndex(min(max(0, cfg.get_int(s, "window/tab", 0)), self.tabs.count() - 1))

    def place_first(self) -> None:
        """A first launch: most of the screen, no more than the layout reads best at."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:  # no screen at all (a platform without one): Qt's own size stands
            return
        self.setGeometry(first_geometry(screen.availableGeometry(), self.sizeHint().expandedTo(COMFORTABLE)))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            restyle(self)  # a scheme switch: every view, hints included, follows the new palette
        super().changeEvent(event)

    def warm(self) -> None:
        """The window is shown: start the run host and the Run tab's forecast thread while the person
        picks files, so that the first run waits for neither."""
        self.bridge.warm()
        self.run_ws.warm()

    # -- closing ------------------------------------------------------------
    def confirm_close(self) -> bool:
        """Ask before closing while something runs (tests replace this)."""
        busy = " ".join(w.busy_text() for w in self.workspaces if w.is_busy())
        answer = QMessageBox.question(
            self,
            "Stop and close?",
            f"{busy}\nCancel it and close Poolside?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.running:
            if not self.confirm_close():
                event.ignore()
                return
            for w in self.workspaces:
                if w.is_busy() and not w.stop(timeout=30):
                    self._status(f"{w.title}: did not stop in time.")
        for w in self.workspaces:
            w.shutdown()
        for dialog in self.observations:
            dialog.shutdown()  # the observations end; the programs they watched go on
        self.bridge.shutdown()  # the run host and its workers end with the window
        self.save_settings()
        event.accept()
        super().closeEvent(event)

    # -- misc ---------------------------------------------------------------
    def _status(self, text: str) -> None:
        self.statusBar().showMessage(text)

    def history_failed(self, reason: str, what: str = "run") -> None:
        """A run or study that is not in the history (``what``): said in the status bar, never silently.

        The bridge logged it already (``RunBridge.historyFailed``); a study host reporting its
        ``HistoryError`` calls this with ``what="study"``.
        """
        self.history_ws.refresh()
        if self.history_ws.unavailable is None:  # readable, not writable: the tab says it too, with its way out
            self.history_ws.set_unavailable(reason)
        self._status(f"This {what} is not in the history: {reason}")

    def show_details(self) -> CrashDialog:
        """Help ▸ Diagnostic details: versions, the machine and the last log lines to copy."""
        dialog = CrashDialog(details(), crashed=False, parent=self)
        dialog.open()
        return dialog

    def open_observe(self, record: dict | None = None, series: dict | None = None,
                     history_id: int | None = None) -> Any:
        """File ▸ Observe a Program… (or a kept observation reopened from the History tab)."""
        from .observe_dialog import ObserveDialog, show_observation

        if record is not None:
            dialog = show_observation(self, record, series, history_id)
        else:
            dialog = ObserveDialog(self)
            dialog.list_processes()
        dialog.finished.connect(lambda _code, d=dialog: self.observations.remove(d))
        dialog.historyChanged.connect(self.history_ws.refresh)
        self.observations.append(dialog)
        dialog.show()
        return dialog

    def _about(self) -> None:
        QMessageBox.about(
            self,
            "About Poolside",
            f"<b>Poolside {html.escape(_version())}</b><br>Run one task over many files on threads or processes, "
            "watch the cores work, and learn which backend wins.",
        )
