"""The verdict: what kind of task this is, what to use, why, and whether the lead is real."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QWidget

from poolside.study import Config, StudyResult
from poolside.words.configs import config_label
from poolside.words.study import diagnosis_sentence, fit_sentence, note, sentence


def _evidence_text(evidence: Mapping[str, Any]) -> str:
    parts = []
    for key, value in evidence.items():
        shown = f"{value:.3g}" if isinstance(value, float) else str(value)
        parts.append(f"{key.replace('_', ' ')}: {shown}")
    return " · ".join(parts)


class VerdictPanel(QWidget):
    """Diagnosis, recommendation and its why; **Use these settings** hands the configuration on,
    **Copy as code** asks for it as a script."""

    #: The recommended configuration (a poolside.study.Config).
    useSettings = Signal(object)
    #: **Copy as code** for the recommended configuration (shown where the job is known: ``offer_code``).
    copyCode = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._recommendation: Config | None = None
        self.diagnosis = QLabel(self)
        self.recommendation = QLabel(self)
        self.why = QLabel(self)
        self.noise = QLabel(self)
        self.noise.setProperty("role", "warning")
        self.notes = QLabel(self)
        self.notes.setProperty("role", "hint")
        for label in (self.diagnosis, self.recommendation, self.why, self.noise, self.notes):
            label.setWordWrap(True)
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.use_button = QPushButton("Use these settings", self)
        self.use_button.setAccessibleName("Use these settings")
        self.use_button.setToolTip("Set the Run tab's backend, workers, chunk size and method to the recommendation")
        self.use_button.clicked.connect(self._use)
        self.code_button = QPushButton("Copy as code", self)
        self.code_button.setAccessibleName("Copy as code")
        self.code_button.setToolTip("Copy a Python script that runs this job as recommended, with the library\n"
                                    "itself (no Poolside needed): paste it into your own code")
        self.code_button.clicked.connect(self._copy)
        self.code_button.hide()
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(self.code_button)
        buttons.addWidget(self.use_button)
        lay = QGridLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setVerticalSpacing(4)
        lay.addWidget(self.recommendation, 0, 0)
        lay.addLayout(buttons, 0, 1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        for row, w in enumerate((self.why, self.noise, self.diagnosis, self.notes), start=1):
            lay.addWidget(w, row, 0, 1, 2)
        lay.setColumnStretch(0, 1)
        self.clear()

    def clear(self, text: str = "The verdict appears here when a study ends.") -> None:
        self._recommendation = None
        self.recommendation.setText(html.escape(text))
        for label in (self.why, self.noise, self.diagnosis, self.notes):
            label.clear()
            label.hide()
        self.use_button.setEnabled(False)
        self.code_button.setEnabled(False)

    def offer_code(self, offer: bool) -> None:
        """Show **Copy as code** (where the job behind the study is at hand)."""
        self.code_button.setVisible(offer)

    @property
    def recommended(self) -> Config | None:
        return self._recommendation

    def text(self) -> str:
        """Everything the panel says, as plain text (tests, the clipboard)."""
        labels = (self.recommendation, self.why, self.noise, self.diagnosis, self.notes)
        return "\n".join(label.text() for label in labels if label.isVisible() or label.text())

    def show_study(self, study: StudyResult) -> None:
        rec, diagnosis = study.recommendation, study.diagnosis
        if rec is None:
            self.clear("The study ended without a recommendation.")
            return
        self._recommendation = rec.config
        if rec.config.sequential:
            self.recommendation.setText("Stay <b>sequential</b>: no parallel configuration ran faster.")
        else:
            self.recommendation.setText(
                f"Use <b>{html.escape(config_label(rec.config))}</b>: {rec.speedup:.2f}× as fast as sequential.")
        self._show(self.why, html.escape(rec.why))
        self._show(self.noise, "" if study.significant else
                   "<b>Not significant</b>: its lead over the runner-up is within the noise of the repeats; "
                   "either would do.")
        kind = diagnosis.kind if diagnosis is not None else ""
        self._show(self.diagnosis, f"Diagnosis: <b>{html.escape(kind)}</b>. "
                                   f"{html.escape(diagnosis_sentence(kind))}" if kind else "")
        # The evidence is a dozen numbers: on demand (hover), so the verdict stays three lines.
        evidence = _evidence_text(diagnosis.evidence if diagnosis is not None else {})
        self.diagnosis.setToolTip(f"Evidence: {evidence}" if evidence else "")
        notes = [sentence(note(n)) for n in study.notes]
        if "memory_fit" in rec.reasons:  # "Will N workers fit?": what the pick needs, and how many fit
            notes.insert(0, sentence(fit_sentence(rec.reasons["memory_fit"])))
        self._show(self.notes, html.escape(" ".join(notes)))
        self.use_button.setEnabled(True)
        self.code_button.setEnabled(True)

    def _show(self, label: QLabel, text: str) -> None:
        label.setText(text)
        label.setVisible(bool(text))

    def _use(self) -> None:
        if self._recommendation is not None:
            self.useSettings.emit(self._recommendation)

    def _copy(self) -> None:
        if self._recommendation is not None:
            self.copyCode.emit(self._recommendation)
