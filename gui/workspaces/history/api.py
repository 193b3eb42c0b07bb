"""What the History workspace reads: a small API over the history database, and its records' shapes.

    HistoryReader.list_entries(plugin=None) ─► [entry], newest first
    HistoryReader.get_study(id) ─► the study record (the JSON ``poolside compare --json`` writes)
    HistoryReader.get_run(id)   ─► a run record (below)
    HistoryReader.get_series(id) ─► the run's CPU and memory series (usage.Monitor.series()), or None
    reader.start_new() (optional) ─► a history that cannot be used moved aside, a new one made; the old name

Every read raises ``HistoryError`` and nothing else when the history cannot be used.

An entry (one row of the list)::

    {"id": str, "kind": "run" | "study", "started": float (epoch s), "plugin": str,
     "status": a run state, "wall_s": float, "summary": str}

``status`` is the run's state as the history records it (``running``,
``finished``, ``interrupted``, ``incomplete`` when its recording stopped
part-way, or ``killed`` when its process is gone):
``poolside.words.runs.run_state`` says how each reads and whether it resumes.

A run record::

    {"id", "started", "plugin", "status", "spec": JobSpec.to_dict(),
     "backend", "workers", "total", "counts": {"ok": n, "failed": n, ...},
     "wall_s", "cpu_s", "insights": {name: number},
     "failed_items": [path], "pending_items": [path]}   # what Re-run failed / Resume run

``pending_items`` is ``None`` when the reader has not walked the run's inputs
yet: its ``pending_items(id)`` does, on Resume, off the GUI thread.

``sqlite_reader.SqliteHistory`` reads ``core/history`` (SQLite, written by
the CLI, the run host and studies); ``None`` stands for no history (turned
off with ``POOLSIDE_HISTORY=off``); tests pass a fake.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from poolside.words import units as fmt
from poolside.words.runs import run_state


class HistoryReader(Protocol):
    def list_entries(self, plugin: str | None = None) -> list[dict[str, Any]]: ...

    def get_study(self, entry_id: str) -> dict[str, Any]: ...

    def get_run(self, entry_id: str) -> dict[str, Any]: ...

    def get_series(self, entry_id: str) -> dict[str, Any] | None: ...


def open_history() -> HistoryReader | None:
    """The user's history (``poolside.history``), or ``None`` when it is turned off."""
    from .sqlite_reader import open_sqlite_history

    return open_sqlite_history()


def can_resume(run: Mapping[str, Any]) -> bool:
    pending = run.get("pending_items")
    return run_state(run.get("status")).resumable and (pending is None or bool(pending))


def can_rerun_failed(run: Mapping[str, Any]) -> bool:
    return bool(run.get("failed_items"))


def entry_summary(entry: Mapping[str, Any]) -> str:
    """The list's one-line description (the reader's own ``summary`` when it gives one)."""
    if entry.get("summary"):
        return str(entry["summary"])
    return f"took {fmt.human_duration(entry.get('wall_s'))}"
