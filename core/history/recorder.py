"""Recording a run as it goes: any runner calls two methods, the writing happens on another thread.

    RunRecorder(spec, task)          the run's row is written now (its id is known at once)
    .on_outcomes(batch)  ──put──►  queue ──► writer thread: drains what is queued, turns it into
      (the engine's thread:                   columns (items, status bytes, float32 times),
       one put, no I/O)                       one INSERT + the failures in full, COMMIT
    .set_paused(bool)    ──put──►  the row's state: paused, or running again
    .finish(summary)     ──put──►  the writer ends: counts, times, insights, how it ended; the size cap

    record_study(spec, study)        a finished study, one row; raises HistoryError

Every front end records through these two: ``poolside run`` and the run host
(the window's runs) make a ``RunRecorder``; ``poolside compare``,
``poolside.compare`` and the window's study process call ``record_study``.
Both write JSON through :func:`poolside.serialize.dumps`, so any setting a
plugin may declare (a ``Path`` output folder above all) is recorded the same way.

The engine's dispatcher never waits on the disk: ``on_outcomes`` only queues
the batch.  Each commit is durable against a killed process (WAL), so a run
killed at any moment keeps every outcome committed before it; ``poolside run
--resume`` runs the rest.  With ``POOLSIDE_HISTORY=off`` every method is a no-op.

A history that cannot be written never stops a run: ``RunRecorder.error``
says why (and the log); the caller tells the user (the CLI on stderr, the run
host in ``Finished.history_error`` for the window's status bar).  A run whose
recording stopped part-way is marked ``incomplete`` in its row (when the store
can still take that), so that it never reads as killed and its resume knows
the items it lacks may have run.  A study is
recorded after it ran, so ``record_study`` raises :class:`HistoryError` and
the caller says it.
"""

from __future__ import annotations

import array
import hashlib
import importlib.util
import itertools
import os
import queue
import sqlite3
import threading
import time
import zlib
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

from ..log import get_logger
from ..serialize import dumps
from . import store
from .store import HistoryError

log = get_logger(__name__)

# One batch row holds at most this many outcomes: a 200,000-item run written in
# big rows costs little, and a row stays a few hundred KB whatever the run.
_MAX_ROW = 20_000
# The writer gathers batches for this long before it commits: the engine hands
# over many small batches (chunks start at one item), and a commit per batch
# made a 200,000 tiny-item run 6-10x slower (measured); at 20 commits a second
# a killed run loses at most the last 50 ms of outcomes, which resume reruns.
_GATHER_S = 0.05
_STATUS_BYTE = {name: bytes([code]) for name, code in store.STATUS_CODES.items()}


class RunRecorder:
    """Record one run in the history.  ``on_outcomes`` is safe on the engine's thread; call ``finish`` once."""

    def __init__(self, spec: Any, task: Any = None, *, parent_id: int | None = None) -> None:
        self.run_id: int | None = None
        #: Why the run is not (all) in the history, in words for the user; None while it is recorded.
        self.error: str | None = None
        self.writer_cpu_s = 0.0  #: CPU the writer thread used (benchmarks/history_cost.py reports it)
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        if not store.enabled():
            return
        try:
            self.run_id = _insert(spec, task, parent_id=parent_id)
        except HistoryError as e:
            self._failed(str(e))  # a history that cannot be written never stops a run
            return
        # Started by the first batch, not here: a caller that makes its
        # recorder before ``run()`` (the CLI) still runs one thread when its
        # workers start, so they are forked directly in ~1 ms each; with
        # this thread up they came through the zygote, a round trip each
        # that cost a 1,000-file sha256 call several ms (more when loaded).
        self._thread = threading.Thread(target=self._write, name="poolside-history", daemon=True)
        self._started = False
        self._start_lock = threading.Lock()

    def _failed(self, reason: str) -> None:
        self.error = reason
        log.warning("the run is not in the history: %s", reason)

    def on_outcomes(self, batch: list) -> None:
        """Queue a batch: transposed into columns here (C speed, ~0.1 us an outcome), so the outcome
        tuples die now rather than in the writer's hands: kept alive 50 ms they reach the
        collector's older generations, and a 200,000-item run spent more in garbage collection
        than in writing (measured)."""
        if self._thread is None or not batch:
            return
        self._start_writer()
        _index, items, statuses, _value, errors, elapsed, *_ = zip(*batch)
        failed = [o for o, e in zip(batch, errors) if e is not None] if errors.count(None) != len(errors) else []
        self._queue.put((items, statuses, elapsed, failed))

    def set_paused(self, paused: bool) -> None:
        """The run is paused (no new item starts) or goes on: its row says so while it lasts."""
        if self._thread is None:
            return
        self._start_writer()
        self._queue.put(("state", "paused" if paused else "running"))

    def finish(self, summary: Any = None, *, interrupted: bool = False, stopped: bool = False) -> None:
        """The run ended: its counts, times and insights; waits for the writer.

        ``interrupted``: it was cancelled before its end (state ``interrupted``);
        ``stopped``: it was stopped after its current items, nothing running lost (state ``stopped``).
        """
        if self._thread is None:
            return
        self._start_writer()  # a run with no outcome is recorded too
        self._queue.put(("finish", summary, "stopped" if stopped else "interrupted" if interrupted else "finished"))
        self._thread.join()
        self._thread = None

    def _start_writer(self) -> None:
        if not self._started:
            with self._start_lock:
                if not self._started and self._thread is not None:
                    self._thread.start()
                    self._started = True

    # -- the writer thread ----------------------------------------------------------

    def _write(self) -> None:
        cpu_start = time.thread_time()
        try:
            conn = store.connect()
        except (HistoryError, OSError, sqlite3.Error) as e:  # opened a moment ago: gone, or locked since
            self._failed(_reason(e))
            _mark_incomplete(self.run_id, self._drain()[1], _reason(e))
            return
        seq = itertools.count()
        end = None
        try:
            while True:
                pending = self._gather()
                end = pending.pop() if pending[-1][0] == "finish" else None
                states = [m[1] for m in pending if m[0] == "state"]
                pending = [m for m in pending if m[0] != "state"]
                if pending:
                    _write_batch(conn, self.run_id, next(seq), pending)
                if states and end is None:
                    with store.transaction(conn):
                        conn.execute("UPDATE runs SET state = ? WHERE id = ?", (states[-1], self.run_id))
                if end is not None:
                    _finish_run(conn, self.run_id, end[1], end[2])
                    return
        except Exception as e:  # a full disk, a locked file: the run goes on, unrecorded from here
            reason = _reason(e)
            self._failed(f"writing the history failed part-way ({reason}); "
                         "the run's later outcomes are not in it")
            if end is None:  # the finish is still to come: finish() waits for this thread
                end = self._drain()
            # Said in the row too, so that the run does not read as killed later and its
            # resume knows the unrecorded items are not new ones.
            _mark_incomplete(self.run_id, end[1], reason)
        finally:
            conn.close()
            self.writer_cpu_s = time.thread_time() - cpu_start

    def _drain(self) -> Any:
        """Drop what is queued up to the finish, so that ``finish()`` returns; the finish."""
        while True:
            message = self._queue.get()
            if message[0] == "finish":
                return message

    def _gather(self) -> list:
        """Batches queued within _GATHER_S of the first (or up to _MAX_ROW outcomes, or the finish)."""
        pending = [self._queue.get()]
        size = len(pending[0][0])
        deadline = time.monotonic() + _GATHER_S
        while size < _MAX_ROW and pending[-1][0] != "finish":
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                pending.append(self._queue.get(timeout=left))
            except queue.Empty:
                break
            size += len(pending[-1][0])
        return pending


def _insert(spec: Any, task: Any = None, *, kind: str = "run", parent_id: int | None = None,
            study: Mapping[str, Any] | None = None) -> int:
    """The run's (or study's) row, committed; :class:`HistoryError` with a reason a user can read."""
    data = recordable_spec(spec, task)
    try:
        conn = store.connect()
        try:
            with store.transaction(conn):
                cursor = conn.execute(
                    "INSERT INTO runs (kind, parent_id, started_at, finished_at, state, plugin, plugin_hash, spec, "
                    "cwd, pid, backend, workers, study, poolside) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (kind, parent_id, time.time(), time.time() if study is not None else None,
                     "running" if study is None else "finished", spec.plugin, fingerprint(spec),
                     # ASCII JSON: a file name that is not UTF-8 (surrogate escapes) round-trips exactly;
                     # the folder as bytes for the same reason.
                     dumps(data), os.fsencode(os.getcwd()), os.getpid(), spec.backend, spec.workers,
                     None if study is None else dumps(study), _version()))
            row_id = cursor.lastrowid
            assert row_id is not None  # an INSERT into a rowid table always sets it
            if study is not None:  # a study has no finish: the size cap holds from here
                store.prune(conn, limit_bytes=store.max_bytes(), spare=(row_id,))
        finally:
            conn.close()
    except HistoryError:
        raise
    except (OSError, sqlite3.Error) as e:  # a read-only folder, a full disk, a locked or damaged file
        raise HistoryError(f"the history at {store.db_path()} cannot be written: {_reason(e)}") from e
    except (TypeError, ValueError) as e:  # JSON's own limits past jsonable: a dict keyed by tuples, a cycle
        raise HistoryError(f"the record cannot be written as JSON: {e}") from e
    return row_id


def _reason(e: BaseException) -> str:
    """An OS or SQLite error in a few words ("Permission denied", "database or disk is full")."""
    if isinstance(e, HistoryError):
        return str(e)
    if isinstance(e, OSError) and e.strerror:
        return e.strerror + (f": {os.fsdecode(e.filename)}" if e.filename else "")
    return str(e) or type(e).__name__


def _write_batch(conn: Any, run_id: int | None, seq: int, batches: list) -> None:
    """Batches of columns (items, statuses, times, failed outcomes) become one row, failures in full."""
    chain = itertools.chain.from_iterable
    items = list(chain(b[0] for b in batches))
    statuses = chain(b[1] for b in batches)
    elapsed = array.array("f", chain(b[2] for b in batches))
    failed = [o for b in batches for o in b[3] if o.status in ("failed", "timed_out")]  # not cancelled
    try:
        names = b"\0".join(map(os.fsencode, items))  # paths (str or Path): the common case, at C speed
    except TypeError:
        names = b"\0".join(_encode(i) for i in items)
    codes = b"".join(map(_STATUS_BYTE.__getitem__, statuses))
    with store.transaction(conn):
        conn.execute("INSERT INTO batches (run_id, seq, n, items, status, elapsed) VALUES (?, ?, ?, ?, ?, ?)",
                     (run_id, seq, len(items), zlib.compress(names, 1), codes, elapsed.tobytes()))
        if failed:
            conn.executemany(
                "INSERT INTO failures (run_id, item, status, error_type, message, traceback, elapsed_s) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(run_id, _encode(o.item).decode("utf-8", "backslashreplace"), str(o.status),
                  _text(o.error.type if o.error else None), _text(o.error.message if o.error else None),
                  _text(o.error.traceback if o.error else None), o.elapsed_s) for o in failed])


def _finish_run(conn: Any, run_id: int | None, summary: Any, state: str) -> None:
    from ..serialize import summary_record

    counts = store.recorded_counts(conn, run_id) if run_id is not None else {}
    record = summary_record(summary) if summary is not None else None
    with store.transaction(conn):
        conn.execute(
            "UPDATE runs SET finished_at = ?, state = ?, total = ?, ok = ?, failed = ?, timed_out = ?, "
            "cancelled = ?, wall_s = ?, cpu_s = ?, summary = ?, workers = coalesce(?, workers) WHERE id = ?",
            (time.time(), state, counts.get("total"), counts.get("ok"),
             counts.get("failed"), counts.get("timed_out"), counts.get("cancelled"),
             getattr(summary, "wall_s", None), getattr(summary, "cpu_s", None),
             None if record is None else dumps(record),
             getattr(summary, "workers", None), run_id))
    store.prune(conn, limit_bytes=store.max_bytes(), spare=(run_id,) if run_id is not None else ())


def _mark_incomplete(run_id: int | None, summary: Any, reason: str) -> None:
    """The run's row says its history stopped part-way (state ``incomplete``), if the store can
    still be written; if not, the row stays ``running`` and reads as killed, which resume treats
    the same way (its unrecorded items run again)."""
    from ..serialize import summary_record

    if run_id is None:
        return
    try:
        conn = store.connect()
        try:
            counts = store.recorded_counts(conn, run_id)
            with store.transaction(conn):
                conn.execute(
                    "UPDATE runs SET finished_at = ?, state = 'incomplete', history_error = ?, total = ?, ok = ?, "
                    "failed = ?, timed_out = ?, cancelled = ?, wall_s = ?, cpu_s = ?, summary = ? WHERE id = ?",
                    (time.time(), reason, getattr(summary, "total", None), counts["ok"], counts["failed"],
                     counts["timed_out"], counts["cancelled"], getattr(summary, "wall_s", None),
                     getattr(summary, "cpu_s", None),
                     None if summary is None else dumps(summary_record(summary)), run_id))
        finally:
            conn.close()
    except Exception as e:  # the store cannot be written at all: the error is said already
        log.info("run %s cannot be marked as incompletely recorded: %s", run_id, _reason(e))


def record_study(spec: Any, study: Any) -> int | None:
    """Keep a finished study in the history; return its id (``None``: the history is off, or it was cancelled).

    A cancelled study is not kept: its numbers are partial, and every front end
    (CLI, window, ``poolside.compare``) follows this one rule by calling here.

    ``spec`` is the :class:`~poolside.spec.JobSpec` the study ran; ``study`` a
    :class:`~poolside.study.StudyResult` or its ``to_dict()`` (the JSON
    ``poolside compare --json`` writes).  Every value a plugin setting may hold
    is recorded (see :func:`poolside.serialize.jsonable`).

    Raises :class:`HistoryError` and nothing else when the study cannot be kept
    (a folder that cannot be written, a damaged file, a history from a newer
    Poolside); its message names the file and the reason, in words a user can
    read: show it ("the study is not in the history: …") and go on, the study
    itself stands.
    """
    record = study.to_dict() if hasattr(study, "to_dict") else dict(study)
    if not store.enabled() or record.get("cancelled"):
        return None
    return _insert(spec, kind="study", study=record)


# -- what identifies a job ------------------------------------------------------------

def recordable_spec(spec: Any, task: Any = None) -> dict[str, Any]:
    """The spec as plain data with every path absolute, so a resume from another folder means the same files."""
    data = spec.to_dict()
    if data.get("paths"):
        data["paths"] = [os.path.abspath(p) for p in data["paths"]]
    kwargs = getattr(task, "kwargs", None) or {}
    params = dict(data.get("params", {}))
    for name in params:
        if isinstance(kwargs.get(name), PurePath):  # bound values: already absolute
            params[name] = os.fsdecode(kwargs[name])
    if params:
        data["params"] = params
    return data


def fingerprint(spec: Any) -> str | None:
    """``sha256:…`` of the plugin's source file (a module's or a user's file); None if it has none."""
    path = _plugin_file(spec.plugin)
    if path is None:
        return None
    try:
        with open(path, "rb") as f:
            return "sha256:" + hashlib.sha256(f.read()).hexdigest()
    except OSError:
        return None


def _plugin_file(name: str) -> str | None:
    try:
        from ..plugins import get_plugin

        target = get_plugin(name).target
    except Exception as e:  # a plugin that no longer loads: the run is kept, without a fingerprint
        log.info("no fingerprint for plugin %r: %s", name, e)
        return None
    if target is None:
        return None
    if target[0] == "file":
        return target[1]
    try:
        found = importlib.util.find_spec(target[1])
    except (ImportError, ValueError):
        return None
    return found.origin if found is not None else None


def _text(value: str | None) -> str | None:
    from ..inputs import printable

    return None if value is None else printable(value)


def _encode(item: Any) -> bytes:
    if isinstance(item, (str, PurePath)):
        return os.fsencode(item)
    if isinstance(item, bytes):
        return item
    return str(item).encode("utf-8", "backslashreplace")


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("poolside")
    except Exception as e:  # a checkout run without being installed
        log.debug("poolside's version is unknown: %s", e)
        return "unknown"
