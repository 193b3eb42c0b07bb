"""The Compare workspace: the Run tab's files and task under many configurations, and the verdict.

    RunWorkspace.job_spec() ─┐
    CompareForm.plan_fields()┴─► StudyPlan ─► StudyClient.start ─► on_progress ─► progress line
                                                                ─► on_round ────► StudyModel ─► StudyView
                                                                   (each round's numbers so far, re-sorted once a round)
                                                                ─► on_finished ─► StudyModel.finish, studyFinished
    StudyView.useSettings ─► RunWorkspace.use_settings (backend, workers, chunk size, method, library threads)
    StudyView.copyCode ────► study.snippet over the study's job ─► the clipboard

The files and the task are the Run workspace's own (not copies): a study
compares exactly the job the Run tab would run.
"""

from __future__ import annotations

import dataclasses
import html
import re
from typing import Any

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QSplitter, QVBoxLayout, QWidget

from poolside.spec import JobSpec, SpecError
from poolside.study import Config, Progress, Round, StudyPlan, StudyResult
from poolside.words import units as fmt
from poolside.words.configs import config_label
from poolside.words.study import PHASES

from ...a11y import name_controls
from ...study.model import StudyModel
from ...study.view import StudyView
from ...widgets.group import group
from ..base import Workspace
from .client import StudyClient
from .form import CompareForm, GridError


class CompareWorkspace(Workspace):
    """Start, watch and cancel a study of the Run tab's job.  ``studyFinished(record or None)`` ends each."""

    title = "Compare"
    studyStarted = Signal()
    studyFinished = Signal(object)
    #: **Use these settings** was pressed and the Run tab now has them (the configuration).
    settingsUsed = Signal(object)

    def __init__(self, run: Any, client: StudyClient, backends: list[Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.run = run
        self.client = client
        self._busy = False
        self._cancelled = False
        self._label = ""
        self.study = StudyModel(self)
        self.form = CompareForm(backends, self)
        self.job = QLabel(self)
        self.job.setWordWrap(True)
        self.start_button = QPushButton("Start", self)
        self.start_button.setObjectName("runButton")
        self.start_button.setToolTip("Run the study: every configuration over the same sample of the files")
        self.start_button.clicked.connect(self.start_study)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setToolTip("Stop the study; what was measured so far stays on the chart")
        self.cancel_button.clicked.connect(self.cancel_study)
        self.bar = QProgressBar(self)
        self.bar.setFormat("%v / %m")
        self.bar.setAccessibleName("Study progress")
        self.line = QLabel(self)
        self.line.setObjectName("headline")
        self.line.setWordWrap(True)
        self.view = StudyView(self.study, self)
        self.view.useSettings.connect(self.use_settings)
        self.view.copyCode.connect(self.copy_code)
        self.view.offer_code(True)
        self._spec: JobSpec | None = None  # the job of the study shown: what Copy as code writes
        # Progress lines are shown once per event-loop turn, the newest: a study can send
        # several per tick, and each cost ~1.5 ms (QProgressBar.setValue repaints at once).
        self._progress_timer = QTimer(self)
        self._progress_timer.setSingleShot(True)
        self._progress_timer.setInterval(0)
        self._progress_timer.timeout.connect(self._show_progress)
        self._lay_out()
        run.jobChanged.connect(self._update_job)
        self._update_job()
        self._set_busy(False)
        self.line.setText("Compare backends on your own files: choose what to try and press <b>Start</b>.")
        name_controls(self)

    def _lay_out(self) -> None:
        left = QWidget()
        left_lay = QVBoxLayout(left)
        left_lay.setContentsMargins(0, 0, 4, 0)
        left_lay.addWidget(group("Job (from the Run tab)", self.job))
        left_lay.addWidget(group("What to compare", self.form))
        left_lay.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.bar, 1)
        right = QWidget()
        right_lay = QVBoxLayout(right)
        right_lay.setContentsMargins(4, 0, 0, 0)
        right_lay.addLayout(buttons)
        right_lay.addWidget(self.line)
        right_lay.addWidget(self.view, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        split.setSizes([320, 960])
        split.setChildrenCollapsible(False)
        self.split = split
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 4)
        lay.addWidget(split)

    # -- state --------------------------------------------------------------
    def is_busy(self) -> bool:
        return self._busy

    def busy_text(self) -> str:
        return f"A comparison of {self._label} is still running." if self._busy else ""

    def done_text(self) -> str:
        record = self.study.record
        if record is None or record.cancelled or record.recommendation is None:
            return f"The comparison of {self._label} ended without a verdict."
        return f"Comparison of {self._label}: use {config_label(record.recommendation.config)}."

    def _set_busy(self, busy: bool) -> None:
        changed = busy != self._busy
        self._busy = busy
        self.form.set_busy(busy)
        self.start_button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)
        if changed:
            self.busyChanged.emit(busy)

    def _update_job(self) -> None:
        spec, problems = self.run.job_spec(show=False)
        if spec is None:
            self.job.setText(f"<i>{html.escape(problems[0])}</i> Set the files and the task in the Run tab.")
        else:
            n = len(spec.paths)
            self.job.setText(f"<b>{html.escape(self.run.plugin().name)}</b> over {fmt.count(n)} "
                             f"file{'s' if n != 1 else ''}. Change them in the Run tab.")

    # -- the study ----------------------------------------------------------
    def plan(self) -> StudyPlan | None:
        """The plan the form and the Run tab describe, or ``None`` (and why, on the progress line)."""
        spec, problems = self.run.job_spec(show=False)
        if spec is None:
            self._say(f"Cannot compare yet: {problems[0]}")
            return None
        try:
            fields = self.form.plan_fields()
        except GridError as exc:
            self._say(f"Cannot compare yet: {exc}")
            return None
        return StudyPlan(spec, fields["mode"], tuple(fields.get("backends", ())), tuple(fields.get("workers", ())),
                         tuple(fields.get("chunk_sizes", ("auto",))), tuple(fields.get("methods", (None,))),
                         fields["sample"], fields["repeats"], fields["budget_s"],
                         max_memory=fields.get("max_memory"))

    def start_study(self) -> bool:
        if self._busy or self.client.running:
            return False
        plan = self.plan()
        if plan is None:
            return False
        plugin = self.run.plugin()
        effects = str(getattr(plugin, "side_effects", "") or "")
        if effects:
            if not self.confirm_side_effects(plugin.name, effects):
                self._say("Not started: the task's side effects were not confirmed.")
                return False
            plan = dataclasses.replace(plan, allow_side_effects=True)
        self._label = f"{plan.spec.plugin} over {fmt.count(len(plan.spec.paths))} files"
        self._spec = plan.spec
        self._cancelled = False
        self.study.clear()
        self.bar.setRange(0, 0)
        self._set_busy(True)
        self._say(f"Starting a comparison of {html.escape(self._label)}…")
        try:
            self.client.start(plan, self._on_progress, self._on_round, self._on_finished)
        except Exception as exc:
            self._on_finished(None, f"could not start: {exc}", None)
            return False
        self.studyStarted.emit()
        return True

    def confirm_side_effects(self, name: str, effects: str) -> bool:
        """Ask before a study repeats what a task does beyond its outputs (tests replace this)."""
        from PySide6.QtWidgets import QMessageBox

        answer = QMessageBox.question(
            self, "Repeat the task's side effects?",
            f"{name} {effects}, and a comparison runs it many times over.\nGo ahead?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def cancel_study(self) -> None:
        if self._busy and not self._cancelled:
            self._cancelled = True
            self.cancel_button.setEnabled(False)
            self._say("Cancelling the study…")
            self.client.cancel()

    def stop(self, timeout: float = 30.0) -> bool:
        self.cancel_study()
        wait = getattr(self.client, "wait", None)
        return bool(wait(timeout)) if wait is not None else not self.client.running

    def shutdown(self) -> None:
        """The window is closing: the study host ends, and every process under it."""
        shutdown = getattr(self.client, "shutdown", None)
        if shutdown is not None:
            shutdown()

    def _on_progress(self, p: Progress) -> None:
        self.study.set_progress(p)
        if not self._progress_timer.isActive():
            self._progress_timer.start()

    def _show_progress(self) -> None:
        p = self.study.progress
        if p is None:
            return
        self.bar.setRange(0, max(p.runs_planned, 0))
        self.bar.setValue(min(p.runs_done, p.runs_planned))
        repeat = f", repeat {p.repeat} of {p.repeats}" if p.phase == "repeat" else ""
        self._say(f"Measuring <b>{html.escape(progress_label(p))}</b>{repeat}…")

    def _on_round(self, rnd: Round) -> None:
        self.study.set_round(rnd)

    def _on_finished(self, record: StudyResult | None, error: str | None, history_error: str | None) -> None:
        self._progress_timer.stop()  # a progress line still to show would hide how the study ended
        self._set_busy(False)
        ended = record is not None and not record.cancelled
        if ended:
            self.bar.setRange(0, max(self.bar.maximum(), 1))
            self.bar.setValue(self.bar.maximum())
        elif self.bar.maximum() == 0:
            self.bar.setRange(0, 1)
        self.study.finish(record)
        if error:
            self._say(f"The study failed: {html.escape(error)}")
        elif not ended:
            self._say(f"Cancelled: {len(self.study.configs())} configurations measured, no verdict.")
        else:
            assert record is not None
            self._say(f"Done: {len(record.configs)} configurations of {html.escape(self._label)} measured.")
        if history_error:
            self._say(f"{self.line.text()} It could not be kept in the History: {html.escape(history_error)}")
        self.studyFinished.emit(record)

    def use_settings(self, config: Config) -> None:
        self.run.use_settings(config.backend, config.workers, config.chunk_size, config.method,
                              config.library_threads)
        self.settingsUsed.emit(config)

    def copy_code(self, config: Config) -> str | None:
        """The recommended configuration as a script (``poolside.study.snippet``), on the clipboard; its text."""
        from PySide6.QtWidgets import QApplication

        from poolside.study.snippet import SnippetError, snippet

        record = self.study.record
        if self._spec is None or record is None or record.recommendation is None:
            return None
        rec = record.recommendation
        try:
            items = list(self._spec.prepare().items)  # the job's files, walked again as the study walked them
            text = snippet(self._spec, config, items, headline=f"Recommended: {config_label(config)}, "
                                                               f"{rec.speedup:.2f}× sequential.\n{rec.why}")
        except (SnippetError, SpecError) as exc:
            self._say(f"No script: {html.escape(str(exc))}")
            return None
        QApplication.clipboard().setText(text)
        self._say(f"Copied a script that runs {html.escape(config_label(config))} over "
                  f"{fmt.count(len(items))} files to the clipboard ({fmt.count(text.count(chr(10)))} lines); "
                  "it needs the task and its library, not Poolside.")
        return text

    def _say(self, text: str) -> None:
        self.line.setText(text)
        self.message.emit(_plain(text))

    # -- settings -----------------------------------------------------------
    def save_settings(self, s: QSettings) -> None:
        self.form.save_settings(s)

    def restore_settings(self, s: QSettings) -> None:
        self.form.restore_settings(s)


def progress_label(p: Progress) -> str:
    """The step a study is at: a phase, or the configuration measured (and why, unless a repeat)."""
    if p.config is None:
        return PHASES.get(p.phase, p.phase)
    return config_label(p.config) + ("" if p.phase == "repeat" else f" ({p.phase})")


def _plain(rich: str) -> str:
    """Rich text as a status bar line."""
    return html.unescape(re.sub(r"<[^>]+>", "", rich))
