"""The study host: runs the window's studies in a process of its own, beside the run host.

    client pipe ──► main thread: StartStudy / CancelStudy / Shutdown
                      │ prepare_plan(plan).run() on the study thread
                      ▼
                    study thread ──► StudyProgress / StudyRound ──► client pipe
                      └─ the record: record_study(...) in the history, then
                         StudyPart × configurations, StudyFinished

A sibling of the run host, not the run host itself: a study is a minute of
back-to-back runs, and a run asked for meanwhile must not queue behind it.
It shares the run host's wire, death guard and warm-up (``server.py``): it
never imports Qt, it is its own process group (one ``killpg`` ends it and its
workers), it ends when its pipe closes or its parent dies.  Unlike the run
host it keeps its normal priority: a study measures wall times, and a lower
priority would measure the window's load instead of the task.
"""

from __future__ import annotations

import threading
from multiprocessing.connection import Connection
from typing import Any

from ..log import get_logger
from .hosting import Server, serve
from .protocol import CancelStudy, StartStudy, StudyProgress, StudyRound, study_parts

log = get_logger("poolside.host")

# How long a shutdown waits for a cancelled study to return what it has.
SHUTDOWN_WAIT_S = 5.0


class StudyHost(Server):
    """One study at a time, on the commands of one client."""

    noun = "study host"

    def __init__(self, conn: Connection) -> None:
        super().__init__(conn)
        self._lock = threading.Lock()
        self.study: Any = None
        self.study_id = -1
        self.cancelled = False
        self.thread: threading.Thread | None = None

    def handle(self, message: Any) -> None:
        if isinstance(message, StartStudy):
            self.start(message)
        elif isinstance(message, CancelStudy):
            self.cancel(message.study_id)

    def start(self, request: StartStudy) -> None:
        if self.thread is not None:  # the client starts a study only after the last one's StudyFinished
            self.thread.join()
        with self._lock:
            self.study_id, self.study, self.cancelled = request.study_id, None, False
        self.thread = threading.Thread(target=self._run, args=(request,), name="poolside-study", daemon=True)
        self.thread.start()

    def cancel(self, study_id: int) -> None:
        with self._lock:
            if study_id != self.study_id:
                return
            self.cancelled = True
            study = self.study
        if study is not None:
            study.cancel()

    def stop(self) -> None:
        self.cancel(self.study_id)
        if self.thread is not None:
            self.thread.join(SHUTDOWN_WAIT_S)
        from ..backends.workers import stop_idle_workers

        stop_idle_workers()

    # -- the study thread ----------------------------------------------------------
    def _run(self, request: StartStudy) -> None:
        study_id, send = request.study_id, self.wire.send

        def on_progress(p: Any) -> None:
            send(StudyProgress(study_id, p))

        def on_round(r: Any) -> None:
            send(StudyRound(study_id, r))

        try:
            from ..study import prepare_plan

            study = prepare_plan(request.plan, on_progress=on_progress, on_round=on_round)
        except Exception as exc:  # a SpecError or StudyError says what is wrong in one line
            log.info("study %d could not start: %s", study_id, exc)
            self._send_all(study_parts(study_id, None, str(exc)))
            return
        with self._lock:
            self.study = study
            cancelled = self.cancelled
        if cancelled:  # asked before the study existed: it returns at its first step
            study.cancel()
        log.info("study %d started: %s, %s mode", study_id, request.plan.spec.plugin, request.plan.mode)
        try:
            record = study.run()
        except BaseException as exc:  # the window must hear why, whatever it was
            log.exception("study %d failed", study_id)
            self._send_all(study_parts(study_id, None, f"{type(exc).__name__}: {exc}"))
            return
        history_error = None if record.cancelled else _keep(request.plan.spec, record)
        log.info("study %d ended%s in %.1f s", study_id, " (cancelled)" if record.cancelled else "",
                 record.elapsed_s)
        self._send_all(study_parts(study_id, record, None, history_error))

    def _send_all(self, messages: list[Any]) -> None:
        for message in messages:
            if not self.wire.send(message):
                return


def _keep(spec: Any, record: Any) -> str | None:
    """Record the study in the history; why it could not be, for the window to say (None: kept)."""
    from ..history import HistoryError, record_study

    try:
        record_study(spec, record)
    except HistoryError as exc:  # the one failure record_study promises: its message names file and reason
        log.warning("the study could not be kept in the history: %s", exc)
        return str(exc)
    except Exception as exc:  # a bug, not a state of the history: the study's verdict must still reach the window
        log.exception("the study could not be kept in the history")
        return f"{type(exc).__name__}: {exc}"
    return None


def main(argv: list[str]) -> int:
    """``python -m poolside.host --study FD PARENT_PID``: serve studies on the inherited socket ``FD``.

    Not niced, unlike the run host: a study measures the task, and a lower
    priority would measure the window's load instead.
    """
    return serve(argv, "study host", StudyHost)
