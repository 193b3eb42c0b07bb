"""Jobs waiting their turn: the queue the window fills while a run is going.

    Add to Queue ──► JobQueue.add(spec, label) ──► the ``queue`` table (history database)
    a run ends   ──► JobQueue.take() ──► the first job, out of the table ──► the Run tab runs it
    queue panel  ──► jobs() / move(id, ±1) / remove(id)

One row per job: its :class:`~poolside.spec.JobSpec` as JSON (the one record of a
job; paths absolute, so that it means the same files after a restart from any
folder), the label the queue shows, and its position.  It lives in the history's
database so that it outlives the window; each job, once run, is a run in the
history like any other.

With the history off (``POOLSIDE_HISTORY=off``) or unusable, the queue lives in
memory for as long as the window is open, and :attr:`JobQueue.error` says why:
a queue that cannot be kept never stops a job from being queued.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import sqlite3
import time
from dataclasses import dataclass

from ..log import get_logger
from ..serialize import dumps
from ..spec import JobSpec, SpecError
from . import store
from .recorder import recordable_spec
from .store import HistoryError

log = get_logger(__name__)


@dataclass(frozen=True)
class QueuedJob:
    """One job in the queue."""

    id: int
    spec: JobSpec
    label: str
    added_at: float


class JobQueue:
    """The queue, in the history's database (or in memory: see :attr:`error`).  One thread uses it."""

    def __init__(self) -> None:
        #: Why the queue is not kept in the history (it lives in memory then); None while it is.
        self.error: str | None = None
        self._memory: list[QueuedJob] | None = None
        self._ids = itertools.count(1)
        if not store.enabled():
            self._memory = []

    @property
    def kept(self) -> bool:
        """The queue outlives the window (it is in the history's database)."""
        return self._memory is None

    def jobs(self) -> list[QueuedJob]:
        """The jobs in the order they will run."""
        if self._memory is not None:
            return list(self._memory)
        try:
            with self._connection() as conn:
                rows = conn.execute("SELECT id, spec, label, added_at FROM queue ORDER BY position, id").fetchall()
                unreadable = []
                jobs = []
                for job_id, text, label, added_at in rows:
                    try:
                        jobs.append(QueuedJob(job_id, JobSpec.from_dict(json.loads(text)), label, added_at))
                    except (SpecError, ValueError, TypeError) as e:
                        unreadable.append(job_id)
                        log.warning("queued job %d cannot be read and is dropped: %s", job_id, e)
                if unreadable:
                    with store.transaction(conn):
                        conn.executemany("DELETE FROM queue WHERE id = ?", [(i,) for i in unreadable])
                return jobs
        except (HistoryError, sqlite3.Error) as e:
            return self._fall_back(e).jobs()

    def add(self, spec: JobSpec, label: str) -> QueuedJob:
        """Put ``spec`` at the end of the queue."""
        data = recordable_spec(spec)
        kept = JobSpec.from_dict(data)  # as it reads back: absolute paths
        now = time.time()
        if self._memory is not None:
            job = QueuedJob(next(self._ids), kept, label, now)
            self._memory.append(job)
            return job
        try:
            with self._connection() as conn, store.transaction(conn):
                last = conn.execute("SELECT coalesce(max(position), 0) FROM queue").fetchone()[0]
                cursor = conn.execute("INSERT INTO queue (position, added_at, label, spec) VALUES (?, ?, ?, ?)",
                                      (last + 1, now, label, dumps(data)))
                job_id = cursor.lastrowid
            assert job_id is not None  # an INSERT into a rowid table always sets it
            return QueuedJob(job_id, kept, label, now)
        except (HistoryError, sqlite3.Error) as e:
            return self._fall_back(e).add(spec, label)

    def remove(self, job_id: int) -> bool:
        """Take job ``job_id`` out of the queue; False if it is not in it."""
        if self._memory is not None:
            before = len(self._memory)
            self._memory = [j for j in self._memory if j.id != job_id]
            return len(self._memory) < before
        try:
            with self._connection() as conn, store.transaction(conn):
                return conn.execute("DELETE FROM queue WHERE id = ?", (job_id,)).rowcount > 0
        except (HistoryError, sqlite3.Error) as e:
            return self._fall_back(e).remove(job_id)

    def move(self, job_id: int, offset: int) -> bool:
        """Move job ``job_id`` ``offset`` places (-1: one earlier); False if it cannot move so."""
        order = [j.id for j in self.jobs()]
        if job_id not in order:
            return False
        at = order.index(job_id)
        to = at + offset
        if offset == 0 or not 0 <= to < len(order):
            return False
        order.insert(to, order.pop(at))
        self.reorder(order)
        return True

    def reorder(self, ids: list[int]) -> None:
        """Put the jobs in the order of ``ids`` (every job of the queue, each once)."""
        if sorted(ids) != sorted(j.id for j in self.jobs()):
            raise ValueError("a new order must name every queued job once")
        if self._memory is not None:
            by_id = {j.id: j for j in self._memory}
            self._memory = [by_id[i] for i in ids]
            return
        try:
            with self._connection() as conn, store.transaction(conn):
                conn.executemany("UPDATE queue SET position = ? WHERE id = ?",
                                 [(n, job_id) for n, job_id in enumerate(ids, 1)])
        except (HistoryError, sqlite3.Error) as e:
            self._fall_back(e).reorder(ids)

    def take(self) -> QueuedJob | None:
        """The first job, taken out of the queue (``None``: it is empty)."""
        jobs = self.jobs()
        if not jobs:
            return None
        self.remove(jobs[0].id)
        return jobs[0]

    def _connection(self) -> contextlib.closing[sqlite3.Connection]:
        return contextlib.closing(store.connect())

    def _fall_back(self, e: BaseException) -> JobQueue:
        """The database failed: the queue goes on in memory, and says why."""
        reason = str(e) or type(e).__name__
        self.error = f"the queue is not kept in the history: {reason}"
        log.warning("%s", self.error)
        self._memory = []
        return self
