"""The Run workspace: builds a :class:`~poolside.spec.JobSpec` from its panels and runs it.

    FilesPanel ─┐
    TaskPanel  ─┼─ job_spec() ─► RunBridge.start_spec ─► outcomesReady ─► ResultsPanel, TimelinePlot
    BackendPanel┘                                      ─► progressChanged ─► ProgressPanel
                                                       ─► finished ─► ProgressPanel, runFinished
    RunMonitor (CPU, memory) ─► recentReady ─► CoresPanel
                             ─► end_run() ─► SeriesStore (into the history, with the run)
                             ─► runReady ─► CoresPanel, TimelinePlot (GIL-bound bars)

Every panel is asked through what it offers (signals, small methods), never
through its children; each keeps its own settings.

The panels stay editable while a run is going (the next job is set up there and
queued), so nothing about the running run reads them once it has started: it is
:class:`RunningJob`, kept at the start (spec, task name, label), and the results'
columns, the forecast and the history got theirs from the spec at the start too.
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QStyle, QWidget

from poolside.backends import runs_in_caller
from poolside.backends.dask import cluster_address
from poolside.records import Status
from poolside.spec import JobSpec, SpecError
from poolside.words import units as fmt
from poolside.words.cluster import cluster_line
from poolside.words.configs import config_label
from poolside.words.runs import summary_line

from ...a11y import name_controls
from ...widgets.backend_panel import BackendPanel
from ...widgets.cores_panel import CoresPanel
from ...widgets.timeline import TimelinePlot
from ..base import Workspace
from .controls import RunControls
from .exports import RunExports
from .field_escape import FieldEscape
from .files_panel import FilesPanel
from .layout import arrange
from .preview_view import PreviewDialog, RunPreview
from .progress_panel import ProgressPanel, output_folder, was_cancelled
from .results_panel import ResultsPanel, WindowMenu
from .run_monitor import RunMonitor
from .run_queue import RunQueue
from .series_store import SeriesStore
from .task_panel import TaskPanel
from .watch_mode import WatchMode


@dataclass(frozen=True)
class RunningJob:
    """What the run going now was started with, whatever the panels show meanwhile."""

    spec: JobSpec
    task: str  # the task's name, as the window's title shows it
    items: int
    label: str  # "sha256 over 12 files"


NEXT_JOB_HINT = "Change the files or settings and Add to Queue to run them next."


class RunWorkspace(Workspace):
    """One run at a time over the chosen files.  ``runFinished(summary)`` follows every run."""

    title = "Run"
    runStarted = Signal()
    runFinished = Signal(object)
    #: The files, the task or its parameters changed (what a comparison would run).
    jobChanged = Signal()
    #: Folders were added to the files (absolute paths), however they came.
    foldersAdded = Signal(list)

    def __init__(self, bridge: Any, plugins: tuple[list, list], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self._label = ""
        self._job: RunningJob | None = None
        self._summary: Any = None
        self._busy = False
        self._make_actions()
        self.files = FilesPanel(self)
        self.task = TaskPanel(self)
        self.backend = BackendPanel(self)
        self.cores = CoresPanel(self)
        self.progress = ProgressPanel(self.run_action, self.cancel_action, self, controls=self.controls.actions())
        self.preview_button = self.progress.add_action_button(self.preview_action)
        self.preview = RunPreview(self, job=self._job_to_preview, run=self.start_run, bridge=self.bridge)
        self.preview.message.connect(self.message)
        self.queue = RunQueue(self, self)
        self.watch = WatchMode(self, self)
        self.results = ResultsPanel(self)
        self.timeline = TimelinePlot(self)
        self.layout_ = arrange(self, files=self.files, task=self.task, backend=self.backend, cores=self.cores,
                               progress=self.progress, queue=self.queue.panel, results=self.results,
                               timeline=self.timeline)
        self.cpu_monitor = RunMonitor(self, pids=bridge.pid_source())  # the run host's processes
        self.exports = RunExports(self.results, self.cpu_monitor, summary=lambda: self._summary,
                                  folder=lambda: self.files.last_folder or None, parent=self)
        export_menu = WindowMenu(self)
        export_menu.addActions(self.exports.actions())
        self.results.set_export_menu(export_menu)
        self.series_store = SeriesStore()  # each run's series, kept with the run in the history
        self._in_process = False
        self._job_origin_known = False
        self._field_escape = FieldEscape([self.files, self.task, self.backend], self)  # Esc there is no Cancel
        self._wire()
        self.task.add_plugins(list(plugins[0]), list(plugins[1]))
        self._set_busy(False)
        name_controls(self)
        QTimer.singleShot(0, self.queue.offer)  # jobs queued in an earlier session: asked once the window is up

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
        self.preview_action = QAction("Preview", self)
        self.preview_action.setShortcut(QKeySequence("Ctrl+Shift+R"))
        self.preview_action.setToolTip("What Run would do, without doing it: the files, each output's name and "
                                       "collision, what the filter skips, and the predicted duration (Ctrl+Shift+R)")
        self.preview_action.triggered.connect(self.show_preview)
        self.addActions([self.run_action, self.cancel_action, self.preview_action])
        self.controls = RunControls(self.bridge, self)
        self.controls.changed.connect(
            lambda text: self.progress.set_headline(text.format(label=html.escape(self._label))))

    def _wire(self) -> None:
        self.files.message.connect(self.message)
        self.files.changed.connect(lambda *_: self.jobChanged.emit())
        self.files.foldersAdded.connect(self.foldersAdded)
        self.task.message.connect(self.message)
        self.exports.message.connect(self.message)
        self.task.pluginChanged.connect(self._on_plugin)
        self.task.valuesChanged.connect(self.jobChanged)
        self.bridge.outcomesReady.connect(self._on_outcomes)
        self.bridge.progressChanged.connect(self.progress.update_progress)
        self.bridge.finished.connect(self._on_finished)
        self.bridge.startFailed.connect(self._on_start_failed)
        self.results.rowsChanged.connect(self._update_export)
        self.files.cleared.connect(self._forget_run)
        self.cpu_monitor.recentReady.connect(self.cores.show_recent)
        self.cpu_monitor.runReady.connect(self._on_run_series)

    def choose_plugin_file(self) -> None:
        self.task.choose_plugin_file()

    def run_actions(self) -> list[QAction]:
        """The Run menu: run, cancel, preview, and the live run's controls."""
        return [self.run_action, self.cancel_action, self.preview_action, *self.controls.actions(),
                self.queue.add_action,
                self.watch.action]

    def export_actions(self) -> list[QAction]:
        """Export Results as CSV/JSON…, Export Timeline…: for the window's File menu."""
        return self.exports.actions()

    def file_actions(self) -> list[QAction]:
        """The Files panel's actions, for the window's File menu."""
        f = self.files
        return [f.add_files_action, f.add_folder_action, f.remove_action, f.clear_action]

    # -- the job --------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.bridge.running

    def is_busy(self) -> bool:
        return self._busy or self.bridge.running

    def busy_text(self) -> str:
        return f"{self._label} is still running." if self.is_busy() else ""

    def done_text(self) -> str:
        s = self._summary
        return f"{self._label}: {summary_line(s)}" if s is not None else f"{self._label} ended."

    def job_spec(self, *, show: bool = True, unloaded: bool = False) -> tuple[JobSpec | None, list[str]]:
        """The job the panels describe, or ``None`` and why not (shown in the Task panel if ``show``).

        A job whose plugin file is not loaded yet is ``None`` (callers use ``plugin()``) unless
        ``unloaded``: then its parameters come as recorded, unchecked, since checking imports the file."""
        plugin: Any
        values: dict[str, Any]
        problems: list[str]
        pending = self.task.pending()
        if pending is not None and not unloaded:
            return None, ["Run the job, or edit its parameters, to load its plugin file."]
        if pending is not None:
            plugin, values, problems = pending[1], pending[2], []
        else:
            plugin, values, problems = self.task.validate(show=show)
        if not self.files.paths():
            problems = ["Add some files first.", *problems]
        if show:
            self.task.show_problems(problems)
        if problems or plugin is None:
            return None, problems or ["Choose a task first."]
        try:
            spec = JobSpec(self.task.plugin_ref(), paths=tuple(self.files.paths()), params=values,
                           patterns=tuple(self.files.patterns()), **self.backend.spec_fields())
        except SpecError as exc:
            return None, [str(exc)]
        return spec, []

    def plugin(self) -> Any | None:
        return self.task.current_plugin()

    def job_outline(self) -> tuple[str | None, int]:
        """The task's name (None before one is chosen) and how many files there are: the window's title.

        While a run is going, the running job's (the panels may hold the next one)."""
        if self._job is not None and self.is_busy():
            return self._job.task, self._job.items
        pending = self.task.pending()
        plugin = self.task.current_plugin()
        name = pending[1] if pending is not None else getattr(plugin, "name", None)
        return name, len(self.files.paths())

    def add_inputs(self, paths: list[str]) -> None:
        """Files and folders from outside the tab (the command line, Open Recent), as Add Files/Folder take them."""
        self.files.add_paths(paths)
    def queue_entry(self) -> tuple[JobSpec | None, str]:
        """The job as the queue keeps it, and its label ("sha256 over 12 files on threads ×2");
        ``None`` and why when it is not complete."""
        spec, problems = self.job_spec(unloaded=True)  # queueing never imports a plugin file
        if spec is None:
            return None, problems[0]
        n = len(spec.paths)
        name = spec.plugin.rpartition(":")[2]
        config = config_label({"backend": spec.backend, "workers": self.backend.resolved_workers(),
                               "chunk_size": spec.chunk_size})
        return spec, f"{name} over {fmt.count(n)} file{'s' if n != 1 else ''} on {config}"

    def watch_setup(self) -> tuple[JobSpec | None, Any, Any, str]:
        """What a watched folder runs, kept for the whole watch: the job without its files, its plugin,
        the bound task; or None and why not."""
        if not self.task.ensure_loaded():
            return None, None, None, "the plugin file is not loaded"
        plugin, values, problems = self.task.validate(show=True)
        if problems or plugin is None:
            return None, None, None, (problems or ["Choose a task first."])[0]
        try:
            patterns = tuple(self.files.patterns()) or tuple(plugin.accepts)
            spec = JobSpec(self.task.plugin_ref(), params=values, patterns=() if patterns == ("*",) else patterns,
                           **self.backend.spec_fields())
            return spec, plugin, plugin.bind(spec.params), ""
        except Exception as exc:  # a spec or parameters that cannot be: said in the status bar
            return None, None, None, str(exc)

    def last_folder(self) -> str:
        return self.files.last_folder or os.path.expanduser("~")

    def apply_spec(self, spec: JobSpec) -> bool:
        """Show a saved job: its plugin and parameters, its backend, its files."""
        if not self.task.select_ref(spec.plugin):
            self.message.emit(f"The job's task {spec.plugin!r} is not available.")
            return False
        self.task.set_values(dict(spec.params))
        self.backend.apply_spec(spec)
        self.files.clear_action.trigger()
        self.files.add_paths(spec.paths)
        return True

    def use_settings(self, backend: str, workers: int, chunk_size: int | str, method: str | None,
                     library_threads: int | None = None) -> None:
        """Take a configuration (a study's recommendation) into the Backend panel."""
        self.backend.apply(backend=backend, workers=workers, chunk_size=chunk_size, method=method,
                           library_threads=library_threads or 0)
        settings = {"backend": backend, "workers": workers, "chunk_size": chunk_size, "method": method,
                    "library_threads": library_threads}
        self.message.emit(f"Run settings: {config_label(settings)}.")

    def rerun(self, spec: JobSpec, items: list[str]) -> bool:
        """Run ``items`` again with a past run's task and settings (Resume, Re-run failed)."""
        if self.is_busy():
            self.message.emit(f"{self._label} is still running: run these again once it ends.")
            return False
        if not self.apply_spec(spec.replace(paths=tuple(items))):
            return False
        return self.start_run()

    # -- running ------------------------------------------------------------
    def start_run(self) -> bool:
        """Validate everything, then start; False (and why, in the Task panel) if it cannot."""
        if self.is_busy() or not self.task.ensure_loaded():
            return False
        spec, problems = self.job_spec()
        plugin = self.task.current_plugin()
        if spec is None or plugin is None:
            self.message.emit(problems[0])
            return False
        return self.run_job(spec, plugin)

    def run_watched(self, spec: JobSpec, plugin: Any, items: list[str]) -> bool:
        """Run a watched folder's new ``items`` with the job the watch was started with
        (the panels may hold another by now); they are listed in the Files panel too."""
        if self.is_busy():
            return False
        self.files.add_paths(items)
        return self.run_job(spec.replace(paths=tuple(items)), plugin)

    def run_job(self, spec: JobSpec, plugin: Any) -> bool:
        """Start ``spec`` with ``plugin`` bound to its parameters; False (and why) if it cannot bind."""
        try:
            task = plugin.bind(spec.params)
        except Exception as exc:
            self.task.show_problems([str(exc)])
            self.message.emit(str(exc))
            return False
        n = len(spec.paths)
        label = f"{plugin.name} over {fmt.count(n)} file{'s' if n != 1 else ''}"
        started = self.launch(spec, task, list(spec.paths), label, bound=plugin.bound,
                              columns=tuple(getattr(plugin, "columns", ()) or ()), task_name=plugin.name)
        if started:
            self.progress.set_output_folder(output_folder(plugin, dict(spec.params)))
        return started

    def launch(self, spec: JobSpec, task: Any, items: list, label: str, *, bound: str = "mixed",
               columns: tuple[str, ...] = (), task_name: str | None = None) -> bool:
        """Start ``spec`` with its task already bound and its items listed (no validation).

        ``task_name``: the task as the window's title names it (the spec's plugin reference's name if not given)."""
        workers = spec.resolved_workers(bound)
        self.results.prepare(items, columns)
        self.timeline.reset(workers)
        self.progress.set_output_folder(None)
        try:
            self._in_process = runs_in_caller(spec.backend)  # the GIL overlay applies to the run host's threads
        except ValueError:
            self._in_process = False  # an unknown backend: the bridge reports it as startFailed below
        self._job_origin_known = False
        self.cores.run_started()
        self.cores.watch_cluster(cluster_address(spec))
        self.cpu_monitor.begin_run()
        self._summary = None
        self._label = label
        self._job = RunningJob(spec, task_name or spec.plugin.rpartition(":")[2], len(items), label)
        # The configuration as the summary line at the end and the Compare tab name it.
        config = config_label({"backend": spec.backend, "workers": workers, "chunk_size": spec.chunk_size})
        if spec.backend == "dask":  # where it runs and how its files travel
            config += " " + cluster_line(cluster_address(spec), spec.backend_options.get("files", "shared"))
        headline = f"Running <b>{html.escape(label)}</b> on {html.escape(config)}…"
        self.progress.start(len(items), headline)
        self.message.emit(f"Running {label} on {config}…")
        self._set_busy(True)
        # Paint the running state now, before the engine's threads start
        # competing with this one for the GIL.
        self.repaint()
        try:
            self.bridge.start_spec(spec, task=task, items=items, bound=bound)
        except Exception as exc:  # a bug, not bad options (those come as startFailed)
            self._on_start_failed(exc)
            return False
        self.preview.run_started(spec, len(items))  # the ETA starts from the forecast, if there is one
        self.runStarted.emit()
        return True

    # -- the preview --------------------------------------------------------------
    def show_preview(self) -> PreviewDialog | None:
        """Preview: what Run would do (see :class:`RunPreview`); None, and why in the status bar, if it cannot."""
        return self.preview.show()

    def _job_to_preview(self) -> tuple[JobSpec | None, list[str]]:
        if self.is_busy():
            return None, ["A run is going: preview the next one after it."]
        if not self.task.ensure_loaded():  # a job's plugin file: asked about first, as Run does
            return None, []
        return self.job_spec()

    def cancel_run(self) -> None:
        if self.bridge.running and not self.bridge.cancel_requested:
            self.bridge.cancel()
            self.progress.set_headline(f"Cancelling <b>{html.escape(self._label)}</b>…")
            self.message.emit("Cancelling: pending items end as cancelled…")
            self.cancel_action.setEnabled(False)
            self.controls.set_running(True)  # a cancelled run takes no pause or stop

    def stop(self, timeout: float = 30.0) -> bool:
        if not self.bridge.running:
            return True
        self.message.emit("Cancelling before closing…")
        self.bridge.cancel()
        # The engine's cancel is prompt (process workers are killed), and its
        # callbacks never wait on this thread, so waiting here cannot deadlock.
        return bool(self.bridge.wait(timeout=timeout))

    def _on_outcomes(self, batch: list) -> None:
        if not self._job_origin_known and self.bridge.job is not None:
            self._job_origin_known = True
            self.cpu_monitor.set_job_origin(self.bridge.job.started)
        self.results.append(batch)
        self.timeline.add(batch)

    def _on_run_series(self, series: dict) -> None:
        """The run's CPU and memory: the GIL's mark on the timeline, the per-worker view."""
        host = next((p for p in series["processes"] if p["role"] == "host"), None)
        busy = None
        if self._in_process and host is not None:
            busy = self.timeline.busy_threads(host["t"], series["interval_s"])
            self.timeline.set_process_cpu(host["t"], host["cpu"] / 100.0, series["interval_s"])
        self.cores.show_run(series, busy)

    def _on_finished(self, summary: Any) -> None:
        cancelled = was_cancelled(summary, self.bridge.cancel_requested)
        stopped = not cancelled and was_cancelled(summary, self.bridge.stopping)
        self._summary = summary
        self._set_busy(False)
        self.cores.watch_cluster(None)
        series = self.cpu_monitor.end_run(summary)
        self.series_store.save(getattr(self.bridge, "history_id", None), series)
        self.timeline.redraw()
        self.progress.finish(summary, cancelled=cancelled or stopped, label=self._label,
                             peak_memory=series.get("peak_memory", 0.0), stopped=stopped)
        if summary is not None:
            word = "Stopped: " if stopped else "Cancelled: " if cancelled else "Done: "
            self.message.emit(word + summary_line(summary, cancelled=cancelled or stopped))
        problems = (Status.FAILED.value, Status.TIMED_OUT.value)
        bad = 0 if summary is None else sum(summary.counts.get(k, 0) for k in problems)
        if bad and self.results.current_outcome() is None:
            self.results.select_first()
        self.runFinished.emit(summary)
        if self.watch.waiting():  # files written in the watched folder meanwhile: they come first
            QTimer.singleShot(0, self.watch.run_waiting)
        else:
            self.queue.run_ended(went_on=summary is not None and not cancelled and not stopped)

    def _forget_run(self) -> None:
        """Clear: the file list is gone, and so are the last run's results and pictures."""
        if self.is_busy():
            return
        self.results.clear()
        self.timeline.reset()
        self.progress.set_output_folder(None)
        self._summary = None
        self.progress.set_idle("Ready. Add files, choose a task and press <b>Run</b> (Ctrl+R).")
        self._update_export()

    def _on_start_failed(self, error: BaseException) -> None:
        self._set_busy(False)
        self.cores.watch_cluster(None)
        self.task.show_problems([f"Could not start: {error}"])
        self.progress.set_idle(f"Could not start <b>{html.escape(self._label)}</b>: {html.escape(str(error))}")
        self.message.emit(f"Could not start: {error}")
        self.runFinished.emit(None)
        self.queue.run_ended(went_on=False)

    def _set_busy(self, busy: bool) -> None:
        changed = busy != self._busy
        self._busy = busy
        # The Files, Task and Backend panels stay editable: the next job is set up there and queued.
        self.progress.set_note(NEXT_JOB_HINT if busy else "")
        self.cancel_action.setEnabled(busy)
        self.run_action.setEnabled(not busy)
        self.preview_action.setEnabled(not busy)
        self.controls.set_running(busy)
        self.queue.panel.set_busy(busy)
        self._update_export()
        if changed:
            self.busyChanged.emit(busy)

    def _update_export(self, *_args) -> None:
        enabled = not self.is_busy() and self.results.row_count() > 0
        self.exports.set_enabled(enabled)
        self.results.set_export_enabled(enabled)

    def _on_plugin(self, plugin: Any) -> None:
        if plugin is not None:
            self.backend.set_bound(plugin.bound)
            self.files.set_patterns(plugin.accepts)
        name_controls(self.task)  # the parameter form was rebuilt
        self.jobChanged.emit()

    # -- settings and drops ---------------------------------------------------
    def save_settings(self, s: QSettings) -> None:
        self.layout_.save(s)
        for panel in (self.files, self.task, self.backend):
            panel.save_settings(s)

    def restore_settings(self, s: QSettings) -> None:
        self.exports.settings = s
        self.layout_.restore(s)
        for panel in (self.files, self.task, self.backend):
            panel.restore_settings(s)

    def warm(self) -> None:
        """The window is up: start what a first run would otherwise wait for (the forecast's thread)."""
        self.preview.warm()

    def shutdown(self) -> None:
        self.preview.shutdown()
        self.watch.stop()
        self.files.shutdown()
        self.backend.shutdown()
        self.cores.shutdown()
        self.cpu_monitor.stop()
        self.series_store.close()

    def drop_target(self) -> QWidget:
        return self.files
