"""The Run tab's Preview: what Run would do, one click before it, and the duration the ETA starts from.

    Preview (button, Ctrl+Shift+R) ─► RunWorkspace.job_spec() ─► PreviewWorker.preview(spec)
        worker thread: poolside.preview.preview(spec) ──BatchPump.close(result)──► ready(Preview | str)
        └─► PreviewDialog: poolside.words.preview lines, the forecast on top; Run / Close
    Run ─► PreviewWorker.predict(spec, n): the history's forecast only ──► predicted(dict | None)

The walk, the output names and the history are read on a worker thread (a
folder of a million files, Pillow reading image headers) and the result comes
back through :mod:`gui.pump`.  Only a plugin already loaded in this window is
used: a job's plugin file is imported after the Run tab's consent
(``TaskPanel.ensure_loaded``), never here.  The thread is stopped and joined
when the window closes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from poolside.log import get_logger
from poolside.spec import JobSpec, SpecError
from poolside.words.preview import forecast_line, preview_lines

from ...a11y import name_controls
from ...pump import BatchPump

_log = get_logger(__name__)

#: Items, outputs and skipped entries listed in the dialog (the counts above them are whole).
SHOWN = 500


class PreviewWorker(QObject):
    """Computes previews and forecasts off the GUI thread, one at a time; the latest request wins."""

    #: A :class:`poolside.preview.Preview`, or the reason (text) the job cannot be previewed.
    ready = Signal(object)
    #: ``(spec, forecast dict or None)``: the history's prediction for a run about to start.
    predicted = Signal(object, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pump = BatchPump(self, interval_ms=30)
        self._pump.drained.connect(self._on_drained)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    @property
    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def preview(self, spec: JobSpec) -> None:
        from poolside.preview import preview

        self._start(lambda stop: ("preview", spec, preview(spec, limit=SHOWN, stop=stop)))

    def predict(self, spec: JobSpec, items: int) -> None:
        from poolside.preview import predict

        self._start(lambda _stop: ("predict", spec, predict(spec, items)[0]))

    def _start(self, work: Callable[[Callable[[], bool]], tuple[str, JobSpec, Any]]) -> None:
        self.shutdown()  # the previous one, if any: its answer is for a job that changed
        self._stop = threading.Event()
        self._pump.start()
        _push, close = self._pump.sink()
        stop = self._stop

        def run() -> None:
            try:
                close(work(stop.is_set))
            except SpecError as e:  # the job as it stands cannot run: the dialog says why
                close(("error", None, str(e)))
            except Exception as e:  # a bug or a plugin's output_name failing wholesale: said, and logged
                _log.error("the preview failed", exc_info=e)
                close(("error", None, f"{type(e).__name__}: {e}"))

        self._thread = threading.Thread(target=run, name="poolside-preview", daemon=True)
        self._thread.start()

    def _on_drained(self, result: Any) -> None:
        kind, spec, value = result
        if kind == "predict":
            self.predicted.emit(spec, value)
        else:
            self.ready.emit(value)

    def shutdown(self) -> None:
        """Stop the walk between two items and wait for the thread (a walk checks often)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._pump.stop()


class PreviewDialog(QDialog):
    """The preview's lines, the predicted duration first; Run starts the job as it was previewed."""

    def __init__(self, run: Callable[[], bool], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preview")
        self._run = run
        self.forecast = QLabel(self)
        self.forecast.setObjectName("previewForecast")
        self.forecast.setWordWrap(True)
        self.forecast.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text = QPlainTextEdit(self)
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(QFont("monospace"))
        self.text.setAccessibleName("What the run would do")
        buttons = QDialogButtonBox(self)
        self.run_button = buttons.addButton("Run", QDialogButtonBox.ButtonRole.AcceptRole)
        self.close_button = buttons.addButton("Close", QDialogButtonBox.ButtonRole.RejectRole)
        self.run_button.clicked.connect(self._on_run)
        self.close_button.clicked.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.forecast)
        lay.addWidget(self.text, 1)
        lay.addWidget(buttons)
        self.resize(760, 480)
        name_controls(self)

    def show_working(self) -> None:
        self.forecast.setText("Listing the files and their outputs…")
        self.text.setPlainText("")
        self.run_button.setEnabled(False)

    def show_preview(self, preview: Any) -> None:
        """A :class:`poolside.preview.Preview`, or why the job cannot be previewed (text)."""
        if isinstance(preview, str):
            self.forecast.setText(f"Cannot run this job: {preview}")
            self.text.setPlainText("")
            self.run_button.setEnabled(False)
            return
        lines = preview_lines(preview, shown=SHOWN)
        self.forecast.setText(forecast_line(preview))
        self.text.setPlainText("\n".join(line for line in lines if line != forecast_line(preview)))
        self.run_button.setEnabled(preview.items > 0)

    def _on_run(self) -> None:
        if self._run():
            self.accept()
