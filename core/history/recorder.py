"""Recording a run as it goes: any runner calls two methods, the writing happens on another thread.

    RunRecorder(spec, task)          the run's row is written now (its id is known at once)
    .on_outcomes(batch)  ──put──►  queue ──► writer thread: drains what is queued, turns it into
      (the engine's thread:                   columns (items, status bytes, float32 times),
       one put, no I/O)                       one INSERT + the failures in full, COMMIT
    .finish(summary)     ──put──►  the writer ends: counts, times, insights; the size cap

The engine's dispatcher never waits on the disk: ``on_outcomes`` only queues
the batch.  Each commit is durable against a killed process (WAL), so a run
killed at any moment keeps every outcome committed before it; ``poolside run
--resume`` runs the rest.  With ``POOLSIDE_HISTORY=off`` every method is a no-op.
"""

from __future__ import annotations

import array
import hashlib
import importlib.util
import itertools
import json
import os
import queue
import threading
import time
import zlib
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

from . import store

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

    def __init__(self, spec: Any, task: Any = None, *, kind: str = "run", parent_id: int | None = None,
                 study: Mapping[str, Any] | None = None) -> None:
        self.run_id: int | None = None
        self.error: str | None = None
        self.writer_cpu_s = 0.0  #: CPU the writer thread used (benchmarks/history_cost.py reports it)
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        if not store.enabled():
            return
        try:
            conn = store.connect()
        except (store.HistoryError, OSError) as e:
            self.error = str(e)  # a history that cannot be written never stops a run
            return
        try:
            self.run_id = _insert_run(conn, spec, task, kind, parent_id, study)
        finally:
            conn.close()
        if kind == "run":
            # Started by the first batch, not here: a caller that makes its
            # recorder before ``run()`` (the CLI) still runs one thread when its
            # workers start, so they are forked directly in ~1 ms each; with
            # this thread up they came through the zygote, a round trip each
            # that cost a 1,000-file sha256 call several ms (more when loaded).
            self._thread = threading.Thread(target=self._write, name="poolside-history", daemon=True)
            self._started = False
            self._start_lock = threading.Lock()

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

    def finish(self, summary: Any = None, *, interrupted: bool = False) -> None:
        """The run ended (or was stopped): its counts, times and insights; waits for the writer."""
        if self._thread is None:
            return
        self._start_writer()  # a run with no outcome is recorded too
        self._queue.put(("finish", summary, interrupted))
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
        conn = store.connect()
        seq = itertools.count()
        try:
            while True:
                pending = self._gather()
                end = pending.pop() if pending[-1][0] == "finish" else None
                if pending:
                    _write_batch(conn, self.run_id, next(seq), pending)
                if end is not None:
                    _finish_run(conn, self.run_id, end[1], end[2])
                    return
        except Exception as e:  # a full disk: the run goes on, unrecorded from here
            self.error = f"{type(e).__name__}: {e}"
            while self._queue.get()[0] != "finish":
                pass
        finally:
            conn.close()
            self.writer_cpu_s = time.thread_time() - cpu_start

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


def _insert_run(conn: Any, spec: Any, task: Any, kind: str, parent_id: int | None,
                study: Mapping[str, Any] | None) -> int:
    data = recordable_spec(spec, task)
    with store.transaction(conn):
        cursor = conn.execute(
            "INSERT INTO runs (kind, parent_id, started_at, finished_at, state, plugin, plugin_hash, spec, cwd, "
            "pid, backend, workers, study, poolside) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (kind, parent_id, time.time(), time.time() if study is not None else None,
             "running" if study is None else "finished", spec.plugin, fingerprint(spec),
             # ASCII JSON: a file name that is not UTF-8 (surrogate escapes) round-trips exactly;
             # the folder as bytes for the same reason.
             json.dumps(data), os.fsencode(os.getcwd()), os.getpid(), spec.backend, spec.workers,
             None if study is None else json.dumps(study), _version()))
    return int(cursor.lastrowid)


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


def _finish_run(conn: Any, run_id: int | None, summary: Any, interrupted: bool) -> None:
    from ..serialize import summary_record

    counts = store.recorded_counts(conn, run_id) if run_id is not None else {}
    record = summary_record(summary) if summary is not None else None
    with store.transaction(conn):
        conn.execute(
            "UPDATE runs SET finished_at = ?, state = ?, total = ?, ok = ?, failed = ?, timed_out = ?, "
            "cancelled = ?, wall_s = ?, cpu_s = ?, summary = ?, workers = coalesce(?, workers) WHERE id = ?",
            (time.time(), "interrupted" if interrupted else "finished", counts.get("total"), counts.get("ok"),
             counts.get("failed"), counts.get("timed_out"), counts.get("cancelled"),
             getattr(summary, "wall_s", None), getattr(summary, "cpu_s", None),
             None if record is None else json.dumps(record),
             getattr(summary, "workers", None), run_id))
    store.prune(conn, limit_bytes=store.max_bytes(), spare=(run_id,) if run_id is not None else ())


def record_study(spec: Any, study: Mapping[str, Any]) -> int | None:
    """Keep a finished study (its record is the JSON ``poolside compare --json`` writes)."""
    return RunRecorder(spec, kind="study", study=study).run_id


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
    except Exception:
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
    except Exception:
        return "unknown"
