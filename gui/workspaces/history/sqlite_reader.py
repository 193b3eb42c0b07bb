"""The History tab's reader over ``poolside.history`` (SQLite, written by runs and studies).

It turns the store's rows into the entry and run-record shapes of ``api.py``:
a run's state stays the store's word (``poolside.words.runs.RUN_STATES`` says
how it reads, and that an interrupted or killed run can be resumed),
Resume's items come from ``plan_resume`` (the run's inputs walked again, minus
every item already ok) through :meth:`SqliteHistory.pending_items`, which
imports the run's plugin and walks its inputs, so it is called on Resume, off
the GUI thread, never to show a run; Re-run failed's from the failures kept in full.  Each
call opens and closes its own connection: the database is written by other
processes (the run host, a study, the CLI) while the window reads it.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from typing import Any

from poolside.records import STATUS_ORDER, Status
from poolside.words import units as fmt
from poolside.words.configs import config_label
from poolside.words.runs import run_state

# Re-run failed takes these again (a cancelled item never ran: Resume takes it).
_PROBLEMS = (Status.FAILED.value, Status.TIMED_OUT.value)


class SqliteHistory:
    """``list_entries`` / ``get_study`` / ``get_run`` / ``get_series`` over the user's history database."""

    #: How many entries the list reads (the newest): the database keeps more.
    LIMIT = 500

    def __init__(self, store: Any) -> None:
        self._store = store

    @contextlib.contextmanager
    def _conn(self) -> Iterator[Any]:
        conn = self._store.connect()
        try:
            yield conn
        except sqlite3.DatabaseError as e:  # damaged past what connect() reads: the tab's one kind of failure
            raise self._store.HistoryError(f"the history at {self._store.db_path()} cannot be read: {e}") from None
        finally:
            conn.close()

    def list_entries(self, plugin: str | None = None) -> list[dict[str, Any]]:
        with self._conn() as conn:
            rows = self._store.list_runs(conn, limit=self.LIMIT)
        return [_entry(r) for r in rows if plugin is None or r.get("plugin") == plugin]

    def get_study(self, entry_id: str) -> dict[str, Any]:
        with self._conn() as conn:
            row = self._store.get_run(conn, int(entry_id))
        return dict((row or {}).get("study") or {})

    def get_observation(self, entry_id: str) -> dict[str, Any] | None:
        """A kept observation's record (``poolside observe --json``'s shape), or None."""
        from poolside.history.observations import get_observation

        with self._conn() as conn:
            return get_observation(conn, int(entry_id))

    def get_run(self, entry_id: str) -> dict[str, Any]:
        with self._conn() as conn:
            row = self._store.get_run(conn, int(entry_id)) or {}
            failures = self._store.failures(conn, int(entry_id)) if row else []
        record: dict[str, Any] = _entry(row) if row else {"id": entry_id}
        summary: dict[str, Any] = row["summary"] if isinstance(row.get("summary"), dict) else {}
        record.update(
            spec=row.get("spec") or {}, backend=row.get("backend"), workers=row.get("workers"),
            total=int(row.get("total") or 0), cpu_s=row.get("cpu_s"),
            counts={s.value: int(row.get(s.value) or 0) for s in STATUS_ORDER},
            insights=_numbers(summary.get("insights")),
            failed_items=[f["item"] for f in failures if f.get("status") in _PROBLEMS],
            # None: not walked yet (pending_items below, on Resume); a run that cannot resume has none.
            pending_items=None if run_state(record.get("status")).resumable else [],
        )
        return record

    def pending_items(self, entry_id: str) -> list[str]:
        """What Resume would run (imports the plugin and walks the inputs: slow, and never on the GUI thread)."""
        return _pending(entry_id)

    def start_new(self) -> Any:
        """Move the history that cannot be used aside and create a new one; where the old one went
        (None: there was no file to move).  Raises ``HistoryError`` saying why it cannot."""
        moved = self._store.move_aside()
        self._store.connect().close()  # the new, empty history: made now, so a failure is said now
        return moved

    def get_series(self, entry_id: str) -> dict[str, Any] | None:
        from poolside.history import get_series

        with self._conn() as conn:
            return get_series(conn, int(entry_id))


def _entry(row: dict[str, Any]) -> dict[str, Any]:
    kind = str(row.get("kind") or "run")
    if kind == "study":
        summary = "comparison"
    elif kind == "observe":
        summary = "observation"
    else:
        summary = f"{config_label(row)} · {fmt.count(int(row.get('total') or 0))} items"
    return {"id": str(row.get("id")), "kind": kind, "started": row.get("started_at"), "plugin": row.get("plugin"),
            "status": str(row.get("state")), "wall_s": row.get("wall_s"), "summary": summary}


def _numbers(insights: Any) -> dict[str, Any]:
    """The insights worth a row side by side: plain numbers and words, not nested tables."""
    if not isinstance(insights, dict):
        return {}
    return {k: v for k, v in insights.items() if isinstance(v, (int, float, str, bool)) and v is not None}


def _pending(entry_id: str) -> list[str]:
    """What Resume would run: the inputs walked again, minus the items already ok (empty if it cannot say)."""
    try:
        from poolside.history import plan_resume

        plan = plan_resume(entry_id)
    except Exception as e:  # a ResumeError (plugin changed, inputs gone): Resume stays off, and says why there
        from poolside.log import get_logger

        get_logger(__name__).info("run %s cannot be resumed: %s", entry_id, e)
        return []
    return [os.fspath(item) for item in plan.items]


def open_sqlite_history() -> SqliteHistory | None:
    """The user's history, or ``None`` when it is turned off."""
    from poolside.history import store

    if not store.enabled():
        return None
    return SqliteHistory(store)
