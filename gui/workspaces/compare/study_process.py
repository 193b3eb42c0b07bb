"""The child side of :class:`~poolside.gui.workspaces.compare.client.ProcessStudyClient` (no Qt here).

    window process                           study process (forkserver/spawn)
    ProcessStudyClient ── plan ────────────► study_main(plan, events, cancel)
          ▲            ◄── events queue ──── ("progress", p) ("round", r) ("result", config)
          │                                  ("record-config", config) × n, ("finished", record, error, n)
          └─ cancel (an Event) ────────────► a watcher thread calls Study.cancel()

A study never runs in the window's process: its workers, its timing and its
memory would all be disturbed by the event loop, and a crash would take the
window with it.  This module is the stand-in until the run host (core/host)
takes studies too.  It drives the study engine's public API
(``poolside.study.prepare_study`` → ``Study.run()`` / ``cancel()``), records
the finished study in the history (``poolside.history.record_study``), and
sends the record as ``StudyResult.to_dict()`` gives it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Any

from poolside.words.configs import config_label

#: What a study phase is called on the progress line (repeats and warm-ups name their configuration).
PHASES = {"sample": "choosing the sample", "gil-probe": "checking the GIL"}


def progress_event(p: Any) -> dict[str, Any]:
    """A study's ``Progress`` as the window's progress line reads it (plain data: it crosses a pipe)."""
    config = p.config.to_dict() if p.config is not None else None
    label = PHASES.get(p.phase) or (config_label(config) if config else "") + (
        "" if p.phase == "repeat" else f" ({p.phase})")
    return {"label": label, "phase": p.phase, "config": config,
            "repeat": p.repeat if p.phase == "repeat" else 0, "repeats": p.repeats,
            "done": p.runs_done, "total": p.runs_planned, "elapsed_s": p.elapsed_s}


def round_event(r: Any) -> dict[str, Any]:
    """A study's ``Round``: the numbers so far of every configuration being repeated (plain data)."""
    return {"round": r.round, "repeats": r.repeats, "configs": r.configs}


def study_main(plan: Mapping[str, Any], events: Any, cancel: Any) -> None:
    """Run one study; every message goes to ``events``, the last one always ``("finished", record, error)``."""
    _apply_environment(plan.get("env") or {})
    # The zygote first, while this process still runs one thread: before the
    # events queue's feeder thread and numpy's BLAS threads (imported with the
    # study) start.  Else every processes configuration started its workers
    # from a forkserver and its resource tracker, which this process would
    # have started and which outlived it by a moment after a cancel.
    from poolside.backends.workers import prestart

    prestart()
    try:
        from poolside.spec import JobSpec
        from poolside.study import prepare_study
    except ImportError as exc:
        events.put(("finished", None, f"the study engine is not available in this Poolside: {exc}"))
        return
    try:
        spec = JobSpec.from_dict(plan["spec"])
        grid = plan.get("mode") == "grid"
        study = prepare_study(
            spec, sample=plan.get("sample"), budget_s=float(plan.get("budget_s", 60.0)),
            repeats=int(plan.get("repeats", 3)), backends=plan.get("backends") if grid else None,
            workers=plan.get("workers") if grid else None, chunk_sizes=plan.get("chunk_sizes") if grid else None,
            methods=plan.get("methods") if grid else None, allow_side_effects=bool(plan.get("allow_side_effects")),
            on_progress=lambda p: events.put(("progress", progress_event(p))),
            on_round=lambda r: events.put(("round", round_event(r))))
    except Exception as exc:  # a SpecError or StudyError says what is wrong in one line
        events.put(("finished", None, str(exc)))
        return
    watcher = threading.Thread(target=_watch, args=(study, cancel, plan.get("window_pid")),
                               name="poolside-study-cancel", daemon=True)
    watcher.start()
    try:
        record = study.run().to_dict()
    except BaseException as exc:  # the window must hear why, whatever it was
        events.put(("finished", None, f"{type(exc).__name__}: {exc}"))
        return
    # No "result" per configuration at the end: the rounds drew them, the record replaces them.
    if not record.get("cancelled"):
        _record(spec, record)
    events.put(("finished", record, None))


def run_target(target: Any, plan: Mapping[str, Any], events: Any, cancel: Any) -> None:
    """The study process's entry point: ``target(plan, events, cancel)``, its final record sent in parts."""
    target(plan, RecordInParts(events), cancel)


class RecordInParts:
    """The events queue as a study target sees it: the final record goes as one message per configuration.

    The window unpickles every message on its GUI thread, in one C call that
    nothing interrupts: a record of 48 configurations with 2,000-item timelines
    took 38-45 ms, more than a turn of the event loop may.  Sent in parts, each
    ~1 ms, the window's per-turn budget spreads them out::

        ("finished", record, error) ─► ("record-config", config) × n, ("finished", record without configs, error, n)
    """

    def __init__(self, events: Any) -> None:
        self._events = events

    def put(self, event: tuple) -> None:
        record = event[1] if event[0] == "finished" else None
        if record is None or not record.get("configs"):
            self._events.put(event)
            return
        configs = list(record["configs"])
        for config in configs:
            self._events.put(("record-config", config))
        self._events.put(("finished", {**record, "configs": None}, event[2], len(configs)))


#: How often the study checks that the window is still there (a window killed outright cannot cancel).
WATCH_S = 1.0


def _watch(study: Any, cancel: Any, window_pid: int | None) -> None:
    """Cancel the study when the window asks, or when the window is gone."""
    import psutil

    while not cancel.wait(WATCH_S):
        if window_pid is not None and not psutil.pid_exists(window_pid):
            break
    study.cancel()


def _apply_environment(env: Mapping[str, str | None]) -> None:
    """The window's settings at the study's start (the history's folder above all)."""
    for key, value in env.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _record(spec: Any, record: Mapping[str, Any]) -> None:
    """Keep the study in the history (a history that cannot be written never fails a study)."""
    try:
        from poolside.history import record_study

        record_study(spec, dict(record))
    except Exception:
        pass
