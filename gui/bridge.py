"""The one place where a run's callbacks become Qt signals.

    run host process ══ pipe ══► HostClient reader thread ─┐ on_outcomes / on_finish
    (or, with ``runner``, the engine in this process) ─────┴──► BatchPump buffer (a lock)
                                          QTimer tick (GUI thread) ─► batchReady ─► RunBridge signals

Runs execute in a run host (:mod:`poolside.host`): a pure-Python task on
threads would otherwise share this process's GIL with the event loop, and a
task that crashes its process would take the window with it.  The host
client's reader thread decodes the host's messages and calls ``on_outcomes``
and ``on_finish``; those only append to a lock-protected buffer
(:class:`BatchPump`); a ``QTimer`` in the GUI thread drains it and emits *one
signal per batch*, never one per row, so a model can insert each batch with a
single ``beginInsertRows``.  The pump sizes its batches so that the slots
connected to it stay within a time budget per tick (8 ms), which keeps the
event loop responsive however fast results arrive.

Why a reader thread rather than a ``QSocketNotifier``: a blocked read
releases the GIL, a host's death (EOF) is noticed at once even while the
GUI thread is busy, decoding stays off the GUI thread, and the pump already is
the thread-safe hand-off the engine's own thread used.  No ``QThread`` is
involved: the client owns its thread, the GUI owns its timer.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from operator import attrgetter
from typing import TYPE_CHECKING, Any, NamedTuple

from PySide6.QtCore import QObject, QTimer, Signal

from poolside.eta import eta_s
from poolside.log import get_logger
from poolside.spec import JobSpec

from .pump import BatchPump

if TYPE_CHECKING:  # the engine is imported when a run starts, not with the window
    from poolside.engine.job import Job
    from poolside.host import HostRun
    from poolside.records import Summary
    from poolside.usage import PidSource

_log = get_logger(__name__)


@dataclass
class Progress:
    """Where a run stands, as the window shows it."""

    total: int
    counts: dict[str, int] = field(default_factory=dict)
    elapsed_s: float = 0.0
    #: The history's predicted wall time for the whole run (poolside.preview.predict), if it had one.
    forecast_s: float | None = None

    @property
    def done(self) -> int:
        return sum(self.counts.values())

    @property
    def items_per_s(self) -> float:
        return self.done / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        """The time left (:func:`poolside.eta.eta_s`: the forecast's until a tenth is done, then the rate's)."""
        return self.eta()[0]

    def eta(self) -> tuple[float | None, bool]:
        """``(seconds left, whether that is the forecast's)``."""
        return eta_s(self.done, self.total, self.elapsed_s, self.forecast_s)


Runner = Callable[..., Any]


class StartFailed(NamedTuple):
    """What the pump carries instead of a summary when ``run`` itself raised."""

    error: BaseException


class _JobHandle:
    """The job of a run that may still be starting: a cancel, a pause or a stop waits for it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.job: HostRun | Job | None = None
        self._cancel = False
        self._controls: list[str] = []  # pause, resume, stop_after_current: asked before the job was there

    def attach(self, job: HostRun | Job) -> None:
        with self._lock:
            self.job = job
            cancel, controls = self._cancel, self._controls
        for name in controls:
            getattr(job, name)()
        if cancel:
            job.cancel()

    def control(self, name: str) -> None:
        """Call the job's ``pause``, ``resume`` or ``stop_after_current`` (once it is there)."""
        with self._lock:
            job = self.job
            if job is None:
                self._controls.append(name)
        if job is not None:
            getattr(job, name)()

    def cancel(self) -> None:
        with self._lock:
            self._cancel = True
            job = self.job
        if job is not None:
            job.cancel()


#: The options of ``poolside.run`` that a job spec holds as fields of its own.
_SPEC_OPTIONS = ("backend", "workers", "chunk_size", "timeout", "ordered", "method", "backend_options")


def _spec_and_task(task: Any, options: dict[str, Any]) -> tuple[JobSpec, Any, str]:
    """The job spec the host runs, the callable it runs instead of the spec's plugin (or None), and ``bound``."""
    options = dict(options)
    bound = options.pop("bound", "mixed")
    unknown = sorted(set(options) - set(_SPEC_OPTIONS))
    if unknown:
        raise TypeError(f"unknown run option{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}")
    if isinstance(task, JobSpec):
        return task.replace(**options), None, bound
    if not callable(task):
        raise TypeError(f"task must be a job spec or callable, not {type(task).__name__}")
    label = getattr(task, "name", None) or getattr(task, "__name__", None) or type(task).__name__
    return JobSpec(plugin=str(label), **options), task, bound


class RunBridge(QObject):
    """Starts one run at a time and re-emits what it does as signals.

    * ``started(int)``: the number of items (or -1 when unknown)
    * ``outcomesReady(list)``: a batch of :class:`poolside.Outcome`, in arrival order
    * ``progressChanged(object)``: a :class:`Progress` after each batch
    * ``finished(object)``: the final :class:`poolside.Summary`, after the last
      ``outcomesReady``
    * ``startFailed(object)``: the run could not start (bad options): the exception
    * ``historyFailed(str)``: the run ran but is not (all) in the history: why, for the
      user (after ``finished``; the run host's ``Finished.history_error``)
    * ``controlChanged()``: the run was paused, resumed or told to stop after its current
      items (``paused``, ``stopping`` say which)
    * ``held()``: that pause or stop is in effect in the run host: no new item starts, only
      those that were running may still finish

    Runs execute in a warm run host (``warm`` starts it ahead of the first
    run); ``start`` takes a :class:`~poolside.spec.JobSpec` (the window's
    runs) or a picklable callable, and the items.  If the host dies, the run
    still finishes: its items end ``failed`` or ``cancelled`` saying so, and
    the next run starts a fresh host.  With ``runner`` (a stand-in for
    :func:`poolside.run`, for benchmarks that compare) runs execute in this
    process instead, started on a helper thread.
    """

    started = Signal(int)
    outcomesReady = Signal(list)
    progressChanged = Signal(object)
    finished = Signal(object)
    startFailed = Signal(object)
    historyFailed = Signal(str)
    controlChanged = Signal()
    held = Signal()

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        runner: Runner | None = None,
        interval_ms: int = 20,
        budget_ms: float = 8.0,
    ) -> None:
        super().__init__(parent)
        self._runner = runner
        self._client: Any = None
        if runner is None:
            from poolside.host import HostClient

            self._client = HostClient()
        self._job: _JobHandle | None = None
        self._starter: threading.Thread | None = None
        self._ended = threading.Event()
        self._progress = Progress(total=0)
        self._t0 = 0.0
        self._cancelled = False
        self._paused = False
        self._stopping = False
        self._closed = False
        self._spec: Any = None
        self._history_id: int | None = None
        self._pump = BatchPump(self, interval_ms=interval_ms, budget_ms=budget_ms)
        self._pump.batchReady.connect(self._on_batch)
        self._pump.drained.connect(self._on_drained)
        # The host's word that a pause or stop is in effect, from its reader thread.
        self._held_pump = BatchPump(self, interval_ms=interval_ms, budget_ms=budget_ms)
        self._held_pump.batchReady.connect(self._on_held)

    # -- state --------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._job is not None

    @property
    def job(self) -> HostRun | Job | None:
        """The running job (a host run, or the engine's job), ``None`` while starting or idle."""
        return None if self._job is None else self._job.job

    @property
    def progress(self) -> Progress:
        return self._progress

    @property
    def cancel_requested(self) -> bool:
        return self._cancelled

    @property
    def paused(self) -> bool:
        """The run is paused: no new item starts, those running finish."""
        return self._paused

    @property
    def stopping(self) -> bool:
        """The run was told to stop after its current items."""
        return self._stopping

    @property
    def spec(self) -> Any:
        """The :class:`~poolside.spec.JobSpec` of the run started with ``start_spec`` (else ``None``)."""
        return self._spec

    @property
    def history_id(self) -> int | None:
        """The history database's id of the run that ran last (set when it ends; ``None``: not recorded,
        or run in this process)."""
        return self._history_id

    def host_pids(self) -> set[int]:
        """The run host and the processes under it (workers, forkserver), for CPU and memory sampling."""
        return set() if self._client is None else self._client.pids()

    @property
    def host_pid(self) -> int | None:
        return None if self._client is None else self._client.host_pid

    def pid_source(self) -> PidSource | None:
        """What the CPU monitor samples: the run host and every process under it, each with its role
        (``None`` when runs are in-process).  See ``poolside.proctree`` for what counts as Poolside."""
        if self._client is None or self._runner is not None:
            return None
        from poolside.host.tree import HostTree

        return HostTree(self._client.processes)

    # -- control ------------------------------------------------------------
    def warm(self) -> None:
        """Start the run host now, so that the first run does not wait for it."""
        self._closed = False
        if self._client is not None:
            self._client.start()

    def shutdown(self) -> None:
        """End the run host and everything under it (the window is closing); a run ends cancelled."""
        self._closed = True
        if self._client is not None:
            self._client.shutdown()

    def _rewarm(self) -> None:
        if not self._closed and self._client is not None:
            self._client.start()

    def start_spec(self, spec: JobSpec, *, task: Callable | None = None, items: Iterable | None = None,
                   bound: str = "mixed") -> None:
        """Start the job a :class:`~poolside.spec.JobSpec` describes.

        ``items``: what the caller has already listed (the window holds its file
        list); without them the spec is prepared here and
        :class:`~poolside.spec.SpecError` says what is wrong with it.  To the run
        host only the spec and the items cross when ``task`` is the spec's
        plugin bound (the host binds it again from the spec); another callable
        crosses too (it must pickle).
        """
        if task is None or items is None:
            prepared = spec.prepare()
            task = prepared.task if task is None else task
            items = list(prepared.items) if items is None else items
            bound = prepared.plugin.bound
        if self._runner is not None:
            self.start(task, items, **spec.run_options(bound))
        else:
            from poolside.plugins import BoundTask

            # A plugin's bound task is what the spec names: the host binds it
            # from the spec.  Any other callable (a benchmark's) goes as it is.
            self._start_in_host(spec, items, None if isinstance(task, BoundTask) else task, bound)
        self._spec = spec

    def start(self, task: Any, items: Iterable, **options: Any) -> None:
        """Start ``task`` (a job spec, or a picklable callable) over ``items`` with ``poolside.run``'s options."""
        runner = self._runner
        if runner is not None:  # a stand-in for poolside.run: in this process
            push, on_finish, on_error, handle = self._begin(items)
            self._start_here(runner, task, items, options, push, on_finish, on_error, handle)
            self.started.emit(self._progress.total)
            return
        try:
            spec, callable_task, bound = _spec_and_task(task, options)
        except Exception as exc:  # bad options come as startFailed, as they always have
            _, _, on_error, _ = self._begin(items)
            on_error(exc)
            self.started.emit(self._progress.total)
            return
        self._start_in_host(spec, items, callable_task, bound)

    def _start_in_host(self, spec: JobSpec, items: Iterable, task: Callable | None, bound: str) -> None:
        push, on_finish, on_error, handle = self._begin(items)
        try:
            run = self._client.run(spec, items, task=task, bound=bound,
                                   on_outcomes=push, on_finish=on_finish, on_error=on_error)
        except Exception as exc:
            on_error(exc)
        else:
            self._held_pump.start()
            push_held, _ = self._held_pump.sink()
            run.on_held = lambda: push_held([True])
            handle.attach(run)
        self.started.emit(self._progress.total)

    def _begin(self, items: Iterable) -> tuple[Callable, Callable, Callable, _JobHandle]:
        """A new run's progress and pump generation: ``(push, on_finish, on_error, handle)``."""
        if self._job is not None:
            raise RuntimeError("a run is already in progress")
        self._closed = False
        try:
            total = len(items)  # type: ignore[arg-type]
        except TypeError:
            total = -1
        self._progress = Progress(total=total)
        self._cancelled = self._paused = self._stopping = False
        self._spec = None
        self._pump.start()
        self._t0 = time.monotonic()
        push, close = self._pump.sink()
        ended = self._ended = threading.Event()
        self._history_id = None
        handle = self._job = _JobHandle()

        def on_finish(summary: Summary) -> None:
            close(summary)
            ended.set()

        def on_error(exc: BaseException) -> None:
            close(StartFailed(exc))
            ended.set()

        return push, on_finish, on_error, handle

    def _start_here(self, runner: Runner, task: Any, items: Iterable, options: dict[str, Any],
                    push: Callable, on_finish: Callable, on_error: Callable, handle: _JobHandle) -> None:
        """Run in this process, as before the run host (benchmarks compare the two)."""

        def launch() -> None:
            try:
                job = runner(task, items, on_outcomes=push, on_finish=on_finish, **options)
            except BaseException as exc:
                on_error(exc)
                return
            handle.attach(job)

        self._starter = threading.Thread(target=launch, name="poolside-start", daemon=True)
        self._starter.start()

    def cancel(self) -> None:
        """Ask the run to stop; ``finished`` still follows, promptly."""
        if self._job is not None and not self._cancelled:
            self._cancelled = True
            self._job.cancel()

    def pause(self) -> None:
        """No new item starts until :meth:`resume`; the items running now finish."""
        if self._job is not None and not self._paused and not self._cancelled and not self._stopping:
            self._paused = True
            self._job.control("pause")
            self.controlChanged.emit()

    def resume(self) -> None:
        """The run goes on from where :meth:`pause` held it."""
        if self._job is not None and self._paused and not self._cancelled:
            self._paused = False
            self._job.control("resume")
            self.controlChanged.emit()

    def stop_after_current(self) -> None:
        """End the run once its running items finish (nothing running is thrown away);
        ``finished`` follows then.  A paused run stops without resuming."""
        if self._job is not None and not self._stopping and not self._cancelled:
            self._stopping = True
            self._job.control("stop_after_current")
            self.controlChanged.emit()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run ends, then deliver what is left; True if it ended.

        For shutdown only: the run's callbacks never wait for the GUI thread,
        so blocking here cannot deadlock.
        """
        if self._job is None:
            return True
        if not self._ended.wait(timeout):
            return False
        self._pump.flush()
        return self._job is None

    def set_forecast(self, seconds: float | None) -> None:
        """The running job's predicted wall time: the ETA starts from it (``Progress.eta_s``)."""
        if self.running:
            self._progress.forecast_s = seconds
            self._progress.elapsed_s = time.monotonic() - self._t0
            self.progressChanged.emit(self._progress)

    # -- pump slots ---------------------------------------------------------
    def _on_batch(self, batch: list) -> None:
        counts = self._progress.counts
        for status, n in Counter(map(attrgetter("status"), batch)).items():
            key = str(status)
            counts[key] = counts.get(key, 0) + n
        self._progress.elapsed_s = time.monotonic() - self._t0
        self.outcomesReady.emit(batch)
        self.progressChanged.emit(self._progress)

    def _on_held(self, _batch: list) -> None:
        if self._job is not None and (self._paused or self._stopping):
            self.held.emit()

    def _on_drained(self, summary: Summary | StartFailed | None) -> None:
        self._history_id = getattr(self.job, "history_id", None)
        history_error = getattr(self.job, "history_error", None)
        self._job = None
        self._paused = False  # a run ends unpaused (a stop or a cancel ends its pause)
        self._held_pump.stop()
        if self._starter is not None:
            self._starter.join()  # it has returned from run(), or is just returning
            self._starter = None
        if self._client is not None and self._client.host_pid is None:
            # The host was ended (a cancel on threads) or died: have a fresh one
            # warm, once the slots of this run's end have run (and unless the
            # window is closing by then).
            QTimer.singleShot(0, self._rewarm)
        if isinstance(summary, StartFailed):
            self.startFailed.emit(summary.error)
            return
        self._progress.elapsed_s = time.monotonic() - self._t0
        if summary is not None and summary.wall_s:
            self._progress.elapsed_s = summary.wall_s
        self.progressChanged.emit(self._progress)
        self.finished.emit(summary)
        if history_error:
            _log.warning("the run is not in the history: %s", history_error)
            self.historyFailed.emit(history_error)
