"""``poolside run``: a plugin over files, every outcome streamed to the terminal and a record file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..inputs import printable
from ..log import get_logger
from ..records import Status, Summary, describe_error
from ..serialize import OutcomeWriter, open_writer
from ..spec import JobSpec, SpecError
from ..words.runs import summary_line
from ..words.units import count
from . import cluster, watch
from .common import (
    EXIT_FAILED,
    EXIT_OK,
    UsageError,
    chunk_size,
    positive_float,
    positive_int,
    size,
)
from .console import Console
from .controls import RunSignals
from .run_files import start_monitor, write_companion, write_trace
from .waiting import wait_for

log = get_logger(__name__)

# Enough failures on the terminal to see what is going on; all of them go to --output.
_MAX_FAILURE_LINES = 50


def add_parser(sub: Any) -> None:
    run = sub.add_parser(
        "run", help="run a plugin over files",
        description="Run a plugin over files and folders.  Each item ends ok, failed, "
                    "timed_out or cancelled; exit status 0 when every item is ok, 1 when "
                    "any is not, 2 for a usage error, 130 after Ctrl-C, 143 after SIGTERM, "
                    "129 after SIGHUP (each cancels the run and records every item first).  "
                    "While it runs, SIGUSR1 pauses it (no new item starts, running ones finish) "
                    "and resumes it; SIGUSR2 stops it after its current items (nothing running "
                    "is lost; the rest end cancelled, exit status 1, 'poolside run --resume' runs them).",
        epilog="Example: poolside run --samples --plugin thumbnail --param size=128 --output thumbs.csv")
    run.add_argument("paths", nargs="*", metavar="PATH", help="files, and folders with --recursive")
    run.add_argument("--samples", action="store_true",
                     help="also run over the sample files bundled with Poolside (implies --recursive)")
    run.add_argument("--plugin", "-p", metavar="NAME|FILE.py:FUNCTION",
                     help="a plugin name (see 'poolside plugins') or a function in a Python file")
    run.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                     help="a plugin setting; repeat for several")
    run.add_argument("--backend", "-b", metavar="NAME",
                     help="where items run (default: processes; see 'poolside info')")
    run.add_argument("--workers", "-w", type=positive_int, metavar="N",
                     help="how many workers (default: chosen for the backend and the plugin)")
    run.add_argument("--chunk-size", type=chunk_size, metavar="N|auto",
                     help="items sent to a worker at a time (default: auto)")
    run.add_argument("--method", metavar="NAME",
                     help="how a classic pool is called: submit, map, imap, imap_unordered "
                          "(joblib: generator_unordered, generator, list; see 'poolside info')")
    run.add_argument("--timeout", type=positive_float, metavar="SECONDS",
                     help="per item; an item running longer ends timed_out")
    run.add_argument("--max-memory-per-worker", type=size, metavar="SIZE",
                     help="kill a worker process that holds more than SIZE (2GB, 512MB, 1.5GiB); its item "
                          "fails and a new worker goes on (process backends)")
    run.add_argument("--library-threads", type=positive_int, metavar="N",
                     help="cap each worker's libraries (BLAS, OpenMP: numpy, scikit-learn) to N threads while an "
                          "item runs, with threadpoolctl; for a task that already uses several cores by itself "
                          "(process backends and sequential)")
    cluster.add_arguments(run)
    run.add_argument("--ordered", action="store_true", default=None,
                     help="report outcomes in input order (default: as they finish)")
    run.add_argument("--recursive", "-r", action="store_true", default=None, help="walk into folders")
    run.add_argument("--glob", "-g", action="append", default=[], metavar="PATTERN",
                     help="only files in folders whose names match (repeatable; "
                          "default: the plugin's own patterns; '*' for every file)")
    run.add_argument("--output", "-o", metavar="FILE.jsonl|FILE.csv",
                     help="write a record per item as it finishes")
    run.add_argument("--trace", metavar="FILE.json",
                     help="also write the run as Chrome trace-event JSON (open it in ui.perfetto.dev): "
                          "one bar per item on its worker's track, CPU and memory counters")
    run.add_argument("--insights", action=argparse.BooleanOptionalAction, default=None,
                     help="after the run, print where its time went (default: when stderr is a terminal)")
    run.add_argument("--quiet", "-q", action="store_true",
                     help="print no line per item, only failures and the summary")
    run.add_argument("--spec", metavar="JOB.toml",
                     help="read the job (plugin, parameters, inputs, backend...) from a file; "
                          "options given here override it")
    run.add_argument("--save-spec", metavar="JOB.toml",
                     help="also save this job to a file, to run it again with --spec")
    run.add_argument("--resume", metavar="ID|last",
                     help="run only the items of a recorded run that are not ok yet (see 'poolside history')")
    run.add_argument("--force", action="store_true", help="with --resume: resume even if the plugin changed")
    run.add_argument("--dry-run", "-n", action="store_true",
                     help="list what the run would do and write nothing: the items, each output's name and "
                          "every collision with the policy that applies, what the filter skips, and the "
                          "predicted duration when the history has a study or a run of this job")
    run.add_argument("--sample", action="store_true",
                     help="with --dry-run, when the history has no forecast for this job: run a few items "
                          "(outputs to a scratch folder, deleted; nothing recorded) and predict from them")
    run.add_argument("--watch", action="store_true",
                     help="after the files in the folders, run every file written there later, until Ctrl-C "
                          "(running files finish; Ctrl-C again cancels them); implies --recursive; files "
                          "an earlier run of this job did ok are not run again")
    run.set_defaults(handler=cmd_run)


def spec_from_args(ns: argparse.Namespace, samples: str | None = None) -> JobSpec:
    """The job the command line describes: a --spec file, with the options given overriding it.

    ``samples``: the bundled samples' folder, when ``--samples`` asks for it.
    """
    base = JobSpec.load(ns.spec) if ns.spec else None
    if base is None and not ns.plugin:
        raise UsageError("the following arguments are required: --plugin/-p (or --spec JOB.toml)")
    changes: dict[str, Any] = {
        "plugin": ns.plugin, "backend": ns.backend, "workers": ns.workers, "chunk_size": ns.chunk_size,
        "timeout": ns.timeout, "ordered": ns.ordered, "method": ns.method, "recursive": ns.recursive,
        "paths": tuple(ns.paths) or None, "patterns": tuple(ns.glob) or None,
        "max_memory_per_worker": ns.max_memory_per_worker, "library_threads": ns.library_threads,
    }
    if samples is not None:
        changes["paths"] = (*(changes["paths"] or (base.paths if base else ())), samples)
        changes["recursive"] = True
    if getattr(ns, "watch", False):
        changes["recursive"] = True  # a watched folder is walked, and so is every folder made in it
    changes = {k: v for k, v in changes.items() if v is not None}
    backend = changes.get("backend") or (base.backend if base else JobSpec.backend)
    backend_options = cluster.options(ns, backend, base.backend_options if base else {})
    if backend_options or base is not None:  # a job file's cluster stays behind on another backend
        changes["backend_options"] = backend_options
    params = _parse_params(ns.param)
    if base is None:
        return JobSpec(params=params, **changes)
    if params:
        changes["params"] = {**base.params, **params}
    return base.replace(**changes)


def cmd_run(ns: argparse.Namespace) -> int:
    if not ns.samples:
        return _run(ns)
    from ..resources import samples

    with samples() as folder:  # a real folder while the run lasts, even from a zipped install
        return _run(ns, str(folder))


def _run(ns: argparse.Namespace, samples: str | None = None) -> int:
    if ns.sample and not ns.dry_run:
        raise UsageError("--sample goes with --dry-run")
    if ns.dry_run:
        return _dry_run(ns, samples)
    if ns.watch:
        watch.check_arguments(ns)
    spec, prepared, parent_id = _prepare(ns, samples)
    console = Console(sys.stdout, sys.stderr, quiet=ns.quiet, results_to_stdout=not ns.output)
    folders = watch.folder_watch(spec, prepared, ns.output, console) if ns.watch else None
    if folders is not None:
        prepared = watch.watched(prepared, folders)
    plugin, task, items = prepared.plugin, prepared.task, prepared.items
    _prestart_workers(prepared.run_options())

    try:
        recorder = open_writer(ns.output, plugin.columns) if ns.output else None
    except ValueError as e:
        raise UsageError(f"--output {e}") from None
    if spec.backend == "dask":
        console.err(_cluster_line(spec))
    from ..history import RunRecorder

    history = RunRecorder(spec, task, parent_id=parent_id)
    reporter = _Reporter(console, recorder, history.on_outcomes, keep=bool(ns.trace))
    monitor = start_monitor() if ns.trace else None
    job, summary, stopped_by = _execute(prepared, reporter, console, history, recorder, monitor,
                                        one_shot=ns.one_shot, folders=folders)
    console.clear_progress()
    if ns.trace and monitor is not None:
        series = write_trace(ns.trace, reporter.kept, monitor, getattr(job, "started", None), console,
                              getattr(getattr(job, "backend", None), "process_names", dict)())
        if history.run_id is not None:  # kept with the run, as the window's are
            from ..history import record_series

            if not record_series(history.run_id, series):  # the log line says why
                console.err("warning: the run's CPU and memory series is not in the history (see the log)")
    return _finish(ns, summary, items, reporter, history.run_id, console, stopped_by,
                   history_error=history.error, run_error=getattr(job, "error", None))


def _dry_run(ns: argparse.Namespace, samples: str | None) -> int:
    """``--dry-run``: the preview on stdout, nothing run, nothing written; exit 0 (2 for a usage error)."""
    from .. import backend_names
    from ..preview import preview
    from ..words.preview import preview_lines

    for flag, given in (("--resume", ns.resume), ("--save-spec", ns.save_spec)):
        if given:
            raise UsageError(f"--dry-run writes nothing and runs nothing new: leave out {flag}")
    try:
        spec = spec_from_args(ns, samples)
        if spec.backend not in backend_names():
            raise SpecError(f"unknown backend {spec.backend!r}; choose one of: {', '.join(backend_names())}")
        if ns.output:
            spec = spec.replace(exclude=(*spec.exclude, ns.output))  # as the run would leave it out
        shown = preview(spec)
        if ns.sample and shown.forecast is None and shown.items:
            from ..preview import sample

            shown.forecast, shown.forecast_source = sample(spec, shown.items)
    except SpecError as e:
        raise UsageError(str(e)) from None
    console = Console(sys.stdout, sys.stderr, quiet=False, results_to_stdout=True)
    for line in preview_lines(shown):
        console.line(line)
    console.err("dry run: nothing was run or written")
    return EXIT_FAILED if console.out_error is not None else EXIT_OK
def _cluster_line(spec: JobSpec) -> str:
    from ..backends.dask import cluster_address
    from ..words.cluster import cluster_line

    return "running " + cluster_line(cluster_address(spec), spec.backend_options.get("files", "shared"))


def _prestart_workers(options: dict[str, Any]) -> None:
    """Fork the zygote now, before any thread starts (and after the plugin is imported, so
    that workers inherit it): its workers start by ``fork`` in ~1 ms each instead of from a
    fresh forkserver interpreter (~50 ms for a whole 1,000-file sha256 call here, which made
    processes lose to sequential).  The run's workers start now too, parked for ``run()`` to
    adopt, so that their start-up overlaps opening the history and reading the folder."""
    from ..backends import get_backend

    backend = get_backend(options["backend"])
    if not backend.uses_zygote:
        return
    from ..backends.processes import ProcessBackend
    from ..backends.workers import prestart

    own_method = (options.get("backend_options") or {}).get("method") not in (None, "zygote")
    adopts = backend is ProcessBackend and not own_method  # per-item processes start per item
    prestart(workers=options["workers"] if adopts else 0)


def _release_workers(backend: str) -> None:
    """One run per call: the workers and the zygote end while the summary is written, not after."""
    from ..backends import get_backend

    if get_backend(backend).uses_zygote:
        from ..backends.workers import release_workers

        release_workers()


def _prepare(ns: argparse.Namespace, samples: str | None) -> tuple[JobSpec, Any, int | None]:
    """The job to run (from the arguments, or the run it resumes), checked; the run it continues."""
    from .. import backend_names

    parent_id = None
    try:
        if ns.resume:
            spec, prepared, parent_id = _resumed(ns)
        else:
            spec = spec_from_args(ns, samples)
        if spec.backend not in backend_names():
            raise SpecError(f"unknown backend {spec.backend!r}; choose one of: {', '.join(backend_names())}")
        if not spec.paths:
            raise SpecError("no input: give the files or folders to run over (or --samples for the bundled ones)")
        if not ns.resume:  # never read the record file being written
            prepared = spec.prepare(extra_exclude=(Path(ns.output),) if ns.output else ())
        if ns.save_spec:
            spec.save(ns.save_spec)
    except SpecError as e:
        raise UsageError(str(e)) from None
    return spec, prepared, parent_id


def _execute(prepared: Any, reporter: _Reporter, console: Console, history: Any,
             recorder: OutcomeWriter | None, monitor: Any, *,
             one_shot: bool = False, folders: Any = None) -> tuple[Any, Summary, int | None]:
    """Run the job to its end (or a signal's); the history, the record file and the monitor are closed.

    ``one_shot``: this process ends after the run, so its workers may end as soon as it is over.
    ``folders``: the items are a watch (:class:`poolside.watch.FolderWatch`), which a first signal ends.
    """
    from .. import run

    task, items = prepared.task, prepared.items
    interrupted, stopped, summary = True, False, None
    try:
        try:
            # A walk ends: Ctrl-C records every file.  A watch has no end: a cancel stops reading it.
            job = run(task, items, **prepared.run_options(), on_outcomes=reporter.take, finite=folders is None)
        except ValueError as e:  # an unavailable backend, say
            raise UsageError(str(e)) from None
        reporter.cancel = job.cancel
        signals = RunSignals(job, console, None if folders is None else folders.stop, history)
        with signals.installed():
            stopped_by = wait_for(job, console, items, folders, signals,
                               forecast=lambda n: _forecast_s(prepared, n))
        interrupted = stopped_by is not None
        summary = job.summary
        # Stopped after its current items, with items left: resumable, and the history says how it ended.
        stopped = signals.stopped and not job.cancelled and summary.counts.get(Status.CANCELLED.value, 0) > 0
        if one_shot:
            _release_workers(prepared.run_options()["backend"])
    finally:
        if folders is not None:
            folders.stop()  # however the run ended (a failed --output cancels it): the watch ends with it
        history.finish(summary, interrupted=interrupted or stopped, stopped=stopped)
        if recorder is not None:
            recorder.close()
        if monitor is not None:
            monitor.end_run(summary)
            monitor.stop()
    return job, summary, stopped_by


def _finish(ns: argparse.Namespace, summary: Summary, items: Any, reporter: _Reporter,
            run_id: int | None, console: Console, stopped_by: int | None, *,
            history_error: str | None = None, run_error: str | None = None) -> int:
    """The notes after a run, the insights and the companion file; the exit code.

    A history that could not be written is one warning line: the run itself
    succeeded or failed on its own, and its exit code says that.
    """
    interrupted = stopped_by is not None
    note = items.skipped_note()
    if note:
        console.err(f"note: {note}")
    if summary.input_error:
        console.err(f"error: reading the input failed: {summary.input_error}")
    if summary.total == 0 and not interrupted:
        console.err("note: no items to run" + (" (every file was skipped)" if note else ""))
    if reporter.failures_hidden:
        console.err(f"note: {reporter.failures_hidden} more failures not shown"
                    + (f"; all are in {ns.output}" if ns.output else "; use --output to see all"))
    if reporter.write_error:
        console.err(f"error: writing {ns.output} failed: {reporter.write_error}; job cancelled")
    console.err(summary_line(summary))
    if history_error is not None:
        console.err(f"warning: this run is not in the history: {history_error}")
    if run_id is not None and summary.counts.get(Status.OK.value, 0) < summary.total:
        console.err(f"note: recorded as run {run_id}; to run what is not ok yet: "
                    f"poolside run --resume {run_id}")
    show = console.tty if ns.insights is None else ns.insights
    if show and summary.insights is not None:
        console.insights(summary.insights)
    if ns.output and not reporter.write_error:
        write_companion(Path(ns.output), summary, console)
    if run_error is not None:
        console.err(f"error: {run_error}")
    if console.out_error is not None:
        console.err(f"error: the results could not be written to standard output: {console.out_error}")
    if stopped_by is not None:
        return 128 + stopped_by  # common.EXIT_INTERRUPTED, EXIT_TERMINATED or EXIT_HANGUP
    bad = summary.total - summary.counts.get(Status.OK.value, 0)
    # Output that could not be written is not success, even when every item is ok:
    # a script reading the results got none or some of them.
    lost = console.out_error is not None or reporter.report_error is not None or run_error is not None
    return EXIT_FAILED if bad or summary.input_error or reporter.write_error or lost else EXIT_OK


def _resumed(ns: argparse.Namespace) -> tuple[JobSpec, Any, int]:
    """The recorded job with only the items not ok yet; the run it continues."""
    from ..history import ResumeError, plan_resume
    from ..spec import Prepared

    if ns.plugin or ns.paths or ns.param or ns.spec or ns.samples:
        raise UsageError("--resume takes the plugin, its parameters and the inputs from the run it resumes")
    try:
        plan = plan_resume(ns.resume, force=ns.force)
    except ResumeError as e:
        raise UsageError(str(e)) from None
    changes = {"backend": ns.backend, "workers": ns.workers, "chunk_size": ns.chunk_size, "timeout": ns.timeout,
               "method": getattr(ns, "method", None), "max_memory_per_worker": ns.max_memory_per_worker,
               "library_threads": ns.library_threads}
    changes = {k: v for k, v in changes.items() if v is not None}
    backend = changes.get("backend") or plan.spec.backend
    changes["backend_options"] = cluster.options(ns, backend, plan.spec.backend_options)
    spec = plan.spec.replace(**changes)
    # The items to run, with a walk's counters for the progress bar (not an Expansion: already walked).
    items: Any = plan.items
    prepared = Prepared(spec, plan.prepared.plugin, plan.prepared.task, items)
    lines = [f"resuming run {plan.parent_id}: {count(plan.already_ok)} items already ok, "
             f"{count(len(plan.items))} to run"]
    if str(plan.parent_id) != ns.resume and ns.resume != "last":
        lines[0] += f" (run {ns.resume} was continued by run {plan.parent_id} already)"
    if plan.new:
        lines.append(f"{count(plan.new)} new items joined")
    if plan.unrecorded_note:
        lines.append(plan.unrecorded_note)
    if plan.vanished:
        shown = ", ".join(printable(v) for v in plan.vanished[:5]) + (" ..." if len(plan.vanished) > 5 else "")
        lines.append(f"{count(len(plan.vanished))} recorded items are gone: {shown}")
    if plan.plugin_changed:
        lines.append("the plugin changed since (--force)")
    print("note: " + "; ".join(lines), file=sys.stderr)
    return spec, prepared, plan.parent_id


def _parse_params(pairs: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"--param {pair!r}: expected KEY=VALUE, e.g. --param size=128")
        if key in values:
            raise UsageError(f"--param {key!r} is given twice")
        values[key] = value
    return values


def _forecast_s(prepared: Any, items: int) -> float | None:
    """The history's prediction for ``items`` items of this job, in seconds (None: it has none)."""
    from ..preview import predict

    try:
        forecast = predict(prepared.spec, items, plugin=prepared.plugin, kwargs=dict(prepared.task.kwargs))[0]
    except (SpecError, AttributeError) as e:  # a bare callable, or a job the history cannot say
        log.debug("no forecast for the progress bar: %s", e)
        return None
    return None if forecast is None else float(forecast["seconds"])


class _Reporter:
    """Takes outcome batches on the engine's thread: records, result lines, failures."""

    def __init__(self, console: Console, recorder: OutcomeWriter | None, history: Any = None, *,
                 keep: bool = False) -> None:
        self.console = console
        self.keep = keep
        self.kept: list = []  # every outcome, for --trace
        self.recorder = recorder
        self.history = history  # the history's on_outcomes: it only queues the batch
        self.failures_shown = 0
        self.failures_hidden = 0
        self.write_error: str | None = None
        self.report_error: str | None = None  # the first exception that reporting raised
        self.cancel: Any = None

    def take(self, batch: list) -> None:
        # Must not raise: an exception here would be the engine's failure.
        # (The console's writes never raise: a stdout or stderr that cannot be
        # written is noted there, and the exit status says so.)
        try:
            if self.history is not None:
                self.history(batch)
            if self.keep:
                self.kept.extend(batch)
            if self.recorder is not None and self.write_error is None:
                try:
                    self.recorder.write(batch)
                except (OSError, ValueError) as e:
                    self.write_error = str(e)
                    if self.cancel is not None:
                        self.cancel()
            for o in batch:
                if o.status == Status.OK:
                    self.console.result(o)
                elif o.status != Status.CANCELLED:
                    if self.failures_shown < _MAX_FAILURE_LINES:
                        self.failures_shown += 1
                        self.console.failure(o)
                    else:
                        self.failures_hidden += 1
        except Exception as e:
            log.error("reporting outcomes failed", exc_info=e)
            if self.report_error is None:
                self.report_error = f"{type(e).__name__}: {describe_error(e)}"
                self.console.err(f"error: reporting outcomes: {self.report_error}")
