"""The verdict: what limits the task, what to use, why, whether the lead is real, and what it predicts.

    StudyResult ──► recommendation + why, noise, the whole job's forecast, diagnosis,
                    the scaling model (fitted, when workers varied over 3 counts or more:
                    its sentence on the "what if" line's tooltip)
                    and its "what if N workers" field (the model's refits, from the record:
                    nothing is run or fitted here)
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QSpinBox, QWidget

from poolside.study import Config, StudyResult
from poolside.study.scaling import UslFit
from poolside.words.configs import config_label
from poolside.words.study import (
    diagnosis_sentence,
    fit_sentence,
    forecast_basis,
    forecast_sentence,
    note,
    prediction_sentence,
    scaling_brief,
    scaling_sentence,
    sentence,
)


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
        self.forecast = QLabel(self)
        self._model: UslFit | None = None
        self._brief = ""
        self.what_if_row = QWidget(self)
        what_if_label = QLabel("What if workers:", self.what_if_row)
        self.what_if = QSpinBox(self.what_if_row)
        self.what_if.setRange(1, 4096)
        self.what_if.setAccessibleName("What if workers")
        self.what_if.setToolTip("A worker count the study did not measure: the scaling model's prediction")
        what_if_label.setBuddy(self.what_if)
        self.what_if_result = QLabel(self.what_if_row)
        self.what_if.valueChanged.connect(self._predict)
        what_if_lay = QHBoxLayout(self.what_if_row)
        what_if_lay.setContentsMargins(0, 0, 0, 0)
        what_if_lay.addWidget(what_if_label)
        what_if_lay.addWidget(self.what_if)
        what_if_lay.addWidget(self.what_if_result, 1)
        for label in (self.diagnosis, self.recommendation, self.why, self.noise, self.notes, self.forecast,
                      self.what_if_result):
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
        for row, w in enumerate(self._rows()[1:], start=1):
            lay.addWidget(w, row, 0, 1, 2)
        lay.setColumnStretch(0, 1)
        self.clear()

    def _rows(self) -> tuple[QWidget, ...]:
        return (self.recommendation, self.why, self.noise, self.forecast, self.diagnosis, self.what_if_row,
                self.notes)

    def clear(self, text: str = "The verdict appears here when a study ends.") -> None:
        self._recommendation = None
        self._model = None
        self.recommendation.setText(html.escape(text))
        for w in self._rows()[1:]:
            if isinstance(w, QLabel):
                w.clear()
            w.hide()
        self.what_if_result.clear()
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
        labels = [w for w in self._rows() if isinstance(w, QLabel)]
        labels.insert(labels.index(self.notes), self.what_if_result)
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
        self._show_forecast(study)
        self._show_scaling(study)
        self.use_button.setEnabled(True)
        self.code_button.setEnabled(True)

    def _show_forecast(self, study: StudyResult) -> None:
        f = study.forecast
        self._show(self.forecast, "" if f is None else f"Whole job: <b>{html.escape(forecast_sentence(f))}</b>.")
        # What it rests on, on demand: the verdict stays a few lines at 1024x768.
        self.forecast.setToolTip("" if f is None else sentence(f"a forecast {forecast_basis(f)}"))

    def _show_scaling(self, study: StudyResult) -> None:
        model = study.scaling.get("model")
        self._model = UslFit.from_dict(model) if model else None
        self._brief = scaling_brief(model) if model else ""
        self.what_if_result.setToolTip(f"Scaling: {sentence(scaling_sentence(model))}" if model else "")
        self.what_if_row.setVisible(self._model is not None)
        if self._model is None:
            self.what_if_result.clear()
        else:
            self.what_if.blockSignals(True)
            self.what_if.setValue(self._model.workers[-1] * 4)
            self.what_if.blockSignals(False)
            self._predict(self.what_if.value())

    def _predict(self, workers: int) -> None:
        if self._model is not None:
            text = f"{prediction_sentence(self._model.predict(workers))}; {self._brief}"
            self.what_if_result.setText(html.escape(sentence(text)))

    def _show(self, label: QLabel, text: str) -> None:
        label.setText(text)
        label.setVisible(bool(text))

    def _use(self) -> None:
        if self._recommendation is not None:
            self.useSettings.emit(self._recommendation)

    def _copy(self) -> None:
        if self._recommendation is not None:
            self.copyCode.emit(self._recommendation)
