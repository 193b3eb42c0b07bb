"""A run's CPU and memory series in the history: ``save_series`` / ``get_series``.

    usage.Monitor.series()  {"t": float[n], ..., "core_user": float[n, cores], ...,
        │                    "processes": [{"pid", "role", "name", "t", "cpu", "rss", "uss"}, ...]}
        ▼  encode: every array -> one member of an np.savez_compressed archive (float32),
        │          everything else (numbers, names, the process list's scalars) -> a JSON member
    run_series(run_id, samples, data)   one row per run; deleted with the run (ON DELETE CASCADE)
        ▼  decode
    the same dict, arrays as float64

Why npz of float32 and not zlib'd JSON: measured on a 4,096-sample series of random
values (worst case for compression), 2 cores + 3 processes: npz 0.32 MB in 29 ms,
JSON+zlib 0.36 MB in 63 ms; 16 cores + 17 processes: npz 1.24 MB in 138 ms, JSON 1.32 MB
in 242 ms (both float64).  float32 keeps 7 digits (CPU % to 0.00001, bytes to 10 in
100 MB, times to 0.1 ms over an hour) and brings it to 0.17 MB in 7 ms (2 cores) and
0.86 MB in 39 ms (16 cores); reading back takes 2 and 9 ms.  Real series (idle cores,
flat memory) compress further.  Saving can take tens of ms: the window saves off its
GUI thread.
"""

from __future__ import annotations

import io
import json
import sqlite3
from typing import Any

import numpy as np

from ..log import get_logger
from ..serialize import dumps

log = get_logger(__name__)

_META = "meta"


def encode(series: dict[str, Any]) -> bytes:
    arrays: dict[str, np.ndarray] = {}
    meta: dict[str, Any] = {}
    for key, value in series.items():
        if isinstance(value, np.ndarray):
            arrays[key] = value.astype(np.float32)
        elif key != "processes":
            meta[key] = value
    meta["processes"] = []
    for i, proc in enumerate(series.get("processes", ())):
        scalars = {}
        for key, value in proc.items():
            if isinstance(value, np.ndarray):
                arrays[f"p{i}.{key}"] = value.astype(np.float32)
            else:
                scalars[key] = value
        meta["processes"].append(scalars)
    buf = io.BytesIO()
    arrays[_META] = np.frombuffer(dumps(meta).encode(), np.uint8)  # numpy scalars in meta too
    save: Any = np.savez_compressed  # numpy's stubs read **arrays as its allow_pickle flag
    save(buf, **arrays)
    return buf.getvalue()


def decode(data: bytes) -> dict[str, Any]:
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        series: dict[str, Any] = json.loads(archive[_META].tobytes())
        for name in archive.files:
            if name == _META:
                continue
            values = archive[name].astype(np.float64)
            head, _, key = name.partition(".")
            if key and head.startswith("p") and head[1:].isdigit():
                series["processes"][int(head[1:])][key] = values
            else:
                series[name] = values
    return series


def save_series(conn: sqlite3.Connection, run_id: int, series: dict[str, Any]) -> bool:
    """Store ``series`` with run ``run_id`` (replacing any); False, logged, when it cannot be: a series
    is an extra, and never fails the run it belongs to (the run pruned meanwhile, a full disk, a bad value)."""
    try:
        data = encode(series)
        samples = len(series.get("t", ()))
        conn.execute("INSERT OR REPLACE INTO run_series (run_id, samples, data) VALUES (?, ?, ?)",
                     (run_id, samples, data))
    except (sqlite3.Error, ValueError, TypeError, OSError) as exc:
        log.warning("the CPU series of run %s was not saved: %s", run_id, exc)
        return False
    return True


def get_series(conn: sqlite3.Connection, run_id: int) -> dict[str, Any] | None:
    """The series stored with run ``run_id``, or None (none was stored: history off in the window, an old run)."""
    row = conn.execute("SELECT data FROM run_series WHERE run_id = ?", (run_id,)).fetchone()
    return None if row is None else decode(row[0])


def record_series(run_id: int, series: dict[str, Any]) -> bool:
    """Open the history, save ``series`` with run ``run_id``, close it: what a front end calls when a run ends."""
    from . import store

    if not store.enabled():
        return False
    try:
        conn = store.connect()
    except (store.HistoryError, OSError) as exc:
        log.warning("the CPU series of run %s was not saved: %s", run_id, exc)
        return False
    try:
        return save_series(conn, run_id, series)
    finally:
        conn.close()
