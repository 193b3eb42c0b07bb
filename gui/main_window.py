"""The Poolside window: pick files and a task, see the cores, run, watch results stream in.

The window only composes panels and wires them to the :class:`~poolside.gui.bridge.RunBridge`;
each panel lives in its own module under ``poolside.gui.widgets``.
"""

from __future__ import annotations

import html
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QGroupBox,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from poolside import serialize
from poolside.spec import JobSpec, plugin_ref

from . import format as fmt
from . import settings as cfg
from .bridge import RunBridge
from .crash_report import CrashDialog, details, log_buffer
from .models.results import shown_root
from .theme import app_icon, stylesheet
from .widgets.backend_panel import BackendPanel
from .widgets.cores_panel import CoresPanel, cores_text
from .widgets.files_panel import FilesPanel
from .widgets.progress_panel import ProgressPanel
from .widgets.results_panel import ResultsPanel

if TYPE_CHECKING:
    from poolside.plugins import Plugin
    from poolside.records import Summary
from .widgets.task_panel import TaskPanel
from .widgets.timeline import NAVIGATION_HELP, TimelinePlot, legend_html


def _group(title: str, widget: QWidget, *, stretch: bool = False) -> QGroupBox:
    """A titled section; the title is bold, the contents keep the normal font."""
    box = QGroupBox(title)
    font = box.font()
    font.setBold(False)  # explicitly, or the contents would inherit the bold title
    widget.setFont(font)
    font.setBold(True)
    box.setFont(font)
    lay = QVBoxLayout(box)
    lay.setContentsMargins(8, 6, 8, 8)
    lay.addWidget(widget, 1 if stretch else 0)
    return box


class MainWindow(QMainWindow):
    """The workbench.  ``runFinished(summary)`` follows every run, cancelled or not."""

    runStarted = Signal()
    runFinished = Signal(object)

    def __init__(
        self,
        settings: QSettings | None = None,
        *,
        plugins: tuple[list, list] | None = None,
        runner: Callable[..., Any] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """``plugins``: ``(plugins, errors)`` instead of ``poolside.plugins.discover()``;
        ``runner``: a stand-in for ``poolside.run`` (both for tests)."""
        super().__init__(parent)
        self.settings = settings if settings is not None else cfg.open_settings()
        self.setWindowTitle("Poolside")
        self.setWindowIcon(app_icon())
        self.setObjectName("PoolsideMainWindow")
        self._run_label = ""
        self._last_summary: Summary | None = None
        log_buffer()  # from now on the last log lines are kept for a crash report

        self.bridge = RunBridge(self, runner=runner)
        self._make_actions()

        # -- panels -----------------------------------------------------------
        self.files = FilesPanel(self)
        self.task = TaskPanel(self)
        self.backend = BackendPanel(self)
        self.cores = CoresPanel(self)
        self.progress = ProgressPanel(self.run_action, self.cancel_action, self)
        self.results = ResultsPanel(self)
        self.timeline = TimelinePlot(self)
        self.results.export_button.setMenu(self._export_menu())

        left = QWidget()
        left_lay = QVBoxLayout(left)
        left_lay.setContentsMargins(0, 0, 4, 0)
        left_lay.setSpacing(8)
        self.files_box = _group("Files", self.files, stretch=True)
        left_lay.addWidget(self.files_box, 1)
        left_lay.addWidget(_group("Task", self.task))
        left_lay.addWidget(_group("Backend", self.backend))
        self.files_box.setMinimumHeight(200)
        scroll = QScrollArea()
        scroll.setWidget(left)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(340)

        self.cores_box = _group("Cores", self.cores, stretch=True)
        legend = QLabel(legend_html())
        legend.setProperty("role", "hint")
        legend.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        legend.setToolTip("Each bar is one item: when it ran and on which worker, coloured by status.")
        self.timeline.setToolTip(NAVIGATION_HELP)
        timeline_area = QWidget()
        timeline_lay = QVBoxLayout(timeline_area)
        timeline_lay.setContentsMargins(0, 0, 0, 0)
        timeline_lay.setSpacing(2)
        timeline_lay.addWidget(legend)
        timeline_lay.addWidget(self.timeline, 1)
        self.timeline_box = _group("Worker timeline", timeline_area, stretch=True)
        self.plots = QSplitter(Qt.Orientation.Horizontal)
        self.plots.addWidget(self.cores_box)
        self.plots.addWidget(self.timeline_box)
        self.plots.setStretchFactor(0, 2)
        self.plots.setStretchFactor(1, 3)
        self.plots.setSizes([340, 520])
        self.plots.setChildrenCollapsible(False)

        results_box = _group("Results", self.results, stretch=True)
        top = QWidget()
        top_lay = QVBoxLayout(top)
        top_lay.setContentsMargins(4, 0, 0, 0)
        top_lay.setSpacing(8)
        top_lay.addWidget(self.progress)
        top_lay.addWidget(results_box, 1)

        self.right = QSplitter(Qt.Orientation.Vertical)
        self.right.addWidget(top)
        self.right.addWidget(self.plots)
        self.right.setStretchFactor(0, 3)
        self.right.setStretchFactor(1, 1)
        self.right.setChildrenCollapsible(False)

        self.main_split = QSplitter(Qt.Orientation.Horizontal)
        self.main_split.addWidget(scroll)
        self.main_split.addWidget(self.right)
        self.main_split.setStretchFactor(0, 0)
        self.main_split.setStretchFactor(1, 1)
        self.main_split.setChildrenCollapsible(False)

        central = QWidget()
        central_lay = QVBoxLayout(central)
        central_lay.setContentsMargins(8, 8, 8, 4)
        central_lay.addWidget(self.main_split)
        self.setCentralWidget(central)
        self._make_menus()
        self.setAcceptDrops(True)
        self.statusBar().showMessage(f"{cores_text()} · ready")
        sheet = stylesheet()
        if sheet:
            self.setStyleSheet(sheet)

        # -- wiring -----------------------------------------------------------
        self.files.message.connect(self._status)
        self.files.changed.connect(self._update_run_action)
        self.task.message.connect(self._status)
        self.task.pluginChanged.connect(self._on_plugin)
        self.bridge.outcomesReady.connect(self._on_outcomes)
        self.bridge.progressChanged.connect(self.progress.update_progress)
        self.bridge.finished.connect(self._on_finished)
        self.bridge.startFailed.connect(self._on_start_failed)
        self.results.model.modelReset.connect(self._update_export)
        self.results.model.rowsInserted.connect(self._update_export)

        self._load_plugins(plugins)
        self.restore_settings()
        self._set_running(False)

    # -- construction -------------------------------------------------------
    def _make_actions(self) -> None:
        style = self.style()
        self.run_action = QAction(style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay), "Run", self)
        self.run_action.setShortcut(QKeySequence("Ctrl+R"))
        self.run_action.setToolTip("Run the task over every file (Ctrl+R)")
        self.run_action.triggered.connect(self.start_run)
        self.cancel_action = QAction(style.standardIcon(QStyle.StandardPixmap.SP_MediaStop), "Cancel", self)
        self.cancel_action.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        self.cancel_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.cancel_action.setToolTip("Stop the run: items not yet started end as cancelled (Esc)")
        self.cancel_action.triggered.connect(self.cancel_run)
        self.export_csv_action = QAction("Export Results as CSV…", self)
        self.export_csv_action.triggered.connect(lambda: self.choose_export("csv"))
        self.export_json_action = QAction("Export Results as JSON…", self)
        self.export_json_action.triggered.connect(lambda: self.choose_export("json"))
        self.quit_action = QAction("Quit", self)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        self.quit_action.triggered.connect(self.close)
        for a in (self.run_action, self.cancel_action, self.quit_action):
            self.addAction(a)

    def _export_menu(self) -> QMenu:
        menu = QMenu(self)
        menu.addAction(self.export_csv_action)
        menu.addAction(self.export_json_action)
        return menu

    def _make_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.files.add_files_action)
        file_menu.addAction(self.files.add_folder_action)
        file_menu.addAction(self.files.remove_action)
        file_menu.addAction(self.files.clear_action)
        file_menu.addSeparator()
        load = file_menu.addAction("Load Plugin File…")
        load.triggered.connect(self.task.choose_plugin_file)
        file_menu.addSeparator()
        file_menu.addAction(self.export_csv_action)
        file_menu.addAction(self.export_json_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        run_menu = bar.addMenu("&Run")
        run_menu.addAction(self.run_action)
        run_menu.addAction(self.cancel_action)
        help_menu = bar.addMenu("&Help")
        self.details_action = help_menu.addAction("Diagnostic details…")
        self.details_action.triggered.connect(self.show_details)
        about = help_menu.addAction("About Poolside")
        about.triggered.connect(self._about)

    def _load_plugins(self, given: tuple[list, list] | None) -> None:
        if given is None:
            try:
                from poolside.plugins import discover

                given = discover()
            except Exception as exc:  # the window still opens, and says why it has no tasks
                self._status(f"Could not load the plugins: {exc}")
                given = ([], [])
        plugins, errors = given
        self.task.add_plugins(list(plugins), list(errors))

    # -- running ------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.bridge.running

    def start_run(self) -> bool:
        """Validate everything, then start; False (and why, in the panel) if it cannot."""
        if self.bridge.running:
            return False
        plugin, values, problems = self.task.validate()
        paths = self.files.model.paths()
        if not paths:
            problems = ["Add some files first.", *problems]
            self.task.show_problems(problems)
        if problems or plugin is None:
            self._status(problems[0] if problems else "Choose a task first.")
            return False
        try:
            plugin.bind(values)  # the same check the run host makes, said here at once
        except Exception as exc:
            self.task.show_problems([str(exc)])
            self._status(str(exc))
            return False
        task = JobSpec(plugin=plugin_ref(plugin), params=values)  # what crosses to the run host
        label = f"{plugin.name} over {fmt.count(len(paths))} file{'s' if len(paths) != 1 else ''}"
        columns = tuple(getattr(plugin, "columns", ()) or ())
        return self.launch(task, paths, label, columns=columns)

    def launch(
        self, task: JobSpec | Callable[[Any], Any], items: list, label: str, *, columns: tuple[str, ...] = ()
    ) -> bool:
        """Start ``task`` over ``items`` with the Backend panel's options (no validation)."""
        options = self.backend.options()
        workers = self.backend.resolved_workers()
        self.results.clear()
        self.results.model.set_item_root(shown_root(items) if items and isinstance(items[0], str) else "")
        self.results.model.set_value_keys(columns)
        self.timeline.reset(workers)
        self._last_summary = None
        self._run_label = label
        backend = self.backend.info()
        backend_label = backend.label if backend is not None and backend.label else options["backend"]
        self.progress.start(
            len(items), f"Running <b>{html.escape(label)}</b> on {html.escape(backend_label)} ×{workers}…"
        )
        self._status(f"Running {label} on {backend_label} ×{workers}…")
        self._set_running(True)
        self.save_settings()
        # Paint the running state now, before the engine's threads start
        # competing with this one for the GIL.
        self.repaint()
        try:
            self.bridge.start(task, items, **options)
        except Exception as exc:  # a bug, not bad options (those come as startFailed)
            self._on_start_failed(exc)
            return False
        self.runStarted.emit()
        return True

    def cancel_run(self) -> None:
        if self.bridge.running and not self.bridge.cancel_requested:
            self.bridge.cancel()
            self.progress.headline.setText(f"Cancelling <b>{html.escape(self._run_label)}</b>…")
            self._status("Cancelling: pending items end as cancelled…")
            self.cancel_action.setEnabled(False)

    def _on_outcomes(self, batch: list) -> None:
        self.results.append(batch)
        self.timeline.add(batch)

    def _on_finished(self, summary: Summary) -> None:
        cancelled = self.bridge.cancel_requested
        self._last_summary = summary
        self._set_running(False)
        self.timeline.redraw()
        self.progress.finish(summary, cancelled=cancelled, label=self._run_label)
        if summary is not None:
            self._status(("Cancelled: " if cancelled else "Done: ") + summary.line())
        bad = 0 if summary is None else summary.counts.get("failed", 0) + summary.counts.get("timed_out", 0)
        if bad and self.results.current_outcome() is None:
            self.results.select_first()
        self.runFinished.emit(summary)

    def _on_start_failed(self, error: BaseException) -> None:
        self._set_running(False)
        self.task.show_problems([f"Could not start: {error}"])
        self.progress.set_idle(f"Could not start <b>{html.escape(self._run_label)}</b>: {html.escape(str(error))}")
        self._status(f"Could not start: {error}")
        self.runFinished.emit(None)

    def _set_running(self, running: bool) -> None:
        self.files.set_busy(running)
        self.task.set_busy(running)
        self.backend.set_busy(running)
        self.cancel_action.setEnabled(running)
        # From the flag, not the bridge: the bridge reports running only once
        # the engine has started, after this is called.
        self.run_action.setEnabled(not running)
        self._update_export()

    def _update_run_action(self, *_args) -> None:
        self.run_action.setEnabled(not self.bridge.running)

    def _update_export(self, *_args) -> None:
        enabled = not self.bridge.running and len(self.results.model) > 0
        self.export_csv_action.setEnabled(enabled)
        self.export_json_action.setEnabled(enabled)
        self.results.export_button.setEnabled(enabled)

    def _on_plugin(self, plugin: Plugin | None) -> None:
        if plugin is None:
            return
        self.backend.set_bound(plugin.bound)
        self.files.set_patterns(plugin.accepts)

    # -- export -------------------------------------------------------------
    def choose_export(self, kind: str) -> None:
        folder = cfg.get_str(self.settings, "export/folder", self.files.last_folder or os.path.expanduser("~"))
        name = os.path.join(folder, f"poolside-results.{kind}")
        filters = "CSV files (*.csv)" if kind == "csv" else "JSON files (*.json)"
        path, _ = QFileDialog.getSaveFileName(self, "Export results", name, filters)
        if path:
            self.settings.setValue("export/folder", os.path.dirname(path))
            self.export_results(path)

    def export_results(self, path: str) -> int:
        """Write the rows the table shows (filtered, in its order) to CSV or JSON by extension."""
        outcomes = self.results.proxy.visible_outcomes()
        try:
            n = serialize.write_file(path, outcomes, self.results.model.value_keys, self._last_summary)
        except (OSError, ValueError) as exc:
            self._status(f"Could not export: {exc}")
            return 0
        self._status(f"Exported {fmt.count(n)} results to {path}.")
        return n

    # -- drops anywhere in the window go to the files -------------------------
    def dragEnterEvent(self, event) -> None:
        self.files.dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:
        self.files.dragMoveEvent(event)

    def dropEvent(self, event) -> None:
        self.files.dropEvent(event)

    # -- settings -----------------------------------------------------------
    def save_settings(self) -> None:
        s = self.settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        s.setValue("window/main_split", self.main_split.saveState())
        s.setValue("window/right_split", self.right.saveState())
        s.setValue("window/plots_split", self.plots.saveState())
        s.setValue("files/last_folder", self.files.last_folder)
        plugin = self.task.current_plugin()
        if plugin is not None:
            s.setValue("task/plugin", plugin.name)
            kind_file = plugin.source if os.path.isfile(str(plugin.source or "")) else ""
            s.setValue("task/plugin_file", kind_file)
        cfg.set_json(s, "task/params", self.task.stored_values())
        opts = self.backend
        s.setValue("backend/name", opts.backend_name())
        s.setValue("backend/workers", opts.workers.value())
        s.setValue("backend/chunk", opts.chunk.value())
        s.setValue("backend/timeout", opts.timeout.value())
        s.setValue("backend/ordered", opts.ordered.isChecked())
        s.sync()

    def restore_settings(self) -> None:
        s = self.settings
        geometry = s.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)
        for key, splitter in (
            ("window/main_split", self.main_split),
            ("window/right_split", self.right),
            ("window/plots_split", self.plots),
        ):
            state = s.value(key)
            if isinstance(state, QByteArray) and not state.isEmpty():
                splitter.restoreState(state)
        if not isinstance(s.value("window/main_split"), QByteArray):
            self.main_split.setSizes([400, 880])
            self.right.setSizes([560, 220])
        self.files.last_folder = cfg.get_str(s, "files/last_folder")
        plugin_file = cfg.get_str(s, "task/plugin_file")
        if plugin_file and os.path.isfile(plugin_file):
            self.task.load_plugin_file(plugin_file)
        self.task.set_stored_values(cfg.get_json(s, "task/params", {}) or {})
        name = cfg.get_str(s, "task/plugin")
        if name:
            self.task.select(name, plugin_file or None) or self.task.select(name)
        self.backend.set_options(
            cfg.get_str(s, "backend/name", "processes"),
            cfg.get_int(s, "backend/workers", 0),
            cfg.get_int(s, "backend/chunk", 0),
            cfg.get_float(s, "backend/timeout", 0.0),
            cfg.get_bool(s, "backend/ordered", False),
        )

    # -- closing ------------------------------------------------------------
    def confirm_close(self) -> bool:
        """Ask before closing during a run (tests replace this)."""
        answer = QMessageBox.question(
            self,
            "Stop the run?",
            f"{self._run_label} is still running.\nCancel it and close Poolside?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.bridge.running:
            if not self.confirm_close():
                event.ignore()
                return
            self._status("Cancelling before closing…")
            self.bridge.cancel()
            # The engine's cancel is prompt (process workers are killed), and its
            # callbacks never wait on this thread, so waiting here cannot deadlock.
            if not self.bridge.wait(timeout=30):
                self._status("The run did not stop in time.")
        self.bridge.shutdown()  # the run host and its workers end with the window
        self.files.scanner.shutdown()
        self.cores.plot.stop()
        self.save_settings()
        event.accept()
        super().closeEvent(event)

    # -- misc ---------------------------------------------------------------
    def _status(self, text: str) -> None:
        self.statusBar().showMessage(text)

    def show_details(self) -> CrashDialog:
        """Help ▸ Diagnostic details: versions, the machine and the last log lines to copy."""
        dialog = CrashDialog(details(), crashed=False, parent=self)
        dialog.open()
        return dialog

    def _about(self) -> None:
        QMessageBox.about(
            self,
            "About Poolside",
            "<b>Poolside</b><br>Run one task over many files on threads or processes, "
            "watch the cores work, and learn which backend wins.",
        )
