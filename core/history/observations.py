"""Observations in the history: one ``runs`` row of kind ``observe``, its record, its CPU series.

    record_observation(record, series) ─► runs (kind 'observe', plugin: the command, short; spec {"command"},
                                               wall_s, cpu_s, summary = the record) + run_series
    get_observation(conn, id) ─► the record (the ``poolside observe --json`` shape), or None

No table of its own: an observation is a row like a study's, its record in the
``summary`` column (JSON) and its samples in ``run_series`` (what the window's
Cores views draw when it is reopened).
"""

from __future__ import annotations

import os
import sqlite3
import time
from typing import Any

from ..serialize import dumps
from . import store
from .store import HistoryError

KIND = "observe"


def record_observation(record: dict[str, Any], series: dict[str, Any] | None = None) -> int | None:
    """Keep a finished observation; its id (``None``: the history is off).  Raises ``HistoryError`` only."""
    if not store.enabled():
        return None
    from .series import save_series

    command = record.get("command")
    from ..words.observe import command_text

    spec = {"plugin": KIND, "command": command if isinstance(command, (list, str)) else str(command)}
    cpu = sum(p.get("cpu_s") or 0.0 for p in record.get("processes", ()))
    try:
        conn = store.connect()
        try:
            with store.transaction(conn):
                cursor = conn.execute(
                    "INSERT INTO runs (kind, started_at, finished_at, state, plugin, spec, cwd, pid, wall_s, cpu_s, "
                    "summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (KIND, time.time() - float(record.get("wall_s") or 0.0), time.time(), "finished",
                     command_text(command), dumps(spec), os.fsencode(os.getcwd()), os.getpid(),
                     record.get("wall_s"), cpu, dumps(record)))
                row_id = cursor.lastrowid
                assert row_id is not None
                if series is not None:
                    save_series(conn, row_id, series)
            store.prune(conn, limit_bytes=store.max_bytes(), spare=(row_id,))
        finally:
            conn.close()
    except HistoryError:
        raise
    except (OSError, sqlite3.Error) as e:
        raise HistoryError(f"the history at {store.db_path()} cannot be written: {e}") from e
    return row_id


def get_observation(conn: sqlite3.Connection, run_id: int) -> dict[str, Any] | None:
    """The observation's record, or None (no such row, or not an observation)."""
    row = store.get_run(conn, run_id)
    if row is None or row.get("kind") != KIND or not isinstance(row.get("summary"), dict):
        return None
    return dict(row["summary"])
