"""The Run tab's Preview: what Run would do, one click before it, and the duration the ETA starts from.

    RunPreview: the workspace's Preview, its dialog, and the forecast its runs' ETA starts from
    Preview (button, Ctrl+Shift+R) ─► RunWorkspace.job_spec() ─► PreviewWorker.preview(spec)
        worker thread: poolside.preview.preview(spec) ──BatchPump.close(result)──► ready(Preview | str)
        └─► PreviewDialog: poolside.words.preview lines, the forecast on top; Run / Close
    Time a few items (no forecast in the history) ─► PreviewWorker.sample(spec, n): a few items run in a
        run host of its own, outputs in a scratch folder, nothing recorded ──► sampled(dict | str)
    Run ─► PreviewWorker.predict(spec, n): the history's forecast only ──► predicted(dict | None)

The walk, the output names and the history are read on the worker's thread (a
folder of a million files, Pillow reading image headers) and the result comes
back through :mod:`gui.pump`.  Only a plugin already loaded in this window is
used: a job's plugin file is imported after the Run tab's consent
(``TaskPanel.ensure_loaded``), never here; and a sample's task runs in a run
host, never in this process.  The thread (and a sample's host) is stopped and
joined when the window closes.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any, NamedTuple

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
    """Computes previews and forecasts off the GUI thread, one at a time; the latest request wins.

    One thread serves every request, started with the first one and kept until
    ``shutdown``: a thread started at each run would cost the GUI thread its
    start-up handshake (13 ms on a loaded machine) just as the run begins.  A
    new request stops the one running (it checks between items) and its answer,
    for a job that changed, is dropped by the pump's generation.
    """

    #: A :class:`poolside.preview.Preview`, or the reason (text) the job cannot be previewed.
    ready = Signal(object)
    #: ``(spec, forecast dict or None)``: the history's prediction for a run about to start.
    predicted = Signal(object, object)
    #: ``(spec, forecast dict, or why there is none as text)``: a quick sample's prediction.
    sampled = Signal(object, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pump = BatchPump(self, interval_ms=30)
        self._pump.drained.connect(self._on_drained)
        self._thread: threading.Thread | None = None
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._stop = threading.Event()

    # poolside.preview (sqlite3, the history, the study's forecast) is imported on the worker's
    # thread: imported at a run's start on the GUI thread, it was most of the start's stall.
    def preview(self, spec: JobSpec) -> None:
        def work(stop: Callable[[], bool]) -> Any:
            from poolside.preview import preview

            return preview(spec, limit=SHOWN, stop=stop)

        self._start("preview", spec, work)

    def predict(self, spec: JobSpec, items: int) -> None:
        def work(_stop: Callable[[], bool]) -> Any:
            from poolside.preview import predict

            return predict(spec, items)[0]

        self._start("predict", spec, work)

    def sample(self, spec: JobSpec, items: int) -> None:
        """Time a few items of ``spec`` in a run host and forecast ``items`` items from them."""
        self._start("sample", spec, lambda stop: _sample_in_host(spec, items, stop)
                    or "no item of the sample ended ok")

    def _start(self, kind: str, spec: JobSpec, work: Callable[[Callable[[], bool]], Any]) -> None:
        """Run ``work(stop)`` on the thread; ``(kind, spec, its result or why it failed as text)`` comes back."""
        self._stop.set()  # the previous request's: its answer is for a job that changed
        self._stop = threading.Event()
        self._pump.start()
        _push, close = self._pump.sink()
        self._jobs.put(_Job(kind, spec, work, self._stop.is_set, close))
        self.warm()

    def warm(self) -> None:
        """Start the thread now (the window is up), so that no run's start waits for it or its imports."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, name="poolside-preview", daemon=True)
            self._thread.start()

    def _serve(self) -> None:
        try:  # before any request: a run's start finds the history's reader imported (and compiled)
            import poolside.preview  # noqa: F401
        except Exception as e:  # a broken install: each request says so when it imports
            _log.error("the preview could not be imported", exc_info=e)
        while (job := self._jobs.get()) is not None:
            if job.stopped():
                continue  # asked for again since: only the latest is answered
            try:
                job.close((job.kind, job.spec, job.work(job.stopped)))
            except SpecError as e:  # the job as it stands cannot run: the dialog says why
                job.close((job.kind, job.spec, str(e)))
            except Exception as e:  # a bug, a plugin's output_name failing wholesale, a host that died
                _log.error("the %s failed", job.kind, exc_info=e)
                job.close((job.kind, job.spec, f"{type(e).__name__}: {e}"))

    def _on_drained(self, result: Any) -> None:
        kind, spec, value = result
        if kind == "predict":  # a failure was logged: the ETA goes by the rate alone
            self.predicted.emit(spec, value if isinstance(value, dict) else None)
        elif kind == "sample":
            self.sampled.emit(spec, value)
        else:
            self.ready.emit(value)

    def shutdown(self) -> None:
        """Stop the request running between two items and wait for the thread (a walk checks often)."""
        self._stop.set()
        if self._thread is not None:
            self._jobs.put(None)
            self._thread.join()
            self._thread = None
        self._pump.stop()


class _Job(NamedTuple):
    """One request for the worker's thread, and where its answer goes."""

    kind: str
    spec: JobSpec
    work: Callable[[Callable[[], bool]], Any]
    stopped: Callable[[], bool]
    close: Callable[[Any], None]


def _sample_in_host(spec: JobSpec, items: int, stop: Callable[[], bool]) -> dict[str, Any] | None:
    """A quick sample, run in a run host of its own (the window never runs a task itself) and ended with it."""
    import time

    from poolside.host import HostClient
    from poolside.preview import SAMPLE_BUDGET_S, sample_forecast, sample_job

    prepared, chosen, scratch = sample_job(spec)
    if not chosen:
        return None
    outcomes: list[Any] = []
    ended: dict[str, Any] = {}
    done = threading.Event()

    def finish(key: str, value: Any) -> None:
        ended[key] = value
        done.set()

    client = HostClient()
    try:
        with scratch.task() as task:
            run = client.run(spec, chosen, task=task, bound=prepared.plugin.bound, on_outcomes=outcomes.extend,
                             on_finish=lambda s: finish("summary", s), on_error=lambda e: finish("error", e))
            deadline = time.monotonic() + SAMPLE_BUDGET_S
            while not done.wait(0.1):
                if stop() or time.monotonic() > deadline:
                    run.cancel()
                    done.wait()
    finally:
        client.shutdown()
        scratch.close()
    if "error" in ended:
        raise RuntimeError(f"the sample could not start: {ended['error']}")
    return sample_forecast(spec, items, prepared.run_options()["workers"], outcomes)


class RunPreview(QObject):
    """The Run tab's Preview: the worker, the dialog, and the forecast a starting run's ETA takes.

    ``job()`` gives the job to preview, or why there is none (the workspace's checks, its plugin
    consent included); ``run()`` starts it; ``bridge`` takes the forecast of the run it runs.
    """

    message = Signal(str)

    def __init__(self, parent: QWidget, *, job: Callable[[], tuple[JobSpec | None, list[str]]],
                 run: Callable[[], bool], bridge: Any) -> None:
        super().__init__(parent)
        self._parent = parent
        self._job = job
        self._run = run
        self._bridge = bridge
        self.worker = PreviewWorker(self)
        self.worker.ready.connect(self._on_preview)
        self.worker.predicted.connect(self._on_predicted)
        self.worker.sampled.connect(self._on_sampled)
        self.dialog: PreviewDialog | None = None
        self._sampled: tuple[JobSpec, dict[str, Any]] | None = None  # a quick sample's forecast, for the ETA

    def show(self) -> PreviewDialog | None:
        spec, problems = self._job()
        if spec is None:
            if problems:
                self.message.emit(problems[0])
            return None
        if self.dialog is None:
            self.dialog = PreviewDialog(self._run, self.time_sample, self._parent)
        self.dialog.show_working()
        self.dialog.show()
        self.worker.preview(spec)
        return self.dialog

    def time_sample(self) -> bool:
        """The dialog's Time a Few Items: a few items in a run host of their own; False if it cannot start."""
        spec, problems = self._job()
        if spec is None:
            if problems:
                self.message.emit(problems[0])
            return False
        self.worker.sample(spec, len(spec.paths))
        return True

    def warm(self) -> None:
        self.worker.warm()

    def run_started(self, spec: JobSpec, items: int) -> None:
        """A run began: its forecast is read off the GUI thread and handed to the bridge."""
        self.worker.predict(spec, items)

    def shutdown(self) -> None:
        self.worker.shutdown()

    def _on_preview(self, preview: Any) -> None:
        if self.dialog is not None:
            self.dialog.show_preview(preview)

    def _on_sampled(self, spec: JobSpec, forecast: dict[str, Any] | str) -> None:
        if isinstance(forecast, dict):
            self._sampled = (spec, forecast)
        if self.dialog is not None:
            self.dialog.show_sample(forecast)

    def _on_predicted(self, spec: JobSpec, forecast: dict[str, Any] | None) -> None:
        if forecast is None and self._sampled is not None and self._sampled[0] == spec:
            forecast = self._sampled[1]  # no history for it yet: the sample timed just before
        if forecast is not None and self._bridge.running:
            self._bridge.set_forecast(float(forecast["seconds"]))


class PreviewDialog(QDialog):
    """The preview's lines, the predicted duration first; Run starts the job as it was previewed."""

    def __init__(self, run: Callable[[], bool], sample: Callable[[], bool], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preview")
        self._run = run
        self._sample = sample
        self._preview: Any = None
        self.forecast = QLabel(self)
        self.forecast.setObjectName("previewForecast")
        self.forecast.setWordWrap(True)
        self.forecast.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text = QPlainTextEdit(self)
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)  # long paths wrap, none hidden
        self.text.setFont(QFont("monospace"))
        self.text.setAccessibleName("What the run would do")
        buttons = QDialogButtonBox(self)
        self.sample_button = buttons.addButton("Time a Few Items", QDialogButtonBox.ButtonRole.ActionRole)
        self.sample_button.setToolTip("Run a few items on this configuration (their outputs go to a scratch "
                                      "folder, deleted; nothing is recorded) and predict the whole run from them")
        self.sample_button.clicked.connect(self._on_sample)
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
        self._preview = None
        self.forecast.setText("Listing the files and their outputs…")
        self.text.setPlainText("")
        self.run_button.setEnabled(False)
        self.sample_button.hide()

    def show_preview(self, preview: Any) -> None:
        """A :class:`poolside.preview.Preview`, or why the job cannot be previewed (text)."""
        if isinstance(preview, str):
            self.forecast.setText(f"Cannot run this job: {preview}")
            self.text.setPlainText("")
            self.run_button.setEnabled(False)
            return
        self._preview = preview
        lines = preview_lines(preview, shown=SHOWN)
        self.forecast.setText(forecast_line(preview))
        self.text.setPlainText("\n".join(line for line in lines if line != forecast_line(preview)))
        self.run_button.setEnabled(preview.items > 0)
        self.sample_button.setVisible(preview.forecast is None and preview.items > 0)
        self.sample_button.setEnabled(True)

    def show_sample(self, forecast: dict[str, Any] | str) -> None:
        """A quick sample's forecast, or why it gave none."""
        self.sample_button.setEnabled(True)
        if isinstance(forecast, str) or self._preview is None:
            self.forecast.setText(f"No predicted duration: {forecast}.")
            return
        self._preview.forecast, self._preview.forecast_source = forecast, "sample"
        self.forecast.setText(forecast_line(self._preview))
        self.sample_button.hide()

    def _on_sample(self) -> None:
        if self._sample():
            self.sample_button.setEnabled(False)
            self.forecast.setText("Timing a few items…")

    def _on_run(self) -> None:
        if self._run():
            self.accept()
